#include "control/function_logs.h"

#include <spdlog/spdlog.h>

namespace sie::node {
namespace {

class Sink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    // A function's lines start "[fn:name@version]", a worker's "[fn:name@version#instance]".
    constexpr std::string_view kFunction = "[fn:";
    const std::string_view text(msg.payload.data(), msg.payload.size());
    if (!text.starts_with(kFunction)) return;
    const auto close = text.find(']');
    if (close == std::string_view::npos) return;
    const std::string_view id = text.substr(kFunction.size(), close - kFunction.size());
    const auto at = id.find('@');
    if (at == std::string_view::npos || at == 0) return;
    const auto hash = id.find('#', at);
    LogLine line;
    line.ts_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(msg.time.time_since_epoch()).count();
    const auto level = spdlog::level::to_string_view(msg.level);
    line.level.assign(level.data(), level.size());
    line.function = std::string(id.substr(0, at));
    line.version =
        std::string(id.substr(at + 1, hash == std::string_view::npos ? hash : hash - at - 1));
    if (hash != std::string_view::npos) line.instance = std::string(id.substr(hash + 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    line.text = std::string(rest);
    FunctionLogs::global().add(std::move(line));
  }
  void flush_() override {}
};

}  // namespace

FunctionLogs& FunctionLogs::global() {
  static FunctionLogs logs;
  return logs;
}

void FunctionLogs::installSink() {
  static const bool installed = [] {
    auto sink = std::make_shared<Sink>();
    // Every level: a function's info lines (worker output) are kept even when the console
    // shows only warnings.
    sink->set_level(spdlog::level::trace);
    spdlog::default_logger()->sinks().push_back(std::move(sink));
    return true;
  }();
  (void)installed;
}

void FunctionLogs::add(LogLine line) {
  {
    std::lock_guard lock(mu_);
    line.seq = ++seq_;
    auto& ring = lines_[line.function];
    ring.push_back(std::move(line));
    if (ring.size() > kLinesPerFunction) ring.pop_front();
  }
  added_.notify_all();
}

std::vector<LogLine> FunctionLogs::tail(const std::string& function, std::size_t n,
                                        std::uint64_t after) const {
  std::lock_guard lock(mu_);
  std::vector<LogLine> out;
  auto it = lines_.find(function);
  if (it == lines_.end()) return out;
  const auto& ring = it->second;
  for (auto line = ring.rbegin(); line != ring.rend() && out.size() < n && line->seq > after;
       ++line) {
    out.push_back(*line);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::uint64_t FunctionLogs::latest() const {
  std::lock_guard lock(mu_);
  return seq_;
}

void FunctionLogs::waitFor(const std::string& function, std::uint64_t after,
                           std::chrono::milliseconds wait) const {
  std::unique_lock lock(mu_);
  added_.wait_for(lock, wait, [&] {
    auto it = lines_.find(function);
    return it != lines_.end() && !it->second.empty() && it->second.back().seq > after;
  });
}

}  // namespace sie::node
