// A gRPC health check of a running server, for container health checks,
// scripts and the `ccroute health` command. Thread-safe.
#ifndef CCROUTE_SERVER_API_HEALTH_PROBE_H_
#define CCROUTE_SERVER_API_HEALTH_PROBE_H_

#include <grpcpp/channel.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/status.h"

namespace ccroute::api {

// grpc.health.v1.HealthCheckResponse.ServingStatus.
enum class HealthStatus {
  kUnknown = 0,
  kServing = 1,
  kNotServing = 2,
  kServiceUnknown = 3,
};

// Calls grpc.health.v1.Health/Check for `service` ("" asks about the whole
// server) over `channel`, with a deadline `timeout` from now. On OK
// `*health` holds the answer; otherwise the call's status (UNAVAILABLE when
// unreachable, DEADLINE_EXCEEDED without an answer in time, NOT_FOUND for
// a service the server does not know). `health` must not be null.
grpc::Status CheckHealth(std::shared_ptr<grpc::ChannelInterface> channel,
                         const std::string& service,
                         std::chrono::milliseconds timeout,
                         HealthStatus* health);

// CheckHealth of the whole server at `address` over plaintext. OK when it
// answers SERVING; UNAVAILABLE with the reason otherwise (unreachable, not
// serving, or no answer within `timeout`).
absl::Status ProbeHealth(const std::string& address,
                         std::chrono::milliseconds timeout);

}  // namespace ccroute::api

#endif  // CCROUTE_SERVER_API_HEALTH_PROBE_H_
