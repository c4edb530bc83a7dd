// A ccroute server on 127.0.0.1:0 with the security settings a test gives,
// and clients that present bearer tokens or client certificates. Every wait
// is bounded.
#ifndef CCROUTE_TESTS_SECURITY_SECURE_SERVER_H_
#define CCROUTE_TESTS_SECURITY_SECURE_SERVER_H_

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "ccroute/v1/admin.grpc.pb.h"
#include "ccroute/v1/agents.grpc.pb.h"
#include "ccroute/v1/contacts.grpc.pb.h"
#include "ccroute/v1/supervisor.grpc.pb.h"
#include "server/api/server.h"
#include "tests/integration/test_server.h"
#include "tests/security/certs.h"

namespace ccroute::testing {

// A token grant as the tokens file would give it.
inline api::Grant TokenGrant(std::string name, const std::string& token,
                             api::Role role, std::string agent_id = "",
                             std::string gateway_id = "") {
  api::Grant g;
  g.name = std::move(name);
  g.role = role;
  g.agent_id = std::move(agent_id);
  g.gateway_id = std::move(gateway_id);
  g.token_sha256 = api::Sha256(token);
  return g;
}

inline api::Grant CertificateGrant(std::string name, std::string identity,
                                   api::Role role, std::string agent_id = "",
                                   std::string gateway_id = "") {
  api::Grant g;
  g.name = std::move(name);
  g.identity = std::move(identity);
  g.role = role;
  g.agent_id = std::move(agent_id);
  g.gateway_id = std::move(gateway_id);
  return g;
}

// Server TLS from the test certificates; `client_ca`: ask for client
// certificates signed by the test CA; `require`: refuse connections
// without one.
inline api::TlsSettings ServerTls(const TestCertificates& certs,
                                  bool client_ca = false,
                                  bool require = false) {
  api::TlsSettings tls;
  tls.cert_chain_pem = certs.Pem("server.pem");
  tls.private_key_pem = certs.Pem("server.key");
  if (client_ca) tls.client_ca_pem = certs.Pem("ca.pem");
  tls.require_client_cert = require;
  return tls;
}

class SecureServer {
 public:
  explicit SecureServer(
      api::ResolvedSecurity security, api::ServerLimits limits = {},
      std::vector<core::QueueConfig> queues = {Queue("sales")},
      std::vector<core::AgentProfile> agents = {Agent("a1"), Agent("a2")}) {
    api::ResolvedConfig config;
    config.listen = "127.0.0.1:0";
    config.queues = std::move(queues);
    config.agents = std::move(agents);
    config.server_limits = limits;
    config.security = std::move(security);
    auto server = api::Server::Start(config);
    EXPECT_TRUE(server.ok()) << server.status();
    if (server.ok()) server_ = *std::move(server);
  }

  bool started() const { return server_ != nullptr; }
  api::Server& server() { return *server_; }
  std::string address() const {
    return "127.0.0.1:" + std::to_string(server_->port());
  }

  // A plaintext channel on a connection of its own.
  std::shared_ptr<grpc::Channel> Plain(grpc::ChannelArguments args = {}) {
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(address(),
                                     grpc::InsecureChannelCredentials(), args);
  }
  // A TLS channel trusting the test CA, presenting client certificate
  // `client` (`client`.pem and .key) unless it is empty.
  std::shared_ptr<grpc::Channel> Tls(const TestCertificates& certs,
                                     const std::string& client = "",
                                     const std::string& trust = "ca.pem") {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = certs.Pem(trust);
    if (!client.empty()) {
      options.pem_cert_chain = certs.Pem(client + ".pem");
      options.pem_private_key = certs.Pem(client + ".key");
    }
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetSslTargetNameOverride("localhost");
    return grpc::CreateCustomChannel(address(), grpc::SslCredentials(options),
                                     args);
  }

  size_t LiveContacts() { return LiveContactsOf(*server_); }

 private:
  std::unique_ptr<api::Server> server_;
};

// A client context with the test deadline and, if `token` is not empty,
// `authorization: Bearer <token>`.
inline std::unique_ptr<grpc::ClientContext> Call(
    const std::string& token = "", std::chrono::milliseconds timeout = kWait) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  return context;
}

inline grpc::Status CreateOn(const std::shared_ptr<grpc::Channel>& channel,
                             const std::string& token,
                             const v1::CreateContactRequest& request,
                             v1::Contact* out = nullptr) {
  v1::Contact contact;
  grpc::Status s = v1::Contacts::NewStub(channel)->CreateContact(
      Call(token).get(), request, &contact);
  if (out != nullptr) *out = contact;
  return s;
}

// An agent desktop stream that authenticates with `token`.
class TokenDesktop {
 public:
  TokenDesktop(std::shared_ptr<grpc::Channel> channel, const std::string& token)
      : channel_(std::move(channel)), stub_(v1::Agents::NewStub(channel_)) {
    context_.set_deadline(std::chrono::system_clock::now() + 4 * kWait);
    if (!token.empty()) {
      context_.AddMetadata("authorization", "Bearer " + token);
    }
    stream_ = stub_->Connect(&context_);
    reader_ = std::thread([this] {
      v1::AgentEvent event;
      while (stream_->Read(&event)) events_.Push(event);
      events_.Push(v1::AgentEvent());  // end of stream
    });
  }
  ~TokenDesktop() {
    context_.TryCancel();
    reader_.join();
  }

  // Sends `request` and waits for its Ack; the ack (code UNAVAILABLE when
  // the stream ended first, DEADLINE_EXCEEDED when none came).
  v1::AgentEvent::Ack Send(v1::AgentRequest request) {
    std::string id = "r" + std::to_string(++next_);
    request.set_request_id(id);
    v1::AgentEvent::Ack ack;
    if (!stream_->Write(request)) {
      ack.set_code(grpc::StatusCode::UNAVAILABLE);
      return ack;
    }
    auto e = events_.Take(
        [&](const v1::AgentEvent& e) {
          return (e.has_ack() && e.ack().request_id() == id) ||
                 e.event_case() == v1::AgentEvent::EVENT_NOT_SET;
        },
        kWait);
    if (!e) {
      ack.set_code(grpc::StatusCode::DEADLINE_EXCEEDED);
    } else if (!e->has_ack()) {
      events_.Push(*e);
      ack.set_code(grpc::StatusCode::UNAVAILABLE);
    } else {
      ack = e->ack();
    }
    return ack;
  }
  grpc::StatusCode Login(const std::string& agent) {
    v1::AgentRequest r;
    r.mutable_login()->set_agent_id(agent);
    r.mutable_login()->set_ready(true);
    return static_cast<grpc::StatusCode>(Send(r).code());
  }
  grpc::StatusCode Accept(const std::string& contact) {
    v1::AgentRequest r;
    r.mutable_accept()->set_contact_id(contact);
    return static_cast<grpc::StatusCode>(Send(r).code());
  }
  std::optional<v1::AgentEvent::Offer> NextOffer() {
    auto e = events_.Take([](const v1::AgentEvent& e) { return e.has_offer(); },
                          kWait);
    if (!e) return std::nullopt;
    return e->offer();
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Agents::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::AgentRequest, v1::AgentEvent>>
      stream_;
  BlockingQueue<v1::AgentEvent> events_;
  std::thread reader_;
  int next_ = 0;
};

}  // namespace ccroute::testing

#endif  // CCROUTE_TESTS_SECURITY_SECURE_SERVER_H_
