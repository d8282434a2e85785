// The artifact routes of the control API: models, executables and the files beside them, sent to
// the node before the manifest that runs them (artifact_store.h).
//   PUT    /api/v1/artifacts/{name}     the file's bytes; ?executable=true; X-Sie-Sha256 (the
//                                       sender's digest, checked); X-Sie-Signature (its .sig,
//                                       base64, checked and kept beside it). 201, or 200 when
//                                       these bytes were stored already
//   GET    /api/v1/artifacts            every stored artifact and the versions that run it
//   GET    /api/v1/artifacts/{sha256}   one
//   DELETE /api/v1/artifacts/{sha256}   409 while a stored version runs it
#pragma once

#include "http/routes.h"

namespace sie::node {

class ControlPlane;

void addArtifactRoutes(http::Routes& routes, ControlPlane& plane);

}  // namespace sie::node
