// A token bucket per client: `burst` requests at once, refilled at
// `per_second`. Clients are named by the caller (a credential's name, or a
// peer address). Thread-safe.
#ifndef CCROUTE_SERVER_API_RATE_LIMITER_H_
#define CCROUTE_SERVER_API_RATE_LIMITER_H_

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ccroute::api {

class RateLimiter {
 public:
  // per_second <= 0: unlimited. burst < 1 reads as max(1, per_second).
  RateLimiter(double per_second, double burst);

  // Takes one token from `client`'s bucket at time `now`; false when it is
  // empty (the request is refused and takes nothing).
  bool Allow(const std::string& client,
             std::chrono::steady_clock::time_point now =
                 std::chrono::steady_clock::now());

  bool limited() const { return per_second_ > 0; }

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point at;
  };

  const double per_second_;
  const double burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace ccroute::api

#endif  // CCROUTE_SERVER_API_RATE_LIMITER_H_
