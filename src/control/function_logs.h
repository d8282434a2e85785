// FunctionLogs: the recent log lines of every function — its workers' stdout/stderr, start and
// failure messages — for the control API's logs endpoint (tail and follow). A spdlog sink keeps
// lines whose message starts with "[name@version]" or "[name@version#instance]", the prefix
// every function-related log line of the node carries, in a bounded ring per function name.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/sinks/base_sink.h>

namespace sie::node {

struct LogLine {
  std::uint64_t seq = 0;  // increasing over all functions
  std::int64_t ts_ns = 0;
  std::string level;
  std::string function;  // name
  std::string version;
  std::string instance;  // "" for lines not from a worker
  std::string text;      // without the prefix
};

class FunctionLogs {
 public:
  static constexpr std::size_t kLinesPerFunction = 2000;

  // The node-wide logs, fed by the sink installed with installSink().
  static FunctionLogs& global();
  // Adds the sink to spdlog's default logger (once per process).
  static void installSink();

  void add(LogLine line);
  // The last `n` lines of `function` with seq > after, oldest first.
  [[nodiscard]] std::vector<LogLine> tail(const std::string& function, std::size_t n,
                                          std::uint64_t after = 0) const;
  // The newest seq over all functions (0 before the first line).
  [[nodiscard]] std::uint64_t latest() const;
  // Waits up to `wait` for a line of `function` with seq > after.
  void waitFor(const std::string& function, std::uint64_t after,
               std::chrono::milliseconds wait) const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable added_;
  std::map<std::string, std::deque<LogLine>, std::less<>> lines_;
  std::uint64_t seq_ = 0;
};

}  // namespace sie::node
