// A list of IP networks ("10.0.0.0/8", "::1/128", "192.168.1.7"), to keep the node's outgoing
// calls (async callbacks) inside the networks the site allows: a caller who names a callback URL
// must not make the node reach a cloud metadata service or an internal admin port for it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sie/result.h"

namespace sie::http {

class NetworkList {
 public:
  // Each entry ADDRESS[/PREFIX]; an error names the entry that is not one.
  static Result<NetworkList> parse(const std::vector<std::string>& networks);

  // Whether the address (text, IPv4 or IPv6) is in one of the networks.
  [[nodiscard]] bool contains(std::string_view address) const;
  [[nodiscard]] const std::vector<std::string>& text() const { return text_; }

 private:
  struct Network {
    bool v6 = false;
    std::array<std::uint8_t, 16> bytes{};
    int prefix = 0;
  };
  std::vector<Network> networks_;
  std::vector<std::string> text_;
};

}  // namespace sie::http
