#include "control/api_privacy.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/json_text.h"
#include "core/rfc3339.h"
#include "security/access.h"

namespace sie::node {
namespace {

constexpr std::string_view kWithheld = "(withheld: privacy rules apply to this caller)";

// A reading of /api/v1/events: its "time" follows what became of ts_ns.
void applyReading(nlohmann::json& reading, const std::string& sensor, const privacy::RuleSet& rules,
                  privacy::Applied& applied) {
  reading["sensor"] = sensor;
  rules.apply(reading, applied);
  reading.erase("sensor");
  if (!reading.contains("time")) return;
  auto ts = reading.find("ts_ns");
  if (ts == reading.end()) {
    reading.erase("time");
  } else if (ts->is_number_integer()) {
    reading["time"] = formatRfc3339(ts->get<std::int64_t>());
  } else {
    reading["time"] = *ts;
  }
}

std::string dump(const nlohmann::json& doc) {
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

void applyApiPrivacy(const http::HttpRequest& request, http::HttpResponse& response,
                     const privacy::RuleSet& rules) {
  if (rules.empty() || response.status != 200 || request.method != "GET") return;
  if (request.caller_role == security::roleName(security::Role::kAdmin)) return;
  const std::string path = security::routePath(request.path);
  const bool decisions = path == "/api/v1/decisions";
  const bool readings = path == "/api/v1/events";
  const bool audit = path == "/api/v1/audit";
  const bool letters = path == "/api/v1/dead-letters";
  if (!decisions && !readings && !audit && !letters) return;
  auto doc = parseJsonOrDiscarded(response.body);
  if (doc.is_discarded()) {
    response = {
        500, "application/json",
        R"({"error":"internal","message":"the answer could not be checked against the privacy rules"})"};
    return;
  }
  privacy::Applied applied;
  if (decisions && doc.is_array()) {
    for (auto& decision : doc) rules.apply(decision, applied);
  } else if (readings && doc.is_object() && doc.contains("readings")) {
    const std::string sensor = doc.value("sensor", "");
    for (auto& reading : doc["readings"]) applyReading(reading, sensor, rules, applied);
    privacy::Applied ignored;
    nlohmann::json named{{"sensor", sensor}};
    rules.apply(named, ignored);
    if (named.contains("sensor"))
      doc["sensor"] = named["sensor"];
    else
      doc.erase("sensor");
  } else if (audit && doc.is_array()) {
    // Decision records hold the decision's JSON; the chain itself stays untouched on disk.
    for (auto& record : doc) {
      if (record.value("kind", "") != "decision" || !record["body"].is_string()) continue;
      auto body = parseJsonOrDiscarded(record["body"].get<std::string>());
      if (body.is_object()) {
        rules.apply(body, applied);
        record["body"] = dump(body);
      } else {
        record["body"] = kWithheld;
      }
    }
  } else if (letters && doc.is_array()) {
    for (auto& letter : doc) letter["payload"] = kWithheld;
  }
  for (const auto& field : applied.uncovered) {
    spdlog::warn(
        "privacy api: personal field {} dropped from a read by '{}': spec.privacy.api "
        "has no rule for it",
        field, request.caller);
  }
  response.body = dump(doc);
}

}  // namespace sie::node
