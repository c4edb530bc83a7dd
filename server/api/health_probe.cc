#include "server/api/health_probe.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>

#include <future>
#include <vector>

namespace ccroute::api {

grpc::Status CheckHealth(std::shared_ptr<grpc::ChannelInterface> channel,
                         const std::string& service,
                         std::chrono::milliseconds timeout,
                         HealthStatus* health) {
  // No generated health client is needed for one string field out and one
  // enum back: HealthCheckRequest is field 1 (service), length-delimited.
  std::string request_bytes;
  if (!service.empty() && service.size() < 128) {
    request_bytes.push_back('\x0a');
    request_bytes.push_back(static_cast<char>(service.size()));
    request_bytes += service;
  } else if (!service.empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "service name too long");
  }
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  std::promise<grpc::Status> done;
  grpc::GenericStub stub(std::move(channel));
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                 &request, &response,
                 [&](grpc::Status s) { done.set_value(std::move(s)); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) return status;
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "unreadable health answer");
  }
  std::string bytes;
  for (const auto& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  // HealthCheckResponse: field 1 (status), a small varint; absent is 0.
  *health = HealthStatus::kUnknown;
  if (bytes.size() == 2 && bytes[0] == '\x08' && bytes[1] >= 0 &&
      bytes[1] <= 3) {
    *health = static_cast<HealthStatus>(bytes[1]);
  } else if (!bytes.empty()) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "unreadable health answer");
  }
  return grpc::Status::OK;
}

absl::Status ProbeHealth(const std::string& address,
                         std::chrono::milliseconds timeout) {
  auto channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  HealthStatus health;
  grpc::Status status = CheckHealth(channel, "", timeout, &health);
  if (!status.ok()) {
    return absl::UnavailableError(address + ": " + status.error_message());
  }
  if (health == HealthStatus::kServing) return absl::OkStatus();
  return absl::UnavailableError(address + ": not serving");
}

}  // namespace ccroute::api
