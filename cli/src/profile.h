/* profile.h: where a profile lives and how its key is obtained.
 *
 * A profile is a directory (mode 0700) holding `sotto.db` (the local store) and, by default,
 * `profile.key`: 32 random bytes, mode 0600, the key every sealed column is encrypted with.
 * With SOTTO_PASSPHRASE set when the profile is created, there is no key file: the key is
 * derived with Argon2id from the passphrase and `profile.salt` (random, not secret), and
 * SOTTO_PASSPHRASE must be given every time after. A sealed check value tells a wrong
 * passphrase from a damaged file.
 */
#ifndef SOTTO_CLI_PROFILE_H
#define SOTTO_CLI_PROFILE_H

#include "localstore.h"

/* The profile directory: explicit, else $SOTTO_PROFILE, else ~/.local/share/sotto. */
int profile_dir(char *out, size_t cap, const char *explicit_dir);

/* Opens the profile's store. create: make the directory and key if they are missing.
 * Returns 0, 1 when the profile does not exist (and create is 0), -1 on error (message on
 * stderr). */
int profile_open(const char *dir, int create, ls_store **out);

#endif
