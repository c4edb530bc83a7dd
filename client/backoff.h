// Exponential backoff with jitter, shared by the gateway client's retries
// and the agent session's reconnects.
#ifndef CCROUTE_CLIENT_BACKOFF_H_
#define CCROUTE_CLIENT_BACKOFF_H_

#include <chrono>
#include <random>

namespace ccroute::client {

// The delays between attempts: `initial`, then multiplied by `multiplier`
// up to `max`, each scaled by a random factor in [1 - jitter, 1 + jitter]
// so that many clients failing at once do not retry in lockstep.
struct Backoff {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{5000};
  double multiplier = 2.0;
  double jitter = 0.2;
};

// The delay before retry number `retry` (0 for the first). Negative or
// out-of-range fields are clamped: multiplier to at least 1, jitter to
// [0, 1], and a `max` below `initial` counts as `initial`. Never negative.
std::chrono::milliseconds BackoffDelay(const Backoff& backoff, int retry,
                                       std::mt19937_64& rng);

}  // namespace ccroute::client

#endif  // CCROUTE_CLIENT_BACKOFF_H_
