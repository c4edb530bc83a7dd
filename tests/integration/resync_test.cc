// Reconciliation after a reconnect or a failover, over loopback against a
// real server: a gateway's Resync, and a desktop's login that declares the
// contacts it holds (also across a restart from the journal).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "google/protobuf/util/time_util.h"
#include "tests/integration/test_server.h"

namespace ccroute::testing {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

v1::CreateContactRequest FromGateway(std::string id, std::string gateway) {
  v1::CreateContactRequest r = NewContact(std::move(id), "sales");
  r.set_gateway_id(std::move(gateway));
  return r;
}

grpc::Status Create(TestServer& server, const v1::CreateContactRequest& r) {
  v1::Contact contact;
  return server.contacts()->CreateContact(Deadline().get(), r, &contact);
}

v1::Contact Get(TestServer& server, const std::string& id) {
  v1::GetContactRequest r;
  r.set_contact_id(id);
  v1::Contact contact;
  EXPECT_TRUE(
      server.contacts()->GetContact(Deadline().get(), r, &contact).ok());
  return contact;
}

grpc::Status Resync(TestServer& server, const v1::ResyncRequest& request,
                    v1::ResyncResponse* response) {
  return server.contacts()->Resync(Deadline().get(), request, response);
}

void Declare(v1::ResyncRequest& request, const std::string& id,
             std::chrono::seconds waited = 0s) {
  v1::ResyncContact* item = request.add_contacts();
  *item->mutable_contact() = NewContact(id, "sales");
  if (waited > 0s) {
    *item->mutable_arrived_at() = TimeUtil::NanosecondsToTimestamp(
        std::chrono::duration_cast<std::chrono::nanoseconds>(
            (std::chrono::system_clock::now() - waited).time_since_epoch())
            .count());
  }
}

std::vector<std::string> Ids(
    const google::protobuf::RepeatedPtrField<v1::Contact>& contacts) {
  std::vector<std::string> out;
  for (const v1::Contact& c : contacts) out.push_back(c.id());
  return out;
}

TEST(ResyncTest, AddsWhatTheServerLacksAndEndsWhatTheGatewayNoLongerHas) {
  TestServer server({Queue("sales")}, {Agent("a1", 60s)});
  for (const char* id : {"talking", "waiting", "hung-up"}) {
    ASSERT_TRUE(Create(server, FromGateway(id, "gw1")).ok());
  }
  ASSERT_TRUE(Create(server, NewContact("no-gateway", "sales")).ok());
  ASSERT_TRUE(Create(server, FromGateway("other", "gw2")).ok());
  Desktop desktop(server, "a1");
  ASSERT_EQ(desktop.Login(), grpc::StatusCode::OK);
  auto offer = desktop.NextOffer();
  ASSERT_TRUE(offer.has_value());
  ASSERT_EQ(offer->contact().id(), "talking");
  ASSERT_EQ(desktop.Accept("talking"), grpc::StatusCode::OK);

  // The gateway failed over: it still has "waiting", and a caller it
  // queued 30 s ago while this server did not hear from it.
  v1::ResyncRequest request;
  request.set_gateway_id("gw1");
  Declare(request, "waiting");
  Declare(request, "rerouted", 30s);
  v1::ResyncContact* lost = request.add_contacts();
  *lost->mutable_contact() = NewContact("nowhere", "no-such-queue");
  v1::ResyncResponse response;
  ASSERT_TRUE(Resync(server, request, &response).ok());

  EXPECT_THAT(Ids(response.added()), ElementsAre("rerouted"));
  EXPECT_THAT(Ids(response.kept()), ElementsAre("waiting"));
  EXPECT_THAT(Ids(response.ended()),
              UnorderedElementsAre("talking", "hung-up"));
  EXPECT_THAT(Ids(response.gone()), IsEmpty());
  ASSERT_EQ(response.refused_size(), 1);
  EXPECT_EQ(response.refused(0).contact_id(), "nowhere");
  EXPECT_EQ(response.refused(0).code(), grpc::StatusCode::NOT_FOUND);

  // The caller that waited elsewhere goes ahead of those who came later.
  v1::Contact rerouted = Get(server, "rerouted");
  EXPECT_EQ(rerouted.position(), 1);
  EXPECT_EQ(rerouted.gateway_id(), "gw1");
  EXPECT_EQ(Get(server, "waiting").position(), 2);
  EXPECT_EQ(Get(server, "no-gateway").position(), 3);
  EXPECT_EQ(Get(server, "hung-up").end_reason(), v1::END_REASON_ABANDONED);
  // The conversation the gateway no longer carries: the agent wraps up.
  EXPECT_EQ(Get(server, "talking").state(), v1::CONTACT_STATE_WRAP_UP);
  auto wrap_up = desktop.NextOf(v1::AgentEvent::kWrapUpStarted);
  ASSERT_TRUE(wrap_up.has_value());
  EXPECT_EQ(wrap_up->wrap_up_started().contact_id(), "talking");
  // Other gateways' contacts and ones without a gateway are untouched.
  EXPECT_EQ(Get(server, "other").state(), v1::CONTACT_STATE_QUEUED);
  EXPECT_EQ(Get(server, "no-gateway").state(), v1::CONTACT_STATE_QUEUED);
  EXPECT_TRUE(server.CheckInvariants().ok());

  // The same declaration again changes nothing.
  v1::ResyncRequest again;
  again.set_gateway_id("gw1");
  Declare(again, "waiting");
  Declare(again, "rerouted");
  ASSERT_TRUE(Resync(server, again, &response).ok());
  EXPECT_THAT(Ids(response.kept()),
              UnorderedElementsAre("waiting", "rerouted"));
  EXPECT_THAT(Ids(response.added()), IsEmpty());
  EXPECT_THAT(Ids(response.ended()), IsEmpty());
}

TEST(ResyncTest, DeclaredContactThatAlreadyEndedIsReportedGone) {
  TestServer server({Queue("sales")}, {});
  ASSERT_TRUE(Create(server, FromGateway("c1", "gw1")).ok());
  v1::CancelContactRequest cancel;
  cancel.set_contact_id("c1");
  v1::Contact out;
  ASSERT_TRUE(
      server.contacts()->CancelContact(Deadline().get(), cancel, &out).ok());
  v1::ResyncRequest request;
  request.set_gateway_id("gw1");
  Declare(request, "c1");
  v1::ResyncResponse response;
  ASSERT_TRUE(Resync(server, request, &response).ok());
  EXPECT_THAT(Ids(response.gone()), ElementsAre("c1"));
  EXPECT_EQ(response.gone(0).state(), v1::CONTACT_STATE_ENDED);
  EXPECT_THAT(Ids(response.added()), IsEmpty());
  EXPECT_EQ(server.LiveContacts(), 0u);
}

TEST(ResyncTest, MalformedDeclarationIsRefusedAndChangesNothing) {
  TestServer server({Queue("sales")}, {});
  ASSERT_TRUE(Create(server, FromGateway("keep-me", "gw1")).ok());
  struct Case {
    const char* name;
    std::function<void(v1::ResyncRequest&)> make;
    const char* message;
  };
  std::vector<Case> cases = {
      {"no gateway", [](v1::ResyncRequest&) {}, "gateway_id is required"},
      {"twice",
       [](v1::ResyncRequest& r) {
         r.set_gateway_id("gw1");
         Declare(r, "new");
         Declare(r, "new");
       },
       "declared twice"},
      {"bad priority",
       [](v1::ResyncRequest& r) {
         r.set_gateway_id("gw1");
         Declare(r, "new");
         Declare(r, "bad");
         r.mutable_contacts(1)->mutable_contact()->set_priority(-4);
       },
       "contacts[1]: contact.priority"},
      {"another gateway's",
       [](v1::ResyncRequest& r) {
         r.set_gateway_id("gw1");
         Declare(r, "new");
         r.mutable_contacts(0)->mutable_contact()->set_gateway_id("gw9");
       },
       "is not the gateway being resynced"},
      {"card number",
       [](v1::ResyncRequest& r) {
         r.set_gateway_id("gw1");
         Declare(r, "new");
         (*r.mutable_contacts(0)
               ->mutable_contact()
               ->mutable_attributes())["note"] = "4111 1111 1111 1111";
       },
       "contacts[0]"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::ResyncRequest request;
    c.make(request);
    v1::ResyncResponse response;
    grpc::Status s = Resync(server, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr(c.message));
    EXPECT_EQ(server.LiveContacts(), 1u);
    EXPECT_EQ(Get(server, "keep-me").state(), v1::CONTACT_STATE_QUEUED);
  }
}

// A desktop logging in again says what it holds; the server brings its own
// view in line.
grpc::StatusCode LoginHolding(Desktop& desktop,
                              const std::vector<std::string>& held) {
  v1::AgentRequest r;
  r.mutable_login()->set_agent_id(desktop.agent_id());
  r.mutable_login()->set_ready(false);
  auto* declared = r.mutable_login()->mutable_held();
  for (const std::string& id : held) declared->add_contact_ids(id);
  return desktop.Send(r);
}

TEST(AgentReloginTest, KeepsWhatTheDesktopHoldsAndReleasesTheRest) {
  api::ServerLimits limits;
  limits.reconnect_grace = 60s;
  TestServer server({Queue("sales")}, {Agent("a1"), Agent("a2")}, limits);
  auto d1 = std::make_unique<Desktop>(server, "a1");
  ASSERT_EQ(d1->Login(), grpc::StatusCode::OK);
  ASSERT_TRUE(Create(server, NewContact("kept", "sales")).ok());
  ASSERT_TRUE(d1->NextOffer().has_value());
  ASSERT_EQ(d1->Accept("kept"), grpc::StatusCode::OK);
  d1->Drop();

  Desktop again(server, "a1");
  ASSERT_EQ(LoginHolding(again, {"kept", "stranger"}), grpc::StatusCode::OK);
  auto reconciled = again.NextOf(v1::AgentEvent::kReconciled);
  ASSERT_TRUE(reconciled.has_value());
  EXPECT_THAT(reconciled->reconciled().kept(), ElementsAre("kept"));
  EXPECT_THAT(reconciled->reconciled().released(), IsEmpty());
  ASSERT_EQ(reconciled->reconciled().refused_size(), 1);
  EXPECT_EQ(reconciled->reconciled().refused(0).contact_id(), "stranger");
  EXPECT_EQ(reconciled->reconciled().refused(0).code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Get(server, "kept").agent_id(), "a1");

  // Logged in again without it: it goes back to its place for another
  // agent.
  ASSERT_TRUE(Create(server, NewContact("later", "sales")).ok());
  again.Drop();
  Desktop third(server, "a1");
  ASSERT_EQ(LoginHolding(third, {}), grpc::StatusCode::OK);
  reconciled = third.NextOf(v1::AgentEvent::kReconciled);
  ASSERT_TRUE(reconciled.has_value());
  EXPECT_THAT(reconciled->reconciled().released(), ElementsAre("kept"));
  v1::Contact back = Get(server, "kept");
  EXPECT_EQ(back.state(), v1::CONTACT_STATE_QUEUED);
  EXPECT_EQ(back.position(), 1);
  Desktop d2(server, "a2");
  ASSERT_EQ(d2.Login(), grpc::StatusCode::OK);
  auto offer = d2.NextOffer();
  ASSERT_TRUE(offer.has_value());
  EXPECT_EQ(offer->contact().id(), "kept");
  EXPECT_TRUE(server.CheckInvariants().ok());
}

TEST(AgentReloginTest, MalformedHeldListIsRefusedBeforeLogin) {
  TestServer server({Queue("sales")}, {Agent("a1")});
  Desktop desktop(server, "a1");
  EXPECT_EQ(LoginHolding(desktop, {"c1", "c1"}),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(desktop.last_ack_message(), HasSubstr("declared twice"));
  EXPECT_EQ(LoginHolding(desktop, {""}), grpc::StatusCode::INVALID_ARGUMENT);
  v1::ListAgentsRequest list;
  v1::ListAgentsResponse agents;
  ASSERT_TRUE(
      server.supervisor()->ListAgents(Deadline().get(), list, &agents).ok());
  ASSERT_EQ(agents.agents_size(), 1);
  EXPECT_EQ(agents.agents(0).state(), v1::AGENT_STATE_OFFLINE);
}

}  // namespace
}  // namespace ccroute::testing
