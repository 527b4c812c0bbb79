/* receipts.c: outgoing message statuses caught up from the REST history (see receipts.h). */
#include "receipts.h"

#include <stdio.h>
#include <string.h>

#include "localstore.h"
#include "util.h"

typedef struct catch_up {
    client *c;
    int failed;
} catch_up;

/* Applies one page: the newest message the peer has read moves the read cursor, and every
 * delivered one is raised on its own. Sets *oldest to the page's oldest id. */
static int apply_page(catch_up *k, const char *conv, const json_t *messages, char *oldest)
{
    const char *read_upto = NULL;
    size_t i;
    json_t *m;

    json_array_foreach(messages, i, m) {
        const char *id = json_string_value(json_object_get(m, "id"));
        const char *sender = json_string_value(json_object_get(m, "senderId"));
        const char *status = json_string_value(json_object_get(m, "status"));
        uint8_t raw[16];

        if (id == NULL || uuid_parse(id, raw) != 0 || sender == NULL || status == NULL)
            return -1;
        str_copy(oldest, UUID_STRLEN + 1, id);
        if (strcmp(sender, k->c->pr.user_id) != 0)
            continue;
        if (!strcmp(status, "read") && (read_upto == NULL || strcmp(id, read_upto) > 0))
            read_upto = id;
        else if (!strcmp(status, "delivered") &&
                 ls_message_status(k->c->st, id, LS_MSG_DELIVERED) != 0)
            return -1;
    }
    return read_upto != NULL ? ls_message_read_upto(k->c->st, conv, read_upto) : 0;
}

/* Pages back through one conversation until its oldest unsettled message is covered. */
static int conversation(void *ctx, const char *conv, const char *oldest_unsettled)
{
    catch_up *k = ctx;
    char path[160], before[UUID_STRLEN + 1] = "";
    uint8_t raw[16];

    if (uuid_parse(conv, raw) != 0)
        return 0; /* not a server id: nothing to ask */
    for (int page = 0; page < RECEIPTS_MAX_PAGES; page++) {
        http_resp r;
        json_t *messages;
        int more;

        snprintf(path, sizeof path, "/api/conversations/%s/messages?limit=100%s%s", conv,
                 before[0] ? "&before=" : "", before);
        if (client_api(k->c, "GET", path, NULL, &r) != 0) {
            k->failed = 1;
            return 1; /* the server is gone: stop asking */
        }
        messages = json_object_get(r.body, "messages");
        more = json_is_true(json_object_get(r.body, "hasMore"));
        if (r.status != 200 || !json_is_array(messages) ||
            apply_page(k, conv, messages, before) != 0) {
            http_resp_clear(&r);
            k->failed = 1;
            return 0; /* left as it was; the next conversation may still answer */
        }
        http_resp_clear(&r);
        if (!more || !before[0] || strcmp(before, oldest_unsettled) <= 0)
            break;
    }
    return 0;
}

void receipts_catch_up(client *c)
{
    catch_up k = {c, 0};

    if (ls_unsettled_each(c->st, conversation, &k) != 0 || k.failed)
        fprintf(stderr, "sotto: could not bring every message status up to date\n");
}
