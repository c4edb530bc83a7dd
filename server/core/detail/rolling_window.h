// A time-bucketed rolling sum of queue outcomes, for service level, average
// speed of answer and handle time over the last few minutes.
// Not thread-safe; engine thread only.
#ifndef CCROUTE_SERVER_CORE_DETAIL_ROLLING_WINDOW_H_
#define CCROUTE_SERVER_CORE_DETAIL_ROLLING_WINDOW_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "server/core/types.h"

namespace ccroute::core::detail {

struct WindowCounts {
  int64_t answered = 0;
  int64_t answered_within_target = 0;
  int64_t answer_delay_ns = 0;
  int64_t abandoned = 0;
  int64_t abandoned_after_target = 0;
  int64_t expired = 0;
  int64_t handled = 0;
  int64_t handle_time_ns = 0;

  void Add(const WindowCounts& o) {
    answered += o.answered;
    answered_within_target += o.answered_within_target;
    answer_delay_ns += o.answer_delay_ns;
    abandoned += o.abandoned;
    abandoned_after_target += o.abandoned_after_target;
    expired += o.expired;
    handled += o.handled;
    handle_time_ns += o.handle_time_ns;
  }
};

// Keeps `buckets` buckets of `window / buckets` each; a sum covers the
// current bucket and the ones before it that are still inside the window.
class RollingWindow {
 public:
  RollingWindow(Duration window, int buckets)
      : width_ns_(std::max<int64_t>(1, window.count() / std::max(1, buckets))),
        slots_(std::max(1, buckets)) {}

  // The bucket for `now`, cleared first if it last held older counts.
  WindowCounts& At(Time now) {
    int64_t epoch = now.time_since_epoch().count() / width_ns_;
    Slot& slot = slots_[static_cast<size_t>(epoch) % slots_.size()];
    if (slot.epoch != epoch) {
      slot.epoch = epoch;
      slot.counts = {};
    }
    return slot.counts;
  }

  // The sum over the window ending at `now`.
  WindowCounts Sum(Time now) const {
    int64_t epoch = now.time_since_epoch().count() / width_ns_;
    int64_t oldest = epoch - static_cast<int64_t>(slots_.size()) + 1;
    WindowCounts total;
    for (const Slot& slot : slots_) {
      if (slot.epoch >= oldest && slot.epoch <= epoch) total.Add(slot.counts);
    }
    return total;
  }

 private:
  struct Slot {
    int64_t epoch = INT64_MIN;
    WindowCounts counts;
  };
  int64_t width_ns_;
  std::vector<Slot> slots_;
};

}  // namespace ccroute::core::detail

#endif  // CCROUTE_SERVER_CORE_DETAIL_ROLLING_WINDOW_H_
