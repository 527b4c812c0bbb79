/* Routes that exist only in test builds (SOTTO_TEST_ROUTES, on with SOTTO_SANITIZE), so the
 * black-box tests can exercise body limits, JSON errors, auth gating and slow handlers before
 * the product routes exist. Release builds register nothing. */
#ifndef SOTTO_TESTROUTES_H
#define SOTTO_TESTROUTES_H

struct server;

int testroutes_register(struct server *srv);

#endif
