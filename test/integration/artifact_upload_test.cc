// Models and executables sent through the control API: PUT /api/v1/artifacts (curl), and
// `sie deploy` uploading what a manifest names, so a node runs functions whose files exist
// nowhere on it but in its artifact store.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "control_fixture.h"
#include "core/sha256.h"

namespace sie {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

std::string randomBytes(std::size_t n, unsigned seed = 42) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(gen() & 0xff);
  return out;
}

std::string digest(const std::string& bytes) {
  return sha256Hex(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

void copyTree(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
}

class ArtifactUploadTest : public ControlApiTest {
 protected:
  Reply put(const std::string& name, const std::string& bytes, const std::string& args = "") {
    return call("PUT", "/api/v1/artifacts/" + name, bytes,
                "-H 'Content-Type: application/octet-stream' " + args);
  }
  [[nodiscard]] bool incomingIsEmpty() const {
    return fs::is_empty(fs::path(data_.path()) / "artifacts" / "incoming");
  }
};

TEST_F(ArtifactUploadTest, UploadsAreStoredByContentAndCheckedOnTheWay) {
  // Larger than the 1 MiB other requests may carry; curl waits for "100 Continue" here.
  const std::string model = randomBytes(3 << 20);
  const std::string sha = digest(model);
  Reply r = put("pump.onnx", model, "-H 'X-Sie-Sha256: " + sha + "'");
  ASSERT_EQ(r.status, 201) << r.text;
  EXPECT_EQ(r.body["sha256"], sha);
  EXPECT_EQ(r.body["size"], model.size());
  EXPECT_EQ(r.body["executable"], false);
  const fs::path stored = fs::path(data_.path()) / "artifacts" / sha / "pump.onnx";
  ASSERT_TRUE(fs::exists(stored));
  EXPECT_EQ(sha256File(stored.string()).value(), sha);

  EXPECT_EQ(put("pump.onnx", model).status, 200);  // the same bytes: stored already

  r = put("other.onnx", "abc", "-H 'X-Sie-Sha256: " + sha + "'");
  EXPECT_EQ(r.status, 422) << r.text;
  EXPECT_EQ(r.body["error"], "digest_mismatch");
  EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr(digest("abc")));
  EXPECT_FALSE(fs::exists(fs::path(data_.path()) / "artifacts" / digest("abc")));

  EXPECT_EQ(put(".hidden", "abc").status, 400);
  r = put("model.onnx.sig", "abc");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.text, HasSubstr("X-Sie-Signature"));
  EXPECT_EQ(call("PUT", "/api/v1/artifacts/empty.bin", "", "-H 'Content-Length: 0'").status, 400);
  r = put("x.bin", "abc", "-H 'X-Sie-Signature: not base64!'");
  EXPECT_EQ(r.status, 400) << r.text;
  EXPECT_EQ(r.body["field"], "X-Sie-Signature");

  r = call("PUT", "/api/v1/artifacts/run.sh?executable=true", "#!/bin/sh\necho hi\n");
  ASSERT_EQ(r.status, 201) << r.text;
  EXPECT_EQ(r.body["executable"], true);

  r = call("GET", "/api/v1/artifacts");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.body["artifacts"].size(), 2U) << r.text;
  EXPECT_EQ(r.body["artifacts"][0]["name"], "pump.onnx");
  EXPECT_EQ(call("GET", "/api/v1/artifacts/" + sha).body["size"], model.size());
  EXPECT_EQ(call("GET", "/api/v1/artifacts/" + digest("nothing")).status, 404);
  EXPECT_EQ(call("GET", "/api/v1/artifacts/nothex").status, 400);

  EXPECT_EQ(call("DELETE", "/api/v1/artifacts/" + sha).status, 200);
  EXPECT_EQ(call("GET", "/api/v1/artifacts/" + sha).status, 404);
  EXPECT_TRUE(incomingIsEmpty());
}

TEST_F(ArtifactUploadTest, AnUploadOverTheNodesLimitIsRefusedBeforeItIsStored) {
  site_text_ = std::string(kSite) + "  maxArtifactMiB: 1\n";
  restart();
  const Reply r = put("big.onnx", randomBytes(2 << 20));
  EXPECT_EQ(r.status, 413) << r.text;
  EXPECT_EQ(r.body["error"], "payload_too_large");
  EXPECT_EQ(put("small.onnx", randomBytes(512 << 10)).status, 201);
  EXPECT_TRUE(incomingIsEmpty());
}

TEST_F(ArtifactUploadTest, TheStoreKeepsToItsQuota) {
  site_text_ = std::string(kSite) + "  artifactQuotaMiB: 3\n";
  restart();
  const std::string first = randomBytes(2 << 20, 1);
  EXPECT_EQ(put("a.onnx", first).status, 201);
  // Refused on its header, before a byte is spooled.
  Reply r = put("b.onnx", randomBytes(2 << 20, 2));
  EXPECT_EQ(r.status, 507) << r.text;
  EXPECT_EQ(r.body["error"], "quota_exceeded");
  EXPECT_THAT(r.text, HasSubstr("artifactQuotaMiB"));
  // Sent without a length (chunked): refused once received, and nothing is kept.
  r = put("c.onnx", randomBytes(2 << 20, 3), "-H 'Transfer-Encoding: chunked'");
  EXPECT_EQ(r.status, 507) << r.text;
  EXPECT_TRUE(incomingIsEmpty());
  EXPECT_EQ(call("GET", "/api/v1/artifacts").body["artifacts"].size(), 1U);
  // The same bytes again take no more room; removing one makes room.
  EXPECT_EQ(put("a-again.onnx", first, "-H 'Transfer-Encoding: chunked'").status, 201);
  EXPECT_EQ(call("DELETE", "/api/v1/artifacts/" + digest(first)).status, 200);
  EXPECT_EQ(put("b.onnx", randomBytes(2 << 20, 2)).status, 201);
}

TEST_F(ArtifactUploadTest, TheCliUploadsAnOnnxModelAndTheNodeKeepsRunningItWithoutTheLocalCopy) {
  // The demo site's layout in a folder of its own: the manifest names ../../../models/X.onnx.
  testing::TempDir work;
  const fs::path site = fs::path(work.path()) / "examples" / "demo-site" / "functions";
  fs::create_directories(site);
  fs::create_directories(fs::path(work.path()) / "models");
  fs::copy_file(SIE_SOURCE_DIR "/examples/demo-site/functions/grid-voltage-model.yaml",
                site / "grid-voltage-model.yaml");
  fs::copy_file(SIE_SOURCE_DIR "/models/grid-voltage.onnx",
                fs::path(work.path()) / "models" / "grid-voltage.onnx");
  const std::string model_sha = sha256File(SIE_SOURCE_DIR "/models/grid-voltage.onnx").value();

  std::string out = sie("deploy -f " + (site / "grid-voltage-model.yaml").string());
  ASSERT_THAT(out, HasSubstr("rc=0")) << out;
  EXPECT_THAT(out, HasSubstr("created"));
  fs::remove_all(work.path() + "/examples");
  fs::remove_all(work.path() + "/models");

  const auto describe = [&] { return call("GET", "/api/v1/functions/grid-voltage-model"); };
  Reply r = describe();
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["artifact"]["sha256"], model_sha) << r.text;
  EXPECT_THAT(r.body["artifact"]["model"].get<std::string>(), HasSubstr(data_.path())) << r.text;
  EXPECT_EQ(r.body["uploaded"]["../../../models/grid-voltage.onnx"], model_sha) << r.text;

  r = call("GET", "/api/v1/artifacts/" + model_sha);
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["usedBy"][0], "grid-voltage-model@1 (../../../models/grid-voltage.onnx)");
  out = sie("artifacts rm " + model_sha);
  EXPECT_THAT(out, HasSubstr("rc=1")) << out;
  EXPECT_THAT(out, HasSubstr("grid-voltage-model@1")) << out;
  out = sie("artifacts ls");
  EXPECT_THAT(out, HasSubstr("grid-voltage.onnx")) << out;
  EXPECT_THAT(out, HasSubstr(model_sha.substr(0, 12))) << out;

  // On a terminal (script(1) gives it one) an upload shows its progress.
  const std::string big = work.file("big.onnx");
  std::ofstream(big, std::ios::binary) << randomBytes(3 << 20);
  out =
      testing::capture(fmt::format("script -qec '{} artifacts push {} --node http://127.0.0.1:{}' "
                                   "/dev/null 2>&1",
                                   SIE_CLI, big, node_->httpPort()));
  EXPECT_THAT(out, HasSubstr("uploading " + big)) << out;
  EXPECT_THAT(out, HasSubstr("3.0 MiB / 3.0 MiB (100%)")) << out;
  EXPECT_THAT(out, HasSubstr("uploaded")) << out;

  restart();  // the desired state names the stored model; nothing outside the node is needed
  r = describe();
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["artifact"]["sha256"], model_sha);
}

TEST_F(ArtifactUploadTest, AProcessFunctionArrivesWithTheFilesBesideItsExecutable) {
  // The Lambda example: bootstrap sources function.sh from its own folder.
  testing::TempDir work;
  const fs::path fn = fs::path(work.path()) / "pump-rule-lambda";
  copyTree(SIE_SOURCE_DIR "/examples/functions/pump-rule-lambda", fn);
  std::string out = sie("deploy -f " + (fn / "function.yaml").string());
  if (geteuid() == 0) {
    // Workers (users of their own) cannot pass the test's private data folder: the node says so.
    EXPECT_THAT(out, HasSubstr("chmod o+x " + data_.path())) << out;
    fs::permissions(data_.path(), fs::perms::others_exec, fs::perm_options::add);
    out = sie("deploy -f " + (fn / "function.yaml").string());
  }
  ASSERT_THAT(out, HasSubstr("rc=0")) << out;
  fs::remove_all(fn);

  const Reply r = call("POST", "/api/v1/functions/pump-rule-lambda/invoke",
                       R"({"sensor":"rotating/p1/bearing_temp","value":71})",
                       "-H 'Content-Type: application/json'");
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["function"], "pump-rule-lambda@1");
  EXPECT_EQ(r.body["decision"]["label"], "warming-up") << r.text;  // function.sh's answer

  // Pushing a file the node has already sends nothing.
  const std::string again = work.file("bootstrap");
  fs::copy_file(SIE_SOURCE_DIR "/examples/functions/pump-rule-lambda/bootstrap", again);
  out = sie("artifacts push " + again + " -o json");
  ASSERT_THAT(out, HasSubstr("rc=0")) << out;
  EXPECT_THAT(out, HasSubstr(R"("sent": false)")) << out;
}

TEST_F(ArtifactUploadTest, ANodeThatRequiresSignaturesTakesSignedUploadsOnly) {
  site_text_ = std::string(kSite) + "  requireSignatures: true\n";
  restart();
  testing::TempDir work;
  const auto local = [](const std::string& args) {  // commands that do not talk to a node
    return testing::capture(fmt::format("{} {} 2>&1; echo \"rc=$?\"", SIE_CLI, args));
  };
  const std::string keys = work.file("keys");
  ASSERT_THAT(local("keys generate --out " + keys), HasSubstr("rc=0"));
  // Without a site CA to endorse keys, the API trusts none; the node's own keys folder does.
  std::string out = sie("keys add " + keys + "/sie.pub");
  EXPECT_THAT(out, HasSubstr("has no site CA")) << out;
  fs::create_directories(fs::path(data_.path()) / "keys");
  fs::copy_file(keys + "/sie.pub", fs::path(data_.path()) / "keys" / "sie.pub");
  const fs::path functions = fs::path(work.path()) / "examples" / "demo-site" / "functions";
  fs::create_directories(functions);
  fs::create_directories(fs::path(work.path()) / "models");
  const std::string manifest = (functions / "grid-voltage-model.yaml").string();
  const std::string model = work.file("models/grid-voltage.onnx");
  fs::copy_file(SIE_SOURCE_DIR "/examples/demo-site/functions/grid-voltage-model.yaml", manifest);
  fs::copy_file(SIE_SOURCE_DIR "/models/grid-voltage.onnx", model);
  ASSERT_THAT(local("sign " + manifest + " --key " + keys + "/sie.key"), HasSubstr("rc=0"));

  out = sie("deploy -f " + manifest);  // the manifest is signed, the model it runs is not
  EXPECT_THAT(out, HasSubstr("sign the function's bundle")) << out;
  EXPECT_THAT(out, HasSubstr("rc=1"));
  ASSERT_THAT(local("sign --bundle " + manifest + " --key " + keys + "/sie.key"),
              HasSubstr("rc=0"));
  out = sie("deploy -f " + manifest);  // the bundle covers the model by its digest
  EXPECT_THAT(out, HasSubstr("created")) << out;

  // A file signed by itself goes up with its signature, which the store checks and keeps.
  ASSERT_THAT(local("sign " + model + " --key " + keys + "/sie.key"), HasSubstr("rc=0"));
  ASSERT_THAT(sie("artifacts push " + model), HasSubstr("rc=0"));
  const Reply r = call("GET", "/api/v1/artifacts/" + sha256File(model).value());
  EXPECT_EQ(r.body["signed"], true) << r.text;

  // A signature that does not match its file is refused at the upload.
  const std::string other = work.file("other.onnx");
  std::ofstream(other, std::ios::binary) << "not the signed bytes";
  fs::copy_file(model + ".sig", other + ".sig");
  out = sie("artifacts push " + other);
  EXPECT_THAT(out, HasSubstr("changed after it was signed")) << out;
  EXPECT_THAT(out, HasSubstr("rc=1"));
  EXPECT_EQ(call("GET", "/api/v1/artifacts/" + digest("not the signed bytes")).status, 404);
}

TEST_F(ArtifactUploadTest, ArtifactReferencesAreCheckedAgainstTheManifestAndTheStore) {
  const std::string manifest = R"(apiVersion: sie/v1
kind: Function
metadata: {name: m, version: "1"}
spec:
  runtime: onnx
  handler: model.onnx
  triggers: ["grid/+/voltage"]
)";
  const auto deployWith = [&](const std::string& refs) {
    return call("POST", "/api/v1/functions", manifest,
                "-H 'Content-Type: application/yaml' -H 'X-Sie-Artifacts: " + refs + "'");
  };
  Reply r = deployWith("model.onnx=" + digest("never uploaded"));
  EXPECT_EQ(r.status, 400) << r.text;
  EXPECT_THAT(r.text, HasSubstr("upload it")) << r.text;
  r = deployWith("model.onnx=xyz");
  EXPECT_EQ(r.status, 400) << r.text;
  EXPECT_EQ(r.body["field"], "X-Sie-Artifacts");
  for (const std::string path : {"/etc/passwd", "a/../../b", ".", "..", "lib/"}) {
    r = deployWith(path + "=" + digest("x"));
    EXPECT_EQ(r.status, 400) << path << ": " << r.text;
    EXPECT_EQ(r.body["field"], "X-Sie-Artifacts") << path;
  }

  // A stored file altered on the node is refused at deploy.
  const std::string bytes = randomBytes(1000);
  ASSERT_EQ(put("stray.onnx", bytes).status, 201);
  r = deployWith("stray.onnx=" + digest(bytes));
  EXPECT_EQ(r.status, 400) << r.text;
  EXPECT_THAT(r.text, HasSubstr("neither runs")) << r.text;
  const fs::path stored = fs::path(data_.path()) / "artifacts" / digest(bytes) / "stray.onnx";
  fs::permissions(stored, fs::perms::owner_write, fs::perm_options::add);
  std::ofstream(stored, std::ios::binary | std::ios::trunc) << "tampered";
  r = deployWith("model.onnx=" + digest(bytes));
  EXPECT_EQ(r.status, 403) << r.text;
  EXPECT_THAT(r.text, HasSubstr("altered")) << r.text;
  EXPECT_EQ(call("GET", "/api/v1/functions/m").status, 404);
}

}  // namespace
}  // namespace sie
