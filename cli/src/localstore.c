/* localstore.c: the profile's SQLite file with sealed columns (see localstore.h). */
#include "localstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>

#include "util.h"

struct ls_store {
    sqlite3 *db;
    uint8_t *key;        /* sodium_malloc()ed profile key */
    int contacts_legacy; /* contact rows not yet migrated: flags still read from columns */
};

static int contacts_migrate(ls_store *s);

static const char *const SCHEMA =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "PRAGMA secure_delete=ON;"
    "CREATE TABLE IF NOT EXISTS kv(name TEXT PRIMARY KEY, value BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS peers(user_id TEXT NOT NULL, device_id TEXT NOT NULL,"
    " record BLOB NOT NULL, PRIMARY KEY(user_id, device_id));"
    "CREATE TABLE IF NOT EXISTS contacts(user_id TEXT PRIMARY KEY, username TEXT NOT NULL,"
    " devices BLOB NOT NULL, verified INTEGER NOT NULL DEFAULT 0, hold INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS conversations(id TEXT PRIMARY KEY, peer_id TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS messages(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " id TEXT NOT NULL UNIQUE, server_id TEXT UNIQUE, conversation_id TEXT NOT NULL,"
    " peer_id TEXT NOT NULL, sender_device TEXT NOT NULL, outgoing INTEGER NOT NULL,"
    " status INTEGER NOT NULL, sent_at INTEGER NOT NULL, body BLOB, edited_at INTEGER,"
    " deleted_at INTEGER);"
    "CREATE INDEX IF NOT EXISTS messages_peer ON messages(peer_id, seq);"
    "CREATE TABLE IF NOT EXISTS outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " client_id TEXT NOT NULL UNIQUE, conversation_id TEXT NOT NULL, envelopes BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS controls(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " id TEXT NOT NULL UNIQUE, entry BLOB NOT NULL);";

/* ------------------------------------------------------------------ sealing */

/* Seals `len` bytes for `slot`; *out is malloc()ed (ciphertext is not secret). */
static int seal(const ls_store *s, const char *slot, const uint8_t *in, size_t len, uint8_t **out,
                size_t *out_len)
{
    uint8_t *buf = malloc(len + SOTTO_SEAL_OVERHEAD);

    if (buf == NULL)
        return -1;
    if (sotto_seal(buf, in, len, (const uint8_t *)slot, strlen(slot), s->key) != 0) {
        free(buf);
        return -1;
    }
    *out = buf;
    *out_len = len + SOTTO_SEAL_OVERHEAD;
    return 0;
}

/* Opens a sealed blob into sodium_malloc()ed memory with one spare NUL byte. */
static int unseal(const ls_store *s, const char *slot, const void *in, size_t len, uint8_t **out,
                  size_t *out_len)
{
    uint8_t *buf;

    if (len < SOTTO_SEAL_OVERHEAD)
        return -1;
    if ((buf = sodium_malloc(len - SOTTO_SEAL_OVERHEAD + 1)) == NULL)
        return -1;
    if (sotto_seal_open(buf, in, len, (const uint8_t *)slot, strlen(slot), s->key) != 0) {
        sodium_free(buf);
        return -1;
    }
    buf[len - SOTTO_SEAL_OVERHEAD] = 0;
    *out = buf;
    *out_len = len - SOTTO_SEAL_OVERHEAD;
    return 0;
}

void ls_secret_free(void *p)
{
    if (p != NULL)
        sodium_free(p);
}

static int slot_name(char *out, size_t cap, const char *table, const char *a, const char *b)
{
    int n = snprintf(out, cap, "%s:%s%s%s", table, a, b ? ":" : "", b ? b : "");
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* ------------------------------------------------------------------ open/close, tx */

/* Profiles made before edits and deletes were applied lack the two time columns. */
static int migrate(ls_store *s)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(s->db, "SELECT edited_at, deleted_at FROM messages LIMIT 0", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_finalize(st);
        return 0;
    }
    return sqlite3_exec(s->db,
                        "ALTER TABLE messages ADD COLUMN edited_at INTEGER;"
                        "ALTER TABLE messages ADD COLUMN deleted_at INTEGER;",
                        NULL, NULL, NULL) == SQLITE_OK
               ? 0
               : -1;
}

int ls_open(ls_store **out, const char *path, const uint8_t key[SOTTO_SEAL_KEYBYTES])
{
    ls_store *s = calloc(1, sizeof *s);

    if (s == NULL)
        return -1;
    if ((s->key = sodium_malloc(SOTTO_SEAL_KEYBYTES)) == NULL)
        goto fail;
    memcpy(s->key, key, SOTTO_SEAL_KEYBYTES);
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(s->db, 5000);
    if (sqlite3_exec(s->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK || migrate(s) != 0)
        goto fail;
    contacts_migrate(s);
    *out = s;
    return 0;
fail:
    ls_close(s);
    return -1;
}

void ls_close(ls_store *s)
{
    if (s == NULL)
        return;
    if (s->db != NULL)
        sqlite3_close(s->db);
    if (s->key != NULL)
        sodium_free(s->key);
    free(s);
}

int ls_begin(ls_store *s)
{
    return sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int ls_commit(ls_store *s)
{
    return sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

void ls_rollback(ls_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ------------------------------------------------------------------ statements */

static sqlite3_stmt *prep(ls_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    return st;
}

/* Binds text arguments 1..n (NULL binds SQL NULL). */
static int bind_texts(sqlite3_stmt *st, int n, const char *const *v)
{
    for (int i = 0; i < n; i++)
        if (sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_TRANSIENT) != SQLITE_OK)
            return -1;
    return 0;
}

/* Runs a statement that returns no rows. Finalizes it. */
static int run(sqlite3_stmt *st)
{
    int rc = st != NULL && sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

/* Prepares sql, binds the n text arguments and runs it (no rows). */
static int run_texts(ls_store *s, const char *sql, int n, const char *const *v)
{
    sqlite3_stmt *st = prep(s, sql);

    if (st == NULL || bind_texts(st, n, v) != 0) {
        sqlite3_finalize(st);
        return -1;
    }
    return run(st);
}

/* Seals data for slot and binds it at idx. */
static int bind_sealed(const ls_store *s, sqlite3_stmt *st, int idx, const char *slot,
                       const uint8_t *v, size_t len)
{
    uint8_t *ct;
    size_t ct_len;

    if (seal(s, slot, v, len, &ct, &ct_len) != 0)
        return -1;
    return sqlite3_bind_blob(st, idx, ct, (int)ct_len, free) == SQLITE_OK ? 0 : -1;
}

static int column_unseal(const ls_store *s, sqlite3_stmt *st, int col, const char *slot,
                         uint8_t **v, size_t *len)
{
    return unseal(s, slot, sqlite3_column_blob(st, col), (size_t)sqlite3_column_bytes(st, col), v,
                  len);
}

/* ------------------------------------------------------------------ kv */

int ls_kv_put(ls_store *s, const char *name, const uint8_t *v, size_t len)
{
    sqlite3_stmt *st = prep(s, "INSERT OR REPLACE INTO kv(name, value) VALUES(?, ?)");
    char slot[160];

    if (st == NULL || slot_name(slot, sizeof slot, "kv", name, NULL) != 0 ||
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
        bind_sealed(s, st, 2, slot, v, len) != 0) {
        sqlite3_finalize(st);
        return -1;
    }
    return run(st);
}

int ls_kv_get(ls_store *s, const char *name, uint8_t **v, size_t *len)
{
    sqlite3_stmt *st = prep(s, "SELECT value FROM kv WHERE name = ?");
    char slot[160];
    int rc = -1, step;

    if (st == NULL || slot_name(slot, sizeof slot, "kv", name, NULL) != 0 ||
        bind_texts(st, 1, &name) != 0)
        goto done;
    step = sqlite3_step(st);
    if (step == SQLITE_DONE)
        rc = 1;
    else if (step == SQLITE_ROW)
        rc = column_unseal(s, st, 0, slot, v, len);
done:
    sqlite3_finalize(st);
    return rc;
}

int ls_kv_put_str(ls_store *s, const char *name, const char *v)
{
    return ls_kv_put(s, name, (const uint8_t *)v, strlen(v));
}

int ls_kv_get_str(ls_store *s, const char *name, char **v)
{
    uint8_t *buf;
    size_t len;
    int rc = ls_kv_get(s, name, &buf, &len);

    if (rc != 0)
        return rc;
    *v = strdup((const char *)buf);
    ls_secret_free(buf);
    return *v != NULL ? 0 : -1;
}

int ls_kv_del(ls_store *s, const char *name)
{
    return run_texts(s, "DELETE FROM kv WHERE name = ?", 1, &name);
}

/* ------------------------------------------------------------------ account, records */

int ls_account_save(ls_store *s, const sotto_account *a)
{
    size_t cap = sotto_account_serialized_size(a), len = 0;
    uint8_t *buf = sodium_malloc(cap);
    int rc = -1;

    if (buf == NULL)
        return -1;
    if (sotto_account_serialize(a, buf, cap, &len) == 0)
        rc = ls_kv_put(s, "account", buf, len);
    sodium_free(buf);
    return rc;
}

int ls_account_load(ls_store *s, sotto_account **out)
{
    uint8_t *buf;
    size_t len;
    int rc = ls_kv_get(s, "account", &buf, &len);

    if (rc != 0)
        return rc;
    rc = sotto_account_deserialize(out, buf, len) == 0 ? 0 : -1;
    ls_secret_free(buf);
    return rc;
}

int ls_record_save(ls_store *s, const char *user, const char *device, const sotto_record *r)
{
    size_t cap = sotto_record_serialized_size(r), len = 0;
    uint8_t *buf = sodium_malloc(cap);
    sqlite3_stmt *st = NULL;
    char slot[128];
    int rc = -1;

    if (buf == NULL || sotto_record_serialize(r, buf, cap, &len) != 0 ||
        slot_name(slot, sizeof slot, "peer", user, device) != 0)
        goto fail;
    st = prep(s, "INSERT OR REPLACE INTO peers(user_id, device_id, record) VALUES(?, ?, ?)");
    if (st == NULL || bind_texts(st, 2, (const char *const[]){user, device}) != 0 ||
        bind_sealed(s, st, 3, slot, buf, len) != 0)
        goto fail;
    rc = run(st);
    st = NULL;
fail:
    sqlite3_finalize(st);
    if (buf != NULL)
        sodium_free(buf);
    return rc;
}

int ls_record_load(ls_store *s, const char *user, const char *device, sotto_record **out)
{
    sqlite3_stmt *st = prep(s, "SELECT record FROM peers WHERE user_id = ? AND device_id = ?");
    uint8_t *buf = NULL;
    size_t len;
    char slot[128];
    int rc = -1, step;

    if (st == NULL || slot_name(slot, sizeof slot, "peer", user, device) != 0 ||
        bind_texts(st, 2, (const char *const[]){user, device}) != 0)
        goto done;
    step = sqlite3_step(st);
    if (step == SQLITE_DONE)
        rc = sotto_record_create(out) == 0 ? 1 : -1;
    else if (step == SQLITE_ROW && column_unseal(s, st, 0, slot, &buf, &len) == 0)
        rc = sotto_record_deserialize(out, buf, len) == 0 ? 0 : -1;
done:
    ls_secret_free(buf);
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------------ contacts */

void ls_contact_clear(ls_contact *c)
{
    free(c->devices_json);
    memset(c, 0, sizeof *c);
}

/* A contact's sealed value: {"v":2,"devices":{deviceId: signingKey},"verified":0|1,
 * "hold":0|1}. The flags are inside the seal (bound to the row by its slot name), so they
 * cannot be flipped in the file; the verified/hold columns are copies, never read. Profiles
 * made before sealed only the device set and kept the flags in the columns: contacts_migrate
 * rewrites those rows once (the one time the columns are believed) and records that it did
 * (kv:contacts_v2); after that a row in the old form does not open. */
static int contact_decode(ls_store *s, const char *sealed, int col_verified, int col_hold,
                          ls_contact *out)
{
    json_t *j = json_loads(sealed, 0, NULL), *devices;
    int rc = -1;

    if (j == NULL)
        return -1;
    if (json_integer_value(json_object_get(j, "v")) == 2) {
        devices = json_object_get(j, "devices");
        if (json_is_object(devices) && json_is_integer(json_object_get(j, "verified")) &&
            json_is_integer(json_object_get(j, "hold"))) {
            out->verified = json_integer_value(json_object_get(j, "verified")) != 0;
            out->hold = json_integer_value(json_object_get(j, "hold")) != 0;
            out->devices_json = json_dumps(devices, JSON_COMPACT | JSON_SORT_KEYS);
            rc = out->devices_json != NULL ? 0 : -1;
        }
    } else if (s->contacts_legacy && json_object_get(j, "v") == NULL) {
        out->verified = col_verified != 0;
        out->hold = col_hold != 0;
        rc = (out->devices_json = strdup(sealed)) != NULL ? 0 : -1;
    }
    json_decref(j);
    return rc;
}

static int contact_row(ls_store *s, sqlite3_stmt *st, ls_contact *out)
{
    char slot[80];
    uint8_t *buf;
    size_t len;
    int rc;

    memset(out, 0, sizeof *out);
    str_copy(out->user_id, sizeof out->user_id, (const char *)sqlite3_column_text(st, 0));
    str_copy(out->username, sizeof out->username, (const char *)sqlite3_column_text(st, 1));
    if (slot_name(slot, sizeof slot, "contact", out->user_id, NULL) != 0 ||
        column_unseal(s, st, 2, slot, &buf, &len) != 0)
        return -1;
    rc = contact_decode(s, (const char *)buf, sqlite3_column_int(st, 3), sqlite3_column_int(st, 4),
                        out);
    ls_secret_free(buf);
    return rc;
}

static int contact_query(ls_store *s, const char *sql, const char *arg, ls_contact *out)
{
    sqlite3_stmt *st = prep(s, sql);
    int rc = -1, step;

    if (st == NULL || bind_texts(st, 1, &arg) != 0)
        goto done;
    step = sqlite3_step(st);
    if (step == SQLITE_DONE)
        rc = 1;
    else if (step == SQLITE_ROW)
        rc = contact_row(s, st, out);
done:
    sqlite3_finalize(st);
    return rc;
}

int ls_contact_get(ls_store *s, const char *user_id, ls_contact *out)
{
    return contact_query(s,
                         "SELECT user_id, username, devices, verified, hold FROM contacts"
                         " WHERE user_id = ?",
                         user_id, out);
}

int ls_contact_find(ls_store *s, const char *username, ls_contact *out)
{
    return contact_query(s,
                         "SELECT user_id, username, devices, verified, hold FROM contacts"
                         " WHERE username = ?",
                         username, out);
}

int ls_contact_put(ls_store *s, const ls_contact *c)
{
    sqlite3_stmt *st = prep(s, "INSERT OR REPLACE INTO contacts(user_id, username, devices,"
                               " verified, hold) VALUES(?, ?, ?, ?, ?)");
    json_t *devices = json_loads(c->devices_json ? c->devices_json : "{}", 0, NULL);
    json_t *v = json_is_object(devices)
                    ? json_pack("{s:i,s:O,s:i,s:i}", "v", 2, "devices", devices, "verified",
                                c->verified ? 1 : 0, "hold", c->hold ? 1 : 0)
                    : NULL;
    char *sealed = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char slot[80];
    int rc = -1;

    if (st == NULL || sealed == NULL ||
        slot_name(slot, sizeof slot, "contact", c->user_id, NULL) != 0 ||
        bind_texts(st, 2, (const char *const[]){c->user_id, c->username}) != 0 ||
        bind_sealed(s, st, 3, slot, (const uint8_t *)sealed, strlen(sealed)) != 0 ||
        sqlite3_bind_int(st, 4, c->verified) != SQLITE_OK ||
        sqlite3_bind_int(st, 5, c->hold) != SQLITE_OK) {
        sqlite3_finalize(st);
        goto done;
    }
    rc = run(st);
done:
    free(sealed);
    json_decref(v);
    json_decref(devices);
    return rc;
}

/* Once per profile: every contact row into the sealed-flags form, in one transaction, and
 * kv:contacts_v2 recorded with it. When that cannot be done (a wrong passphrase: nothing
 * opens), the rows stay as they are and are read the old way for this process only. */
static int contacts_migrate(ls_store *s)
{
    uint8_t *flag = NULL;
    size_t len;
    sqlite3_stmt *st;
    ls_contact *all = NULL;
    size_t n = 0;
    int rc = ls_kv_get(s, "contacts_v2", &flag, &len);

    ls_secret_free(flag);
    if (rc != 1)
        return rc; /* migrated (0), or the kv row does not open (-1): stay strict */
    s->contacts_legacy = 1;
    if ((st = prep(s, "SELECT user_id, username, devices, verified, hold FROM contacts")) == NULL)
        return -1;
    rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        ls_contact *p = realloc(all, (n + 1) * sizeof *all);
        if (p == NULL || contact_row(s, st, &p[n]) != 0)
            rc = -1;
        else
            n++;
        if (p != NULL)
            all = p;
    }
    sqlite3_finalize(st);
    if (rc == 0 && ls_begin(s) == 0) {
        for (size_t i = 0; rc == 0 && i < n; i++)
            rc = ls_contact_put(s, &all[i]);
        if (rc == 0)
            rc = ls_kv_put(s, "contacts_v2", (const uint8_t *)"1", 1);
        if (rc == 0 && ls_commit(s) == 0)
            s->contacts_legacy = 0;
        else
            ls_rollback(s), rc = -1;
    }
    for (size_t i = 0; i < n; i++)
        ls_contact_clear(&all[i]);
    free(all);
    return rc;
}

/* ------------------------------------------------------------------ conversations */

int ls_conversation_put(ls_store *s, const char *conv_id, const char *peer_id)
{
    return run_texts(s, "INSERT OR REPLACE INTO conversations(id, peer_id) VALUES(?, ?)", 2,
                     (const char *const[]){conv_id, peer_id});
}

static int one_text(ls_store *s, const char *sql, const char *arg, char *out, size_t cap)
{
    sqlite3_stmt *st = prep(s, sql);
    int rc = -1, step;

    if (st == NULL || bind_texts(st, 1, &arg) != 0)
        goto done;
    step = sqlite3_step(st);
    if (step == SQLITE_DONE)
        rc = 1;
    else if (step == SQLITE_ROW)
        rc = str_copy(out, cap, (const char *)sqlite3_column_text(st, 0));
done:
    sqlite3_finalize(st);
    return rc;
}

int ls_conversation_peer(ls_store *s, const char *conv_id, char *peer)
{
    return one_text(s, "SELECT peer_id FROM conversations WHERE id = ?", conv_id, peer, 40);
}

int ls_conversation_for(ls_store *s, const char *peer_id, char *conv_id)
{
    return one_text(s, "SELECT id FROM conversations WHERE peer_id = ?", peer_id, conv_id, 40);
}

/* ------------------------------------------------------------------ messages */

void ls_message_clear(ls_message *m)
{
    ls_secret_free(m->body);
    memset(m, 0, sizeof *m);
}

int ls_message_put(ls_store *s, const ls_message *m)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO messages(id, server_id, conversation_id, peer_id,"
                               " sender_device, outgoing, status, sent_at, body)"
                               " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
    const char *server_id = m->server_id[0] ? m->server_id : NULL;
    char slot[64];

    if (st == NULL || slot_name(slot, sizeof slot, "msg", m->id, NULL) != 0 ||
        bind_texts(st, 5,
                   (const char *const[]){m->id, server_id, m->conversation_id, m->peer_id,
                                         m->sender_device}) != 0 ||
        sqlite3_bind_int(st, 6, m->outgoing) != SQLITE_OK ||
        sqlite3_bind_int(st, 7, m->status) != SQLITE_OK ||
        sqlite3_bind_int64(st, 8, (sqlite3_int64)m->sent_at_ms) != SQLITE_OK ||
        (m->body != NULL &&
         bind_sealed(s, st, 9, slot, (const uint8_t *)m->body, m->body_len) != 0)) {
        sqlite3_finalize(st);
        return -1;
    }
    return run(st);
}

int ls_message_seen(ls_store *s, const char *server_id)
{
    char id[40];
    int rc = one_text(s, "SELECT id FROM messages WHERE server_id = ?", server_id, id, sizeof id);

    return rc < 0 ? -1 : rc == 0;
}

static int message_row(ls_store *s, sqlite3_stmt *st, ls_message *m)
{
    const char *server_id = (const char *)sqlite3_column_text(st, 1);
    char slot[64];

    memset(m, 0, sizeof *m);
    str_copy(m->id, sizeof m->id, (const char *)sqlite3_column_text(st, 0));
    str_copy(m->server_id, sizeof m->server_id, server_id ? server_id : "");
    str_copy(m->conversation_id, sizeof m->conversation_id,
             (const char *)sqlite3_column_text(st, 2));
    str_copy(m->peer_id, sizeof m->peer_id, (const char *)sqlite3_column_text(st, 3));
    str_copy(m->sender_device, sizeof m->sender_device, (const char *)sqlite3_column_text(st, 4));
    m->outgoing = sqlite3_column_int(st, 5);
    m->status = sqlite3_column_int(st, 6);
    m->sent_at_ms = (uint64_t)sqlite3_column_int64(st, 7);
    m->edited_at_ms = (uint64_t)sqlite3_column_int64(st, 9);
    m->deleted_at_ms = (uint64_t)sqlite3_column_int64(st, 10);
    if (sqlite3_column_type(st, 8) == SQLITE_NULL)
        return 0;
    if (slot_name(slot, sizeof slot, "msg", m->id, NULL) != 0 ||
        column_unseal(s, st, 8, slot, (uint8_t **)&m->body, &m->body_len) != 0)
        return -1;
    return 0;
}

#define MSG_COLS                                                                \
    "id, server_id, conversation_id, peer_id, sender_device, outgoing, status," \
    " sent_at, body, edited_at, deleted_at"

int ls_message_get(ls_store *s, const char *id, ls_message *out)
{
    sqlite3_stmt *st = prep(s, "SELECT " MSG_COLS " FROM messages WHERE id = ? OR server_id = ?");
    int rc = -1, step;

    if (st == NULL || bind_texts(st, 2, (const char *const[]){id, id}) != 0)
        goto done;
    step = sqlite3_step(st);
    if (step == SQLITE_DONE)
        rc = 1;
    else if (step == SQLITE_ROW)
        rc = message_row(s, st, out);
done:
    sqlite3_finalize(st);
    return rc;
}

int ls_message_sent(ls_store *s, const char *id, const char *server_id)
{
    return run_texts(s, "UPDATE messages SET server_id = ?, status = MAX(status, 1) WHERE id = ?",
                     2, (const char *const[]){server_id, id});
}

int ls_message_failed(ls_store *s, const char *id)
{
    return run_texts(s,
                     "UPDATE messages SET status = 12 WHERE id = ? AND outgoing = 1"
                     " AND server_id IS NULL",
                     1, &id);
}

int ls_message_edit(ls_store *s, const char *id, const char *body, size_t len,
                    uint64_t edited_at_ms)
{
    sqlite3_stmt *st = prep(s, "UPDATE messages SET body = ?, edited_at = ? WHERE id = ?"
                               " AND deleted_at IS NULL");
    char slot[64];

    if (st == NULL || slot_name(slot, sizeof slot, "msg", id, NULL) != 0 ||
        bind_sealed(s, st, 1, slot, (const uint8_t *)body, len) != 0 ||
        sqlite3_bind_int64(st, 2, (sqlite3_int64)edited_at_ms) != SQLITE_OK ||
        sqlite3_bind_text(st, 3, id, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
        sqlite3_finalize(st);
        return -1;
    }
    return run(st);
}

int ls_message_fill(ls_store *s, const ls_message *m)
{
    sqlite3_stmt *st = prep(s, "UPDATE messages SET body = ?, sent_at = ?, outgoing = ?,"
                               " status = ? WHERE id = ? AND status = 13 AND deleted_at IS NULL");
    char slot[64];

    if (st == NULL || m->body == NULL || slot_name(slot, sizeof slot, "msg", m->id, NULL) != 0 ||
        bind_sealed(s, st, 1, slot, (const uint8_t *)m->body, m->body_len) != 0 ||
        sqlite3_bind_int64(st, 2, (sqlite3_int64)m->sent_at_ms) != SQLITE_OK ||
        sqlite3_bind_int(st, 3, m->outgoing) != SQLITE_OK ||
        sqlite3_bind_int(st, 4, m->status) != SQLITE_OK ||
        sqlite3_bind_text(st, 5, m->id, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
        sqlite3_finalize(st);
        return -1;
    }
    return run(st);
}

int ls_message_wipe(ls_store *s, const char *id, uint64_t deleted_at_ms)
{
    /* secure_delete=ON zeroes the freed bytes of the old sealed body in the database file. */
    sqlite3_stmt *st = prep(s, "UPDATE messages SET body = NULL, deleted_at = ? WHERE id = ?");

    if (st == NULL || sqlite3_bind_int64(st, 1, (sqlite3_int64)deleted_at_ms) != SQLITE_OK ||
        sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
        sqlite3_finalize(st);
        return -1;
    }
    return run(st);
}

int ls_checkpoint(ls_store *s)
{
    /* Copies the WAL into the database and truncates it, so old page images (holding a
     * wiped body) do not linger in the -wal file. Outside any transaction. */
    return sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) ==
                   SQLITE_OK
               ? 0
               : -1;
}

int ls_message_status(ls_store *s, const char *server_id, int status)
{
    sqlite3_stmt *st = prep(s, "UPDATE messages SET status = MAX(status, ?) WHERE server_id = ?"
                               " AND outgoing = 1");

    if (st == NULL || sqlite3_bind_int(st, 1, status) != SQLITE_OK ||
        sqlite3_bind_text(st, 2, server_id, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
        sqlite3_finalize(st);
        return -1;
    }
    return run(st);
}

int ls_message_read_upto(ls_store *s, const char *conv_id, const char *upto)
{
    /* Server ids are UUIDv7 in one spelling, so text order is the server's message order. */
    return run_texts(s,
                     "UPDATE messages SET status = MAX(status, 3) WHERE"
                     " conversation_id = ? AND outgoing = 1 AND server_id <= ?",
                     2, (const char *const[]){conv_id, upto});
}

int ls_unsettled_each(ls_store *s, ls_unsettled_fn fn, void *ctx)
{
    sqlite3_stmt *st = prep(s, "SELECT conversation_id, MIN(server_id) FROM messages"
                               " WHERE outgoing = 1 AND server_id IS NOT NULL AND status < 3"
                               " AND deleted_at IS NULL"
                               " GROUP BY conversation_id ORDER BY MAX(seq) DESC LIMIT ?");
    char(*rows)[2][40] = NULL;
    size_t n = 0;
    int rc = -1, step;

    if (st == NULL || sqlite3_bind_int(st, 1, LS_UNSETTLED_MAX) != SQLITE_OK ||
        (rows = calloc(LS_UNSETTLED_MAX, sizeof *rows)) == NULL)
        goto done;
    /* Collected first: fn changes the rows this walks. */
    while (n < LS_UNSETTLED_MAX && (step = sqlite3_step(st)) == SQLITE_ROW) {
        str_copy(rows[n][0], 40, (const char *)sqlite3_column_text(st, 0));
        str_copy(rows[n++][1], 40, (const char *)sqlite3_column_text(st, 1));
    }
    if (n < LS_UNSETTLED_MAX && step != SQLITE_DONE)
        goto done;
    sqlite3_finalize(st);
    st = NULL;
    rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = fn(ctx, rows[i][0], rows[i][1]) != 0 ? 1 : 0;
    rc = rc == 1 ? 0 : rc;
done:
    sqlite3_finalize(st);
    free(rows);
    return rc;
}

/* Runs a bound message query, calling fn per row until it returns non-zero. Finalizes it. */
static int each_message(ls_store *s, sqlite3_stmt *st, ls_message_fn fn, void *ctx)
{
    ls_message m;
    int rc = -1, step;

    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (message_row(s, st, &m) != 0)
            goto done;
        int stop = fn(ctx, &m);
        ls_message_clear(&m);
        if (stop)
            break;
    }
    rc = step == SQLITE_ROW || step == SQLITE_DONE ? 0 : -1;
done:
    sqlite3_finalize(st);
    return rc;
}

int ls_messages_each(ls_store *s, const char *peer_id, ls_message_fn fn, void *ctx)
{
    sqlite3_stmt *st = prep(s, "SELECT " MSG_COLS " FROM messages WHERE peer_id = ? ORDER BY"
                               " sent_at, seq");

    if (st == NULL || bind_texts(st, 1, &peer_id) != 0) {
        sqlite3_finalize(st);
        return -1;
    }
    return each_message(s, st, fn, ctx);
}

int ls_messages_recent(ls_store *s, const char *peer_id, int n, ls_message_fn fn, void *ctx)
{
    sqlite3_stmt *st = prep(s, "SELECT " MSG_COLS " FROM (SELECT * FROM messages WHERE"
                               " peer_id = ? ORDER BY sent_at DESC, seq DESC LIMIT ?)"
                               " ORDER BY sent_at, seq");

    if (st == NULL || bind_texts(st, 1, &peer_id) != 0 || sqlite3_bind_int(st, 2, n) != SQLITE_OK) {
        sqlite3_finalize(st);
        return -1;
    }
    return each_message(s, st, fn, ctx);
}

int ls_last_incoming(ls_store *s, const char *peer_id, char server_id[40])
{
    return one_text(s,
                    "SELECT server_id FROM messages WHERE peer_id = ? AND outgoing = 0"
                    " AND server_id IS NOT NULL ORDER BY server_id DESC LIMIT 1",
                    peer_id, server_id, 40);
}

/* ------------------------------------------------------------------ outbox */

int ls_outbox_put(ls_store *s, const char *client_id, const char *conv_id, const char *json)
{
    sqlite3_stmt *st = prep(s, "INSERT OR REPLACE INTO outbox(client_id, conversation_id,"
                               " envelopes) VALUES(?, ?, ?)");
    char slot[64];

    if (st == NULL || slot_name(slot, sizeof slot, "outbox", client_id, NULL) != 0 ||
        bind_texts(st, 2, (const char *const[]){client_id, conv_id}) != 0 ||
        bind_sealed(s, st, 3, slot, (const uint8_t *)json, strlen(json)) != 0) {
        sqlite3_finalize(st);
        return -1;
    }
    return run(st);
}

int ls_outbox_get(ls_store *s, const char *client_id, char **conv_id, char **json)
{
    sqlite3_stmt *st = prep(s, "SELECT conversation_id, envelopes FROM outbox WHERE client_id = ?");
    uint8_t *buf = NULL;
    size_t len;
    char slot[64];
    int rc = -1, step;

    *conv_id = *json = NULL;
    if (st == NULL || slot_name(slot, sizeof slot, "outbox", client_id, NULL) != 0 ||
        bind_texts(st, 1, &client_id) != 0)
        goto done;
    step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        rc = 1;
        goto done;
    }
    if (step != SQLITE_ROW || column_unseal(s, st, 1, slot, &buf, &len) != 0)
        goto done;
    *conv_id = strdup((const char *)sqlite3_column_text(st, 0));
    *json = strdup((const char *)buf);
    rc = *conv_id && *json ? 0 : -1;
    if (rc != 0) {
        free(*conv_id);
        free(*json);
        *conv_id = *json = NULL;
    }
done:
    ls_secret_free(buf);
    sqlite3_finalize(st);
    return rc;
}

int ls_outbox_del(ls_store *s, const char *client_id)
{
    return run_texts(s, "DELETE FROM outbox WHERE client_id = ?", 1, &client_id);
}

/* Runs sql (one text column, maybe one text argument) and calls fn for each value. The values
 * are collected first: fn may delete rows while we walk them. */
static int each_text(ls_store *s, const char *sql, const char *arg, ls_id_fn fn, void *ctx)
{
    sqlite3_stmt *st = prep(s, sql);
    char(*ids)[160] = NULL;
    size_t n = 0, cap = 0;
    int rc = -1, step;

    if (st == NULL || (arg != NULL && bind_texts(st, 1, &arg) != 0))
        goto done;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            void *p = realloc(ids, (cap = cap ? cap * 2 : 8) * sizeof *ids);
            if (p == NULL)
                goto done;
            ids = p;
        }
        str_copy(ids[n++], sizeof *ids, (const char *)sqlite3_column_text(st, 0));
    }
    if (step != SQLITE_DONE)
        goto done;
    sqlite3_finalize(st);
    st = NULL;
    rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = fn(ctx, ids[i]) != 0 ? 1 : 0;
    rc = rc == 1 ? 0 : rc;
done:
    sqlite3_finalize(st);
    free(ids);
    return rc;
}

int ls_outbox_each(ls_store *s, ls_id_fn fn, void *ctx)
{
    return each_text(s, "SELECT client_id FROM outbox ORDER BY seq", NULL, fn, ctx);
}

int ls_kv_each_prefix(ls_store *s, const char *prefix, ls_id_fn fn, void *ctx)
{
    /* substr, not LIKE: '_' in a prefix is a character, not a wildcard. */
    return each_text(s, "SELECT name FROM kv WHERE substr(name, 1, length(?1)) = ?1 ORDER BY name",
                     prefix, fn, ctx);
}

/* ------------------------------------------------------------------ controls */

int ls_control_put(ls_store *s, const char *id, const char *json)
{
    /* An upsert keeps the row's seq: an entry updated after a failed send keeps its place. */
    sqlite3_stmt *st = prep(s, "INSERT INTO controls(id, entry) VALUES(?, ?)"
                               " ON CONFLICT(id) DO UPDATE SET entry = excluded.entry");
    char slot[64];

    if (st == NULL || slot_name(slot, sizeof slot, "controls", id, NULL) != 0 ||
        bind_texts(st, 1, &id) != 0 ||
        bind_sealed(s, st, 2, slot, (const uint8_t *)json, strlen(json)) != 0) {
        sqlite3_finalize(st);
        return -1;
    }
    return run(st);
}

int ls_control_get(ls_store *s, const char *id, char **json)
{
    sqlite3_stmt *st = prep(s, "SELECT entry FROM controls WHERE id = ?");
    uint8_t *buf = NULL;
    size_t len;
    char slot[64];
    int rc = -1, step;

    *json = NULL;
    if (st == NULL || slot_name(slot, sizeof slot, "controls", id, NULL) != 0 ||
        bind_texts(st, 1, &id) != 0)
        goto done;
    step = sqlite3_step(st);
    if (step == SQLITE_DONE)
        rc = 1;
    else if (step == SQLITE_ROW && column_unseal(s, st, 0, slot, &buf, &len) == 0)
        rc = (*json = strdup((const char *)buf)) != NULL ? 0 : -1;
done:
    ls_secret_free(buf);
    sqlite3_finalize(st);
    return rc;
}

int ls_control_del(ls_store *s, const char *id)
{
    return run_texts(s, "DELETE FROM controls WHERE id = ?", 1, &id);
}

int ls_control_each(ls_store *s, ls_id_fn fn, void *ctx)
{
    return each_text(s, "SELECT id FROM controls ORDER BY seq", NULL, fn, ctx);
}

int ls_control_count(ls_store *s)
{
    sqlite3_stmt *st = prep(s, "SELECT count(*) FROM controls");
    int n = st != NULL && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;

    sqlite3_finalize(st);
    return n;
}
