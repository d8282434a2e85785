// `sie run`: starts a node on a site (the built-in demo site by default) until SIGINT/SIGTERM or
// --duration, printing a live summary.
#include <csignal>
#include <optional>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "node/node.h"
#include "sie/plugins.h"

namespace sie::cli {
namespace {

struct RunArgs {
  std::string config;
  std::string data_dir;
  std::string http;
  double duration_s = 0;  // 0 = until a signal
  std::string log_level;
  bool quiet = false;
  bool insecure_loopback_only = false;
};

void configureLogging(const std::string& level, bool json) {
  auto logger = spdlog::stderr_color_mt("sie");
  spdlog::set_default_logger(logger);
  if (json) {
    spdlog::set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","msg":"%v"})",
                        spdlog::pattern_time_type::utc);
  } else {
    spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
  }
  spdlog::set_level(spdlog::level::from_str(level));
}

void printSummary(const node::NodeStats& now, const node::NodeStats& before, double interval_s) {
  const double rate =
      interval_s > 0 ? static_cast<double>(now.events - before.events) / interval_s : 0;
  fmt::print(
      "[{:>6.0f}s] events {:>8.0f}/s ({} total) | decisions {} | anomalies {} | rejected {} "
      "| dead letters {} | queued {}\n",
      now.uptime_s, rate, now.events, now.decisions, now.anomalies, now.rejected, now.dead_letters,
      now.queued);
  std::fflush(stdout);
}

int run(const RunArgs& args) {
  auto site = args.config.empty() ? node::loadDemoSite() : node::loadSite(args.config);
  if (!site) {
    fmt::print(stderr, "sie run: {}\n", site.error().str());
    return 2;
  }
  if (!args.data_dir.empty()) site->data_dir = args.data_dir;
  if (!args.http.empty()) site->http = args.http;
  if (args.insecure_loopback_only) site->security.authenticate = false;
  configureLogging(args.log_level.empty() ? site->log_level : args.log_level, site->log_json);

  Plugins plugins;
  if (auto registered = registerBuiltinPlugins(plugins); !registered) {
    fmt::print(stderr, "sie run: {}\n", registered.error().str());
    return 1;
  }
  // Signals are taken synchronously by this thread; block them before the node starts threads so
  // they inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A peer that closes a TLS connection mid-write (OpenSSL writes with write(2)) must cost that
  // connection, not the node.
  std::signal(SIGPIPE, SIG_IGN);
  auto node = node::Node::create(std::move(*site), plugins);
  if (!node) {
    fmt::print(stderr, "sie run: {}\n", node.error().str());
    return 2;
  }
  if (auto started = (*node)->start(); !started) {
    fmt::print(stderr, "sie run: {}\n", started.error().str());
    (*node)->stop();
    return 1;
  }
  using SteadyClock = std::chrono::steady_clock;
  const auto seconds = [](double s) {
    return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(s));
  };
  const auto interval = (*node)->site().summary_interval;
  const bool summaries = interval.count() > 0 && !args.quiet;
  const auto begin = SteadyClock::now();
  const std::optional<SteadyClock::time_point> end =
      args.duration_s > 0 ? std::optional(begin + seconds(args.duration_s)) : std::nullopt;
  auto next_summary = begin + interval;
  node::NodeStats last = (*node)->stats();
  while (true) {
    auto wake = SteadyClock::now() + std::chrono::hours(1);
    if (end) wake = std::min(wake, *end);
    if (summaries) wake = std::min(wake, next_summary);
    const auto wait = std::max(wake - SteadyClock::now(), SteadyClock::duration::zero());
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
    const timespec timeout{static_cast<time_t>(ns / 1'000'000'000),
                           static_cast<long>(ns % 1'000'000'000)};
    const int received = sigtimedwait(&signals, nullptr, &timeout);
    if (received > 0) {
      spdlog::info("received {}, stopping gracefully", received == SIGINT ? "SIGINT" : "SIGTERM");
      break;
    }
    const auto now = SteadyClock::now();
    if (end && now >= *end) break;
    if (summaries && now >= next_summary) {
      const node::NodeStats stats = (*node)->stats();
      printSummary(stats, last, std::chrono::duration<double>(interval).count());
      last = stats;
      next_summary += interval;
    }
  }
  (*node)->stop();
  const node::NodeStats final_stats = (*node)->stats();
  fmt::print(
      "stopped after {:.1f}s: {} events, {} decisions, {} anomalies, {} rejected, "
      "{} function errors\n",
      final_stats.uptime_s, final_stats.events, final_stats.decisions, final_stats.anomalies,
      final_stats.rejected, final_stats.function_errors);
  return 0;
}

}  // namespace

void addRunCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand(
      "run",
      "Run an edge node. Without --config it runs the built-in demo site: a simulated plant\n"
      "(power grid, HVAC, pumps, data center, water network) with one function per domain.");
  cmd->add_option("-c,--config", args->config, "Site file (kind: Site); default: the demo site")
      ->check(CLI::ExistingFile);
  cmd->add_option("-d,--data-dir", args->data_dir,
                  "State folder (SQLite database and audit chain); overrides the site's dataDir");
  cmd->add_option(
      "--http", args->http,
      "HTTP listener HOST:PORT for /healthz, /metrics and the API (default 127.0.0.1:8080)");
  cmd->add_option("--duration", args->duration_s,
                  "Stop after this many seconds (for scripted runs)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--log-level", args->log_level, "trace, debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  cmd->add_flag("-q,--quiet", args->quiet, "No live summary");
  cmd->add_flag("--insecure-loopback-only", args->insecure_loopback_only,
                "No authentication: any process on this host may call the API (for the demo "
                "and local experiments; the listener must be a loopback address)");
  cmd->callback([args, &exit_code] { exit_code = run(*args); });
}

}  // namespace sie::cli
