// libFuzzer target: the CBOR telemetry decoder and the pull reader under it.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/cbor_decoder.h"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sie::gateway;
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  // Carried keys and a receive time exercise the tag and timestamp fallback paths.
  static const std::vector<std::string> carry = {"seq", "cid", "sensor"};
  DecodeContext context("fuzz/topic");
  context.carry = carry;
  if (size % 3 == 0) context.received_ns = 1'700'000'000'000'000'000;
  std::vector<Decoded> out;
  const sie::Status status = decodeCbor(payload, context, out);
  if (!status) {
    require(out.empty() && !status.error().message.empty());
    return 0;
  }
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
