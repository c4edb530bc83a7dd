// The journal in an embedded RocksDB database in one directory (see
// journal.h for what it keeps and the durability modes). Thread-safe.
#ifndef CCROUTE_SERVER_JOURNAL_ROCKSDB_JOURNAL_H_
#define CCROUTE_SERVER_JOURNAL_ROCKSDB_JOURNAL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/journal/journal.h"

namespace ccroute::journal {

class RocksDbJournal final : public Journal {
 public:
  // Opens or creates the journal in `dir` (created if missing) and starts
  // its writer thread (and the sync thread for kInterval). A torn WAL tail
  // or a damaged table is recovered from (see journal.h); an error only
  // when the directory cannot be used at all (permissions, a lock held by
  // another ccrouted, a disk error).
  static absl::StatusOr<std::unique_ptr<RocksDbJournal>> Open(
      const std::string& dir, JournalOptions options);
  // Writes what is queued, syncs, and stops the threads.
  ~RocksDbJournal() override;

  absl::StatusOr<RecoveredState> Recover(WallTime now) override;
  void Append(Batch batch, Done done) override;
  absl::Status Flush() override;
  absl::Status Compact(WallTime now) override;
  JournalStats stats() const override;

  struct State;

 private:
  explicit RocksDbJournal(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace ccroute::journal

#endif  // CCROUTE_SERVER_JOURNAL_ROCKSDB_JOURNAL_H_
