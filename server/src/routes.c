/* Every route of sottod, in one list (routes.h). */
#include "routes.h"

#include "accounts/accounts.h"
#include "keys/keys.h"
#include "messaging/realtime.h"
#include "net/health.h"
#include "net/metrics.h"
#include "net/testroutes.h"

int routes_register(struct server *srv, struct health *health, struct auth_state *auth,
                    struct keys *keys)
{
    if (health_routes(health) || metrics_routes(srv) || testroutes_register(srv))
        return -1;
    if (auth_routes(srv, auth) || keys_routes(srv, keys) || realtime_routes(srv))
        return -1;
    return 0;
}
