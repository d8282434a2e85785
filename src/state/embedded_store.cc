#include "state/embedded_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "state/audit_chain.h"
#include "state/audit_log.h"
#include "state/dead_letters.h"
#include "state/kv.h"
#include "state/schema.h"
#include "state/store_context.h"
#include "state/time_series.h"

namespace sie::state {
namespace {

// An exclusive flock on <data_dir>/LOCK for as long as a store has the directory open: two
// writers would fork the audit chain. The kernel drops it when the process dies.
class DirLock {
 public:
  static Result<DirLock> acquire(const std::string& data_dir) {
    const std::string path = data_dir + "/LOCK";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return fail(Errc::kIo, fmt::format("cannot open lock file: {}", std::strerror(errno)), path);
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      ::close(fd);
      if (error == EWOULDBLOCK) {
        return fail(Errc::kIo, "the data directory is already open (another sie process?)",
                    data_dir);
      }
      return fail(Errc::kIo, fmt::format("cannot lock: {}", std::strerror(error)), path);
    }
    return DirLock(fd);
  }

  DirLock(DirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  DirLock& operator=(DirLock&&) = delete;
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  ~DirLock() { release(); }

  void release() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));  // closing the only descriptor unlocks
  }

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

class EmbeddedStore final : public StateStore {
 public:
  static Result<std::unique_ptr<StateStore>> open(const EmbeddedOptions& options);

  ~EmbeddedStore() override { (void)close(); }

  TimeSeriesStore& timeSeries() override { return *time_series_; }
  KvStore& kv() override { return *kv_; }
  DeadLetterStore& deadLetters() override { return *dead_letters_; }
  AuditLog& audit() override { return *audit_; }

  Status sync() override {
    SIE_CHECK(context_.checkOpen());
    return context_.batcher->sync();
  }

  Status close() override {
    std::lock_guard lock(close_mu_);
    if (context_.closed.exchange(true, std::memory_order_acq_rel)) return close_status_;
    // The last batch carries it, so a clean shutdown leaves the chain sealed. (No log when open()
    // failed before creating it.)
    if (audit_) audit_->seal();
    close_status_ = context_.batcher->stop();
    lock_.release();
    return close_status_;
  }

 private:
  explicit EmbeddedStore(DirLock lock) : lock_(std::move(lock)) {}

  DirLock lock_;
  StoreContext context_;
  // Declared after context_: destroyed first, while the connections they use are still open.
  std::unique_ptr<EmbeddedTimeSeries> time_series_;
  std::unique_ptr<EmbeddedKv> kv_;
  std::unique_ptr<EmbeddedDeadLetters> dead_letters_;
  std::unique_ptr<EmbeddedAuditLog> audit_;
  std::mutex close_mu_;
  Status close_status_;
};

Status checkOptions(const EmbeddedOptions& options) {
  if (options.data_dir.empty()) return fail(Errc::kInvalidArgument, "state data_dir is empty");
  if (options.batch_interval.count() <= 0) {
    return fail(Errc::kInvalidArgument, fmt::format("state batch_interval must be > 0 (got {} ms)",
                                                    options.batch_interval.count()));
  }
  if (options.batch_max == 0) return fail(Errc::kInvalidArgument, "state batch_max must be > 0");
  if (options.max_pending == 0) {
    return fail(Errc::kInvalidArgument, "state max_pending must be > 0");
  }
  return ok();
}

Result<std::unique_ptr<StateStore>> EmbeddedStore::open(const EmbeddedOptions& options) {
  SIE_CHECK(checkOptions(options));
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return fail(Errc::kIo, fmt::format("cannot create the data directory: {}", ec.message()),
                options.data_dir);
  }
  DirLock lock = SIE_TRY(DirLock::acquire(options.data_dir));
  const std::string path = databasePath(options.data_dir);
  Db writer = SIE_TRY(Db::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  SIE_CHECK(prepareWriter(writer));
  Db reader = SIE_TRY(Db::open(path, SQLITE_OPEN_READONLY));
  SIE_CHECK(prepareReader(reader));

  std::unique_ptr<EmbeddedStore> store(new EmbeddedStore(std::move(lock)));
  StoreContext& context = store->context_;
  context.clock = options.clock != nullptr ? options.clock : &systemClock();
  context.batcher = std::make_unique<WriteBatcher>(
      std::move(writer), WriteBatcher::Options{options.batch_interval, options.batch_max});
  context.reader = std::move(reader);
  context.max_pending = options.max_pending;

  store->time_series_ = SIE_TRY(EmbeddedTimeSeries::create(context, options.memory_window));
  store->kv_ = SIE_TRY(EmbeddedKv::create(context));
  store->dead_letters_ = SIE_TRY(EmbeddedDeadLetters::create(context));
  std::optional<AuditSealOptions> seal = options.audit_seal;
  if (seal && seal->key_file.empty()) seal->key_file = defaultAuditKeyPath(options.data_dir);
  store->audit_ = SIE_TRY(EmbeddedAuditLog::create(context, std::move(seal)));
  // The time series before KV: the writer takes each store's pending writes in this order, so a
  // KV write (a source's bookmark) commits together with or before every reading accepted after
  // it, never behind them.
  context.batcher->addSource(store->time_series_.get());
  context.batcher->addSource(store->kv_.get());
  context.batcher->addSource(store->dead_letters_.get());
  context.batcher->addSource(store->audit_.get());
  SIE_CHECK(context.batcher->start());
  return std::unique_ptr<StateStore>(std::move(store));
}

Result<Db> openReadOnly(const std::string& data_dir) {
  const std::string path = databasePath(data_dir);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return fail(Errc::kNotFound,
                ec ? fmt::format("cannot read the state database: {}", ec.message())
                   : std::string("no state database here (is the data directory right?)"),
                path);
  }
  Db db = SIE_TRY(Db::open(path, SQLITE_OPEN_READONLY));
  SIE_CHECK(prepareReader(db));
  SIE_CHECK(checkSchema(db));
  return db;
}

}  // namespace

std::string databasePath(const std::string& data_dir) { return data_dir + "/sie.db"; }

std::string defaultAuditKeyPath(const std::string& data_dir) { return data_dir + "/audit.key"; }

Result<std::unique_ptr<StateStore>> openEmbedded(const EmbeddedOptions& options) {
  return EmbeddedStore::open(options);
}

Result<AuditChainReport> verifyAuditChain(const std::string& data_dir,
                                          const AuditVerifyOptions& options) {
  Db db = SIE_TRY(openReadOnly(data_dir));
  return verifyAuditChain(db, options);
}

Result<std::vector<AuditRecord>> readAuditTail(const std::string& data_dir, std::size_t n) {
  Db db = SIE_TRY(openReadOnly(data_dir));
  return readAuditTail(db, n);
}

}  // namespace sie::state
