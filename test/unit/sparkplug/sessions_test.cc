#include "adapters/sparkplug/sessions.h"

#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sparkplug_b.pb.h"

namespace sie::sparkplug {
namespace {

using ::testing::HasSubstr;
namespace pb = org::eclipse::tahu::protobuf;

// Builds frames as an edge node would.
class Frame {
 public:
  explicit Frame(std::uint64_t seq) {
    payload_.set_timestamp(1'700'000'000'000);
    payload_.set_seq(seq);
  }
  Frame& metric(const std::string& name, std::uint64_t alias, pb::DataType type, double value) {
    auto* m = payload_.add_metrics();
    if (!name.empty()) m->set_name(name);
    if (alias != 0) m->set_alias(alias);
    m->set_datatype(type);
    switch (type) {
      case pb::Double:
        m->set_double_value(value);
        break;
      case pb::Float:
        m->set_float_value(static_cast<float>(value));
        break;
      case pb::Boolean:
        m->set_boolean_value(value != 0);
        break;
      case pb::Int16:
      case pb::Int32:
        m->set_int_value(static_cast<std::uint32_t>(static_cast<std::int32_t>(value)));
        break;
      case pb::Int64:
        m->set_long_value(static_cast<std::uint64_t>(static_cast<std::int64_t>(value)));
        break;
      default:
        m->set_long_value(static_cast<std::uint64_t>(value));
        break;
    }
    return *this;
  }
  // A data metric by alias only, with no datatype (the birth's applies).
  Frame& aliased(std::uint64_t alias, double value) {
    auto* m = payload_.add_metrics();
    m->set_alias(alias);
    m->set_double_value(value);
    return *this;
  }
  // A data metric by alias that has no value now (is_null), with no datatype.
  Frame& null(std::uint64_t alias) {
    auto* m = payload_.add_metrics();
    m->set_alias(alias);
    m->set_is_null(true);
    return *this;
  }
  // A data metric by alias with a "Quality" property (Ignition's convention).
  Frame& withQuality(std::uint64_t alias, double value, std::int64_t code, bool as_long = false) {
    aliased(alias, value);
    auto* properties = payload_.mutable_metrics(payload_.metrics_size() - 1)->mutable_properties();
    properties->add_keys("Quality");
    auto* v = properties->add_values();
    v->set_type(as_long ? pb::Int64 : pb::Int32);
    if (as_long) {
      v->set_long_value(static_cast<std::uint64_t>(code));
    } else {
      v->set_int_value(static_cast<std::uint32_t>(static_cast<std::int32_t>(code)));
    }
    return *this;
  }
  Frame& text(const std::string& name, const std::string& value) {
    auto* m = payload_.add_metrics();
    m->set_name(name);
    m->set_datatype(pb::String);
    m->set_string_value(value);
    return *this;
  }
  [[nodiscard]] std::string bytes() const { return payload_.SerializeAsString(); }

 private:
  pb::Payload payload_;
};

class SparkplugSessionsTest : public ::testing::Test {
 protected:
  Outcome send(std::string_view topic, const std::string& bytes, std::int64_t received_ns = 42) {
    Outcome out;
    auto parsed = parseTopic(topic);
    EXPECT_TRUE(parsed) << topic;
    if (parsed) sessions_.handle(*parsed, bytes, received_ns, out);
    return out;
  }
  void birth() {
    Frame f(0);
    f.metric("bdSeq", 0, pb::Int64, 3)
        .metric("Pressure", 1, pb::Double, 4.5)
        .metric("Temp", 2, pb::Int16, -12);
    const Outcome out = send("spBv1.0/plant/NBIRTH/edge1", f.bytes());
    ASSERT_TRUE(out.errors.empty()) << out.errors.front();
  }
  Sessions sessions_;
};

TEST_F(SparkplugSessionsTest, TopicsFollowTheNamespace) {
  auto node = parseTopic("spBv1.0/g1/NDATA/e1");
  ASSERT_TRUE(node);
  EXPECT_EQ(node->group, "g1");
  EXPECT_EQ(node->type, "NDATA");
  EXPECT_EQ(node->node, "e1");
  EXPECT_EQ(node->device, "");
  auto device = parseTopic("spBv1.0/g1/DDATA/e1/pump7");
  ASSERT_TRUE(device);
  EXPECT_EQ(device->device, "pump7");
  EXPECT_FALSE(parseTopic("spAv1.0/g1/NDATA/e1"));
  EXPECT_FALSE(parseTopic("spBv1.0/g1/NDATA"));
  EXPECT_FALSE(parseTopic("spBv1.0/g1/NDATA/e1/d1"));  // N* names no device
  EXPECT_FALSE(parseTopic("spBv1.0/g1/DDATA/e1"));     // D* needs one
  EXPECT_FALSE(parseTopic("spBv1.0/g1/DDATA/e1/d1/x"));
  EXPECT_FALSE(parseTopic("spBv1.0//NDATA/e1"));
}

TEST_F(SparkplugSessionsTest, BirthThenAliasedData) {
  Frame f(0);
  f.metric("bdSeq", 0, pb::Int64, 3)
      .metric("Pressure", 1, pb::Double, 4.5)
      .metric("Temp", 2, pb::Int16, -12);
  Outcome out = send("spBv1.0/plant/NBIRTH/edge1", f.bytes());
  ASSERT_EQ(out.readings.size(), 2U);  // bdSeq is bookkeeping
  EXPECT_EQ(out.readings[0].sensor.str(), "plant/edge1/Pressure");
  EXPECT_EQ(out.readings[0].ts_ns, 1'700'000'000'000'000'000);
  EXPECT_EQ(out.readings[1].values, std::vector<double>{-12});  // two's complement decoded

  out = send("spBv1.0/plant/NDATA/edge1", Frame(1).aliased(1, 4.75).aliased(2, 3).bytes());
  ASSERT_TRUE(out.errors.empty()) << out.errors.front();
  ASSERT_EQ(out.readings.size(), 2U);
  EXPECT_EQ(out.readings[0].sensor.str(), "plant/edge1/Pressure");
  EXPECT_EQ(out.readings[0].values, std::vector<double>{4.75});
  EXPECT_FALSE(out.rebirth);
}

// A null is a bad reading with no value; a "Quality" property sets the reading's quality by its
// code (OPC DA byte or Ignition 8 level bits), with the code as the reason.
TEST_F(SparkplugSessionsTest, NullsAndQualityCodesBecomeTheReadingsQuality) {
  birth();
  Outcome out = send("spBv1.0/plant/NDATA/edge1",
                     Frame(1)
                         .null(1)
                         .withQuality(2, 20, 192)                 // OPC DA good
                         .withQuality(2, 21, 0x44)                // OPC DA uncertain
                         .withQuality(2, 22, 0)                   // OPC DA bad
                         .withQuality(2, 23, 0x80000000LL, true)  // Ignition 8 bad
                         .withQuality(2, 24, 0x40000000LL + 5)    // Ignition 8 uncertain
                         .withQuality(2, 25, 512)                 // Ignition 8 good
                         .bytes());
  ASSERT_TRUE(out.errors.empty()) << out.errors.front();
  EXPECT_EQ(out.skipped, 0U);
  ASSERT_EQ(out.readings.size(), 7U);
  EXPECT_EQ(out.readings[0].sensor.str(), "plant/edge1/Pressure");
  EXPECT_EQ(out.readings[0].quality, Quality::kBad);
  EXPECT_TRUE(std::isnan(out.readings[0].values.front()));
  EXPECT_THAT(out.readings[0].flag, HasSubstr("null"));
  const std::vector<Quality> expected{Quality::kGood, Quality::kUncertain, Quality::kBad,
                                      Quality::kBad,  Quality::kUncertain, Quality::kGood};
  for (std::size_t i = 1; i < out.readings.size(); ++i) {
    EXPECT_EQ(out.readings[i].quality, expected[i - 1]) << i;
    EXPECT_EQ(out.readings[i].flag.empty(), expected[i - 1] == Quality::kGood) << i;
  }
  EXPECT_THAT(out.readings[3].flag, HasSubstr("quality code 0"));
  // A null leaves nothing to mark stale; the other metric's last value is.
  out = send("spBv1.0/plant/NDEATH/edge1", Frame(0).metric("bdSeq", 0, pb::Int64, 3).bytes());
  ASSERT_EQ(out.readings.size(), 1U);
  EXPECT_EQ(out.readings[0].sensor.str(), "plant/edge1/Temp");
  EXPECT_EQ(out.readings[0].values, std::vector<double>{25});
}

TEST_F(SparkplugSessionsTest, DevicesHaveTheirOwnMetrics) {
  birth();
  Frame db(1);
  db.metric("Speed", 10, pb::Float, 1450).metric("Running", 11, pb::Boolean, 1).text("Model", "X1");
  Outcome out = send("spBv1.0/plant/DBIRTH/edge1/pump7", db.bytes());
  ASSERT_EQ(out.readings.size(), 2U);
  EXPECT_EQ(out.readings[0].sensor.str(), "plant/edge1/pump7/Speed");
  EXPECT_EQ(out.skipped, 1U);  // the text metric
  out = send("spBv1.0/plant/DDATA/edge1/pump7", Frame(2).aliased(11, 0).bytes());
  ASSERT_EQ(out.readings.size(), 1U);
  EXPECT_EQ(out.readings[0].sensor.str(), "plant/edge1/pump7/Running");
  EXPECT_EQ(out.readings[0].values, std::vector<double>{0});

  out = send("spBv1.0/plant/DDEATH/edge1/pump7", Frame(3).bytes());
  ASSERT_EQ(out.readings.size(), 2U);  // both metrics marked stale with their last values
  for (const auto& r : out.readings) {
    EXPECT_EQ(r.quality, Quality::kBad);
    EXPECT_THAT(r.flag, HasSubstr("stale: DDEATH of plant/edge1/pump7"));
  }
}

TEST_F(SparkplugSessionsTest, SequenceGapsAndUnknownAliasesAskForRebirth) {
  birth();
  Outcome out = send("spBv1.0/plant/NDATA/edge1", Frame(5).aliased(1, 1).bytes());
  ASSERT_EQ(out.errors.size(), 1U);
  EXPECT_THAT(out.errors[0], HasSubstr("sequence gap from plant/edge1: expected 1, got 5"));
  EXPECT_TRUE(out.rebirth);
  EXPECT_EQ(out.readings.size(), 1U);  // what can be decoded is kept

  out = send("spBv1.0/plant/NDATA/edge1", Frame(6).aliased(99, 1).bytes());
  ASSERT_EQ(out.errors.size(), 1U);
  EXPECT_THAT(out.errors[0], HasSubstr("unknown metric alias 99"));
  EXPECT_TRUE(out.rebirth);

  // The sequence wraps from 255 to 0.
  birth();
  for (std::uint64_t seq = 1; seq <= 256; ++seq) {
    out = send("spBv1.0/plant/NDATA/edge1", Frame(seq % 256).aliased(1, 1).bytes());
    ASSERT_TRUE(out.errors.empty()) << seq << ": " << out.errors.front();
  }
}

TEST_F(SparkplugSessionsTest, DataBeforeBirthAndGarbage) {
  Outcome out = send("spBv1.0/plant/NDATA/edge9", Frame(0).aliased(1, 1).bytes());
  ASSERT_EQ(out.errors.size(), 1U);
  EXPECT_THAT(out.errors[0], HasSubstr("has not been born"));
  EXPECT_TRUE(out.rebirth);
  out = send("spBv1.0/plant/NBIRTH/edge9", "\xFF\xFF\xFF garbage");
  ASSERT_EQ(out.errors.size(), 1U);
  EXPECT_THAT(out.errors[0], HasSubstr("not a Sparkplug B protobuf payload"));
  out = send("spBv1.0/plant/NSTUFF/edge9", Frame(0).bytes());
  EXPECT_THAT(out.errors[0], HasSubstr("unknown Sparkplug message type 'NSTUFF'"));
  out = send("spBv1.0/plant/NCMD/edge9", "ignored");
  EXPECT_TRUE(out.errors.empty());
}

// A template (UDT) instance is decoded member by member, "<metric>/<member>", nested templates one
// level further; its definition in the birth is not a value; its members die with the node. A
// DataSet is refused with its name and shape.
TEST_F(SparkplugSessionsTest, TemplatesBecomeTheirMembersAndDataSetsAreRefused) {
  pb::Payload born;
  born.set_seq(0);
  born.set_timestamp(1'700'000'000'000);
  auto* definition = born.add_metrics();
  definition->set_name("_types_/Motor");
  definition->set_datatype(pb::Template);
  definition->mutable_template_value()->set_is_definition(true);
  definition->mutable_template_value()->add_metrics()->set_name("Speed");
  auto* motor = born.add_metrics();
  motor->set_name("Motor1");
  motor->set_alias(7);
  motor->set_datatype(pb::Template);
  auto* value = motor->mutable_template_value();
  value->set_template_ref("Motor");
  auto* speed = value->add_metrics();
  speed->set_name("Speed");
  speed->set_datatype(pb::Double);
  speed->set_double_value(1450);
  auto* bearing = value->add_metrics();
  bearing->set_name("Bearing");
  bearing->set_datatype(pb::Template);
  auto* temp = bearing->mutable_template_value()->add_metrics();
  temp->set_name("Temp");
  temp->set_datatype(pb::Int16);
  temp->set_int_value(static_cast<std::uint32_t>(-3));
  temp->set_timestamp(1'700'000'000'500);
  auto* note = value->add_metrics();
  note->set_name("Note");
  note->set_datatype(pb::String);
  note->set_string_value("ok");
  auto* table = born.add_metrics();
  table->set_name("Batch");
  table->set_datatype(pb::DataSet);
  auto* dataset = table->mutable_dataset_value();
  dataset->set_num_of_columns(2);
  dataset->add_columns("a");
  dataset->add_columns("b");
  dataset->add_rows();
  Outcome out = send("spBv1.0/plant/NBIRTH/edge1", born.SerializeAsString());
  ASSERT_EQ(out.readings.size(), 2U);
  EXPECT_EQ(out.readings[0].sensor.str(), "plant/edge1/Motor1/Speed");
  EXPECT_EQ(out.readings[0].values[0], 1450);
  EXPECT_EQ(out.readings[0].ts_ns, 1'700'000'000'000'000'000);
  EXPECT_EQ(out.readings[1].sensor.str(), "plant/edge1/Motor1/Bearing/Temp");
  EXPECT_EQ(out.readings[1].values[0], -3);
  EXPECT_EQ(out.readings[1].ts_ns, 1'700'000'000'500'000'000);  // the member's own time
  EXPECT_EQ(out.skipped, 1U);                                   // the text member
  ASSERT_EQ(out.errors.size(), 1U);
  EXPECT_EQ(out.errors[0],
            "NBIRTH from plant/edge1: metric 'Batch' is a DataSet (2 columns, 1 rows); DataSets "
            "are not decoded into readings (publish its columns as metrics of their own)");

  // Data by alias: the template's members again.
  pb::Payload data;
  data.set_seq(1);
  data.set_timestamp(1'700'000'001'000);
  auto* update = data.add_metrics();
  update->set_alias(7);
  auto* faster = update->mutable_template_value()->add_metrics();
  faster->set_name("Speed");
  faster->set_datatype(pb::Double);
  faster->set_double_value(1500);
  out = send("spBv1.0/plant/NDATA/edge1", data.SerializeAsString());
  ASSERT_TRUE(out.errors.empty()) << out.errors.front();
  ASSERT_EQ(out.readings.size(), 1U);
  EXPECT_EQ(out.readings[0].sensor.str(), "plant/edge1/Motor1/Speed");
  EXPECT_EQ(out.readings[0].values[0], 1500);

  // The members die with the node.
  pb::Payload death;
  death.set_timestamp(1'700'000'002'000);
  out = send("spBv1.0/plant/NDEATH/edge1", death.SerializeAsString());
  std::vector<std::string> stale;
  for (const auto& reading : out.readings) stale.emplace_back(reading.sensor.str());
  EXPECT_THAT(stale, ::testing::UnorderedElementsAre("plant/edge1/Motor1/Speed",
                                                     "plant/edge1/Motor1/Bearing/Temp"));
}

// A template member is a metric of its own: a null member is a bad reading without a value, and
// a member's quality property lowers its reading, as they do for a metric.
TEST_F(SparkplugSessionsTest, TemplateMembersCarryNullsAndQualityCodes) {
  pb::Payload born;
  born.set_seq(0);
  born.set_timestamp(1'700'000'000'000);
  pb::Payload_Metric motor;
  motor.set_name("Motor1");
  motor.set_datatype(pb::Template);
  auto* members = motor.mutable_template_value()->mutable_metrics();
  pb::Payload_Metric* speed = members->Add();
  speed->set_name("Speed");
  speed->set_datatype(pb::Double);
  speed->set_is_null(true);
  pb::Payload_Metric* temp = members->Add();
  temp->set_name("Temp");
  temp->set_datatype(pb::Double);
  temp->set_double_value(41);
  auto* quality = temp->mutable_properties();
  quality->add_keys("Quality");
  auto* code = quality->add_values();
  code->set_type(pb::Int32);
  code->set_int_value(0);  // OPC DA bad
  *born.add_metrics() = motor;
  Outcome out = send("spBv1.0/plant/NBIRTH/edge1", born.SerializeAsString());
  ASSERT_TRUE(out.errors.empty()) << out.errors.front();
  ASSERT_EQ(out.readings.size(), 2U);
  EXPECT_EQ(out.readings[0].sensor.str(), "plant/edge1/Motor1/Speed");
  EXPECT_EQ(out.readings[0].quality, Quality::kBad);
  EXPECT_TRUE(std::isnan(out.readings[0].values.front()));
  EXPECT_THAT(out.readings[0].flag, HasSubstr("null"));
  EXPECT_EQ(out.readings[1].sensor.str(), "plant/edge1/Motor1/Temp");
  EXPECT_EQ(out.readings[1].quality, Quality::kBad);
  EXPECT_EQ(out.readings[1].values, std::vector<double>{41});
  EXPECT_THAT(out.readings[1].flag, HasSubstr("quality code 0"));
}

// Templates nested past the limit are refused rather than followed.
TEST_F(SparkplugSessionsTest, TemplatesNestTooDeepAreRefused) {
  pb::Payload born;
  born.set_seq(0);
  auto* metric = born.add_metrics();
  metric->set_name("Deep");
  metric->set_datatype(pb::Template);
  pb::Payload_Template* level = metric->mutable_template_value();
  for (int i = 0; i < 20; ++i) {
    auto* member = level->add_metrics();
    member->set_name("L");
    member->set_datatype(pb::Template);
    level = member->mutable_template_value();
  }
  const Outcome out = send("spBv1.0/plant/NBIRTH/edge2", born.SerializeAsString());
  ASSERT_EQ(out.errors.size(), 1U);
  EXPECT_THAT(out.errors[0], HasSubstr("nests deeper than 16 levels"));
}

TEST_F(SparkplugSessionsTest, DeathOfTheCurrentSessionOnly) {
  birth();
  send("spBv1.0/plant/NDATA/edge1", Frame(1).aliased(1, 5).bytes());
  Frame old_will(0);
  old_will.metric("bdSeq", 0, pb::Int64, 2);  // an earlier session's last will
  Outcome out = send("spBv1.0/plant/NDEATH/edge1", old_will.bytes());
  EXPECT_TRUE(out.readings.empty());
  Frame will(0);
  will.metric("bdSeq", 0, pb::Int64, 3);
  out = send("spBv1.0/plant/NDEATH/edge1", will.bytes());
  ASSERT_EQ(out.readings.size(), 2U);
  EXPECT_EQ(out.readings[0].values, std::vector<double>{5});
  EXPECT_EQ(out.readings[0].quality, Quality::kBad);
  out = send("spBv1.0/plant/NDATA/edge1", Frame(2).aliased(1, 1).bytes());
  EXPECT_TRUE(out.rebirth);  // dead until born again
}

// A death is a state change that must land: stamped with the receive time, or just after the
// metric's last reading when the edge node's clock runs ahead of ours (the gateway refuses a
// reading older than the last one), for the node's and the devices' metrics.
TEST_F(SparkplugSessionsTest, DeathsLandAfterTheLastReadingWhateverTheEdgeClock) {
  constexpr std::int64_t kDataNs = 1'700'000'000'000 * 1'000'000LL;  // Frame's timestamp
  constexpr std::int64_t kSkew = 5'000'000'000;
  for (const std::int64_t received : {kDataNs - kSkew, kDataNs + kSkew}) {  // edge ahead, behind
    sessions_ = Sessions();
    birth();
    Frame device(1);
    device.metric("Level", 7, pb::Double, 2.5);
    ASSERT_TRUE(send("spBv1.0/plant/DBIRTH/edge1/tank", device.bytes(), received).errors.empty());
    Outcome out = send("spBv1.0/plant/DDEATH/edge1/tank", Frame(2).bytes(), received);
    ASSERT_EQ(out.readings.size(), 1U);
    EXPECT_EQ(out.readings[0].ts_ns, std::max(received, kDataNs + 1));
    EXPECT_EQ(out.readings[0].quality, Quality::kBad);

    send("spBv1.0/plant/NDATA/edge1", Frame(3).aliased(1, 5).bytes(), received);
    Frame will(0);
    will.metric("bdSeq", 0, pb::Int64, 3);
    out = send("spBv1.0/plant/NDEATH/edge1", will.bytes(), received);
    ASSERT_EQ(out.readings.size(), 2U);
    for (const auto& stale : out.readings) {
      EXPECT_EQ(stale.ts_ns, std::max(received, kDataNs + 1)) << stale.sensor.str();
      EXPECT_THAT(stale.flag, HasSubstr("stale: NDEATH of plant/edge1"));
    }
  }
}

}  // namespace
}  // namespace sie::sparkplug
