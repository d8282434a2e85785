// The token routes of the control API (admin only, security/access.h):
//   GET    /api/v1/tokens        every token: id, identity, role, expiry, revoked (no secrets)
//   POST   /api/v1/tokens        {"identity": NAME, "role": ROLE, "ttl": "8h", "sensors":
//                                "plant/pump-7/#"} -> 201 and the token's text, shown this once
//                                ("ttl": "0" never expires; "sensors": all it may ingest for)
//   DELETE /api/v1/tokens/{id}   revokes it; its callers get 401 from the next call on
#pragma once

#include "http/routes.h"

namespace sie::security {
class TokenStore;
}

namespace sie::node {

class ControlPlane;

void addTokenRoutes(http::Routes& routes, security::TokenStore& tokens, ControlPlane& plane);

}  // namespace sie::node
