#include "exec/process/wire.h"
#include "core/json_text.h"
#include "sie/config.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace sie::process {
namespace {

using nlohmann::json;

json tagsJson(const Tags& tags) {
  json out = json::object();
  for (const auto& [k, v] : tags) out[k] = v;
  return out;
}

json windowJson(const std::vector<Sample>& samples) {
  json ts = json::array();
  json value = json::array();
  bool blocks = false;
  for (const Sample& s : samples) {
    ts.push_back(s.ts_ns);
    value.push_back(s.values.empty() ? 0.0 : s.values.front());
    blocks = blocks || s.values.size() > 1;
  }
  json out{{"ts", std::move(ts)}, {"value", std::move(value)}};
  if (blocks) {
    json values = json::array();
    for (const Sample& s : samples) values.push_back(s.values);
    out["values"] = std::move(values);
  }
  return out;
}

// A window of single values, which the 'B' frame carries in binary.
bool travelsInBinary(const std::string& name, const std::vector<Sample>& samples) {
  return name.size() <= std::numeric_limits<std::uint16_t>::max() &&
         std::ranges::all_of(samples, [](const Sample& s) { return s.values.size() <= 1; });
}

// Every window in JSON, or only those that do not travel in binary.
json invocationDoc(const Invocation& call, std::int64_t deadline_ms, bool every_window) {
  const Telemetry& r = call.reading;
  json reading{{"sensor", r.sensor.str()},
               {"ts", r.ts_ns},
               {"value", r.value()},
               {"quality", qualityName(r.quality)},
               {"tags", tagsJson(r.tags)}};
  if (r.values.size() > 1) reading["values"] = r.values;
  if (r.sample_period_ns > 0) reading["samplePeriodNs"] = r.sample_period_ns;
  if (!r.flag.empty()) reading["flag"] = r.flag;
  json windows = json::object();
  for (const auto& [name, samples] : call.windows) {
    if (every_window || !travelsInBinary(name, samples)) windows[name] = windowJson(samples);
  }
  json values = json::object();
  for (const auto& [name, v] : call.values) values[name] = v;
  json params = json::object();
  for (const auto& [name, v] : call.spec.params) params[name] = v;
  return {{"id", call.event.id},
          {"idempotencyKey", call.spec.id() + "/" + call.event.id},
          {"function", call.spec.name},
          {"version", call.spec.version},
          {"deadlineMs", deadline_ms},
          {"event",
           {{"id", call.event.id},
            {"source", call.event.source},
            {"type", call.event.type},
            {"subject", call.event.subject},
            {"timeNs", call.event.time_ns}}},
          {"reading", std::move(reading)},
          {"windows", std::move(windows)},
          {"values", std::move(values)},
          {"params", std::move(params)}};
}

std::string dump(const json& doc) {
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The frame is little-endian, as are the hosts sie runs on (x86-64, AArch64).
static_assert(std::endian::native == std::endian::little);

template <typename T>
void append(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

template <typename T>
Result<T> field(const json& object, const char* name, const char* where, T fallback) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    return fail(Errc::kInvalidArgument,
                fmt::format("function result: {}.{} has the wrong type ({})", where, name,
                            it->type_name()));
  }
}

// kv[].ttlMs: milliseconds from 0 (no expiry) to kMaxDuration; absent or null is 0.
Result<std::chrono::milliseconds> ttlOf(const json& write) {
  const auto it = write.find("ttlMs");
  if (it == write.end() || it->is_null()) return std::chrono::milliseconds(0);
  const std::int64_t max = std::chrono::milliseconds(kMaxDuration).count();
  const std::optional<std::int64_t> ms = jsonNumber<std::int64_t>(*it);
  if (!ms || *ms < 0 || *ms > max) {
    return fail(Errc::kInvalidArgument,
                fmt::format("function result: kv[].ttlMs must be a number from 0 to {} (100 "
                            "years; 0: no expiry), got {}",
                            max, it->dump()));
  }
  return std::chrono::milliseconds(*ms);
}

}  // namespace

std::string invocationJson(const Invocation& call, std::int64_t deadline_ms) {
  return dump(invocationDoc(call, deadline_ms, true));
}

std::string invocationFrame(const Invocation& call, std::int64_t deadline_ms) {
  std::string out(sizeof(std::uint32_t), '\0');
  out += dump(invocationDoc(call, deadline_ms, false));
  const auto json_bytes = static_cast<std::uint32_t>(out.size() - sizeof(std::uint32_t));
  std::memcpy(out.data(), &json_bytes, sizeof(json_bytes));
  for (const auto& [name, samples] : call.windows) {
    if (!travelsInBinary(name, samples)) continue;
    const std::size_t n = samples.size();
    out.reserve(out.size() + 6 + name.size() + n * 16);
    append(out, static_cast<std::uint16_t>(name.size()));
    out += name;
    append(out, static_cast<std::uint32_t>(n));
    for (const Sample& s : samples) append(out, s.ts_ns);
    for (const Sample& s : samples) append(out, s.values.empty() ? 0.0 : s.values.front());
  }
  return out;
}

Result<Output> parseResult(std::string_view body) {
  Output out;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return out;
  const json doc = parseJsonOrDiscarded(body);
  if (doc.is_discarded()) {
    return fail(Errc::kInvalidArgument,
                fmt::format("function result is not JSON: '{}'", errorText(body)));
  }
  if (doc.is_null()) return out;
  if (!doc.is_object()) {
    return fail(Errc::kInvalidArgument,
                fmt::format("function result must be a JSON object (got {})", doc.type_name()));
  }
  if (const auto d = doc.find("decision"); d != doc.end() && !d->is_null()) {
    if (!d->is_object()) {
      return fail(Errc::kInvalidArgument, "function result: decision must be an object");
    }
    Decision decision;
    decision.score = SIE_TRY(field<double>(*d, "score", "decision", 0.0));
    decision.anomaly = SIE_TRY(field<bool>(*d, "anomaly", "decision", false));
    decision.label = SIE_TRY(
        field<std::string>(*d, "label", "decision", decision.anomaly ? "anomaly" : "normal"));
    decision.detail = SIE_TRY(field<std::string>(*d, "detail", "decision", ""));
    out.decision = std::move(decision);
  }
  if (const auto kv = doc.find("kv"); kv != doc.end() && !kv->is_null()) {
    if (!kv->is_array()) return fail(Errc::kInvalidArgument, "function result: kv must be a list");
    for (const json& w : *kv) {
      if (!w.is_object()) {
        return fail(Errc::kInvalidArgument, "function result: kv[] entries are objects");
      }
      KvWrite write;
      write.key = SIE_TRY(field<std::string>(w, "key", "kv[]", ""));
      if (write.key.empty()) {
        return fail(Errc::kInvalidArgument, "function result: kv[].key is missing");
      }
      const auto value = w.find("value");
      write.value = value == w.end()     ? ""
                    : value->is_string() ? value->get<std::string>()
                                         : value->dump();
      write.ttl = SIE_TRY(ttlOf(w));
      out.kv_writes.push_back(std::move(write));
    }
  }
  if (const auto events = doc.find("events"); events != doc.end() && !events->is_null()) {
    if (!events->is_array()) {
      return fail(Errc::kInvalidArgument, "function result: events must be a list");
    }
    for (const json& e : *events) {
      if (!e.is_object()) {
        return fail(Errc::kInvalidArgument, "function result: events[] entries are objects");
      }
      Event event;
      event.type = SIE_TRY(field<std::string>(e, "type", "events[]", "io.sie.function.event"));
      event.subject = SIE_TRY(field<std::string>(e, "subject", "events[]", ""));
      event.datacontenttype = "application/json";
      const auto data = e.find("data");
      event.data = data == e.end() ? "null" : data->dump();
      out.events.push_back(std::move(event));
    }
  }
  return out;
}

std::string errorText(std::string_view body) {
  const json doc = parseJsonOrDiscarded(body);
  if (doc.is_object() && doc.contains("errorMessage")) {
    const json& message = doc["errorMessage"];
    std::string text = message.is_string() ? message.get<std::string>() : message.dump();
    if (const auto type = doc.find("errorType"); type != doc.end() && type->is_string()) {
      text = type->get<std::string>() + ": " + text;
    }
    return text;
  }
  constexpr std::size_t kMax = 200;
  std::string text(body.substr(0, kMax));
  if (body.size() > kMax) text += "...";
  return text;
}

}  // namespace sie::process
