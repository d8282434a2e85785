#include "state/redis/spool.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace sie::state::redis {
namespace {

void putU32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xffU));
}

bool getU32(std::span<const std::byte>& in, std::uint32_t& v) {
  if (in.size() < 4) return false;
  v = 0;
  for (int i = 0; i < 4; ++i) v |= std::to_integer<std::uint32_t>(in[i]) << (8 * i);
  in = in.subspan(4);
  return true;
}

}  // namespace

std::string encodeArgv(const Argv& argv) {
  std::string out;
  putU32(out, static_cast<std::uint32_t>(argv.size()));
  for (const auto& part : argv) {
    putU32(out, static_cast<std::uint32_t>(part.size()));
    out += part;
  }
  return out;
}

Result<Argv> decodeArgv(std::span<const std::byte> bytes) {
  std::uint32_t count = 0;
  if (!getU32(bytes, count)) return fail(Errc::kCorrupt, "spooled command: truncated count");
  Argv argv;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t size = 0;
    if (!getU32(bytes, size) || bytes.size() < size) {
      return fail(Errc::kCorrupt, fmt::format("spooled command: part {} is truncated", i));
    }
    argv.emplace_back(reinterpret_cast<const char*>(bytes.data()), size);
    bytes = bytes.subspan(size);
  }
  if (!bytes.empty()) return fail(Errc::kCorrupt, "spooled command: trailing bytes");
  return argv;
}

Result<Spool> Spool::open(const std::string& path) {
  Db db = SIE_TRY(Db::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  SIE_CHECK(db.exec(R"sql(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=FULL;
CREATE TABLE IF NOT EXISTS spool(seq INTEGER PRIMARY KEY, argv BLOB NOT NULL);
)sql",
                    "prepare the redis spool"));
  Spool spool(std::move(db));
  SIE_CHECK(spool.prepare());
  spool.size_ = static_cast<std::size_t>(
      SIE_TRY(spool.db_.queryInt("SELECT count(*) FROM spool", "count spooled commands"))
          .value_or(0));
  spool.last_seq_ =
      SIE_TRY(spool.db_.queryInt("SELECT max(seq) FROM spool", "read the spool")).value_or(0);
  return spool;
}

Status Spool::prepare() {
  insert_ = SIE_TRY(db_.prepare("INSERT INTO spool(seq, argv) VALUES(?, ?)", "spool a command"));
  select_ = SIE_TRY(
      db_.prepare("SELECT seq, argv FROM spool ORDER BY seq LIMIT ?", "read spooled commands"));
  erase_ = SIE_TRY(db_.prepare("DELETE FROM spool WHERE seq <= ?", "drop replayed commands"));
  return ok();
}

Status Spool::write(std::span<const Op> ops) {
  if (ops.empty()) return ok();
  SIE_CHECK(db_.exec("BEGIN IMMEDIATE", "begin spooling"));
  for (const Op& op : ops) {
    const std::string bytes = encodeArgv(op.argv);
    Status inserted = insert_.bind(1, op.seq).bindBlob(2, bytes.data(), bytes.size()).run();
    if (!inserted) {
      (void)db_.exec("ROLLBACK", "roll back spooling");
      return inserted;
    }
  }
  SIE_CHECK(db_.exec("COMMIT", "commit spooled commands"));
  size_ += ops.size();
  last_seq_ = std::max(last_seq_, ops.back().seq);
  return ok();
}

Result<std::vector<Op>> Spool::read(std::size_t limit) {
  std::vector<Op> ops;
  StmtReset reset(select_);
  select_.bind(1, static_cast<std::int64_t>(limit));
  while (SIE_TRY(select_.step())) {
    auto argv = decodeArgv(select_.blob(1));
    if (!argv) return fail(Errc::kCorrupt, argv.error().message, db_.path());
    ops.push_back(Op{select_.int64(0), std::move(*argv)});
  }
  return ops;
}

Status Spool::erase(std::int64_t last) {
  SIE_CHECK(erase_.bind(1, last).run());
  size_ -= std::min(size_, static_cast<std::size_t>(sqlite3_changes(db_.handle())));
  return ok();
}

}  // namespace sie::state::redis
