// libFuzzer target: the Sparkplug B host logic. The first byte picks the message type; the rest
// is the frame, judged against a session whose node and device were born with aliased metrics.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "adapters/sparkplug/sessions.h"
#include "sparkplug_b.pb.h"

namespace {

namespace pb = org::eclipse::tahu::protobuf;

std::string birth(std::uint64_t seq) {
  pb::Payload p;
  p.set_seq(seq);
  p.set_timestamp(1'700'000'000'000);
  for (int i = 1; i <= 3; ++i) {
    auto* m = p.add_metrics();
    m->set_name("m" + std::to_string(i));
    m->set_alias(static_cast<std::uint64_t>(i));
    m->set_datatype(i == 1 ? pb::Int16 : i == 2 ? pb::Double : pb::Boolean);
    m->set_long_value(7);
  }
  return p.SerializeAsString();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sie::sparkplug;
  if (size == 0) return 0;
  static const std::string node_birth = birth(0);
  static const std::string device_birth = birth(1);
  static constexpr std::string_view kTopics[] = {
      "spBv1.0/g/NBIRTH/n",  "spBv1.0/g/NDATA/n",    "spBv1.0/g/NDEATH/n", "spBv1.0/g/DBIRTH/n/d",
      "spBv1.0/g/DDATA/n/d", "spBv1.0/g/DDEATH/n/d", "spBv1.0/g/NCMD/n",   "spBv1.0/g/NDATA/other"};
  Sessions sessions;
  Outcome out;
  sessions.handle(*parseTopic(kTopics[0]), node_birth, 1, out);
  sessions.handle(*parseTopic(kTopics[3]), device_birth, 1, out);
  const std::string_view topic = kTopics[data[0] % std::size(kTopics)];
  const std::string_view frame(reinterpret_cast<const char*>(data + 1), size - 1);
  out = Outcome{};
  sessions.handle(*parseTopic(topic), frame, 2, out);
  for (const auto& reading : out.readings) {
    if (reading.values.size() != 1 || reading.sensor.empty()) std::abort();
  }
  for (const auto& error : out.errors) {
    if (error.empty()) std::abort();
  }
  // The topic parser takes the raw bytes too.
  (void)parseTopic(frame);
  return 0;
}
