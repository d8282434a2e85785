// Mutual TLS on the node's listener, attacked and used by clients no one here wrote (curl,
// openssl s_client) and by the sie CLI through a context file: only TLS 1.3, only certificates
// the site CA issued for its trust domain, not expired, not revoked; the role comes from the
// certificate; renewed certificates and CRLs are loaded without a restart.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "node/node.h"
#include "security/pki.h"
#include "servers.h"
#include "sie/plugins.h"

namespace sie {
namespace {

using security::IdentityKind;
using security::Role;
using security::SiteCa;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kYear = std::chrono::hours(24 * 365);

struct Reply {
  int status = 0;  // 0: no HTTP answer (the TLS handshake failed)
  nlohmann::json body;
  std::string text;
};

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    ASSERT_TRUE(registerBuiltinPlugins(plugins_));
    auto ca = SiteCa::init(pki_.file("plant-a"), "plant-a", security::KeyType::kEcdsaP256, kYear);
    ASSERT_TRUE(ca) << ca.error().str();
    ca_.emplace(std::move(*ca));
    node_cert_ = issue(IdentityKind::kNode, "edge-1");
    operator_ = issue(IdentityKind::kClient, "alice", Role::kOperator);
    viewer_ = issue(IdentityKind::kClient, "bob", Role::kViewer);
  }
  void TearDown() override {
    if (node_) node_->stop();
  }

  security::IssuedIdentity issue(IdentityKind kind, const std::string& name,
                                 Role role = Role::kViewer,
                                 std::chrono::seconds lifetime = std::chrono::seconds(0)) {
    auto issued = ca_->issue({.kind = kind, .name = name, .role = role, .lifetime = lifetime});
    EXPECT_TRUE(issued) << issued.error().str();
    return issued ? *issued : security::IssuedIdentity{};
  }

  void start(const std::string& extra_tls = "", const std::string& http = "127.0.0.1:0") {
    const std::string site = fmt::format(R"(apiVersion: sie/v1
kind: Site
metadata: {{name: tls-test}}
spec:
  http: "{}"
  summaryInterval: 0
  security:
    tls:
      certFile: {}
      keyFile: {}
      caFile: {}
      crlFile: {}
      reloadInterval: 100ms
{})",
                                         http, node_cert_.cert_file, node_cert_.key_file,
                                         ca_file_.empty() ? ca_->caFile() : ca_file_,
                                         crl_file_.empty() ? ca_->crlFile() : crl_file_, extra_tls);
    auto parsed = node::parseSite({"t/site.yaml", site}, {});
    ASSERT_TRUE(parsed) << parsed.error().str();
    parsed->data_dir = data_.path();
    auto made = node::Node::create(std::move(*parsed), plugins_);
    ASSERT_TRUE(made) << made.error().str();
    node_ = std::move(*made);
    auto started = node_->start();
    ASSERT_TRUE(started) << started.error().str();
  }

  [[nodiscard]] std::string url(const std::string& path) const {
    return fmt::format("https://127.0.0.1:{}{}", node_->httpPort(), path);
  }

  // curl as the holder of `who` (no certificate when its files are empty).
  Reply curl(const security::IssuedIdentity& who, const std::string& method,
             const std::string& path, const std::string& body = "",
             const std::string& args = "-H 'Content-Type: application/json'") {
    const std::string file = data_.file(fmt::format("body-{}", files_++));
    std::ofstream(file, std::ios::binary) << body;
    const std::string out = testing::capture(fmt::format(
        "curl -s -w '\\n%{{http_code}}' --cacert {} {} -X {} '{}' {} {} 2>/dev/null", ca_->caFile(),
        who.cert_file.empty() ? "" : fmt::format("--cert {} --key {}", who.cert_file, who.key_file),
        method, url(path), args, body.empty() ? "" : "--data-binary @" + file));
    Reply reply;
    const std::size_t cut = out.rfind('\n');
    reply.status = std::atoi(out.c_str() + cut + 1);
    reply.text = out.substr(0, cut);
    reply.body = nlohmann::json::parse(reply.text, nullptr, false);
    return reply;
  }

  // The TLS refusals the node audited, newest last.
  std::vector<nlohmann::json> tlsRefusals() {
    std::vector<nlohmann::json> out;
    const auto records = node_->state().audit().tail(1000);
    for (const auto& record : *records) {
      if (record.kind != "security") continue;
      auto body = nlohmann::json::parse(record.body);
      if (body.value("reason", "") == "tls_refused") out.push_back(std::move(body));
    }
    return out;
  }

  testing::TempDir pki_;
  testing::TempDir data_;
  std::optional<SiteCa> ca_;
  std::string ca_file_;   // "" for the site CA's own file
  std::string crl_file_;  // "" for the site CA's own CRL
  security::IssuedIdentity node_cert_;
  security::IssuedIdentity operator_;
  security::IssuedIdentity viewer_;
  Plugins plugins_;
  std::unique_ptr<node::Node> node_;
  int files_ = 0;
};

TEST_F(TlsTest, CurlWithASiteCertificateIsServedOverTls13Only) {
  start();
  Reply r = curl(operator_, "GET", "/api/v1/status");
  EXPECT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["site"], "tls-test");
  // Older protocol versions and plain HTTP get nothing.
  const std::string cert =
      fmt::format("--cert {} --key {}", operator_.cert_file, operator_.key_file);
  EXPECT_NE(testing::run(fmt::format("curl -sf --tls-max 1.2 --cacert {} {} {} >/dev/null 2>&1",
                                     ca_->caFile(), cert, url("/api/v1/status"))),
            0);
  EXPECT_NE(testing::run(fmt::format("curl -sf http://127.0.0.1:{}/api/v1/status >/dev/null 2>&1",
                                     node_->httpPort())),
            0);
  // openssl s_client: TLS 1.3, the node's chain verifies against the site CA.
  const std::string s_client = testing::capture(
      fmt::format("echo | openssl s_client -connect 127.0.0.1:{} -CAfile {} -cert {} -key {} 2>&1",
                  node_->httpPort(), ca_->caFile(), operator_.cert_file, operator_.key_file));
  EXPECT_THAT(s_client, HasSubstr("TLSv1.3"));
  EXPECT_THAT(s_client, HasSubstr("Verify return code: 0 (ok)"));
  const std::string old = testing::capture(
      fmt::format("echo | openssl s_client -tls1_2 -connect 127.0.0.1:{} -CAfile {} 2>&1",
                  node_->httpPort(), ca_->caFile()));
  EXPECT_THAT(old, HasSubstr("alert protocol version")) << old;
}

TEST_F(TlsTest, CertificatesTheSiteDidNotIssueOrNoLongerTrustsAreRefused) {
  // A second CA in the node's trust bundle, for another trust domain: its clients chain fine
  // but are not of this site.
  testing::TempDir other_dir;
  auto other =
      SiteCa::init(other_dir.file("plant-b"), "plant-b", security::KeyType::kEd25519, kYear);
  ASSERT_TRUE(other) << other.error().str();
  auto foreign =
      other->issue({.kind = IdentityKind::kClient, .name = "mallory", .role = Role::kAdmin});
  ASSERT_TRUE(foreign) << foreign.error().str();
  // A CA of the same name that is not in the bundle at all.
  testing::TempDir rogue_dir;
  auto rogue =
      SiteCa::init(rogue_dir.file("plant-a"), "plant-a", security::KeyType::kEcdsaP256, kYear);
  ASSERT_TRUE(rogue);
  auto impostor =
      rogue->issue({.kind = IdentityKind::kClient, .name = "alice", .role = Role::kAdmin});
  ASSERT_TRUE(impostor);
  ca_file_ = pki_.file("bundle.pem");
  std::ofstream(ca_file_) << testing::capture("cat " + ca_->caFile() + " " + other->caFile());
  crl_file_ = pki_.file("crls.pem");  // rewritten below when a revocation changes the site's
  const auto bundle_crls = [&] {
    std::ofstream(crl_file_) << testing::capture("cat " + ca_->crlFile() + " " + other->crlFile());
  };
  bundle_crls();
  const auto expiring =
      issue(IdentityKind::kClient, "carol", Role::kAdmin, std::chrono::seconds(1));
  start();

  EXPECT_EQ(curl({}, "GET", "/api/v1/status").status, 0);  // no certificate
  EXPECT_EQ(curl(*impostor, "GET", "/api/v1/status").status, 0);
  EXPECT_EQ(curl(*foreign, "GET", "/api/v1/status").status, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  EXPECT_EQ(curl(expiring, "GET", "/api/v1/status").status, 0);
  // Revoked: refused from the moment the node loaded the new CRL (within its reload interval).
  EXPECT_EQ(curl(viewer_, "GET", "/api/v1/status").status, 200);
  ASSERT_TRUE(ca_->revoke(viewer_.cert_file));
  bundle_crls();
  EXPECT_TRUE(testing::waitUntil([&] { return curl(viewer_, "GET", "/api/v1/status").status == 0; },
                                 std::chrono::seconds(5)));
  // The node went on serving the others, and audited every refusal with the reason.
  EXPECT_EQ(curl(operator_, "GET", "/api/v1/status").status, 200);
  std::string reasons;
  for (const auto& refusal : tlsRefusals()) reasons += refusal.value("detail", "") + "\n";
  EXPECT_THAT(reasons, HasSubstr("unable to get local issuer certificate"));  // the rogue CA
  EXPECT_THAT(reasons, HasSubstr("permitted")) << reasons;                    // plant-b's identity
  EXPECT_THAT(reasons, HasSubstr("certificate has expired"));
  EXPECT_THAT(reasons, HasSubstr("certificate revoked"));
}

TEST_F(TlsTest, TheRoleAndTheSensorsComeFromTheCertificate) {
  start();
  const std::string manifest = R"(apiVersion: sie/v1
kind: Function
metadata: {name: vib, version: "1"}
spec:
  runtime: builtin
  handler: threshold
  triggers: ["rotating/+/vibration"]
  params: {max: 5}
)";
  Reply r =
      curl(viewer_, "POST", "/api/v1/functions", manifest, "-H 'Content-Type: application/yaml'");
  EXPECT_EQ(r.status, 403) << r.text;
  EXPECT_THAT(r.text, HasSubstr("spiffe://plant-a/client/bob"));
  EXPECT_THAT(r.text, HasSubstr("viewer"));
  r = curl(operator_, "POST", "/api/v1/functions", manifest, "-H 'Content-Type: application/yaml'");
  EXPECT_EQ(r.status, 403) << "an operator does not deploy: " << r.text;

  const auto device = issue(IdentityKind::kDevice, "rotating/p1");
  r = curl(device, "POST", "/api/v1/events", R"({"sensor":"rotating/p1/vibration","value":1})");
  EXPECT_EQ(r.status, 202) << r.text;
  r = curl(device, "POST", "/api/v1/events", R"({"sensor":"rotating/p2/vibration","value":1})");
  EXPECT_EQ(r.status, 403) << "a device speaks for its own sensors only: " << r.text;
  r = curl(device, "GET", "/api/v1/functions");
  EXPECT_EQ(r.status, 403) << r.text;

  // A browser sends its certificate on its own: a cross-site form post must not act with it.
  r = curl(operator_, "POST", "/api/v1/events", R"({"sensor":"rotating/p1/vibration","value":1})",
           "-H 'Content-Type: text/plain'");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body["error"], "csrf");
}

TEST_F(TlsTest, ClientCertificatesOptionalMeansATokenInstead) {
  start("      clientCertificates: optional\n");
  EXPECT_EQ(curl({}, "GET", "/api/v1/status").status, 401);
  std::ifstream in(data_.file("security/admin.token"));
  std::string token;
  std::getline(in, token);
  const Reply r =
      curl({}, "GET", "/api/v1/status", "", fmt::format("-H 'Authorization: Bearer {}'", token));
  EXPECT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(curl(operator_, "GET", "/api/v1/status").status, 200);
}

TEST_F(TlsTest, ARenewedCertificateIsServedWithoutARestart) {
  // The node renews its own certificate with the CA when a third of its lifetime is left: a
  // 9-second certificate is due 6 seconds after it was issued, and again after each renewal
  // (long enough that the last good one is still valid at the end on a loaded machine).
  node_cert_ = issue(IdentityKind::kNode, "edge-2", Role::kViewer, std::chrono::seconds(9));
  const std::string first = node_cert_.serial;
  start(fmt::format("      renewWith: {}\n", pki_.file("plant-a")));
  const auto served_serial = [&] {
    const std::string out = testing::capture(fmt::format(
        "echo | openssl s_client -connect 127.0.0.1:{} -CAfile {} -cert {} -key {} 2>/dev/null "
        "| openssl x509 -noout -serial",
        node_->httpPort(), ca_->caFile(), operator_.cert_file, operator_.key_file));
    std::string serial = out.substr(out.find('=') + 1);
    std::erase_if(serial, [](char c) { return c == '\n'; });
    std::transform(serial.begin(), serial.end(), serial.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return serial;
  };
  EXPECT_EQ(served_serial(), first);
  // Served without a restart: the listener picks up each renewed file.
  std::string renewed;
  EXPECT_TRUE(testing::waitUntil(
      [&] {
        auto info = security::inspectCertificate(node_cert_.cert_file);
        renewed = info ? info->serial : "";
        return !renewed.empty() && renewed != first && served_serial() == renewed;
      },
      std::chrono::seconds(20)))
      << "first " << first << ", renewed " << renewed << ", served " << served_serial();
  EXPECT_EQ(curl(operator_, "GET", "/api/v1/status").status, 200);
  bool audited = false;
  const auto records = node_->state().audit().tail(100);
  ASSERT_TRUE(records);
  for (const auto& record : *records) {
    audited |= record.body.find("certificate-renewed") != std::string::npos;
  }
  EXPECT_TRUE(audited);

  // A broken file in place of the certificate leaves the last good one in use.
  std::ofstream(node_cert_.cert_file) << "not a certificate\n";
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(curl(operator_, "GET", "/api/v1/status").status, 200);
}

TEST_F(TlsTest, TheCliReachesTheNodeThroughAContextFile) {
  start();
  const std::string config = data_.file("cli.yaml");
  const auto sie = [&](const std::string& args) {
    return testing::capture(
        fmt::format("SIE_CONFIG={} {} {} 2>&1; echo \"rc=$?\"", config, SIE_CLI, args));
  };
  std::string out =
      sie(fmt::format("context set plant-a --node {} --ca {} --cert {} --key {}", url(""),
                      ca_->caFile(), operator_.cert_file, operator_.key_file));
  ASSERT_THAT(out, HasSubstr("rc=0")) << out;
  struct stat st {};
  ASSERT_EQ(::stat(config.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  out = sie("status -o json");
  EXPECT_THAT(out, HasSubstr("\"tls-test\"")) << out;
  EXPECT_THAT(out, HasSubstr("rc=0"));
  // Explicit options win over the context: without the site CA the node is not trusted.
  out = sie(fmt::format("status --ca {}", operator_.cert_file));
  EXPECT_THAT(out, HasSubstr("rc=2")) << out;
  EXPECT_THAT(out, HasSubstr("TLS with 127.0.0.1"));
  // Without a client certificate the node refuses at the handshake.
  out = testing::capture(fmt::format("{} status --node {} --ca {} 2>&1; echo \"rc=$?\"", SIE_CLI,
                                     url(""), ca_->caFile()));
  EXPECT_THAT(out, HasSubstr("rc=2")) << out;
  EXPECT_THAT(out, HasSubstr("certificate required"));
}

TEST_F(TlsTest, ANodeOnAPublicAddressStartsWithTlsAndClientAuthentication) {
  start("", "0.0.0.0:0");
  EXPECT_EQ(curl(operator_, "GET", "/api/v1/status").status, 200);
}

TEST_F(TlsTest, AMissingOrMismatchedFileIsACleanStartupError) {
  node_cert_.key_file = viewer_.key_file;  // another identity's key
  const std::string site = fmt::format(R"(apiVersion: sie/v1
kind: Site
spec:
  http: 127.0.0.1:0
  summaryInterval: 0
  security:
    tls: {{certFile: {}, keyFile: {}, caFile: {}}}
)",
                                       node_cert_.cert_file, node_cert_.key_file, ca_->caFile());
  auto parsed = node::parseSite({"t/site.yaml", site}, {});
  ASSERT_TRUE(parsed) << parsed.error().str();
  parsed->data_dir = data_.path();
  // Refused while the node is made (its outgoing calls use the same identity), before anything
  // starts.
  auto made = node::Node::create(std::move(*parsed), plugins_);
  ASSERT_FALSE(made);
  EXPECT_THAT(made.error().str(), HasSubstr(viewer_.key_file));
  EXPECT_THAT(made.error().str(), HasSubstr("private key"));
}

}  // namespace
}  // namespace sie
