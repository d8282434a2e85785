// `sie rollout status|weight|shadow|promote|abort|switch NAME ...`: drive a function's rollout
// on a running node (a candidate deployed with `sie deploy --canary|--shadow|--blue-green`).
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "cli/client_commands.h"
#include "cli/client_output.h"
#include "cli/node_client.h"

namespace sie::cli {
namespace {

struct RolloutArgs {
  ClientOptions client;
  std::string name;
  int weight = 0;
  std::string version;
  bool watch = false;
};

std::string rolloutPath(const std::string& name) {
  return "/api/v1/functions/" + urlEncode(name) + "/rollout";
}

std::string statsText(const Json& s) {
  return fmt::format("{} invocations, {} failed, p50 {} ms, p99 {} ms",
                     cellText(member(s, "invocations")), cellText(member(s, "errors")),
                     cellText(member(s, "p50Ms")), cellText(member(s, "p99Ms")));
}

void printStatus(const Json& s) {
  if (!member(s, "active").is_boolean() || !s["active"].get<bool>()) {
    std::cout << cellText(member(s, "name")) << ": no rollout running\n";
    return;
  }
  std::cout << fmt::format("Serving:    {}   ({})\n", cellText(member(s, "serving")),
                           statsText(member(s, "servingStats")));
  std::cout << fmt::format("Candidate:  {}   ({})\n", cellText(member(s, "candidate")),
                           statsText(member(s, "candidateStats")));
  std::cout << fmt::format("Strategy:   {}, weight {} %\n", cellText(member(s, "strategy")),
                           cellText(member(s, "weight")));
  const Json& o = member(s, "objectives");
  std::cout << fmt::format("Objectives: error rate <= {}, p99 <= {} ms (0: off), from {} calls\n",
                           cellText(member(o, "maxErrorRate")), cellText(member(o, "maxLatencyMs")),
                           cellText(member(o, "minInvocations")));
  const Json& shadow = member(s, "shadow");
  if (shadow.is_object()) {
    std::cout << fmt::format(
        "Shadow:     {} compared, agreement {}, mean score delta {}, {} dropped\n",
        cellText(member(shadow, "compared")), cellText(member(shadow, "agreement")),
        cellText(member(shadow, "meanScoreDelta")), cellText(member(shadow, "dropped")));
  }
}

// One POST to the rollout, the answer printed.
int post(const std::string& command, const RolloutArgs& args, const std::string& suffix,
         const Json& body) {
  const NodeClient client(command, args.client);
  auto reply =
      client.call({.method = "POST", .path = rolloutPath(args.name) + suffix, .body = body.dump()});
  if (!reply) return reply.error();
  if (printStructured(reply->body, client.format())) return kExitOk;
  if (member(reply->body, "active").is_boolean()) {
    printStatus(reply->body);
  } else if (member(reply->body, "serving").is_string()) {
    std::cout << fmt::format("{}: version {} serves\n", args.name,
                             reply->body["serving"].get<std::string>());
  } else if (member(reply->body, "aborted").is_string()) {
    std::cout << fmt::format("{}: candidate {} retired\n", args.name,
                             reply->body["aborted"].get<std::string>());
  } else {
    std::cout << fmt::format("{}: version {} serves (was {})\n", args.name,
                             cellText(member(reply->body, "version")),
                             cellText(member(reply->body, "previous")));
  }
  return kExitOk;
}

int status(const RolloutArgs& args) {
  const NodeClient client("rollout status", args.client);
  for (;;) {
    auto reply = client.call({.method = "GET", .path = rolloutPath(args.name)});
    if (!reply) return reply.error();
    if (!printStructured(reply->body, client.format())) printStatus(reply->body);
    const bool active =
        member(reply->body, "active").is_boolean() && reply->body["active"].get<bool>();
    if (!args.watch || !active) return kExitOk;
    std::cout << "\n" << std::flush;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

CLI::App* leaf(CLI::App& parent, const char* name, const char* help,
               const std::shared_ptr<RolloutArgs>& args) {
  CLI::App* cmd = parent.add_subcommand(name, help);
  cmd->add_option("NAME", args->name, "Function name")->required();
  addClientOptions(*cmd, args->client);
  return cmd;
}

}  // namespace

void addRolloutCommand(CLI::App& app, int& exit_code) {
  CLI::App* rollout = app.add_subcommand(
      "rollout",
      "Drive a rollout: a candidate version deployed beside the serving one with\n"
      "`sie deploy --canary PERCENT | --shadow | --blue-green`. The node rolls a candidate back\n"
      "on its own when it breaches its error-rate or latency objective.");
  rollout->require_subcommand(1);

  auto status_args = std::make_shared<RolloutArgs>();
  auto* status_cmd =
      leaf(*rollout, "status", "Versions, strategy, objectives, stats and the shadow comparison",
           status_args);
  status_cmd->add_flag("-w,--watch", status_args->watch,
                       "Print it every second while the rollout runs");
  status_cmd->callback([status_args, &exit_code] { exit_code = status(*status_args); });

  auto weight_args = std::make_shared<RolloutArgs>();
  auto* weight_cmd =
      leaf(*rollout, "weight", "Give the candidate PERCENT of the sensors (a canary)", weight_args);
  weight_cmd->add_option("PERCENT", weight_args->weight, "0-100")
      ->required()
      ->check(CLI::Range(0, 100));
  weight_cmd->callback([weight_args, &exit_code] {
    exit_code = post("rollout weight", *weight_args, "",
                     Json{{"strategy", "canary"}, {"weight", weight_args->weight}});
  });

  auto shadow_args = std::make_shared<RolloutArgs>();
  leaf(*rollout, "shadow", "Mirror every event to the candidate; compare, never act", shadow_args)
      ->callback([shadow_args, &exit_code] {
        exit_code = post("rollout shadow", *shadow_args, "", Json{{"strategy", "shadow"}});
      });

  auto promote_args = std::make_shared<RolloutArgs>();
  leaf(*rollout, "promote", "The candidate serves from now on", promote_args)
      ->callback([promote_args, &exit_code] {
        exit_code = post("rollout promote", *promote_args, "/promote", Json::object());
      });

  auto abort_args = std::make_shared<RolloutArgs>();
  leaf(*rollout, "abort", "Retire the candidate; the serving version keeps all traffic", abort_args)
      ->callback([abort_args, &exit_code] {
        exit_code = post("rollout abort", *abort_args, "/abort", Json::object());
      });

  auto switch_args = std::make_shared<RolloutArgs>();
  auto* switch_cmd = leaf(*rollout, "switch",
                          "Blue-green: switch at once to a version deployed before", switch_args);
  switch_cmd->add_option("VERSION", switch_args->version, "The version to serve")->required();
  switch_cmd->callback([switch_args, &exit_code] {
    exit_code =
        post("rollout switch", *switch_args, "/switch", Json{{"version", switch_args->version}});
  });
}

}  // namespace sie::cli
