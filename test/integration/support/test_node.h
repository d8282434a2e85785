// Nodes for integration tests, made from the source and sink blocks a test names.
#pragma once

#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "node/node.h"
#include "sie/plugins.h"

namespace sie::testing {

// A site with no HTTP listener and no live summary. `sources` and `sinks` are YAML list items
// indented for spec ("    - {name: a, type: mqtt, ...}\n"); "" for none.
inline std::string siteWith(std::string_view sources, std::string_view sinks) {
  return fmt::format(R"(apiVersion: sie/v1
kind: Site
metadata: {{name: test}}
spec:
  http: ""
  summaryInterval: 0
  sources:
{}
  sinks:
{}
)",
                     sources.empty() ? "    []" : sources, sinks.empty() ? "    []" : sinks);
}

// A node of the site text, with `functions` as its function manifests, keeping its state in
// `data_dir`.
inline Result<std::unique_ptr<node::Node>> makeNode(const std::string& site,
                                                    const std::vector<node::SourceText>& functions,
                                                    const std::string& data_dir,
                                                    const Plugins& plugins) {
  auto parsed = node::parseSite({"t/site.yaml", site}, functions);
  if (!parsed) return tl::unexpected(parsed.error());
  parsed->data_dir = data_dir;
  return node::Node::create(std::move(*parsed), plugins);
}

// The token a node writes on its first start for its admin, and curl arguments that send it.
inline std::string adminTokenFile(const std::string& data_dir) {
  return data_dir + "/security/admin.token";
}
inline std::string adminAuth(const std::string& data_dir) {
  std::ifstream in(adminTokenFile(data_dir));
  std::string token;
  std::getline(in, token);
  return "-H 'Authorization: Bearer " + token + "'";
}

}  // namespace sie::testing
