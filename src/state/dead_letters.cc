#include "state/dead_letters.h"

#include <algorithm>
#include <limits>
#include <shared_mutex>

namespace sie::state {

EmbeddedDeadLetters::EmbeddedDeadLetters(StoreContext& context)
    : context_(context),
      writes_total_(metrics().counter("sie_state_writes_total", "State writes committed",
                                      {{"kind", "dead_letter"}})) {}

Result<std::unique_ptr<EmbeddedDeadLetters>> EmbeddedDeadLetters::create(StoreContext& context) {
  std::unique_ptr<EmbeddedDeadLetters> store(new EmbeddedDeadLetters(context));
  Db& writer = context.batcher->db();
  const auto max_id =
      SIE_TRY(writer.queryInt("SELECT MAX(id) FROM dead_letters", "load dead letters"));
  store->next_id_ = max_id.value_or(0) + 1;
  const auto count =
      SIE_TRY(writer.queryInt("SELECT COUNT(*) FROM dead_letters", "count dead letters"));
  store->count_ = count.value_or(0);
  store->insert_stmt_ = SIE_TRY(
      writer.prepare("INSERT INTO dead_letters(id, ts_ns, origin, reason, subject, payload) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                     "insert dead letter"));
  store->list_stmt_ = SIE_TRY(
      context.reader.prepare("SELECT id, ts_ns, origin, reason, subject, payload FROM dead_letters "
                             "ORDER BY id DESC LIMIT ?1",
                             "list dead letters"));
  return store;
}

Status EmbeddedDeadLetters::put(DeadLetter letter) {
  SIE_CHECK(context_.checkOpen());
  if (letter.ts_ns == 0) letter.ts_ns = context_.clock->nowNs();
  metrics()
      .counter("sie_dead_letters_total", "Events parked in the dead-letter store",
               {{"origin", letter.origin}})
      .inc();
  {
    std::lock_guard lock(mu_);
    letter.id = next_id_++;
    letters_.pending.push_back(std::move(letter));
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  context_.batcher->noteWrites(1);
  return ok();
}

Result<std::vector<DeadLetter>> EmbeddedDeadLetters::list(std::size_t limit) {
  SIE_CHECK(context_.checkOpen());
  std::shared_lock no_commit(context_.batcher->commitLock());
  std::vector<DeadLetter> out;
  {
    // Letters not yet committed are the newest ones.
    std::lock_guard lock(mu_);
    for (auto it = letters_.pending.rbegin(); it != letters_.pending.rend() && out.size() < limit;
         ++it) {
      out.push_back(*it);
    }
    for (auto it = letters_.in_flight.rbegin();
         it != letters_.in_flight.rend() && out.size() < limit; ++it) {
      out.push_back(*it);
    }
  }
  if (out.size() >= limit) return out;

  std::lock_guard lock(context_.reader_mu);
  StmtReset reset(list_stmt_);
  const std::size_t rest =
      std::min<std::size_t>(limit - out.size(), std::numeric_limits<std::int64_t>::max());
  list_stmt_.bind(1, static_cast<std::int64_t>(rest));
  while (SIE_TRY(list_stmt_.step())) {
    DeadLetter letter;
    letter.id = list_stmt_.int64(0);
    letter.ts_ns = list_stmt_.int64(1);
    letter.origin = list_stmt_.text(2);
    letter.reason = list_stmt_.text(3);
    letter.subject = list_stmt_.text(4);
    const auto payload = list_stmt_.blob(5);
    letter.payload.assign(reinterpret_cast<const char*>(payload.data()), payload.size());
    out.push_back(std::move(letter));
  }
  return out;
}

Result<std::int64_t> EmbeddedDeadLetters::count() {
  SIE_CHECK(context_.checkOpen());
  return count_.load(std::memory_order_relaxed);
}

Status EmbeddedDeadLetters::writePending(Db& /*db*/) {
  {
    std::lock_guard lock(mu_);
    letters_.take();
  }
  for (const DeadLetter& letter : letters_.in_flight) {
    SIE_CHECK(insert_stmt_.bind(1, letter.id)
                  .bind(2, letter.ts_ns)
                  .bindText(3, letter.origin)
                  .bindText(4, letter.reason)
                  .bindText(5, letter.subject)
                  .bindBlob(6, letter.payload.data(), letter.payload.size())
                  .run());
  }
  written_ = letters_.in_flight.size();
  return ok();
}

void EmbeddedDeadLetters::commitDone() {
  {
    std::lock_guard lock(mu_);
    letters_.committed();
  }
  writes_total_.inc(written_);
}

}  // namespace sie::state
