// A gRPC health check of a running server, for container health checks and
// scripts. Thread-safe.
#ifndef CCROUTE_SERVER_API_HEALTH_PROBE_H_
#define CCROUTE_SERVER_API_HEALTH_PROBE_H_

#include <chrono>
#include <string>

#include "absl/status/status.h"

namespace ccroute::api {

// Calls grpc.health.v1.Health/Check (whole server) at `address`. OK when it
// answers SERVING; UNAVAILABLE with the reason otherwise (unreachable, not
// serving, or no answer within `timeout`).
absl::Status ProbeHealth(const std::string& address,
                         std::chrono::milliseconds timeout);

}  // namespace ccroute::api

#endif  // CCROUTE_SERVER_API_HEALTH_PROBE_H_
