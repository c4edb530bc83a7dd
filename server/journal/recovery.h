// Rebuilds the routing engine from a journal when ccrouted starts: the
// queues and agent profiles come from the configuration first, then the
// administrators' changes the journal kept (RecoveredState::config, applied
// by the server: api/admin_changes.h, not here), then every live contact
// goes back where it was (see Engine::RestoreContact) and every idempotency
// key still in force is remembered again. Engine thread only (call it
// before the engine serves anything).
#ifndef CCROUTE_SERVER_JOURNAL_RECOVERY_H_
#define CCROUTE_SERVER_JOURNAL_RECOVERY_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/core/engine.h"
#include "server/journal/journal.h"

namespace ccroute::journal {

struct RecoveryReport {
  int64_t restored_waiting = 0;   // queued, scheduled, or offered before
  int64_t restored_assigned = 0;  // still with their agent
  // Assigned before, waiting again: the agent's profile is gone or lacks
  // the room.
  int64_t assigned_requeued = 0;
  int64_t restored_keys = 0;  // idempotency keys of ended contacts
  // In wrap-up when the server stopped: the conversation was over, so the
  // contact ends as completed (its key is kept).
  int64_t ended_in_wrap_up = 0;
  int64_t expired_keys = 0;  // idempotency keys past their expiry
  // Records the journal could not read (see RecoveredState) plus those the
  // engine refused (a queue no longer configured, a bad value): the
  // refused contacts end as cancelled.
  int64_t dropped_records = 0;
  int64_t refused_contacts = 0;
  // The write-ahead log's tail that did not replay (RecoveredState).
  int64_t wal_bytes_dropped = 0;
  // Opening the journal (RecoveredState::open_duration).
  std::chrono::nanoseconds journal_open{0};
  // The journal's own problems (a torn tail, a repair) and each refusal,
  // in words for the log.
  std::vector<std::string> problems;
  // Agents holding restored contacts, NOT_READY("disconnected"): start
  // their reconnect grace as for a dropped desktop.
  std::vector<std::string> agents_awaited;
  // Changes the journal needs to match the engine (contacts ended by the
  // recovery): append them before serving. The engine's events from the
  // recovery (escalations, expiries, offers) are to be journaled as usual.
  Batch cleanup;
};

// Restores `state`'s contacts and idempotency keys (not its config, which
// must be applied before) into `engine` at engine time `now`, the wall clock
// reading `wall_now`; an ended contact's key expires
// `idempotency_retention` after it ends (EngineLimits). Takes the records
// by value and frees each once restored, so that the engine's copies reuse
// their memory (pass an rvalue to avoid copying them).
RecoveryReport Restore(RecoveredState state, core::Engine& engine,
                       core::Time now, WallTime wall_now,
                       core::Duration idempotency_retention);

// Journal::Recover, then Restore, leaving out any administrators' changes:
// for a journal of contacts only (tests). The journal's error if
// it cannot be read.
absl::StatusOr<RecoveryReport> RecoverEngine(
    Journal& journal, core::Engine& engine, core::Time now, WallTime wall_now,
    core::Duration idempotency_retention);

}  // namespace ccroute::journal

#endif  // CCROUTE_SERVER_JOURNAL_RECOVERY_H_
