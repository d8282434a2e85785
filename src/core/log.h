// A component's log: every line it writes starts with the component in brackets —
// "[source:field]", "[sink:alerts]", "[fn:pump-health@2]", "[fn:score@1#3]" for a worker — so the
// lines of one source, sink or function can be told apart and filtered (FunctionLogs keeps each
// function's own). Lines go to the node's logger, at its level, in its format.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace sie {

class Log {
 public:
  // kind: source, sink, fn, state, ...; name: the component's own (a source's name, a
  // function's name@version).
  Log(std::string_view kind, std::string_view name) : prefix_(fmt::format("[{}:{}]", kind, name)) {}

  [[nodiscard]] const std::string& prefix() const { return prefix_; }

  template <typename... Args>
  void debug(fmt::format_string<Args...> format, Args&&... args) const {
    write(spdlog::level::debug, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void info(fmt::format_string<Args...> format, Args&&... args) const {
    write(spdlog::level::info, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void warn(fmt::format_string<Args...> format, Args&&... args) const {
    write(spdlog::level::warn, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void error(fmt::format_string<Args...> format, Args&&... args) const {
    write(spdlog::level::err, format, std::forward<Args>(args)...);
  }

 private:
  template <typename... Args>
  void write(spdlog::level::level_enum level, fmt::format_string<Args...> format,
             Args&&... args) const {
    spdlog::logger* logger = spdlog::default_logger_raw();
    if (!logger->should_log(level)) return;  // nothing formatted for a line no one keeps
    logger->log(level, "{} {}", prefix_, fmt::format(format, std::forward<Args>(args)...));
  }

  std::string prefix_;
};

}  // namespace sie
