#include "control/openfaas_api.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <span>
#include <variant>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "control/control_api.h"
#include "core/json_text.h"
#include "core/sha256.h"

namespace sie::node {
namespace {

// Fields of a FunctionDeployment that have no meaning on a node; accepted so OpenFaaS tooling
// works unchanged.
constexpr std::string_view kIgnored[] = {"namespace",
                                         "network",
                                         "constraints",
                                         "secrets",
                                         "limits",
                                         "requests",
                                         "readOnlyRootFilesystem",
                                         "registryAuth"};
constexpr std::string_view kKnown[] = {"service", "image",  "envProcess",
                                       "envVars", "labels", "annotations"};

#if defined(__aarch64__)
constexpr std::string_view kArch = "arm64";
#else
constexpr std::string_view kArch = "x86_64";
#endif

std::string stringField(const nlohmann::json& object, const std::string& key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The manifest (JSON, which the YAML parser reads) a FunctionDeployment stands for, or an error
// answer.
std::variant<std::string, HttpResponse> manifestFor(const std::string& body) {
  auto parsed = parseJson(body);
  if (!parsed || !parsed->is_object()) {
    return apiError(400, "invalid_json",
                    fmt::format("{}the body must be an OpenFaaS FunctionDeployment object",
                                parsed ? "" : parsed.error().message + ": "));
  }
  const nlohmann::json& request = *parsed;
  for (const auto& item : request.items()) {
    const std::string& key = item.key();  // lambdas capture structured bindings from clang 16 on
    const auto known = [&](std::string_view k) { return k == key; };
    if (std::none_of(std::begin(kKnown), std::end(kKnown), known) &&
        std::none_of(std::begin(kIgnored), std::end(kIgnored), known)) {
      return apiError(400, "invalid",
                      fmt::format("unknown field '{}' in the FunctionDeployment", key), key);
    }
  }
  for (const char* key : {"envVars", "labels", "annotations"}) {
    if (request.contains(key)) {
      if (!request[key].is_object()) {
        return apiError(400, "invalid", fmt::format("'{}' must be an object of strings", key), key);
      }
      for (const auto& [k, v] : request[key].items()) {
        if (!v.is_string()) {
          return apiError(400, "invalid", fmt::format("'{}.{}' must be a string", key, k),
                          std::string(key) + "." + k);
        }
      }
    }
  }
  const std::string service = stringField(request, "service");
  const std::string image = stringField(request, "image");
  if (service.empty())
    return apiError(400, "invalid", "'service' (the function's name) is required", "service");
  if (image.empty()) return apiError(400, "invalid", "'image' (the handler) is required", "image");
  const nlohmann::json labels = request.value("labels", nlohmann::json::object());
  const nlohmann::json annotations = request.value("annotations", nlohmann::json::object());
  const std::string topics = stringField(annotations, "topic");
  if (topics.empty()) {
    return apiError(400, "invalid",
                    "annotation 'topic' is required: the comma-separated topic patterns that "
                    "trigger the function (e.g. \"rotating/+/vibration\")",
                    "annotations.topic");
  }
  nlohmann::json triggers = nlohmann::json::array();
  for (std::size_t start = 0; start <= topics.size();) {
    auto comma = topics.find(',', start);
    if (comma == std::string::npos) comma = topics.size();
    std::string topic = topics.substr(start, comma - start);
    topic.erase(0, topic.find_first_not_of(' '));
    topic.erase(topic.find_last_not_of(' ') + 1);
    if (!topic.empty()) triggers.push_back(topic);
    start = comma + 1;
  }
  std::string runtime = stringField(annotations, "sie.io/runtime");
  std::string handler = image;
  if (image.starts_with("builtin:")) {
    if (runtime.empty()) runtime = "builtin";
    handler = image.substr(8);
  }
  if (runtime.empty()) runtime = "process";
  std::string version = stringField(labels, "sie.io/version");
  if (version.empty()) version = stringField(annotations, "sie.io/version");
  if (version.empty()) {
    const std::string canonical = request.dump();
    version = "of-" + sha256Hex(std::span(reinterpret_cast<const std::uint8_t*>(canonical.data()),
                                          canonical.size()))
                          .substr(0, 12);
  }
  nlohmann::json spec{{"runtime", runtime}, {"handler", handler}, {"triggers", triggers}};
  nlohmann::json scaling = nlohmann::json::object();
  for (const auto& [label, key] :
       {std::pair{"com.openfaas.scale.min", "min"}, std::pair{"com.openfaas.scale.max", "max"}}) {
    const std::string text = stringField(labels, label);
    if (text.empty()) continue;
    int value = -1;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 0) {
      return apiError(400, "invalid", fmt::format("label {} must be a whole number", label),
                      std::string("labels.") + label);
    }
    scaling[key] = value;
  }
  if (!scaling.empty()) spec["scaling"] = scaling;
  nlohmann::json params = nlohmann::json::object();
  constexpr std::string_view kParam = "sie.io/param.";
  for (const auto& [key, value] : annotations.items()) {
    if (!key.starts_with(kParam)) continue;
    const std::string text = value.get<std::string>();
    char* end = nullptr;
    const double number = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size()) {
      return apiError(400, "invalid", fmt::format("annotation {} must be a number", key),
                      "annotations." + key);
    }
    params[key.substr(kParam.size())] = number;
  }
  if (!params.empty()) spec["params"] = params;
  const std::string env_process = stringField(request, "envProcess");
  if (runtime == "process") {
    nlohmann::json process = nlohmann::json::object();
    if (request.contains("envVars") && !request["envVars"].empty())
      process["env"] = request["envVars"];
    if (!env_process.empty()) {
      // fprocess: the command the function runs, with its arguments.
      nlohmann::json args = nlohmann::json::array();
      std::size_t start = 0;
      bool first = true;
      while (start < env_process.size()) {
        auto space = env_process.find(' ', start);
        if (space == std::string::npos) space = env_process.size();
        if (space > start) {
          std::string word = env_process.substr(start, space - start);
          if (first) {
            spec["handler"] = word;
            first = false;
          } else {
            args.push_back(word);
          }
        }
        start = space + 1;
      }
      if (!args.empty()) process["args"] = args;
    }
    if (!process.empty()) spec["process"] = process;
  } else if (request.contains("envVars") && !request["envVars"].empty()) {
    return apiError(400, "invalid", "envVars are for executables (the process runtime)", "envVars");
  }
  return nlohmann::json{{"apiVersion", "sie/v1"},
                        {"kind", "Function"},
                        {"metadata", {{"name", service}, {"version", version}}},
                        {"spec", spec}}
      .dump(2);
}

nlohmann::json openFaasStatus(const ControlApi& api, const FunctionRunner& runner) {
  const nlohmann::json s = api.summary(runner);
  nlohmann::json topics;
  std::string joined;
  for (const auto& t : runner.spec().triggers) joined += (joined.empty() ? "" : ",") + t;
  return {
      {"name", s["name"]},
      {"image", runner.spec().runtime == "builtin" ? "builtin:" + runner.spec().handler
                                                   : runner.spec().handler},
      {"namespace", "sie"},
      {"invocationCount", s["decisions"].get<std::uint64_t>() + s["errors"].get<std::uint64_t>()},
      {"replicas", s["scaling"]["min"]},
      {"availableReplicas", s["instances"]["live"]},
      {"envProcess", ""},
      {"labels", {{"sie.io/version", s["version"]}, {"sie.io/origin", s["origin"]}}},
      {"annotations", {{"topic", joined}, {"sie.io/runtime", s["runtime"]}}}};
}

// OpenFaaS answers deploys and deletes with 202 and an empty body; errors keep our JSON.
HttpResponse accepted(HttpResponse response) {
  if (response.status >= 300) return response;
  return {202, "application/json", response.body, {}};
}

}  // namespace

void addOpenFaasRoutes(http::Routes& routes, const ControlApi& api) {
  const ControlApi* a = &api;
  routes.add("GET", "/system/functions", [a](const HttpRequest&, const http::PathParams&) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& runner : a->plane().table().runners())
      out.push_back(openFaasStatus(*a, *runner));
    return json(200, out);
  });
  const auto deploy = [a](const HttpRequest& request, const http::PathParams&) {
    if (request.scope) {
      // A caller that may deploy some functions only learns nothing more about the others.
      const auto body = parseJsonOrDiscarded(request.body);
      const std::string name = body.is_object() ? stringField(body, "service") : "";
      if (!name.empty()) {
        if (auto refused = outsideScope(request, name)) return std::move(*refused);
      }
    }
    auto manifest = manifestFor(request.body);
    if (auto* answer = std::get_if<HttpResponse>(&manifest)) return *answer;
    return accepted(
        a->deploy({.text = std::get<std::string>(manifest), .actor = actorOf(request)}, ""));
  };
  routes.add("POST", "/system/functions", deploy);
  routes.add("PUT", "/system/functions", deploy);
  routes.add("DELETE", "/system/functions",
             [a](const HttpRequest& request, const http::PathParams&) {
               auto body = parseJsonOrDiscarded(request.body);
               const std::string name = body.is_object() ? stringField(body, "functionName") : "";
               if (name.empty()) {
                 return apiError(400, "invalid", "the body must be {\"functionName\": NAME}",
                                 "functionName");
               }
               if (auto refused = outsideScope(request, name)) return std::move(*refused);
               return accepted(a->remove(name, false, actorOf(request)));
             });
  routes.add("GET", "/system/function/{name}", [a](const HttpRequest&, const http::PathParams& p) {
    auto runner = a->plane().table().find(p.at("name"));
    if (!runner)
      return apiError(404, "not_found", fmt::format("no function named '{}'", p.at("name")));
    return json(200, openFaasStatus(*a, *runner));
  });
  routes.add(
      "POST", "/system/scale-function/{name}",
      [a](const HttpRequest& request, const http::PathParams& p) {
        auto body = parseJsonOrDiscarded(request.body);
        if (!body.is_object() || !body.contains("replicas")) {
          return apiError(400, "invalid",
                          "the body must be {\"serviceName\": NAME, \"replicas\": N}", "replicas");
        }
        return accepted(a->scale(p.at("name"), {{"replicas", body["replicas"]}}, actorOf(request)));
      });
  routes.add("POST", "/function/{name}",
             [a](const HttpRequest& request, const http::PathParams& p) {
               return a->invoke(p.at("name"), request, false, "");
             });
  routes.add("POST", "/async-function/{name}",
             [a](const HttpRequest& request, const http::PathParams& p) {
               return a->invoke(p.at("name"), request, true,
                                std::string(request.header("x-callback-url")));
             });
  routes.add("GET", "/system/info", [](const HttpRequest&, const http::PathParams&) {
    const nlohmann::json version{{"release", SIE_VERSION}, {"sha", ""}, {"commit_message", ""}};
    return json(
        200, {{"provider", {{"provider", "sie"}, {"orchestration", "sie"}, {"version", version}}},
              {"version", version},
              {"arch", kArch}});
  });
}

}  // namespace sie::node
