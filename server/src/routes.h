/* Every route of sottod, in one list (routes.c): each room's table in the order they are
 * matched. main.c registers them at start; `sottod --routes` and the fuzz targets register
 * the same list, so what is tested is what runs. */
#ifndef SOTTO_ROUTES_H
#define SOTTO_ROUTES_H

struct server;
struct health;
struct auth_state;
struct keys;

/* Registers every route on srv->router. auth and keys may be NULL (`sottod --routes`): the
 * handlers are registered, never called. 0, or -1 when the table is full. Needs srv->rt for
 * the messaging routes (NULL is fine when none is called). */
int routes_register(struct server *srv, struct health *health, struct auth_state *auth,
                    struct keys *keys);

#endif
