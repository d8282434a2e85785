// sie worker SDK for C++ (header-only; needs nlohmann/json). A process-runtime function built
// with it speaks sie's native protocol on the channel the node hands it (fd $SIE_CHANNEL_FD):
//
//   #include <sie/worker.h>
//   int main() {
//     return sie::worker::serve([](const sie::worker::Invocation& in) {
//       return sie::worker::Result::of({.score = in.value(), .anomaly = in.value() > 80});
//     });
//   }
//
// Frames: [u32 little-endian body length][u8 type][body]; the worker sends 'H' (ready) once,
// then answers each invocation — 'B' (JSON plus binary windows: this SDK's hello asks for them)
// or 'I' (JSON only) — with 'R' (result JSON) or 'E' (error JSON). A throwing handler answers
// 'E'; the worker keeps serving. End of channel: serve() returns 0.
// Both frames and the JSON on both sides are described in docs/PROCESS.md.
#pragma once

#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace sie::worker {

struct Window {
  std::vector<std::int64_t> ts;  // Unix epoch nanoseconds, oldest first
  std::vector<double> value;
  [[nodiscard]] std::size_t size() const { return value.size(); }
};

class Invocation {
 public:
  // `binary`: the windows a 'B' frame carried after its JSON.
  explicit Invocation(nlohmann::json doc, std::vector<std::pair<std::string, Window>> binary = {})
      : doc_(std::move(doc)), binary_(std::move(binary)) {}

  [[nodiscard]] const nlohmann::json& json() const { return doc_; }
  [[nodiscard]] std::string id() const { return doc_.value("id", ""); }
  [[nodiscard]] std::string sensor() const { return reading().value("sensor", ""); }
  [[nodiscard]] std::int64_t ts() const { return reading().value("ts", std::int64_t{0}); }
  // The reading's (first) value.
  [[nodiscard]] double value() const { return reading().value("value", 0.0); }
  // A block's samples, or the one value.
  [[nodiscard]] std::vector<double> values() const {
    if (reading().contains("values")) return reading()["values"].get<std::vector<double>>();
    return {value()};
  }
  // A window input binding (empty when the manifest declares none of that name).
  [[nodiscard]] Window window(const std::string& name) const {
    for (const auto& [binary_name, binary] : binary_) {
      if (binary_name == name) return binary;
    }
    Window w;
    const auto windows = doc_.find("windows");  // find, not value(): that would copy them all
    if (windows == doc_.end() || !windows->is_object()) return w;
    if (auto it = windows->find(name); it != windows->end() && it->is_object()) {
      if (auto ts = it->find("ts"); ts != it->end()) ts->get_to(w.ts);
      if (auto v = it->find("value"); v != it->end()) v->get_to(w.value);
    }
    return w;
  }
  // A kv input binding, or `fallback`.
  [[nodiscard]] double kv(const std::string& name, double fallback = 0.0) const {
    return lookup("values", name, fallback);
  }
  // spec.params, or `fallback`.
  [[nodiscard]] double param(const std::string& name, double fallback = 0.0) const {
    return lookup("params", name, fallback);
  }

 private:
  [[nodiscard]] const nlohmann::json& reading() const {
    static const nlohmann::json kEmpty = nlohmann::json::object();
    auto it = doc_.find("reading");
    return it != doc_.end() && it->is_object() ? *it : kEmpty;
  }
  [[nodiscard]] double lookup(const char* block, const std::string& name, double fallback) const {
    auto b = doc_.find(block);
    if (b == doc_.end() || !b->is_object()) return fallback;
    auto it = b->find(name);
    return it != b->end() && it->is_number() ? it->get<double>() : fallback;
  }

  nlohmann::json doc_;
  std::vector<std::pair<std::string, Window>> binary_;
};

struct Decision {
  double score = 0.0;
  bool anomaly = false;
  std::string label;  // default "anomaly" / "normal"
  std::string detail;
};

struct KvWrite {
  std::string key;  // {sensor} and {function} are expanded by the node
  std::string value;
  std::int64_t ttl_ms = 0;
};

struct Result {
  std::optional<Decision> decision;
  std::vector<KvWrite> kv;
  nlohmann::json events = nlohmann::json::array();  // [{"type", "subject", "data"}]

  static Result of(Decision d) {
    Result r;
    r.decision = std::move(d);
    return r;
  }

  [[nodiscard]] nlohmann::json json() const {
    nlohmann::json out = nlohmann::json::object();
    if (decision) {
      out["decision"] = {
          {"score", decision->score},
          {"anomaly", decision->anomaly},
          {"label",
           decision->label.empty() ? (decision->anomaly ? "anomaly" : "normal") : decision->label},
          {"detail", decision->detail}};
    }
    if (!kv.empty()) {
      nlohmann::json writes = nlohmann::json::array();
      for (const auto& w : kv) {
        writes.push_back({{"key", w.key}, {"value", w.value}, {"ttlMs", w.ttl_ms}});
      }
      out["kv"] = std::move(writes);
    }
    if (!events.empty()) out["events"] = events;
    return out;
  }
};

using Handler = std::function<Result(const Invocation&)>;

namespace detail {

inline int channel() {
  const char* fd = std::getenv("SIE_CHANNEL_FD");
  return fd != nullptr ? std::atoi(fd) : 3;
}

inline bool writeAll(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

inline bool readAll(int fd, char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::read(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

inline bool send(int fd, char type, const std::string& body) {
  const auto n = static_cast<std::uint32_t>(body.size());
  const char header[5] = {static_cast<char>(n & 0xff), static_cast<char>((n >> 8) & 0xff),
                          static_cast<char>((n >> 16) & 0xff), static_cast<char>((n >> 24) & 0xff),
                          type};
  return writeAll(fd, header, sizeof(header)) && writeAll(fd, body.data(), body.size());
}

inline bool receive(int fd, char& type, std::string& body) {
  unsigned char header[5];
  if (!readAll(fd, reinterpret_cast<char*>(header), sizeof(header))) return false;
  const std::uint32_t n = header[0] | (header[1] << 8) | (header[2] << 16) |
                          (static_cast<std::uint32_t>(header[3]) << 24);
  if (n > (16U << 20)) return false;
  type = static_cast<char>(header[4]);
  body.resize(n);
  return readAll(fd, body.data(), n);
}

static_assert(std::endian::native == std::endian::little, "frames are little-endian");

// Takes the next `size` bytes of a frame, or throws naming what was cut short.
inline std::string_view take(std::string_view& rest, std::size_t size, const char* what) {
  if (rest.size() < size) {
    throw std::runtime_error(std::string("invocation frame ends inside ") + what);
  }
  const std::string_view bytes = rest.substr(0, size);
  rest.remove_prefix(size);
  return bytes;
}

template <typename T>
T takeNumber(std::string_view& rest, const char* what) {
  T value;
  std::memcpy(&value, take(rest, sizeof(T), what).data(), sizeof(T));
  return value;
}

template <typename T>
void takeArray(std::string_view& rest, std::uint32_t n, const char* what, std::vector<T>& out) {
  const std::string_view bytes = take(rest, std::size_t{n} * sizeof(T), what);
  out.resize(n);
  if (n > 0) std::memcpy(out.data(), bytes.data(), bytes.size());
}

inline std::string errorJson(std::string_view type, std::string_view message) {
  return nlohmann::json{{"errorType", type}, {"errorMessage", message}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace detail

// The invocation in an 'I' frame (JSON) or a 'B' frame ([u32 JSON length][JSON][per window:
// u16 name length, name, u32 n, n × i64 ts, n × f64 value]). Throws on a malformed frame.
inline Invocation parseInvocation(char type, std::string_view body) {
  if (type == 'I') return Invocation(nlohmann::json::parse(body));
  std::string_view rest = body;
  const auto json_bytes = detail::takeNumber<std::uint32_t>(rest, "its JSON length");
  nlohmann::json doc = nlohmann::json::parse(detail::take(rest, json_bytes, "its JSON"));
  std::vector<std::pair<std::string, Window>> windows;
  while (!rest.empty()) {
    const auto name_bytes = detail::takeNumber<std::uint16_t>(rest, "a window's name length");
    std::string name(detail::take(rest, name_bytes, "a window's name"));
    const auto n = detail::takeNumber<std::uint32_t>(rest, "a window's length");
    Window w;
    detail::takeArray(rest, n, "a window's timestamps", w.ts);
    detail::takeArray(rest, n, "a window's values", w.value);
    windows.emplace_back(std::move(name), std::move(w));
  }
  return Invocation(std::move(doc), std::move(windows));
}

// Tells the node the function cannot start (bad configuration, missing model, ...).
inline int initFailed(std::string_view message) {
  detail::send(detail::channel(), 'F', std::string(message));
  return 1;
}

// Serves invocations until the node closes the channel. Returns the process exit code.
inline int serve(const Handler& handler) {
  const int fd = detail::channel();
  if (!detail::send(fd, 'H', R"({"sdk":"cpp/2","binaryWindows":true})")) return 2;
  char type = 0;
  std::string body;
  while (detail::receive(fd, type, body)) {
    if (type != 'I' && type != 'B') continue;
    std::string reply;
    char kind = 'R';
    try {
      reply = handler(parseInvocation(type, body))
                  .json()
                  .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } catch (const std::exception& e) {
      kind = 'E';
      reply = detail::errorJson("Error", e.what());
    } catch (...) {
      kind = 'E';
      reply = detail::errorJson("Error", "unknown exception");
    }
    if (!detail::send(fd, kind, reply)) return 2;
  }
  return 0;
}

}  // namespace sie::worker
