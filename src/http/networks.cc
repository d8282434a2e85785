#include "http/networks.h"

#include <arpa/inet.h>

#include <charconv>

#include <fmt/format.h>

namespace sie::http {
namespace {

// IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) are compared as the IPv4 address they are.
bool toBytes(std::string_view text, bool& v6, std::array<std::uint8_t, 16>& bytes) {
  const std::string address(text);
  bytes = {};
  if (::inet_pton(AF_INET, address.c_str(), bytes.data()) == 1) {
    v6 = false;
    return true;
  }
  if (::inet_pton(AF_INET6, address.c_str(), bytes.data()) != 1) return false;
  constexpr std::array<std::uint8_t, 12> kMapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(kMapped.begin(), kMapped.end(), bytes.begin())) {
    std::copy(bytes.begin() + 12, bytes.end(), bytes.begin());
    std::fill(bytes.begin() + 4, bytes.end(), 0);
    v6 = false;
    return true;
  }
  v6 = true;
  return true;
}

}  // namespace

Result<NetworkList> NetworkList::parse(const std::vector<std::string>& networks) {
  NetworkList out;
  for (const auto& entry : networks) {
    const auto slash = entry.find('/');
    Network n;
    if (!toBytes(std::string_view(entry).substr(0, slash), n.v6, n.bytes)) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("'{}' is not an IP network (e.g. 10.0.0.0/8 or ::1/128)", entry));
    }
    const int max = n.v6 ? 128 : 32;
    n.prefix = max;
    if (slash != std::string::npos) {
      const std::string_view bits = std::string_view(entry).substr(slash + 1);
      auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), n.prefix);
      if (ec != std::errc() || end != bits.data() + bits.size() || n.prefix < 0 || n.prefix > max) {
        return fail(Errc::kInvalidArgument,
                    fmt::format("'{}': the prefix length must be 0..{}", entry, max));
      }
    }
    out.networks_.push_back(n);
    out.text_.push_back(entry);
  }
  return out;
}

bool NetworkList::contains(std::string_view address) const {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};
  if (!toBytes(address, v6, bytes)) return false;
  for (const auto& n : networks_) {
    if (n.v6 != v6) continue;
    const int full = n.prefix / 8;
    const int rest = n.prefix % 8;
    if (!std::equal(bytes.begin(), bytes.begin() + full, n.bytes.begin())) continue;
    if (rest != 0) {
      const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
      if ((bytes[full] & mask) != (n.bytes[full] & mask)) continue;
    }
    return true;
  }
  return false;
}

}  // namespace sie::http
