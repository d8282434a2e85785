#include "config/site_config.h"

#include <filesystem>
#include <utility>

#include <fmt/format.h>

#include "config/audit_settings.h"
#include "config/demo_site.h"
#include "core/config_table.h"
#include "core/file_text.h"
#include "gateway/gateway_config.h"
#include "http/http_client.h"
#include "http/networks.h"
#include "privacy/rule.h"

namespace sie::node {
namespace {

using Type = ConfigKey::Type;

constexpr ConfigKey kDocumentKeys[] = {
    {"apiVersion", Type::kString, "", "must be sie/v1", true},
    {"kind", Type::kString, "", "must be Site", true},
};
constexpr std::string_view kDocumentBlocks[] = {"metadata", "spec"};
constexpr ConfigKey kMetadataKeys[] = {
    {"name", Type::kString, "site", "site name"},
    {"description", Type::kString, "", "free text"},
};
constexpr ConfigKey kSpecKeys[] = {
    {"dataDir", Type::kString, "./sie-data", "state folder (SQLite database, audit chain)"},
    {"http", Type::kString, "127.0.0.1:8080", "HTTP listener host:port (/healthz, /metrics, API)"},
    {"functions", Type::kString, "functions",
     "folder of Function manifests, relative to this file"},
    {"summaryInterval", Type::kDuration, "5s", "live summary period on stdout (0 = off)"},
    {"requireSignatures", Type::kBool, "false",
     "deploys through the API need an Ed25519 signature from a trusted key (manifest, model, "
     "executable)"},
    {"trustedKeys", Type::kString, "", "folder of trusted public keys (default <dataDir>/keys)"},
    ConfigKey{"maxArtifactMiB", Type::kInt, "1024",
              "largest model or executable the API accepts (PUT /api/v1/artifacts), in MiB"}
        .within(1, 1 << 20),
    ConfigKey{"artifactQuotaMiB", Type::kInt, "8192",
              "the most all stored artifacts may take together, in MiB; an upload past it gets "
              "507"}
        .within(1, 1 << 30),
};
constexpr std::string_view kSpecBlocks[] = {"sources", "sinks", "gateway",  "routes", "dispatcher",
                                            "state",   "log",   "security", "audit",  "privacy"};
constexpr ConfigKey kSecurityKeys[] = {
    ConfigKey{"authentication", Type::kString, "token",
              "token: every call but /healthz and /readyz needs a bearer token (sie token "
              "create) | none: no authentication, allowed on a loopback listener only (as "
              "--insecure-loopback-only)"}
        .oneOf("token|none"),
    {"hosts", Type::kStringList, "",
     "names callers may reach this node by (the Host header), besides localhost, 127.0.0.1 and "
     "[::1]"},
    ConfigKey{"callsPerSecond", Type::kDouble, "2000",
              "calls a second each caller (token identity) may make after its burst; over it, 429 "
              "with Retry-After (0: no limit)"}
        .within(0, 1e9),
    ConfigKey{"burst", Type::kDouble, "4000", "calls a caller may make at once"}.within(1, 1e9),
    {"callbackNetworks", Type::kStringList, "",
     "IP networks async-call callback URLs may lead to (CIDR, e.g. 10.20.0.0/16); default "
     "loopback only, so a caller cannot make the node reach other internal services"},
    {"policy", Type::kString, "",
     "a policy file (YAML, kind Policy; relative to this file) that decides who may do what on "
     "which functions and sensors, instead of the built-in roles: deny by default, a deny rule "
     "wins; reloaded when it changes (docs/SECURITY.md)"},
    {"keyAuthority", Type::kString, "",
     "the site CA certificate (relative to this file; default tls.caFile) whose endorsement "
     "(sie pki endorse) a signing key needs to be trusted over the API when requireSignatures "
     "is on"},
};
constexpr std::string_view kSecurityBlocks[] = {"tls", "opa"};
constexpr ConfigKey kOpaKeys[] = {
    {"url", Type::kString, "",
     "an external decision point speaking OPA's REST Data API, asked after the local policy "
     "allowed a call (both must allow): http://127.0.0.1:8181/v1/data/sie/allow",
     true},
    ConfigKey{"timeout", Type::kDuration, "50ms",
              "longest wait for its answer (connect, send, read); without an answer in time the "
              "call is refused (503, fail closed)"}
        .withinTime(std::chrono::milliseconds(1), std::chrono::seconds(10)),
    {"cacheTtl", Type::kDuration, "0s",
     "how long an answer is reused for the same question (subject, role, action, resource, "
     "method, path); 0: ask for every call"},
};
constexpr ConfigKey kTlsKeys[] = {
    {"certFile", Type::kString, "",
     "the node's certificate (PEM; sie pki issue node NAME), relative to this file", true},
    {"keyFile", Type::kString, "", "its private key (PEM, unencrypted, mode 0600)", true},
    {"caFile", Type::kString, "", "the site CA that client certificates must chain to", true},
    {"crlFile", Type::kString, "",
     "the CA's revocation list (sie pki revoke writes it); revoked certificates are refused"},
    ConfigKey{"clientCertificates", Type::kString, "required",
              "required: every caller presents a certificate of the site CA | optional: callers "
              "without one must send a bearer token"}
        .oneOf("required|optional"),
    {"renewWith", Type::kString, "",
     "the site CA folder (sie pki init): the node renews its own certificate there when a third "
     "of its lifetime is left"},
    {"reloadInterval", Type::kDuration, "5s",
     "how often the files are checked for a change (a renewed certificate, a new CRL)"},
};
constexpr ConfigKey kDispatcherKeys[] = {
    ConfigKey{"queueCapacity", Type::kInt, "10000", "events queued per function before overload"}
        .within(1, 10'000'000),
    ConfigKey{"overload", Type::kString, "block", "what a full queue does with the next event"}
        .oneOf("block|drop-oldest|dead-letter"),
    ConfigKey{"workers", Type::kInt, "0", "worker threads (0 = one per core)"}.within(0, 256),
    ConfigKey{"lanes", Type::kInt, "64",
              "ordering lanes per function (events of one sensor share one)"}
        .within(1, 4096),
    {"blockTimeout", Type::kDuration, "5s", "block: longest a source waits before it is refused"},
};
constexpr ConfigKey kStateKeys[] = {
    {"backend", Type::kString, "embedded",
     "embedded (SQLite, WAL) | redis (settings in a `redis:` block)"},
    {"batchInterval", Type::kDuration, "20ms", "longest a write waits before it is committed"},
    ConfigKey{"memoryWindow", Type::kInt, "2048", "readings per sensor kept in memory for windows"}
        .within(16, 10'000'000),
};
constexpr std::string_view kStateBlocks[] = {"redis"};
constexpr ConfigKey kLogKeys[] = {
    ConfigKey{"level", Type::kString, "info", "least severe message logged"}.oneOf(
        "trace|debug|info|warn|error"),
    ConfigKey{"format", Type::kString, "text", "one line of text or of JSON per message"}.oneOf(
        "text|json"),
};

// Reads spec.sources or spec.sinks: a list of blocks with unique names.
Result<std::vector<PluginBlock>> parsePluginBlocks(const YAML::Node& list, std::string_view what,
                                                   const std::string& file) {
  std::vector<PluginBlock> out;
  if (!list) return out;
  if (!list.IsSequence()) {
    return fail(Errc::kInvalidArgument, fmt::format("spec.{} must be a list", what),
                yamlWhere(file, list));
  }
  for (const auto& block : list) {
    const std::string where = yamlWhere(file, block);
    if (!block.IsMap() || !block["type"] || !block["name"] || !block["type"].IsScalar() ||
        !block["name"].IsScalar()) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("each entry of spec.{} needs a name and a type, e.g. {{name: plant, "
                              "type: {}}}",
                              what, what == "sources" ? "sim" : "mqtt"),
                  where);
    }
    PluginBlock entry{block["name"].as<std::string>(), block["type"].as<std::string>(), block};
    for (const auto& other : out) {
      if (other.name == entry.name) {
        return fail(
            Errc::kAlreadyExists,
            fmt::format("{} name '{}' is used twice", what.substr(0, what.size() - 1), entry.name),
            where);
      }
    }
    out.push_back(std::move(entry));
  }
  return out;
}

Status parseDispatcher(const YAML::Node& node, const std::string& file, DispatcherOptions& out) {
  if (!node) return ok();
  auto v = SIE_TRY(readConfig(node, kDispatcherKeys, file, {}, "spec.dispatcher"));
  out.queue_capacity = static_cast<std::size_t>(v.integer("queueCapacity"));
  const std::string policy = v.str("overload");
  out.overload = policy == "block"         ? OverloadPolicy::kBlock
                 : policy == "drop-oldest" ? OverloadPolicy::kDropOldest
                                           : OverloadPolicy::kDeadLetter;
  out.workers = static_cast<int>(v.integer("workers"));
  out.lanes = static_cast<int>(v.integer("lanes"));
  out.block_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(v.duration("blockTimeout"));
  return ok();
}

Result<SiteConfig> parseDocument(const YAML::Node& doc, const SourceText& site,
                                 const std::vector<SourceText>& files) {
  const std::string& file = site.path;
  auto top = SIE_TRY(readConfig(doc, kDocumentKeys, file, kDocumentBlocks));
  if (top.str("apiVersion") != "sie/v1" || top.str("kind") != "Site") {
    return fail(Errc::kInvalidArgument,
                fmt::format("expected apiVersion sie/v1 and kind Site (got {} {})",
                            top.str("apiVersion"), top.str("kind")),
                top.where());
  }
  SiteConfig cfg;
  cfg.file = file;
  YAML::Node meta = doc["metadata"] ? doc["metadata"] : YAML::Node(YAML::NodeType::Map);
  cfg.name = SIE_TRY(readConfig(meta, kMetadataKeys, file)).str("name");
  YAML::Node spec = doc["spec"] ? doc["spec"] : YAML::Node(YAML::NodeType::Map);
  auto v = SIE_TRY(readConfig(spec, kSpecKeys, file, kSpecBlocks, "spec"));
  cfg.data_dir = v.str("dataDir");
  cfg.http = v.str("http");
  cfg.summary_interval = v.duration("summaryInterval");
  cfg.require_signatures = v.flag("requireSignatures");
  cfg.trusted_keys = v.str("trustedKeys");
  cfg.max_artifact_bytes = static_cast<std::uint64_t>(v.integer("maxArtifactMiB")) << 20;
  cfg.artifact_quota_bytes = static_cast<std::uint64_t>(v.integer("artifactQuotaMiB")) << 20;

  cfg.sources = SIE_TRY(parsePluginBlocks(spec["sources"], "sources", file));
  cfg.sinks = SIE_TRY(parsePluginBlocks(spec["sinks"], "sinks", file));
  std::vector<privacy::SinkPrivacy> sink_rules;
  for (const auto& sink : cfg.sinks) {
    const YAML::Node block = sink.config;  // const: operator[] must not add the key
    sink_rules.push_back({sink.name, block["privacy"], yamlWhere(file, block)});
  }
  // A source may mark the tags it carries as personal (personal: [badge]): tags.badge.
  std::vector<std::string> personal;
  for (const auto& source : cfg.sources) {
    const YAML::Node block = source.config;
    const YAML::Node tags = block["personal"];
    if (!tags) continue;
    if (!tags.IsSequence()) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("source '{}': personal must be a list of the tags it carries that "
                              "identify a person, e.g. personal: [badge]",
                              source.name),
                  yamlWhere(file, tags));
    }
    for (const auto& tag : tags) {
      const std::string name = tag.IsScalar() ? tag.as<std::string>() : "";
      if (name.empty() || name.find_first_of(". ") != std::string::npos) {
        return fail(Errc::kInvalidArgument,
                    fmt::format("source '{}': personal names tags such as badge (a topic level "
                                "or a carried field), without 'tags.'",
                                source.name),
                    yamlWhere(file, tag));
      }
      personal.push_back("tags." + name);
    }
  }
  cfg.privacy = SIE_TRY(privacy::parseSitePrivacy(spec["privacy"], sink_rules, file, personal));
  cfg.gateway = spec["gateway"];
  cfg.routes = spec["routes"];
  SIE_CHECK(parseDispatcher(spec["dispatcher"], file, cfg.dispatcher));
  if (spec["state"]) {
    // A backend's own settings sit in a block named after it (state.redis); the node checks
    // them against the backend's table.
    // Looked up through a const node: yaml-cpp's non-const operator[] inserts missing keys.
    const YAML::Node state = spec["state"];
    auto s = SIE_TRY(readConfig(state, kStateKeys, file, kStateBlocks, "spec.state"));
    cfg.state_backend = s.str("backend");
    for (std::string_view block : kStateBlocks) {
      if (state[std::string(block)] && block != cfg.state_backend) {
        return fail(Errc::kInvalidArgument,
                    fmt::format("state.{} settings are given but state.backend is '{}'", block,
                                cfg.state_backend),
                    yamlWhere(file, state[std::string(block)]));
      }
    }
    if (state[cfg.state_backend]) cfg.state_block = state[cfg.state_backend];
    cfg.state_batch_interval =
        std::chrono::duration_cast<std::chrono::milliseconds>(s.duration("batchInterval"));
    cfg.state_memory_window = static_cast<std::size_t>(s.integer("memoryWindow"));
  }
  if (spec["security"]) {
    const YAML::Node security = spec["security"];
    auto sec = SIE_TRY(readConfig(security, kSecurityKeys, file, kSecurityBlocks, "spec.security"));
    if (security["tls"]) {
      auto t = SIE_TRY(readConfig(security["tls"], kTlsKeys, file, {}, "spec.security.tls"));
      const std::filesystem::path base = std::filesystem::path(file).parent_path();
      const auto resolve = [&base](const std::string& path) {
        return path.empty() ? path : (base / path).lexically_normal().string();
      };
      const std::string clients = t.str("clientCertificates");
      cfg.security.tls = TlsSettings{.cert_file = resolve(t.str("certFile")),
                                     .key_file = resolve(t.str("keyFile")),
                                     .ca_file = resolve(t.str("caFile")),
                                     .crl_file = resolve(t.str("crlFile")),
                                     .require_client_certificate = clients == "required",
                                     .renew_with = resolve(t.str("renewWith")),
                                     .reload_interval = t.duration("reloadInterval")};
    }
    cfg.security.authenticate = sec.str("authentication") == "token";
    const std::filesystem::path base = std::filesystem::path(file).parent_path();
    if (sec.has("policy")) {
      cfg.security.policy_file = (base / sec.str("policy")).lexically_normal().string();
    }
    if (sec.has("keyAuthority")) {
      cfg.security.key_authority = (base / sec.str("keyAuthority")).lexically_normal().string();
    } else if (cfg.security.tls) {
      cfg.security.key_authority = cfg.security.tls->ca_file;
    }
    if (security["opa"]) {
      auto o = SIE_TRY(readConfig(security["opa"], kOpaKeys, file, {}, "spec.security.opa"));
      const auto timeout =
          std::chrono::duration_cast<std::chrono::milliseconds>(o.duration("timeout"));
      if (auto url = http::parseUrl(o.str("url")); !url || url->tls) {
        return o.invalid(fmt::format(
            "security.opa.url must be an http:// URL such as "
            "http://127.0.0.1:8181/v1/data/sie/allow (got '{}'){}",
            o.str("url"), url ? "; https is not supported: run OPA beside the node" : ""));
      }
      cfg.security.opa =
          OpaSettings{.url = o.str("url"), .timeout = timeout, .cache_ttl = o.duration("cacheTtl")};
    }
    if (!cfg.security.authenticate && (sec.has("policy") || cfg.security.opa)) {
      return sec.invalid(
          "security.policy and security.opa decide between callers, and authentication: none "
          "has none to tell apart: set authentication: token");
    }
    cfg.security.hosts = sec.list("hosts");
    cfg.security.calls_per_second = sec.number("callsPerSecond");
    cfg.security.burst = sec.number("burst");
    if (sec.has("callbackNetworks")) cfg.security.callback_networks = sec.list("callbackNetworks");
    if (auto networks = http::NetworkList::parse(cfg.security.callback_networks); !networks) {
      return sec.invalid("security.callbackNetworks: " + networks.error().message);
    }
  }
  cfg.audit = SIE_TRY(parseAuditSettings(std::as_const(spec)["audit"], file));
  if (spec["log"]) {
    auto l = SIE_TRY(readConfig(spec["log"], kLogKeys, file, {}, "spec.log"));
    cfg.log_level = l.str("level");
    cfg.log_json = l.str("format") == "json";
  }

  // Function manifests: the YAML files directly in the functions folder (next to the site file).
  namespace fs = std::filesystem;
  cfg.functions_dir =
      (fs::path(file).parent_path() / v.str("functions")).lexically_normal().string();
  const std::string prefix = cfg.functions_dir + "/";
  for (const auto& f : files) {
    const std::string normal = fs::path(f.path).lexically_normal().string();
    if (normal.starts_with(prefix) && normal.find('/', prefix.size()) == std::string::npos) {
      cfg.function_files.push_back(f);
    }
  }
  return cfg;
}

}  // namespace

Result<SiteConfig> parseSite(const SourceText& site, const std::vector<SourceText>& files) {
  try {
    return parseDocument(YAML::Load(site.text), site, files);
  } catch (const YAML::Exception& e) {
    const std::string where =
        e.mark.is_null() ? site.path : fmt::format("{}:{}", site.path, e.mark.line + 1);
    return fail(Errc::kParse, "invalid YAML: " + e.msg, where);
  }
}

Result<SiteConfig> loadSite(const std::string& path) {
  // Read first: returning from inside the braced SourceText would leak its path (GNU statement
  // expressions skip the destructors of a half-built aggregate).
  std::string text = SIE_TRY(readFileText(path));
  auto cfg = SIE_TRY(parseSite({path, std::move(text)}, {}));
  std::error_code ec;
  if (std::filesystem::exists(cfg.functions_dir, ec)) {
    cfg.function_files = SIE_TRY(readYamlDir(cfg.functions_dir));
  }
  return cfg;
}

Result<SiteConfig> loadDemoSite() {
  const std::vector<SourceText>& files = demoSiteFiles();
  for (const auto& f : files) {
    if (f.path.ends_with("/site.yaml")) return parseSite(f, files);
  }
  return fail(Errc::kInternal, "the demo site is missing from this build");
}

std::vector<ConfigSection> siteSections() {
  std::vector<ConfigSection> sections{
      {"(document)", kDocumentKeys},
      {"metadata", kMetadataKeys},
      {"spec", kSpecKeys},
      {"spec.security", kSecurityKeys},
      {"spec.security.tls", kTlsKeys},
      {"spec.security.opa", kOpaKeys},
      {"spec.dispatcher", kDispatcherKeys},
      {"spec.state", kStateKeys},
      {"spec.log", kLogKeys},
      {"spec.audit", auditKeys()},
      {"spec.privacy", privacy::privacyKeys()},
      {"spec.privacy rules (api[], sinks[].rules[])", privacy::ruleKeys()}};
  for (auto& section : gateway::gatewaySections()) sections.push_back(std::move(section));
  return sections;
}

}  // namespace sie::node
