#include "core/signing.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <nlohmann/json.hpp>

#include "core/sha256.h"

namespace sie {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A fresh directory under ::testing::TempDir(), removed with everything in it at destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "sie-signing-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << pattern;
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The public key of a freshly generated non-Ed25519 key, as PEM.
std::string otherTypePem(const char* type) {
  EVP_PKEY* key = nullptr;
  if (std::string(type) == "RSA")
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(1024));
  else if (std::string(type) == "EC")
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  else
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  if (key == nullptr) return "";
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

class SigningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(generateKeyPair(keys_.file("sie.key"), keys_.file("sie.pub")));
    auto key = readPublicKey(readText(keys_.file("sie.pub")), "sie.pub");
    ASSERT_TRUE(key) << key.error().str();
    id_ = key->id;
  }

  // A store that trusts the key generated in SetUp.
  TrustStore trusted() {
    EXPECT_TRUE(TrustStore::add(trust_.path(), readText(keys_.file("sie.pub")), "sie"));
    auto store = TrustStore::load(trust_.path());
    EXPECT_TRUE(store) << store.error().str();
    return store ? *store : TrustStore{};
  }

  std::string sign(std::string_view data) {
    auto doc = signDetached(data, keys_.file("sie.key"));
    EXPECT_TRUE(doc) << doc.error().str();
    return doc ? *doc : "";
  }

  TempDir keys_;
  TempDir trust_;
  std::string id_;
};

TEST_F(SigningTest, SignsAndVerifiesWithTheKeyId) {
  const std::string data = "artifact bytes\n";
  const std::string doc = sign(data);
  ASSERT_FALSE(doc.empty());
  EXPECT_EQ(doc.back(), '\n');
  EXPECT_EQ(doc.find('\n'), doc.size() - 1);  // one line

  const auto json = nlohmann::json::parse(doc);
  EXPECT_EQ(json.at("alg"), "ed25519");
  EXPECT_EQ(json.at("key"), id_);
  EXPECT_EQ(json.at("sha256"),
            sha256Hex({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()}));
  EXPECT_EQ(json.at("signature").get<std::string>().size(), 88u);  // base64 of 64 bytes
  EXPECT_EQ(id_.size(), 16u);

  const TrustStore store = trusted();
  ASSERT_EQ(store.keys().size(), 1u);
  EXPECT_EQ(store.keys()[0].id, id_);
  auto verified = store.verify(data, doc);
  ASSERT_TRUE(verified) << verified.error().str();
  EXPECT_EQ(*verified, id_);
}

TEST_F(SigningTest, VerifiesEmptyData) {
  const std::string doc = sign("");
  auto verified = trusted().verify("", doc);
  ASSERT_TRUE(verified) << verified.error().str();
  EXPECT_EQ(*verified, id_);
}

TEST_F(SigningTest, RefusesTamperedData) {
  const std::string doc = sign("setpoint=20");
  auto verified = trusted().verify("setpoint=90", doc);
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, Errc::kCorrupt);
  EXPECT_THAT(verified.error().message, HasSubstr("changed after it was signed"));
}

TEST_F(SigningTest, RefusesTamperedSignature) {
  const std::string data = "model weights";
  auto json = nlohmann::json::parse(sign(data));
  std::string signature = json.at("signature");
  signature[0] = signature[0] == 'A' ? 'B' : 'A';
  json["signature"] = signature;
  auto verified = trusted().verify(data, json.dump());
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, Errc::kCorrupt);
  EXPECT_THAT(verified.error().message, HasSubstr("does not verify"));
}

TEST_F(SigningTest, RefusesChangedDataWithAMatchingHash) {
  // Rewriting "sha256" for new data does not help: the signature covers the data itself.
  const std::string changed = "changed";
  auto json = nlohmann::json::parse(sign("original"));
  json["sha256"] =
      sha256Hex({reinterpret_cast<const std::uint8_t*>(changed.data()), changed.size()});
  auto verified = trusted().verify(changed, json.dump());
  ASSERT_FALSE(verified);
  EXPECT_THAT(verified.error().message, HasSubstr("does not verify"));
}

TEST_F(SigningTest, RefusesAnUntrustedKey) {
  TempDir other;
  ASSERT_TRUE(generateKeyPair(other.file("other.key"), other.file("other.pub")));
  const std::string other_id = readPublicKey(readText(other.file("other.pub")), "other")->id;
  auto doc = signDetached("data", other.file("other.key"));
  ASSERT_TRUE(doc) << doc.error().str();

  auto verified = trusted().verify("data", *doc);
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, Errc::kNotFound);
  EXPECT_THAT(verified.error().message, HasSubstr("signed by key " + other_id));
  EXPECT_THAT(verified.error().message, HasSubstr("does not trust"));
  EXPECT_THAT(verified.error().message, HasSubstr("sie keys add"));
}

TEST_F(SigningTest, RefusesMalformedDocuments) {
  const std::string good = sign("x");
  const auto json = nlohmann::json::parse(good);
  auto with = [&json](const char* field, const nlohmann::json& value) {
    auto copy = json;
    if (value.is_null())
      copy.erase(field);
    else
      copy[field] = value;
    return copy.dump();
  };
  const std::string signature = json.at("signature");
  const std::vector<std::string> docs = {
      "",
      "not json",
      "[1,2]",
      "{\"alg\":\"ed25519\"}",
      with("alg", nullptr),
      with("alg", 7),
      with("key", "ABCDEF0123456789"),
      with("key", "0123"),
      with("sha256", "00"),
      with("signature", "@@@@"),
      with("signature", signature.substr(4)),        // too short
      with("signature", " " + signature.substr(1)),  // whitespace
      with("signature", signature.substr(0, 86) + "=A"),
      std::string(5000, ' ') + good,
  };
  const TrustStore store = trusted();
  for (const std::string& doc : docs) {
    auto verified = store.verify("x", doc);
    ASSERT_FALSE(verified) << doc;
    EXPECT_EQ(verified.error().code, Errc::kParse) << doc;
    EXPECT_THAT(verified.error().message, HasSubstr("malformed signature document")) << doc;
  }
  auto rsa = store.verify("x", with("alg", "rsa"));
  ASSERT_FALSE(rsa);
  EXPECT_EQ(rsa.error().code, Errc::kUnsupported);
  EXPECT_THAT(rsa.error().message, HasSubstr("'rsa' is not supported"));
}

TEST_F(SigningTest, AddsAndRemovesTrustedKeys) {
  const std::string pem = readText(keys_.file("sie.pub"));
  ASSERT_TRUE(TrustStore::add(trust_.path(), pem, "alice"));
  EXPECT_TRUE(fs::exists(trust_.file("alice.pub")));
  auto again = TrustStore::add(trust_.path(), pem, "bob");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kAlreadyExists);
  EXPECT_THAT(again.error().message, HasSubstr("already trusted"));

  TempDir other;
  ASSERT_TRUE(generateKeyPair(other.file("o.key"), other.file("o.pub")));
  const std::string other_pem = readText(other.file("o.pub"));
  const std::string other_id = readPublicKey(other_pem, "o")->id;
  auto taken = TrustStore::add(trust_.path(), other_pem, "alice");
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, Errc::kAlreadyExists);
  EXPECT_EQ(TrustStore::add(trust_.path(), other_pem, "../evil").error().code,
            Errc::kInvalidArgument);
  ASSERT_TRUE(TrustStore::add(trust_.path(), other_pem, ""));  // named by its id
  EXPECT_TRUE(fs::exists(trust_.file(other_id + ".pub")));
  EXPECT_EQ(TrustStore::load(trust_.path())->keys().size(), 2u);

  ASSERT_TRUE(TrustStore::remove(trust_.path(), id_));
  EXPECT_FALSE(fs::exists(trust_.file("alice.pub")));
  auto store = TrustStore::load(trust_.path());
  ASSERT_TRUE(store);
  ASSERT_EQ(store->keys().size(), 1u);
  EXPECT_EQ(store->keys()[0].id, other_id);

  EXPECT_EQ(TrustStore::remove(trust_.path(), id_).error().code, Errc::kNotFound);
  EXPECT_EQ(TrustStore::remove(trust_.path(), "nothex").error().code, Errc::kInvalidArgument);
  // No temporaries are left behind.
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(trust_.path())) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(SigningTest, MissingTrustDirIsAnEmptyStore) {
  auto store = TrustStore::load(trust_.file("missing"));
  ASSERT_TRUE(store) << store.error().str();
  EXPECT_TRUE(store->keys().empty());
}

TEST_F(SigningTest, RefusesOtherKeyTypesAndGarbage) {
  for (const char* type : {"RSA", "EC", "X25519", "ED448"}) {
    const std::string pem = otherTypePem(type);
    ASSERT_FALSE(pem.empty()) << type;
    auto key = readPublicKey(pem, "other.pub");
    ASSERT_FALSE(key) << type;
    EXPECT_EQ(key.error().code, Errc::kUnsupported) << type;
    EXPECT_THAT(key.error().message, HasSubstr("not Ed25519")) << type;
    EXPECT_EQ(key.error().where, "other.pub");
  }
  for (const std::string garbage : {"", "hello", "-----BEGIN PUBLIC KEY-----\nAAAA\n"}) {
    auto key = readPublicKey(garbage, "g.pub");
    ASSERT_FALSE(key) << garbage;
    EXPECT_EQ(key.error().code, Errc::kParse);
    EXPECT_THAT(key.error().message, HasSubstr("not a PEM public key"));
  }
  auto private_key = readPublicKey(readText(keys_.file("sie.key")), "sie.key");
  ASSERT_FALSE(private_key);
  EXPECT_THAT(private_key.error().message, HasSubstr("this is a private key"));

  // A store refuses to load with a bad key in it, naming the file.
  std::ofstream(trust_.file("rsa.pub")) << otherTypePem("RSA");
  auto store = TrustStore::load(trust_.path());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().where, trust_.file("rsa.pub"));
}

TEST_F(SigningTest, SignRefusesAPublicOrMissingKey) {
  auto with_public = signDetached("x", keys_.file("sie.pub"));
  ASSERT_FALSE(with_public);
  EXPECT_THAT(with_public.error().message, HasSubstr("this is a public key"));
  auto missing = signDetached("x", keys_.file("nope.key"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
  EXPECT_EQ(missing.error().where, keys_.file("nope.key"));
}

TEST_F(SigningTest, PrivateKeyIsOwnerOnly) {
  struct stat st {};
  ASSERT_EQ(::stat(keys_.file("sie.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(keys_.file("sie.pub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(SigningTest, RefusesToOverwriteKeys) {
  const std::string before = readText(keys_.file("sie.key"));
  auto again = generateKeyPair(keys_.file("sie.key"), keys_.file("sie.pub"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kAlreadyExists);
  EXPECT_EQ(again.error().where, keys_.file("sie.key"));
  EXPECT_EQ(readText(keys_.file("sie.key")), before);

  // Refused for an existing public key too, without leaving a new private key behind.
  auto pub_taken = generateKeyPair(keys_.file("new.key"), keys_.file("sie.pub"));
  ASSERT_FALSE(pub_taken);
  EXPECT_EQ(pub_taken.error().where, keys_.file("sie.pub"));
  EXPECT_FALSE(fs::exists(keys_.file("new.key")));
}

}  // namespace
}  // namespace sie
