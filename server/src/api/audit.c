/* The audit log of account actions (api.h): one store row and one log line per action. */
#include "api/api.h"
#include "base/log.h"
#include "store/audit.h"

void api_audit(struct store *s, struct job *j, const char *user_id, const char *device_id,
               const char *action, bool success, const char *detail)
{
    struct store_audit row = {.user_id = user_id,
                              .device_id = device_id,
                              .action = action,
                              .success = success,
                              .ip = j->ip,
                              .user_agent = j->ua[0] ? j->ua : NULL,
                              .detail = detail};
    enum store_err rc = store_audit_add(s, &row, j->now);

    if (rc != STORE_OK)
        log_warn("audit.fail", "rid=%s action=%s err=%s", j->rid, action, store_strerror(rc));
    log_info("audit", "rid=%s action=%s success=%d user=%s device=%s", j->rid, action, success,
             user_id ? user_id : "-", device_id ? device_id : "-");
}
