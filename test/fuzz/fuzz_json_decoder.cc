// libFuzzer target: the JSON telemetry decoder and its syntax-error locator.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/json_decoder.h"
#include "gateway/json_syntax.h"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sie::gateway;
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  // The length's parity picks the flavor, so both paths are explored.
  const JsonFlavor flavor = size % 2 == 1 ? JsonFlavor::kCloudEvents : JsonFlavor::kAny;
  // Carried keys and a receive time exercise the tag and timestamp fallback paths.
  static const std::vector<std::string> carry = {"seq", "cid", "sensor"};
  DecodeContext context("fuzz/topic");
  context.carry = carry;
  if (size % 3 == 0) context.received_ns = 1'700'000'000'000'000'000;
  std::vector<Decoded> out;
  const sie::Status status = decodeJson(payload, context, flavor, out);
  if (!status) {
    require(out.empty() && !status.error().message.empty());
    return 0;
  }
  // simdjson accepted the text: the locator must agree it is valid.
  require(!findJsonSyntaxError(payload));
  for (const Decoded& item : out) {
    if (item.error) {
      require(!item.error->message.empty());
      continue;
    }
    require(!item.reading.sensor.empty());
    require(!item.reading.values.empty());
    require(item.reading.values.size() == 1 || item.reading.sample_period_ns > 0);
  }
  return 0;
}
