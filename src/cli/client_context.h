// Named connections to nodes, like kubectl's contexts: which URL, which CA to trust, which client
// certificate or token to show. Kept in $SIE_CONFIG, else $XDG_CONFIG_HOME/sie/config.yaml, else
// ~/.config/sie/config.yaml (mode 0600):
//
//   current: plant-a
//   contexts:
//     - name: plant-a
//       node: https://10.0.0.5:8443
//       ca: /home/alice/pki/ca.crt
//       cert: /home/alice/pki/alice.crt
//       key: /home/alice/pki/alice.key
//       tokenFile: ""
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sie/result.h"

namespace sie::cli {

struct ClientContext {
  std::string name;
  std::string node;
  std::string ca;
  std::string cert;
  std::string key;
  std::string token_file;
};

struct ClientConfig {
  std::string current;
  std::vector<ClientContext> contexts;

  // The named context, or the current one for "".
  [[nodiscard]] const ClientContext* find(std::string_view name) const;
};

std::string clientConfigPath();
// An absent file is an empty config.
Result<ClientConfig> loadClientConfig(const std::string& path);
Status saveClientConfig(const std::string& path, const ClientConfig& config);

}  // namespace sie::cli
