// Node: one edge node assembled from a site — state, gateway, dispatcher, functions, sources and
// the HTTP listener — with a graceful start/stop order:
//   start: state → functions (warm) → dispatcher → HTTP → sinks → sources
//   stop:  sources → dispatcher drain → sinks → audit "stopped" → state sync/close → HTTP
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "adapters/http_ingest/idempotency.h"
#include "config/site_config.h"
#include "control/control_api.h"
#include "control/control_plane.h"
#include "gateway/gateway.h"
#include "gateway/router.h"
#include "http/http_server.h"
#include "privacy/private_bus.h"
#include "runtime/actions.h"
#include "runtime/dispatcher.h"
#include "runtime/function_table.h"
#include "runtime/local_bus.h"
#include "runtime/scaler.h"
#include "security/certificate_renewal.h"
#include "security/request_guard.h"
#include "security/tokens.h"
#include "sie/clock.h"
#include "sie/plugins.h"
#include "sie/sink.h"
#include "sie/source.h"
#include "sie/state.h"

namespace sie::node {

using http::HttpRequest;
using http::HttpResponse;
using http::HttpServer;

// Totals since start, for the live summary and /api/v1/status.
struct NodeStats {
  std::uint64_t events = 0;    // readings accepted by the gateway
  std::uint64_t rejected = 0;  // readings rejected by the gateway
  std::uint64_t decisions = 0;
  std::uint64_t anomalies = 0;
  std::uint64_t function_errors = 0;
  std::int64_t dead_letters = 0;
  std::size_t queued = 0;
  double uptime_s = 0;
};

class Node {
 public:
  static Result<std::unique_ptr<Node>> create(SiteConfig site, const Plugins& plugins,
                                              const Clock& clock = systemClock());
  ~Node();

  Status start();
  // Idempotent; drains the queues and makes the state durable.
  void stop();

  [[nodiscard]] NodeStats stats() const;
  [[nodiscard]] const SiteConfig& site() const { return site_; }
  [[nodiscard]] std::uint16_t httpPort() const { return http_ ? http_->port() : 0; }
  [[nodiscard]] Bus& bus() { return bus_; }
  [[nodiscard]] Ingest& ingest() { return *gateway_; }
  [[nodiscard]] StateStore& state() { return *state_; }
  [[nodiscard]] ControlPlane& control() { return *control_; }
  [[nodiscard]] const ControlApi& api() const { return *api_; }
  HttpResponse handleHttp(const HttpRequest& request);

 private:
  explicit Node(SiteConfig site, const Clock& clock) : site_(std::move(site)), clock_(clock) {}
  Status loadFunctions(const Plugins& plugins);
  Status loadSources(const Plugins& plugins);
  // The guard in front of the listener; refuses a listener the site may not have.
  Status guardListener();
  // The guard, then what the node itself refuses before a body is read (an upload past the
  // artifact quota).
  std::optional<HttpResponse> admit(HttpRequest& request);
  std::string statusJson() const;
  // The node's own routes, added to the control API's table: one table for the listener.
  void addRoutes();
  HttpResponse deadLetters(const HttpRequest& request) const;
  HttpResponse auditTail(const HttpRequest& request) const;

  SiteConfig site_;
  const Clock& clock_;
  std::unique_ptr<StateStore> state_;
  LocalBus bus_;
  std::unique_ptr<Actions> actions_;
  std::unique_ptr<Dispatcher> dispatcher_;
  gateway::Router router_;
  std::unique_ptr<gateway::Gateway> gateway_;
  std::unique_ptr<IdempotencyKeys> ingest_keys_;  // POST /api/v1/events
  std::unique_ptr<FunctionTable> functions_;
  std::unique_ptr<ControlPlane> control_;
  std::unique_ptr<ControlApi> api_;
  std::unique_ptr<Scaler> scaler_;
  std::vector<std::unique_ptr<Source>> sources_;
  // The bus each sink sees: its privacy rules between it and the node's bus (same order as
  // sinks_). Declared before sinks_, so the sinks, which subscribed through them, go first.
  std::vector<std::unique_ptr<privacy::PrivateBus>> sink_buses_;
  std::vector<std::unique_ptr<Sink>> sinks_;
  std::unique_ptr<security::TokenStore> tokens_;
  std::unique_ptr<security::RequestGuard> guard_;
  std::unique_ptr<CertificateRenewal> renewal_;
  std::unique_ptr<HttpServer> http_;
  std::int64_t started_ns_ = 0;
  std::atomic<bool> running_{false};
  std::atomic<bool> stopped_{false};
};

}  // namespace sie::node
