#include "cli/client_output.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace sie::cli {
namespace {

TEST(JsonToYamlTest, NestedBlockStyleKeepsKeyOrder) {
  const Json value = Json::parse(R"({"name":"pump","scaling":{"min":1,"max":4},
                                     "triggers":["a/+/b","c/#"],"prewarm":false,"x":null})");
  EXPECT_EQ(jsonToYaml(value),
            "name: pump\n"
            "scaling:\n  min: 1\n  max: 4\n"
            "triggers:\n  - a/+/b\n  - c/#\n"
            "prewarm: false\n"
            "x: ~");
}

TEST(JsonToYamlTest, NumbersAsJsonSpellsThem) {
  EXPECT_EQ(jsonToYaml(Json::parse(R"({"v":3.2,"count":-7,"big":12345678901234})")),
            "v: 3.2\ncount: -7\nbig: 12345678901234");
}

TEST(JsonToYamlTest, KeysThatReadAsOtherTypesAreQuoted) {
  EXPECT_EQ(jsonToYaml(Json::parse(R"({"n":1,"1":2,"on":3})")), "\"n\": 1\n\"1\": 2\n\"on\": 3");
}

TEST(JsonToYamlTest, EmptyContainersInFlowStyle) {
  EXPECT_EQ(jsonToYaml(Json::parse(R"({"a":[],"o":{}})")), "a: []\no: {}");
  EXPECT_EQ(jsonToYaml(Json::array()), "[]");
}

TEST(JsonToYamlTest, StringsThatReadAsOtherTypesAreQuoted) {
  const Json value = Json::parse(
      R"({"version":"1","t":"true","y":"yes","n":"null","e":"","f":"3.5e2","d":"2024-01-01",
          "time":"12:30","plain":"pump-1","spaced":" x","multi":"a\nb"})");
  const std::string yaml = jsonToYaml(value);
  // Reading it back gives the same strings, and the quoted ones are not plain scalars.
  const YAML::Node back = YAML::Load(yaml);
  for (const auto& [key, item] : value.items()) {
    ASSERT_TRUE(back[key]) << key;
    EXPECT_EQ(back[key].as<std::string>(), item.get<std::string>()) << key;
  }
  for (const char* quoted : {"version", "t", "y", "n", "e", "f", "d", "time"}) {
    EXPECT_NE(back[quoted].Tag(), "?") << quoted << " should be quoted in:\n" << yaml;
  }
  EXPECT_NE(yaml.find("plain: pump-1\n"), std::string::npos) << yaml;
}

TEST(CellTextTest, StringsRawNullDashOthersJson) {
  EXPECT_EQ(cellText(Json("pump")), "pump");
  EXPECT_EQ(cellText(Json()), "-");
  EXPECT_EQ(cellText(Json(3)), "3");
  EXPECT_EQ(cellText(Json(true)), "true");
  EXPECT_EQ(cellText(Json::parse(R"(["a",1])")), R"(["a",1])");
}

TEST(MemberTest, MissingOrNotAnObjectIsNull) {
  const Json object = Json::parse(R"({"a":1})");
  EXPECT_EQ(member(object, "a"), Json(1));
  EXPECT_TRUE(member(object, "b").is_null());
  EXPECT_TRUE(member(Json::array(), "a").is_null());
  EXPECT_TRUE(member(Json(), "a").is_null());
}

TEST(RenderTableTest, PadsColumnsToTheWidestCell) {
  EXPECT_EQ(renderTable({"NAME", "VERSION", "RESULT"},
                        {{"pump-health", "2", "updated (was 1)"}, {"a", "10", "created"}}),
            "NAME          VERSION   RESULT\n"
            "pump-health   2         updated (was 1)\n"
            "a             10        created\n");
}

TEST(RenderTableTest, CountsCodePointsAndFillsShortRows) {
  EXPECT_EQ(renderTable({"A", "B", "C"}, {{"ü—", "x"}, {"abc", "y", "z"}}),
            "A     B   C\n"
            "ü—    x\n"
            "abc   y   z\n");
}

TEST(RenderTableTest, HeaderOnlyWhenNoRows) {
  EXPECT_EQ(renderTable({"NAME", "VERSION"}, {}), "NAME   VERSION\n");
}

TEST(RenderFieldsTest, AlignsValuesAndContinuesLines) {
  EXPECT_EQ(renderFields({{"Name", {"pump"}},
                          {"Artifact", {}},
                          {"Triggers", {"a/+/b", "c/#"}},
                          {"Dead letters", {"0"}}}),
            "Name:          pump\n"
            "Triggers:      a/+/b\n"
            "               c/#\n"
            "Dead letters:  0\n");
}

TEST(RefusalTest, FromTheNodesErrorJson) {
  const Refusal r = parseRefusal(
      400, R"({"error":"invalid","message":"spec.scaling.max must be >= min","field":"max",
               "where":"request:12"})");
  EXPECT_EQ(r.message, "spec.scaling.max must be >= min");
  EXPECT_EQ(r.field, "max");
  EXPECT_EQ(r.where, "request:12");
  EXPECT_EQ(refusalText(r), "spec.scaling.max must be >= min (field: max) at request:12");
  EXPECT_EQ(refusalText(parseRefusal(404, R"({"error":"not_found","message":"no such"})")),
            "no such");
}

TEST(RefusalTest, BodyThatIsNotTheErrorShape) {
  EXPECT_EQ(refusalText(parseRefusal(502, "<html>Bad Gateway</html>\n<body>...")),
            "HTTP 502: <html>Bad Gateway</html>");
  EXPECT_EQ(refusalText(parseRefusal(500, "")), "HTTP 500");
  EXPECT_EQ(refusalText(parseRefusal(400, R"({"detail":"x"})")), R"(HTTP 400: {"detail":"x"})");
}

TEST(DocumentWhereTest, MapsRequestLinesIntoTheFile) {
  EXPECT_EQ(documentWhere("request:3", "fns/pump.yaml", 20), "fns/pump.yaml:22");
  EXPECT_EQ(documentWhere("request:1", "fns/pump.yaml", 1), "fns/pump.yaml:1");
  EXPECT_EQ(documentWhere("request", "fns/pump.yaml", 20), "fns/pump.yaml:20");
  EXPECT_EQ(documentWhere("", "fns/pump.yaml", 20), "fns/pump.yaml:20");
  EXPECT_EQ(documentWhere("request:x", "fns/pump.yaml", 20), "request:x");
  EXPECT_EQ(documentWhere("spec.scaling", "fns/pump.yaml", 20), "spec.scaling");
}

TEST(FormatUptimeTest, LargestUnitFirst) {
  EXPECT_EQ(formatUptime(0), "0s");
  EXPECT_EQ(formatUptime(12.9), "12s");
  EXPECT_EQ(formatUptime(250), "4m 10s");
  EXPECT_EQ(formatUptime(3 * 3600 + 2 * 60 + 5), "3h 02m 05s");
  EXPECT_EQ(formatUptime(-4), "0s");
}

}  // namespace
}  // namespace sie::cli
