// A gRPC channel set up the way ccroute's clients want it.
#ifndef CCROUTE_CLIENT_CHANNEL_H_
#define CCROUTE_CLIENT_CHANNEL_H_

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ccroute::client {

struct ChannelOptions {
  // Plaintext by default; pass grpc::SslCredentials(...) for TLS.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // The longest the channel waits between attempts to reconnect to a
  // server that went away. gRPC's default (120 s) is far too long for a
  // desktop or gateway that must notice a restarted server at once.
  std::chrono::milliseconds max_reconnect_backoff{2000};
  // HTTP/2 keepalive pings while calls are open, so that a connection that
  // died silently (a NAT, a pulled cable) fails its streams. ccrouted
  // accepts pings every 10 s or more.
  std::chrono::milliseconds keepalive_time{20000};
  std::chrono::milliseconds keepalive_timeout{10000};
  // Metadata sent with every call on the channel, e.g.
  // {"authorization", "Bearer <token>"} for a server that checks tokens.
  // Keys must be lower case.
  std::vector<std::pair<std::string, std::string>> metadata;
};

// A channel to `target` ("host:port", or any gRPC target URI). Never null;
// it connects lazily, on the first call.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& target,
                                          const ChannelOptions& options = {});

}  // namespace ccroute::client

#endif  // CCROUTE_CLIENT_CHANNEL_H_
