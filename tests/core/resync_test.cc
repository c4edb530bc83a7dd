// What the engine offers for reconciling after a reconnect or a failover:
// contacts owned by a gateway, created with an earlier arrival time, and
// reclaimed by an agent whose accept was lost.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/core/engine.h"
#include "tests/core/engine_test_util.h"

namespace ccroute::core {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using testing::EngineHarness;
using ::testing::IsEmpty;
using testing::MakeAgent;
using testing::MakeContact;
using testing::MakeQueue;

ContactRequest FromGateway(std::string id, std::string gateway,
                           std::string queue = "sales") {
  ContactRequest r = MakeContact(std::move(id), std::move(queue));
  r.gateway = std::move(gateway);
  return r;
}

TEST(GatewayContactsTest, LiveContactsOfListsAGatewaysOwnInCreationOrder) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  ASSERT_TRUE(h.Create(FromGateway("b-1", "site-b")).ok());
  ASSERT_TRUE(h.Create(FromGateway("a-2", "site-a")).ok());
  ASSERT_TRUE(h.Create(FromGateway("a-1", "site-a")).ok());
  ASSERT_TRUE(h.Create(MakeContact("none", "sales")).ok());
  EXPECT_THAT(h.engine().LiveContactsOf("site-a"), ElementsAre("a-2", "a-1"));
  EXPECT_THAT(h.engine().LiveContactsOf(""), ElementsAre("none"));
  EXPECT_EQ(h.Get("a-1").gateway, "site-a");

  ASSERT_TRUE(
      h.engine().CancelContact("a-2", EndReason::kAbandoned, h.now()).ok());
  EXPECT_THAT(h.engine().LiveContactsOf("site-a"), ElementsAre("a-1"));
  // The ended contact remembers its gateway.
  EXPECT_EQ(h.Get("a-2").gateway, "site-a");
  EXPECT_THAT(h.engine().LiveContactsOf("site-c"), IsEmpty());
}

TEST(GatewayContactsTest, GatewayIdIsValidated) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  auto v = h.Create(FromGateway("c1", std::string(300, 'g')));
  ASSERT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(v.status().message(), ::testing::HasSubstr("gateway_id"));
  EXPECT_EQ(h.engine().live_contacts(), 0u);
}

TEST(ArrivedAtTest, EarlierArrivalTakesItsPlaceAheadOfLaterContacts) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  ASSERT_TRUE(h.Create(MakeContact("here", "sales")).ok());
  ContactRequest r = MakeContact("elsewhere", "sales");
  r.arrived_at = h.now() - 40s;
  auto v = h.Create(r);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->created);
  EXPECT_EQ(v->position, 1);
  EXPECT_EQ(v->arrived_at, h.now() - 40s);
  EXPECT_EQ(h.Get("here").position, 2);
  h.AddReadyAgent(MakeAgent("a1"));
  EXPECT_EQ(h.AgentOf("elsewhere"), "a1");
  // Its speed of answer counts the wait before it reached this server.
  ASSERT_TRUE(h.Accept("a1", "elsewhere").ok());
  EXPECT_EQ(h.Get("elsewhere").waited, 40s);
}

TEST(ArrivedAtTest, FutureArrivalCountsAsNow) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  ContactRequest r = MakeContact("c1", "sales");
  r.arrived_at = h.now() + 1h;
  auto v = h.Create(r);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->arrived_at, h.now());
}

TEST(ArrivedAtTest, EscalationAndMaximumWaitAlreadyDueTakeEffect) {
  EngineHarness h;
  QueueConfig q = MakeQueue("sales", {{"sales", 8}});
  q.escalation = {{30s, {{"sales", 5}}, false}};
  h.AddQueue(q);
  QueueConfig short_wait = MakeQueue("short");
  short_wait.max_wait = 60s;
  h.AddQueue(short_wait);

  ContactRequest r = MakeContact("c1", "sales");
  r.arrived_at = h.now() - 45s;
  auto v = h.Create(r);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->escalation_step, 1);

  ContactRequest late = MakeContact("c2", "short");
  late.arrived_at = h.now() - 90s;
  auto e = h.Create(late);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_TRUE(e->created);
  EXPECT_EQ(e->state, ContactState::kEnded);
  EXPECT_EQ(e->end_reason, EndReason::kExpired);
}

class ReclaimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.AddQueue(MakeQueue("sales"));
    ASSERT_TRUE(
        h_.engine().UpsertAgentProfile(MakeAgent("back"), h_.now()).ok());
    ASSERT_TRUE(h_.engine().Login("back", h_.now()).ok());
  }
  // A contact that was offered to `agent` when the server stopped.
  void RestoreOffered(const std::string& id, const std::string& agent,
                      Duration waited = 0s) {
    RestoredContact r;
    r.request = MakeContact(id, "sales");
    r.created_at = r.arrived_at = r.entered_at = h_.now() - waited;
    r.offered_to = agent;
    ASSERT_TRUE(h_.engine().RestoreContact(r, h_.now()).ok());
    h_.Check();
  }
  absl::Status Reclaim(const std::string& agent, const std::string& contact) {
    auto s = h_.engine().ReclaimContact(agent, contact, h_.now());
    h_.Check();
    return s;
  }
  EngineHarness h_;
};

TEST_F(ReclaimTest, WaitingContactIsAssignedToTheAgentWhoHasIt) {
  RestoreOffered("c1", "back", 12s);
  h_.TakeEvents();
  ASSERT_TRUE(Reclaim("back", "c1").ok());
  ContactView v = h_.Get("c1");
  EXPECT_EQ(v.state, ContactState::kAssigned);
  EXPECT_EQ(v.agent_id, "back");
  EXPECT_EQ(v.waited, 12s);
  auto events = h_.TakeEvents();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().kind, EventKind::kContactAssigned);
  EXPECT_EQ(events.back().agent_id, "back");
  // Reclaiming what the agent already has is a no-op.
  EXPECT_TRUE(Reclaim("back", "c1").ok());
  EXPECT_TRUE(h_.TakeEvents().empty());
  // The agent, NOT_READY, keeps it until it completes it.
  ASSERT_TRUE(h_.Complete("back", "c1").ok());
}

TEST_F(ReclaimTest, OfferToAnotherAgentIsRescindedAndThatAgentServedAgain) {
  h_.AddReadyAgent(MakeAgent("other"));
  RestoreOffered("c1", "back");
  ASSERT_TRUE(h_.Create(MakeContact("c2", "sales")).ok());
  ASSERT_EQ(h_.AgentOf("c1"), "other");
  h_.TakeEvents();
  ASSERT_TRUE(Reclaim("back", "c1").ok());
  EXPECT_EQ(h_.AgentOf("c1"), "back");
  EXPECT_EQ(h_.StateOf("c1"), ContactState::kAssigned);
  // "other" is offered the next contact at once.
  EXPECT_EQ(h_.AgentOf("c2"), "other");
  EXPECT_EQ(h_.StateOf("c2"), ContactState::kOffered);
  bool rescinded = false;
  for (const Event& e : h_.TakeEvents()) {
    if (e.kind == EventKind::kOfferRescinded && e.contact_id == "c1") {
      rescinded = e.agent_id == "other";
    }
  }
  EXPECT_TRUE(rescinded);
}

TEST_F(ReclaimTest, OfferToTheAgentItselfIsAccepted) {
  ASSERT_TRUE(h_.engine().SetReady("back", h_.now()).ok());
  ASSERT_TRUE(h_.Create(MakeContact("c1", "sales")).ok());
  ASSERT_EQ(h_.StateOf("c1"), ContactState::kOffered);
  ASSERT_TRUE(Reclaim("back", "c1").ok());
  EXPECT_EQ(h_.StateOf("c1"), ContactState::kAssigned);
}

TEST_F(ReclaimTest, RefusalsChangeNothing) {
  h_.AddReadyAgent(MakeAgent("other"));
  ASSERT_TRUE(h_.Create(MakeContact("taken", "sales")).ok());
  ASSERT_TRUE(h_.Accept("other", "taken").ok());
  ASSERT_TRUE(h_.Create(MakeContact("waiting", "sales")).ok());
  ContactRequest cb = MakeContact("later", "sales", 0, Channel::kCallback);
  cb.not_before = h_.now() + 1h;
  ASSERT_TRUE(h_.Create(cb).ok());

  auto s = Reclaim("back", "taken");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("agent 'other'"));
  EXPECT_EQ(Reclaim("back", "later").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Reclaim("back", "nobody").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Reclaim("offline", "waiting").code(), absl::StatusCode::kNotFound);

  // Never offered to "back".
  s = Reclaim("back", "waiting");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("was not offered"));
  // No room: "back" holds a voice contact already.
  RestoreOffered("first", "back");
  RestoreOffered("second", "back");
  ASSERT_TRUE(Reclaim("back", "first").ok());
  s = Reclaim("back", "second");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(h_.StateOf("waiting"), ContactState::kQueued);
  EXPECT_EQ(h_.StateOf("second"), ContactState::kQueued);
  EXPECT_EQ(h_.StateOf("taken"), ContactState::kAssigned);
  EXPECT_EQ(h_.AgentOf("taken"), "other");
}

TEST_F(ReclaimTest, ReturnedContactWaitsAtItsPlaceForAnotherAgent) {
  ASSERT_TRUE(h_.engine().SetReady("back", h_.now()).ok());
  ASSERT_TRUE(h_.Create(MakeContact("c1", "sales")).ok());
  ASSERT_TRUE(h_.Accept("back", "c1").ok());
  h_.Advance(5s);
  ASSERT_TRUE(h_.Create(MakeContact("later", "sales")).ok());
  ASSERT_EQ(h_.AgentOf("later"), "");

  ASSERT_TRUE(h_.engine().ReturnContact("back", "c1", h_.now()).ok());
  h_.Check();
  // "back" is free again and takes the later contact, not the one it gave
  // back; c1 keeps first place.
  EXPECT_EQ(h_.AgentOf("later"), "back");
  EXPECT_EQ(h_.StateOf("c1"), ContactState::kQueued);
  EXPECT_EQ(h_.Get("c1").position, 1);
  h_.AddReadyAgent(MakeAgent("next"));
  EXPECT_EQ(h_.AgentOf("c1"), "next");

  EXPECT_EQ(h_.engine().ReturnContact("back", "c1", h_.now()).code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace ccroute::core
