#include "server/api/health_probe.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>

#include <future>

namespace ccroute::api {

absl::Status ProbeHealth(const std::string& address,
                         std::chrono::milliseconds timeout) {
  auto channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  // An empty HealthCheckRequest asks about the whole server; no generated
  // health client is needed for one enum in the answer.
  grpc::Slice empty;
  grpc::ByteBuffer request(&empty, 1), response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                 &request, &response,
                 [&](grpc::Status s) { done.set_value(std::move(s)); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) {
    return absl::UnavailableError(address + ": " + status.error_message());
  }
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) {
    return absl::UnavailableError(address + ": unreadable health answer");
  }
  std::string bytes;
  for (const auto& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  // HealthCheckResponse: field 1 (status), varint; SERVING is 1.
  if (bytes == std::string("\x08\x01", 2)) return absl::OkStatus();
  return absl::UnavailableError(address + ": not serving");
}

}  // namespace ccroute::api
