#include "node/artifact_api.h"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/signing.h"
#include "node/control_api.h"
#include "node/control_plane.h"

namespace sie::node {
namespace {

HttpResponse json(int status, const nlohmann::json& body) {
  return {status, "application/json", body.dump(), {}};
}

nlohmann::json artifactJson(const StoredArtifact& a, const ControlPlane& plane) {
  return {{"sha256", a.sha256},
          {"name", a.name},
          {"size", a.size},
          {"executable", a.executable},
          {"signed", a.has_signature},
          {"usedBy", plane.artifactUsers(a.sha256)}};
}

// The upload as a file in the store's incoming folder: the server's spool file, or the body
// written out when the request came without one.
Result<std::string> received(const HttpRequest& r, const ArtifactStore& store) {
  if (!r.body_file.empty()) return r.body_file;
  static std::atomic<std::uint64_t> next{0};
  const std::string path =
      (std::filesystem::path(store.incomingDir()) / fmt::format("body-{}", next++)).string();
  std::ofstream out(path, std::ios::binary);
  out << r.body;
  if (!out.flush()) return fail(Errc::kIo, fmt::format("cannot write {}", path));
  return path;
}

Result<std::string> readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) return fail(Errc::kIo, fmt::format("cannot read {}", path));
  return text.str();
}

// The signer of the upload's X-Sie-Signature, "" when there is none; an error when it does not
// verify against the node's trusted keys.
Result<std::string> signer(const HttpRequest& r, const std::string& file,
                           const ControlPlane& plane) {
  const std::string_view header = r.header("x-sie-signature");
  if (header.empty()) return std::string();
  const auto doc = base64Decode(header);
  if (!doc) {
    return fail(Errc::kInvalidArgument,
                "X-Sie-Signature must be the base64 of the file's .sig document (`base64 -w0 "
                "FILE.sig`)",
                "X-Sie-Signature");
  }
  const TrustStore trust = SIE_TRY(TrustStore::load(plane.trust().keysDir()));
  const std::string data = SIE_TRY(readAll(file));
  auto id = trust.verify(data, std::string(doc->begin(), doc->end()));
  if (!id) return fail(Errc::kCorrupt, id.error().message, "X-Sie-Signature");
  return *id;
}

HttpResponse upload(const HttpRequest& r, const std::string& name, ControlPlane& plane) {
  if (auto checked = checkArtifactName(name); !checked) {
    return apiError(400, "invalid", checked.error().message, "name");
  }
  const ArtifactStore& store = plane.artifacts();
  auto file = received(r, store);
  if (!file) return apiError(500, "internal", file.error().str());
  std::error_code ec;
  if (std::filesystem::file_size(*file, ec) == 0) {
    std::filesystem::remove(*file, ec);
    return apiError(400, "invalid", "the body is empty: send the file's bytes");
  }
  auto signed_by = signer(r, *file, plane);
  if (!signed_by) {
    std::filesystem::remove(*file, ec);
    if (signed_by.error().code == Errc::kInvalidArgument) {
      return apiError(400, "invalid", signed_by.error().message, "X-Sie-Signature");
    }
    return apiError(403, "untrusted", signed_by.error().message, "X-Sie-Signature");
  }
  std::string signature;
  if (!signed_by->empty()) {
    const auto doc = base64Decode(r.header("x-sie-signature"));
    signature.assign(doc->begin(), doc->end());
  }
  const auto executable = r.query.find("executable");
  auto added = store.add(*file, name, std::string(r.header("x-sie-sha256")),
                         executable != r.query.end() && executable->second == "true", signature);
  std::filesystem::remove(*file, ec);
  if (!added) {
    const Errc e = added.error().code;
    if (e == Errc::kCorrupt) {
      return apiError(422, "digest_mismatch", added.error().message, "X-Sie-Sha256");
    }
    if (e == Errc::kInvalidArgument) {
      return apiError(400, "invalid", added.error().message, added.error().where);
    }
    return apiError(500, "internal", added.error().str());
  }
  if (added->created || !signed_by->empty()) {
    plane.audit(
        "artifacts", "artifact stored", "api",
        fmt::format("{} {} ({} bytes){}", added->artifact.sha256, name, added->artifact.size,
                    signed_by->empty() ? "" : ", signed by " + *signed_by));
  }
  return json(added->created ? 201 : 200, artifactJson(added->artifact, plane));
}

}  // namespace

void addArtifactRoutes(http::Routes& routes, ControlPlane& plane) {
  ControlPlane* p = &plane;
  routes.add("PUT", "/api/v1/artifacts/{name}",
             [p](const HttpRequest& r, const http::PathParams& params) {
               return upload(r, params.at("name"), *p);
             });
  routes.add("GET", "/api/v1/artifacts", [p](const HttpRequest&, const http::PathParams&) {
    auto all = p->artifacts().list();
    if (!all) return apiError(500, "internal", all.error().str());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& a : *all) out.push_back(artifactJson(a, *p));
    return json(200, {{"artifacts", out}});
  });
  routes.add("GET", "/api/v1/artifacts/{sha256}",
             [p](const HttpRequest&, const http::PathParams& params) {
               auto found = p->artifacts().find(params.at("sha256"));
               if (!found) {
                 return found.error().code == Errc::kNotFound
                            ? apiError(404, "not_found", found.error().message)
                            : apiError(400, "invalid", found.error().message, "sha256");
               }
               return json(200, artifactJson(*found, *p));
             });
  routes.add("DELETE", "/api/v1/artifacts/{sha256}",
             [p](const HttpRequest&, const http::PathParams& params) {
               auto removed = p->removeArtifact(params.at("sha256"), "api");
               if (!removed) return controlError(removed.error());
               return json(200, {{"removed", params.at("sha256")}});
             });
}

}  // namespace sie::node
