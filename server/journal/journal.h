// The journal: what ccrouted keeps on disk so that a restart loses no
// contact it accepted.
//
// What it holds. Not a history but the latest state of every live contact
// and every idempotency key still in force, under four kinds of key:
//   c<id>  Contact        the create request, written once with a creation
//                         sequence number (the journal's own order);
//   s<id>  ContactStatus  state, queue, agent, arrival, entry into the queue,
//                         escalation step, priority and requirements,
//                         rewritten on every change;
//   e<id>  EndedContact   an ended contact's idempotency key, until it
//                         expires;
//   k<key> ConfigChange   an administrator's latest change to one queue,
//                         agent profile or the routing policy.
// A contact's end deletes its c/s keys and writes its e key in one atomic
// batch. So the journal's size follows the live contacts and the retention
// window, not the traffic, and recovery reads each live contact once: its
// cost grows with live contacts (10k, 100k, 1M), never with uptime.
//
// Why a keyed store rather than a log with snapshots. A log must be
// replayed from the last snapshot and the snapshot rewritten now and then,
// which is a second write path with its own crash windows. RocksDB
// (Debian's librocksdb-dev) already is a log with background compaction: its
// write-ahead log takes every batch first, with a checksum per record;
// deleted keys disappear when it compacts. Recovery then reads the keys
// back and orders contacts by their sequence number.
//
// Durability (Journal::Append's `done` callback says when a batch is safe):
//   sync      done after the batch is on disk (fsync of the WAL). Group
//             commit: one writer thread takes every batch queued while the
//             previous write was in progress and writes them as one batch
//             with one sync, so throughput grows with concurrency while each
//             acknowledgement still waits for its own data's sync.
//   interval  done once the batch is in the operating system (a write(2));
//             a thread syncs every N ms. A killed ccrouted loses nothing
//             acknowledged; a power loss or kernel crash loses the batches
//             acknowledged in the last N ms (plus the sync's own duration).
//   none      as interval without the thread: the kernel writes back when it
//             likes (typically within 30 s). Survives a killed process only.
// `journal: none` in the server configuration is NullJournal: nothing is
// kept, the pure in-memory mode.
//
// Failures. A failed write or sync is not retried and not hidden: the
// journal fails every pending and later Append with that status, and calls
// JournalOptions::on_failure once. The server must then stop (refusing new
// work): after a failed fsync the kernel may have dropped the dirty pages,
// so what it acknowledged is no longer known to be on disk.
//
// Corruption. Opening runs RocksDB's point-in-time WAL recovery: a torn or
// damaged tail ends the replay at the last intact batch, and what it
// skipped is reported (RecoveredState::problems, and in bytes
// RecoveredState::wal_bytes_dropped). A damaged table or
// manifest is repaired (salvaging every readable key) rather than refusing
// to start; a value that does not decode is dropped and counted. Nothing in
// recovery trusts the bytes it reads.
//
// Thread-safety: Journal implementations are thread-safe. Callbacks run on
// the journal's writer thread, or inline in Append when it refuses the batch
// at once (before Recover, after a failure) and for NullJournal; they must
// not block or call back into the journal.
#ifndef CCROUTE_SERVER_JOURNAL_JOURNAL_H_
#define CCROUTE_SERVER_JOURNAL_JOURNAL_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/journal/journal.pb.h"

namespace ccroute::journal {

// Wall-clock time: the journal outlives the engine's clock.
using WallTime = std::chrono::system_clock::time_point;

inline int64_t UnixNanos(WallTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             t.time_since_epoch())
      .count();
}

enum class Durability { kSync, kInterval, kNone };
// "sync", "interval", "none".
std::string_view DurabilityName(Durability durability);
std::optional<Durability> ParseDurability(std::string_view name);

struct JournalOptions {
  Durability durability = Durability::kSync;
  // For kInterval: how often the thread syncs.
  std::chrono::milliseconds sync_interval{1000};
  // Called once, on the journal's thread, at the first failed write or
  // sync; the server stops then. May be empty.
  std::function<void(const absl::Status&)> on_failure;
  // For tests: runs on the writer thread before each group is written, so
  // a test can hold the writer while batches queue up. May be empty.
  std::function<void()> before_write;
};

// Changes to write together, atomically: the journal keeps all of a batch
// or none of it. Plain value; fill on one thread, then hand to Append.
class Batch {
 public:
  struct Op {
    enum class Kind : uint8_t {
      kContact,
      kStatus,
      kEnded,
      kConfig,
      kConfigErased
    };
    Kind kind;
    std::string id;        // the contact's, or the ConfigChange's key
    Contact contact;       // kContact
    ContactStatus status;  // kContact, kStatus
    EndedContact ended;    // kEnded
    ConfigChange config;   // kConfig
  };

  // A new contact and its first status; replaces any record of the id
  // (also its idempotency key). The journal sets contact.seq.
  void PutContact(Contact contact, ContactStatus status);
  // The latest status of a live contact.
  void PutStatus(std::string id, ContactStatus status);
  // The contact ended: its records go; its idempotency key stays until
  // ended.expires_unix_ns.
  void EndContact(EndedContact ended);
  // An administrator's latest change to the item `change.key()`, replacing
  // the one before; the journal sets change.seq.
  void PutConfig(ConfigChange change);
  // The item `key` is again as the configuration file has it: its change
  // record goes.
  void EraseConfig(std::string key);
  // Appends `other`'s changes after this batch's.
  void Append(Batch other);

  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }
  const std::vector<Op>& ops() const { return ops_; }
  std::vector<Op>& mutable_ops() { return ops_; }

 private:
  std::vector<Op> ops_;
};

// A live contact as the journal kept it.
struct JournaledContact {
  Contact contact;
  ContactStatus status;
};

// Everything a journal holds, read back.
struct RecoveredState {
  // Live contacts in creation order (Contact::seq).
  std::vector<JournaledContact> contacts;
  // Idempotency keys not yet expired, in end order.
  std::vector<EndedContact> ended;
  // Administrators' changes to the configuration, in the order they were
  // made (ConfigChange::seq).
  std::vector<ConfigChange> config;
  // Records that did not decode or were incomplete (a status without its
  // contact or the reverse); they are left out.
  int64_t dropped_records = 0;
  // Idempotency keys found expired (left out; Compact removes them).
  int64_t expired_keys = 0;
  // What opening skipped or repaired (a torn WAL tail, a damaged table),
  // in words for the log. Empty when the journal was intact as far as can
  // be told: a tail cut exactly between two batches leaves no trace.
  std::vector<std::string> problems;
  bool repaired = false;
  // Bytes at the end of the write-ahead log that were not replayed: a torn
  // or damaged batch and every batch after it (none after a damaged one is
  // kept). 0 when the log replayed to its end, and after a repair (which
  // salvages what it can and cannot say what it lost).
  int64_t wal_bytes_dropped = 0;
  // How long opening took: mostly replaying the write-ahead log.
  std::chrono::nanoseconds open_duration{0};
};

struct JournalStats {
  int64_t appends = 0;  // Append calls accepted
  int64_t writes = 0;   // groups written (one per writer turn)
  int64_t syncs = 0;    // fsyncs of the write-ahead log
};

// Where the server keeps its live state. See the top of this file.
class Journal {
 public:
  using Done = std::function<void(const absl::Status&)>;

  virtual ~Journal() = default;

  // Reads the journal back; call once, before the first Append. `now`
  // decides which idempotency keys expired.
  virtual absl::StatusOr<RecoveredState> Recover(WallTime now) = 0;
  // Queues `batch`; `done` (may be empty) runs once it is as durable as the
  // mode promises, or with the error that failed the journal (then the
  // server must stop).
  // Batches are written in the order of their Append calls.
  // FAILED_PRECONDITION to `done` before Recover.
  virtual void Append(Batch batch, Done done) = 0;
  // Blocks until every batch appended before is written and synced,
  // whatever the mode, and their callbacks have run (for shutdown). The
  // journal's failure, if any.
  virtual absl::Status Flush() = 0;
  // Removes idempotency keys expired by `now` and reclaims the space of
  // ended contacts. Blocks while it runs; writes wait meanwhile.
  virtual absl::Status Compact(WallTime now) = 0;
  virtual JournalStats stats() const = 0;
};

// `journal: none`: keeps nothing; every Append succeeds at once. Thread-safe.
class NullJournal final : public Journal {
 public:
  absl::StatusOr<RecoveredState> Recover(WallTime now) override;
  void Append(Batch batch, Done done) override;
  absl::Status Flush() override;
  absl::Status Compact(WallTime now) override;
  JournalStats stats() const override;

 private:
  std::atomic<int64_t> appends_{0};
};

}  // namespace ccroute::journal

#endif  // CCROUTE_SERVER_JOURNAL_JOURNAL_H_
