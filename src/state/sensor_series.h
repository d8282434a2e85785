// SensorSeries: what the embedded backend keeps in memory for one sensor: a ring of its newest
// readings, ordered by timestamp, and its writes waiting for the writer thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "sie/event.h"
#include "sie/state.h"
#include "state/write_batcher.h"

namespace sie::state {

inline constexpr std::int64_t kMinTs = std::numeric_limits<std::int64_t>::min();
inline constexpr std::int64_t kMaxTs = std::numeric_limits<std::int64_t>::max();

struct Block {
  std::int64_t sample_period_ns = 0;
  std::vector<double> values;
};

// One reading as kept in memory. A scalar needs no allocation; a block's samples are allocated
// once and shared by the ring and the write queue.
struct StoredReading {
  std::int64_t ts_ns = 0;
  double value = 0.0;
  std::shared_ptr<const Block> block;  // null for a scalar reading
  Quality quality = Quality::kGood;
  std::shared_ptr<const std::string> flag;  // why quality is not good; null when no reason

  // A reading with exactly one value and no sample period is a scalar; anything else a block.
  static StoredReading from(const Telemetry& reading);
  [[nodiscard]] Sample toSample() const;
};

class SensorSeries {
 public:
  // `covered_from`: the ring will hold every reading with ts_ns >= covered_from until the ring
  // evicts. kMinTs for a sensor with nothing in SQLite, else one past its newest stored ts_ns.
  SensorSeries(std::int64_t db_id, std::size_t capacity, std::int64_t covered_from);

  [[nodiscard]] std::int64_t dbId() const { return db_id_; }

  // Hot path: remembers the reading and queues it for the writer.
  void append(StoredReading reading);

  // Answers from memory when the ring holds every reading the request asks about.
  std::optional<std::vector<Sample>> lastFromMemory(std::int64_t until_ns, std::size_t n);
  std::optional<std::vector<Sample>> rangeFromMemory(std::int64_t from_ns, std::int64_t to_ns,
                                                     std::size_t limit);
  // Readings SQLite does not have yet (in flight, then pending), in arrival order. Call with
  // the commit mutex held shared so the answer matches what SQLite shows.
  std::vector<StoredReading> unwritten();

  // Writer thread: moves pending writes in flight and returns them; the vector stays valid and
  // unchanged until commitDone().
  const std::vector<StoredReading>& takeForWrite();
  void commitDone();

 private:
  // The ring, oldest first; requires mu_.
  [[nodiscard]] const StoredReading& at(std::size_t i) const {
    return ring_[(head_ + i) % ring_.size()];
  }
  StoredReading& at(std::size_t i) { return ring_[(head_ + i) % ring_.size()]; }
  // Index of the first reading with ts_ns >= ts.
  [[nodiscard]] std::size_t lowerBound(std::int64_t ts) const;
  void remember(const StoredReading& reading);

  const std::int64_t db_id_;
  const std::size_t capacity_;

  std::mutex mu_;
  std::vector<StoredReading> ring_;  // grows up to capacity_, then wraps
  std::size_t head_ = 0;
  std::size_t size_ = 0;
  // Every reading with ts_ns >= covered_from_ is in the ring.
  std::int64_t covered_from_;
  StagedWrites<StoredReading> writes_;
};

}  // namespace sie::state
