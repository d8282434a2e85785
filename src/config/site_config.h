// The site file (apiVersion sie/v1, kind Site): which sources feed the node, how the gateway
// treats readings, where the functions and the state live.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/audit_settings.h"
#include "config/function_manifest.h"
#include "privacy/site_privacy.h"
#include "runtime/dispatcher_options.h"
#include "sie/result.h"

namespace sie::node {

// A source or sink block: its name, its type, and the rest for the plugin's table to check.
struct PluginBlock {
  std::string name;
  std::string type;
  YAML::Node config;  // the whole block
};

// spec.security.tls: the listener's TLS; paths resolved against the site file's folder.
struct TlsSettings {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  std::string crl_file;  // "" for none
  bool require_client_certificate = true;
  std::string renew_with;  // the site CA folder, "" when the node does not renew itself
  std::chrono::nanoseconds reload_interval{std::chrono::seconds(5)};
};

// spec.security.opa: an external decision point speaking OPA's REST Data API.
struct OpaSettings {
  std::string url;  // http://127.0.0.1:8181/v1/data/sie/allow
  std::chrono::milliseconds timeout{50};
  std::chrono::nanoseconds cache_ttl{0};
};

// spec.security: who may call the node's listener.
struct SecurityOptions {
  // false: no authentication, for a loopback-only listener (the demo; --insecure-loopback-only).
  bool authenticate = true;
  std::vector<std::string> hosts;  // extra names callers may use for this node (Host header)
  double calls_per_second = 2000;  // per caller, after `burst`; 0: no limit
  double burst = 4000;
  std::optional<TlsSettings> tls;
  // The policy file, resolved against the site file's folder; "": the built-in roles.
  std::string policy_file;
  std::optional<OpaSettings> opa;
  // Where async-call callbacks may go (CIDR networks).
  std::vector<std::string> callback_networks{"127.0.0.0/8", "::1/128"};
  // The site CA certificate that endorses keys added over the API (key_endorsement.h); "" for
  // none. Defaults to tls.caFile.
  std::string key_authority;
};

struct SiteConfig {
  std::string file;  // where the site was read from ("<embedded demo>/site.yaml" for the demo)
  std::string name;
  std::string data_dir;
  std::string http;  // host:port; "" = no HTTP listener
  SecurityOptions security;
  AuditSettings audit;
  std::chrono::nanoseconds summary_interval{std::chrono::seconds(5)};
  bool require_signatures = false;
  std::string trusted_keys;  // "" = <data_dir>/keys
  std::uint64_t max_artifact_bytes = std::uint64_t{1} << 30;
  std::uint64_t artifact_quota_bytes = std::uint64_t{8} << 30;
  std::string state_backend = "embedded";
  YAML::Node state_block;  // spec.state.<backend>, checked by the backend's plugin
  std::chrono::milliseconds state_batch_interval{20};
  std::size_t state_memory_window = 2048;
  std::string log_level = "info";
  bool log_json = false;
  std::vector<PluginBlock> sources;
  std::vector<PluginBlock> sinks;
  // spec.privacy and each sink's privacy rules, checked (key read, personal fields covered).
  privacy::SitePrivacy privacy;
  YAML::Node gateway;  // parsed by the gateway
  YAML::Node routes;
  DispatcherOptions dispatcher;
  std::string functions_dir;  // resolved against the site file's folder
  std::vector<SourceText> function_files;
};

// Reads a site file from disk; the functions folder is resolved relative to it.
Result<SiteConfig> loadSite(const std::string& path);
// The demo site compiled into the binary (examples/demo-site).
Result<SiteConfig> loadDemoSite();
// Parses a site; its function manifests are taken from `files` (those in its functions folder).
Result<SiteConfig> parseSite(const SourceText& site, const std::vector<SourceText>& files);

// Every block of a site file with its keys (sources, sinks and state backends are the plugins'),
// for the generated reference.
std::vector<ConfigSection> siteSections();

}  // namespace sie::node
