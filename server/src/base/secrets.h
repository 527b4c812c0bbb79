/* JWT_SECRET and MFA_ENCRYPTION_KEY: given in the environment, or, for the embedded
 * single-node default only (no DATABASE_URL), generated once and kept in DATA_DIR/secrets with
 * mode 0600. With DATABASE_URL set every node must share them, so they must be given. */
#ifndef SOTTO_SECRETS_H
#define SOTTO_SECRETS_H

#include <stddef.h>

struct config;

/* Fills cfg->jwt_secret and cfg->mfa_encryption_key (sodium_malloc memory). Creates DATA_DIR
 * if missing. Returns 0, or -1 with a one-line reason naming the variable or file in err. */
int secrets_load(struct config *cfg, char *err, size_t errlen);

#endif
