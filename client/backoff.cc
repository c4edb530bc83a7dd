#include "client/backoff.h"

#include <algorithm>
#include <cmath>

namespace ccroute::client {

std::chrono::milliseconds BackoffDelay(const Backoff& backoff, int retry,
                                       std::mt19937_64& rng) {
  double initial = std::max<double>(0, backoff.initial.count());
  double max = std::max<double>(initial, backoff.max.count());
  double multiplier = std::max(1.0, backoff.multiplier);
  double jitter = std::clamp(backoff.jitter, 0.0, 1.0);
  // Capping the exponent keeps pow() finite for absurd retry counts.
  double base =
      std::min(max, initial * std::pow(multiplier, std::clamp(retry, 0, 64)));
  std::uniform_real_distribution<double> factor(1.0 - jitter, 1.0 + jitter);
  return std::chrono::milliseconds(
      static_cast<int64_t>(std::llround(base * factor(rng))));
}

}  // namespace ccroute::client
