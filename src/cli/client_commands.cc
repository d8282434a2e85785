// The client subcommands of a running node: `sie fn ls|describe|rm`, `sie invoke`, `sie logs`,
// `sie scale` and `sie status` (deploy and completion have files of their own). Each is one or two
// REST calls; -o json|yaml prints the node's answer as it came, the table output is for people.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include "cli/client_commands.h"
#include "cli/commands.h"
#include "cli/node_client.h"
#include "core/file_text.h"

namespace sie::cli {
namespace {

std::string functionPath(const std::string& name) { return "/api/v1/functions/" + urlEncode(name); }

// A field as a cell; "-" when missing.
std::string text(const Json& body, const char* key) { return cellText(member(body, key)); }

// A field as a cell; `fallback` when missing.
std::string textOr(const Json& body, const char* key, const std::string& fallback) {
  const Json& value = member(body, key);
  return value.is_null() ? fallback : cellText(value);
}

// A float with 4 significant digits (scores: 5.149, not 5.1485089528944945); others as text().
std::string rounded(const Json& body, const char* key) {
  const Json& value = member(body, key);
  return value.is_number_float() ? fmt::format("{:.4g}", value.get<double>()) : cellText(value);
}

bool flag(const Json& body, const char* key) {
  const Json& value = member(body, key);
  return value.is_boolean() && value.get<bool>();
}

std::string yesNo(bool value) { return value ? "yes" : "no"; }

// "min 1, max 4, target concurrency 1, idle timeout 60000ms, prewarm no"
std::string scalingText(const Json& s) {
  if (!s.is_object()) return "-";
  return fmt::format("min {}, max {}, target concurrency {}, idle timeout {}ms, prewarm {}",
                     text(s, "min"), text(s, "max"), text(s, "targetConcurrency"),
                     text(s, "idleTimeoutMs"), yesNo(flag(s, "prewarm")));
}

std::vector<std::string> lines(const Json& array) {
  std::vector<std::string> out;
  if (array.is_array()) {
    for (const Json& item : array) out.push_back(cellText(item));
  }
  if (out.empty()) out.push_back("-");
  return out;
}

// ---- fn ls / describe / rm

struct FnArgs {
  ClientOptions client;
  std::string name;
  bool names = false;  // ls: one name per line, for shell completion
  bool reset = false;  // rm
};

int runFnLs(const FnArgs& args) {
  const NodeClient client("fn ls", args.client);
  auto reply = client.call({.path = "/api/v1/functions"});
  if (!reply) return reply.error();
  const Json& functions = member(reply->body, "functions");
  if (!functions.is_null() && !functions.is_array()) {
    client.complain("the node's answer has no list of functions");
    return kExitLocal;
  }
  if (args.names) {
    for (const Json& f : functions) std::cout << text(f, "name") << "\n";
    return kExitOk;
  }
  if (printStructured(reply->body, client.format())) return kExitOk;
  std::vector<std::vector<std::string>> rows;
  for (const Json& f : functions) {
    const Json& instances = member(f, "instances");
    rows.push_back({text(f, "name"), text(f, "version"), text(f, "runtime"), text(f, "origin"),
                    fmt::format("{}/{}", text(instances, "live"), text(instances, "idle")),
                    text(f, "decisions"), text(f, "errors")});
  }
  std::cout << renderTable(
      {"NAME", "VERSION", "RUNTIME", "ORIGIN", "INSTANCES", "DECISIONS", "ERRORS"}, rows);
  return kExitOk;
}

int runFnDescribe(const FnArgs& args) {
  const NodeClient client("fn describe", args.client);
  auto reply = client.call({.path = functionPath(args.name)});
  if (!reply) return reply.error();
  const Json& f = reply->body;
  if (printStructured(f, client.format())) return kExitOk;
  std::vector<std::string> versions;
  const Json& version_list = member(f, "versions");
  if (version_list.is_array()) {
    for (const Json& v : version_list) {
      versions.push_back(fmt::format("{} {}", flag(v, "serving") ? "*" : " ", text(v, "version")));
    }
  }
  std::vector<std::string> artifact;
  if (const Json& a = member(f, "artifact"); a.is_object()) {
    for (const auto& [key, value] : a.items()) {
      artifact.push_back(fmt::format("{}: {}", key, cellText(value)));
    }
  }
  const Json& instances = member(f, "instances");
  const auto one = [&](const char* key) { return std::vector<std::string>{text(f, key)}; };
  std::cout << renderFields({
      {"Name", one("name")},
      {"Version", one("version")},
      {"Origin", one("origin")},
      {"Runtime", one("runtime")},
      {"Handler", one("handler")},
      {"Source", one("source")},
      {"Triggers", lines(member(f, "triggers"))},
      {"Timeout", {member(f, "timeoutMs").is_null() ? "-" : text(f, "timeoutMs") + "ms"}},
      {"Retries", one("retries")},
      {"Scaling", {scalingText(member(f, "scaling"))}},
      {"Instances",
       {fmt::format("{} live, {} idle", text(instances, "live"), text(instances, "idle"))}},
      {"Decisions", one("decisions")},
      {"Anomalies", one("anomalies")},
      {"Errors", one("errors")},
      {"Artifact", artifact},
      {"Versions", versions},
  });
  return kExitOk;
}

int runFnRm(const FnArgs& args) {
  const NodeClient client("fn rm", args.client);
  auto reply = client.call(
      {.method = "DELETE", .path = functionPath(args.name) + (args.reset ? "?reset=true" : "")});
  if (!reply) return reply.error();
  if (printStructured(reply->body, client.format())) return kExitOk;
  std::cout << "deleted " << textOr(reply->body, "deleted", args.name) << "\n";
  return kExitOk;
}

void addFnCommands(CLI::App& app, int& exit_code) {
  CLI::App* fn = app.add_subcommand("fn", "List, describe and remove the functions of a node");
  fn->require_subcommand(1);

  auto ls_args = std::make_shared<FnArgs>();
  CLI::App* ls = fn->add_subcommand("ls", "List the functions with their instances and counts");
  ls->add_flag("--names", ls_args->names, "Print only the names, one per line (for scripts)");
  addClientOptions(*ls, ls_args->client);
  ls->callback([ls_args, &exit_code] { exit_code = runFnLs(*ls_args); });

  auto describe_args = std::make_shared<FnArgs>();
  CLI::App* describe = fn->add_subcommand("describe", "Show one function in full");
  describe->add_option("NAME", describe_args->name, "Function name")->required();
  addClientOptions(*describe, describe_args->client);
  describe->callback([describe_args, &exit_code] { exit_code = runFnDescribe(*describe_args); });

  auto rm_args = std::make_shared<FnArgs>();
  CLI::App* rm = fn->add_subcommand("rm", "Remove a function from the node");
  rm->add_option("NAME", rm_args->name, "Function name")->required();
  rm->add_flag(
      "--reset", rm_args->reset,
      "Forget what the API deployed; the site's own manifest of NAME, if any, serves again");
  addClientOptions(*rm, rm_args->client);
  rm->callback([rm_args, &exit_code] { exit_code = runFnRm(*rm_args); });
}

// ---- invoke

struct InvokeArgs {
  ClientOptions client;
  std::string name;
  std::string data;
  std::string file;
  std::string sensor;
  bool async = false;
  bool dry_run = false;
};

// The reading: --data, --file, or stdin when it is piped. Empty with a complaint when none works.
bool readReading(const NodeClient& client, const InvokeArgs& args, std::string& body) {
  std::string from;
  if (!args.data.empty()) {
    body = args.data;
    from = "--data";
  } else if (!args.file.empty()) {
    auto text = readFileText(args.file);
    if (!text) {
      client.complain(text.error().str());
      return false;
    }
    body = std::move(*text);
    from = args.file;
  } else if (isatty(STDIN_FILENO) == 0) {
    body.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    from = "stdin";
  } else {
    client.complain(
        R"(give the reading with --data '{"sensor":"...","value":1.5}', --file PATH or on stdin)");
    return false;
  }
  // Checked here so a typo costs no round trip and is reported as local input (exit 2).
  const Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    client.complain(
        fmt::format("{} is not a JSON object (a reading such as "
                    R"({{"sensor":"rotating/pump1/vibration","value":3.2}}))",
                    from));
    return false;
  }
  return true;
}

int runInvoke(const InvokeArgs& args) {
  const NodeClient client("invoke", args.client);
  std::string body;
  if (!readReading(client, args, body)) return kExitLocal;
  std::vector<std::string> query;
  if (!args.sensor.empty()) query.push_back("sensor=" + urlEncode(args.sensor));
  if (args.dry_run) query.push_back("dryRun=true");
  if (args.async) query.push_back("async=true");
  std::string path = functionPath(args.name) + "/invoke";
  if (!query.empty()) path += "?" + fmt::format("{}", fmt::join(query, "&"));
  auto reply = client.call({.method = "POST", .path = path, .body = body});
  if (!reply) return reply.error();
  const Json& r = reply->body;
  if (printStructured(r, client.format())) return kExitOk;
  if (args.async || reply->status == 202) {
    // Only the id, so scripts can take it: id=$(sie invoke pump --async --data ...)
    std::cout << text(r, "callId") << "\n";
    return kExitOk;
  }
  const std::string function = textOr(r, "function", args.name);
  const Json& decision = member(r, "decision");
  if (!decision.is_object()) {
    std::cout << function << ": no decision\n";
    return kExitOk;
  }
  const std::string label = textOr(decision, "label", "");
  std::string line =
      fmt::format("{}: {} (score {}, anomaly {})", function, label.empty() ? "decided" : label,
                  rounded(decision, "score"), yesNo(flag(decision, "anomaly")));
  const std::string detail = textOr(decision, "detail", "");
  if (!detail.empty()) line += " — " + detail;
  std::cout << line << "\n";
  return kExitOk;
}

void addInvokeCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<InvokeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "invoke", "Run a function on one reading and print its decision (actions only when live)");
  cmd->add_option("NAME", args->name, "Function name")->required();
  auto* data =
      cmd->add_option("--data", args->data,
                      "The reading as JSON; without --data or --file it is read from stdin")
          ->type_name("JSON");
  cmd->add_option("--file", args->file, "Read the reading's JSON from a file")
      ->type_name("PATH")
      ->excludes(data);
  cmd->add_option("--sensor", args->sensor, "Sensor id of the reading, if it does not name one")
      ->type_name("SENSOR");
  cmd->add_flag("--async", args->async, "Queue the call and print its id instead of waiting");
  cmd->add_flag("--dry-run", args->dry_run, "Decide, but take no actions and record nothing");
  addClientOptions(*cmd, args->client);
  cmd->callback([args, &exit_code] { exit_code = runInvoke(*args); });
}

// ---- logs

struct LogsArgs {
  ClientOptions client;
  std::string name;
  bool follow = false;
  int tail = 100;
};

// "TIME LEVEL [version#instance] message"; a line that is not JSON is printed as it came.
std::string logLine(std::string_view line) {
  const Json entry = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!entry.is_object()) return std::string(line);
  std::string source = text(entry, "version");
  // Lines of the function as a whole (not one instance) have an empty instance.
  if (const std::string instance = textOr(entry, "instance", ""); !instance.empty()) {
    source += "#" + instance;
  }
  return fmt::format("{} {:<5} [{}] {}", text(entry, "time"), text(entry, "level"), source,
                     text(entry, "message"));
}

int runLogs(const LogsArgs& args) {
  const NodeClient client("logs", args.client);
  std::string path = fmt::format("{}/logs?tail={}", functionPath(args.name), args.tail);
  if (args.follow) path += "&follow=true";
  const bool table = client.format() == OutputFormat::kTable;
  return client.stream(path, [&](std::string_view line) {
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty()) return true;
    // -o yaml has no line-by-line form, so it prints the NDJSON as json does.
    std::cout << (table ? logLine(line) : std::string(line)) << "\n";
    // Followed lines are wanted as they happen, also through a pipe.
    if (args.follow) std::cout.flush();
    return static_cast<bool>(std::cout);
  });
}

void addLogsCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<LogsArgs>();
  CLI::App* cmd = app.add_subcommand("logs", "Print a function's log lines");
  cmd->add_option("NAME", args->name, "Function name")->required();
  cmd->add_flag("-f,--follow", args->follow, "Keep printing new lines until interrupted");
  cmd->add_option("--tail", args->tail, "How many of the newest lines to start with")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  addClientOptions(*cmd, args->client);
  cmd->callback([args, &exit_code] { exit_code = runLogs(*args); });
}

// ---- readings

struct ReadingsArgs {
  ClientOptions client;
  std::string sensor;
  int limit = 20;
};

int runReadings(const ReadingsArgs& args) {
  const NodeClient client("readings", args.client);
  auto reply = client.call({.path = fmt::format("/api/v1/events?sensor={}&limit={}",
                                                urlEncode(args.sensor), args.limit)});
  if (!reply) return reply.error();
  if (printStructured(reply->body, client.format())) return kExitOk;
  std::vector<std::vector<std::string>> rows;
  const Json& readings = member(reply->body, "readings");
  if (readings.is_array()) {
    for (const Json& r : readings) {
      const Json& value = member(r, "value");
      rows.push_back({text(r, "time"), cellText(value.is_null() ? member(r, "values") : value),
                      text(r, "quality"), text(r, "flag")});
    }
  }
  std::cout << renderTable({"TIME", "VALUE", "QUALITY", "REASON"}, rows);
  return kExitOk;
}

void addReadingsCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ReadingsArgs>();
  CLI::App* cmd = app.add_subcommand(
      "readings",
      "Print a sensor's newest readings with their quality (good, uncertain, bad) and why a "
      "reading is not good (stale, out of range, device down, ...)");
  cmd->add_option("SENSOR", args->sensor, "Sensor id, e.g. rotating/pump1/bearing_temp")
      ->required();
  cmd->add_option("--limit", args->limit, "How many of the newest readings")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  addClientOptions(*cmd, args->client);
  cmd->callback([args, &exit_code] { exit_code = runReadings(*args); });
}

// ---- scale

struct ScaleArgs {
  ClientOptions client;
  std::string name;
  int min = 0;
  int max = 0;
  int replicas = 0;
  int target_concurrency = 0;
};

void addScaleCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ScaleArgs>();
  CLI::App* cmd = app.add_subcommand("scale", "Change how many instances of a function may run");
  cmd->add_option("NAME", args->name, "Function name")->required();
  // Only the options given are sent; the node keeps the rest of the policy.
  const std::vector<std::pair<const char*, CLI::Option*>> fields = {
      {"min",
       cmd->add_option("--min", args->min, "Fewest instances kept")->check(CLI::NonNegativeNumber)},
      {"max", cmd->add_option("--max", args->max, "Most instances")->check(CLI::PositiveNumber)},
      {"replicas", cmd->add_option("--replicas", args->replicas, "Exactly this many (min = max)")
                       ->check(CLI::NonNegativeNumber)},
      {"targetConcurrency", cmd->add_option("--target-concurrency", args->target_concurrency,
                                            "Calls in flight per instance before another starts")
                                ->check(CLI::PositiveNumber)},
  };
  addClientOptions(*cmd, args->client);
  cmd->callback([args, fields, &exit_code] {
    const NodeClient client("scale", args->client);
    const int* values[] = {&args->min, &args->max, &args->replicas, &args->target_concurrency};
    Json body = Json::object();
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (fields[i].second->count() > 0) body[fields[i].first] = *values[i];
    }
    if (body.empty()) {
      client.complain("give at least one of --min, --max, --replicas, --target-concurrency");
      exit_code = kExitLocal;
      return;
    }
    auto reply = client.call(
        {.method = "POST", .path = functionPath(args->name) + "/scale", .body = body.dump()});
    if (!reply) {
      exit_code = reply.error();
      return;
    }
    exit_code = kExitOk;
    if (printStructured(reply->body, client.format())) return;
    std::cout << textOr(reply->body, "name", args->name) << ": "
              << scalingText(member(reply->body, "scaling")) << "\n";
  });
}

// ---- status

int runStatus(const ClientOptions& options) {
  const NodeClient client("status", options);
  auto reply = client.call({.path = "/api/v1/status"});
  if (!reply) return reply.error();
  const Json& s = reply->body;
  if (printStructured(s, client.format())) return kExitOk;
  const auto one = [&](const char* key) { return std::vector<std::string>{text(s, key)}; };
  const Json& uptime = member(s, "uptime_s");
  const Json& functions = member(s, "functions");
  std::cout << renderFields({
      {"Site", one("site")},
      {"Running", {yesNo(flag(s, "running"))}},
      {"Uptime", {uptime.is_number() ? formatUptime(uptime.get<double>()) : "-"}},
      {"Events",
       {fmt::format("{} ({} rejected, {} queued)", text(s, "events"), text(s, "rejected"),
                    text(s, "queued"))}},
      {"Decisions", one("decisions")},
      {"Anomalies", one("anomalies")},
      {"Errors", one("function_errors")},
      {"Dead letters", one("dead_letters")},
      {"Functions", {functions.is_array() ? std::to_string(functions.size()) : "-"}},
  });
  return kExitOk;
}

void addStatusCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ClientOptions>();
  CLI::App* cmd = app.add_subcommand("status", "Summarize a running node");
  addClientOptions(*cmd, *options);
  cmd->callback([options, &exit_code] { exit_code = runStatus(*options); });
}

}  // namespace

void addClientCommands(CLI::App& app, int& exit_code) {
  addDeployCommand(app, exit_code);
  addFnCommands(app, exit_code);
  addInvokeCommand(app, exit_code);
  addLogsCommand(app, exit_code);
  addReadingsCommand(app, exit_code);
  addScaleCommand(app, exit_code);
  addStatusCommand(app, exit_code);
  addRolloutCommand(app, exit_code);
  addArtifactsCommand(app, exit_code);
  addTokenCommand(app, exit_code);
  addCompletionCommand(app, exit_code);
}

}  // namespace sie::cli
