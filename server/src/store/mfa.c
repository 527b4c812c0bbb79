/* mfa.c: TOTP secret, step replay refusal, backup codes. */
#include "store/mfa.h"

#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

static const char mfa_get[] =
    "SELECT mfa_enabled, mfa_secret, mfa_last_step FROM users WHERE id = $1";
static const char mfa_set_secret[] =
    "UPDATE users SET mfa_secret = $2, mfa_enabled = 0, mfa_last_step = 0, updated_at = $3 "
    "WHERE id = $1";
static const char mfa_touch[] = "UPDATE users SET updated_at = $2 WHERE id = $1";
static const char mfa_codes_clear[] = "DELETE FROM mfa_backup_codes WHERE user_id = $1";
static const char mfa_code_insert[] =
    "INSERT INTO mfa_backup_codes (user_id, code_hash) VALUES ($1, $2) "
    "ON CONFLICT (user_id, code_hash) DO NOTHING";
static const char mfa_set_enabled[] =
    "UPDATE users SET mfa_enabled = 1, mfa_last_step = $2, updated_at = $3 "
    "WHERE id = $1 AND mfa_secret IS NOT NULL";
static const char mfa_set_disabled[] =
    "UPDATE users SET mfa_enabled = 0, mfa_secret = NULL, mfa_last_step = 0, updated_at = $2 "
    "WHERE id = $1";
static const char mfa_step[] =
    "UPDATE users SET mfa_last_step = $2 WHERE id = $1 AND mfa_last_step < $2";
static const char mfa_code_use[] =
    "UPDATE mfa_backup_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 "
    "AND used_at IS NULL";
static const char mfa_codes_left[] =
    "SELECT COUNT(*) FROM mfa_backup_codes WHERE user_id = $1 AND used_at IS NULL";

void store_mfa_free(struct store_mfa *m)
{
    if (!m)
        return;
    if (m->secret)
        memset(m->secret, 0, m->secret_len); /* encrypted, but no reason to leave it around */
    free(m->secret);
    memset(m, 0, sizeof *m);
}

enum store_err store_mfa_get(struct store *s, const char *user_id, struct store_mfa *out)
{
    struct db_param p = db_text(user_id);
    struct db_rows *r;
    memset(out, 0, sizeof *out);
    int rc = s->drv->query(s->db, mfa_get, &p, 1, &r);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        out->enabled = s->drv->get_int(r, 0) != 0;
        out->last_step = s->drv->get_int(r, 2);
        if (!s->drv->is_null(r, 1)) {
            const void *b = s->drv->get_blob(r, 1, &out->secret_len);
            out->secret = store_xmalloc(out->secret_len);
            memcpy(out->secret, b, out->secret_len);
        }
    }
    s->drv->done(r);
    return rc == 1 ? STORE_OK : rc == 0 ? STORE_NOT_FOUND : store_map(rc);
}

/* Run an UPDATE; STORE_NOT_FOUND when it matched nothing. */
static enum store_err mfa_update(struct store *s, const char *sql, const struct db_param *p, int n)
{
    int64_t changes = 0;
    enum store_err rc = store_exec(s, sql, p, n, &changes);
    return rc == STORE_OK && changes == 0 ? STORE_NOT_FOUND : rc;
}

static enum store_err mfa_codes_replace(struct store *s, const char *user_id,
                                        const uint8_t (*hashes)[STORE_HASH_SIZE], size_t n)
{
    struct db_param who = db_text(user_id);
    enum store_err rc = store_exec(s, mfa_codes_clear, &who, 1, NULL);
    for (size_t i = 0; i < n && rc == STORE_OK; i++) {
        struct db_param p[] = {who, DB_BLOB(hashes[i], STORE_HASH_SIZE)};
        rc = store_exec(s, mfa_code_insert, p, 2, NULL);
    }
    return rc;
}

enum store_err store_mfa_begin(struct store *s, const char *user_id, const uint8_t *secret,
                               size_t secret_len, const uint8_t (*code_hashes)[STORE_HASH_SIZE],
                               size_t n, int64_t now)
{
    struct db_param p[] = {db_text(user_id), DB_BLOB(secret, secret_len), DB_INT(now)};
    enum store_err rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    rc = mfa_update(s, mfa_set_secret, p, 3);
    if (rc == STORE_OK)
        rc = mfa_codes_replace(s, user_id, code_hashes, n);
    return store_finish(s, rc);
}

enum store_err store_mfa_set_backups(struct store *s, const char *user_id,
                                     const uint8_t (*code_hashes)[STORE_HASH_SIZE], size_t n,
                                     int64_t now)
{
    struct db_param p[] = {db_text(user_id), DB_INT(now)};
    enum store_err rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    rc = mfa_update(s, mfa_touch, p, 2);
    if (rc == STORE_OK)
        rc = mfa_codes_replace(s, user_id, code_hashes, n);
    return store_finish(s, rc);
}

enum store_err store_mfa_enable(struct store *s, const char *user_id, int64_t step, int64_t now)
{
    struct db_param p[] = {db_text(user_id), DB_INT(step), DB_INT(now)};
    return mfa_update(s, mfa_set_enabled, p, 3);
}

enum store_err store_mfa_disable(struct store *s, const char *user_id, int64_t now)
{
    struct db_param p[] = {db_text(user_id), DB_INT(now)};
    enum store_err rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    rc = mfa_update(s, mfa_set_disabled, p, 2);
    if (rc == STORE_OK)
        rc = mfa_codes_replace(s, user_id, NULL, 0);
    return store_finish(s, rc);
}

enum store_err store_mfa_use_step(struct store *s, const char *user_id, int64_t step)
{
    struct db_param p[] = {db_text(user_id), DB_INT(step)};
    enum store_err rc = mfa_update(s, mfa_step, p, 2);
    return rc == STORE_NOT_FOUND ? STORE_CONFLICT : rc;
}

enum store_err store_mfa_use_backup(struct store *s, const char *user_id,
                                    const uint8_t hash[STORE_HASH_SIZE], int64_t now)
{
    struct db_param p[] = {db_text(user_id), DB_BLOB(hash, STORE_HASH_SIZE), DB_INT(now)};
    return mfa_update(s, mfa_code_use, p, 3);
}

enum store_err store_mfa_backup_left(struct store *s, const char *user_id, int64_t *left)
{
    struct db_param p = db_text(user_id);
    struct db_rows *r;
    *left = 0;
    int rc = s->drv->query(s->db, mfa_codes_left, &p, 1, &r);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1)
        *left = s->drv->get_int(r, 0);
    s->drv->done(r);
    return rc == 1 ? STORE_OK : store_map(rc < 0 ? rc : DB_ERR);
}
