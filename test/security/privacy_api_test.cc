// Reads through the API by callers that are not admins pass spec.privacy.api: a viewer sees the
// badge's pseudonym and coarse times and values, an admin what the node holds.
#include <fstream>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "authz_fixture.h"
#include "privacy/pseudonymizer.h"

namespace sie {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class PrivacyApiTest : public AuthzTest {
 protected:
  void SetUp() override {
    AuthzTest::SetUp();
    { std::ofstream(data_.file("privacy.key")) << key_ << "\n"; }
    site_text_ = std::string(kSite) + fmt::format(R"(  privacy:
    keyFile: {}
    personal: [tags.badge]
    api:
      - {{field: tags.badge, action: pseudonymize}}
      - {{field: ts_ns, action: generalize, period: 1h}}
      - {{field: value, action: generalize, step: 10}}
)",
                                                  data_.file("privacy.key"));
    restart();
  }
  std::string key_ = std::string(40, 'v');
};

TEST_F(PrivacyApiTest, ViewersSeePseudonymsAndCoarseValuesAdminsTheReadings) {
  Telemetry reading{Symbol::intern("grid/desk/voltage"), 1700000123456789000, {257}};
  reading.tags = {{"badge", "B-4001"}};
  ASSERT_TRUE(node_->ingest().ingest(std::move(reading), "test"));
  ASSERT_TRUE(testing::waitUntil([&] {
    const Reply r = call("GET", "/api/v1/decisions");
    return r.status == 200 && r.body.is_array() && !r.body.empty();
  }));
  const std::string pseudonym =
      privacy::Pseudonymizer::fromKey(key_, "test")->pseudonym("B-4001", 16);
  const std::string viewer = issue("screen", "viewer");

  const Reply admin = call("GET", "/api/v1/decisions");
  EXPECT_EQ(admin.body[0]["tags"]["badge"], "B-4001");
  EXPECT_EQ(admin.body[0]["value"], 257);

  const Reply decisions = as(viewer, "GET", "/api/v1/decisions");
  ASSERT_EQ(decisions.status, 200) << decisions.text;
  EXPECT_THAT(decisions.text, Not(HasSubstr("B-4001")));
  EXPECT_EQ(decisions.body[0]["tags"]["badge"], pseudonym);
  EXPECT_EQ(decisions.body[0]["value"], 260);
  EXPECT_EQ(decisions.body[0]["ts_ns"], 1699999200000000000);

  const Reply readings = as(viewer, "GET", "/api/v1/events?sensor=grid/desk/voltage");
  ASSERT_EQ(readings.status, 200) << readings.text;
  ASSERT_EQ(readings.body["readings"].size(), 1U) << readings.text;
  EXPECT_EQ(readings.body["readings"][0]["ts_ns"], 1699999200000000000);
  EXPECT_EQ(readings.body["readings"][0]["time"], "2023-11-14T22:00:00.000000000Z");
  EXPECT_EQ(readings.body["readings"][0]["value"], 260);

  const Reply audit = as(viewer, "GET", "/api/v1/audit?limit=100");
  ASSERT_EQ(audit.status, 200) << audit.text;
  EXPECT_THAT(audit.text, HasSubstr(pseudonym));  // the anomaly's record, pseudonymized
  EXPECT_THAT(audit.text, Not(HasSubstr("B-4001")));
  EXPECT_THAT(call("GET", "/api/v1/audit?limit=100").text, HasSubstr("B-4001"));
}

TEST_F(PrivacyApiTest, AnApiWithoutARuleForAPersonalFieldIsRefused) {
  site_text_ = std::string(kSite) + "  privacy: {personal: [tags.badge]}\n";
  auto site = node::parseSite({"t/site.yaml", site_text_}, {});
  ASSERT_FALSE(site);
  EXPECT_THAT(site.error().str(),
              HasSubstr("spec.privacy.api would send the personal field tags.badge"));
  node_->stop();
  node_.reset();
}

}  // namespace
}  // namespace sie
