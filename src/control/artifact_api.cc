#include "control/artifact_api.h"

#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "control/artifact_trust.h"
#include "control/control_api.h"
#include "control/control_plane.h"
#include "core/file_text.h"
#include "core/signing.h"

namespace sie::node {
namespace {

nlohmann::json artifactJson(const StoredArtifact& a, const ControlPlane& plane) {
  return {{"sha256", a.sha256},
          {"name", a.name},
          {"size", a.size},
          {"executable", a.executable},
          {"signed", a.has_signature},
          {"usedBy", plane.artifactUsers(a.sha256)}};
}

// The upload's X-Sie-Signature: its document and the key that verified it against the node's
// trusted keys; both empty when there is none.
struct UploadSignature {
  std::string document;
  std::string signer;
};

Result<UploadSignature> signatureOf(const HttpRequest& r, const std::string& file,
                                    const ControlPlane& plane) {
  const std::string_view header = r.header("x-sie-signature");
  if (header.empty()) return UploadSignature{};
  UploadSignature sig;
  sig.document = SIE_TRY(signatureFromHeader(header, "file"));
  const TrustStore trust = SIE_TRY(TrustStore::load(plane.trust().keysDir()));
  const std::string data = SIE_TRY(readFileText(file));
  auto id = trust.verify(data, sig.document);
  if (!id) return fail(Errc::kCorrupt, id.error().message, "X-Sie-Signature");
  sig.signer = *id;
  return sig;
}

HttpResponse upload(const HttpRequest& r, const std::string& name, ControlPlane& plane) {
  if (auto checked = checkArtifactName(name); !checked) {
    return apiError(400, "invalid", checked.error().message, "name");
  }
  // The node's server spools every body under /api/v1/artifacts/ (node.cc) and removes the
  // file after the answer.
  const std::string& file = r.body_file;
  if (file.empty()) return apiError(500, "internal", "the upload was not spooled");
  std::error_code ec;
  if (std::filesystem::file_size(file, ec) == 0) {
    return apiError(400, "invalid", "the body is empty: send the file's bytes");
  }
  auto signature = signatureOf(r, file, plane);
  if (!signature) {
    if (signature.error().code == Errc::kInvalidArgument) {
      return apiError(400, "invalid", signature.error().message, "X-Sie-Signature");
    }
    return apiError(403, "untrusted", signature.error().message, "X-Sie-Signature");
  }
  const auto executable = r.query.find("executable");
  auto added = plane.artifacts().add(file, name, std::string(r.header("x-sie-sha256")),
                                     executable != r.query.end() && executable->second == "true",
                                     signature->document);
  if (!added) {
    const Errc e = added.error().code;
    if (e == Errc::kCorrupt) {
      return apiError(422, "digest_mismatch", added.error().message, "X-Sie-Sha256");
    }
    if (e == Errc::kInvalidArgument) {
      return apiError(400, "invalid", added.error().message, added.error().where);
    }
    if (e == Errc::kOverload) return apiError(507, "quota_exceeded", added.error().message);
    return apiError(500, "internal", added.error().str());
  }
  if (added->created || !signature->signer.empty()) {
    plane.audit(
        "artifacts", "artifact stored", actorOf(r),
        fmt::format("{} {} ({} bytes){}", added->artifact.sha256, name, added->artifact.size,
                    signature->signer.empty() ? "" : ", signed by " + signature->signer));
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
             [p](const HttpRequest& r, const http::PathParams& params) {
               auto removed = p->removeArtifact(params.at("sha256"), actorOf(r));
               if (!removed) return controlError(removed.error());
               return json(200, {{"removed", params.at("sha256")}});
             });
}

}  // namespace sie::node
