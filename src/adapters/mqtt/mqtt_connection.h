// How sie connects to an MQTT broker: the config keys every MQTT source and sink shares, and
// their parsed form.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include "sie/config.h"
#include "sie/result.h"

namespace sie::mqtt {

struct Connection {
  std::string host = "127.0.0.1";
  int port = 1883;
  int protocol = 5;  // 4 = MQTT 3.1.1, 5 = MQTT 5
  std::string client_id;
  std::string username;
  std::string password;
  std::string ca_file;    // TLS when set
  std::string cert_file;  // client certificate (with key_file)
  std::string key_file;
  bool tls_insecure = false;  // skip the server host name check (never the chain check)
  std::chrono::seconds keepalive{30};
  bool clean_session = true;
  std::chrono::seconds session_expiry{86400};  // MQTT 5 persistent sessions
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{30000};
  int max_inflight = 100;  // QoS 1 messages unacknowledged at once, each way
};

// The shared keys; a plugin's table is these plus its own.
std::span<const ConfigKey> connectionKeys();
// `default_client_id` is used when clientId is not set.
Result<Connection> readConnection(const ConfigValues& config, const std::string& default_client_id);

}  // namespace sie::mqtt
