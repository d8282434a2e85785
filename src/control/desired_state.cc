#include "control/desired_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/file_text.h"

namespace sie::node {
namespace fs = std::filesystem;

namespace {

ScalingPolicy scalingFrom(const nlohmann::json& j) {
  ScalingPolicy s;
  s.min = j.at("min").get<int>();
  s.max = j.at("max").get<int>();
  s.target_concurrency = j.at("targetConcurrency").get<int>();
  s.idle_timeout = std::chrono::milliseconds(j.at("idleTimeoutMs").get<std::int64_t>());
  s.prewarm = j.at("prewarm").get<bool>();
  return s;
}

nlohmann::json policyJson(const RolloutPolicy& p) {
  return {{"strategy", strategyName(p.strategy)},
          {"weight", p.weight},
          {"maxErrorRate", p.max_error_rate},
          {"maxLatencyMs", p.max_p99_ms},
          {"minInvocations", p.min_invocations}};
}

RolloutPolicy policyFrom(const nlohmann::json& j) {
  RolloutPolicy p;
  auto strategy = parseStrategy(j.at("strategy").get<std::string>());
  if (!strategy) throw std::invalid_argument(strategy.error().message);
  p.strategy = *strategy;
  p.weight = j.at("weight").get<int>();
  p.max_error_rate = j.at("maxErrorRate").get<double>();
  p.max_p99_ms = j.at("maxLatencyMs").get<double>();
  p.min_invocations = j.at("minInvocations").get<std::uint64_t>();
  return p;
}

}  // namespace

nlohmann::json scalingJson(const ScalingPolicy& s) {
  return {{"min", s.min},
          {"max", s.max},
          {"targetConcurrency", s.target_concurrency},
          {"idleTimeoutMs", s.idle_timeout.count()},
          {"prewarm", s.prewarm}};
}

Result<DesiredState> DesiredState::load(const std::string& data_dir, const Env& env) {
  DesiredState state((fs::path(data_dir) / "control").string(), env);
  const std::string file = (fs::path(state.dir_) / "desired.json").string();
  auto text = readFileText(file);
  if (!text && text.error().code == Errc::kNotFound) return state;
  if (!text) return tl::unexpected(text.error());
  try {
    const auto doc = nlohmann::json::parse(*text);
    for (const auto& [name, e] : doc.at("functions").items()) {
      Entry entry;
      entry.version = e.value("version", "");
      entry.deleted = e.value("deleted", false);
      if (e.contains("scaling") && !e["scaling"].is_null()) {
        entry.scaling = scalingFrom(e["scaling"]);
      }
      if (e.contains("candidate") && !e["candidate"].is_null()) {
        entry.candidate = Candidate{e["candidate"].at("version").get<std::string>(),
                                    policyFrom(e["candidate"].at("policy"))};
      }
      state.entries_.emplace(name, std::move(entry));
    }
    if (doc.contains("sequences")) {
      for (const auto& [name, n] : doc["sequences"].items()) {
        state.sequences_[name] = n.get<std::int64_t>();
      }
    }
  } catch (const std::exception& e) {  // json errors, and a policy that does not parse
    return fail(Errc::kCorrupt,
                fmt::format("the control plane's desired state is unreadable ({}); fix or remove "
                            "the file to start from the config folder alone",
                            e.what()),
                file);
  }
  state.saved_entries_ = state.entries_;
  state.saved_sequences_ = state.sequences_;
  return state;
}

const DesiredState::Entry* DesiredState::find(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

std::string DesiredState::manifestPath(const std::string& name, const std::string& version) const {
  return (fs::path(dir_) / "functions" / name / (version + ".yaml")).string();
}

std::string DesiredState::filesDir(const std::string& name, const std::string& version) const {
  return (fs::path(dir_) / "functions" / name / (version + ".files")).string();
}

std::string DesiredState::refsPath(const std::string& name, const std::string& version) const {
  return (fs::path(dir_) / "functions" / name / (version + ".artifacts.json")).string();
}

Result<ArtifactRefs> DesiredState::artifacts(const std::string& name,
                                             const std::string& version) const {
  const std::string path = refsPath(name, version);
  auto text = readFileText(path);
  if (!text && text.error().code == Errc::kNotFound) return ArtifactRefs{};
  if (!text) return tl::unexpected(text.error());
  try {
    return nlohmann::json::parse(*text).get<ArtifactRefs>();
  } catch (const nlohmann::json::exception& e) {
    return fail(Errc::kCorrupt,
                fmt::format("the artifacts of {}@{} are unreadable ({}); deploy the version "
                            "again under a new number",
                            name, version, e.what()),
                path);
  }
}

std::vector<std::string> DesiredState::artifactUsers(const std::string& sha256) const {
  std::vector<std::string> users;
  std::error_code ec;
  for (const auto& function : fs::directory_iterator(fs::path(dir_) / "functions", ec)) {
    const std::string name = function.path().filename().string();
    for (const std::string& version : versions(name)) {
      auto refs = artifacts(name, version);
      if (!refs) continue;
      for (const auto& [path, digest] : *refs) {
        if (digest == sha256) users.push_back(fmt::format("{}@{} ({})", name, version, path));
      }
    }
  }
  std::sort(users.begin(), users.end());
  return users;
}

Status DesiredState::storeVersion(const std::string& name, const std::string& version,
                                  const std::string& text, const ArtifactRefs& refs) const {
  // The references first: a manifest on disk is a version that can be deployed again.
  if (!refs.empty()) {
    SIE_CHECK(writeFileAtomically(refsPath(name, version), nlohmann::json(refs).dump(2) + "\n",
                                  0644, *env_));
  }
  return writeFileAtomically(manifestPath(name, version), text, 0644, *env_);
}

Result<std::optional<SourceText>> DesiredState::manifest(const std::string& name,
                                                         const std::string& version) const {
  const std::string path = manifestPath(name, version);
  auto text = readFileText(path);
  if (!text && text.error().code == Errc::kNotFound) return std::optional<SourceText>();
  if (!text) return tl::unexpected(text.error());
  return std::optional<SourceText>(SourceText{path, std::move(*text)});
}

std::vector<std::string> DesiredState::versions(const std::string& name) const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(dir_) / "functions" / name, ec)) {
    if (entry.path().extension() == ".yaml") out.push_back(entry.path().stem().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::int64_t DesiredState::signedSequence(const std::string& name) const {
  auto it = sequences_.find(name);
  return it == sequences_.end() ? 0 : it->second;
}

Result<std::optional<SignedBundle>> DesiredState::bundle(const std::string& name,
                                                         const std::string& version) const {
  const std::string path = (fs::path(dir_) / "functions" / name / (version + ".bundle")).string();
  auto document = readFileText(path);
  if (!document && document.error().code == Errc::kNotFound) return std::optional<SignedBundle>();
  if (!document) return tl::unexpected(document.error());
  std::string signature = SIE_TRY(readFileText(path + ".sig"));
  return std::optional<SignedBundle>(SignedBundle{std::move(*document), std::move(signature)});
}

Status DesiredState::signedWith(const std::string& name, const std::string& version,
                                const SignedBundle& bundle, std::int64_t sequence) {
  const std::string path = (fs::path(dir_) / "functions" / name / (version + ".bundle")).string();
  SIE_CHECK(writeFileAtomically(path + ".sig", bundle.signature, 0644, *env_));
  SIE_CHECK(writeFileAtomically(path, bundle.document, 0644, *env_));
  std::int64_t& highest = sequences_[name];
  highest = std::max(highest, sequence);
  return ok();
}

Status DesiredState::deployed(const std::string& name, const std::string& version,
                              const std::string& text, const ArtifactRefs& refs) {
  if (auto stored = storeVersion(name, version, text, refs); !stored) return undo(stored);
  Entry& entry = entries_[name];
  entry.version = version;
  entry.deleted = false;
  entry.scaling.reset();  // the manifest's scaling, until the next scale call
  entry.candidate.reset();
  return save();
}

Status DesiredState::deleted(const std::string& name) {
  Entry& entry = entries_[name];
  entry.version.clear();
  entry.deleted = true;
  entry.scaling.reset();
  entry.candidate.reset();
  return save();
}

Status DesiredState::scaled(const std::string& name, const std::string& version,
                            const ScalingPolicy& scaling) {
  Entry& entry = entries_[name];
  entry.version = version;
  entry.deleted = false;
  entry.scaling = scaling;
  return save();
}

Status DesiredState::reset(const std::string& name) {
  entries_.erase(name);
  return save();
}

Status DesiredState::candidate(const std::string& name, const std::string& serving,
                               const std::string& version, const std::string& text,
                               const ArtifactRefs& refs, const RolloutPolicy& policy) {
  if (auto stored = storeVersion(name, version, text, refs); !stored) return undo(stored);
  Entry& entry = entries_[name];
  entry.version = serving;
  entry.deleted = false;
  entry.candidate = Candidate{version, policy};
  return save();
}

Status DesiredState::rolloutChanged(const std::string& name, const RolloutPolicy& policy) {
  auto it = entries_.find(name);
  if (it == entries_.end() || !it->second.candidate) return ok();
  it->second.candidate->policy = policy;
  return save();
}

Status DesiredState::promoted(const std::string& name) {
  auto it = entries_.find(name);
  if (it == entries_.end() || !it->second.candidate) return ok();
  it->second.version = it->second.candidate->version;
  it->second.candidate.reset();
  it->second.scaling.reset();
  return save();
}

Status DesiredState::candidateGone(const std::string& name) {
  auto it = entries_.find(name);
  if (it == entries_.end() || !it->second.candidate) return ok();
  it->second.candidate.reset();
  return save();
}

Status DesiredState::undo(Status failed) {
  entries_ = saved_entries_;
  sequences_ = saved_sequences_;
  return failed;
}

Status DesiredState::save() {
  nlohmann::json functions = nlohmann::json::object();
  for (const auto& [name, e] : entries_) {
    functions[name] = {
        {"version", e.version},
        {"deleted", e.deleted},
        {"scaling", e.scaling ? scalingJson(*e.scaling) : nlohmann::json()},
        {"candidate", e.candidate ? nlohmann::json{{"version", e.candidate->version},
                                                   {"policy", policyJson(e.candidate->policy)}}
                                  : nlohmann::json()}};
  }
  auto written = writeFileAtomically(
      (fs::path(dir_) / "desired.json").string(),
      nlohmann::json{{"functions", functions}, {"sequences", sequences_}}.dump(2) + "\n", 0644,
      *env_);
  if (!written) return undo(written);
  saved_entries_ = entries_;
  saved_sequences_ = sequences_;
  return ok();
}

}  // namespace sie::node
