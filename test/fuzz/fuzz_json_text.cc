// libFuzzer target: JSON from callers (parseJson). Whatever it accepts is nested at most
// kMaxJsonDepth deep, so copying and dumping it (recursive in nlohmann::json) stays bounded;
// whatever it refuses comes with a message.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json_text.h"

namespace {

std::size_t depthOf(const nlohmann::json& doc) {
  std::size_t deepest = 0;
  if (doc.is_structured()) {
    for (const auto& child : doc) deepest = std::max(deepest, depthOf(child));
    return deepest + 1;
  }
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);  // NOLINT: bytes
  auto doc = sie::parseJson(input, 8);
  if (!doc) {
    if (doc.error().message.empty()) std::abort();
    return 0;
  }
  if (depthOf(*doc) > 8) std::abort();
  const nlohmann::json copy = *doc;
  (void)copy.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
