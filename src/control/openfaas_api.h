// The OpenFaaS gateway's routes, beside sie's own API, so OpenFaaS tooling and conventions work
// against a node:
//   GET/POST/PUT/DELETE /system/functions   list, deploy, update, delete (FunctionDeployment JSON)
//   GET  /system/function/{name}            one function
//   POST /system/scale-function/{name}      {"replicas": N}
//   POST /function/{name}                   sync invoke: the body is a reading
//   POST /async-function/{name}             202, X-Call-Id; X-Callback-Url gets the result
//   GET  /system/info                       provider and version
// A FunctionDeployment maps onto a manifest: service -> metadata.name; image -> spec.handler
// ("builtin:NAME" runs a builtin, anything else is an executable for the process runtime, or
// set annotation sie.io/runtime); annotation "topic" (comma-separated, the OpenFaaS connectors'
// convention) -> spec.triggers; envVars -> spec.process.env; labels com.openfaas.scale.min/max ->
// spec.scaling; annotations sie.io/param.NAME -> spec.params.NAME; label or annotation
// sie.io/version -> metadata.version (default: a digest of the request, so resending the same
// deployment changes nothing).
#pragma once

#include "http/routes.h"

namespace sie::node {

class ControlApi;

void addOpenFaasRoutes(http::Routes& routes, const ControlApi& api);

}  // namespace sie::node
