#include "adapters/sparkplug/sparkplug_source.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "sparkplug_b.pb.h"

namespace sie::sparkplug {

std::string rebirthCommand(std::int64_t now_ms) {
  org::eclipse::tahu::protobuf::Payload command;
  command.set_timestamp(static_cast<std::uint64_t>(now_ms));
  auto* metric = command.add_metrics();
  metric->set_name("Node Control/Rebirth");
  metric->set_timestamp(static_cast<std::uint64_t>(now_ms));
  metric->set_datatype(org::eclipse::tahu::protobuf::Boolean);
  metric->set_boolean_value(true);
  return command.SerializeAsString();
}

std::string statePayload(bool online, std::int64_t timestamp_ms) {
  return fmt::format(R"({{"online":{},"timestamp":{}}})", online, timestamp_ms);
}

SparkplugHandler::SparkplugHandler(std::string source, HandlerOptions options, const Clock& clock)
    : source_(std::move(source)),
      options_(std::move(options)),
      clock_(clock),
      sessions_(options_.node_sensor, options_.device_sensor),
      state_topic_(options_.host_id.empty() ? ""
                                            : fmt::format("spBv1.0/STATE/{}", options_.host_id)),
      frames_(metrics().counter("sie_sparkplug_frames_total", "Sparkplug B frames received",
                                {{"source", source_}})),
      errors_(metrics().counter("sie_sparkplug_errors_total",
                                "Sparkplug B frames or metrics refused (dead-lettered)",
                                {{"source", source_}})),
      rebirths_(metrics().counter("sie_sparkplug_rebirths_requested_total",
                                  "Rebirth commands sent to edge nodes", {{"source", source_}})),
      skipped_(metrics().counter("sie_sparkplug_metrics_skipped_total",
                                 "Metrics without a numeric value (text, bytes, nulls)",
                                 {{"source", source_}})) {}

Status SparkplugHandler::handle(std::string_view topic, std::string_view payload, Ingest& sink,
                                mqtt::Client& client) {
  frames_.inc();
  // spBv1.0/STATE/<host id>: a host application's presence, not an edge node's data.
  if (topic.starts_with("spBv1.0/STATE/")) {
    if (!state_topic_.empty() && topic == state_topic_) hostState(payload, client);
    return ok();
  }
  const RawMessage raw{topic, payload, "application/x-protobuf", source_};
  const auto parsed = parseTopic(topic);
  if (!parsed) {
    errors_.inc();
    return sink.reject(raw, fmt::format("'{}' is not a Sparkplug B topic "
                                        "(spBv1.0/<group>/<type>/<edge node>[/<device>])",
                                        topic));
  }
  Outcome out;
  sessions_.handle(*parsed, payload, clock_.nowNs(), out);
  skipped_.inc(out.skipped);
  Status result = ok();
  for (auto& reading : out.readings) {
    if (auto status = sink.ingest(std::move(reading), source_); !status && result) result = status;
  }
  for (const auto& error : out.errors) {
    errors_.inc();
    if (auto status = sink.reject(raw, error); !status && result) result = status;
  }
  if (out.rebirth && options_.rebirth) requestRebirth(*parsed, client);
  return result;
}

void SparkplugHandler::requestRebirth(const Topic& topic, mqtt::Client& client) {
  const std::string key = fmt::format("{}/{}", topic.group, topic.node);
  const std::int64_t now = clock_.nowNs();
  auto& last = last_rebirth_ns_[key];
  if (last != 0 && now - last < std::chrono::nanoseconds(options_.rebirth_interval).count()) return;
  last = now;
  const std::string command_topic = fmt::format("spBv1.0/{}/NCMD/{}", topic.group, topic.node);
  if (auto sent = client.publish(command_topic, rebirthCommand(now / 1'000'000), 0, false); !sent) {
    Log("source", source_).warn("cannot request a rebirth of {}: {}", key, sent.error().message);
    return;
  }
  rebirths_.inc();
  Log("source", source_).info("asked {} to rebirth", key);
}

Result<int> SparkplugHandler::publishState(mqtt::Client& client, bool online) {
  return client.publish(state_topic_, statePayload(online, state_ts_ms_), 1, true);
}

void SparkplugHandler::beforeConnect(mqtt::Client& client) {
  if (state_topic_.empty()) return;
  leaving_ = false;
  state_ts_ms_ = clock_.nowNs() / 1'000'000;
  if (auto will = client.setWill(state_topic_, statePayload(false, state_ts_ms_), 1, true); !will) {
    Log("source", source_).error("{}", will.error().str());
  }
}

void SparkplugHandler::connected(mqtt::Client& client) {
  if (state_topic_.empty()) return;
  // Its own topic too: a stale death published over the birth is answered (hostState).
  if (auto subscribed = client.subscribe(state_topic_, 1); !subscribed) {
    Log("source", source_).error("{}", subscribed.error().str());
  }
  answer_owed_ = false;  // this birth answers any death before it
  if (auto birth = publishState(client, true); !birth) {
    Log("source", source_).error("cannot publish the host's birth: {}", birth.error().str());
    return;
  }
  Log("source", source_).info("online as primary host '{}'", options_.host_id);
}

std::optional<int> SparkplugHandler::beforeDisconnect(mqtt::Client& client) {
  if (state_topic_.empty()) return std::nullopt;
  leaving_ = true;
  auto death = publishState(client, false);
  return death ? std::optional<int>(*death) : std::nullopt;
}

void SparkplugHandler::hostState(std::string_view payload, mqtt::Client& client) {
  if (payload.size() > kMaxStatePayload) {
    errors_.inc();
    Log("source", source_)
        .warn("'{}': a {}-byte payload is not a STATE message (at most {} bytes); ignored",
              state_topic_, payload.size(), kMaxStatePayload);
    return;
  }
  const auto state = nlohmann::json::parse(payload, nullptr, false);
  if (leaving_ || !state.is_object() || !state.contains("online") ||
      !state["online"].is_boolean() || state["online"].get<bool>()) {
    return;  // its own death or birth echoed back, or not a STATE payload
  }
  answer_owed_ = true;
  answerDeath(client);
}

void SparkplugHandler::tick(mqtt::Client& client) {
  if (answer_owed_) answerDeath(client);
}

void SparkplugHandler::answerDeath(mqtt::Client& client) {
  const std::int64_t now = clock_.nowNs();
  if (leaving_) {
    answer_owed_ = false;
    return;
  }
  if (last_answer_ns_ != 0 &&
      now - last_answer_ns_ < std::chrono::nanoseconds(kStateAnswerGap).count()) {
    return;  // owed: tick() answers once the gap has passed
  }
  answer_owed_ = false;
  last_answer_ns_ = now;
  Log("source", source_)
      .warn("'{}' was marked offline while connected: publishing its birth again", state_topic_);
  if (auto birth = publishState(client, true); !birth) {
    Log("source", source_).error("cannot publish the host's birth: {}", birth.error().str());
  }
}

}  // namespace sie::sparkplug
