// Conversions between the engine's values and the journal's records, and
// between engine time and wall-clock time. Plain functions; thread-safe.
#ifndef CCROUTE_SERVER_JOURNAL_RECORDS_H_
#define CCROUTE_SERVER_JOURNAL_RECORDS_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "server/core/config.h"
#include "server/core/engine.h"
#include "server/journal/journal.h"

namespace ccroute::journal {

// Engine time and wall-clock time at one instant: converts either way by
// keeping the distance to that instant.
class ClockMap {
 public:
  ClockMap(core::Time engine_now, WallTime wall_now)
      : engine_now_(engine_now), wall_now_ns_(UnixNanos(wall_now)) {}
  int64_t ToUnixNanos(core::Time t) const {
    return wall_now_ns_ + (t - engine_now_).count();
  }
  core::Time ToEngine(int64_t unix_ns) const {
    return engine_now_ + core::Duration(unix_ns - wall_now_ns_);
  }

 private:
  core::Time engine_now_;
  int64_t wall_now_ns_;
};

ContactRequest ToRecord(const core::ContactRequest& request,
                        const ClockMap& clock);
// INVALID_ARGUMENT for a channel out of range; the engine checks the rest.
absl::StatusOr<core::ContactRequest> FromRecord(const ContactRequest& record,
                                                const ClockMap& clock);

// The status of a live contact as the engine shows it.
ContactStatus StatusOf(const core::ContactView& view, const ClockMap& clock);

// The idempotency key of an ended contact (view.state is kEnded), kept
// until `expires`.
EndedContact EndedOf(const core::ContactView& view, const ClockMap& clock,
                     core::Time expires);

// A live contact read back from the journal, for Engine::RestoreContact.
// INVALID_ARGUMENT for a state or channel out of range.
absl::StatusOr<core::RestoredContact> ToRestored(const JournaledContact& record,
                                                 const ClockMap& clock);
absl::StatusOr<core::RestoredEndedContact> ToRestored(
    const EndedContact& record, const ClockMap& clock);

}  // namespace ccroute::journal

#endif  // CCROUTE_SERVER_JOURNAL_RECORDS_H_
