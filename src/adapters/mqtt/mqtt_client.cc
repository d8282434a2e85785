#include "adapters/mqtt/mqtt_client.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <mutex>

#include <fmt/format.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "adapters/mqtt/tls_context.h"

namespace sie::mqtt {
namespace {

constexpr std::size_t kMaxBatch = 1024;  // messages read before their acks are written

void initLibrary() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

Status mosqStatus(int rc, std::string_view what) {
  if (rc == MOSQ_ERR_SUCCESS) return ok();
  const char* why = rc == MOSQ_ERR_ERRNO ? std::strerror(errno) : mosquitto_strerror(rc);
  return fail(Errc::kIo, fmt::format("{}: {}", what, why));
}

}  // namespace

Client::Client(std::string name, Log log, Connection connection, Handlers handlers)
    : name_(std::move(name)),
      log_(std::move(log)),
      connection_(std::move(connection)),
      handlers_(std::move(handlers)),
      backoff_(connection_.reconnect_min, connection_.reconnect_max),
      connects_(metrics().counter("sie_mqtt_connects_total", "Successful MQTT connections",
                                  {{"client", name_}})),
      connection_losses_(metrics().counter("sie_mqtt_connection_losses_total",
                                           "MQTT connections lost or refused",
                                           {{"client", name_}})),
      up_(metrics().gauge("sie_mqtt_connected", "1 while the MQTT client is connected",
                          {{"client", name_}})) {}

Client::~Client() {
  stop();
  if (mosq_) mosquitto_destroy(mosq_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Status Client::start() {
  initLibrary();
  mosq_ = mosquitto_new(connection_.client_id.c_str(), connection_.clean_session, this);
  if (!mosq_) return fail(Errc::kInternal, fmt::format("mqtt {}: cannot create a client", name_));
  const auto check = [&](int rc, std::string_view what) {
    return mosqStatus(rc, fmt::format("mqtt {}: {}", name_, what));
  };
  // Threaded: acknowledgements are queued while reading and written by run() after after_read.
  SIE_CHECK(check(mosquitto_threaded_set(mosq_, true), "threaded mode"));
  SIE_CHECK(
      check(mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION,
                                 connection_.protocol == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311),
            "protocol version"));
  // Without TCP_NODELAY every QoS 1 round trip waits on Nagle and delayed ACKs (~40-90 ms).
  SIE_CHECK(check(mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1), "TCP_NODELAY"));
  SIE_CHECK(check(mosquitto_int_option(mosq_, MOSQ_OPT_SEND_MAXIMUM, connection_.max_inflight),
                  "send maximum"));
  SIE_CHECK(check(mosquitto_int_option(mosq_, MOSQ_OPT_RECEIVE_MAXIMUM, connection_.max_inflight),
                  "receive maximum"));
  if (!connection_.username.empty()) {
    SIE_CHECK(check(mosquitto_username_pw_set(
                        mosq_, connection_.username.c_str(),
                        connection_.password.empty() ? nullptr : connection_.password.c_str()),
                    "username"));
  }
  if (!connection_.ca_file.empty()) {
    auto tls = makeTlsContext(connection_);
    if (!tls) return fail(tls.error().code, fmt::format("mqtt {}: {}", name_, tls.error().message));
    // libmosquitto takes its own reference, and must not apply its defaults over ours.
    SIE_CHECK(check(mosquitto_void_option(mosq_, MOSQ_OPT_SSL_CTX, tls->get()), "TLS context"));
    SIE_CHECK(check(mosquitto_int_option(mosq_, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0), "TLS context"));
  }
  mosquitto_connect_callback_set(mosq_, &Client::onConnect);
  mosquitto_disconnect_callback_set(mosq_, &Client::onDisconnect);
  mosquitto_message_callback_set(mosq_, &Client::onMessage);
  mosquitto_publish_callback_set(mosq_, &Client::onPublish);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return fail(Errc::kInternal, fmt::format("mqtt {}: eventfd failed", name_));
  started_ = true;
  thread_ = std::thread([this] { run(); });
  return ok();
}

void Client::stop() {
  if (!started_ || stopping_.exchange(true)) return;
  wake();
  if (thread_.joinable()) thread_.join();
}

Result<int> Client::publish(const std::string& topic, std::string_view payload, int qos,
                            bool retain) {
  int mid = 0;
  int rc = mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()),
                             payload.data(), qos, retain);
  if (rc == MOSQ_ERR_NO_CONN && qos > 0) rc = MOSQ_ERR_SUCCESS;  // kept; sent on reconnect
  if (rc != MOSQ_ERR_SUCCESS) {
    return fail(rc == MOSQ_ERR_NO_CONN ? Errc::kIo : Errc::kInvalidArgument,
                fmt::format("mqtt {}: publish to '{}' failed: {}", name_, topic,
                            rc == MOSQ_ERR_ERRNO ? std::strerror(errno) : mosquitto_strerror(rc)));
  }
  wake();
  return mid;
}

Status Client::setWill(const std::string& topic, std::string_view payload, int qos, bool retain) {
  return mosqStatus(mosquitto_will_set(mosq_, topic.c_str(), static_cast<int>(payload.size()),
                                       payload.data(), qos, retain),
                    fmt::format("mqtt {}: will on '{}'", name_, topic));
}

Status Client::subscribe(const std::string& filter, int qos) {
  return mosqStatus(mosquitto_subscribe(mosq_, nullptr, filter.c_str(), qos),
                    fmt::format("mqtt {}: subscribe to '{}'", name_, filter));
}

void Client::dropConnection() {
  drop_requested_ = true;
  const int sock = mosquitto_socket(mosq_);
  if (sock >= 0) ::shutdown(sock, SHUT_RDWR);
}

void Client::wake() const {
  if (wake_fd_ < 0) return;
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
}

void Client::onConnect(mosquitto* /*m*/, void* self, int rc) {
  auto* client = static_cast<Client*>(self);
  if (rc != 0) {
    client->log_.warn("broker refused the connection: {}", client->connection_.protocol == 5
                                                               ? mosquitto_reason_string(rc)
                                                               : mosquitto_connack_string(rc));
    client->dropConnection();
    return;
  }
  client->backoff_.reset();
  client->drop_requested_ = false;
  client->connected_.store(true, std::memory_order_release);
  client->connects_.inc();
  client->up_.set(1);
  client->log_.info("connected to {}:{}", client->connection_.host, client->connection_.port);
  if (client->handlers_.connected) client->handlers_.connected();
}

void Client::onDisconnect(mosquitto* /*m*/, void* self, int /*rc*/) {
  auto* client = static_cast<Client*>(self);
  client->connected_.store(false, std::memory_order_release);
  client->up_.set(0);
}

void Client::onMessage(mosquitto* /*m*/, void* self, const mosquitto_message* message) {
  auto* client = static_cast<Client*>(self);
  ++client->batch_messages_;
  if (client->handlers_.message) client->handlers_.message(*message);
}

void Client::onPublish(mosquitto* /*m*/, void* self, int mid) {
  auto* client = static_cast<Client*>(self);
  if (mid == client->awaited_mid_) client->awaited_done_ = true;
  if (client->handlers_.published) client->handlers_.published(mid);
}

bool Client::connectOnce() {
  int rc = MOSQ_ERR_SUCCESS;
  const int keepalive = static_cast<int>(connection_.keepalive.count());
  if (connection_.protocol == 5 && !connection_.clean_session) {
    mosquitto_property* props = nullptr;
    mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
                                 static_cast<std::uint32_t>(connection_.session_expiry.count()));
    rc = mosquitto_connect_bind_v5(mosq_, connection_.host.c_str(), connection_.port, keepalive,
                                   nullptr, props);
    mosquitto_property_free_all(&props);
  } else {
    rc = mosquitto_connect(mosq_, connection_.host.c_str(), connection_.port, keepalive);
  }
  if (rc == MOSQ_ERR_SUCCESS) return true;
  connection_losses_.inc();
  if (backoff_.attempts() % 20 == 0) {
    log_.warn("cannot connect to {}:{}: {} (retrying with backoff)", connection_.host,
              connection_.port,
              rc == MOSQ_ERR_ERRNO ? std::strerror(errno) : mosquitto_strerror(rc));
  }
  return false;
}

void Client::waitBackoff() {
  pollfd wake{wake_fd_, POLLIN, 0};
  ::poll(&wake, 1, static_cast<int>(backoff_.next().count()));
}

int Client::readBatch() {
  batch_messages_ = 0;
  int rc = MOSQ_ERR_SUCCESS;
  std::size_t before = 0;
  do {
    before = batch_messages_;
    rc = mosquitto_loop_read(mosq_, 1);
  } while (rc == MOSQ_ERR_SUCCESS && batch_messages_ > before && batch_messages_ < kMaxBatch);
  if (batch_messages_ > 0 && handlers_.after_read) handlers_.after_read();
  return rc;
}

void Client::lost(int rc) {
  const bool was = connected_.exchange(false);
  up_.set(0);
  connection_losses_.inc();
  if (was && !stopping_) {
    log_.warn("connection lost: {} (reconnecting)",
              rc == MOSQ_ERR_ERRNO ? std::strerror(errno) : mosquitto_strerror(rc));
  }
  if (mosquitto_socket(mosq_) >= 0) mosquitto_disconnect(mosq_);
}

void Client::run() {
  while (!stopping_) {
    const int sock = mosquitto_socket(mosq_);
    if (sock < 0) {
      if (handlers_.before_connect) handlers_.before_connect();
      if (!connectOnce()) waitBackoff();
      continue;
    }
    pollfd fds[2] = {
        {sock, static_cast<short>(POLLIN | (mosquitto_want_write(mosq_) ? POLLOUT : 0)), 0},
        {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, 1000) < 0 && errno != EINTR) break;
    if (fds[1].revents & POLLIN) {
      std::uint64_t drained = 0;
      [[maybe_unused]] const auto n = ::read(wake_fd_, &drained, sizeof drained);
    }
    int rc = MOSQ_ERR_SUCCESS;
    if (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) rc = readBatch();
    if (rc == MOSQ_ERR_SUCCESS && mosquitto_want_write(mosq_)) rc = mosquitto_loop_write(mosq_, 1);
    if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_loop_misc(mosq_);
    if (rc != MOSQ_ERR_SUCCESS) {
      lost(rc);
      waitBackoff();
    } else if (connected_ && handlers_.tick) {
      handlers_.tick();
    }
  }
  if (mosquitto_socket(mosq_) >= 0) {
    const bool was_connected = connected_;
    if (was_connected) farewell();
    const int rc = mosquitto_disconnect(mosq_);
    const int wrote = mosquitto_loop_write(mosq_, 1);
    // What was queued, acknowledgements first, went out ahead of DISCONNECT, on a connection
    // nobody asked to drop.
    left_cleanly_ = was_connected && !drop_requested_ && rc == MOSQ_ERR_SUCCESS &&
                    wrote == MOSQ_ERR_SUCCESS && !mosquitto_want_write(mosq_);
  }
  connected_ = false;
  up_.set(0);
}

void Client::farewell() {
  if (!handlers_.before_disconnect) return;
  const std::optional<int> mid = handlers_.before_disconnect();
  if (!mid) return;
  awaited_mid_ = *mid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (!awaited_done_ && std::chrono::steady_clock::now() < deadline) {
    const int sock = mosquitto_socket(mosq_);
    if (sock < 0) return;
    pollfd fd{sock, static_cast<short>(POLLIN | (mosquitto_want_write(mosq_) ? POLLOUT : 0)), 0};
    if (::poll(&fd, 1, 50) < 0 && errno != EINTR) return;
    int rc = MOSQ_ERR_SUCCESS;
    // Messages read meanwhile are made durable before their acknowledgements go, as in run().
    if (fd.revents & (POLLIN | POLLERR | POLLHUP)) rc = readBatch();
    if (rc == MOSQ_ERR_SUCCESS && mosquitto_want_write(mosq_)) rc = mosquitto_loop_write(mosq_, 1);
    if (rc != MOSQ_ERR_SUCCESS) return;
  }
}

}  // namespace sie::mqtt
