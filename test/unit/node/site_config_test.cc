#include "config/site_config.h"

#include <gtest/gtest.h>

#include "config/demo_site.h"

namespace sie::node {
namespace {

constexpr const char* kSite = R"(apiVersion: sie/v1
kind: Site
metadata: {name: line-3}
spec:
  dataDir: /tmp/x
  http: 127.0.0.1:0
  functions: fns
  sources:
    - {name: plant, type: sim, seed: 7}
  dispatcher: {queueCapacity: 100, overload: dead-letter, workers: 3}
  routes:
    - match: "grid/#"
)";

TEST(SiteConfigTest, ParsesSpecAndPicksManifestsFromItsFunctionsFolder) {
  const std::vector<SourceText> files = {{"sites/a/fns/one.yaml", "x"},
                                         {"sites/a/fns/sub/two.yaml", "x"},
                                         {"sites/a/other/three.yaml", "x"}};
  auto site = parseSite({"sites/a/site.yaml", kSite}, files);
  ASSERT_TRUE(site) << site.error().str();
  EXPECT_EQ(site->name, "line-3");
  EXPECT_EQ(site->data_dir, "/tmp/x");
  EXPECT_EQ(site->http, "127.0.0.1:0");
  ASSERT_EQ(site->sources.size(), 1u);
  EXPECT_EQ(site->sources[0].type, "sim");
  EXPECT_EQ(site->dispatcher.queue_capacity, 100u);
  EXPECT_EQ(site->dispatcher.overload, OverloadPolicy::kDeadLetter);
  EXPECT_EQ(site->dispatcher.workers, 3);
  EXPECT_TRUE(site->routes.IsSequence());
  ASSERT_EQ(site->function_files.size(), 1u);
  EXPECT_EQ(site->function_files[0].path, "sites/a/fns/one.yaml");
}

TEST(SiteConfigTest, ErrorsAreSpecific) {
  auto bad_policy = parseSite(
      {"s.yaml", std::string(kSite).replace(std::string(kSite).find("dead-letter"), 11, "panic")},
      {});
  ASSERT_FALSE(bad_policy);
  EXPECT_EQ(bad_policy.error().where, "s.yaml:10");
  EXPECT_NE(bad_policy.error().message.find("block, drop-oldest or dead-letter"),
            std::string::npos);

  auto unknown = parseSite({"s.yaml", std::string(kSite) + "  colour: blue\n"}, {});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("unknown key 'spec.colour'"), std::string::npos);

  auto nameless = parseSite(
      {"s.yaml", std::string(kSite).replace(std::string(kSite).find("name: plant, "), 13, "")}, {});
  ASSERT_FALSE(nameless);
  EXPECT_NE(nameless.error().message.find("needs a name and a type"), std::string::npos);

  EXPECT_FALSE(parseSite({"s.yaml", "apiVersion: sie/v1\nkind: Function\n"}, {}));
  EXPECT_FALSE(parseSite({"s.yaml", "{{{{"}, {}));
  EXPECT_FALSE(loadSite("/nonexistent/site.yaml"));
}

TEST(SiteConfigTest, AuditSealingHasDefaultsAndIsConfigurable) {
  auto plain = parseSite({"sites/a/site.yaml", kSite}, {});
  ASSERT_TRUE(plain) << plain.error().str();
  EXPECT_EQ(plain->audit.seal.key_file, "");  // <dataDir>/audit.key
  EXPECT_EQ(plain->audit.seal.checkpoint_records, 1000u);
  EXPECT_EQ(plain->audit.seal.checkpoint_interval, std::chrono::seconds(60));
  EXPECT_EQ(plain->audit.seal.export_file, "");
  EXPECT_EQ(plain->audit.seal.max_records, 0u);
  EXPECT_DOUBLE_EQ(plain->audit.anomalies_per_second, 1);

  auto site = parseSite({"sites/a/site.yaml", std::string(kSite) + R"(  audit:
    keyFile: keys/audit.key
    checkpointRecords: 500
    checkpointInterval: 10s
    exportFile: /mnt/audit/checkpoints.jsonl
    maxRecords: 100000
    maxAge: 720h
    anomaliesPerSecond: 5
    anomalyBurst: 50
)"},
                        {});
  ASSERT_TRUE(site) << site.error().str();
  EXPECT_EQ(site->audit.seal.key_file, "sites/a/keys/audit.key");
  EXPECT_EQ(site->audit.seal.checkpoint_records, 500u);
  EXPECT_EQ(site->audit.seal.checkpoint_interval, std::chrono::seconds(10));
  EXPECT_EQ(site->audit.seal.export_file, "/mnt/audit/checkpoints.jsonl");
  EXPECT_EQ(site->audit.seal.max_records, 100000u);
  EXPECT_EQ(site->audit.seal.max_age, std::chrono::hours(720));
  EXPECT_DOUBLE_EQ(site->audit.anomalies_per_second, 5);
  EXPECT_DOUBLE_EQ(site->audit.anomaly_burst, 50);

  auto tiny = parseSite({"s.yaml", std::string(kSite) + "  audit: {maxRecords: 3}\n"}, {});
  ASSERT_FALSE(tiny);
  EXPECT_NE(tiny.error().message.find("'spec.audit.maxRecords' must be 0 or 10 or more (got 3)"),
            std::string::npos);
  auto unsealed = parseSite(
      {"s.yaml", std::string(kSite) +
                     "  audit: {checkpointRecords: 0, checkpointInterval: 0s, maxAge: 1h}\n"},
      {});
  ASSERT_FALSE(unsealed);
  EXPECT_NE(unsealed.error().message.find("prune only after a checkpoint"), std::string::npos);
}

TEST(SiteConfigTest, PrivacyRulesAreReadPerSinkAndPersonalFieldsMustBeCovered) {
  const std::string privacy = std::string(kSite) + R"(  privacy:
    personal: [tags.operator]
    api: [{field: tags.operator, action: drop}]
  sinks:
    - name: cloud
      type: mqtt
      privacy: [{field: tags.operator, action: drop}, {field: value, action: generalize, digits: 1}]
    - name: plc
      type: modbus
      privacy: [{field: tags.operator, action: drop}]
)";
  auto site = parseSite({"s.yaml", privacy}, {});
  ASSERT_TRUE(site) << site.error().str();
  ASSERT_NE(site->privacy.forSink("cloud")->ruleFor("value"), nullptr);
  EXPECT_EQ(site->privacy.forSink("plc")->ruleFor("value"), nullptr);
  EXPECT_NE(site->privacy.api->ruleFor("tags.operator"), nullptr);

  std::string uncovered = privacy;
  uncovered.replace(uncovered.rfind("privacy: [{field: tags.operator, action: drop}]"),
                    std::string("privacy: [{field: tags.operator, action: drop}]").size(),
                    "unitId: 1");
  auto refused = parseSite({"s.yaml", uncovered}, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().str().substr(0, 7), "s.yaml:");
  EXPECT_NE(refused.error().message.find("sink 'plc' would send the personal field tags.operator"),
            std::string::npos)
      << refused.error().str();
}

TEST(SiteConfigTest, ASourceMarksTheTagsItCarriesAsPersonal) {
  const std::string site = std::string(kSite) + R"(  sinks:
    - {name: cloud, type: mqtt}
)";
  std::string marked = site;
  marked.replace(marked.find("seed: 7}"), 8, "seed: 7, personal: [badge]}");
  auto refused = parseSite({"s.yaml", marked}, {});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("sink 'cloud' would send the personal field tags.badge"),
            std::string::npos)
      << refused.error().str();

  std::string bad = site;
  bad.replace(bad.find("seed: 7}"), 8, "seed: 7, personal: [tags.badge]}");
  auto dotted = parseSite({"s.yaml", bad}, {});
  ASSERT_FALSE(dotted);
  EXPECT_NE(dotted.error().message.find("without 'tags.'"), std::string::npos);
}

TEST(SiteConfigTest, TheBuiltInDemoSiteLoads) {
  auto site = loadDemoSite();
  ASSERT_TRUE(site) << site.error().str();
  EXPECT_EQ(site->name, "demo");
  EXPECT_FALSE(site->sources.empty());
  EXPECT_GE(site->function_files.size(), 5u);  // one function per domain at least
}

}  // namespace
}  // namespace sie::node
