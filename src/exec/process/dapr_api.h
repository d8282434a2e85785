// The Dapr-compatible state and publish API a process function's workers can call
// (spec.process.dapr): one loopback endpoint per function, announced to its workers as
// DAPR_HTTP_PORT, so existing Dapr SDKs and clients work unchanged. Backed by the node's state
// layer and bus, so the function itself stays stateless.
//
//   GET    /v1.0/state/{store}/{key}     200 with the stored JSON value, 204 when absent
//   POST   /v1.0/state/{store}           [{"key", "value", "metadata": {"ttlInSeconds"}}] -> 204
//   POST   /v1.0/state/{store}/bulk      {"keys": [...]} -> [{"key", "data"}]
//   DELETE /v1.0/state/{store}/{key}     204
//   POST   /v1.0/publish/{pubsub}/{topic}  the body becomes the data of an event on the bus topic
//   GET    /v1.0/healthz, /v1.0/healthz/outbound  204
//
// Keys are kept as dapr/<store>/<function>||<key>, Dapr's default app-id prefix: functions do
// not see each other's state. Errors are Dapr's {"errorCode", "message"}.
#pragma once

#include <memory>
#include <string>

#include "http/http_server.h"
#include "sie/bus.h"
#include "sie/clock.h"
#include "sie/state.h"

namespace sie::node {

class DaprApi {
 public:
  static Result<std::unique_ptr<DaprApi>> start(std::string function, KvStore& kv, Bus& bus,
                                                const Clock& clock);
  ~DaprApi();
  [[nodiscard]] std::uint16_t port() const { return server_->port(); }

 private:
  DaprApi(std::string function, KvStore& kv, Bus& bus, const Clock& clock)
      : function_(std::move(function)), kv_(kv), bus_(bus), clock_(clock) {}
  http::HttpResponse handle(const http::HttpRequest& request);
  http::HttpResponse saveState(const std::string& store, const std::string& body);
  http::HttpResponse bulkGet(const std::string& store, const std::string& body);
  http::HttpResponse publish(const std::string& pubsub, const std::string& topic,
                             const http::HttpRequest& request);
  [[nodiscard]] std::string key(const std::string& store, const std::string& key) const;

  std::string function_;
  KvStore& kv_;
  Bus& bus_;
  const Clock& clock_;
  std::unique_ptr<http::HttpServer> server_;
};

}  // namespace sie::node
