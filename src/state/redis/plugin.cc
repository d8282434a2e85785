#include "state/redis/plugin.h"

#include "core/secret_file.h"
#include "state/redis/store.h"

namespace sie::state::redis {
namespace {

using Type = ConfigKey::Type;

const ConfigKey kKeys[] = {
    {"host", Type::kString, "127.0.0.1", "Redis host name or address"},
    ConfigKey{"port", Type::kInt, "6379", "Redis port"}.within(1, 65535),
    ConfigKey{"db", Type::kInt, "0", "database number"}.within(0, 1 << 20),
    {"username", Type::kString, "", "ACL user (Redis 6+); empty = default user"},
    {"passwordFile", Type::kString, "", "file whose first line is the password"},
    {"prefix", Type::kString, "",
     "key prefix; default sie:<site name>. Nodes sharing state use the same prefix"},
    ConfigKey{"timeout", Type::kDuration, "1s",
              "connect and reply timeout; slower counts as an outage"}
        .withinTime(std::chrono::milliseconds(1)),
    ConfigKey{"maxReadings", Type::kInt, "100000",
              "readings kept per sensor stream (approximate trim)"}
        .within(1, 1e12),
    ConfigKey{"maxPending", Type::kInt, "1048576",
              "writes queued for Redis beyond which new readings are refused (overload)"}
        .within(1, 1e12),
    ConfigKey{"reconnectMax", Type::kDuration, "2s", "longest delay between reconnect attempts"}
        .withinTime(std::chrono::milliseconds(1)),
};

Result<RedisOptions> readOptions(const StateOptions& state, const ConfigValues& config) {
  RedisOptions o;
  o.endpoint.host = config.str("host");
  if (o.endpoint.host.empty()) return config.invalid("state.redis.host must not be empty");
  o.endpoint.port = static_cast<int>(config.integer("port"));
  o.endpoint.db = static_cast<int>(config.integer("db"));
  o.endpoint.username = config.str("username");
  if (const std::string file = config.str("passwordFile"); !file.empty()) {
    o.endpoint.password = SIE_TRY(readSecretFile(file, "passwordFile", config.where()));
  }
  o.endpoint.timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(config.duration("timeout"));
  o.reconnect_max =
      std::chrono::duration_cast<std::chrono::milliseconds>(config.duration("reconnectMax"));
  o.prefix = config.str("prefix");
  if (o.prefix.empty()) o.prefix = "sie:" + state.site;
  o.max_readings = static_cast<std::size_t>(config.integer("maxReadings"));
  o.max_pending = static_cast<std::size_t>(config.integer("maxPending"));
  o.data_dir = state.data_dir;
  o.memory_window = state.memory_window;
  o.batch_interval = state.batch_interval;
  o.clock = state.clock;
  o.audit_seal = state.audit_seal;
  return o;
}

}  // namespace

Status registerPlugin(Plugins& plugins) {
  return plugins.states.add(
      "redis",
      StatePlugin{"Redis (hiredis): shared time series, KV and dead letters; local spool while "
                  "Redis is down",
                  {std::begin(kKeys), std::end(kKeys)},
                  [](const StateOptions& state,
                     const ConfigValues& config) -> Result<std::unique_ptr<StateStore>> {
                    auto options = SIE_TRY(readOptions(state, config));
                    return openRedis(options);
                  }});
}

}  // namespace sie::state::redis
