// How a deploy names uploaded artifacts: file names of uploads, and the X-Sie-Artifacts header
// that maps a manifest's relative paths to stored digests (artifact_store.h).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "sie/result.h"

namespace sie::node {

// A manifest's relative path -> the SHA-256 of the stored artifact it is.
using ArtifactRefs = std::map<std::string, std::string>;

// 64 lower-case hex digits.
bool isSha256Hex(std::string_view text);
// An upload's file name: one path component, no leading dot, not ending in ".sig", printable.
Status checkArtifactName(std::string_view name);
// "path=sha256&path=sha256", each form-encoded (the X-Sie-Artifacts header); paths relative and
// lexically normal, digests 64 lower-case hex digits.
Result<ArtifactRefs> parseArtifactRefs(std::string_view header);

}  // namespace sie::node
