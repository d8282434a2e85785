// ArtifactStore: models, executables and the files beside them, uploaded through the control API
// and kept by content under <data_dir>/artifacts:
//
//   artifacts/<sha256>/<file name>      the bytes, read-only (0444, or 0555 when executable)
//   artifacts/<sha256>/<file name>.sig  its signature (`sie sign`), when one came with it
//   artifacts/incoming/                 uploads being received (spooled by the HTTP server)
//
// A manifest names its files by path relative to its folder. A deploy through the API says which
// stored artifact each path is (ArtifactRefs, the X-Sie-Artifacts header), and the node lays the
// files out, hard-linked, in a folder of that version's own, so the paths between them hold
// (a bootstrap beside the script it runs, a model two folders up).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "control/artifact_refs.h"
#include "core/env.h"
#include "sie/result.h"

namespace sie::node {

struct StoredArtifact {
  std::string sha256;
  std::string name;  // the file name it was uploaded under
  std::uint64_t size = 0;
  bool executable = false;
  bool has_signature = false;
  std::string path;  // on the node
};

class ArtifactStore {
 public:
  // `quota_bytes`: the most the stored artifacts may take together (0: no limit). Writes go
  // through `env` (tests inject a full disk or a failed fsync).
  explicit ArtifactStore(const std::string& data_dir, std::uint64_t quota_bytes = 0,
                         const Env& env = Env::system());

  // Creates the folders and clears uploads a stopped node left half received.
  Status prepare() const;
  [[nodiscard]] const std::string& incomingDir() const { return incoming_; }

  struct Added {
    StoredArtifact artifact;
    bool created = false;  // false: these bytes were stored already
  };
  [[nodiscard]] std::uint64_t quota() const { return quota_; }
  // The bytes the stored artifacts take (each stored file once).
  [[nodiscard]] Result<std::uint64_t> usage() const;
  // kOverload when `more` new bytes would not fit the quota, saying how to make room.
  [[nodiscard]] Status checkRoom(std::uint64_t more) const;

  // Takes the received file `spooled` into the store as `name`. `expect_sha256` ("" for none) is
  // the digest the sender computed: bytes that hash otherwise were damaged on the way and are
  // refused. `signature` (a .sig document, checked by the caller) is kept beside the file.
  Result<Added> add(const std::string& spooled, const std::string& name,
                    const std::string& expect_sha256, bool executable,
                    const std::string& signature) const;
  [[nodiscard]] Result<StoredArtifact> find(const std::string& sha256) const;
  [[nodiscard]] Result<std::vector<StoredArtifact>> list() const;
  Status remove(const std::string& sha256) const;

  // Lays `refs` out under `root` (hard links; copies across file systems), each stored file
  // checked against its digest first. Returns the folder the manifest's relative paths start
  // from.
  [[nodiscard]] Result<std::string> layOut(const ArtifactRefs& refs, const std::string& root) const;

 private:
  std::string dir_;       // <data_dir>/artifacts
  std::string incoming_;  // dir_/incoming
  std::uint64_t quota_ = 0;
  const Env* env_;
};

}  // namespace sie::node
