/* attlist.c: the files of a message in the local store (see attlist.h). */
#include "attlist.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "term.h"
#include "util.h"

static void kv_name(char out[64], const char *msg_id) { snprintf(out, 64, "att:%s", msg_id); }

int att_save(ls_store *st, const char *msg_id, const sotto_attachment_pointer *a, size_t n)
{
    sotto_payload p;
    uint8_t *buf;
    size_t cap, len = 0;
    char name[64];
    int rc = -1;

    if (n == 0 || n > SOTTO_ATTACHMENTS_MAX)
        return -1;
    memset(&p, 0, sizeof p);
    p.content_type = SOTTO_CONTENT_TEXT;
    p.n_attachments = n;
    memcpy(p.attachments, a, n * sizeof *a);
    if ((cap = sotto_payload_encoded_size(&p)) == 0 || (buf = sodium_malloc(cap)) == NULL)
        goto done;
    kv_name(name, msg_id);
    if (sotto_payload_encode(&p, buf, cap, &len) == 0)
        rc = ls_kv_put(st, name, buf, len);
    sodium_free(buf);
done:
    sodium_memzero(&p, sizeof p);
    return rc;
}

int att_load(ls_store *st, const char *msg_id, att_list *out)
{
    char name[64];
    int rc;

    memset(out, 0, sizeof *out);
    kv_name(name, msg_id);
    if ((rc = ls_kv_get(st, name, &out->buf, &out->len)) != 0)
        return rc;
    if (sotto_payload_decode(&out->p, out->buf, out->len) != 0 || out->p.n_attachments == 0) {
        att_list_clear(out);
        return -1;
    }
    return 0;
}

void att_list_clear(att_list *l)
{
    ls_secret_free(l->buf);
    sodium_memzero(l, sizeof *l);
}

int att_forget(ls_store *st, const char *msg_id)
{
    char name[64];

    kv_name(name, msg_id);
    return ls_kv_del(st, name);
}

json_t *att_ids_json(const att_list *l)
{
    json_t *ids = json_array();
    char id[UUID_STRLEN + 1];

    for (size_t i = 0; ids != NULL && i < l->p.n_attachments; i++) {
        uuid_format(l->p.attachments[i].id, id);
        json_array_append_new(ids, json_string(id));
    }
    return ids;
}

json_t *att_summary_json(const att_list *l)
{
    json_t *arr = json_array();

    for (size_t i = 0; arr != NULL && i < l->p.n_attachments; i++) {
        const sotto_attachment_pointer *a = &l->p.attachments[i];
        char id[UUID_STRLEN + 1];
        uuid_format(a->id, id);
        json_array_append_new(arr, json_pack("{s:I,s:s%,s:s%,s:I,s:s}", "index", (json_int_t)i + 1,
                                             "name", a->name, a->name_len, "type", a->type,
                                             a->type_len, "size", (json_int_t)a->size, "id", id));
    }
    return arr;
}

/* "1.5 MiB": enough to recognise a file, not a byte count. */
static void human_size(uint64_t n, char *out, size_t cap)
{
    if (n < 1024)
        snprintf(out, cap, "%" PRIu64 " B", n);
    else if (n < 1024 * 1024)
        snprintf(out, cap, "%.1f KiB", (double)n / 1024);
    else
        snprintf(out, cap, "%.1f MiB", (double)n / (1024 * 1024));
}

void att_print_lines(const att_list *l, const char *msg_id)
{
    for (size_t i = 0; i < l->p.n_attachments; i++) {
        const sotto_attachment_pointer *a = &l->p.attachments[i];
        char name[SOTTO_ATTACHMENT_NAME_MAX + 1], safe[4 * SOTTO_ATTACHMENT_NAME_MAX + 8];
        char type[SOTTO_ATTACHMENT_TYPE_MAX + 1], stype[4 * SOTTO_ATTACHMENT_TYPE_MAX + 8];
        char size[32], sid[64];
        memcpy(name, a->name, a->name_len);
        name[a->name_len] = '\0';
        memcpy(type, a->type, a->type_len);
        type[a->type_len] = '\0';
        human_size(a->size, size, sizeof size);
        printf("  file %zu: %s (%s, %s)  get it: sotto get-file USER %s %zu\n", i + 1,
               term_safe(safe, sizeof safe, name), size, term_safe(stype, sizeof stype, type),
               term_safe(sid, sizeof sid, msg_id), i + 1);
    }
}

void att_print_for(ls_store *st, const char *msg_id, uint64_t deleted_at_ms)
{
    att_list l;

    if (deleted_at_ms == 0 && att_load(st, msg_id, &l) == 0) {
        att_print_lines(&l, msg_id);
        att_list_clear(&l);
    }
}

void att_json_for(ls_store *st, const char *msg_id, uint64_t deleted_at_ms, json_t *j)
{
    att_list l;

    if (deleted_at_ms == 0 && att_load(st, msg_id, &l) == 0) {
        json_object_set_new(j, "files", att_summary_json(&l));
        att_list_clear(&l);
    }
}
