// HTTP ingest: POST /api/v1/events takes readings as
//   structured CloudEvents   Content-Type: application/cloudevents+json (one event)
//   batched CloudEvents      Content-Type: application/cloudevents-batch+json (an array)
//   binary CloudEvents       ce-specversion, ce-id, ce-source, ce-type (ce-subject, ce-time)
//                            headers; the body is the telemetry object (JSON)
//   plain telemetry          application/json (an object or an array), application/cbor, or
//                            text/plain (one number; ?sensor= names the sensor)
// It answers 202 once every accepted reading is durable, with what was accepted and what was
// dead-lettered and why; 400 when nothing was accepted; 503 (Retry-After) when the node cannot
// take readings now. Bodies over 1 MiB get 413 from the server. A request sent again with the
// same Idempotency-Key (or the same single CloudEvent) is answered as the first time and records
// nothing (idempotency.h).
#pragma once

#include "adapters/http_ingest/idempotency.h"
#include "gateway/gateway.h"
#include "http/http_server.h"
#include "sie/clock.h"

namespace sie::node {

using http::HttpRequest;
using http::HttpResponse;
using http::HttpServer;

HttpResponse ingestHttp(const HttpRequest& request, gateway::Gateway& gateway, const Clock& clock,
                        IdempotencyKeys& keys);

}  // namespace sie::node
