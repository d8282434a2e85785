#include "adapters/sparkplug/sparkplug_source.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

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

SparkplugHandler::SparkplugHandler(std::string source, HandlerOptions options, const Clock& clock)
    : source_(std::move(source)),
      options_(std::move(options)),
      clock_(clock),
      sessions_(options_.node_sensor, options_.device_sensor),
      frames_(metrics().counter("sie_sparkplug_frames_total", "Sparkplug B frames received",
                                {{"source", source_}})),
      errors_(metrics().counter("sie_sparkplug_errors_total",
                                "Sparkplug B frames or metrics refused (dead-lettered)",
                                {{"source", source_}})),
      rebirths_(metrics().counter("sie_sparkplug_rebirths_requested_total",
                                  "Rebirth commands sent to edge nodes", {{"source", source_}})),
      skipped_(metrics().counter("sie_sparkplug_metrics_skipped_total",
                                 "Metrics without a numeric value (text, datasets, nulls)",
                                 {{"source", source_}})) {}

Status SparkplugHandler::handle(std::string_view topic, std::string_view payload, Ingest& sink,
                                mqtt::Client& client) {
  frames_.inc();
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

}  // namespace sie::sparkplug
