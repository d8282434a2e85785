#include "state/time_series.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <shared_mutex>

#include <fmt/format.h>

namespace sie::state {
namespace {

static_assert(std::endian::native == std::endian::little,
              "readings.block stores little-endian doubles");

std::int64_t toSqlLimit(std::size_t n) {
  return static_cast<std::int64_t>(
      std::min<std::size_t>(n, std::numeric_limits<std::int64_t>::max()));
}

bool byTs(const StoredReading& a, const StoredReading& b) { return a.ts_ns < b.ts_ns; }

}  // namespace

EmbeddedTimeSeries::EmbeddedTimeSeries(StoreContext& context, std::size_t memory_window)
    : context_(context),
      memory_window_(memory_window),
      writes_total_(metrics().counter("sie_state_writes_total", "State writes committed",
                                      {{"kind", "reading"}})) {}

Result<std::unique_ptr<EmbeddedTimeSeries>> EmbeddedTimeSeries::create(StoreContext& context,
                                                                       std::size_t memory_window) {
  std::unique_ptr<EmbeddedTimeSeries> ts(new EmbeddedTimeSeries(context, memory_window));
  Db& writer = context.batcher->db();
  {
    Stmt sensors = SIE_TRY(writer.prepare("SELECT id, name FROM sensors", "load sensors"));
    while (SIE_TRY(sensors.step())) {
      const std::int64_t id = sensors.int64(0);
      ts->known_.emplace(std::string(sensors.text(1)), id);
      ts->next_sensor_id_ = std::max(ts->next_sensor_id_, id + 1);
    }
  }
  ts->insert_sensor_stmt_ =
      SIE_TRY(writer.prepare("INSERT INTO sensors(id, name) VALUES(?1, ?2)", "insert sensor"));
  ts->insert_reading_stmt_ = SIE_TRY(
      writer.prepare("INSERT INTO readings(sensor_id, ts_ns, quality, value, block, period_ns, "
                     "flag) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                     "insert reading"));
  Db& reader = context.reader;
  ts->newest_stmt_ = SIE_TRY(reader.prepare("SELECT MAX(ts_ns) FROM readings WHERE sensor_id = ?1",
                                            "read newest reading"));
  ts->last_stmt_ = SIE_TRY(reader.prepare(
      "SELECT ts_ns, quality, value, block, period_ns, flag FROM readings WHERE sensor_id = ?1 "
      "AND ts_ns <= ?2 ORDER BY ts_ns DESC, id DESC LIMIT ?3",
      "read last readings"));
  ts->range_stmt_ = SIE_TRY(reader.prepare(
      "SELECT ts_ns, quality, value, block, period_ns, flag FROM readings WHERE sensor_id = ?1 "
      "AND ts_ns >= ?2 AND ts_ns < ?3 ORDER BY ts_ns, id LIMIT ?4",
      "read reading range"));
  return ts;
}

SensorSeries* EmbeddedTimeSeries::find(Symbol sensor) const {
  const std::size_t id = sensor.id();
  const std::size_t chunk = id >> kChunkBits;
  if (chunk >= kChunks) return nullptr;
  const Chunk* c = chunks_[chunk].load(std::memory_order_acquire);
  if (c == nullptr) return nullptr;
  return c->slots[id & (kChunkSize - 1)].load(std::memory_order_acquire);
}

Result<SensorSeries*> EmbeddedTimeSeries::seriesFor(Symbol sensor, bool create) {
  if (SensorSeries* series = find(sensor)) return series;
  if (sensor.empty()) return fail(Errc::kInvalidArgument, "reading has no sensor id");
  const std::size_t chunk = sensor.id() >> kChunkBits;
  if (chunk >= kChunks) {
    return fail(Errc::kOverload,
                fmt::format("too many sensors (more than {})", kChunks * kChunkSize));
  }

  std::lock_guard lock(index_mu_);
  if (SensorSeries* series = find(sensor)) return series;
  const std::string_view name = sensor.str();
  std::int64_t db_id = 0;
  std::int64_t covered_from = kMinTs;
  if (auto known = known_.find(name); known != known_.end()) {
    db_id = known->second;
    const std::int64_t newest = SIE_TRY(newestStored(db_id));
    if (newest != kMinTs) covered_from = newest == kMaxTs ? kMaxTs : newest + 1;
  } else {
    if (!create) return nullptr;
    db_id = next_sensor_id_++;
    known_.emplace(std::string(name), db_id);
    new_sensors_.pending.push_back(NewSensor{db_id, std::string(name)});
  }

  Chunk* c = chunks_[chunk].load(std::memory_order_relaxed);
  if (c == nullptr) {
    owned_chunks_.push_back(std::make_unique<Chunk>());
    c = owned_chunks_.back().get();
    chunks_[chunk].store(c, std::memory_order_release);
  }
  all_.push_back(std::make_unique<SensorSeries>(db_id, memory_window_, covered_from));
  SensorSeries* series = all_.back().get();
  c->slots[sensor.id() & (kChunkSize - 1)].store(series, std::memory_order_release);
  return series;
}

Result<std::int64_t> EmbeddedTimeSeries::newestStored(std::int64_t sensor_id) {
  std::lock_guard lock(context_.reader_mu);
  StmtReset reset(newest_stmt_);
  newest_stmt_.bind(1, sensor_id);
  if (!SIE_TRY(newest_stmt_.step()) || newest_stmt_.isNull(0)) return kMinTs;
  return newest_stmt_.int64(0);
}

Status EmbeddedTimeSeries::append(const Telemetry& reading) {
  SIE_CHECK(context_.checkOpen());
  if (context_.batcher->pendingWrites() >= context_.max_pending) {
    return fail(Errc::kOverload,
                fmt::format("state writer is behind: {} writes pending", context_.max_pending));
  }
  SensorSeries* series = find(reading.sensor);
  if (series == nullptr) series = SIE_TRY(seriesFor(reading.sensor, true));
  series->append(StoredReading::from(reading));
  context_.batcher->noteWrites(1);
  return ok();
}

Result<std::vector<StoredReading>> EmbeddedTimeSeries::readStored(Stmt& query) {
  StmtReset reset(query);
  std::vector<StoredReading> out;
  while (SIE_TRY(query.step())) {
    StoredReading r;
    r.ts_ns = query.int64(0);
    r.quality = static_cast<Quality>(query.int64(1));
    if (!query.isNull(5)) r.flag = Sample::flagOf(query.text(5));
    if (!query.isNull(2)) {
      r.value = query.real(2);
    } else {
      const auto bytes = query.blob(3);
      Block block;
      block.sample_period_ns = query.int64(4);
      block.values.resize(bytes.size() / sizeof(double));
      if (!block.values.empty()) {
        std::memcpy(block.values.data(), bytes.data(), block.values.size() * sizeof(double));
      }
      if (block.values.size() == 1 && block.sample_period_ns == 0) {
        r.value = block.values.front();  // a NaN scalar
      } else {
        r.block = std::make_shared<const Block>(std::move(block));
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<Sample>> EmbeddedTimeSeries::lastUntil(Symbol sensor, std::int64_t until_ns,
                                                          std::size_t n) {
  SIE_CHECK(context_.checkOpen());
  SensorSeries* series = SIE_TRY(seriesFor(sensor, false));
  if (series == nullptr || n == 0) return std::vector<Sample>{};
  if (auto from_memory = series->lastFromMemory(until_ns, n)) return std::move(*from_memory);

  std::shared_lock no_commit(context_.batcher->commitLock());
  std::vector<StoredReading> unwritten = series->unwritten();
  std::vector<StoredReading> merged;
  {
    std::lock_guard lock(context_.reader_mu);
    last_stmt_.bind(1, series->dbId()).bind(2, until_ns).bind(3, toSqlLimit(n));
    merged = SIE_TRY(readStored(last_stmt_));
  }
  std::reverse(merged.begin(), merged.end());
  // Committed rows were accepted before unwritten ones: on equal timestamps they stay first.
  for (auto& r : unwritten) {
    if (r.ts_ns <= until_ns) merged.push_back(std::move(r));
  }
  std::stable_sort(merged.begin(), merged.end(), byTs);
  const std::size_t skip = merged.size() > n ? merged.size() - n : 0;
  std::vector<Sample> out;
  out.reserve(merged.size() - skip);
  for (std::size_t i = skip; i < merged.size(); ++i) out.push_back(merged[i].toSample());
  return out;
}

Result<std::vector<Sample>> EmbeddedTimeSeries::range(Symbol sensor, std::int64_t from_ns,
                                                      std::int64_t to_ns, std::size_t limit) {
  SIE_CHECK(context_.checkOpen());
  SensorSeries* series = SIE_TRY(seriesFor(sensor, false));
  if (series == nullptr || limit == 0 || from_ns >= to_ns) return std::vector<Sample>{};
  if (auto from_memory = series->rangeFromMemory(from_ns, to_ns, limit)) {
    return std::move(*from_memory);
  }

  std::shared_lock no_commit(context_.batcher->commitLock());
  std::vector<StoredReading> unwritten = series->unwritten();
  std::vector<StoredReading> merged;
  {
    std::lock_guard lock(context_.reader_mu);
    range_stmt_.bind(1, series->dbId()).bind(2, from_ns).bind(3, to_ns).bind(4, toSqlLimit(limit));
    merged = SIE_TRY(readStored(range_stmt_));
  }
  for (auto& r : unwritten) {
    if (r.ts_ns >= from_ns && r.ts_ns < to_ns) merged.push_back(std::move(r));
  }
  std::stable_sort(merged.begin(), merged.end(), byTs);
  std::vector<Sample> out;
  out.reserve(std::min(limit, merged.size()));
  for (std::size_t i = 0; i < merged.size() && i < limit; ++i) out.push_back(merged[i].toSample());
  return out;
}

Status EmbeddedTimeSeries::writePending(Db& /*db*/) {
  written_.clear();
  written_rows_ = 0;
  {
    std::lock_guard lock(index_mu_);
    new_sensors_.take();
    scratch_.clear();
    for (const auto& series : all_) scratch_.push_back(series.get());
  }
  // Sensor rows first, so readings never reference an unknown sensor id.
  for (const NewSensor& sensor : new_sensors_.in_flight) {
    SIE_CHECK(insert_sensor_stmt_.bind(1, sensor.id).bindText(2, sensor.name).run());
  }
  for (SensorSeries* series : scratch_) {
    const std::vector<StoredReading>& rows = series->takeForWrite();
    if (rows.empty()) continue;
    written_.push_back(series);
    for (const StoredReading& r : rows) {
      Stmt& insert = insert_reading_stmt_;
      insert.bind(1, series->dbId()).bind(2, r.ts_ns).bind(3, static_cast<std::int64_t>(r.quality));
      if (r.block) {
        insert.bindNull(4)
            .bindBlob(5, r.block->values.data(), r.block->values.size() * sizeof(double))
            .bind(6, r.block->sample_period_ns);
      } else if (std::isnan(r.value)) {
        // SQLite turns a NaN REAL into NULL; a one-sample block keeps it.
        insert.bindNull(4).bindBlob(5, &r.value, sizeof(double)).bind(6, std::int64_t{0});
      } else {
        insert.bind(4, r.value).bindNull(5).bind(6, std::int64_t{0});
      }
      if (r.flag) {
        insert.bindText(7, *r.flag);
      } else {
        insert.bindNull(7);
      }
      SIE_CHECK(insert.run());
    }
    written_rows_ += rows.size();
  }
  return ok();
}

void EmbeddedTimeSeries::commitDone() {
  for (SensorSeries* series : written_) series->commitDone();
  {
    std::lock_guard lock(index_mu_);
    new_sensors_.committed();
  }
  writes_total_.inc(written_rows_);
  written_.clear();
  written_rows_ = 0;
}

}  // namespace sie::state
