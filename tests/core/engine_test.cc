#include "server/core/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/core/engine_test_util.h"

namespace ccroute::core {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using testing::EngineHarness;
using ::testing::HasSubstr;
using testing::MakeAgent;
using testing::MakeContact;
using testing::MakeQueue;

constexpr std::array<int, kChannelCount> kChat3 = {0, 3, 0, 0, 0};
constexpr std::array<int, kChannelCount> kVoiceAndChat2 = {1, 2, 0, 0, 0};

std::vector<EventKind> Kinds(const std::vector<Event>& events) {
  std::vector<EventKind> out;
  for (const Event& e : events) out.push_back(e.kind);
  return out;
}

const Event* FindEvent(const std::vector<Event>& events, EventKind kind) {
  for (const Event& e : events) {
    if (e.kind == kind) return &e;
  }
  return nullptr;
}

// --- Lifecycle and events ---------------------------------------------------

TEST(EngineTest, FullLifecycleEmitsAnEventPerStateChange) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  AgentProfile agent = MakeAgent("a1");
  agent.wrap_up[0] = 10s;
  h.AddReadyAgent(agent);
  h.TakeEvents();

  auto v = h.Create(MakeContact("c1", "sales"));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->created);
  EXPECT_EQ(v->state, ContactState::kOffered);
  EXPECT_EQ(v->agent_id, "a1");
  EXPECT_EQ(v->offer_deadline, h.now() + 15s);
  h.Advance(3s);
  ASSERT_TRUE(h.Accept("a1", "c1").ok());
  EXPECT_EQ(h.StateOf("c1"), ContactState::kAssigned);
  h.Advance(60s);
  ASSERT_TRUE(h.Complete("a1", "c1", "sold").ok());
  EXPECT_EQ(h.StateOf("c1"), ContactState::kWrapUp);
  h.Advance(10s);
  ContactView ended = h.Get("c1");
  EXPECT_EQ(ended.state, ContactState::kEnded);
  EXPECT_EQ(ended.end_reason, EndReason::kCompleted);

  std::vector<Event> events = h.TakeEvents();
  EXPECT_THAT(
      Kinds(events),
      ElementsAre(EventKind::kContactQueued, EventKind::kContactOffered,
                  EventKind::kContactAssigned, EventKind::kContactWrapUp,
                  EventKind::kAgentWrapUpEnded, EventKind::kContactEnded));
  EXPECT_TRUE(events[0].created);
  EXPECT_FALSE(events[1].created);
  EXPECT_EQ(events[2].wait, 3s);
  EXPECT_TRUE(events[2].within_target);
  EXPECT_EQ(events[3].reason, "sold");
  EXPECT_EQ(events[5].end_reason, EndReason::kCompleted);
  EXPECT_EQ(events[5].at, h.now());
  EXPECT_EQ(events[5].wait, 3s) << "the wait ends when the contact is answered";
  EXPECT_TRUE(events[5].within_target);
  for (int k = 0; k < kEventKindCount; ++k) {
    EXPECT_NE(EventKindName(static_cast<EventKind>(k)), "unknown");
  }
  EXPECT_EQ(EventKindName(EventKind::kContactOffered), "contact_offered");
}

TEST(EngineTest, AgentGetsNextContactWhenWrapUpEnds) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  AgentProfile agent = MakeAgent("a1");
  agent.wrap_up[0] = 20s;
  h.AddReadyAgent(agent);
  ASSERT_TRUE(h.Create(MakeContact("c1", "sales")).ok());
  ASSERT_TRUE(h.Accept("a1", "c1").ok());
  ASSERT_TRUE(h.Create(MakeContact("c2", "sales")).ok());
  EXPECT_EQ(h.StateOf("c2"), ContactState::kQueued);
  ASSERT_TRUE(h.Complete("a1", "c1").ok());
  h.Advance(19s);
  EXPECT_EQ(h.StateOf("c2"), ContactState::kQueued) << "still in wrap-up";
  h.Advance(1s);
  EXPECT_EQ(h.StateOf("c2"), ContactState::kOffered);
  EXPECT_EQ(h.AgentOf("c2"), "a1");
}

TEST(EngineTest, EndWrapUpEarlyFreesTheAgentAtOnce) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  AgentProfile agent = MakeAgent("a1");
  agent.wrap_up[0] = 120s;
  h.AddReadyAgent(agent);
  ASSERT_TRUE(h.Create(MakeContact("c1", "sales")).ok());
  ASSERT_TRUE(h.Accept("a1", "c1").ok());
  ASSERT_TRUE(h.Create(MakeContact("c2", "sales")).ok());
  ASSERT_TRUE(h.Complete("a1", "c1").ok());
  h.Advance(5s);
  ASSERT_TRUE(h.engine().EndWrapUp("a1", "c1", h.now()).ok());
  EXPECT_EQ(h.StateOf("c1"), ContactState::kEnded);
  EXPECT_EQ(h.AgentOf("c2"), "a1");
  EXPECT_EQ(h.engine().EndWrapUp("a1", "c1", h.now()).code(),
            absl::StatusCode::kFailedPrecondition);
}

// --- Queues -----------------------------------------------------------------

TEST(EngineTest, RefusesContactOnChannelTheQueueDoesNotTake) {
  EngineHarness h;
  QueueConfig q = MakeQueue("voice_only");
  q.channels = 1u << static_cast<int>(Channel::kVoice);
  h.AddQueue(q);
  auto v = h.Create(MakeContact("c1", "voice_only", 0, Channel::kChat));
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(v.status().message()), HasSubstr("chat"));
  EXPECT_EQ(h.engine().live_contacts(), 0u);
}

TEST(EngineTest, UnknownQueueIsNotFound) {
  EngineHarness h;
  auto v = h.Create(MakeContact("c1", "nowhere"));
  EXPECT_EQ(v.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(v.status().message()), HasSubstr("nowhere"));
}

TEST(EngineTest, FullQueueRefusesWithResourceExhausted) {
  EngineHarness h;
  QueueConfig q = MakeQueue("small");
  q.max_waiting = 2;
  h.AddQueue(q);
  ASSERT_TRUE(h.Create(MakeContact("c1", "small")).ok());
  ASSERT_TRUE(h.Create(MakeContact("c2", "small")).ok());
  auto v = h.Create(MakeContact("c3", "small"));
  EXPECT_EQ(v.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(v.status().message()), HasSubstr("is full"));
  EXPECT_EQ(h.engine().live_contacts(), 2u);
  EXPECT_EQ(h.engine().GetQueueStats("small", h.now())->refused, 1);
}

TEST(EngineTest, FullQueueOverflowsToItsOverflowQueue) {
  EngineHarness h;
  QueueConfig q = MakeQueue("small");
  q.max_waiting = 1;
  q.overflow_queue = "backup";
  h.AddQueue(q);
  h.AddQueue(MakeQueue("backup"));
  ASSERT_TRUE(h.Create(MakeContact("c1", "small")).ok());
  auto v = h.Create(MakeContact("c2", "small"));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->queue, "backup");
  // A retry still recognises the contact by the queue the gateway named.
  auto retry = h.Create(MakeContact("c2", "small"));
  ASSERT_TRUE(retry.ok());
  EXPECT_FALSE(retry->created);
}

TEST(EngineTest, MaxWaitExpiresContactWithReason) {
  EngineHarness h;
  QueueConfig q = MakeQueue("sales");
  q.max_wait = 60s;
  h.AddQueue(q);
  ASSERT_TRUE(h.Create(MakeContact("c1", "sales")).ok());
  h.TakeEvents();
  h.Advance(59s);
  EXPECT_EQ(h.StateOf("c1"), ContactState::kQueued);
  h.Advance(1s);
  ContactView v = h.Get("c1");
  EXPECT_EQ(v.state, ContactState::kEnded);
  EXPECT_EQ(v.end_reason, EndReason::kExpired);
  std::vector<Event> events = h.TakeEvents();
  const Event* e = FindEvent(events, EventKind::kContactEnded);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->end_reason, EndReason::kExpired);
  EXPECT_EQ(h.engine().GetQueueStats("sales", h.now())->expired, 1);
}

TEST(EngineTest, MaxWaitOverflowKeepsArrivalTimeAndPlace) {
  EngineHarness h;
  QueueConfig first = MakeQueue("first", {{"first", 1}});
  first.max_wait = 30s;
  first.max_wait_queue = "second";
  h.AddQueue(first);
  h.AddQueue(MakeQueue("second"));
  ASSERT_TRUE(h.Create(MakeContact("old", "first")).ok());
  h.Advance(10s);
  ASSERT_TRUE(h.Create(MakeContact("new", "second")).ok());
  h.Advance(20s);
  ContactView v = h.Get("old");
  EXPECT_EQ(v.queue, "second");
  EXPECT_EQ(v.position, 1) << "the overflowed caller waited longer";
  EXPECT_EQ(h.Get("new").position, 2);
  h.AddReadyAgent(MakeAgent("a1"));
  EXPECT_EQ(h.AgentOf("old"), "a1");
}

TEST(EngineTest, AgentWithoutRequiredSkillLevelIsNotOffered) {
  EngineHarness h;
  h.AddQueue(MakeQueue("tech", {{"tech", 5}}));
  h.AddReadyAgent(MakeAgent("junior", {{"tech", 4}}));
  h.AddReadyAgent(MakeAgent("other", {{"billing", 9}}));
  ASSERT_TRUE(h.Create(MakeContact("c1", "tech")).ok());
  EXPECT_EQ(h.StateOf("c1"), ContactState::kQueued);
  h.AddReadyAgent(MakeAgent("senior", {{"tech", 5}}));
  EXPECT_EQ(h.AgentOf("c1"), "senior");
}

// --- Contacts ---------------------------------------------------------------

TEST(EngineTest, ContactExtraRequirementsNarrowTheAgents) {
  EngineHarness h;
  h.AddQueue(MakeQueue("support", {{"support", 1}}));
  h.AddReadyAgent(MakeAgent("en", {{"support", 5}, {"lang.en", 9}}));
  ContactRequest r = MakeContact("c1", "support");
  r.requirements = {{"lang.de", 5}};
  ASSERT_TRUE(h.Create(r).ok());
  EXPECT_EQ(h.StateOf("c1"), ContactState::kQueued);
  h.AddReadyAgent(MakeAgent("de", {{"support", 2}, {"lang.de", 6}}));
  EXPECT_EQ(h.AgentOf("c1"), "de");
}

// A contact asking for the skill `skill` at level 1.
ContactRequest ContactNeeding(std::string id, std::string skill) {
  ContactRequest r = MakeContact(std::move(id), "q");
  r.requirements = {{std::move(skill), 1}};
  return r;
}

TEST(EngineTest, SkillNamesNothingHoldsAnyMoreAreFreedAtTheLimit) {
  EngineLimits limits;
  limits.max_skills = 4;
  EngineHarness h({}, limits);
  h.AddQueue(MakeQueue("q"));
  h.AddReadyAgent(MakeAgent("a1", {{"billing", 5}}));
  ASSERT_TRUE(h.Create(ContactNeeding("c1", "vip")).ok());
  ASSERT_TRUE(h.Create(ContactNeeding("c2", "spanish")).ok());
  ASSERT_TRUE(h.Create(ContactNeeding("c3", "german")).ok());

  // Four names are held: a fifth is refused, and nothing changes.
  auto refused = h.Create(ContactNeeding("c4", "french"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("more than 4 distinct skill names in use"));
  EXPECT_EQ(h.engine().live_contacts(), 3u);
  h.Check();

  // Once c1 is gone nothing holds "vip": "french" takes its place, and
  // means french, not vip.
  ASSERT_TRUE(
      h.engine().CancelContact("c1", EndReason::kCancelled, h.now()).ok());
  ASSERT_TRUE(h.Create(ContactNeeding("c4", "french")).ok());
  h.Check();
  h.AddReadyAgent(MakeAgent("a2", {{"french", 5}}));
  EXPECT_EQ(h.AgentOf("c4"), "a2");
  EXPECT_EQ(h.StateOf("c2"), ContactState::kQueued);
  EXPECT_EQ(h.StateOf("c3"), ContactState::kQueued);

  // An agent's skills hold their names until its profile drops them.
  EXPECT_EQ(h.Create(ContactNeeding("c5", "vip")).status().code(),
            absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(h.engine()
                  .UpsertAgentProfile(MakeAgent("a1", {{"german", 2}}), h.now())
                  .ok());
  EXPECT_EQ(h.AgentOf("c3"), "a1");
  ASSERT_TRUE(h.Create(ContactNeeding("c5", "vip")).ok());
  EXPECT_EQ(h.StateOf("c5"), ContactState::kQueued);
  h.Check();

  // Changing a contact's requirements lets go of the old name.
  ASSERT_TRUE(h.engine()
                  .UpdateContact("c2", std::nullopt,
                                 std::vector<SkillRequirement>{{"german", 1}},
                                 h.now())
                  .ok());
  ASSERT_TRUE(h.engine()
                  .UpsertQueue(MakeQueue("other", {{"italian", 1}}), h.now())
                  .ok());
  h.Check();
  // Deleting the queue lets go of its requirements.
  EXPECT_EQ(h.engine()
                .UpsertQueue(MakeQueue("third", {{"polish", 1}}), h.now())
                .code(),
            absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(h.engine().DeleteQueue("other", h.now()).ok());
  ASSERT_TRUE(h.engine()
                  .UpsertQueue(MakeQueue("third", {{"polish", 1}}), h.now())
                  .ok());
  h.Check();
}

TEST(EngineTest, EndlessDistinctSkillNamesOnShortLivedContactsNeverRunOut) {
  EngineLimits limits;
  limits.max_skills = 10;
  EngineHarness h({}, limits);
  h.AddQueue(MakeQueue("q"));
  for (int i = 0; i < 1000; ++i) {
    std::string id = "c" + std::to_string(i);
    ASSERT_TRUE(h.Create(ContactNeeding(id, "skill" + std::to_string(i))).ok())
        << i;
    ASSERT_TRUE(
        h.engine().CancelContact(id, EndReason::kCancelled, h.now()).ok());
  }
  h.Check();
}

TEST(EngineTest, HigherPriorityIsOfferedFirst) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  ASSERT_TRUE(h.Create(MakeContact("low", "sales", 1)).ok());
  h.Advance(5s);
  ASSERT_TRUE(h.Create(MakeContact("high", "sales", 5)).ok());
  EXPECT_EQ(h.Get("high").position, 1);
  EXPECT_EQ(h.Get("low").position, 2);
  h.AddReadyAgent(MakeAgent("a1"));
  EXPECT_EQ(h.AgentOf("high"), "a1");
  EXPECT_EQ(h.StateOf("low"), ContactState::kQueued);
}

TEST(EngineTest, SamePriorityIsOfferedInArrivalOrder) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        h.Create(MakeContact(std::string("c") + std::to_string(i), "sales"))
            .ok());
    h.Advance(1s);
  }
  h.AddReadyAgent(MakeAgent("a1"));
  for (int i = 0; i < 5; ++i) {
    std::string id = std::string("c") + std::to_string(i);
    ASSERT_EQ(h.AgentOf(id), "a1") << id;
    ASSERT_TRUE(h.Accept("a1", id).ok());
    ASSERT_TRUE(h.Complete("a1", id).ok());
  }
}

TEST(EngineTest, RetriedCreateReturnsTheSameContact) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  h.AddQueue(MakeQueue("other"));
  auto first = h.Create(MakeContact("c1", "sales"));
  ASSERT_TRUE(first.ok());
  h.Advance(2s);
  auto retry = h.Create(MakeContact("c1", "sales"));
  ASSERT_TRUE(retry.ok());
  EXPECT_FALSE(retry->created);
  EXPECT_EQ(retry->arrived_at, first->arrived_at);
  EXPECT_EQ(h.engine().live_contacts(), 1u);

  auto conflicting = h.Create(MakeContact("c1", "other"));
  EXPECT_EQ(conflicting.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(h.engine().live_contacts(), 1u);
}

TEST(EngineTest, RetryAfterTheContactEndedDoesNotRequeueIt) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  ASSERT_TRUE(h.Create(MakeContact("c1", "sales")).ok());
  ASSERT_TRUE(
      h.engine().CancelContact("c1", EndReason::kAbandoned, h.now()).ok());
  auto retry = h.Create(MakeContact("c1", "sales"));
  ASSERT_TRUE(retry.ok());
  EXPECT_FALSE(retry->created);
  EXPECT_EQ(retry->state, ContactState::kEnded);
  EXPECT_EQ(retry->end_reason, EndReason::kAbandoned);
  EXPECT_EQ(h.engine().live_contacts(), 0u);
}

TEST(EngineTest, EndedContactIdIsForgottenAfterRetention) {
  EngineLimits limits;
  limits.idempotency_retention = 10min;
  EngineHarness h({}, limits);
  h.AddQueue(MakeQueue("sales"));
  ASSERT_TRUE(h.Create(MakeContact("c1", "sales")).ok());
  ASSERT_TRUE(
      h.engine().CancelContact("c1", EndReason::kCancelled, h.now()).ok());
  h.Advance(10min);
  EXPECT_EQ(h.engine().GetContact("c1", h.now()).status().code(),
            absl::StatusCode::kNotFound);
  auto again = h.Create(MakeContact("c1", "sales"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->created);
}

TEST(EngineTest, RemembersAtMostTheConfiguredNumberOfEndedContacts) {
  EngineLimits limits;
  limits.max_remembered_ended = 2;
  EngineHarness h({}, limits);
  h.AddQueue(MakeQueue("sales"));
  for (std::string id : {"c1", "c2", "c3"}) {
    ASSERT_TRUE(h.Create(MakeContact(id, "sales")).ok());
    ASSERT_TRUE(
        h.engine().CancelContact(id, EndReason::kCancelled, h.now()).ok());
  }
  EXPECT_EQ(h.engine().GetContact("c1", h.now()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(h.Get("c3").end_reason, EndReason::kCancelled);
  EXPECT_EQ(h.Create(MakeContact("c3", "other")).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(EngineTest, AttributesAreBoundedAndReturned) {
  EngineLimits limits;
  limits.max_attributes = 2;
  EngineHarness h({}, limits);
  h.AddQueue(MakeQueue("sales"));
  ContactRequest r = MakeContact("c1", "sales");
  r.attributes = {{"a", "1"}, {"b", "2"}, {"c", "3"}};
  EXPECT_EQ(h.Create(r).status().code(), absl::StatusCode::kInvalidArgument);
  r.attributes = {{"a", std::string(600, 'x')}};
  auto s = h.Create(r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), ::testing::Not(HasSubstr("xxx")))
      << "attribute values are never echoed";
  r.attributes = {{"order", "42"}, {"lang", "de"}};
  ASSERT_TRUE(h.Create(r).ok());
  EXPECT_EQ(h.Get("c1").attributes, r.attributes);
}

TEST(EngineTest, BadRequestsChangeNothing) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  h.AddReadyAgent(MakeAgent("a1"));
  std::vector<ContactRequest> bad;
  bad.push_back(MakeContact("", "sales"));
  bad.push_back(MakeContact("c1", ""));
  bad.push_back(MakeContact("c1", "sales", -1));
  bad.push_back(MakeContact("c1", "sales", 100000));
  bad.push_back(MakeContact("has space", "sales"));
  ContactRequest r = MakeContact("c1", "sales");
  r.requirements = {{"lang", 0}};
  bad.push_back(r);
  r.requirements = {{"lang", 3}, {"lang", 4}};
  bad.push_back(r);
  r.requirements = {{"bad name!", 3}};
  bad.push_back(r);
  r = MakeContact("c1", "sales");
  r.preferred_agent = "a1";
  bad.push_back(r);  // no wait window
  r = MakeContact("c1", "sales");
  r.attributes = {{"k", "1"}, {"k", "2"}};
  bad.push_back(r);
  h.TakeEvents();
  for (const ContactRequest& req : bad) {
    auto v = h.Create(req);
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument)
        << v.status();
    EXPECT_FALSE(v.status().message().empty());
  }
  EXPECT_EQ(h.engine().live_contacts(), 0u);
  EXPECT_TRUE(h.TakeEvents().empty());
}

TEST(EngineTest, PreferredAgentIsWaitedForWithinItsWindow) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  h.AddReadyAgent(MakeAgent("other"));
  ASSERT_TRUE(h.engine().UpsertAgentProfile(MakeAgent("pref"), h.now()).ok());
  ASSERT_TRUE(h.engine().Login("pref", h.now()).ok());  // not ready yet
  ContactRequest r = MakeContact("c1", "sales");
  r.preferred_agent = "pref";
  r.preferred_wait = 30s;
  ASSERT_TRUE(h.Create(r).ok());
  EXPECT_EQ(h.StateOf("c1"), ContactState::kQueued)
      << "waits for the preferred agent although another is free";
  h.Advance(10s);
  ASSERT_TRUE(h.engine().SetReady("pref", h.now()).ok());
  EXPECT_EQ(h.AgentOf("c1"), "pref");
}

TEST(EngineTest, PreferredWindowEndsThenAnyAgentMayTakeIt) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  h.AddReadyAgent(MakeAgent("other"));
  ASSERT_TRUE(h.engine().UpsertAgentProfile(MakeAgent("pref"), h.now()).ok());
  ASSERT_TRUE(h.engine().Login("pref", h.now()).ok());
  ContactRequest r = MakeContact("c1", "sales");
  r.preferred_agent = "pref";
  r.preferred_wait = 30s;
  ASSERT_TRUE(h.Create(r).ok());
  h.Advance(29s);
  EXPECT_EQ(h.StateOf("c1"), ContactState::kQueued);
  h.Advance(1s);
  EXPECT_EQ(h.AgentOf("c1"), "other");
}

TEST(EngineTest, PreferredAgentLoggedOutIsNotWaitedFor) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  h.AddReadyAgent(MakeAgent("other"));
  ASSERT_TRUE(h.engine().UpsertAgentProfile(MakeAgent("pref"), h.now()).ok());
  ContactRequest r = MakeContact("c1", "sales");
  r.preferred_agent = "pref";
  r.preferred_wait = 30s;
  ASSERT_TRUE(h.Create(r).ok());
  EXPECT_EQ(h.AgentOf("c1"), "other");
}

TEST(EngineTest, ReturningCustomerGoesToTheLastAgent) {
  EngineHarness h;
  QueueConfig q = MakeQueue("sales");
  q.last_agent_window = 20s;
  h.AddQueue(q);
  h.AddReadyAgent(MakeAgent("a1"));
  h.Advance(1s);
  h.AddReadyAgent(MakeAgent("a2"));
  ContactRequest r = MakeContact("first", "sales");
  r.customer_id = "cust-9";
  ASSERT_TRUE(h.Create(r).ok());
  ASSERT_EQ(h.AgentOf("first"), "a1");  // longest idle
  ASSERT_TRUE(h.Accept("a1", "first").ok());
  ASSERT_TRUE(h.Complete("a1", "first").ok());
  // a2 is now the longest idle, but the customer's last agent was a1.
  r.id = "second";
  ASSERT_TRUE(h.Create(r).ok());
  EXPECT_EQ(h.AgentOf("second"), "a1");
}

// --- Agents: capacity, channels, states ------------------------------------

TEST(EngineTest, ChatAgentTakesUpToItsCapacity) {
  EngineHarness h;
  h.AddQueue(MakeQueue("chat"));
  h.AddReadyAgent(MakeAgent("a1", {}, kChat3));
  for (int i = 0; i < 4; ++i) {
    std::string id = std::string("c") + std::to_string(i);
    ASSERT_TRUE(h.Create(MakeContact(id, "chat", 0, Channel::kChat)).ok());
    if (i < 3) {
      ASSERT_EQ(h.AgentOf(id), "a1") << id;
      ASSERT_TRUE(h.Accept("a1", id).ok());
    }
  }
  EXPECT_EQ(h.StateOf("c3"), ContactState::kQueued);
  EXPECT_EQ(h.engine().GetAgentStats("a1", h.now())->load[1], 3);
  ASSERT_TRUE(h.Complete("a1", "c0").ok());
  EXPECT_EQ(h.AgentOf("c3"), "a1");
}

TEST(EngineTest, OneOfferAtATimePerAgent) {
  EngineHarness h;
  h.AddQueue(MakeQueue("chat"));
  h.AddReadyAgent(MakeAgent("a1", {}, kChat3));
  ASSERT_TRUE(h.Create(MakeContact("c1", "chat", 0, Channel::kChat)).ok());
  ASSERT_TRUE(h.Create(MakeContact("c2", "chat", 0, Channel::kChat)).ok());
  EXPECT_EQ(h.StateOf("c2"), ContactState::kQueued);
  ASSERT_TRUE(h.Accept("a1", "c1").ok());
  EXPECT_EQ(h.AgentOf("c2"), "a1");
}

TEST(EngineTest, VoiceBlocksOtherChannels) {
  EngineHarness h;
  h.AddQueue(MakeQueue("mixed"));
  h.AddReadyAgent(MakeAgent("a1", {}, kVoiceAndChat2));
  ASSERT_TRUE(h.Create(MakeContact("call", "mixed")).ok());
  ASSERT_TRUE(h.Accept("a1", "call").ok());
  ASSERT_TRUE(h.Create(MakeContact("chat", "mixed", 0, Channel::kChat)).ok());
  EXPECT_EQ(h.StateOf("chat"), ContactState::kQueued) << "on a call";
  ASSERT_TRUE(h.Complete("a1", "call").ok());
  EXPECT_EQ(h.AgentOf("chat"), "a1");
  ASSERT_TRUE(h.Accept("a1", "chat").ok());
  ASSERT_TRUE(h.Create(MakeContact("call2", "mixed")).ok());
  EXPECT_EQ(h.StateOf("call2"), ContactState::kQueued) << "busy on a chat";
}

TEST(EngineTest, BlendedAgentTakesChatsDuringACallWhenVoiceDoesNotBlock) {
  EngineHarness h;
  h.AddQueue(MakeQueue("mixed"));
  AgentProfile a = MakeAgent("a1", {}, kVoiceAndChat2);
  a.voice_blocks_other_channels = false;
  h.AddReadyAgent(a);
  ASSERT_TRUE(h.Create(MakeContact("call", "mixed")).ok());
  ASSERT_TRUE(h.Accept("a1", "call").ok());
  ASSERT_TRUE(h.Create(MakeContact("chat", "mixed", 0, Channel::kChat)).ok());
  EXPECT_EQ(h.AgentOf("chat"), "a1");
}

TEST(EngineTest, NotReadyAgentGetsNothingAndKeepsItsWork) {
  EngineHarness h;
  h.AddQueue(MakeQueue("chat"));
  h.AddReadyAgent(MakeAgent("a1", {}, kChat3));
  ASSERT_TRUE(h.Create(MakeContact("c1", "chat", 0, Channel::kChat)).ok());
  ASSERT_TRUE(h.Accept("a1", "c1").ok());
  ASSERT_TRUE(h.engine().SetNotReady("a1", "break", h.now()).ok());
  ASSERT_TRUE(h.Create(MakeContact("c2", "chat", 0, Channel::kChat)).ok());
  EXPECT_EQ(h.StateOf("c2"), ContactState::kQueued);
  auto stats = h.engine().GetAgentStats("a1", h.now());
  EXPECT_EQ(stats->state, AgentState::kNotReady);
  EXPECT_EQ(stats->reason, "break");
  EXPECT_THAT(stats->contacts, ElementsAre("c1"));
  ASSERT_TRUE(h.Complete("a1", "c1").ok());
  EXPECT_EQ(h.StateOf("c2"), ContactState::kQueued);
}

TEST(EngineTest, NotReadyWithdrawsTheOpenOffer) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  h.AddReadyAgent(MakeAgent("a1"));
  ASSERT_TRUE(h.Create(MakeContact("c1", "sales")).ok());
  h.AddReadyAgent(MakeAgent("a2"));
  ASSERT_EQ(h.AgentOf("c1"), "a1");
  ASSERT_TRUE(h.engine().SetNotReady("a1", "lunch", h.now()).ok());
  EXPECT_EQ(h.AgentOf("c1"), "a2");
}

TEST(EngineTest, LogoutWithAssignedContactsIsRefused) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  h.AddReadyAgent(MakeAgent("a1"));
  ASSERT_TRUE(h.Create(MakeContact("c1", "sales")).ok());
  ASSERT_TRUE(h.Accept("a1", "c1").ok());
  auto s = h.engine().Logout("a1", h.now());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("1 assigned"));
  ASSERT_TRUE(h.Complete("a1", "c1").ok());
  EXPECT_TRUE(h.engine().Logout("a1", h.now()).ok());
  EXPECT_EQ(h.engine().GetAgentStats("a1", h.now())->state,
            AgentState::kOffline);
}

TEST(EngineTest, ForcedLogoutSendsAssignedContactsBackToTheirPlace) {
  EngineHarness h;
  h.AddQueue(MakeQueue("chat"));
  AgentProfile lost = MakeAgent("lost", {}, kChat3);
  lost.wrap_up[1] = 60s;
  h.AddReadyAgent(lost);
  ASSERT_TRUE(h.Create(MakeContact("c1", "chat", 0, Channel::kChat)).ok());
  ASSERT_TRUE(h.Accept("lost", "c1").ok());
  ASSERT_TRUE(h.Create(MakeContact("c2", "chat", 0, Channel::kChat)).ok());
  ASSERT_TRUE(h.Accept("lost", "c2").ok());
  ASSERT_TRUE(h.Complete("lost", "c2").ok());  // in wrap-up
  h.Advance(5s);
  ASSERT_TRUE(h.Create(MakeContact("c3", "chat", 0, Channel::kChat)).ok());
  ASSERT_EQ(h.AgentOf("c3"), "lost");
  h.Advance(5s);
  ASSERT_TRUE(h.Create(MakeContact("later", "chat", 0, Channel::kChat)).ok());
  ASSERT_TRUE(h.engine().ForceLogout("lost", "connection lost", h.now()).ok());
  h.Check();
  EXPECT_EQ(h.StateOf("c1"), ContactState::kQueued);
  EXPECT_EQ(h.Get("c1").position, 1) << "back at its original place";
  EXPECT_EQ(h.StateOf("c2"), ContactState::kEnded);
  EXPECT_EQ(h.StateOf("c3"), ContactState::kQueued);
  auto stats = h.engine().GetAgentStats("lost", h.now());
  EXPECT_EQ(stats->state, AgentState::kOffline);
  EXPECT_EQ(stats->reason, "connection lost");
  h.AddReadyAgent(MakeAgent("other", {}, kChat3));
  EXPECT_EQ(h.AgentOf("c1"), "other");
  EXPECT_TRUE(h.engine().ForceLogout("lost", "again", h.now()).ok());
}

TEST(EngineTest, DisconnectedDesktopReleasesItsOfferAtOnce) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  h.AddReadyAgent(MakeAgent("a1"));
  h.AddReadyAgent(MakeAgent("a2"));
  ASSERT_TRUE(h.Create(MakeContact("c1", "sales")).ok());
  ASSERT_EQ(h.AgentOf("c1"), "a1");
  ASSERT_TRUE(h.engine().AgentDisconnected("a1", h.now()).ok());
  EXPECT_EQ(h.AgentOf("c1"), "a2");
  EXPECT_EQ(h.engine().GetAgentStats("a1", h.now())->reason, "disconnected");
}

TEST(EngineTest, UnknownOrLoggedOutAgentIsRefused) {
  EngineHarness h;
  EXPECT_EQ(h.engine().Login("ghost", h.now()).code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(h.engine().UpsertAgentProfile(MakeAgent("a1"), h.now()).ok());
  EXPECT_EQ(h.engine().SetReady("a1", h.now()).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(EngineTest, CapacityCannotDropBelowCurrentLoad) {
  EngineHarness h;
  h.AddQueue(MakeQueue("chat"));
  h.AddReadyAgent(MakeAgent("a1", {}, kChat3));
  ASSERT_TRUE(h.Create(MakeContact("c1", "chat", 0, Channel::kChat)).ok());
  ASSERT_TRUE(h.Accept("a1", "c1").ok());
  ASSERT_TRUE(h.Create(MakeContact("c2", "chat", 0, Channel::kChat)).ok());
  ASSERT_TRUE(h.Accept("a1", "c2").ok());
  auto s = h.engine().UpsertAgentProfile(MakeAgent("a1", {}, {0, 1, 0, 0, 0}),
                                         h.now());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(h.engine().ListAgentProfiles()[0].capacity[1], 3);
}

// --- Offers
// -------------------------------------------------------------------

TEST(EngineTest, RejectedOfferGoesToTheNextAgentKeepingItsPlace) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  h.AddReadyAgent(MakeAgent("a1"));
  ASSERT_TRUE(h.Create(MakeContact("first", "sales")).ok());
  h.Advance(1s);
  ASSERT_TRUE(h.Create(MakeContact("second", "sales")).ok());
  ASSERT_EQ(h.AgentOf("first"), "a1");
  EXPECT_EQ(h.Get("second").position, 2);
  h.TakeEvents();
  ASSERT_TRUE(h.Reject("a1", "first").ok());
  // a1 declined "first", so it is offered "second"; "first" keeps its place
  // at the head of the queue for the next agent.
  EXPECT_EQ(h.AgentOf("second"), "a1");
  EXPECT_EQ(h.Get("first").position, 1);
  h.AddReadyAgent(MakeAgent("a2"));
  EXPECT_EQ(h.AgentOf("first"), "a2");
  auto events = h.TakeEvents();
  ASSERT_NE(FindEvent(events, EventKind::kOfferRejected), nullptr);
}

TEST(EngineTest, OfferTimeoutRequeuesAndOffersTheNextAgent) {
  EngineHarness h;
  QueueConfig q = MakeQueue("sales");
  q.offer_timeout = 10s;
  h.AddQueue(q);
  h.AddReadyAgent(MakeAgent("a1"));
  h.Advance(1s);
  h.AddReadyAgent(MakeAgent("a2"));
  ASSERT_TRUE(h.Create(MakeContact("c1", "sales")).ok());
  ASSERT_EQ(h.AgentOf("c1"), "a1");
  h.TakeEvents();
  h.Advance(10s);
  EXPECT_EQ(h.AgentOf("c1"), "a2");
  EXPECT_EQ(h.Get("c1").arrived_at, h.now() - 10s);
  auto events = h.TakeEvents();
  const Event* timeout = FindEvent(events, EventKind::kOfferTimedOut);
  ASSERT_NE(timeout, nullptr);
  EXPECT_EQ(timeout->agent_id, "a1");
  EXPECT_EQ(h.engine().GetQueueStats("sales", h.now())->offers_timed_out, 1);
}

TEST(EngineTest, DeclinedContactReturnsToTheAgentAfterTheReofferDelay) {
  RoutingPolicy policy;
  policy.reoffer_delay = 20s;
  EngineHarness h(policy);
  h.AddQueue(MakeQueue("sales"));
  h.AddReadyAgent(MakeAgent("a1"));
  ASSERT_TRUE(h.Create(MakeContact("c1", "sales")).ok());
  ASSERT_TRUE(h.Reject("a1", "c1").ok());
  EXPECT_EQ(h.StateOf("c1"), ContactState::kQueued);
  h.Advance(20s);
  EXPECT_EQ(h.AgentOf("c1"), "a1") << "never stranded with one agent";
}

TEST(EngineTest, ConsecutiveMissedOffersMakeTheAgentNotReady) {
  RoutingPolicy policy;
  policy.max_missed_offers = 2;
  policy.reoffer_delay = 0s;
  EngineHarness h(policy);
  QueueConfig q = MakeQueue("sales");
  q.offer_timeout = 5s;
  h.AddQueue(q);
  h.AddReadyAgent(MakeAgent("a1"));
  ASSERT_TRUE(h.Create(MakeContact("c1", "sales")).ok());
  h.Advance(5s);  // first miss; offered again at once
  EXPECT_EQ(h.AgentOf("c1"), "a1");
  EXPECT_EQ(h.engine().GetAgentStats("a1", h.now())->state, AgentState::kReady);
  h.Advance(5s);  // second miss
  auto stats = h.engine().GetAgentStats("a1", h.now());
  EXPECT_EQ(stats->state, AgentState::kNotReady);
  EXPECT_EQ(stats->reason, "missed offers");
  EXPECT_EQ(h.StateOf("c1"), ContactState::kQueued);
  // Not a logout: the agent comes back with one click.
  ASSERT_TRUE(h.engine().SetReady("a1", h.now()).ok());
  EXPECT_EQ(h.AgentOf("c1"), "a1");
}

TEST(EngineTest, AcceptingAnotherAgentsOfferIsRefused) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  h.AddReadyAgent(MakeAgent("a1"));
  h.AddReadyAgent(MakeAgent("a2"));
  ASSERT_TRUE(h.Create(MakeContact("c1", "sales")).ok());
  ASSERT_EQ(h.AgentOf("c1"), "a1");
  auto s = h.Accept("a2", "c1");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("a2"));
  EXPECT_EQ(h.AgentOf("c1"), "a1");
  EXPECT_EQ(h.Complete("a1", "c1").code(),
            absl::StatusCode::kFailedPrecondition)
      << "not yet accepted";
  EXPECT_EQ(h.Accept("a1", "nope").code(), absl::StatusCode::kNotFound);
}

// --- Agent selection (decision 1)
// ---------------------------------------------

TEST(EngineTest, LongestIdleAgentIsOfferedFirst) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  h.AddReadyAgent(MakeAgent("a1"));
  h.Advance(1s);
  h.AddReadyAgent(MakeAgent("a2"));
  h.Advance(1s);
  h.AddReadyAgent(MakeAgent("a3"));
  ASSERT_TRUE(h.Create(MakeContact("c1", "sales")).ok());
  EXPECT_EQ(h.AgentOf("c1"), "a1");
  ASSERT_TRUE(h.Accept("a1", "c1").ok());
  ASSERT_TRUE(h.Complete("a1", "c1").ok());
  ASSERT_TRUE(h.Create(MakeContact("c2", "sales")).ok());
  EXPECT_EQ(h.AgentOf("c2"), "a2") << "a1 just finished a contact";
}

TEST(EngineTest, RejectingDoesNotResetIdleTime) {
  RoutingPolicy policy;
  policy.reoffer_delay = 0s;
  EngineHarness h(policy);
  h.AddQueue(MakeQueue("sales"));
  h.AddReadyAgent(MakeAgent("a1"));
  h.Advance(1s);
  h.AddReadyAgent(MakeAgent("a2"));
  ASSERT_TRUE(h.Create(MakeContact("c1", "sales")).ok());
  ASSERT_TRUE(h.Reject("a1", "c1").ok());
  ASSERT_EQ(h.AgentOf("c1"), "a2");
  ASSERT_TRUE(h.Create(MakeContact("c2", "sales")).ok());
  EXPECT_EQ(h.AgentOf("c2"), "a1");
}

TEST(EngineTest, MostSkilledPicksTheHighestLevelOnThePrimarySkill) {
  EngineHarness h;
  QueueConfig q = MakeQueue("tech", {{"tech", 3}, {"lang.en", 1}});
  q.agent_selection = AgentSelection::kMostSkilled;
  h.AddQueue(q);
  h.AddReadyAgent(MakeAgent("mid", {{"tech", 6}, {"lang.en", 9}}));
  h.Advance(1s);
  h.AddReadyAgent(MakeAgent("best", {{"tech", 9}, {"lang.en", 2}}));
  h.AddReadyAgent(MakeAgent("best_no_en", {{"tech", 10}}));
  ASSERT_TRUE(h.Create(MakeContact("c1", "tech")).ok());
  EXPECT_EQ(h.AgentOf("c1"), "best");
}

TEST(EngineTest, LeastOccupiedSpreadsChats) {
  EngineHarness h;
  QueueConfig q = MakeQueue("chat");
  q.agent_selection = AgentSelection::kLeastOccupied;
  h.AddQueue(q);
  h.AddReadyAgent(MakeAgent("a1", {}, kChat3));
  h.Advance(1s);
  h.AddReadyAgent(MakeAgent("a2", {}, kChat3));
  ASSERT_TRUE(h.Create(MakeContact("c1", "chat", 0, Channel::kChat)).ok());
  ASSERT_EQ(h.AgentOf("c1"), "a1");
  ASSERT_TRUE(h.Accept("a1", "c1").ok());
  // a1 accepted last, but what counts is that a2 has no chat at all.
  h.Advance(1s);
  ASSERT_TRUE(h.Create(MakeContact("c2", "chat", 0, Channel::kChat)).ok());
  EXPECT_EQ(h.AgentOf("c2"), "a2");
  ASSERT_TRUE(h.Accept("a2", "c2").ok());
  ASSERT_TRUE(h.Create(MakeContact("c3", "chat", 0, Channel::kChat)).ok());
  EXPECT_EQ(h.AgentOf("c3"), "a1") << "equal load: longest idle";
}

// Three queues around part of a skill ring: q1 needs s1, q2 s2, q3 s3. Each
// queue has seen a contact (cancelled at once), so its class exists. Agent
// a12 (s1, s2) becomes ready first, then a23 (s2, s3), then a3 (s3 only).
void SetUpSkillRing(EngineHarness& h, AgentSelection selection) {
  for (const char* n : {"1", "2", "3"}) {
    QueueConfig q =
        MakeQueue(std::string("q") + n, {{std::string("s") + n, 1}});
    q.agent_selection = selection;
    h.AddQueue(q);
  }
  for (const char* q : {"q1", "q3"}) {
    std::string id = std::string("seen_") + q;
    ASSERT_TRUE(h.Create(MakeContact(id, q)).ok());
    ASSERT_TRUE(
        h.engine().CancelContact(id, EndReason::kCancelled, h.now()).ok());
  }
  h.AddReadyAgent(MakeAgent("a12", {{"s1", 8}, {"s2", 4}}));
  h.Advance(1s);
  h.AddReadyAgent(MakeAgent("a23", {{"s2", 8}, {"s3", 4}}));
  h.Advance(1s);
  h.AddReadyAgent(MakeAgent("a3", {{"s3", 8}}));
  h.Advance(1s);
}

TEST(EngineTest, PreserveCoverageKeepsTheLastAgentOfAnotherQueueFree) {
  EngineHarness idle;
  SetUpSkillRing(idle, AgentSelection::kLongestIdle);
  ASSERT_TRUE(idle.Create(MakeContact("c1", "q2")).ok());
  EXPECT_EQ(idle.AgentOf("c1"), "a12") << "longest idle";

  // a12 is the only agent available for q1; taking a23 still leaves a3 for
  // q3. So a q2 contact goes to a23, and q1 keeps an agent.
  EngineHarness h;
  SetUpSkillRing(h, AgentSelection::kPreserveCoverage);
  ASSERT_TRUE(h.Create(MakeContact("c1", "q2")).ok());
  EXPECT_EQ(h.AgentOf("c1"), "a23");
  ASSERT_TRUE(h.Create(MakeContact("c2", "q1")).ok());
  EXPECT_EQ(h.AgentOf("c2"), "a12") << "answered at once";

  // Declining agents are passed over: the next best takes the contact.
  EngineHarness r;
  SetUpSkillRing(r, AgentSelection::kPreserveCoverage);
  ASSERT_TRUE(r.Create(MakeContact("c1", "q2")).ok());
  ASSERT_EQ(r.AgentOf("c1"), "a23");
  ASSERT_TRUE(r.Reject("a23", "c1").ok());
  EXPECT_EQ(r.AgentOf("c1"), "a12");
}

TEST(EngineTest, PreserveCoverageFallsBackToLongestIdle) {
  // With a second agent for q1 both candidates leave one agent behind for
  // their other queue: a tie, which the longest idle agent wins.
  EngineHarness h;
  SetUpSkillRing(h, AgentSelection::kPreserveCoverage);
  h.AddReadyAgent(MakeAgent("a1", {{"s1", 8}}));
  ASSERT_TRUE(h.Create(MakeContact("c1", "q2")).ok());
  EXPECT_EQ(h.AgentOf("c1"), "a12");
  // Then only a23 is left for q2.
  ASSERT_TRUE(h.Create(MakeContact("c2", "q2")).ok());
  EXPECT_EQ(h.AgentOf("c2"), "a23");
}

TEST(EngineTest, PreserveCoverageUsesAgentsWithoutOtherWorkFirst) {
  // An agent qualified for nothing else costs no other queue anything, so
  // a2 goes before a12, who has been idle longer but is q1's only agent.
  EngineHarness h;
  SetUpSkillRing(h, AgentSelection::kPreserveCoverage);
  h.AddReadyAgent(MakeAgent("a2", {{"s2", 2}}));
  ASSERT_TRUE(h.Create(MakeContact("c1", "q2")).ok());
  EXPECT_EQ(h.AgentOf("c1"), "a2");
  // A stricter class of the same skill counts as other work too: a12 holds
  // s2 at 4, a23 at 8, and a queue needing s2 >= 5 can only use a23.
  QueueConfig senior = MakeQueue("q2_senior", {{"s2", 5}});
  senior.agent_selection = AgentSelection::kPreserveCoverage;
  h.AddQueue(senior);
  ASSERT_TRUE(h.Create(MakeContact("seen_senior", "q2_senior")).ok());
  ASSERT_EQ(h.AgentOf("seen_senior"), "a23");
  ASSERT_TRUE(h.Reject("a23", "seen_senior").ok());
  ASSERT_TRUE(h.engine()
                  .CancelContact("seen_senior", EndReason::kCancelled, h.now())
                  .ok());
  // Now a23 is the only agent available for q2_senior as a12 is for q1: a
  // tie, which a12, idle longer, wins. (Without q2_senior it was a23.)
  ASSERT_TRUE(h.Create(MakeContact("c2", "q2")).ok());
  EXPECT_EQ(h.AgentOf("c2"), "a12");
}

// --- Contact selection (decision 2)
// -------------------------------------------

TEST(EngineTest, ServiceLevelUrgencyDecidesAcrossQueues) {
  EngineHarness h;
  QueueConfig fast = MakeQueue("fast");
  fast.service_level_target = 20s;
  QueueConfig slow = MakeQueue("slow");
  slow.service_level_target = 300s;
  h.AddQueue(fast);
  h.AddQueue(slow);
  ASSERT_TRUE(h.Create(MakeContact("slow1", "slow")).ok());
  h.Advance(25s);
  ASSERT_TRUE(h.Create(MakeContact("fast1", "fast")).ok());
  h.Advance(15s);
  // slow1 waited 40 s of 300 s (0.13); fast1 waited 15 s of 20 s (0.75).
  h.AddReadyAgent(MakeAgent("a1"));
  EXPECT_EQ(h.AgentOf("fast1"), "a1");
}

TEST(EngineTest, FifoPolicyTakesTheOldestAcrossQueues) {
  RoutingPolicy policy;
  policy.contact_selection = ContactSelection::kFifo;
  EngineHarness h(policy);
  QueueConfig fast = MakeQueue("fast");
  fast.service_level_target = 20s;
  QueueConfig slow = MakeQueue("slow");
  slow.service_level_target = 300s;
  h.AddQueue(fast);
  h.AddQueue(slow);
  ASSERT_TRUE(h.Create(MakeContact("slow1", "slow")).ok());
  h.Advance(25s);
  ASSERT_TRUE(h.Create(MakeContact("fast1", "fast")).ok());
  h.Advance(15s);
  h.AddReadyAgent(MakeAgent("a1"));
  EXPECT_EQ(h.AgentOf("slow1"), "a1");
}

TEST(EngineTest, PriorityBeatsUrgencyAcrossQueues) {
  EngineHarness h;
  h.AddQueue(MakeQueue("a"));
  h.AddQueue(MakeQueue("b"));
  ASSERT_TRUE(h.Create(MakeContact("old", "a", 0)).ok());
  h.Advance(60s);
  ASSERT_TRUE(h.Create(MakeContact("vip", "b", 3)).ok());
  h.AddReadyAgent(MakeAgent("a1"));
  EXPECT_EQ(h.AgentOf("vip"), "a1");
}

TEST(EngineTest, AgentTakesOnlyContactsItIsEligibleFor) {
  EngineHarness h;
  h.AddQueue(MakeQueue("tech", {{"tech", 5}}));
  h.AddQueue(MakeQueue("billing", {{"billing", 1}}));
  ASSERT_TRUE(h.Create(MakeContact("t1", "tech", 9)).ok());
  h.Advance(1s);
  ASSERT_TRUE(h.Create(MakeContact("b1", "billing")).ok());
  h.AddReadyAgent(MakeAgent("a1", {{"billing", 2}, {"tech", 4}}));
  EXPECT_EQ(h.AgentOf("b1"), "a1");
  EXPECT_EQ(h.StateOf("t1"), ContactState::kQueued);
}

// --- Escalation
// ---------------------------------------------------------------

TEST(EngineTest, EscalationWidensTheAgentsKeepingThePlace) {
  EngineHarness h;
  QueueConfig q = MakeQueue("support", {{"support", 8}});
  q.escalation = {{30s, {{"support", 3}}, false}};
  h.AddQueue(q);
  h.AddReadyAgent(MakeAgent("generalist", {{"support", 4}}));
  ASSERT_TRUE(h.Create(MakeContact("c1", "support")).ok());
  h.Advance(10s);
  ASSERT_TRUE(h.Create(MakeContact("c2", "support")).ok());
  EXPECT_EQ(h.StateOf("c1"), ContactState::kQueued);
  h.TakeEvents();
  h.Advance(20s);
  EXPECT_EQ(h.AgentOf("c1"), "generalist");
  EXPECT_EQ(h.Get("c1").escalation_step, 1);
  EXPECT_EQ(h.Get("c1").arrived_at, h.now() - 30s);
  auto events = h.TakeEvents();
  ASSERT_NE(FindEvent(events, EventKind::kContactEscalated), nullptr);
  EXPECT_EQ(h.Get("c2").position, 2);
  EXPECT_EQ(h.Get("c2").escalation_step, 0);
}

TEST(EngineTest, EscalatedContactStaysAheadOfLaterArrivals) {
  EngineHarness h;
  QueueConfig q = MakeQueue("support", {{"support", 8}});
  q.escalation = {{30s, {{"support", 3}}, false}};
  h.AddQueue(q);
  ASSERT_TRUE(h.Create(MakeContact("early", "support")).ok());
  h.Advance(40s);  // early has escalated
  ASSERT_TRUE(h.Create(MakeContact("late", "support")).ok());
  h.AddReadyAgent(MakeAgent("expert", {{"support", 9}}));
  EXPECT_EQ(h.AgentOf("early"), "expert");
}

TEST(EngineTest, EscalationCanDropTheContactsOwnRequirements) {
  EngineHarness h;
  QueueConfig q = MakeQueue("support");
  q.escalation = {{60s, {}, true}};
  h.AddQueue(q);
  h.AddReadyAgent(MakeAgent("en", {{"lang.en", 9}}));
  ContactRequest r = MakeContact("c1", "support");
  r.requirements = {{"lang.fr", 5}};
  ASSERT_TRUE(h.Create(r).ok());
  h.Advance(59s);
  EXPECT_EQ(h.StateOf("c1"), ContactState::kQueued);
  h.Advance(1s);
  EXPECT_EQ(h.AgentOf("c1"), "en");
}

// --- Callbacks, cancel, transfer ---------------------------------------------

TEST(EngineTest, ScheduledCallbackBecomesRoutableOnTime) {
  EngineHarness h;
  h.AddQueue(MakeQueue("callbacks"));
  h.AddReadyAgent(MakeAgent("a1", {}, {0, 0, 0, 1, 0}));
  ContactRequest r = MakeContact("cb1", "callbacks", 0, Channel::kCallback);
  r.not_before = h.now() + 5min;
  auto v = h.Create(r);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->state, ContactState::kScheduled);
  EXPECT_EQ(v->position, 0);
  EXPECT_EQ(h.engine().GetQueueStats("callbacks", h.now())->scheduled, 1);
  EXPECT_EQ(h.engine().NextDeadline(), h.now() + 5min);
  h.Advance(4min + 59s);
  EXPECT_EQ(h.StateOf("cb1"), ContactState::kScheduled);
  h.Advance(1s);
  EXPECT_EQ(h.AgentOf("cb1"), "a1");
  EXPECT_EQ(h.Get("cb1").arrived_at, h.now());
}

TEST(EngineTest, ScheduledCallbackCanBeCancelled) {
  EngineHarness h;
  h.AddQueue(MakeQueue("callbacks"));
  ContactRequest r = MakeContact("cb1", "callbacks", 0, Channel::kCallback);
  r.not_before = h.now() + 5min;
  ASSERT_TRUE(h.Create(r).ok());
  ASSERT_TRUE(
      h.engine().CancelContact("cb1", EndReason::kCancelled, h.now()).ok());
  EXPECT_EQ(h.Get("cb1").end_reason, EndReason::kCancelled);
  EXPECT_FALSE(h.engine().NextDeadline().has_value());
  h.Advance(10min);
  EXPECT_EQ(h.engine().live_contacts(), 0u);
}

TEST(EngineTest, CallerHangingUpWhileOfferedFreesTheAgent) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  h.AddReadyAgent(MakeAgent("a1"));
  ASSERT_TRUE(h.Create(MakeContact("c1", "sales")).ok());
  ASSERT_TRUE(h.Create(MakeContact("c2", "sales")).ok());
  ASSERT_EQ(h.AgentOf("c1"), "a1");
  h.TakeEvents();
  ASSERT_TRUE(
      h.engine().CancelContact("c1", EndReason::kAbandoned, h.now()).ok());
  EXPECT_EQ(h.AgentOf("c2"), "a1");
  auto events = h.TakeEvents();
  EXPECT_THAT(Kinds(events),
              ElementsAre(EventKind::kOfferRescinded, EventKind::kContactEnded,
                          EventKind::kContactOffered));
  EXPECT_EQ(h.engine().GetQueueStats("sales", h.now())->abandoned, 1);
  EXPECT_TRUE(
      h.engine().CancelContact("c1", EndReason::kAbandoned, h.now()).ok())
      << "a retried cancel is done";
  EXPECT_EQ(h.engine().GetQueueStats("sales", h.now())->abandoned, 1);
  EXPECT_EQ(
      h.engine().CancelContact("c1", EndReason::kCancelled, h.now()).code(),
      absl::StatusCode::kFailedPrecondition);
}

TEST(EngineTest, AssignedContactCannotBeCancelledByTheGateway) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  h.AddReadyAgent(MakeAgent("a1"));
  ASSERT_TRUE(h.Create(MakeContact("c1", "sales")).ok());
  ASSERT_TRUE(h.Accept("a1", "c1").ok());
  EXPECT_EQ(
      h.engine().CancelContact("c1", EndReason::kAbandoned, h.now()).code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(h.StateOf("c1"), ContactState::kAssigned);
}

TEST(EngineTest, TransferSendsTheContactToAnotherQueue) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales", {{"sales", 1}}));
  h.AddQueue(MakeQueue("tech", {{"tech", 1}}));
  AgentProfile seller = MakeAgent("seller", {{"sales", 5}});
  seller.wrap_up[0] = 30s;
  h.AddReadyAgent(seller);
  h.AddReadyAgent(MakeAgent("techie", {{"tech", 5}}));
  ASSERT_TRUE(h.Create(MakeContact("c1", "sales", 2)).ok());
  ASSERT_TRUE(h.Accept("seller", "c1").ok());
  h.Advance(30s);
  ASSERT_TRUE(h.engine().TransferContact("seller", "c1", "tech", h.now()).ok());
  ContactView v = h.Get("c1");
  EXPECT_EQ(v.queue, "tech");
  EXPECT_EQ(v.agent_id, "techie");
  EXPECT_EQ(v.priority, 2);
  auto seller_stats = h.engine().GetAgentStats("seller", h.now());
  EXPECT_EQ(seller_stats->load[0], 1) << "wrap-up after the transfer";
  h.Advance(30s);
  EXPECT_EQ(h.engine().GetAgentStats("seller", h.now())->load[0], 0);
  EXPECT_EQ(h.engine().GetQueueStats("tech", h.now())->transferred_in, 1);
  EXPECT_EQ(
      h.engine().TransferContact("techie", "c1", "nowhere", h.now()).code(),
      absl::StatusCode::kFailedPrecondition)
      << "not yet accepted by techie";
}

TEST(EngineTest, UpdatePriorityMovesTheContactKeepingItsArrival) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  ASSERT_TRUE(h.Create(MakeContact("c1", "sales")).ok());
  h.Advance(1s);
  ASSERT_TRUE(h.Create(MakeContact("c2", "sales")).ok());
  ASSERT_TRUE(h.engine().UpdateContact("c2", 5, std::nullopt, h.now()).ok());
  EXPECT_EQ(h.Get("c2").position, 1);
  EXPECT_EQ(h.Get("c2").arrived_at, h.now());
  EXPECT_EQ(h.engine().UpdateContact("c2", -3, std::nullopt, h.now()).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(h.Get("c2").priority, 5);
}

// --- Position, estimated wait, statistics -----------------------------------

TEST(EngineTest, EstimatedWaitIsPositionTimesHandleTimeOverReadyCapacity) {
  EngineHarness h;
  QueueConfig q = MakeQueue("sales");
  q.default_handle_time = 120s;
  h.AddQueue(q);
  h.AddReadyAgent(MakeAgent("a1"));
  h.AddReadyAgent(MakeAgent("a2"));
  for (std::string id : {"c1", "c2", "c3", "c4"}) {
    ASSERT_TRUE(h.Create(MakeContact(id, "sales")).ok());
  }
  ASSERT_TRUE(h.Accept("a1", "c1").ok());
  ASSERT_TRUE(h.Accept("a2", "c2").ok());
  ContactView c4 = h.Get("c4");
  EXPECT_EQ(c4.position, 2);
  ASSERT_TRUE(c4.estimated_wait.has_value());
  EXPECT_EQ(*c4.estimated_wait, 120s * 2 / 2);
  // Once handle times are measured they replace the default.
  h.Advance(60s);
  ASSERT_TRUE(h.Complete("a1", "c1").ok());
  ASSERT_TRUE(h.Accept("a1", "c3").ok());
  EXPECT_EQ(h.Get("c4").position, 1);
  EXPECT_EQ(*h.Get("c4").estimated_wait, 60s * 1 / 2);
}

TEST(EngineTest, EstimatedWaitIsUnknownWithNoAgentReady) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  ASSERT_TRUE(h.Create(MakeContact("c1", "sales")).ok());
  EXPECT_EQ(h.Get("c1").position, 1);
  EXPECT_FALSE(h.Get("c1").estimated_wait.has_value());
}

TEST(EngineTest, QueueStatisticsCountOutcomesAndServiceLevel) {
  EngineHarness h;
  QueueConfig q = MakeQueue("sales");
  q.service_level_target = 20s;
  h.AddQueue(q);
  ASSERT_TRUE(h.Create(MakeContact("fast", "sales")).ok());
  ASSERT_TRUE(h.Create(MakeContact("slow", "sales")).ok());
  ASSERT_TRUE(h.Create(MakeContact("gone", "sales")).ok());
  ASSERT_TRUE(h.Create(MakeContact("quick_hangup", "sales")).ok());
  h.Advance(5s);
  ASSERT_TRUE(h.engine()
                  .CancelContact("quick_hangup", EndReason::kAbandoned, h.now())
                  .ok());
  auto mid = h.engine().GetQueueStats("sales", h.now());
  EXPECT_EQ(mid->waiting, 3);
  EXPECT_EQ(mid->oldest_wait, 5s);
  h.AddReadyAgent(MakeAgent("a1"));
  ASSERT_TRUE(h.Accept("a1", "fast").ok());  // after 5 s
  ASSERT_TRUE(h.engine().SetNotReady("a1", "break", h.now()).ok());
  ASSERT_TRUE(h.Complete("a1", "fast").ok());
  h.Advance(25s);
  ASSERT_TRUE(
      h.engine().CancelContact("gone", EndReason::kAbandoned, h.now()).ok());
  ASSERT_TRUE(h.engine().SetReady("a1", h.now()).ok());
  ASSERT_TRUE(h.Accept("a1", "slow").ok());  // after 30 s
  auto s = h.engine().GetQueueStats("sales", h.now());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->created, 4);
  EXPECT_EQ(s->answered, 2);
  EXPECT_EQ(s->abandoned, 2);
  EXPECT_EQ(s->offers_accepted, 2);
  EXPECT_EQ(s->waiting, 0);
  // Within target: fast. Counted: 2 answered + 1 abandoned after the
  // target (the 5 s hang-up is a short abandon).
  ASSERT_TRUE(s->service_level.has_value());
  EXPECT_DOUBLE_EQ(*s->service_level, 1.0 / 3.0);
  EXPECT_EQ(*s->average_speed_of_answer, 17500ms);
}

TEST(EngineTest, AgentStatisticsTrackHandledAndOccupancy) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  h.AddReadyAgent(MakeAgent("a1"));
  h.Advance(30s);  // idle
  ASSERT_TRUE(h.Create(MakeContact("c1", "sales")).ok());
  ASSERT_TRUE(h.Accept("a1", "c1").ok());
  h.Advance(90s);  // busy
  ASSERT_TRUE(h.Complete("a1", "c1").ok());
  auto s = h.engine().GetAgentStats("a1", h.now());
  EXPECT_EQ(s->handled, 1);
  ASSERT_TRUE(s->occupancy.has_value());
  EXPECT_DOUBLE_EQ(*s->occupancy, 0.75);
  EXPECT_EQ(s->state, AgentState::kReady);
}

// --- Administration
// -----------------------------------------------------------

TEST(EngineTest, RelaxingQueueRequirementsRoutesWaitingContacts) {
  EngineHarness h;
  h.AddQueue(MakeQueue("tech", {{"tech", 9}}));
  h.AddReadyAgent(MakeAgent("a1", {{"tech", 5}}));
  ASSERT_TRUE(h.Create(MakeContact("c1", "tech")).ok());
  EXPECT_EQ(h.StateOf("c1"), ContactState::kQueued);
  h.AddQueue(MakeQueue("tech", {{"tech", 5}}));
  EXPECT_EQ(h.AgentOf("c1"), "a1");
}

TEST(EngineTest, TighteningQueueRequirementsWithdrawsUnqualifiedOffers) {
  EngineHarness h;
  h.AddQueue(MakeQueue("tech", {{"tech", 3}}));
  h.AddReadyAgent(MakeAgent("junior", {{"tech", 4}}));
  ASSERT_TRUE(h.Create(MakeContact("c1", "tech")).ok());
  ASSERT_EQ(h.AgentOf("c1"), "junior");
  h.AddQueue(MakeQueue("tech", {{"tech", 7}}));
  EXPECT_EQ(h.StateOf("c1"), ContactState::kQueued);
  h.AddReadyAgent(MakeAgent("senior", {{"tech", 8}}));
  EXPECT_EQ(h.AgentOf("c1"), "senior");
}

TEST(EngineTest, QueueWithContactsCannotBeDeleted) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  ASSERT_TRUE(h.Create(MakeContact("c1", "sales")).ok());
  EXPECT_EQ(h.engine().DeleteQueue("sales", h.now()).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(
      h.engine().CancelContact("c1", EndReason::kCancelled, h.now()).ok());
  EXPECT_TRUE(h.engine().DeleteQueue("sales", h.now()).ok());
  h.Check();
  EXPECT_TRUE(h.engine().ListQueues().empty());
}

TEST(EngineTest, GainingASkillMakesTheAgentEligible) {
  EngineHarness h;
  h.AddQueue(MakeQueue("tech", {{"tech", 5}}));
  h.AddReadyAgent(MakeAgent("a1", {{"billing", 5}}));
  ASSERT_TRUE(h.Create(MakeContact("c1", "tech")).ok());
  ASSERT_TRUE(h.engine()
                  .UpsertAgentProfile(
                      MakeAgent("a1", {{"billing", 5}, {"tech", 7}}), h.now())
                  .ok());
  EXPECT_EQ(h.AgentOf("c1"), "a1");
}

TEST(EngineTest, TimeNeverRunsBackwards) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  ASSERT_TRUE(h.Create(MakeContact("c1", "sales")).ok());
  Time before = h.engine().now();
  h.engine().AdvanceTo(before - 100s);
  EXPECT_EQ(h.engine().now(), before);
}

}  // namespace
}  // namespace ccroute::core
