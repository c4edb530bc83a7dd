// Transport security, authentication, roles, personal data and abuse
// limits against a real server on loopback: TLS and mutual TLS with
// certificates openssl makes at test time, bearer tokens, the role x method
// matrix over every RPC, agents and gateways kept to their own contacts,
// card numbers refused at intake, and the limits that keep one client from
// hurting the others.
#include <gmock/gmock.h>
#include <google/protobuf/descriptor.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include <functional>
#include <future>
#include <map>
#include <set>

#include "server/api/auth.h"
#include "tests/security/secure_server.h"

namespace ccroute::testing {
namespace {

using api::Role;
using grpc::StatusCode;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kGatewayA = "gw-a-0b1d6c3f9e2a4d5b8c7e6f1a2b3c4d5e6f";
const std::string kGatewayB = "gw-b-7e6f1a2b3c4d5e6f0b1d6c3f9e2a4d5b8c";
const std::string kOpenGateway = "gw-open-3c4d5e6f0b1d6c3f9e2a4d5b8c7e6f";
const std::string kAgent1 = "agent-a1-9e2a4d5b8c7e6f1a2b3c4d5e6f0b1d";
const std::string kAgent2 = "agent-a2-4d5e6f0b1d6c3f9e2a4d5b8c7e6f1a";
const std::string kSupervisor = "super-1a2b3c4d5e6f0b1d6c3f9e2a4d5b8c7e";
const std::string kAdmin = "admin-5b8c7e6f1a2b3c4d5e6f0b1d6c3f9e2a4d";
const std::string kUnknown = "nobody-0000000000000000000000000000000000";

api::ResolvedSecurity TokenSecurity() {
  api::ResolvedSecurity s;
  s.auth.enabled = true;
  s.auth.tokens = {
      TokenGrant("gateway-a", kGatewayA, Role::kGateway, "", "site-a"),
      TokenGrant("gateway-b", kGatewayB, Role::kGateway, "", "site-b"),
      TokenGrant("gateway-open", kOpenGateway, Role::kGateway),
      TokenGrant("desk-a1", kAgent1, Role::kAgent, "a1"),
      TokenGrant("desk-a2", kAgent2, Role::kAgent, "a2"),
      TokenGrant("wallboard", kSupervisor, Role::kSupervisor),
      TokenGrant("ops", kAdmin, Role::kAdmin),
  };
  return s;
}

// --- Transport -------------------------------------------------------------

TEST(TlsTest, TlsClientIsServedAndPlaintextClientIsNot) {
  TestCertificates certs;
  ASSERT_TRUE(certs.ok());
  api::ResolvedSecurity security = TokenSecurity();
  security.tls = ServerTls(certs);
  SecureServer server(std::move(security));
  ASSERT_TRUE(server.started());

  EXPECT_TRUE(
      CreateOn(server.Tls(certs), kGatewayA, NewContact("c1", "sales")).ok());
  grpc::Status plain =
      CreateOn(server.Plain(), kGatewayA, NewContact("c2", "sales"));
  EXPECT_EQ(plain.error_code(), StatusCode::UNAVAILABLE)
      << plain.error_message();
  // A client that does not trust the server's CA does not connect either.
  grpc::Status untrusted = CreateOn(server.Tls(certs, "", "other_ca.pem"),
                                    kGatewayA, NewContact("c3", "sales"));
  EXPECT_EQ(untrusted.error_code(), StatusCode::UNAVAILABLE);
  EXPECT_EQ(server.LiveContacts(), 1u);
}

api::ResolvedSecurity MutualTls(const TestCertificates& certs) {
  api::ResolvedSecurity s;
  s.tls = ServerTls(certs, /*client_ca=*/true, /*require=*/true);
  s.auth.enabled = true;
  s.auth.certificates = {
      CertificateGrant("sip-gateway", "gw.example", Role::kGateway),
      CertificateGrant("desk-a1", "desk-a1.example", Role::kAgent, "a1"),
  };
  return s;
}

TEST(MutualTlsTest, ClientCertificateGivesItsPrincipalsRole) {
  TestCertificates certs;
  certs.Client("gw", "gw.example");
  ASSERT_TRUE(certs.ok());
  SecureServer server(MutualTls(certs));
  ASSERT_TRUE(server.started());
  auto channel = server.Tls(certs, "gw");

  EXPECT_TRUE(CreateOn(channel, "", NewContact("c1", "sales")).ok());
  v1::ListAgentsResponse agents;
  grpc::Status s = v1::Supervisor::NewStub(channel)->ListAgents(
      Call().get(), v1::ListAgentsRequest(), &agents);
  EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED);
}

TEST(MutualTlsTest, CertificateNoPrincipalNamesIsUnauthenticated) {
  TestCertificates certs;
  certs.Client("stranger", "stranger.example");
  ASSERT_TRUE(certs.ok());
  SecureServer server(MutualTls(certs));
  ASSERT_TRUE(server.started());
  grpc::Status s =
      CreateOn(server.Tls(certs, "stranger"), "", NewContact("c1", "sales"));
  EXPECT_EQ(s.error_code(), StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(server.LiveContacts(), 0u);
}

TEST(MutualTlsTest, MissingWrongCaAndExpiredClientCertificatesAreRejected) {
  TestCertificates certs;
  certs.Client("gw", "gw.example");
  certs.Client("forged", "gw.example", /*other_ca=*/true);
  certs.ExpiredClient("expired", "gw.example");
  ASSERT_TRUE(certs.ok());
  SecureServer server(MutualTls(certs));
  ASSERT_TRUE(server.started());

  for (const char* client : {"", "forged", "expired"}) {
    grpc::Status s =
        CreateOn(server.Tls(certs, client), "", NewContact("c1", "sales"));
    EXPECT_EQ(s.error_code(), StatusCode::UNAVAILABLE)
        << "client certificate '" << client << "': " << s.error_message();
  }
  EXPECT_EQ(server.LiveContacts(), 0u);
  // The same identity with a valid certificate gets in.
  EXPECT_TRUE(
      CreateOn(server.Tls(certs, "gw"), "", NewContact("c1", "sales")).ok());
}

TEST(MutualTlsTest, OptionalClientCertificateFallsBackToTokens) {
  TestCertificates certs;
  certs.Client("gw", "gw.example");
  ASSERT_TRUE(certs.ok());
  api::ResolvedSecurity security = TokenSecurity();
  security.tls = ServerTls(certs, /*client_ca=*/true, /*require=*/false);
  security.auth.certificates = {
      CertificateGrant("sip-gateway", "gw.example", Role::kGateway)};
  SecureServer server(std::move(security));
  ASSERT_TRUE(server.started());

  EXPECT_TRUE(
      CreateOn(server.Tls(certs, "gw"), "", NewContact("c1", "sales")).ok());
  EXPECT_TRUE(
      CreateOn(server.Tls(certs), kOpenGateway, NewContact("c2", "sales"))
          .ok());
  EXPECT_EQ(
      CreateOn(server.Tls(certs), "", NewContact("c3", "sales")).error_code(),
      StatusCode::UNAUTHENTICATED);
}

// --- Tokens ------------------------------------------------------------------

TEST(TokenTest, MissingUnknownAndMalformedCredentialsAreUnauthenticated) {
  SecureServer server(TokenSecurity());
  ASSERT_TRUE(server.started());
  auto channel = server.Plain();
  auto stub = v1::Contacts::NewStub(channel);
  v1::Contact out;
  auto request = NewContact("c1", "sales");

  EXPECT_EQ(stub->CreateContact(Call().get(), request, &out).error_code(),
            StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(
      stub->CreateContact(Call(kUnknown).get(), request, &out).error_code(),
      StatusCode::UNAUTHENTICATED);
  // A known token with a byte changed.
  std::string changed = kGatewayA;
  changed.back() = changed.back() == '0' ? '1' : '0';
  EXPECT_EQ(
      stub->CreateContact(Call(changed).get(), request, &out).error_code(),
      StatusCode::UNAUTHENTICATED);
  for (const std::string& header :
       {"Basic " + kGatewayA, kGatewayA, std::string("Bearer ")}) {
    auto context = Call();
    context->AddMetadata("authorization", header);
    EXPECT_EQ(stub->CreateContact(context.get(), request, &out).error_code(),
              StatusCode::UNAUTHENTICATED)
        << header;
  }
  {
    auto context = Call(kGatewayA);
    context->AddMetadata("authorization", "Bearer " + kGatewayB);
    EXPECT_EQ(stub->CreateContact(context.get(), request, &out).error_code(),
              StatusCode::UNAUTHENTICATED)
        << "two authorization headers";
  }
  EXPECT_EQ(server.LiveContacts(), 0u);
  // The scheme is case-insensitive.
  auto context = Call();
  context->AddMetadata("authorization", "bearer " + kGatewayA);
  EXPECT_TRUE(stub->CreateContact(context.get(), request, &out).ok());
}

TEST(TokenTest, ReflectionIsOffAndHealthIsOpenWithAuthentication) {
  SecureServer server(TokenSecurity());
  ASSERT_TRUE(server.started());
  grpc::GenericStub stub(server.Plain());
  auto call = [&](const std::string& method, const std::string& token) {
    grpc::Slice empty;
    grpc::ByteBuffer request(&empty, 1), response;
    auto context = Call(token);
    std::promise<grpc::Status> done;
    stub.UnaryCall(context.get(), method, grpc::StubOptions(), &request,
                   &response, [&](grpc::Status s) { done.set_value(s); });
    return done.get_future().get();
  };
  EXPECT_TRUE(call("/grpc.health.v1.Health/Check", "").ok());
  grpc::Status reflection = call(
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", kAdmin);
  EXPECT_EQ(reflection.error_code(), StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(call("/ccroute.v1.Admin/ListQueues", "").error_code(),
            StatusCode::UNAUTHENTICATED);
}

TEST(TokenTest, ReflectionIsOnWithoutAuthentication) {
  SecureServer server{api::ResolvedSecurity{}};
  ASSERT_TRUE(server.started());
  grpc::GenericStub stub(server.Plain());
  grpc::Slice empty;
  grpc::ByteBuffer request(&empty, 1), response;
  auto context = Call();
  std::promise<grpc::Status> done;
  stub.UnaryCall(
      context.get(),
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      grpc::StubOptions(), &request, &response,
      [&](grpc::Status s) { done.set_value(s); });
  EXPECT_NE(done.get_future().get().error_code(), StatusCode::UNIMPLEMENTED);
}

// --- The role x method matrix -----------------------------------------------

enum class Caller {
  kNobody,
  kUnknownToken,
  kGateway,
  kAgent,
  kSupervisor,
  kAdmin
};

const std::map<Caller, std::string>& CallerTokens() {
  static const auto* tokens =
      new std::map<Caller, std::string>{{Caller::kNobody, ""},
                                        {Caller::kUnknownToken, kUnknown},
                                        {Caller::kGateway, kOpenGateway},
                                        {Caller::kAgent, kAgent1},
                                        {Caller::kSupervisor, kSupervisor},
                                        {Caller::kAdmin, kAdmin}};
  return *tokens;
}

using Channel = std::shared_ptr<grpc::Channel>;
struct MethodCase {
  std::set<Caller> allowed;
  std::function<grpc::Status(const Channel&, const std::string&)> call;
};

// Every RPC with a request that the roles allowed to make it get past the
// checks with (the answer may still be an error: NOT_FOUND, INVALID_ARGUMENT).
std::map<std::string, MethodCase> Matrix() {
  const std::set<Caller> gateway = {Caller::kGateway};
  const std::set<Caller> gateway_or_agent = {Caller::kGateway, Caller::kAgent};
  const std::set<Caller> supervisor = {Caller::kSupervisor};
  const std::set<Caller> admin = {Caller::kAdmin};
  std::map<std::string, MethodCase> m;
  auto contacts = [](const Channel& ch) { return v1::Contacts::NewStub(ch); };
  auto supervisors = [](const Channel& ch) {
    return v1::Supervisor::NewStub(ch);
  };
  auto admins = [](const Channel& ch) { return v1::Admin::NewStub(ch); };

  m["/ccroute.v1.Contacts/CreateContact"] = {
      gateway, [=](const Channel& ch, const std::string& t) {
        v1::Contact r;
        return contacts(ch)->CreateContact(Call(t).get(),
                                           v1::CreateContactRequest(), &r);
      }};
  m["/ccroute.v1.Contacts/ScheduleCallback"] = {
      gateway, [=](const Channel& ch, const std::string& t) {
        v1::Contact r;
        return contacts(ch)->ScheduleCallback(
            Call(t).get(), v1::ScheduleCallbackRequest(), &r);
      }};
  m["/ccroute.v1.Contacts/GetContact"] = {
      gateway_or_agent, [=](const Channel& ch, const std::string& t) {
        v1::GetContactRequest q;
        q.set_contact_id("no-such-contact");
        v1::Contact r;
        return contacts(ch)->GetContact(Call(t).get(), q, &r);
      }};
  m["/ccroute.v1.Contacts/CancelContact"] = {
      gateway, [=](const Channel& ch, const std::string& t) {
        v1::CancelContactRequest q;
        q.set_contact_id("no-such-contact");
        v1::Contact r;
        return contacts(ch)->CancelContact(Call(t).get(), q, &r);
      }};
  m["/ccroute.v1.Contacts/Resync"] = {
      gateway, [=](const Channel& ch, const std::string& t) {
        v1::ResyncRequest q;
        v1::ResyncResponse r;
        return contacts(ch)->Resync(Call(t).get(), q, &r);
      }};
  m["/ccroute.v1.Contacts/UpdateContact"] = {
      gateway, [=](const Channel& ch, const std::string& t) {
        v1::UpdateContactRequest q;
        q.set_contact_id("no-such-contact");
        q.set_priority(3);
        v1::Contact r;
        return contacts(ch)->UpdateContact(Call(t).get(), q, &r);
      }};
  m["/ccroute.v1.Contacts/WatchContact"] = {
      gateway_or_agent, [=](const Channel& ch, const std::string& t) {
        v1::WatchContactRequest q;
        q.set_contact_id("no-such-contact");
        auto stub = contacts(ch);
        auto context = Call(t);
        auto reader = stub->WatchContact(context.get(), q);
        v1::ContactUpdate u;
        while (reader->Read(&u)) {
        }
        return reader->Finish();
      }};
  m["/ccroute.v1.Agents/Connect"] = {
      {Caller::kAgent}, [=](const Channel& ch, const std::string& t) {
        auto stub = v1::Agents::NewStub(ch);
        auto context = Call(t);
        auto stream = stub->Connect(context.get());
        stream->WritesDone();
        v1::AgentEvent e;
        while (stream->Read(&e)) {
        }
        return stream->Finish();
      }};
  m["/ccroute.v1.Supervisor/GetQueueStats"] = {
      supervisor, [=](const Channel& ch, const std::string& t) {
        v1::GetQueueStatsRequest q;
        q.set_queue("sales");
        v1::QueueStats r;
        return supervisors(ch)->GetQueueStats(Call(t).get(), q, &r);
      }};
  m["/ccroute.v1.Supervisor/ListQueueStats"] = {
      supervisor, [=](const Channel& ch, const std::string& t) {
        v1::ListQueueStatsResponse r;
        return supervisors(ch)->ListQueueStats(Call(t).get(),
                                               v1::ListQueueStatsRequest(), &r);
      }};
  m["/ccroute.v1.Supervisor/ListAgents"] = {
      supervisor, [=](const Channel& ch, const std::string& t) {
        v1::ListAgentsResponse r;
        return supervisors(ch)->ListAgents(Call(t).get(),
                                           v1::ListAgentsRequest(), &r);
      }};
  m["/ccroute.v1.Supervisor/SetAgentState"] = {
      supervisor, [=](const Channel& ch, const std::string& t) {
        v1::SetAgentStateRequest q;
        q.set_agent_id("a2");
        q.set_state(v1::AGENT_STATE_OFFLINE);
        v1::AgentStats r;
        return supervisors(ch)->SetAgentState(Call(t).get(), q, &r);
      }};
  m["/ccroute.v1.Supervisor/WatchEvents"] = {
      supervisor, [=](const Channel& ch, const std::string& t) {
        v1::WatchEventsRequest q;
        q.add_kinds("no_such_kind");
        auto stub = supervisors(ch);
        auto context = Call(t);
        auto reader = stub->WatchEvents(context.get(), q);
        v1::Event e;
        while (reader->Read(&e)) {
        }
        return reader->Finish();
      }};
  m["/ccroute.v1.Admin/UpsertQueue"] = {
      admin, [=](const Channel& ch, const std::string& t) {
        v1::Queue q;
        q.set_name("matrix");
        v1::Queue r;
        return admins(ch)->UpsertQueue(Call(t).get(), q, &r);
      }};
  m["/ccroute.v1.Admin/DeleteQueue"] = {
      admin, [=](const Channel& ch, const std::string& t) {
        v1::DeleteQueueRequest q;
        q.set_name("no-such-queue");
        v1::DeleteQueueResponse r;
        return admins(ch)->DeleteQueue(Call(t).get(), q, &r);
      }};
  m["/ccroute.v1.Admin/ListQueues"] = {
      admin, [=](const Channel& ch, const std::string& t) {
        v1::ListQueuesResponse r;
        return admins(ch)->ListQueues(Call(t).get(), v1::ListQueuesRequest(),
                                      &r);
      }};
  m["/ccroute.v1.Admin/UpsertAgentProfile"] = {
      admin, [=](const Channel& ch, const std::string& t) {
        v1::AgentProfile q;
        q.set_id("matrix-agent");
        v1::AgentProfile r;
        return admins(ch)->UpsertAgentProfile(Call(t).get(), q, &r);
      }};
  m["/ccroute.v1.Admin/DeleteAgentProfile"] = {
      admin, [=](const Channel& ch, const std::string& t) {
        v1::DeleteAgentProfileRequest q;
        q.set_id("no-such-agent");
        v1::DeleteAgentProfileResponse r;
        return admins(ch)->DeleteAgentProfile(Call(t).get(), q, &r);
      }};
  m["/ccroute.v1.Admin/ListAgentProfiles"] = {
      admin, [=](const Channel& ch, const std::string& t) {
        v1::ListAgentProfilesResponse r;
        return admins(ch)->ListAgentProfiles(
            Call(t).get(), v1::ListAgentProfilesRequest(), &r);
      }};
  m["/ccroute.v1.Admin/GetRoutingPolicy"] = {
      admin, [=](const Channel& ch, const std::string& t) {
        v1::RoutingPolicy r;
        return admins(ch)->GetRoutingPolicy(Call(t).get(),
                                            v1::GetRoutingPolicyRequest(), &r);
      }};
  m["/ccroute.v1.Admin/SetRoutingPolicy"] = {
      admin, [=](const Channel& ch, const std::string& t) {
        v1::RoutingPolicy q;
        q.set_contact_selection("service_level");
        v1::RoutingPolicy r;
        return admins(ch)->SetRoutingPolicy(Call(t).get(), q, &r);
      }};
  return m;
}

// Every method of every ccroute.v1 service, from the protos themselves.
std::set<std::string> ServiceMethods() {
  std::set<std::string> out;
  for (const char* service :
       {v1::Contacts::service_full_name(), v1::Agents::service_full_name(),
        v1::Supervisor::service_full_name(), v1::Admin::service_full_name()}) {
    const auto* d =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            service);
    EXPECT_NE(d, nullptr) << service;
    if (d == nullptr) continue;
    for (int i = 0; i < d->method_count(); ++i) {
      out.insert("/" + d->full_name() + "/" + d->method(i)->name());
    }
  }
  return out;
}

TEST(RoleMatrixTest, TheMatrixAndTheTableCoverEveryRpc) {
  std::set<std::string> methods = ServiceMethods();
  EXPECT_EQ(methods.size(), 21u);
  std::set<std::string> matrix;
  for (const auto& [name, c] : Matrix()) matrix.insert(name);
  EXPECT_EQ(matrix, methods) << "a new RPC needs a row in the matrix";
  std::set<std::string> table;
  for (std::string_view m : api::TableMethods()) table.emplace(m);
  EXPECT_EQ(table, methods) << "a new RPC needs a row in the role table";
  EXPECT_EQ(api::RolesAllowed("/ccroute.v1.Contacts/NotAMethod"), 0);
}

TEST(RoleMatrixTest, EveryRoleOnEveryRpc) {
  SecureServer server(TokenSecurity());
  ASSERT_TRUE(server.started());
  auto channel = server.Plain();
  int calls = 0;
  for (const auto& [method, c] : Matrix()) {
    for (const auto& [caller, token] : CallerTokens()) {
      grpc::Status s = c.call(channel, token);
      ++calls;
      std::string where =
          method + " as caller " + std::to_string(static_cast<int>(caller)) +
          ": " + std::to_string(s.error_code()) + " " + s.error_message();
      if (caller == Caller::kNobody || caller == Caller::kUnknownToken) {
        EXPECT_EQ(s.error_code(), StatusCode::UNAUTHENTICATED) << where;
      } else if (c.allowed.contains(caller)) {
        EXPECT_NE(s.error_code(), StatusCode::UNAUTHENTICATED) << where;
        EXPECT_NE(s.error_code(), StatusCode::PERMISSION_DENIED) << where;
        EXPECT_NE(s.error_code(), StatusCode::DEADLINE_EXCEEDED) << where;
      } else {
        EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED) << where;
      }
    }
  }
  EXPECT_EQ(calls, 21 * 6);
}

// --- Agents and gateways kept to their own ----------------------------------

TEST(AgentAccessTest, AnAgentTokenLogsInAsItsOwnAgentOnly) {
  SecureServer server(TokenSecurity());
  ASSERT_TRUE(server.started());
  TokenDesktop desk(server.Plain(), kAgent1);
  EXPECT_EQ(desk.Login("a2"), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(desk.Login("a1"), StatusCode::OK);
}

TEST(AgentAccessTest, AnAgentCannotTakeAnotherAgentsOfferOrContact) {
  SecureServer server(TokenSecurity());
  ASSERT_TRUE(server.started());
  TokenDesktop d1(server.Plain(), kAgent1);
  ASSERT_EQ(d1.Login("a1"), StatusCode::OK);
  ASSERT_TRUE(
      CreateOn(server.Plain(), kOpenGateway, NewContact("c1", "sales")).ok());
  auto offer = d1.NextOffer();
  ASSERT_TRUE(offer.has_value());
  ASSERT_EQ(offer->contact().id(), "c1");

  TokenDesktop d2(server.Plain(), kAgent2);
  ASSERT_EQ(d2.Login("a2"), StatusCode::OK);
  EXPECT_EQ(d2.Accept("c1"), StatusCode::PERMISSION_DENIED);
  auto contacts = v1::Contacts::NewStub(server.Plain());
  v1::GetContactRequest get;
  get.set_contact_id("c1");
  v1::Contact seen;
  EXPECT_EQ(contacts->GetContact(Call(kAgent2).get(), get, &seen).error_code(),
            StatusCode::PERMISSION_DENIED);
  v1::WatchContactRequest watch;
  watch.set_contact_id("c1");
  {
    auto context = Call(kAgent2);
    auto reader = contacts->WatchContact(context.get(), watch);
    v1::ContactUpdate update;
    EXPECT_FALSE(reader->Read(&update));
    EXPECT_EQ(reader->Finish().error_code(), StatusCode::PERMISSION_DENIED);
  }

  // The agent it was offered to sees it and takes it.
  EXPECT_TRUE(contacts->GetContact(Call(kAgent1).get(), get, &seen).ok());
  EXPECT_EQ(d1.Accept("c1"), StatusCode::OK);
  EXPECT_TRUE(contacts->GetContact(Call(kAgent1).get(), get, &seen).ok());
  EXPECT_EQ(seen.state(), v1::CONTACT_STATE_ASSIGNED);
}

TEST(GatewayAccessTest, SeparatedGatewaysCannotTouchEachOthersContacts) {
  SecureServer server(TokenSecurity());
  ASSERT_TRUE(server.started());
  auto channel = server.Plain();
  auto stub = v1::Contacts::NewStub(channel);
  ASSERT_TRUE(CreateOn(channel, kGatewayA, NewContact("a-1", "sales")).ok());

  v1::Contact out;
  v1::CancelContactRequest cancel;
  cancel.set_contact_id("a-1");
  EXPECT_EQ(
      stub->CancelContact(Call(kGatewayB).get(), cancel, &out).error_code(),
      StatusCode::PERMISSION_DENIED);
  v1::UpdateContactRequest update;
  update.set_contact_id("a-1");
  update.set_priority(5);
  EXPECT_EQ(
      stub->UpdateContact(Call(kGatewayB).get(), update, &out).error_code(),
      StatusCode::PERMISSION_DENIED);
  v1::GetContactRequest get;
  get.set_contact_id("a-1");
  EXPECT_EQ(stub->GetContact(Call(kGatewayB).get(), get, &out).error_code(),
            StatusCode::PERMISSION_DENIED);
  {
    v1::WatchContactRequest watch;
    watch.set_contact_id("a-1");
    auto context = Call(kGatewayB);
    auto reader = stub->WatchContact(context.get(), watch);
    v1::ContactUpdate seen;
    EXPECT_FALSE(reader->Read(&seen));
    EXPECT_EQ(reader->Finish().error_code(), StatusCode::PERMISSION_DENIED);
  }
  // A "retry" under another gateway's contact id returns nothing of it.
  EXPECT_EQ(CreateOn(channel, kGatewayB, NewContact("a-1", "sales"), &out)
                .error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(out.id().empty());
  // A gateway without a gateway_id is not kept apart: it reaches every
  // contact.
  EXPECT_EQ(
      stub->CancelContact(Call(kOpenGateway).get(), cancel, &out).error_code(),
      StatusCode::OK)
      << "gateways without a gateway_id are not separated";

  ASSERT_TRUE(CreateOn(channel, kGatewayA, NewContact("a-2", "sales")).ok());
  get.set_contact_id("a-2");
  EXPECT_TRUE(stub->GetContact(Call(kGatewayA).get(), get, &out).ok());
  update.set_contact_id("a-2");
  EXPECT_TRUE(stub->UpdateContact(Call(kGatewayA).get(), update, &out).ok());
  cancel.set_contact_id("a-2");
  EXPECT_EQ(
      stub->CancelContact(Call(kGatewayB).get(), cancel, &out).error_code(),
      StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(stub->CancelContact(Call(kGatewayA).get(), cancel, &out).ok());
  EXPECT_EQ(out.state(), v1::CONTACT_STATE_ENDED);
}

TEST(GatewayAccessTest, SeparatedGatewayCannotTouchAnUnseparatedOnesContact) {
  SecureServer server(TokenSecurity());
  ASSERT_TRUE(server.started());
  auto channel = server.Plain();
  ASSERT_TRUE(CreateOn(channel, kOpenGateway, NewContact("o-1", "sales")).ok());
  v1::CancelContactRequest cancel;
  cancel.set_contact_id("o-1");
  v1::Contact out;
  EXPECT_EQ(v1::Contacts::NewStub(channel)
                ->CancelContact(Call(kGatewayA).get(), cancel, &out)
                .error_code(),
            StatusCode::PERMISSION_DENIED);
}

// --- Card numbers ------------------------------------------------------------

TEST(CardNumberTest, AttributesHoldingCardNumbersAreRefusedAtIntake) {
  SecureServer server(TokenSecurity());
  ASSERT_TRUE(server.started());
  auto channel = server.Plain();
  for (std::string card :
       {"4111111111111111", "4111 1111 1111 1111", "5555-5555-5555-4444",
        "card 378282246310005 exp 12/29", "6011000990139424"}) {
    auto request = NewContact("c1", "sales");
    (*request.mutable_attributes())["lang"] = "en";
    (*request.mutable_attributes())["note"] = card;
    grpc::Status s = CreateOn(channel, kOpenGateway, request);
    EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << card;
    EXPECT_THAT(s.error_message(), HasSubstr("'note'"));
    EXPECT_THAT(s.error_message(), Not(HasSubstr(card)));
    EXPECT_THAT(s.error_message(), Not(HasSubstr("1111")));

    v1::ScheduleCallbackRequest callback;
    callback.set_contact_id("cb1");
    callback.set_queue("sales");
    *callback.mutable_not_before() = google::protobuf::Timestamp();
    callback.mutable_not_before()->set_seconds(
        std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count() +
        3600);
    (*callback.mutable_attributes())["pan"] = card;
    v1::Contact out;
    s = v1::Contacts::NewStub(channel)->ScheduleCallback(
        Call(kOpenGateway).get(), callback, &out);
    EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << card;
    EXPECT_THAT(s.error_message(), HasSubstr("'pan'"));
  }
  EXPECT_EQ(server.LiveContacts(), 0u);

  // Phone numbers (this one's 13 digits pass the Luhn check, but a '+'
  // makes it E.164) and a 16-digit number failing the Luhn check pass.
  auto request = NewContact("c2", "sales");
  (*request.mutable_attributes())["phone"] = "+8613912345677";
  (*request.mutable_attributes())["ani"] = "+1 415 555 0100";
  (*request.mutable_attributes())["order"] = "4111111111111112";
  EXPECT_TRUE(CreateOn(channel, kOpenGateway, request).ok());
}

// --- Abuse limits
// -------------------------------------------------------------

TEST(LimitsTest, OversizedMessageIsRefused) {
  api::ServerLimits limits;
  limits.max_message_bytes = 4096;
  SecureServer server(TokenSecurity(), limits);
  ASSERT_TRUE(server.started());
  auto request = NewContact("big", "sales");
  request.set_customer_id(std::string(8000, 'x'));
  grpc::Status s = CreateOn(server.Plain(), kOpenGateway, request);
  EXPECT_EQ(s.error_code(), StatusCode::RESOURCE_EXHAUSTED)
      << s.error_message();
  EXPECT_EQ(server.LiveContacts(), 0u);
  EXPECT_TRUE(
      CreateOn(server.Plain(), kOpenGateway, NewContact("small", "sales"))
          .ok());
}

TEST(LimitsTest, ContactCreationRateIsLimitedPerClient) {
  api::ServerLimits limits;
  limits.contact_rate_per_second = 0.001;  // no refill within the test
  limits.contact_rate_burst = 3;
  SecureServer server(TokenSecurity(), limits);
  ASSERT_TRUE(server.started());
  auto channel = server.Plain();
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(CreateOn(channel, kGatewayA,
                         NewContact("a" + std::to_string(i), "sales"))
                    .ok());
  }
  grpc::Status s = CreateOn(channel, kGatewayA, NewContact("a3", "sales"));
  EXPECT_EQ(s.error_code(), StatusCode::RESOURCE_EXHAUSTED);
  // Another client has its own budget.
  EXPECT_TRUE(CreateOn(channel, kGatewayB, NewContact("b0", "sales")).ok());
  EXPECT_EQ(server.LiveContacts(), 4u);
}

TEST(LimitsTest, ContactCreationRateIsPerPeerWithoutAuthentication) {
  api::ServerLimits limits;
  limits.contact_rate_per_second = 0.001;
  limits.contact_rate_burst = 2;
  SecureServer server(api::ResolvedSecurity{}, limits);
  ASSERT_TRUE(server.started());
  auto channel = server.Plain();
  EXPECT_TRUE(CreateOn(channel, "", NewContact("c0", "sales")).ok());
  EXPECT_TRUE(CreateOn(channel, "", NewContact("c1", "sales")).ok());
  EXPECT_EQ(
      CreateOn(server.Plain(), "", NewContact("c2", "sales")).error_code(),
      StatusCode::RESOURCE_EXHAUSTED)
      << "a new connection from the same address shares the budget";
}

// A contact watch on `channel`; whether its snapshot arrived.
class Watch {
 public:
  Watch(const Channel& channel, const std::string& token,
        const std::string& contact, std::chrono::milliseconds deadline = kWait)
      : stub_(v1::Contacts::NewStub(channel)), context_(Call(token, deadline)) {
    v1::WatchContactRequest request;
    request.set_contact_id(contact);
    reader_ = stub_->WatchContact(context_.get(), request);
  }
  ~Watch() {
    context_->TryCancel();
    Finish();
  }
  bool Snapshot() {
    v1::ContactUpdate u;
    return reader_->Read(&u) && u.change() == "snapshot";
  }
  // Reads to the end of the stream; its status (once; later calls return
  // it again).
  grpc::Status Finish() {
    if (!finished_) {
      v1::ContactUpdate u;
      while (reader_->Read(&u)) {
      }
      finished_ = reader_->Finish();
    }
    return *finished_;
  }

 private:
  std::unique_ptr<v1::Contacts::Stub> stub_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReader<v1::ContactUpdate>> reader_;
  std::optional<grpc::Status> finished_;
};

TEST(LimitsTest, ConcurrentStreamsPerConnectionAreCapped) {
  api::ServerLimits limits;
  limits.max_concurrent_streams = 2;
  SecureServer server(TokenSecurity(), limits);
  ASSERT_TRUE(server.started());
  auto channel = server.Plain();
  for (const char* id : {"c1", "c2", "c3"}) {
    ASSERT_TRUE(CreateOn(channel, kOpenGateway, NewContact(id, "sales")).ok());
  }
  auto first = std::make_unique<Watch>(channel, kOpenGateway, "c1");
  ASSERT_TRUE(first->Snapshot());
  Watch second(channel, kOpenGateway, "c2");
  ASSERT_TRUE(second.Snapshot());
  {
    // A third stream on the same connection never starts while two are
    // open, however long it waits.
    Watch third(channel, kOpenGateway, "c3", std::chrono::milliseconds(1500));
    EXPECT_FALSE(third.Snapshot());
    EXPECT_FALSE(third.Finish().ok());
  }
  // Another connection is not held back.
  Watch elsewhere(server.Plain(), kOpenGateway, "c3");
  EXPECT_TRUE(elsewhere.Snapshot());
  // Once one stream ends, the connection takes another.
  first.reset();
  Watch fourth(channel, kOpenGateway, "c3");
  EXPECT_TRUE(fourth.Snapshot());
}

TEST(LimitsTest, PingFloodGetsGoaway) {
  SecureServer server(TokenSecurity());
  ASSERT_TRUE(server.started());
  ASSERT_TRUE(
      CreateOn(server.Plain(), kOpenGateway, NewContact("c1", "sales")).ok());
  // A client that pings every 20 ms, data or not: the server allows one
  // ping per 10 s without data, and sends GOAWAY after two strikes.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetInt(GRPC_ARG_HTTP2_MIN_SENT_PING_INTERVAL_WITHOUT_DATA_MS, 10);
  auto flooding = server.Plain(args);
  Watch watch(flooding, kOpenGateway, "c1", 3 * kWait);
  ASSERT_TRUE(watch.Snapshot());
  // The contact never changes: only the GOAWAY can end this stream.
  grpc::Status s = watch.Finish();
  EXPECT_EQ(s.error_code(), StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("Too many pings"));
  // The server itself is fine.
  EXPECT_TRUE(
      CreateOn(server.Plain(), kOpenGateway, NewContact("c2", "sales")).ok());
}

// --- Audit trail
// ---------------------------------------------------------------

TEST(AuditTest, AdminChangesAreRecordedWithWhoWhatAndWhen) {
  std::string path = ::testing::TempDir() + "ccroute-audit-" +
                     std::to_string(getpid()) + ".log";
  std::filesystem::remove(path);
  api::ResolvedSecurity security = TokenSecurity();
  security.audit_log_file = path;
  SecureServer server(std::move(security));
  ASSERT_TRUE(server.started());
  auto admin = v1::Admin::NewStub(server.Plain());
  v1::Queue queue;
  queue.set_name("vip");
  v1::Queue upserted;
  ASSERT_TRUE(admin->UpsertQueue(Call(kAdmin).get(), queue, &upserted).ok());
  v1::DeleteQueueRequest del;
  del.set_name("no-such-queue");
  v1::DeleteQueueResponse deleted;
  EXPECT_EQ(admin->DeleteQueue(Call(kAdmin).get(), del, &deleted).error_code(),
            StatusCode::NOT_FOUND);
  // Refused callers change nothing and are not in the trail.
  EXPECT_EQ(admin->UpsertQueue(Call(kSupervisor).get(), queue, &upserted)
                .error_code(),
            StatusCode::PERMISSION_DENIED);
  v1::ListQueuesResponse listed;
  ASSERT_TRUE(
      admin->ListQueues(Call(kAdmin).get(), v1::ListQueuesRequest(), &listed)
          .ok());
  v1::SetAgentStateRequest force;
  force.set_agent_id("a1");
  force.set_state(v1::AGENT_STATE_OFFLINE);
  v1::AgentStats stats;
  v1::Supervisor::NewStub(server.Plain())
      ->SetAgentState(Call(kSupervisor).get(), force, &stats);

  std::string trail = ReadText(path);
  std::filesystem::remove(path);
  std::vector<std::string> lines;
  std::istringstream in(trail);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u) << trail;
  EXPECT_THAT(
      lines[0],
      ::testing::MatchesRegex(
          R"(\{"ts":"20[0-9-]+T[0-9:.]+Z","level":"info","event":"audit",)"
          R"("principal":"ops","role":"admin",)"
          R"("method":"/ccroute.v1.Admin/UpsertQueue",)"
          R"("object":"vip","code":"OK"\})"));
  EXPECT_THAT(lines[1],
              HasSubstr(R"("object":"no-such-queue","code":"NOT_FOUND")"));
  EXPECT_THAT(lines[2],
              HasSubstr(R"("principal":"wallboard","role":"supervisor")"));
  EXPECT_THAT(
      lines[2],
      HasSubstr(
          R"("method":"/ccroute.v1.Supervisor/SetAgentState","object":"a1")"));
}

}  // namespace
}  // namespace ccroute::testing
