#include "state/redis/store.h"

#include <array>
#include <mutex>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "state/embedded_store.h"
#include "state/redis/dead_letters.h"
#include "state/redis/keys.h"
#include "state/redis/kv.h"
#include "state/redis/outbox.h"
#include "state/redis/reader.h"
#include "state/redis/time_series.h"

namespace sie::state::redis {
namespace {

// Names this opening of the store, so dead letters from two nodes (or two runs) never collide.
std::string randomInstance() {
  std::random_device random;
  return fmt::format("{:08x}{:08x}", random(), random());
}

class RedisStore final : public StateStore {
 public:
  static Result<std::unique_ptr<StateStore>> open(const RedisOptions& options);
  ~RedisStore() override { (void)close(); }

  TimeSeriesStore& timeSeries() override { return *time_series_; }
  KvStore& kv() override { return *kv_; }
  DeadLetterStore& deadLetters() override { return *dead_letters_; }
  AuditLog& audit() override { return local_->audit(); }

  Status sync() override {
    SIE_CHECK(outbox_->sync());
    return local_->sync();
  }

  Status close() override {
    std::lock_guard lock(close_mu_);
    if (closed_) return close_status_;
    closed_ = true;
    // Parts are null when open() failed half-way.
    Status outbox = outbox_ ? outbox_->close() : ok();
    Status local = local_ ? local_->close() : ok();
    close_status_ = !outbox ? outbox : local;
    return close_status_;
  }

 private:
  RedisStore(Keys keys, const Endpoint& endpoint)
      : keys_(std::move(keys)), reader_(endpoint, std::chrono::milliseconds(500)) {}
  // A write Redis refused for good (a key of another type, say) becomes a dead letter.
  void keepRefused(const Op& op, const std::string& error);

  Keys keys_;
  Reader reader_;
  std::unique_ptr<StateStore> local_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<RedisTimeSeries> time_series_;
  std::unique_ptr<RedisKv> kv_;
  std::unique_ptr<RedisDeadLetters> dead_letters_;
  std::mutex close_mu_;
  bool closed_ = false;
  Status close_status_;
};

void RedisStore::keepRefused(const Op& op, const std::string& error) {
  std::string command;
  for (const auto& part : op.argv) {
    if (!command.empty()) command += ' ';
    command += part.size() > 256 ? part.substr(0, 256) + "..." : part;
  }
  // The key written: after the script and key count for EVAL, first otherwise.
  const std::size_t key_at = op.argv[0] == "EVAL" ? 3 : 1;
  const std::string subject = key_at < op.argv.size() ? op.argv[key_at] : op.argv[0];
  DeadLetter letter{
      0, 0, "state:redis", fmt::format("Redis refused the write: {}", error), subject, command};
  // A refused dead letter would be refused again: that one stays in the local store.
  const bool is_dead_letter = subject.starts_with(keys_.deadLetter(""));
  Status kept = is_dead_letter ? local_->deadLetters().put(std::move(letter))
                               : dead_letters_->put(std::move(letter));
  if (!kept) spdlog::error("redis state: a refused write is lost: {}", kept.error().str());
}

Result<std::unique_ptr<StateStore>> RedisStore::open(const RedisOptions& options) {
  if (options.prefix.empty()) {
    return fail(Errc::kInvalidArgument, "state.redis.prefix must not be empty");
  }
  const Clock& clock = options.clock != nullptr ? *options.clock : systemClock();
  std::unique_ptr<RedisStore> store(new RedisStore(Keys{options.prefix}, options.endpoint));

  EmbeddedOptions local;
  local.data_dir = options.data_dir;
  local.batch_interval = options.batch_interval;
  local.memory_window = 16;
  local.clock = &clock;
  local.audit_seal = options.audit_seal;
  store->local_ = SIE_TRY(openEmbedded(local));

  Outbox::Options outbox;
  outbox.endpoint = options.endpoint;
  outbox.spool_path = spoolPath(options.data_dir);
  outbox.max_pending = options.max_pending;
  outbox.reconnect_max = options.reconnect_max;
  RedisStore* self = store.get();
  outbox.on_acked = [self](std::int64_t seq) {
    self->reader_.wake();
    self->kv_->acked(seq);
    self->dead_letters_->acked(seq);
  };
  outbox.on_rejected = [self](const Op& op, const std::string& error) {
    self->keepRefused(op, error);
  };
  store->outbox_ = SIE_TRY(Outbox::open(std::move(outbox)));
  store->time_series_ = std::make_unique<RedisTimeSeries>(
      store->keys_, *store->outbox_, store->reader_, options.memory_window, options.max_readings,
      options.endpoint.timeout * 2);
  store->kv_ = std::make_unique<RedisKv>(store->keys_, *store->outbox_, store->reader_, clock,
                                         options.endpoint.timeout * 2);
  store->dead_letters_ = std::make_unique<RedisDeadLetters>(store->keys_, *store->outbox_,
                                                            store->reader_, randomInstance());
  store->outbox_->start();
  return std::unique_ptr<StateStore>(std::move(store));
}

}  // namespace

std::string spoolPath(const std::string& data_dir) { return data_dir + "/redis-spool.db"; }

Result<std::unique_ptr<StateStore>> openRedis(const RedisOptions& options) {
  return RedisStore::open(options);
}

}  // namespace sie::state::redis
