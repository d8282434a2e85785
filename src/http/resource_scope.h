// What a caller admitted before its body was read may do with the resources the body names: the
// sensors of an ingest's readings, the function a deploy's manifest names. The admission check
// (ServerOptions::admit) decides it from the caller's credential and the site's policy; the
// handlers that parse the body ask it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sie::http {

enum class ResourceKind : std::uint8_t {
  kNone,      // the request names no function or sensor (status, keys, tokens, ...)
  kFunction,  // a function, by name
  kSensor,    // a sensor of an ingest, by topic
};

class ResourceScope {
 public:
  virtual ~ResourceScope() = default;
  // nullopt when the caller may act on the resource; otherwise why not, for a 403.
  [[nodiscard]] virtual std::optional<std::string> refusal(ResourceKind kind,
                                                           std::string_view name) const = 0;
};

}  // namespace sie::http
