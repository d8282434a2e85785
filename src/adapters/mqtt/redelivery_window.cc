#include "adapters/mqtt/redelivery_window.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <iterator>
#include <map>

#include <fmt/format.h>
#include <openssl/evp.h>

namespace sie::mqtt {
namespace {

constexpr std::size_t kHexDigits = 16;
constexpr std::size_t kEntryDigits = 2 * kHexDigits;  // digest, then arrival time

}  // namespace

std::uint64_t RedeliveryWindow::digest(std::string_view topic, std::string_view payload) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int length = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const unsigned char separator = 0;  // a topic cannot contain NUL, so the split is unambiguous
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, topic.data(), topic.size());
  EVP_DigestUpdate(ctx, &separator, 1);
  EVP_DigestUpdate(ctx, payload.data(), payload.size());
  EVP_DigestFinal_ex(ctx, md.data(), &length);
  EVP_MD_CTX_free(ctx);
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < sizeof value; ++i) value = (value << 8) | md[i];
  return value;
}

RedeliveryWindow::RedeliveryWindow(std::size_t capacity)
    : capacity_(std::max(capacity, kMinCapacity)),
      // One more slot than the capacity needs, for the one being filled.
      slots_((capacity_ + kSlotSize - 1) / kSlotSize + 1) {}

void RedeliveryWindow::clear() {
  digests_.clear();
  stamps_.clear();
  saved_seq_ = next_seq_;
  cleared_ = true;
  probing_ = false;
  next_ = kNone;
}

void RedeliveryWindow::reconnected() {
  accepted_since_connect_ = 0;
  probing_ = !digests_.empty();
  next_ = kNone;
}

std::optional<std::int64_t> RedeliveryWindow::redelivered(std::uint64_t digest) {
  if (!probing_) return std::nullopt;
  if (next_ == kNone) {  // the first message of the connection: it must be unambiguous
    const auto first = std::find(digests_.begin(), digests_.end(), digest);
    if (first != digests_.end() && std::find(first + 1, digests_.end(), digest) == digests_.end()) {
      next_ = static_cast<std::size_t>(first - digests_.begin()) + 1;
      return stamps_[next_ - 1];
    }
  } else if (next_ < digests_.size() && digests_[next_] == digest) {
    return stamps_[next_++];
  }
  probing_ = false;
  return std::nullopt;
}

void RedeliveryWindow::accepted(std::uint64_t digest, std::int64_t received_ns) {
  digests_.push_back(digest);
  stamps_.push_back(received_ns);
  ++next_seq_;
  ++accepted_since_connect_;
  // A slot being filled stays whole in memory, so saving it never needs a forgotten digest.
  if (digests_.size() > capacity_ + kSlotSize) {
    digests_.pop_front();
    stamps_.pop_front();
  }
}

std::vector<std::pair<std::size_t, std::string>> RedeliveryWindow::save() {
  std::vector<std::pair<std::size_t, std::string>> out;
  if (cleared_) {
    for (std::size_t slot = 0; slot < slots_; ++slot) out.emplace_back(slot, std::string());
    cleared_ = false;
  }
  if (saved_seq_ == next_seq_) return out;
  const std::uint64_t oldest = next_seq_ - digests_.size();
  for (std::uint64_t first = saved_seq_ - saved_seq_ % kSlotSize; first < next_seq_;
       first += kSlotSize) {
    const std::uint64_t from = std::max(first, oldest);  // later than `first` after a clear()
    std::string value = fmt::format("{}:", from);
    const std::uint64_t end = std::min<std::uint64_t>(first + kSlotSize, next_seq_);
    for (std::uint64_t seq = from; seq < end; ++seq) {
      fmt::format_to(std::back_inserter(value), "{:016x}{:016x}", digests_[seq - oldest],
                     static_cast<std::uint64_t>(stamps_[seq - oldest]));
    }
    out.emplace_back((first / kSlotSize) % slots_, std::move(value));
  }
  saved_seq_ = next_seq_;
  return out;
}

Status RedeliveryWindow::restore(const std::vector<std::string>& saved) {
  clear();
  cleared_ = false;
  std::map<std::uint64_t, std::pair<std::uint64_t, std::int64_t>> by_seq;  // digest, stamp
  for (std::size_t slot = 0; slot < saved.size(); ++slot) {
    const std::string_view value = saved[slot];
    if (value.empty()) continue;
    const auto bad = [&](std::string_view why) {
      clear();  // the next save empties every slot, so no stale one outlives this
      return fail(Errc::kCorrupt, fmt::format("redelivery bookmark, slot {}: {}", slot, why));
    };
    const std::size_t colon = value.find(':');
    std::uint64_t first = 0;
    if (colon == std::string_view::npos ||
        std::from_chars(value.data(), value.data() + colon, first).ptr != value.data() + colon) {
      return bad("does not start with '<sequence number>:'");
    }
    const std::string_view hex = value.substr(colon + 1);
    if (hex.size() % kEntryDigits != 0 || hex.size() / kEntryDigits > kSlotSize) {
      return bad(
          fmt::format("{} characters of entries is not a list of at most {} entries of "
                      "{} hex digits (16-digit digest, 16-digit time)",
                      hex.size(), kSlotSize, kEntryDigits));
    }
    std::array<std::uint64_t, 2> parts{};
    for (std::size_t at = 0; at < hex.size(); at += kHexDigits) {
      const char* begin = hex.data() + at;
      std::uint64_t& part = parts[at / kHexDigits % 2];
      const auto [end, ec] = std::from_chars(begin, begin + kHexDigits, part, 16);
      if (ec != std::errc() || end != begin + kHexDigits) {
        return bad(fmt::format("'{}' at character {} is not 16 hex digits",
                               std::string_view(begin, kHexDigits), colon + 1 + at));
      }
      if (at / kHexDigits % 2 == 1) {
        by_seq[first + at / kEntryDigits] = {parts[0], static_cast<std::int64_t>(parts[1])};
      }
    }
  }
  if (by_seq.empty()) return ok();
  // The newest run of consecutive sequence numbers: a slot left from an older cycle, or one the
  // run before could not save, does not belong to it.
  auto it = std::prev(by_seq.end());
  const std::uint64_t newest = it->first;
  while (it != by_seq.begin() && std::prev(it)->first + 1 == it->first &&
         newest - std::prev(it)->first < capacity_ + kSlotSize) {
    --it;
  }
  for (; it != by_seq.end(); ++it) {
    digests_.push_back(it->second.first);
    stamps_.push_back(it->second.second);
  }
  next_seq_ = newest + 1;
  saved_seq_ = next_seq_;
  return ok();
}

}  // namespace sie::mqtt
