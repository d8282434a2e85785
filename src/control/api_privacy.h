// Reads through the API by callers that are not admins pass the site's API privacy rules
// (spec.privacy.api): decisions, sensor readings, audit records of decisions. Dead-letter
// payloads are raw bytes the rules cannot read, so such callers see them withheld. Admins (and
// an insecure loopback-only node's local caller) see what the node holds.
#pragma once

#include "http/http_server.h"
#include "privacy/rule_set.h"

namespace sie::node {

// Rewrites a successful answer to `request` in place when its caller is not an admin.
void applyApiPrivacy(const http::HttpRequest& request, http::HttpResponse& response,
                     const privacy::RuleSet& rules);

}  // namespace sie::node
