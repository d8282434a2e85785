#include "adapters/sparkplug/sessions.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "core/placeholders.h"
#include "sparkplug_b.pb.h"

namespace sie::sparkplug {
namespace {

using org::eclipse::tahu::protobuf::Payload;
using PbMetric = org::eclipse::tahu::protobuf::Payload_Metric;

constexpr std::string_view kNamespace = "spBv1.0/";
constexpr std::int64_t kNsPerMs = 1'000'000;
// Milliseconds since the epoch; anything past year 2262 would overflow nanoseconds.
constexpr std::uint64_t kMaxMs = 9'000'000'000'000ULL;
constexpr int kMaxTemplateDepth = 16;
// The value of a reading whose metric is null: bad quality says there is none.
constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();
// Template members arrive in data frames too: a bound, so an edge node cannot grow a session
// without end by naming new members.
constexpr std::size_t kMaxMetrics = 65'536;

std::string expand(std::string_view text, const Topic& topic, std::string_view metric) {
  return expandPlaceholders(text, [&](std::string_view name) -> std::optional<std::string_view> {
    if (name == "group") return topic.group;
    if (name == "node") return topic.node;
    if (name == "device") return topic.device;
    if (name == "metric") return metric;
    return std::nullopt;
  });
}

// The metric's value as a number, or nullopt (null, text, bytes, datasets, templates).
std::optional<double> numeric(const PbMetric& m) {
  if (m.is_null()) return std::nullopt;
  switch (m.value_case()) {
    case PbMetric::kIntValue: {
      // Signed types travel two's-complement in the unsigned field (Sparkplug 3.0, 6.4.16).
      const std::uint32_t v = m.int_value();
      switch (m.datatype()) {
        case org::eclipse::tahu::protobuf::Int8:
          return static_cast<std::int8_t>(v);
        case org::eclipse::tahu::protobuf::Int16:
          return static_cast<std::int16_t>(v);
        case org::eclipse::tahu::protobuf::Int32:
          return static_cast<std::int32_t>(v);
        default:
          return v;
      }
    }
    case PbMetric::kLongValue:
      return m.datatype() == org::eclipse::tahu::protobuf::Int64
                 ? static_cast<double>(static_cast<std::int64_t>(m.long_value()))
                 : static_cast<double>(m.long_value());
    case PbMetric::kFloatValue:
      return m.float_value();
    case PbMetric::kDoubleValue:
      return m.double_value();
    case PbMetric::kBooleanValue:
      return m.boolean_value() ? 1.0 : 0.0;
    default:
      return std::nullopt;
  }
}

// Whether a datatype carries a number (Int8 ... Boolean): a null of such a metric is a reading
// whose value the edge node does not have.
bool numericType(std::uint32_t datatype) {
  return datatype >= org::eclipse::tahu::protobuf::Int8 &&
         datatype <= org::eclipse::tahu::protobuf::Boolean;
}

// A quality code as OPC servers and Ignition give it: 0..255 is an OPC DA quality byte (bits 7-6:
// 11 good, 01 uncertain, else bad); larger codes carry Ignition 8's level in bits 31-30 (00 good,
// 01 uncertain, 10 bad, 11 error).
Quality qualityOfCode(std::int64_t code) {
  const auto bits = static_cast<std::uint32_t>(code);
  if (code >= 0 && code <= 255) {
    switch (bits & 0xC0U) {
      case 0xC0U:
        return Quality::kGood;
      case 0x40U:
        return Quality::kUncertain;
      default:
        return Quality::kBad;
    }
  }
  switch (bits >> 30U) {
    case 0:
      return Quality::kGood;
    case 1:
      return Quality::kUncertain;
    default:
      return Quality::kBad;
  }
}

// The metric's "Quality" property (Ignition's convention; the Sparkplug payload has no quality
// field of its own): its level and reason when it is not good.
std::optional<std::pair<Quality, std::string>> sourceQuality(const PbMetric& m) {
  if (!m.has_properties()) return std::nullopt;
  const auto& properties = m.properties();
  for (int i = 0; i < properties.keys_size() && i < properties.values_size(); ++i) {
    if (properties.keys(i) != "Quality") continue;
    const auto& value = properties.values(i);
    std::int64_t code = 0;
    if (value.value_case() == org::eclipse::tahu::protobuf::Payload_PropertyValue::kIntValue) {
      code = static_cast<std::int32_t>(value.int_value());
    } else if (value.value_case() ==
               org::eclipse::tahu::protobuf::Payload_PropertyValue::kLongValue) {
      code = static_cast<std::int64_t>(value.long_value());
    } else {
      return std::nullopt;
    }
    const Quality quality = qualityOfCode(code);
    if (quality == Quality::kGood) return std::nullopt;
    return std::pair(quality, fmt::format("quality code {} from the edge node", code));
  }
  return std::nullopt;
}

std::int64_t timestampNs(const PbMetric& m, const Payload& p, std::int64_t received_ns) {
  if (m.has_timestamp() && m.timestamp() < kMaxMs)
    return static_cast<std::int64_t>(m.timestamp()) * kNsPerMs;
  if (p.has_timestamp() && p.timestamp() < kMaxMs)
    return static_cast<std::int64_t>(p.timestamp()) * kNsPerMs;
  return received_ns;
}

}  // namespace

std::optional<Topic> parseTopic(std::string_view topic) {
  if (!topic.starts_with(kNamespace)) return std::nullopt;
  topic.remove_prefix(kNamespace.size());
  std::string_view parts[4];
  std::size_t n = 0;
  while (n < 4) {
    const std::size_t slash = topic.find('/');
    parts[n++] = topic.substr(0, slash);
    if (slash == std::string_view::npos) break;
    topic.remove_prefix(slash + 1);
    if (n == 4) return std::nullopt;  // too many levels
  }
  if (n < 3) return std::nullopt;
  for (std::size_t i = 0; i < n; ++i) {
    if (parts[i].empty()) return std::nullopt;
  }
  const bool device_type = parts[1].size() > 0 && parts[1][0] == 'D';
  if (device_type != (n == 4)) return std::nullopt;  // D* messages name a device, N* do not
  return Topic{parts[0], parts[1], parts[2], n == 4 ? parts[3] : std::string_view()};
}

Sessions::Sessions(std::string node_sensor, std::string device_sensor)
    : node_sensor_(std::move(node_sensor)), device_sensor_(std::move(device_sensor)) {}

Sessions::Node& Sessions::node(const Topic& topic) {
  const std::string key = fmt::format("{}/{}", topic.group, topic.node);
  auto it = nodes_.find(key);
  if (it == nodes_.end()) it = nodes_.emplace(key, Node{}).first;
  return it->second;
}

Symbol Sessions::sensorFor(const Topic& topic, std::string_view metric) const {
  return Symbol::intern(
      expand(topic.device.empty() ? node_sensor_ : device_sensor_, topic, metric));
}

bool Sessions::checkSeq(Node& node, const Topic& topic, bool has_seq, std::uint64_t seq,
                        Outcome& out) {
  if (!has_seq || seq > 255) {
    out.errors.push_back(fmt::format("{} from {}/{}: seq missing or above 255", topic.type,
                                     topic.group, topic.node));
    out.rebirth = true;
    return false;
  }
  const int expected = (node.seq + 1) % 256;
  const int got = static_cast<int>(seq);
  node.seq = got;
  if (got != expected) {
    out.errors.push_back(
        fmt::format("sequence gap from {}/{}: expected {}, got {} (rebirth requested)", topic.group,
                    topic.node, expected, got));
    out.rebirth = true;
    return false;
  }
  return true;
}

void Sessions::markStale(Metrics& metrics, std::string_view why, std::int64_t ts_ns, Outcome& out) {
  for (auto& metric : metrics.list) {
    if (!metric.last) continue;
    Telemetry reading;
    reading.sensor = metric.sensor;
    reading.ts_ns = std::max(ts_ns, metric.last_ns + 1);
    reading.values.assign(1, *metric.last);
    reading.quality = Quality::kBad;
    reading.flag = fmt::format("stale: {}", why);
    out.readings.push_back(std::move(reading));
    metric.last.reset();
  }
}

void Sessions::handle(const Topic& topic, std::string_view payload, std::int64_t received_ns,
                      Outcome& out) {
  const std::string_view type = topic.type;
  if (type == "NCMD" || type == "DCMD" || type == "STATE") return;  // commands, not data
  const bool birth = type == "NBIRTH" || type == "DBIRTH";
  const bool data = type == "NDATA" || type == "DDATA";
  const bool death = type == "NDEATH" || type == "DDEATH";
  if (!birth && !data && !death) {
    out.errors.push_back(fmt::format("unknown Sparkplug message type '{}'", type));
    return;
  }
  Payload frame;
  if (!frame.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    out.errors.push_back(fmt::format("{} from {}/{}: not a Sparkplug B protobuf payload", type,
                                     topic.group, topic.node));
    return;
  }
  Node& n = node(topic);

  if (type == "NDEATH") {
    // Only the death of the current session counts (its bdSeq matches the birth's).
    std::optional<std::uint64_t> bd_seq;
    for (const auto& m : frame.metrics()) {
      if (m.name() == "bdSeq" && m.value_case() == PbMetric::kLongValue) bd_seq = m.long_value();
    }
    if (n.bd_seq && bd_seq && *bd_seq != *n.bd_seq) return;  // a late will of an older session
    const std::string why = fmt::format("NDEATH of {}/{}", topic.group, topic.node);
    markStale(n.metrics, why, received_ns, out);
    for (auto& [name, device] : n.devices) markStale(device, why, received_ns, out);
    n.born = false;
    n.seq = -1;
    return;
  }
  if (type == "NBIRTH") {
    n = Node{};
    n.born = true;
    for (const auto& m : frame.metrics()) {
      if (m.name() == "bdSeq" && m.value_case() == PbMetric::kLongValue) n.bd_seq = m.long_value();
    }
    if (!frame.has_seq() || frame.seq() > 255) {
      out.errors.push_back(
          fmt::format("NBIRTH from {}/{}: seq missing or above 255", topic.group, topic.node));
    } else {
      n.seq = static_cast<int>(frame.seq());
    }
  } else if (!n.born) {
    out.errors.push_back(fmt::format("{} from {}/{}, which has not been born (rebirth requested)",
                                     type, topic.group, topic.node));
    out.rebirth = true;
    return;
  } else if (!checkSeq(n, topic, frame.has_seq(), frame.seq(), out)) {
    // Out of step: the aliases may be stale too. Keep what can be decoded.
  }

  Metrics* metrics = &n.metrics;
  if (!topic.device.empty()) {
    auto it = n.devices.find(topic.device);
    if (type == "DBIRTH") {
      if (it == n.devices.end()) it = n.devices.emplace(std::string(topic.device), Metrics{}).first;
      it->second = Metrics{};
    } else if (it == n.devices.end()) {
      out.errors.push_back(
          fmt::format("{} from device {}/{}/{}, which has not been born (rebirth requested)", type,
                      topic.group, topic.node, topic.device));
      out.rebirth = true;
      return;
    }
    metrics = &it->second;
  }
  if (type == "DDEATH") {
    markStale(*metrics, fmt::format("DDEATH of {}/{}/{}", topic.group, topic.node, topic.device),
              received_ns, out);
    return;
  }

  for (const auto& m : frame.metrics()) {
    if (m.name() == "bdSeq") continue;  // session bookkeeping, not a measurement
    std::size_t index = 0;
    if (birth) {
      if (m.name().empty()) {
        out.errors.push_back(
            fmt::format("{} from {}/{}: a metric has no name", type, topic.group, topic.node));
        continue;
      }
      auto found = metrics->by_name.find(m.name());
      if (found == metrics->by_name.end()) {
        index = metrics->list.size();
        metrics->list.push_back(
            Metric{m.name(), m.datatype(), sensorFor(topic, m.name()), std::nullopt});
        metrics->by_name.emplace(m.name(), index);
      } else {
        index = found->second;
      }
      if (m.has_alias()) metrics->by_alias[m.alias()] = index;
    } else if (!m.name().empty()) {
      auto found = metrics->by_name.find(m.name());
      if (found == metrics->by_name.end()) {
        out.errors.push_back(
            fmt::format("{} from {}/{}: metric '{}' was not in the birth certificate", type,
                        topic.group, topic.node, m.name()));
        continue;
      }
      index = found->second;
    } else if (m.has_alias()) {
      auto found = metrics->by_alias.find(m.alias());
      if (found == metrics->by_alias.end()) {
        out.errors.push_back(
            fmt::format("{} from {}/{}: unknown metric alias {} (rebirth requested)", type,
                        topic.group, topic.node, m.alias()));
        out.rebirth = true;
        continue;
      }
      index = found->second;
    } else {
      out.errors.push_back(fmt::format("{} from {}/{}: a metric has neither name nor alias", type,
                                       topic.group, topic.node));
      continue;
    }
    Metric& metric = metrics->list[index];
    if (m.value_case() == PbMetric::kTemplateValue) {
      if (!m.template_value().is_definition()) {
        decodeTemplate(topic, *metrics, metric.name, m.template_value(),
                       timestampNs(m, frame, received_ns), 0, out);
      }
      continue;
    }
    if (m.value_case() == PbMetric::kDatasetValue) {
      out.errors.push_back(fmt::format(
          "{} from {}/{}: metric '{}' is a DataSet ({} columns, {} rows); DataSets are not "
          "decoded into readings (publish its columns as metrics of their own)",
          type, topic.group, topic.node, metric.name, m.dataset_value().columns_size(),
          m.dataset_value().rows_size()));
      continue;
    }
    // Data metrics may leave the type to the birth certificate.
    const std::uint32_t datatype = m.has_datatype() || birth ? m.datatype() : metric.datatype;
    std::optional<double> value;
    if (m.has_datatype() || birth) {
      value = numeric(m);
    } else {
      PbMetric typed = m;
      typed.set_datatype(datatype);
      value = numeric(typed);
    }
    if (!record(metric, m, value, datatype, timestampNs(m, frame, received_ns), out)) {
      ++out.skipped;
    }
  }
}

bool Sessions::record(Metric& metric, const PbMetric& m, std::optional<double> value,
                      std::uint32_t datatype, std::int64_t ts_ns, Outcome& out) {
  Telemetry reading{metric.sensor, ts_ns, {value.value_or(kNoValue)}};
  if (value) {
    metric.last = *value;
    if (auto why = sourceQuality(m)) {
      reading.quality = why->first;
      reading.flag = std::move(why->second);
    }
  } else if (m.is_null() && numericType(datatype)) {
    metric.last.reset();  // no value to keep: nothing to mark stale at a death
    reading.quality = Quality::kBad;
    reading.flag = "null: the edge node has no value for it";
  } else {
    return false;
  }
  metric.last_ns = std::max(metric.last_ns, ts_ns);
  out.readings.push_back(std::move(reading));
  return true;
}

void Sessions::decodeTemplate(const Topic& topic, Metrics& metrics, std::string path,
                              const org::eclipse::tahu::protobuf::Payload_Template& value,
                              std::int64_t ts_ns, int depth, Outcome& out) {
  if (depth >= kMaxTemplateDepth) {
    out.errors.push_back(fmt::format("{} from {}/{}: template '{}' nests deeper than {} levels",
                                     topic.type, topic.group, topic.node, path, kMaxTemplateDepth));
    return;
  }
  for (const auto& member : value.metrics()) {
    if (member.name().empty()) {
      out.errors.push_back(fmt::format("{} from {}/{}: a member of template '{}' has no name",
                                       topic.type, topic.group, topic.node, path));
      continue;
    }
    const std::string name = path + "/" + member.name();
    const std::int64_t at = member.has_timestamp() && member.timestamp() < kMaxMs
                                ? static_cast<std::int64_t>(member.timestamp()) * kNsPerMs
                                : ts_ns;
    if (member.value_case() == PbMetric::kTemplateValue) {
      decodeTemplate(topic, metrics, name, member.template_value(), at, depth + 1, out);
      continue;
    }
    if (member.value_case() == PbMetric::kDatasetValue) {
      out.errors.push_back(fmt::format(
          "{} from {}/{}: template member '{}' is a DataSet; DataSets are not decoded into "
          "readings",
          topic.type, topic.group, topic.node, name));
      continue;
    }
    const auto number = numeric(member);
    if (!number && !(member.is_null() && numericType(member.datatype()))) {
      ++out.skipped;
      continue;
    }
    auto found = metrics.by_name.find(name);
    if (found == metrics.by_name.end()) {
      if (metrics.list.size() >= kMaxMetrics) {
        out.errors.push_back(fmt::format("{} from {}/{}: more than {} metrics; '{}' is dropped",
                                         topic.type, topic.group, topic.node, kMaxMetrics, name));
        continue;
      }
      found = metrics.by_name.emplace(name, metrics.list.size()).first;
      metrics.list.push_back(Metric{name, member.datatype(), sensorFor(topic, name), std::nullopt});
    }
    // A member is a metric of its own: a null and a quality property count as they do there.
    record(metrics.list[found->second], member, number, member.datatype(), at, out);
  }
}

}  // namespace sie::sparkplug
