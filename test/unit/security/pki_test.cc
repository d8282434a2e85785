#include "security/pki.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/file_text.h"

namespace sie::security {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kYear = std::chrono::hours(24 * 365);

class PkiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sie-pki-XXXXXX";
    root_ = ::mkdtemp(pattern);
    dir_ = root_ + "/ca";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  static int mode(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
  }

  std::string root_;
  std::string dir_;
};

TEST_F(PkiTest, IssuedIdentitiesCarryTheirSpiffeIdRoleAndNames) {
  auto ca = SiteCa::init(dir_, "plant-a", KeyType::kEcdsaP256, kYear);
  ASSERT_TRUE(ca) << ca.error().str();
  EXPECT_EQ(mode(dir_), 0700);
  EXPECT_EQ(mode(dir_ + "/ca.key"), 0600);
  auto node = ca->issue(
      {.kind = IdentityKind::kNode, .name = "edge-1", .hosts = {"10.0.0.5", "edge-1.plant"}});
  ASSERT_TRUE(node) << node.error().str();
  EXPECT_EQ(node->spiffe_id, "spiffe://plant-a/node/edge-1");
  EXPECT_EQ(mode(node->key_file), 0600);
  auto info = inspectCertificate(node->cert_file);
  ASSERT_TRUE(info) << info.error().str();
  EXPECT_EQ(info->spiffe_id, "spiffe://plant-a/node/edge-1");
  EXPECT_EQ(info->serial, node->serial);
  EXPECT_EQ(info->key_type, "ECDSA P-256");
  EXPECT_FALSE(info->is_ca);
  EXPECT_THAT(info->dns_names, ::testing::ElementsAre("localhost", "edge-1.plant"));
  EXPECT_THAT(info->ip_addresses, ::testing::ElementsAre("127.0.0.1", "::1", "10.0.0.5"));
  // Nodes last a week by default, clients a day.
  EXPECT_NEAR(info->not_after_s - std::time(nullptr), 7 * 24 * 3600, 60);
  auto client = ca->issue({.kind = IdentityKind::kClient,
                           .name = "alice",
                           .role = Role::kDeployer,
                           .key_type = KeyType::kEd25519});
  ASSERT_TRUE(client);
  info = inspectCertificate(client->cert_file);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->organization, "deployer");
  EXPECT_EQ(info->key_type, "Ed25519");
  EXPECT_NEAR(info->not_after_s - std::time(nullptr), 24 * 3600, 60);
  // A key is never mistaken for a certificate, nor shown.
  auto key = inspectCertificate(client->key_file);
  ASSERT_FALSE(key);
  EXPECT_THAT(key.error().str(), Not(HasSubstr("PRIVATE")));
}

TEST_F(PkiTest, BadNamesAndASecondInitAreRefused) {
  EXPECT_FALSE(SiteCa::init(dir_, "plant a", KeyType::kEcdsaP256, kYear));
  EXPECT_FALSE(SiteCa::init(dir_, "", KeyType::kEcdsaP256, kYear));
  auto spelled = SiteCa::init(root_ + "/spelled", "spiffe://plant-z/", KeyType::kEd25519, kYear);
  ASSERT_TRUE(spelled) << spelled.error().str();
  EXPECT_EQ(spelled->trustDomain(), "plant-z");
  auto ca = SiteCa::init(dir_, "plant-a", KeyType::kEcdsaP256, kYear);
  ASSERT_TRUE(ca);
  auto again = SiteCa::init(dir_, "plant-a", KeyType::kEcdsaP256, kYear);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kAlreadyExists);
  for (const char* name : {"", "../etc/x", "a b", "a/b", ".hidden", "x\n"}) {
    EXPECT_FALSE(ca->issue({.kind = IdentityKind::kClient, .name = name})) << name;
  }
  EXPECT_TRUE(ca->issue({.kind = IdentityKind::kDevice, .name = "rotating/p1"}));
  EXPECT_FALSE(ca->issue({.kind = IdentityKind::kDevice, .name = "rotating//p1"}));
  auto device_role = ca->issue({.kind = IdentityKind::kClient, .name = "x", .role = Role::kDevice});
  ASSERT_FALSE(device_role);
  EXPECT_THAT(device_role.error().message, HasSubstr("device identity"));
}

TEST_F(PkiTest, RenewKeepsIdentityAndKeyAndRevokeListsTheSerial) {
  auto ca = SiteCa::init(dir_, "plant-a", KeyType::kEcdsaP256, kYear);
  ASSERT_TRUE(ca);
  auto issued = ca->issue({.kind = IdentityKind::kClient,
                           .name = "alice",
                           .role = Role::kAdmin,
                           .lifetime = std::chrono::hours(2)});
  ASSERT_TRUE(issued);
  const std::string key_before = *readFileText(issued->key_file);
  auto renewed = ca->renew(issued->cert_file);
  ASSERT_TRUE(renewed) << renewed.error().str();
  EXPECT_NE(renewed->serial, issued->serial);
  EXPECT_EQ(renewed->spiffe_id, issued->spiffe_id);
  EXPECT_EQ(*readFileText(issued->key_file), key_before);
  EXPECT_NEAR(renewed->not_after_s - std::time(nullptr), 2 * 3600, 60);  // as before
  auto info = inspectCertificate(issued->cert_file);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->organization, "admin");

  ASSERT_TRUE(ca->revoke(issued->cert_file));
  const std::string crl = *readFileText(ca->crlFile());
  const std::string listed = [&] {
    const std::string cmd = "openssl crl -noout -text -in " + ca->crlFile();
    std::string out;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
      out.append(buffer, n);
    ::pclose(pipe);
    return out;
  }();
  std::string serial = renewed->serial;
  std::transform(serial.begin(), serial.end(), serial.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  EXPECT_THAT(listed, HasSubstr(serial)) << listed;
  // A revoked identity is not renewed; an unknown serial is not revoked.
  auto again = ca->renew(issued->cert_file);
  ASSERT_FALSE(again);
  EXPECT_THAT(again.error().message, HasSubstr("revoked"));
  EXPECT_FALSE(ca->revoke("00ff"));
  // Another CA's certificate is not renewed by this one.
  auto other = SiteCa::init(root_ + "/other", "plant-b", KeyType::kEcdsaP256, kYear);
  ASSERT_TRUE(other);
  auto foreign = other->issue({.kind = IdentityKind::kClient, .name = "mallory"});
  ASSERT_TRUE(foreign);
  EXPECT_FALSE(ca->renew(foreign->cert_file));
}

TEST(CallerFromCertificateTest, TheIdentityDecidesTheRole) {
  auto c = callerFromCertificate("spiffe://plant-a/client/alice", "deployer", "plant-a");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->role, Role::kDeployer);
  EXPECT_EQ(c->sensors, "");
  c = callerFromCertificate("spiffe://plant-a/client/eve", "device", "plant-a");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->role, Role::kViewer) << "a client never gets a device's role";
  c = callerFromCertificate("spiffe://plant-a/client/eve", "root", "plant-a");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->role, Role::kViewer);
  c = callerFromCertificate("spiffe://plant-a/device/rotating/p1", "", "plant-a");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->role, Role::kDevice);
  EXPECT_EQ(c->sensors, "rotating/p1/#");
  c = callerFromCertificate("spiffe://plant-a/node/edge-2", "", "plant-a");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->role, Role::kOperator);
  for (const char* id : {"spiffe://plant-b/client/alice", "spiffe://plant-a.evil/client/x",
                         "spiffe://plant-a/admin/x", "spiffe://plant-a/client/", "",
                         "https://plant-a/client/alice", "spiffe://plant-a/device/../x"}) {
    EXPECT_FALSE(callerFromCertificate(id, "admin", "plant-a")) << id;
  }
}

}  // namespace
}  // namespace sie::security
