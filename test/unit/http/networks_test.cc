#include "http/networks.h"

#include <gtest/gtest.h>

namespace sie::http {
namespace {

TEST(NetworkListTest, AddressesMatchTheirNetworksOnly) {
  auto list = NetworkList::parse({"127.0.0.0/8", "::1/128", "10.20.0.0/16", "192.168.1.7"});
  ASSERT_TRUE(list) << list.error().str();
  EXPECT_TRUE(list->contains("127.0.0.1"));
  EXPECT_TRUE(list->contains("127.255.1.2"));
  EXPECT_TRUE(list->contains("::1"));
  EXPECT_TRUE(list->contains("10.20.3.4"));
  EXPECT_TRUE(list->contains("192.168.1.7"));
  EXPECT_TRUE(list->contains("::ffff:10.20.0.9")) << "IPv4-mapped IPv6 is the IPv4 address";
  EXPECT_FALSE(list->contains("10.21.0.1"));
  EXPECT_FALSE(list->contains("192.168.1.8"));
  EXPECT_FALSE(list->contains("169.254.169.254"));
  EXPECT_FALSE(list->contains("::2"));
  EXPECT_FALSE(list->contains("::ffff:169.254.169.254"));
  EXPECT_FALSE(list->contains("not an address"));
  auto odd = NetworkList::parse({"10.0.0.0/12"});
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains("10.15.255.255"));
  EXPECT_FALSE(odd->contains("10.16.0.0"));
  EXPECT_TRUE(NetworkList::parse({"0.0.0.0/0"})->contains("8.8.8.8"));
}

TEST(NetworkListTest, MalformedEntriesAreNamed) {
  for (const char* bad :
       {"10.0.0.0/33", "::/129", "10.0.0/8", "host.example", "10.0.0.0/x", "10.0.0.0/", ""}) {
    auto list = NetworkList::parse({bad});
    ASSERT_FALSE(list) << bad;
    EXPECT_NE(list.error().message.find(std::string("'") + bad + "'"), std::string::npos)
        << list.error().message;
  }
}

}  // namespace
}  // namespace sie::http
