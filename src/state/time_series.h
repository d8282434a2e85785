// EmbeddedTimeSeries: readings in per-sensor memory rings, written to SQLite in batches.
//
// append() is the gateway's hot path: a lock-free lookup of the sensor's series, then one short
// per-sensor lock to put the reading into the ring and the write queue. lastN()/range() answer
// from the ring when it holds every reading asked for; otherwise they query SQLite and merge
// the readings the writer has not committed yet.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sie/metrics.h"
#include "sie/state.h"
#include "state/sensor_series.h"
#include "state/store_context.h"

namespace sie::state {

class EmbeddedTimeSeries final : public TimeSeriesStore, public BatchSource {
 public:
  // Loads the sensor table and prepares statements; call before the writer starts.
  static Result<std::unique_ptr<EmbeddedTimeSeries>> create(StoreContext& context,
                                                            std::size_t memory_window);

  Status append(const Telemetry& reading) override;
  Result<std::vector<Sample>> range(Symbol sensor, std::int64_t from_ns, std::int64_t to_ns,
                                    std::size_t limit) override;
  Result<std::vector<Sample>> lastUntil(Symbol sensor, std::int64_t until_ns,
                                        std::size_t n) override;

  Status writePending(Db& db) override;
  void commitDone() override;

 private:
  struct NewSensor {
    std::int64_t id = 0;
    std::string name;
  };
  // Symbol ids are dense, so a two-level table of atomic pointers finds a series without a lock.
  static constexpr std::size_t kChunkBits = 10;
  static constexpr std::size_t kChunkSize = std::size_t{1} << kChunkBits;
  static constexpr std::size_t kChunks = 4096;  // up to 4M sensors
  struct Chunk {
    std::array<std::atomic<SensorSeries*>, kChunkSize> slots{};
  };

  EmbeddedTimeSeries(StoreContext& context, std::size_t memory_window);
  SensorSeries* find(Symbol sensor) const;
  // The sensor's series, created on first use; nullptr when `create` is false and the sensor
  // has never been seen, in memory or in SQLite.
  Result<SensorSeries*> seriesFor(Symbol sensor, bool create);
  // Newest stored ts_ns of a sensor known to SQLite, kMinTs when it has no readings.
  Result<std::int64_t> newestStored(std::int64_t sensor_id);
  // Readings of one sensor from SQLite, oldest first.
  Result<std::vector<StoredReading>> readStored(Stmt& query);

  StoreContext& context_;
  const std::size_t memory_window_;
  std::array<std::atomic<Chunk*>, kChunks> chunks_{};

  std::mutex index_mu_;  // guards what follows, up to the statements
  std::vector<std::unique_ptr<Chunk>> owned_chunks_;
  std::vector<std::unique_ptr<SensorSeries>> all_;
  std::map<std::string, std::int64_t, std::less<>> known_;  // sensor name -> SQLite id
  std::int64_t next_sensor_id_ = 1;
  StagedWrites<NewSensor> new_sensors_;

  // Reader connection (under context_.reader_mu).
  Stmt newest_stmt_;
  Stmt last_stmt_;
  Stmt range_stmt_;
  // Writer thread only.
  Stmt insert_sensor_stmt_;
  Stmt insert_reading_stmt_;
  std::vector<SensorSeries*> scratch_;
  std::vector<SensorSeries*> written_;
  std::size_t written_rows_ = 0;

  Counter& writes_total_;
};

}  // namespace sie::state
