// Engine::RestoreContact and Engine::RestoreEndedContact: the live state a
// journal kept, put back after a restart.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/core/engine.h"
#include "tests/core/engine_test_util.h"

namespace ccroute::core {
namespace {

using namespace std::chrono_literals;
using testing::EngineHarness;
using testing::MakeAgent;
using testing::MakeContact;
using testing::MakeQueue;

RestoredContact Waiting(std::string id, std::string queue, Time arrived,
                        int priority = 0) {
  RestoredContact r;
  r.request = MakeContact(std::move(id), std::move(queue), priority);
  r.created_at = arrived;
  r.arrived_at = arrived;
  r.entered_at = arrived;
  return r;
}

TEST(RestoreTest, EarlierArrivalGoesAheadOfLaterContacts) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  ASSERT_TRUE(h.Create(MakeContact("new", "sales")).ok());
  // Arrived before "new" (before the restart), restored after it.
  auto v = h.engine().RestoreContact(Waiting("old", "sales", h.now() - 60s),
                                     h.now());
  ASSERT_TRUE(v.ok()) << v.status();
  h.Check();
  EXPECT_EQ(v->state, ContactState::kQueued);
  EXPECT_EQ(v->position, 1);
  EXPECT_EQ(v->arrived_at, h.now() - 60s);
  EXPECT_EQ(h.Get("new").position, 2);
  // The first agent takes the oldest.
  h.AddReadyAgent(MakeAgent("a1"));
  EXPECT_EQ(h.AgentOf("old"), "a1");
}

TEST(RestoreTest, PriorityStillComesFirst) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  ASSERT_TRUE(
      h.engine()
          .RestoreContact(Waiting("low", "sales", h.now() - 90s), h.now())
          .ok());
  ASSERT_TRUE(
      h.engine()
          .RestoreContact(Waiting("high", "sales", h.now() - 10s, 5), h.now())
          .ok());
  h.Check();
  EXPECT_EQ(h.Get("high").position, 1);
  EXPECT_EQ(h.Get("low").position, 2);
}

TEST(RestoreTest, SameArrivalKeepsRestoreOrder) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  for (const char* id : {"c1", "c2", "c3"}) {
    ASSERT_TRUE(h.engine()
                    .RestoreContact(Waiting(id, "sales", h.now() - 5s), h.now())
                    .ok());
  }
  h.Check();
  EXPECT_EQ(h.Get("c1").position, 1);
  EXPECT_EQ(h.Get("c2").position, 2);
  EXPECT_EQ(h.Get("c3").position, 3);
}

TEST(RestoreTest, RestoredContactIsNotCountedAsCreatedAndEmitsNoEvent) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  h.TakeEvents();
  ASSERT_TRUE(h.engine()
                  .RestoreContact(Waiting("c1", "sales", h.now() - 5s), h.now())
                  .ok());
  EXPECT_TRUE(h.TakeEvents().empty());
  auto stats = h.engine().GetQueueStats("sales", h.now());
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->created, 0);
  EXPECT_EQ(stats->waiting, 1);
  EXPECT_EQ(h.engine().live_contacts(), 1u);
}

TEST(RestoreTest, IdempotentCreateReturnsTheRestoredContact) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  ASSERT_TRUE(h.engine()
                  .RestoreContact(Waiting("c1", "sales", h.now() - 5s), h.now())
                  .ok());
  auto retry = h.Create(MakeContact("c1", "sales"));
  ASSERT_TRUE(retry.ok());
  EXPECT_FALSE(retry->created);
  EXPECT_EQ(retry->arrived_at, h.now() - 5s);
  EXPECT_EQ(h.engine().live_contacts(), 1u);
}

TEST(RestoreTest, RefusesDuplicatesAndUnknownQueues) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  ASSERT_TRUE(
      h.engine().RestoreContact(Waiting("c1", "sales", h.now()), h.now()).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(
      h.engine()
          .RestoreContact(Waiting("c1", "sales", h.now()), h.now())
          .status()));
  EXPECT_TRUE(absl::IsNotFound(
      h.engine()
          .RestoreContact(Waiting("c2", "gone", h.now()), h.now())
          .status()));
  RestoredContact bad = Waiting("", "sales", h.now());
  EXPECT_TRUE(absl::IsInvalidArgument(
      h.engine().RestoreContact(bad, h.now()).status()));
  h.Check();
  EXPECT_EQ(h.engine().live_contacts(), 1u);
}

TEST(RestoreTest, IgnoresTheQueueLimitForContactsAcceptedBefore) {
  EngineHarness h;
  QueueConfig q = MakeQueue("sales");
  q.max_waiting = 1;
  h.AddQueue(q);
  for (const char* id : {"c1", "c2"}) {
    ASSERT_TRUE(
        h.engine().RestoreContact(Waiting(id, "sales", h.now()), h.now()).ok());
  }
  h.Check();
  EXPECT_EQ(h.Get("c2").position, 2);
  EXPECT_TRUE(
      absl::IsResourceExhausted(h.Create(MakeContact("c3", "sales")).status()));
}

TEST(RestoreTest, EscalationStepsDueDuringTheOutageTakeEffect) {
  EngineHarness h;
  QueueConfig q = MakeQueue("sales", {{"sales", 8}});
  q.escalation = {{30s, {{"sales", 5}}, false}, {60s, {{"sales", 1}}, false}};
  h.AddQueue(q);
  ASSERT_TRUE(
      h.engine()
          .RestoreContact(Waiting("c1", "sales", h.now() - 45s), h.now())
          .ok());
  h.Check();
  EXPECT_EQ(h.Get("c1").escalation_step, 1);
  // The second step comes 60 s after the contact entered the queue.
  h.Advance(14s);
  EXPECT_EQ(h.Get("c1").escalation_step, 1);
  h.Advance(1s);
  EXPECT_EQ(h.Get("c1").escalation_step, 2);
  h.AddReadyAgent(MakeAgent("novice", {{"sales", 1}}));
  EXPECT_EQ(h.AgentOf("c1"), "novice");
}

TEST(RestoreTest, MaximumWaitPassedDuringTheOutageExpiresTheContact) {
  EngineHarness h;
  QueueConfig q = MakeQueue("sales");
  q.max_wait = 60s;
  h.AddQueue(q);
  h.TakeEvents();
  auto v =
      h.engine().RestoreContact(Waiting("c1", "sales", h.now() - 90s), h.now());
  ASSERT_TRUE(v.ok()) << v.status();
  h.Check();
  EXPECT_EQ(v->state, ContactState::kEnded);
  EXPECT_EQ(v->end_reason, EndReason::kExpired);
  auto events = h.TakeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, EventKind::kContactEnded);
}

TEST(RestoreTest, OverflowedContactWaitsInItsCurrentQueue) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  h.AddQueue(MakeQueue("overflow"));
  RestoredContact r = Waiting("c1", "sales", h.now() - 50s);
  r.queue = "overflow";
  r.entered_at = h.now() - 20s;
  auto v = h.engine().RestoreContact(r, h.now());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->queue, "overflow");
  EXPECT_EQ(v->arrived_at, h.now() - 50s);
  EXPECT_EQ(v->entered_at, h.now() - 20s);
  // A retry names the queue the gateway asked for.
  auto retry = h.Create(MakeContact("c1", "sales"));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_FALSE(retry->created);
}

TEST(RestoreTest, ScheduledCallbackWaitsForItsTime) {
  EngineHarness h;
  h.AddQueue(MakeQueue("callbacks"));
  RestoredContact r = Waiting("cb", "callbacks", h.now() - 10s);
  r.request.channel = Channel::kCallback;
  r.request.not_before = h.now() + 30s;
  auto v = h.engine().RestoreContact(r, h.now());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->state, ContactState::kScheduled);
  h.Advance(30s);
  EXPECT_EQ(h.StateOf("cb"), ContactState::kQueued);
}

TEST(RestoreTest, AssignedContactStaysWithItsAgentUntilForcedOut) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  ASSERT_TRUE(h.engine().UpsertAgentProfile(MakeAgent("a1"), h.now()).ok());
  ASSERT_TRUE(h.Create(MakeContact("later", "sales")).ok());
  RestoredContact r = Waiting("c1", "sales", h.now() - 100s);
  r.agent_id = "a1";
  r.waited = 20s;
  auto v = h.engine().RestoreContact(r, h.now());
  ASSERT_TRUE(v.ok()) << v.status();
  h.Check();
  EXPECT_EQ(v->state, ContactState::kAssigned);
  EXPECT_EQ(v->agent_id, "a1");
  auto agent = h.engine().GetAgentStats("a1", h.now());
  ASSERT_TRUE(agent.ok());
  EXPECT_EQ(agent->state, AgentState::kNotReady);
  EXPECT_EQ(agent->reason, "disconnected");
  EXPECT_THAT(agent->contacts, ::testing::ElementsAre("c1"));

  // The agent comes back and finishes the contact.
  ASSERT_TRUE(h.engine().Login("a1", h.now()).ok());
  EXPECT_TRUE(h.Complete("a1", "c1").ok());
  EXPECT_EQ(h.StateOf("c1"), ContactState::kEnded);
}

TEST(RestoreTest, AgentWhoNeverReturnsGivesTheContactBackAtItsPlace) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  ASSERT_TRUE(h.engine().UpsertAgentProfile(MakeAgent("a1"), h.now()).ok());
  ASSERT_TRUE(h.Create(MakeContact("later", "sales")).ok());
  RestoredContact r = Waiting("c1", "sales", h.now() - 100s);
  r.agent_id = "a1";
  ASSERT_TRUE(h.engine().RestoreContact(r, h.now()).ok());
  // The reconnect grace ends.
  h.Advance(60s);
  ASSERT_TRUE(h.engine().ForceLogout("a1", "connection lost", h.now()).ok());
  h.Check();
  EXPECT_EQ(h.StateOf("c1"), ContactState::kQueued);
  EXPECT_EQ(h.Get("c1").position, 1);
  EXPECT_EQ(h.Get("later").position, 2);
}

TEST(RestoreTest, AssignedToAnAgentWithoutRoomWaitsInstead) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  ASSERT_TRUE(h.engine().UpsertAgentProfile(MakeAgent("a1"), h.now()).ok());
  RestoredContact first = Waiting("c1", "sales", h.now() - 100s);
  first.agent_id = "a1";
  RestoredContact second = Waiting("c2", "sales", h.now() - 90s);
  second.agent_id = "a1";  // voice capacity 1: no room
  RestoredContact unknown = Waiting("c3", "sales", h.now() - 80s);
  unknown.agent_id = "nobody";
  ASSERT_TRUE(h.engine().RestoreContact(first, h.now()).ok());
  auto v2 = h.engine().RestoreContact(second, h.now());
  auto v3 = h.engine().RestoreContact(unknown, h.now());
  ASSERT_TRUE(v2.ok() && v3.ok());
  h.Check();
  EXPECT_EQ(h.StateOf("c1"), ContactState::kAssigned);
  EXPECT_EQ(v2->state, ContactState::kQueued);
  EXPECT_EQ(v2->position, 1);
  EXPECT_EQ(v3->state, ContactState::kQueued);
  EXPECT_EQ(v3->position, 2);
}

TEST(RestoreTest, WaitingContactIsOfferedToAReadyAgent) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  h.AddReadyAgent(MakeAgent("a1"));
  auto v =
      h.engine().RestoreContact(Waiting("c1", "sales", h.now() - 5s), h.now());
  ASSERT_TRUE(v.ok());
  h.Check();
  EXPECT_EQ(v->state, ContactState::kOffered);
  EXPECT_EQ(v->agent_id, "a1");
}

TEST(RestoreTest, EndedContactAnswersRetriesUntilItsRetentionEnds) {
  EngineLimits limits;
  limits.idempotency_retention = 10min;
  EngineHarness h({}, limits);
  h.AddQueue(MakeQueue("sales"));
  RestoredEndedContact e;
  e.id = "done";
  e.requested_queue = "sales";
  e.queue = "sales";
  e.reason = EndReason::kCompleted;
  e.created_at = h.now() - 5min;
  e.arrived_at = h.now() - 5min;
  e.ended_at = h.now() - 4min;
  ASSERT_TRUE(h.engine().RestoreEndedContact(e, h.now()).ok());
  EXPECT_TRUE(
      absl::IsAlreadyExists(h.engine().RestoreEndedContact(e, h.now())));
  auto retry = h.Create(MakeContact("done", "sales"));
  ASSERT_TRUE(retry.ok());
  EXPECT_FALSE(retry->created);
  EXPECT_EQ(retry->state, ContactState::kEnded);
  EXPECT_EQ(retry->end_reason, EndReason::kCompleted);
  // Six minutes on, the key is gone: the id creates a new contact.
  h.Advance(6min);
  auto again = h.Create(MakeContact("done", "sales"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->created);
}

TEST(RestoreTest, EndedContactPastItsRetentionIsNotKept) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  RestoredEndedContact e;
  e.id = "old";
  e.requested_queue = "sales";
  e.queue = "sales";
  e.ended_at = h.now() - 11min;
  ASSERT_TRUE(h.engine().RestoreEndedContact(e, h.now()).ok());
  auto v = h.Create(MakeContact("old", "sales"));
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->created);
}

TEST(RestoreTest, EndedKeysRestoredOutOfOrderExpireInEndOrder) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  RestoredEndedContact late;
  late.id = "late";
  late.requested_queue = late.queue = "sales";
  late.ended_at = h.now() - 1min;
  RestoredEndedContact early = late;
  early.id = "early";
  early.ended_at = h.now() - 9min;
  ASSERT_TRUE(h.engine().RestoreEndedContact(late, h.now()).ok());
  ASSERT_TRUE(h.engine().RestoreEndedContact(early, h.now()).ok());
  h.Advance(2min);
  // "early" is forgotten although restored after "late".
  EXPECT_TRUE(h.Create(MakeContact("early", "sales"))->created);
  EXPECT_FALSE(h.Create(MakeContact("late", "sales"))->created);
}

}  // namespace
}  // namespace ccroute::core
