/* Every route of sottod, in one list (routes.h). */
#include "routes.h"

#include "accounts/accounts.h"
#include "attachments/attachments.h"
#include "base/server.h"
#include "calls/calls.h"
#include "keys/keys.h"
#include "messaging/realtime.h"
#include "net/health.h"
#include "net/metrics.h"
#include "net/testroutes.h"

int routes_register(struct server *srv, struct health *health, struct auth_state *auth,
                    struct keys *keys)
{
    struct calls *calls;

    if (health_routes(health) || metrics_routes(srv) || testroutes_register(srv))
        return -1;
    if (auth_routes(srv, auth) || keys_routes(srv, keys) || realtime_routes(srv))
        return -1;
    if (calls_routes(srv, &calls) || attachments_routes(srv))
        return -1;
    if (calls && srv->metrics) /* the network layer knows no domain: wired here */
        metrics_calls_source(srv->metrics, calls_metrics, calls);
    if (srv->attachments && srv->metrics)
        metrics_attachments_source(srv->metrics, attachments_metrics, srv);
    return 0;
}
