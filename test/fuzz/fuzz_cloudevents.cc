// libFuzzer target: CloudEvents as HTTP ingest receives them, through the content-type dispatch
// (structured, batched), with a receive time as the fallback timestamp.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "gateway/payload_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sie::gateway;
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  static constexpr std::string_view kTypes[] = {
      "application/cloudevents+json", "application/cloudevents-batch+json", "application/json", ""};
  sie::RawMessage message{"fuzz/sensor", payload, kTypes[size % std::size(kTypes)], "http"};
  message.received_ns = 1'700'000'000'000'000'000;
  std::vector<Decoded> out;
  const sie::Status status = decodePayload(message, out);
  if (!status && (!out.empty() || status.error().message.empty())) std::abort();
  for (const Decoded& item : out) {
    if (!item.error && item.reading.values.empty()) std::abort();
  }
  return 0;
}
