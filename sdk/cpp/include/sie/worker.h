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
// then answers each 'I' (invocation JSON) with 'R' (result JSON) or 'E' (error JSON). A throwing
// handler answers 'E'; the worker keeps serving. End of channel: serve() returns 0.
// The JSON on both sides is described in docs/PROCESS.md.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
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
  explicit Invocation(nlohmann::json doc) : doc_(std::move(doc)) {}

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
      for (const auto& w : kv)
        writes.push_back({{"key", w.key}, {"value", w.value}, {"ttlMs", w.ttl_ms}});
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

inline std::string errorJson(std::string_view type, std::string_view message) {
  return nlohmann::json{{"errorType", type}, {"errorMessage", message}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace detail

// Tells the node the function cannot start (bad configuration, missing model, ...).
inline int initFailed(std::string_view message) {
  detail::send(detail::channel(), 'F', std::string(message));
  return 1;
}

// Serves invocations until the node closes the channel. Returns the process exit code.
inline int serve(const Handler& handler) {
  const int fd = detail::channel();
  if (!detail::send(fd, 'H', R"({"sdk":"cpp/1"})")) return 2;
  char type = 0;
  std::string body;
  while (detail::receive(fd, type, body)) {
    if (type != 'I') continue;
    std::string reply;
    char kind = 'R';
    try {
      nlohmann::json doc = nlohmann::json::parse(body);
      reply = handler(Invocation(std::move(doc)))
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
