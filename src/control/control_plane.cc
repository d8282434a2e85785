#include "control/control_plane.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <span>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "core/sha256.h"

namespace sie::node {
namespace {

ControlError invalid(Error error) { return {ControlErrc::kInvalid, std::move(error)}; }

// Errors about the stored copy of a manifest name the request instead (the client maps "request:N"
// to its own file and line).
ControlError fromRequest(Error error, const std::string& stored, ControlErrc code) {
  if (error.where.starts_with(stored)) error.where = "request" + error.where.substr(stored.size());
  return {code, std::move(error)};
}

tl::unexpected<ControlError> refuse(ControlErrc code, std::string message, std::string where = {}) {
  return tl::unexpected(
      ControlError{code, Error{Errc::kInvalidArgument, std::move(message), std::move(where)}});
}

// Workers of a root node run as users of their own: every folder above their files must let
// others pass (o+x; listing stays closed).
Status reachableByWorkers(const std::string& folder) {
  for (std::filesystem::path dir(folder); !dir.empty() && dir != dir.root_path();
       dir = dir.parent_path()) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0 && (st.st_mode & S_IXOTH) == 0) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("process workers run as users of their own and cannot reach the "
                              "uploaded files in {}: {} is closed to others (mode {:o}); let "
                              "them pass with `chmod o+x {}` (listing stays closed)",
                              folder, dir.string(), st.st_mode & 07777, dir.string()),
                  dir.string());
    }
  }
  return ok();
}

// A change the desired state could not keep (full disk, failed fsync), undone.
ControlError notKept(const std::string& name, const std::string& version, Error error) {
  error.message = fmt::format("{}@{} was not deployed: the desired state could not be kept: {}",
                              name, version, error.message);
  return ControlError{ControlErrc::kInternal, std::move(error)};
}

ControlErrc codeFor(const Error& error) {
  switch (error.code) {
    case Errc::kNotFound:
      return ControlErrc::kNotFound;
    case Errc::kIo:
    case Errc::kInternal:
    case Errc::kCorrupt:
      return ControlErrc::kInternal;
    case Errc::kOverload:
      return ControlErrc::kUnavailable;
    default:
      return ControlErrc::kInvalid;
  }
}

}  // namespace

ControlPlane::ControlPlane(FunctionTable& table, AuditLog& audit, DesiredState desired,
                           ArtifactTrust trust, ArtifactStore store)
    : table_(table),
      schemas_(schemasOf(table.runtimes())),
      audit_(audit),
      trust_(std::move(trust)),
      store_(std::move(store)),
      desired_(std::move(desired)) {
  table_.onRollback([this](const std::string& name, const std::string& version,
                           const std::string& reason) { rolledBack(name, version, reason); });
}

void ControlPlane::rolledBack(const std::string& name, const std::string& version,
                              const std::string& reason) {
  {
    std::lock_guard lock(mu_);
    if (auto saved = desired_.candidateGone(name); !saved) {
      spdlog::error("control: {}: {}", name, saved.error().str());
    }
  }
  audit(name, "rolled back", "objectives", fmt::format("{}: {}", version, reason), "");
}

Status ControlPlane::load(const std::vector<SourceText>& site_files) {
  for (auto& spec : SIE_TRY(parseManifestSet(site_files, schemas_))) {
    auto [it, inserted] = site_.emplace(spec.name, spec);
    if (!inserted) {
      return fail(Errc::kAlreadyExists,
                  fmt::format("function '{}' is declared twice (versions {} and {}); one version "
                              "of a name serves: keep one manifest",
                              spec.name, it->second.version, spec.version),
                  spec.source_file);
    }
  }
  for (const auto& [name, spec] : site_) {
    if (desired_.find(name) == nullptr) SIE_TRY(table_.deploy(spec, false));
  }
  for (const auto& [name, entry] : desired_.entries()) {
    if (entry.deleted) continue;
    FunctionSpec spec;
    if (SIE_TRY(desired_.manifest(name, entry.version))) {
      spec = SIE_TRY(storedSpec(name, entry.version));
    } else if (auto site = site_.find(name); site != site_.end()) {
      // Scaled or rolled out through the API while the folder deploys the version: the API set
      // the scale, not the version, so the folder's version now serves at that scale.
      spec = site->second;
      if (spec.version != entry.version) {
        spdlog::info(
            "control: {}: the config folder now declares version {} (was {}); it "
            "serves at the scale set through the API",
            name, spec.version, entry.version);
      }
    } else {
      return fail(Errc::kCorrupt,
                  fmt::format("the desired state serves {}@{}, which has no stored manifest and "
                              "is no longer in the config folder; put its manifest back in the "
                              "config folder, or remove the entry from desired.json",
                              name, entry.version),
                  desired_.manifestPath(name, entry.version));
    }
    if (entry.scaling) spec.scaling = *entry.scaling;
    SIE_TRY(table_.deploy(std::move(spec), false));
  }
  for (const auto& [name, entry] : desired_.entries()) {
    if (entry.deleted || !entry.candidate) continue;
    if (!SIE_TRY(desired_.manifest(name, entry.candidate->version))) {
      return fail(Errc::kCorrupt,
                  fmt::format("the rollout candidate {}@{} has no stored manifest", name,
                              entry.candidate->version),
                  desired_.manifestPath(name, entry.candidate->version));
    }
    FunctionSpec candidate = SIE_TRY(storedSpec(name, entry.candidate->version));
    SIE_TRY(table_.deployCandidate(std::move(candidate), entry.candidate->policy));
  }
  return table_.checkEscalations();
}

Result<FunctionSpec> ControlPlane::storedSpec(const std::string& name,
                                              const std::string& version) const {
  auto stored = SIE_TRY(desired_.manifest(name, version));
  if (!stored) {
    return fail(Errc::kNotFound, fmt::format("{}@{} has no stored manifest", name, version),
                desired_.manifestPath(name, version));
  }
  auto specs = SIE_TRY(parseManifests(*stored, schemas_));
  if (specs.size() != 1)
    return fail(Errc::kCorrupt, "a stored manifest must hold one function", stored->path);
  SIE_CHECK(bind(specs.front(), SIE_TRY(desired_.artifacts(name, version))));
  return std::move(specs.front());
}

Status ControlPlane::bind(FunctionSpec& spec, const ArtifactRefs& refs) const {
  if (refs.empty()) return ok();
  // Only files the function runs or may read can be bound (a stray path is a typo): the
  // handler, a process handler's folder (its worker reads it), spec.process.read.
  const auto normal = [](const std::filesystem::path& p) {
    std::string out = p.lexically_normal().string();
    while (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
  };
  std::vector<std::string> files{normal(spec.handler)};
  std::vector<std::string> folders;
  if (spec.runtime == "process") {  // its workers read the handler's whole folder
    const std::string folder = normal(std::filesystem::path(spec.handler).parent_path());
    folders.push_back(folder.empty() ? "." : folder);
  }
  for (const auto& path : spec.read_paths) {
    files.push_back(normal(path));
    folders.push_back(normal(path));
  }
  for (const auto& ref : refs) {
    const std::string& path = ref.first;  // lambdas capture structured bindings from clang 16 on
    const bool used =
        std::find(files.begin(), files.end(), path) != files.end() ||
        std::any_of(folders.begin(), folders.end(), [&](const std::string& folder) {
          return folder == "." ? !path.starts_with("../") : path.starts_with(folder + "/");
        });
    if (!used) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("X-Sie-Artifacts names {}, which the function neither runs "
                              "(spec.handler, and a process handler's folder) nor reads "
                              "(spec.process.read)",
                              path),
                  "X-Sie-Artifacts");
    }
  }
  spec.base_dir = SIE_TRY(store_.layOut(refs, desired_.filesDir(spec.name, spec.version)));
  if (spec.runtime == "process" && geteuid() == 0) SIE_CHECK(reachableByWorkers(spec.base_dir));
  return ok();
}

ArtifactRefs ControlPlane::artifactRefs(const std::string& name, const std::string& version) const {
  std::lock_guard lock(mu_);
  auto refs = desired_.artifacts(name, version);
  return refs ? *refs : ArtifactRefs{};
}

std::vector<std::string> ControlPlane::artifactUsers(const std::string& sha256) const {
  std::lock_guard lock(mu_);
  return desired_.artifactUsers(sha256);
}

ControlResult<void> ControlPlane::removeArtifact(const std::string& sha256,
                                                 const std::string& actor) {
  StoredArtifact removed;
  {
    // Under the lock, with no change in progress: a deploy binds artifacts only while it holds
    // a claim, so none can take this one between the check and the removal.
    std::lock_guard lock(mu_);
    if (!busy_.empty()) {
      return refuse(ControlErrc::kConflict,
                    fmt::format("'{}' is being changed; remove artifacts when no deploy runs",
                                *busy_.begin()));
    }
    const std::vector<std::string> users = desired_.artifactUsers(sha256);
    if (!users.empty()) {
      return refuse(ControlErrc::kConflict,
                    fmt::format("artifact {} is run by {}; versions are kept for switching back, "
                                "so their files stay",
                                sha256, fmt::join(users, ", ")));
    }
    auto stored = store_.find(sha256);
    if (!stored) return tl::unexpected(ControlError{codeFor(stored.error()), stored.error()});
    if (auto gone = store_.remove(sha256); !gone) {
      return tl::unexpected(ControlError{codeFor(gone.error()), gone.error()});
    }
    removed = std::move(*stored);
  }
  audit("artifacts", "artifact removed", actor, fmt::format("{} ({})", sha256, removed.name));
  return {};
}

ControlPlane::Claim::~Claim() {
  std::lock_guard lock(plane->mu_);
  plane->busy_.erase(name);
}

ControlResult<std::unique_ptr<ControlPlane::Claim>> ControlPlane::claim(const std::string& name) {
  std::lock_guard lock(mu_);
  if (!busy_.insert(name).second) {
    return refuse(
        ControlErrc::kConflict,
        fmt::format("another change of '{}' is in progress; retry when it finished", name));
  }
  return std::unique_ptr<Claim>(new Claim{this, name});  // no temporary: its end would release
}

void ControlPlane::audit(const std::string& name, const std::string& event,
                         const std::string& actor, const std::string& detail,
                         std::string_view decision) {
  nlohmann::json body{{"event", event}, {"actor", actor}, {"detail", detail}};
  if (!decision.empty()) body["decision"] = decision;
  // Details quote requests (an upload's name), which need not be UTF-8: such bytes are replaced.
  const std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (auto appended = audit_.append("control", name, text); !appended) {
    spdlog::error("audit: {}", appended.error().str());
  }
}

ControlResult<DeployReport> ControlPlane::deploy(const DeployRequest& request) {
  const std::string& text = request.text;
  // Parse once under a neutral name to learn name and version, then again from the path it will
  // be stored at, so relative paths and messages refer to the stored copy.
  auto parsed = parseManifests(SourceText{"request", text}, schemas_);
  if (!parsed) return tl::unexpected(invalid(parsed.error()));
  if (parsed->size() != 1) {
    return refuse(ControlErrc::kInvalid,
                  fmt::format("the request holds {} functions; deploy one manifest per request "
                              "(`sie deploy -f` splits files)",
                              parsed->size()),
                  "request");
  }
  const std::string name = parsed->front().name;
  const std::string version = parsed->front().version;
  auto claimed = claim(name);
  if (!claimed) return tl::unexpected(claimed.error());

  auto serving = table_.find(name);
  const std::string serving_version = serving ? serving->spec().version : "";
  if (!request.expect_version.empty() && request.expect_version != serving_version) {
    return refuse(ControlErrc::kConflict,
                  fmt::format("'{}' serves version '{}', not '{}' (If-Match); fetch it again and "
                              "retry",
                              name, serving_version.empty() ? "none" : serving_version,
                              request.expect_version));
  }
  std::string path;
  {
    std::lock_guard lock(mu_);
    path = desired_.manifestPath(name, version);
    if (auto stored = desired_.manifest(name, version); stored && *stored) {
      auto refs = desired_.artifacts(name, version);
      const bool same = (*stored)->text == text && refs && *refs == request.artifacts;
      if (same && serving_version == version) return DeployReport{name, version, version, false};
      if (!same) {
        return refuse(ControlErrc::kConflict,
                      fmt::format("{}@{} was deployed before with a different manifest or "
                                  "artifacts; a version is immutable: bump metadata.version",
                                  name, version));
      }
    } else if (serving_version == version) {
      return refuse(ControlErrc::kConflict,
                    fmt::format("{}@{} already serves (from {}); a version is immutable: bump "
                                "metadata.version",
                                name, version, serving->spec().source_file));
    }
  }
  auto specs = parseManifests(SourceText{path, text}, schemas_);
  if (!specs) return tl::unexpected(fromRequest(specs.error(), path, ControlErrc::kInvalid));
  if (auto bound = bind(specs->front(), request.artifacts); !bound) {
    // A missing artifact is the request's fault; an altered one is refused like a bad signature.
    const Errc e = bound.error().code;
    const ControlErrc code = e == Errc::kCorrupt ? ControlErrc::kForbidden
                             : e == Errc::kIo    ? ControlErrc::kInternal
                                                 : ControlErrc::kInvalid;
    return tl::unexpected(ControlError{code, bound.error()});
  }
  std::optional<SignedBundle> bundle = request.bundle;
  if (request.stored) {
    std::lock_guard lock(mu_);
    auto kept = desired_.bundle(name, version);
    if (!kept) return tl::unexpected(ControlError{ControlErrc::kInternal, kept.error()});
    bundle = std::move(*kept);
  }
  auto trusted = trust_.check(text, request.signature, bundle, specs->front(), request.stored);
  if (!trusted) {
    const ControlErrc code = trusted.error().code == Errc::kInvalidArgument
                                 ? ControlErrc::kInvalid
                                 : ControlErrc::kForbidden;
    return tl::unexpected(ControlError{code, trusted.error()});
  }
  std::string signed_by = trusted->signers.empty()
                              ? ""
                              : fmt::format(", signed by {}", fmt::join(trusted->signers, ", "));
  if (trusted->sequence > 0) {
    std::int64_t highest = 0;
    {
      std::lock_guard lock(mu_);
      highest = desired_.signedSequence(name);
    }
    if (trusted->sequence < highest) {
      // A replayed old release would bring back what a newer one fixed: only on purpose.
      if (!request.rollback && !request.stored) {
        return refuse(ControlErrc::kForbidden,
                      fmt::format("{}@{} is signed as release {}, but release {} of '{}' was "
                                  "deployed before: an older signed release is refused unless "
                                  "you roll back on purpose (`sie deploy --rollback`)",
                                  name, version, trusted->sequence, highest, name),
                      "bundle");
      }
      signed_by += fmt::format(", rolled back from release {} to {}", highest, trusted->sequence);
    } else {
      signed_by += fmt::format(", release {}", trusted->sequence);
    }
  }
  // Kept with the version (switching back re-checks it) and raising the name's release.
  const auto keep_bundle = [&]() -> Status {
    if (!bundle || trusted->sequence == 0) return ok();
    return desired_.signedWith(name, version, *bundle, trusted->sequence);
  };
  const auto& rollout = request.rollout;
  const std::string& actor = request.actor;
  // Checked even when nothing serves yet and the first version is deployed outright: a policy
  // that is wrong now would be taken as given by the next rollout's caller.
  if (rollout) {
    if (auto checked = validate(*rollout); !checked) {
      return tl::unexpected(ControlError{ControlErrc::kInvalid, checked.error()});
    }
  }
  if (rollout && serving) {
    auto deployed = table_.deployCandidate(std::move(specs->front()), *rollout);
    if (!deployed) {
      return tl::unexpected(fromRequest(deployed.error(), path, codeFor(deployed.error())));
    }
    {
      std::lock_guard lock(mu_);
      if (auto saved = keep_bundle().and_then([&] {
            return desired_.candidate(name, serving_version, version, text, request.artifacts,
                                      *rollout);
          });
          !saved) {
        // Not kept, so not run: the next start would not know the candidate.
        if (auto aborted = table_.abortRollout(name); !aborted) {
          spdlog::error("control: {}: {}", name, aborted.error().str());
        }
        return tl::unexpected(notKept(name, version, saved.error()));
      }
    }
    audit(name, "rollout started", actor,
          fmt::format("{} beside {}: {} weight {}{}", version, serving_version,
                      strategyName(rollout->strategy), rollout->weight, signed_by));
    spdlog::info("control: {}@{} deployed as the {} candidate beside {}", name, version,
                 strategyName(rollout->strategy), serving_version);
    return DeployReport{name, version, serving_version, true};
  }
  auto deployed = table_.deploy(std::move(specs->front()));
  if (!deployed) {
    return tl::unexpected(fromRequest(deployed.error(), path, codeFor(deployed.error())));
  }
  {
    std::lock_guard lock(mu_);
    if (auto saved = keep_bundle().and_then(
            [&] { return desired_.deployed(name, version, text, request.artifacts); });
        !saved) {
      // Not kept, so not served: back to what served before, as the next start would be.
      Status back = ok();
      if (!serving) {
        back = table_.remove(name);
      } else if (auto again = table_.deploy(serving->spec()); !again) {
        back = tl::unexpected(again.error());
      }
      if (!back) spdlog::error("control: {}: {}", name, back.error().str());
      return tl::unexpected(notKept(name, version, saved.error()));
    }
  }
  audit(name, "deployed", actor,
        (serving_version.empty() ? version : fmt::format("{} (was {})", version, serving_version)) +
            signed_by);
  spdlog::info("control: {}@{} deployed{}", name, version,
               serving_version.empty() ? "" : fmt::format(", replacing {}", serving_version));
  return DeployReport{name, version, serving_version, true};
}

ControlResult<void> ControlPlane::remove(const std::string& name, bool reset,
                                         const std::string& actor) {
  auto claimed = claim(name);
  if (!claimed) return tl::unexpected(claimed.error());
  std::optional<FunctionSpec> site;
  {
    std::lock_guard lock(mu_);
    if (auto it = site_.find(name); reset && it != site_.end()) site = it->second;
  }
  // Deploy refuses an escalation to a missing function, so removal refuses to leave one behind
  // (the next start would fail on it). A reset to the folder keeps the name served.
  if (const auto from = table_.escalatingTo(name); !site && !from.empty()) {
    return refuse(ControlErrc::kConflict,
                  fmt::format("'{}' is the escalation target of {}; point their spec.escalate.to "
                              "elsewhere or delete them first",
                              name, fmt::join(from, ", ")));
  }
  const bool serving = table_.find(name) != nullptr;
  if (!serving && !reset) {
    return refuse(ControlErrc::kNotFound, fmt::format("no function named '{}' on this node", name));
  }
  {
    // Kept first: a removal the disk does not hold would be undone by the next start.
    std::lock_guard lock(mu_);
    auto saved = reset ? desired_.reset(name) : desired_.deleted(name);
    if (!saved) return tl::unexpected(ControlError{ControlErrc::kInternal, saved.error()});
  }
  if (serving) {
    if (auto removed = table_.remove(name); !removed) {
      return tl::unexpected(ControlError{codeFor(removed.error()), removed.error()});
    }
  }
  if (site) {
    if (auto deployed = table_.deploy(*site); !deployed) {
      return tl::unexpected(ControlError{codeFor(deployed.error()), deployed.error()});
    }
  }
  audit(name, reset ? "reset" : "deleted", actor,
        site ? "config folder version " + site->version : "");
  spdlog::info("control: {} {}", name, reset ? "reset to the config folder" : "deleted");
  return {};
}

ControlResult<ScalingPolicy> ControlPlane::scale(const std::string& name,
                                                 const ScalingPolicy& scaling,
                                                 const std::string& actor) {
  if (scaling.min < 0 || scaling.max < 1 || scaling.max < scaling.min ||
      scaling.target_concurrency < 1 || scaling.max > 1000) {
    return refuse(ControlErrc::kInvalid,
                  fmt::format("scaling needs 0 <= min <= max, 1 <= max <= 1000 and "
                              "targetConcurrency >= 1 (got min {}, max {}, targetConcurrency {})",
                              scaling.min, scaling.max, scaling.target_concurrency),
                  "min");
  }
  auto claimed = claim(name);
  if (!claimed) return tl::unexpected(claimed.error());
  auto runner = table_.find(name);
  if (!runner) {
    return refuse(ControlErrc::kNotFound, fmt::format("no function named '{}' on this node", name));
  }
  {
    std::lock_guard lock(mu_);
    // A name the folder deployed is the API's from now on: the folder's version, at this scale.
    auto saved = desired_.scaled(name, runner->spec().version, scaling);
    if (!saved) return tl::unexpected(ControlError{ControlErrc::kInternal, saved.error()});
  }
  if (auto scaled = table_.scale(name, scaling); !scaled) {
    return tl::unexpected(ControlError{codeFor(scaled.error()), scaled.error()});
  }
  audit(name, "scaled", actor,
        fmt::format("min {} max {} targetConcurrency {}", scaling.min, scaling.max,
                    scaling.target_concurrency));
  return scaling;
}

ControlResult<void> ControlPlane::setRollout(const std::string& name, const RolloutPolicy& policy,
                                             const std::string& actor) {
  if (auto changed = table_.setRollout(name, policy); !changed) {
    return tl::unexpected(ControlError{codeFor(changed.error()), changed.error()});
  }
  {
    std::lock_guard lock(mu_);
    if (auto saved = desired_.rolloutChanged(name, policy); !saved) {
      return tl::unexpected(ControlError{ControlErrc::kInternal, saved.error()});
    }
  }
  audit(name, "rollout changed", actor,
        fmt::format("{} weight {}", strategyName(policy.strategy), policy.weight));
  return {};
}

ControlResult<std::string> ControlPlane::promote(const std::string& name,
                                                 const std::string& actor) {
  auto version = table_.promote(name);
  if (!version) return tl::unexpected(ControlError{codeFor(version.error()), version.error()});
  {
    std::lock_guard lock(mu_);
    if (auto saved = desired_.promoted(name); !saved) {
      return tl::unexpected(ControlError{ControlErrc::kInternal, saved.error()});
    }
  }
  audit(name, "promoted", actor, *version);
  spdlog::info("control: {}@{} promoted", name, *version);
  return *version;
}

ControlResult<std::string> ControlPlane::abortRollout(const std::string& name,
                                                      const std::string& actor) {
  auto version = table_.abortRollout(name);
  if (!version) return tl::unexpected(ControlError{codeFor(version.error()), version.error()});
  {
    std::lock_guard lock(mu_);
    if (auto saved = desired_.candidateGone(name); !saved) {
      return tl::unexpected(ControlError{ControlErrc::kInternal, saved.error()});
    }
  }
  audit(name, "rollout aborted", actor, *version);
  return *version;
}

ControlResult<DeployReport> ControlPlane::switchTo(const std::string& name,
                                                   const std::string& version,
                                                   const std::string& actor) {
  std::optional<SourceText> stored;
  ArtifactRefs refs;
  {
    std::lock_guard lock(mu_);
    auto read = desired_.manifest(name, version);
    if (!read) return tl::unexpected(ControlError{ControlErrc::kInternal, read.error()});
    stored = std::move(*read);
    auto bound = desired_.artifacts(name, version);
    if (!bound) return tl::unexpected(ControlError{ControlErrc::kInternal, bound.error()});
    refs = std::move(*bound);
  }
  if (!stored) {
    return refuse(ControlErrc::kNotFound,
                  fmt::format("{}@{} was never deployed through the API (see `sie fn describe "
                              "{}` for its versions)",
                              name, version, name),
                  "version");
  }
  return deploy({.text = stored->text, .actor = actor, .artifacts = refs, .stored = true});
}

std::string ControlPlane::manifestSha256(const std::string& name,
                                         const std::string& version) const {
  std::lock_guard lock(mu_);
  auto stored = desired_.manifest(name, version);
  if (!stored || !*stored) return "";
  const std::string& text = (*stored)->text;
  return sha256Hex(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::string ControlPlane::origin(const std::string& name) const {
  std::lock_guard lock(mu_);
  const auto* entry = desired_.find(name);
  return entry != nullptr && !entry->deleted ? "api" : "site";
}

std::vector<std::string> ControlPlane::versions(const std::string& name) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out = desired_.versions(name);
  if (auto it = site_.find(name); it != site_.end()) out.push_back(it->second.version);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace sie::node
