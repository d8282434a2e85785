#include "http/http_client.h"

#include <gtest/gtest.h>

namespace sie::http {
namespace {

TEST(UrlTest, SplitsSchemeHostPortAndTarget) {
  auto url = parseUrl("https://10.0.0.5:8443/hooks/plant?x=1");
  ASSERT_TRUE(url) << url.error().str();
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->host, "10.0.0.5");
  EXPECT_EQ(url->port, "8443");
  EXPECT_EQ(url->target, "/hooks/plant?x=1");
  url = parseUrl("http://historian");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->port, "80");
  EXPECT_EQ(url->target, "/");
  EXPECT_EQ(parseUrl("https://historian/")->port, "443");
}

// One parser for every client (the webhook sink once had its own, which broke on [::1]:port).
TEST(UrlTest, IPv6HostsGoInBrackets) {
  auto url = parseUrl("http://[::1]:8080/in");
  ASSERT_TRUE(url) << url.error().str();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, "8080");
  EXPECT_EQ(url->target, "/in");
  url = parseUrl("https://[fd00::5]/");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "fd00::5");
  EXPECT_EQ(url->port, "443");
  EXPECT_EQ(hostHeader("::1", "8080"), "[::1]:8080");
  EXPECT_EQ(hostHeader("historian", "80"), "historian:80");
}

TEST(UrlTest, BadUrlsSayWhatIsWrong) {
  EXPECT_NE(parseUrl("ftp://x/").error().message.find("not an http:// or https:// URL"),
            std::string::npos);
  for (const char* bad : {"http://h:0/", "http://h:65536/", "http://h:80x/", "http://h:/"}) {
    auto url = parseUrl(bad);
    ASSERT_FALSE(url) << bad;
    EXPECT_NE(url.error().message.find("port must be a number from 1 to 65535"), std::string::npos)
        << url.error().message;
  }
  EXPECT_NE(parseUrl("http://[::1/").error().message.find("IPv6 host goes in brackets"),
            std::string::npos);
  EXPECT_NE(parseUrl("http:///x").error().message.find("has no host"), std::string::npos);
}

}  // namespace
}  // namespace sie::http
