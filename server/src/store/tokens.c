/* tokens.c: refresh-token families, login-proof replay refusal, email tokens. */
#include "store/tokens.h"

#include "store_internal.h"

#include <string.h>

static const char refresh_insert[] =
    "INSERT INTO refresh_tokens (token_hash, family_id, user_id, device_id, created_at, "
    "expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
/* The conditional update is the atomic step: of two requests presenting the same token,
 * exactly one matches; the other sees it rotated. A token created at or before its device's
 * tokens_not_before is dead even if a racing rotation left it unrevoked (devices.c). */
static const char refresh_use[] =
    "UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1 AND rotated_at IS NULL "
    "AND revoked_at IS NULL AND expires_at > $2 AND EXISTS (SELECT 1 FROM devices d "
    "WHERE d.id = refresh_tokens.device_id AND d.revoked_at IS NULL "
    "AND d.tokens_not_before < refresh_tokens.created_at) "
    "RETURNING family_id, user_id, device_id";
static const char refresh_lookup[] = "SELECT family_id, user_id, device_id FROM refresh_tokens "
                                     "WHERE token_hash = $1 AND rotated_at IS NOT NULL";
static const char refresh_revoke_family[] =
    "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL";
static const char refresh_revoke_device[] =
    "UPDATE refresh_tokens SET revoked_at = $2 WHERE device_id = $1 AND revoked_at IS NULL";
static const char refresh_revoke_user[] =
    "UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL";
static const char proofs_prune[] = "DELETE FROM device_login_proofs WHERE expires_at <= $1";
static const char proofs_insert[] =
    "INSERT INTO device_login_proofs (device_id, proof_hash, expires_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (device_id, proof_hash) DO NOTHING";
static const char email_insert[] =
    "INSERT INTO email_tokens (token_hash, kind, user_id, created_at, expires_at) "
    "VALUES ($1, $2, $3, $4, $5)";
static const char email_consume[] =
    "UPDATE email_tokens SET used_at = $3 WHERE token_hash = $1 AND kind = $2 "
    "AND used_at IS NULL AND expires_at > $3 RETURNING user_id";

enum store_err store_refresh_insert(struct store *s, const uint8_t hash[STORE_HASH_SIZE],
                                    const char *user_id, const char *device_id, int64_t expires_at,
                                    int64_t now, char family_id[STORE_ID_SIZE])
{
    char family[STORE_ID_SIZE];
    store_uuid_v4(family);
    struct db_param p[] = {DB_BLOB(hash, STORE_HASH_SIZE),
                           db_text(family),
                           db_text(user_id),
                           db_text(device_id),
                           DB_INT(now),
                           DB_INT(expires_at)};
    enum store_err rc = store_exec(s, refresh_insert, p, 6, NULL);
    if (rc == STORE_OK && family_id)
        memcpy(family_id, family, STORE_ID_SIZE);
    return rc;
}

/* Run a statement whose rows are (family_id, user_id, device_id); 1 when it gave a row. */
static int refresh_row(struct store *s, const char *sql, const struct db_param *p, int n,
                       struct store_refresh *out)
{
    struct db_rows *r;
    int rc = s->drv->query(s->db, sql, p, n, &r);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        store_col_id(s, r, 0, out->family_id);
        store_col_id(s, r, 1, out->user_id);
        store_col_id(s, r, 2, out->device_id);
        int end = s->drv->next(r); /* finish the statement (SQLite) */
        rc = end < 0 ? end : 1;
    }
    s->drv->done(r);
    return rc;
}

static enum store_err refresh_successor(struct store *s, const struct store_refresh *old,
                                        const uint8_t hash[STORE_HASH_SIZE], int64_t expires_at,
                                        int64_t now)
{
    struct db_param p[] = {DB_BLOB(hash, STORE_HASH_SIZE),
                           db_text(old->family_id),
                           db_text(old->user_id),
                           db_text(old->device_id),
                           DB_INT(now),
                           DB_INT(expires_at)};
    return store_exec(s, refresh_insert, p, 6, NULL);
}

/* The token was not usable: tell a replay of a rotated token (revoke its family) from an
 * unknown, expired or revoked one. */
static enum store_err refresh_refused(struct store *s, const uint8_t hash[STORE_HASH_SIZE],
                                      int64_t now, struct store_refresh *out)
{
    struct db_param p = DB_BLOB(hash, STORE_HASH_SIZE);
    int rc = refresh_row(s, refresh_lookup, &p, 1, out);
    if (rc != 1)
        return rc == 0 ? STORE_NOT_FOUND : store_map(rc);
    enum store_err err = store_refresh_revoke_family(s, out->family_id, now);
    return err == STORE_OK ? STORE_TOKEN_REUSED : err;
}

enum store_err store_refresh_rotate(struct store *s, const uint8_t old_hash[STORE_HASH_SIZE],
                                    const uint8_t new_hash[STORE_HASH_SIZE], int64_t new_expires_at,
                                    int64_t now, struct store_refresh *out)
{
    struct db_param p[] = {DB_BLOB(old_hash, STORE_HASH_SIZE), DB_INT(now)};
    memset(out, 0, sizeof *out);
    enum store_err rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    int used = refresh_row(s, refresh_use, p, 2, out);
    if (used == 1)
        rc = refresh_successor(s, out, new_hash, new_expires_at, now);
    else
        rc = used == 0 ? refresh_refused(s, old_hash, now, out) : store_map(used);
    if (rc == STORE_TOKEN_REUSED) /* the family's revocation must stick */
        return store_commit(s) == STORE_OK ? STORE_TOKEN_REUSED : STORE_ERROR;
    return store_finish(s, rc);
}

static enum store_err refresh_revoke(struct store *s, const char *sql, const char *key, int64_t now)
{
    struct db_param p[] = {db_text(key), DB_INT(now)};
    return store_exec(s, sql, p, 2, NULL);
}

enum store_err store_refresh_revoke_family(struct store *s, const char *family_id, int64_t now)
{
    return refresh_revoke(s, refresh_revoke_family, family_id, now);
}

enum store_err store_refresh_revoke_device(struct store *s, const char *device_id, int64_t now)
{
    return refresh_revoke(s, refresh_revoke_device, device_id, now);
}

enum store_err store_refresh_revoke_user(struct store *s, const char *user_id, int64_t now)
{
    return refresh_revoke(s, refresh_revoke_user, user_id, now);
}

enum store_err store_proof_record(struct store *s, const char *device_id,
                                  const uint8_t proof_hash[STORE_HASH_SIZE], int64_t expires_at,
                                  int64_t now)
{
    struct db_param prune = DB_INT(now);
    struct db_param p[] = {db_text(device_id), DB_BLOB(proof_hash, STORE_HASH_SIZE),
                           DB_INT(expires_at)};
    int64_t changes = 0;
    enum store_err rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    rc = store_exec(s, proofs_prune, &prune, 1, NULL);
    if (rc == STORE_OK)
        rc = store_exec(s, proofs_insert, p, 3, &changes);
    if (rc == STORE_OK && changes == 0)
        rc = STORE_CONFLICT;
    return store_finish(s, rc);
}

static const char *email_kind_name(enum store_email_kind kind)
{
    return kind == STORE_EMAIL_RESET ? "reset" : "verify";
}

enum store_err store_email_token_insert(struct store *s, enum store_email_kind kind,
                                        const uint8_t hash[STORE_HASH_SIZE], const char *user_id,
                                        int64_t expires_at, int64_t now)
{
    struct db_param p[] = {DB_BLOB(hash, STORE_HASH_SIZE), db_text(email_kind_name(kind)),
                           db_text(user_id), DB_INT(now), DB_INT(expires_at)};
    return store_exec(s, email_insert, p, 5, NULL);
}

enum store_err store_email_token_consume(struct store *s, enum store_email_kind kind,
                                         const uint8_t hash[STORE_HASH_SIZE], int64_t now,
                                         char user_id[STORE_ID_SIZE])
{
    struct db_param p[] = {DB_BLOB(hash, STORE_HASH_SIZE), db_text(email_kind_name(kind)),
                           DB_INT(now)};
    struct db_rows *r;
    user_id[0] = '\0';
    int rc = s->drv->query(s->db, email_consume, p, 3, &r);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        store_col_id(s, r, 0, user_id);
        int end = s->drv->next(r);
        rc = end < 0 ? end : 1;
    }
    s->drv->done(r);
    return rc == 1 ? STORE_OK : rc == 0 ? STORE_NOT_FOUND : store_map(rc);
}
