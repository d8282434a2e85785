#include "adapters/mqtt/mqtt_connection.h"

#include <filesystem>

#include <fmt/format.h>

#include "adapters/mqtt/tls_context.h"
#include "core/secret_file.h"

namespace sie::mqtt {
namespace {

using Type = ConfigKey::Type;

const ConfigKey kKeys[] = {
    {"host", Type::kString, "127.0.0.1", "broker host name or address"},
    ConfigKey{"port", Type::kInt, "0", "broker port; 0 = 1883, or 8883 with TLS"}.within(0, 65535),
    ConfigKey{"protocol", Type::kString, "5", "MQTT protocol version (311 = 3.1.1)"}.oneOf(
        "5|3.1.1|311"),
    {"clientId", Type::kString, "",
     "client id; default sie-<name>; keep it stable for persistent sessions"},
    {"username", Type::kString, "", "user name"},
    {"password", Type::kString, "", "password (prefer passwordFile)"},
    {"passwordFile", Type::kString, "", "file whose first line is the password"},
    {"caFile", Type::kString, "", "CA certificate (PEM); setting it turns TLS on"},
    {"certFile", Type::kString, "", "client certificate (PEM), for brokers that require one"},
    {"keyFile", Type::kString, "", "client private key (PEM)"},
    {"tlsInsecure", Type::kBool, "false", "skip the server host name check (test setups only)"},
    ConfigKey{"keepAlive", Type::kDuration, "30s", "MQTT keep-alive interval"}.withinTime(
        std::chrono::seconds(5), std::chrono::seconds(65535)),
    {"cleanSession", Type::kBool, "true",
     "false: the broker keeps the session (subscriptions, unacknowledged QoS 1 messages) across "
     "reconnects and restarts"},
    {"sessionExpiry", Type::kDuration, "24h",
     "MQTT 5: how long the broker keeps a persistent session"},
    ConfigKey{"reconnectMin", Type::kDuration, "100ms",
              "first reconnect delay (doubles, with jitter; at most reconnectMax)"}
        .withinTime(std::chrono::milliseconds(1)),
    {"reconnectMax", Type::kDuration, "30s", "longest reconnect delay"},
    ConfigKey{"maxInflight", Type::kInt, "100",
              "QoS 1 messages unacknowledged at once, each way (a source recognises a broker's "
              "redeliveries among its last 4096 accepted messages, or this many if more)"}
        .within(1, 65535),
};

}  // namespace

std::span<const ConfigKey> connectionKeys() { return kKeys; }

Result<Connection> readConnection(const ConfigValues& config,
                                  const std::string& default_client_id) {
  Connection c;
  c.host = config.str("host");
  if (c.host.empty()) return config.invalid("host must not be empty");
  const std::string protocol = config.str("protocol");
  if (protocol == "5")
    c.protocol = 5;
  else
    c.protocol = 4;  // 3.1.1
  c.client_id = config.str("clientId");
  if (c.client_id.empty()) c.client_id = default_client_id;
  if (c.client_id.size() > 65535) return config.invalid("clientId is too long");
  c.username = config.str("username");
  c.password = config.str("password");
  if (const std::string file = config.str("passwordFile"); !file.empty()) {
    if (!c.password.empty()) return config.invalid("set password or passwordFile, not both");
    c.password = SIE_TRY(readSecretFile(file, "passwordFile", config.where()));
  }
  if (!c.password.empty() && c.username.empty())
    return config.invalid("a password needs a username");
  c.ca_file = config.str("caFile");
  c.cert_file = config.str("certFile");
  c.key_file = config.str("keyFile");
  if (c.cert_file.empty() != c.key_file.empty())
    return config.invalid("set certFile and keyFile together");
  if (!c.cert_file.empty() && c.ca_file.empty())
    return config.invalid("a client certificate needs caFile (TLS)");
  for (const auto& [key, path] :
       {std::pair{"caFile", &c.ca_file}, std::pair{"certFile", &c.cert_file},
        std::pair{"keyFile", &c.key_file}}) {
    std::error_code ec;
    if (!path->empty() && !std::filesystem::is_regular_file(*path, ec)) {
      return config.invalid(fmt::format("{} '{}' is not a readable file", key, *path));
    }
  }
  c.tls_insecure = config.flag("tlsInsecure");
  // Loaded now so that a file that is not PEM, or a key that does not match, fails at config load.
  if (!c.ca_file.empty()) {
    if (auto tls = makeTlsContext(c); !tls) return config.invalid(tls.error().message);
  }
  const std::int64_t port = config.integer("port");
  c.port = port != 0 ? static_cast<int>(port) : (c.ca_file.empty() ? 1883 : 8883);
  c.keepalive = std::chrono::duration_cast<std::chrono::seconds>(config.duration("keepAlive"));
  c.clean_session = config.flag("cleanSession");
  c.session_expiry =
      std::chrono::duration_cast<std::chrono::seconds>(config.duration("sessionExpiry"));
  c.reconnect_min =
      std::chrono::duration_cast<std::chrono::milliseconds>(config.duration("reconnectMin"));
  c.reconnect_max =
      std::chrono::duration_cast<std::chrono::milliseconds>(config.duration("reconnectMax"));
  if (c.reconnect_max < c.reconnect_min) {
    return config.invalid("reconnectMin must be at most reconnectMax");
  }
  c.max_inflight = static_cast<int>(config.integer("maxInflight"));
  return c;
}

}  // namespace sie::mqtt
