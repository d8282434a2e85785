// `sie keys generate`, `sie sign` and `sie verify`: Ed25519 signatures for artifacts, offline, no
// node needed. A signature is a detached document FILE.sig next to FILE (see core/signing.h).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "config/function_bundle.h"
#include "config/function_manifest.h"
#include "core/file_text.h"
#include "core/signing.h"
#include "sie/plugins.h"

namespace sie::cli {
namespace {
namespace fs = std::filesystem;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUnreadable = 2;
constexpr std::uintmax_t kMaxSignatureFile = 64 * 1024;  // documents are ~200 bytes

struct GenerateOptions {
  std::string out;
  std::string name = "sie";
};

struct SignOptions {
  std::vector<std::string> files;
  std::string key;
  bool bundle = false;        // sign each manifest's function bundle
  std::int64_t sequence = 0;  // the bundle's release; 0: now, in seconds since 1970
};

struct VerifyOptions {
  std::vector<std::string> files;
  std::string trust;
};

int runGenerate(const GenerateOptions& options) {
  const std::string& name = options.name;
  if (name.empty() || name.front() == '.' || name.find('/') != std::string::npos) {
    std::cerr << "sie keys generate: --name must be a file name without '/' (got '" << name
              << "')\n";
    return kExitFailed;
  }
  std::error_code ec;
  fs::create_directories(options.out, ec);
  if (ec) {
    std::cerr << "sie keys generate: cannot create " << options.out << ": " << ec.message() << "\n";
    return kExitFailed;
  }
  const std::string private_path = (fs::path(options.out) / (name + ".key")).string();
  const std::string public_path = (fs::path(options.out) / (name + ".pub")).string();
  Status made = generateKeyPair(private_path, public_path);
  Result<PublicKey> key =
      made.and_then([&] { return readFileText(public_path); })
          .and_then([&](const std::string& pem) { return readPublicKey(pem, public_path); });
  if (!key) {
    std::cerr << "sie keys generate: " << key.error().str() << "\n";
    return kExitFailed;
  }
  std::cout << fmt::format(
      "generated key {}\n"
      "  private key: {} (keep it secret; sign with `sie sign FILE --key {}`)\n"
      "  public key:  {} (put it in the trust directory of whoever verifies)\n",
      key->id, private_path, private_path, public_path);
  return kExitOk;
}

// The release a new bundle of `manifest` is signed as: --sequence, else the time in seconds, and
// always above the release of the bundle it replaces (a clock set back must not make a replay).
std::int64_t releaseFor(const std::string& manifest, std::int64_t asked) {
  if (asked > 0) return asked;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  std::int64_t release = std::max<std::int64_t>(now, 1);
  if (auto old = readFileText(manifest + ".bundle"); old) {
    if (auto parsed = node::FunctionBundle::parse(*old); parsed && parsed->sequence >= release) {
      release = parsed->sequence + 1;
    }
  }
  return release;
}

// `sie sign --bundle MANIFEST`: MANIFEST.bundle (the function's files, hashed) and its signature.
int signBundle(const std::string& file, const SignOptions& options) {
  Plugins plugins;  // the runtimes read their own blocks of the manifest
  if (auto registered = registerBuiltinPlugins(plugins); !registered) {
    std::cerr << "sie sign: " << registered.error().str() << "\n";
    return kExitUnreadable;
  }
  auto text = readFileText(file);
  auto specs =
      text ? node::parseManifests(node::SourceText{file, *text}, node::schemasOf(plugins.runtimes))
           : Result<std::vector<FunctionSpec>>(tl::unexpected(text.error()));
  if (!specs) {
    std::cerr << "sie sign: " << specs.error().str() << "\n";
    return kExitUnreadable;
  }
  if (specs->size() != 1) {
    std::cerr << "sie sign: " << file << " holds " << specs->size()
              << " manifests; a bundle is signed for one function: keep one manifest per file\n";
    return kExitFailed;
  }
  auto bundle = node::hashBundle(specs->front(), *text, releaseFor(file, options.sequence));
  if (!bundle) {
    std::cerr << "sie sign: " << bundle.error().str() << "\n";
    return kExitUnreadable;
  }
  const std::string document = bundle->text();
  auto doc = signDetached(document, options.key);
  if (!doc) {
    std::cerr << "sie sign: " << doc.error().str() << "\n";
    return kExitUnreadable;
  }
  // The signature first: a bundle beside an older signature would be refused, not trusted.
  Status written = writeFileAtomically(file + ".bundle.sig", *doc).and_then([&] {
    return writeFileAtomically(file + ".bundle", document);
  });
  if (!written) {
    std::cerr << "sie sign: " << written.error().str() << "\n";
    return kExitFailed;
  }
  std::cout << fmt::format("signed the bundle of {}: {}, release {}, {} file{} (key {})\n", file,
                           bundle->name, bundle->sequence, bundle->files.size(),
                           bundle->files.size() == 1 ? "" : "s",
                           nlohmann::json::parse(*doc).value("key", "?"));
  return kExitOk;
}

int runSign(const SignOptions& options) {
  if (options.bundle) {
    int exit_code = kExitOk;
    for (const std::string& file : options.files) {
      exit_code = std::max(exit_code, signBundle(file, options));
    }
    return exit_code;
  }
  int exit_code = kExitOk;
  for (const std::string& file : options.files) {
    auto data = readFileText(file);
    if (!data) {
      std::cerr << "sie sign: " << data.error().str() << "\n";
      exit_code = kExitUnreadable;
      continue;
    }
    // The data is in memory, so a failure here is the key's and the same for every file.
    auto doc = signDetached(*data, options.key);
    if (!doc) {
      std::cerr << "sie sign: " << doc.error().str() << "\n";
      return kExitUnreadable;
    }
    Status written = writeFileAtomically(file + ".sig", *doc);
    if (!written) {
      std::cerr << "sie sign: " << written.error().str() << "\n";
      exit_code = std::max(exit_code, kExitFailed);
      continue;
    }
    std::cout << "signed " << file << " (key " << nlohmann::json::parse(*doc).value("key", "?")
              << ")\n";
  }
  return exit_code;
}

int runVerify(const VerifyOptions& options) {
  auto store = TrustStore::load(options.trust);
  if (!store) {
    std::cerr << "sie verify: " << store.error().str() << "\n";
    return kExitUnreadable;
  }
  if (store->keys().empty()) {
    std::error_code ec;
    std::cerr << "sie verify: " << options.trust
              << (fs::exists(options.trust, ec) ? " holds no public keys (*.pub)"
                                                : ": no such directory")
              << "; put the signer's .pub file in it\n";
    return kExitUnreadable;
  }
  int exit_code = kExitOk;
  for (const std::string& file : options.files) {
    auto data = readFileText(file);
    if (!data) {
      std::cerr << file << ": " << data.error().message << "\n";
      exit_code = kExitUnreadable;
      continue;
    }
    auto doc = readFileText(file + ".sig", kMaxSignatureFile);
    if (!doc) {
      const bool unsigned_file = doc.error().code == Errc::kNotFound;
      if (unsigned_file)
        std::cerr << file << ": not signed (no " << file << ".sig); sign it with `sie sign`\n";
      else
        std::cerr << file << ": " << doc.error().str() << "\n";
      exit_code = std::max(exit_code, unsigned_file ? kExitFailed : kExitUnreadable);
      continue;
    }
    auto verified = store->verify(*data, *doc);
    if (!verified) {
      std::cerr << file << ": " << verified.error().str();
      // The library's hint is for a node; here the trust directory is the user's own.
      if (verified.error().code == Errc::kNotFound)
        std::cerr << " (or, for `sie verify`, put its .pub file in " << options.trust << ")";
      std::cerr << "\n";
      exit_code = std::max(exit_code, kExitFailed);
      continue;
    }
    std::cout << file << ": ok (key " << *verified << ")\n";
  }
  return exit_code;
}

// `keys` is shared with the node-side `keys ls|add|rm` (client commands): whichever registers
// first creates it, the other adds to it.
CLI::App* keysCommand(CLI::App& app) {
  auto found = app.get_subcommands([](CLI::App* sub) { return sub->get_name() == "keys"; });
  if (!found.empty()) return found.front();
  CLI::App* keys = app.add_subcommand("keys", "Create signing keys and manage the keys trusted");
  keys->require_subcommand(1);
  return keys;
}

}  // namespace

void addSignCommands(CLI::App& app, int& exit_code) {
  auto generate_options = std::make_shared<GenerateOptions>();
  CLI::App* generate = keysCommand(app)->add_subcommand(
      "generate", "Create an Ed25519 key pair: DIR/NAME.key (private) and DIR/NAME.pub (public)");
  generate->add_option("--out", generate_options->out, "Directory for the key files")->required();
  generate->add_option("--name", generate_options->name, "File name of the keys, without suffix")
      ->capture_default_str();
  generate->callback(
      [&exit_code, generate_options] { exit_code = runGenerate(*generate_options); });

  auto sign_options = std::make_shared<SignOptions>();
  CLI::App* sign = app.add_subcommand(
      "sign",
      "Sign files: writes FILE.sig next to each FILE (replacing an older one); with --bundle, "
      "a function manifest's bundle");
  sign->add_option("FILE", sign_options->files, "Files to sign")->required();
  sign->add_option("--key", sign_options->key, "Private key file (from `sie keys generate`)")
      ->required();
  auto* bundle = sign->add_flag(
      "--bundle", sign_options->bundle,
      "Each FILE is a function manifest: sign its bundle (the manifest and every file the "
      "function runs or reads) into FILE.bundle and FILE.bundle.sig, which `sie deploy` sends");
  sign->add_option("--sequence", sign_options->sequence,
                   "The bundle's release number (default: now, in seconds); a node refuses a "
                   "release older than one it deployed unless `sie deploy --rollback`")
      ->check(CLI::PositiveNumber)
      ->needs(bundle);
  sign->callback([&exit_code, sign_options] { exit_code = runSign(*sign_options); });

  auto verify_options = std::make_shared<VerifyOptions>();
  CLI::App* verify = app.add_subcommand(
      "verify", "Check each FILE against FILE.sig and the public keys trusted in --trust");
  verify->footer(
      "Exit status: 0 if every file verifies, 1 if any does not, 2 if input is unreadable.");
  verify->add_option("FILE", verify_options->files, "Signed files")->required();
  verify->add_option("--trust", verify_options->trust, "Directory of trusted public keys (*.pub)")
      ->required();
  verify->callback([&exit_code, verify_options] { exit_code = runVerify(*verify_options); });
}

}  // namespace sie::cli
