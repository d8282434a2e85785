// RedeliveryWindow: recognises the QoS 1 messages a broker delivers a second time.
//
// A source acknowledges a batch only once it is durable, so a crash (or a dropped connection)
// between the two makes the broker send the batch again after the reconnect. Readings that carry
// their own timestamp are then caught by the gateway's order check; readings stamped on arrival
// are not, and would be recorded twice. The window remembers a digest of (topic, payload) and the
// arrival time of the last messages taken, saved in state before their readings
// (Ingest::setBookmark), and matches what arrives first after a (re)connect against it; a match
// gets its first arrival time back, so the gateway sees the same readings again.
//
// How a match stays correct although MQTT gives no message identity that survives a session
// (packet identifiers are reused, and libmosquitto does not expose the DUP flag): the broker
// resends the messages whose acknowledgement it did not process before anything new, in their
// original order (MQTT 3.1.1 §4.6, 5.0 §4.6), and acknowledgements are processed in order, so a
// redelivery is a run that continues a suffix of the accepted messages. The first message after a
// connect is taken as a redelivery only when its digest occurs exactly once in the window; each
// following one only when it is the next accepted message. Anything else ends the run. A payload
// seen more than once in the window (a bare value that does not change) is therefore never
// dropped on a guess; at worst its redelivery is recorded again. What stays ambiguous without the
// DUP flag: right after a lost connection or a crash, a new message whose bytes equal an accepted
// message seen once in the window is taken for its redelivery. A clean stop empties the window
// when everything in it was acknowledged on the connection that ended (the usual case), so a
// restart after one does not have to guess.
//
// How far back: the broker may hold many more unacknowledged messages than the Receive Maximum
// asks for (mosquitto 2.0 was seen redelivering a hundred with maxInflight 20, its acknowledgements
// not yet processed), so the window keeps the last 4096 accepted messages, or maxInflight when
// that is more. It is saved as slots of 64 digests, each its own bookmark, so a batch rewrites
// only the slot its messages went into, not the whole window.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sie/result.h"

namespace sie::mqtt {

class RedeliveryWindow {
 public:
  static constexpr std::size_t kMinCapacity = 4096;
  static constexpr std::size_t kSlotSize = 64;  // digests per saved slot

  // `capacity`: how many of the last accepted messages are remembered (at least kMinCapacity).
  explicit RedeliveryWindow(std::size_t capacity);

  // A keyed digest would add nothing: a publisher able to forge a collision can publish the
  // message it would shadow. SHA-256, truncated, keeps accidental collisions out of reach.
  static std::uint64_t digest(std::string_view topic, std::string_view payload);

  // A connection was (re)established: the next messages may be redeliveries.
  void reconnected();
  // For each QoS 1 or 2 message as it arrives: for a redelivery of a message taken before, the
  // arrival time it was stamped with then (its readings get it again).
  std::optional<std::int64_t> redelivered(std::uint64_t digest);
  // A QoS 1 or 2 message about to be handed to the gateway, stamped `received_ns`.
  void accepted(std::uint64_t digest, std::int64_t received_ns);
  // Whether every remembered message was accepted on the current connection (none was taken on
  // an earlier one whose acknowledgements may not have reached the broker).
  [[nodiscard]] bool allFromThisConnection() const {
    return accepted_since_connect_ >= digests_.size();
  }
  // Forgets every message (none can come again: the connection ended cleanly).
  void clear();

  // How many slots the saved window has (bookmark parts 0 .. slots() - 1).
  [[nodiscard]] std::size_t slots() const { return slots_; }
  // The slots changed since the last save, as (slot, value); a value is "<first sequence
  // number>:" and per message its digest and arrival time as 16 hex digits each, or "" for an
  // emptied slot.
  std::vector<std::pair<std::size_t, std::string>> save();
  // From saved slots (any order; "" for one never saved). A malformed slot fails, naming what
  // is wrong, and leaves the window empty.
  Status restore(const std::vector<std::string>& saved);

  [[nodiscard]] std::size_t size() const { return digests_.size(); }

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  std::size_t capacity_;
  std::size_t slots_;
  std::deque<std::uint64_t> digests_;  // oldest first; the last has sequence number next_seq_ - 1
  std::deque<std::int64_t> stamps_;    // each message's arrival time, beside its digest
  std::uint64_t next_seq_ = 0;         // of the next accepted message
  std::uint64_t saved_seq_ = 0;        // messages before this one are in the saved slots
  bool cleared_ = false;               // every slot is to be saved empty
  std::size_t accepted_since_connect_ = 0;
  bool probing_ = false;      // since the last connect, every message was a redelivery
  std::size_t next_ = kNone;  // the accepted message a redelivery run expects next
};

}  // namespace sie::mqtt
