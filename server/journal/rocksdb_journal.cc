#include "server/journal/rocksdb_journal.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/wal_filter.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ccroute::journal {

namespace {

constexpr char kContactKey = 'c';
constexpr char kStatusKey = 's';
constexpr char kEndedKey = 'e';
constexpr char kConfigKey = 'k';

std::string Key(char kind, std::string_view id) {
  std::string key;
  key.reserve(id.size() + 1);
  key += kind;
  key.append(id.data(), id.size());
  return key;
}

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string message = std::string(what) + ": " + s.ToString();
  if (s.IsIOError() || s.IsCorruption() || s.IsNoSpace()) {
    return absl::DataLossError(message);
  }
  return absl::InternalError(message);
}

// RocksDB's informational log, kept only for what it says while the
// database opens: the words it uses when it skips a damaged WAL record or
// repairs. Nothing goes to a file.
class ProblemLog final : public rocksdb::Logger {
 public:
  ProblemLog() : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL) {}

  using rocksdb::Logger::Logv;
  void Logv(const rocksdb::InfoLogLevel level, const char* format,
            va_list ap) override {
    if (!capturing_.load(std::memory_order_relaxed)) return;
    char buffer[512];
    va_list copy;
    va_copy(copy, ap);
    int n = std::vsnprintf(buffer, sizeof(buffer), format, copy);
    va_end(copy);
    if (n < 0) return;
    std::string_view line(buffer, std::min<size_t>(n, sizeof(buffer) - 1));
    bool problem =
        level >= rocksdb::InfoLogLevel::WARN_LEVEL ||
        line.find("orrupt") != std::string_view::npos ||
        line.find("dropping") != std::string_view::npos ||
        line.find("Point in time recovered") != std::string_view::npos;
    if (!problem) return;
    absl::MutexLock lock(&mu_);
    if (lines_.size() < 32) lines_.emplace_back(line);
  }
  void Stop() { capturing_.store(false); }
  std::vector<std::string> Take() {
    absl::MutexLock lock(&mu_);
    return std::move(lines_);
  }

 private:
  std::atomic<bool> capturing_{true};
  absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

// Sees every batch RocksDB replays from its write-ahead log while the
// database opens, and works out where in each log file the replay ended, so
// that a torn or damaged tail can be reported in bytes. RocksDB checks the
// records; this only adds up their sizes. The position follows the log
// format RocksDB has kept since LevelDB (db/log_format.h): 32 KiB blocks,
// each record in fragments with a 7-byte header, a block's last 0-6 bytes
// zero-filled when no header fits. Opening thread only.
class WalReplay final : public rocksdb::WalFilter {
 public:
  static constexpr uint64_t kBlockSize = 32768;
  static constexpr uint64_t kHeaderSize = 7;

  // Where a log file's replay ended: the end of the last batch replayed.
  struct Replayed {
    uint64_t end = 0;
    int64_t batches = 0;
  };

  void ColumnFamilyLogNumberMap(
      const std::map<uint32_t, uint64_t>& cf_lognumber_map,
      const std::map<std::string, uint32_t>&) override {
    for (const auto& [cf, number] : cf_lognumber_map) {
      min_log_ = std::min(min_log_, number);
    }
  }
  WalProcessingOption LogRecordFound(unsigned long long log_number,
                                     const std::string&,
                                     const rocksdb::WriteBatch& batch,
                                     rocksdb::WriteBatch*,
                                     bool* batch_changed) override {
    *batch_changed = false;
    Replayed& r = logs_[log_number];
    r.end = EndOfRecord(r.end, batch.GetDataSize());
    r.batches++;
    return WalProcessingOption::kContinueProcessing;
  }
  const char* Name() const override { return "ccroute-wal-replay"; }

  // Log files numbered below it hold nothing unflushed: RocksDB skips them.
  uint64_t min_log() const { return min_log_; }
  Replayed replayed(uint64_t log_number) const {
    auto it = logs_.find(log_number);
    return it == logs_.end() ? Replayed{} : it->second;
  }

 private:
  // Where a record of `length` bytes written at `offset` ends, as RocksDB's
  // log writer lays it out.
  static uint64_t EndOfRecord(uint64_t offset, uint64_t length) {
    do {
      uint64_t leftover = kBlockSize - offset % kBlockSize;
      if (leftover < kHeaderSize) offset += leftover;
      uint64_t avail = kBlockSize - offset % kBlockSize - kHeaderSize;
      uint64_t fragment = std::min(length, avail);
      offset += kHeaderSize + fragment;
      length -= fragment;
    } while (length > 0);
    return offset;
  }

  uint64_t min_log_ = std::numeric_limits<uint64_t>::max();
  std::map<uint64_t, Replayed> logs_;
};

// The write-ahead log files in `dir` ("000012.log"), by number, with their
// sizes.
struct WalFile {
  std::string name;
  uint64_t size = 0;
};
std::map<uint64_t, WalFile> ListWalFiles(const std::string& dir) {
  std::map<uint64_t, WalFile> out;
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(dir, ec)) {
    const std::filesystem::path& p = f.path();
    if (p.extension() != ".log" || !f.is_regular_file(ec)) continue;
    std::string stem = p.stem().string();
    if (stem.empty() ||
        stem.find_first_not_of("0123456789") != std::string::npos ||
        stem.size() > 19) {
      continue;
    }
    uint64_t size = f.file_size(ec);
    if (ec) continue;
    out[std::stoull(stem)] = {p.filename().string(), size};
  }
  return out;
}

rocksdb::Options DbOptions(std::shared_ptr<ProblemLog> log) {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.paranoid_checks = true;
  // A torn or damaged tail ends the replay at the last intact batch; the
  // batches before it are kept, none after it (they may depend on it).
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  o.info_log = std::move(log);
  o.keep_log_file_num = 1;
  o.max_background_jobs = 2;
  return o;
}

struct Pending {
  Batch batch;
  Journal::Done done;
};

}  // namespace

struct RocksDbJournal::State {
  JournalOptions options;
  std::string dir;
  // Before db: destroyed after it.
  std::unique_ptr<WalReplay> wal_replay;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<std::string> open_problems;
  bool repaired = false;
  int64_t wal_bytes_dropped = 0;
  std::chrono::nanoseconds open_duration{0};

  absl::Mutex mu;
  std::vector<Pending> queue ABSL_GUARDED_BY(mu);
  bool stopping ABSL_GUARDED_BY(mu) = false;
  bool recovered ABSL_GUARDED_BY(mu) = false;
  uint64_t next_seq ABSL_GUARDED_BY(mu) = 1;
  absl::Status failure ABSL_GUARDED_BY(mu);
  bool failure_reported ABSL_GUARDED_BY(mu) = false;
  uint64_t enqueued ABSL_GUARDED_BY(mu) = 0;
  uint64_t completed ABSL_GUARDED_BY(mu) = 0;

  // Held while a group is written or expired keys are deleted, so that
  // Compact never races a write of the same key.
  absl::Mutex write_mu;

  std::atomic<int64_t> appends{0}, writes{0}, syncs{0};
  std::thread writer, syncer;

  // Records the first failure; returns whether the caller must report it.
  bool Fail(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (failure.ok()) failure = status;
    if (failure_reported) return false;
    failure_reported = true;
    return true;
  }
  void ReportFailure(const absl::Status& status) {
    if (options.on_failure) options.on_failure(status);
  }

  absl::Status Sync() {
    rocksdb::Status s = db->SyncWAL();
    syncs++;
    return FromRocks(s, "journal sync");
  }

  absl::Status WriteGroup(const std::vector<Pending>& group) {
    rocksdb::WriteBatch wb;
    for (const Pending& p : group) {
      for (const Batch::Op& op : p.batch.ops()) {
        switch (op.kind) {
          case Batch::Op::Kind::kContact:
            wb.Put(Key(kContactKey, op.id), op.contact.SerializeAsString());
            wb.Put(Key(kStatusKey, op.id), op.status.SerializeAsString());
            wb.Delete(Key(kEndedKey, op.id));
            break;
          case Batch::Op::Kind::kStatus:
            wb.Put(Key(kStatusKey, op.id), op.status.SerializeAsString());
            break;
          case Batch::Op::Kind::kEnded:
            wb.Delete(Key(kContactKey, op.id));
            wb.Delete(Key(kStatusKey, op.id));
            wb.Put(Key(kEndedKey, op.id), op.ended.SerializeAsString());
            break;
          case Batch::Op::Kind::kConfig:
            wb.Put(Key(kConfigKey, op.id), op.config.SerializeAsString());
            break;
          case Batch::Op::Kind::kConfigErased:
            wb.Delete(Key(kConfigKey, op.id));
            break;
        }
      }
    }
    rocksdb::WriteOptions wo;
    wo.sync = options.durability == Durability::kSync;
    absl::MutexLock lock(&write_mu);
    rocksdb::Status s = db->Write(wo, &wb);
    writes++;
    if (wo.sync) syncs++;
    return FromRocks(s, "journal write");
  }

  void WriterLoop() {
    for (;;) {
      std::vector<Pending> group;
      absl::Status failed;
      {
        absl::MutexLock lock(&mu);
        mu.Await(absl::Condition(
            +[](State* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
              return !s->queue.empty() || s->stopping;
            },
            this));
        if (queue.empty()) return;
        group.swap(queue);
        failed = failure;
      }
      absl::Status status = failed;
      if (status.ok()) {
        if (options.before_write) options.before_write();
        status = WriteGroup(group);
      }
      bool report = false;
      {
        absl::MutexLock lock(&mu);
        if (!status.ok()) report = Fail(status);
        // A sync that failed meanwhile (interval mode) fails this group too:
        // it cannot be known to reach the disk.
        if (!failure.ok()) status = failure;
      }
      if (report) ReportFailure(status);
      for (Pending& p : group) {
        if (p.done) p.done(status);
      }
      // Only now: Flush returns after the callbacks of what it waited for.
      absl::MutexLock lock(&mu);
      completed += group.size();
    }
  }

  void SyncLoop() {
    absl::Duration every = absl::FromChrono(options.sync_interval);
    for (;;) {
      {
        absl::MutexLock lock(&mu);
        if (mu.AwaitWithTimeout(
                absl::Condition(
                    +[](State* s)
                         ABSL_NO_THREAD_SAFETY_ANALYSIS { return s->stopping; },
                    this),
                every)) {
          return;
        }
        if (!failure.ok()) continue;
      }
      absl::Status status = Sync();
      if (!status.ok()) {
        bool report;
        {
          absl::MutexLock lock(&mu);
          report = Fail(status);
        }
        if (report) ReportFailure(status);
      }
    }
  }
};

absl::StatusOr<std::unique_ptr<RocksDbJournal>> RocksDbJournal::Open(
    const std::string& dir, JournalOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError("journal directory '" + dir +
                                         "': " + ec.message());
  }
  auto started = std::chrono::steady_clock::now();
  auto state = std::make_unique<State>();
  state->options = std::move(options);
  state->dir = dir;
  auto log = std::make_shared<ProblemLog>();
  rocksdb::Options db_options = DbOptions(log);
  std::map<uint64_t, WalFile> wal_files = ListWalFiles(dir);
  // RocksDB keeps the pointer in its options: the filter lives as long as
  // the database.
  state->wal_replay = std::make_unique<WalReplay>();
  WalReplay& replay = *state->wal_replay;
  db_options.wal_filter = &replay;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, &db);
  if (s.ok()) {
    // The log files RocksDB had to replay, and how far it got in each: it
    // stops at the first damaged batch and keeps none after it.
    for (const auto& [number, file] : wal_files) {
      if (number < replay.min_log()) continue;
      WalReplay::Replayed r = replay.replayed(number);
      if (r.end >= file.size) continue;
      state->wal_bytes_dropped += static_cast<int64_t>(file.size - r.end);
      state->open_problems.push_back(
          "write-ahead log " + file.name + ": the last " +
          std::to_string(file.size - r.end) + " of " +
          std::to_string(file.size) + " bytes were not replayed (" +
          std::to_string(r.batches) +
          " intact batches before them were); a torn or damaged tail, and "
          "what was written after it, is lost");
    }
  }
  if (s.IsCorruption()) {
    // A damaged table or manifest: salvage every readable key rather than
    // refuse to start.
    state->open_problems.push_back("open: " + s.ToString() +
                                   "; repairing the journal");
    // A repair cannot say what it lost in bytes.
    db_options.wal_filter = nullptr;
    rocksdb::Status r = rocksdb::RepairDB(dir, db_options);
    if (!r.ok()) {
      state->open_problems.push_back("repair: " + r.ToString());
    }
    state->repaired = true;
    s = rocksdb::DB::Open(db_options, dir, &db);
  }
  log->Stop();
  if (!s.ok()) {
    return FromRocks(s, "opening the journal in '" + dir + "'");
  }
  state->db.reset(db);
  for (std::string& line : log->Take()) {
    state->open_problems.push_back(std::move(line));
  }
  state->open_duration = std::chrono::steady_clock::now() - started;
  State* raw = state.get();
  raw->writer = std::thread([raw] { raw->WriterLoop(); });
  if (raw->options.durability == Durability::kInterval) {
    raw->syncer = std::thread([raw] { raw->SyncLoop(); });
  }
  return std::unique_ptr<RocksDbJournal>(new RocksDbJournal(std::move(state)));
}

RocksDbJournal::RocksDbJournal(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

RocksDbJournal::~RocksDbJournal() {
  {
    absl::MutexLock lock(&state_->mu);
    state_->stopping = true;
  }
  state_->writer.join();
  if (state_->syncer.joinable()) state_->syncer.join();
  bool healthy;
  {
    absl::MutexLock lock(&state_->mu);
    healthy = state_->failure.ok();
  }
  if (healthy) (void)state_->Sync();
  (void)state_->db->Close();
}

absl::StatusOr<RecoveredState> RocksDbJournal::Recover(WallTime now) {
  State& s = *state_;
  RecoveredState out;
  out.problems = s.open_problems;
  out.repaired = s.repaired;
  out.wal_bytes_dropped = s.wal_bytes_dropped;
  out.open_duration = s.open_duration;
  int64_t now_ns = UnixNanos(now);

  // RocksDB returns the keys in order (its default bytewise comparator):
  // every c<id> by id, then every e<id> and k<key>, then every s<id>, by id
  // again. So each status finds its contact by one walk over the contacts
  // read before it, with no map of every id (a million at the largest).
  std::vector<JournaledContact> contacts;  // by id
  std::vector<bool> has_status;
  size_t next_contact = 0;  // the first one a later status can belong to
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(ro));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    rocksdb::Slice key = it->key();
    rocksdb::Slice value = it->value();
    if (key.size() < 2) {
      out.dropped_records++;
      continue;
    }
    std::string_view id(key.data() + 1, key.size() - 1);
    switch (key[0]) {
      case kContactKey: {
        Contact c;
        if (!c.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
            c.request().id() != id) {
          out.dropped_records++;
          break;
        }
        contacts.push_back({std::move(c), {}});
        has_status.push_back(false);
        break;
      }
      case kStatusKey: {
        ContactStatus st;
        if (!st.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          out.dropped_records++;
          break;
        }
        // std::string_view compares bytes as unsigned char, as RocksDB's
        // comparator does.
        while (next_contact < contacts.size() &&
               std::string_view(contacts[next_contact].contact.request().id()) <
                   id) {
          ++next_contact;
        }
        if (next_contact < contacts.size() &&
            contacts[next_contact].contact.request().id() == id) {
          contacts[next_contact].status = std::move(st);
          has_status[next_contact] = true;
          ++next_contact;
        } else {
          out.dropped_records++;  // a status without its contact
        }
        break;
      }
      case kEndedKey: {
        EndedContact e;
        if (!e.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
            e.id() != id) {
          out.dropped_records++;
          break;
        }
        if (e.expires_unix_ns() <= now_ns) {
          out.expired_keys++;
          break;
        }
        out.ended.push_back(std::move(e));
        break;
      }
      case kConfigKey: {
        ConfigChange c;
        if (!c.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
            c.key() != id) {
          out.dropped_records++;
          break;
        }
        out.config.push_back(std::move(c));
        break;
      }
      default:
        out.dropped_records++;
    }
  }
  if (!it->status().ok()) {
    out.problems.push_back("reading the journal stopped early: " +
                           it->status().ToString());
  }
  uint64_t max_seq = 0;
  out.contacts.reserve(contacts.size());
  for (size_t i = 0; i < contacts.size(); ++i) {
    if (!has_status[i]) {
      out.dropped_records++;  // a contact without its status
      continue;
    }
    max_seq = std::max<uint64_t>(max_seq, contacts[i].contact.seq());
    out.contacts.push_back(std::move(contacts[i]));
  }
  contacts = {};
  std::sort(out.contacts.begin(), out.contacts.end(),
            [](const JournaledContact& a, const JournaledContact& b) {
              return a.contact.seq() < b.contact.seq();
            });
  std::sort(out.ended.begin(), out.ended.end(),
            [](const EndedContact& a, const EndedContact& b) {
              return a.ended_unix_ns() < b.ended_unix_ns();
            });
  for (const ConfigChange& c : out.config) {
    max_seq = std::max<uint64_t>(max_seq, c.seq());
  }
  std::sort(out.config.begin(), out.config.end(),
            [](const ConfigChange& a, const ConfigChange& b) {
              return a.seq() < b.seq();
            });
  {
    absl::MutexLock lock(&s.mu);
    s.next_seq = std::max(s.next_seq, max_seq + 1);
    s.recovered = true;
  }
  return out;
}

void RocksDbJournal::Append(Batch batch, Done done) {
  State& s = *state_;
  absl::Status refused;
  {
    absl::MutexLock lock(&s.mu);
    if (!s.recovered) {
      refused = absl::FailedPreconditionError(
          "the journal must be recovered before it is appended to");
    } else if (!s.failure.ok()) {
      refused = s.failure;
    } else if (s.stopping) {
      refused = absl::UnavailableError("the journal is closing");
    } else {
      for (Batch::Op& op : batch.mutable_ops()) {
        if (op.kind == Batch::Op::Kind::kContact) {
          op.contact.set_seq(s.next_seq++);
        } else if (op.kind == Batch::Op::Kind::kConfig) {
          op.config.set_seq(s.next_seq++);
        }
      }
      s.queue.push_back({std::move(batch), std::move(done)});
      s.enqueued++;
      s.appends++;
      return;
    }
  }
  if (done) done(refused);
}

absl::Status RocksDbJournal::Flush() {
  State& s = *state_;
  {
    absl::MutexLock lock(&s.mu);
    uint64_t target = s.enqueued;
    auto written = [&s, target]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return s.completed >= target;
    };
    s.mu.Await(absl::Condition(&written));
    if (!s.failure.ok()) return s.failure;
  }
  absl::Status status = s.Sync();
  if (!status.ok()) {
    bool report;
    {
      absl::MutexLock lock(&s.mu);
      report = s.Fail(status);
    }
    if (report) s.ReportFailure(status);
  }
  return status;
}

absl::Status RocksDbJournal::Compact(WallTime now) {
  State& s = *state_;
  {
    absl::MutexLock lock(&s.mu);
    if (!s.failure.ok()) return s.failure;
  }
  int64_t now_ns = UnixNanos(now);
  absl::Status status;
  {
    absl::MutexLock write_lock(&s.write_mu);
    rocksdb::WriteBatch wb;
    std::unique_ptr<rocksdb::Iterator> it(
        s.db->NewIterator(rocksdb::ReadOptions()));
    std::string prefix(1, kEndedKey);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
      EndedContact e;
      rocksdb::Slice value = it->value();
      if (!e.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
          e.expires_unix_ns() <= now_ns) {
        wb.Delete(it->key());
      }
    }
    if (wb.Count() > 0) {
      rocksdb::WriteOptions wo;
      wo.sync = s.options.durability == Durability::kSync;
      status = FromRocks(s.db->Write(wo, &wb), "journal compaction");
      s.writes++;
      if (wo.sync) s.syncs++;
    }
  }
  if (status.ok()) {
    status = FromRocks(
        s.db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr),
        "journal compaction");
  }
  if (!status.ok()) {
    bool report;
    {
      absl::MutexLock lock(&s.mu);
      report = s.Fail(status);
    }
    if (report) s.ReportFailure(status);
  }
  return status;
}

JournalStats RocksDbJournal::stats() const {
  return {state_->appends.load(), state_->writes.load(), state_->syncs.load()};
}

}  // namespace ccroute::journal
