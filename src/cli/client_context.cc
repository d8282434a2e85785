#include "cli/client_context.h"

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/file_text.h"

namespace sie::cli {

const ClientContext* ClientConfig::find(std::string_view name) const {
  const std::string_view wanted = name.empty() ? std::string_view(current) : name;
  for (const auto& context : contexts) {
    if (context.name == wanted) return &context;
  }
  return nullptr;
}

std::string clientConfigPath() {
  if (const char* path = std::getenv("SIE_CONFIG"); path != nullptr && *path != '\0') return path;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/sie/config.yaml";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.config/sie/config.yaml";
}

Result<ClientConfig> loadClientConfig(const std::string& path) {
  ClientConfig config;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return config;
  const std::string text = SIE_TRY(readFileText(path, 1 << 20));
  try {
    const YAML::Node doc = YAML::Load(text);
    if (!doc || doc.IsNull()) return config;
    if (!doc.IsMap())
      return fail(Errc::kInvalidArgument, "must be a map (current, contexts)", path);
    config.current = doc["current"].as<std::string>("");
    for (const auto& entry : doc["contexts"]) {
      if (!entry.IsMap()) {
        return fail(Errc::kInvalidArgument, "each of contexts must be a map with a name", path);
      }
      ClientContext c{.name = entry["name"].as<std::string>(""),
                      .node = entry["node"].as<std::string>(""),
                      .ca = entry["ca"].as<std::string>(""),
                      .cert = entry["cert"].as<std::string>(""),
                      .key = entry["key"].as<std::string>(""),
                      .token_file = entry["tokenFile"].as<std::string>("")};
      if (c.name.empty()) return fail(Errc::kInvalidArgument, "a context has no name", path);
      config.contexts.push_back(std::move(c));
    }
  } catch (const YAML::Exception& e) {
    return fail(Errc::kInvalidArgument, fmt::format("not valid YAML: {}", e.what()), path);
  }
  return config;
}

Status saveClientConfig(const std::string& path, const ClientConfig& config) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "current" << YAML::Value << config.current;
  out << YAML::Key << "contexts" << YAML::Value << YAML::BeginSeq;
  for (const auto& c : config.contexts) {
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << c.name;
    out << YAML::Key << "node" << YAML::Value << c.node;
    out << YAML::Key << "ca" << YAML::Value << c.ca;
    out << YAML::Key << "cert" << YAML::Value << c.cert;
    out << YAML::Key << "key" << YAML::Value << c.key;
    out << YAML::Key << "tokenFile" << YAML::Value << c.token_file;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  return writeFileAtomically(path, std::string(out.c_str()) + "\n", 0600);
}

}  // namespace sie::cli
