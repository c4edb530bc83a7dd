#include "server/api/rate_limiter.h"

#include <algorithm>

namespace ccroute::api {
namespace {

// Beyond this many clients, full buckets are dropped (a full bucket is the
// same as none), so that many short-lived peers cannot grow the map.
constexpr size_t kMaxBuckets = 10000;

}  // namespace

RateLimiter::RateLimiter(double per_second, double burst)
    : per_second_(per_second),
      burst_(burst >= 1 ? burst : std::max(1.0, per_second)) {}

bool RateLimiter::Allow(const std::string& client,
                        std::chrono::steady_clock::time_point now) {
  if (per_second_ <= 0) return true;
  std::lock_guard<std::mutex> lock(mu_);
  auto refill = [&](Bucket& b) {
    double elapsed = std::chrono::duration<double>(now - b.at).count();
    if (elapsed > 0) {
      b.tokens = std::min(burst_, b.tokens + elapsed * per_second_);
      b.at = now;
    }
  };
  if (buckets_.size() >= kMaxBuckets && !buckets_.contains(client)) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      refill(it->second);
      it = it->second.tokens >= burst_ ? buckets_.erase(it) : std::next(it);
    }
  }
  auto [it, inserted] = buckets_.try_emplace(client, Bucket{burst_, now});
  Bucket& bucket = it->second;
  refill(bucket);
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

}  // namespace ccroute::api
