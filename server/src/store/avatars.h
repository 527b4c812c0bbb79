/* avatars.h: each account's profile picture, as the server re-encoded it (accounts/avatar.c
 * decodes the upload and keeps only its own PNG). Public: the store keeps the bytes in the
 * clear, and anyone may read them (GET /api/users/{id}/avatar).
 *
 * The account's avatarUrl follows the stored picture in the same transaction: a put sets it to
 * the server-relative STORE_AVATAR_PATH with the new version, a delete clears it. The version
 * comes from users.avatar_version, which only grows (across deletes too), so one URL always
 * names one picture.
 *
 * Conventions as in store.h. */
#ifndef SOTTO_STORE_AVATARS_H
#define SOTTO_STORE_AVATARS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_AVATAR_MAX (256 * 1024) /* bytes of one stored picture */
#define STORE_AVATAR_TYPE_MAX 32      /* its content type, with the NUL */
/* The avatarUrl of a stored picture: user id, version. */
#define STORE_AVATAR_PATH "/api/users/%s/avatar?v=%lld"

struct store_avatar {
    char content_type[STORE_AVATAR_TYPE_MAX];
    uint8_t *image; /* malloc'd; free with store_avatar_free */
    size_t len;
    int64_t version;
    int64_t updated_at;
};

void store_avatar_free(struct store_avatar *a);

/* Makes image (of content_type, e.g. "image/png") user_id's picture with the next version,
 * and its avatarUrl STORE_AVATAR_PATH with that version (into *version). STORE_INVALID for an
 * empty or oversized image or a missing or overlong type; STORE_NOT_FOUND for an unknown
 * user. */
enum store_err store_avatar_put(struct store *s, const char *user_id, const char *content_type,
                                const uint8_t *image, size_t len, int64_t now, int64_t *version);

/* user_id's picture into *out; STORE_NOT_FOUND when there is none. */
enum store_err store_avatar_get(struct store *s, const char *user_id, struct store_avatar *out);

/* Removes user_id's picture (if any) and clears its avatarUrl (whatever it was: removing the
 * picture removes the one shown). STORE_NOT_FOUND for an unknown user. */
enum store_err store_avatar_delete(struct store *s, const char *user_id, int64_t now);

#endif
