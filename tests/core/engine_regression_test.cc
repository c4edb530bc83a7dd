// Regression tests for engine bugs found by the property test and the
// fuzzer (tests/core/property_test.cc, tests/core/engine_fuzz.cc). Each is
// the minimised sequence that broke an invariant.
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

TEST(EngineRegressionTest,
     RefusesVoiceBlockingOtherChannelsWhileVoiceAndOtherWorkInProgress) {
  EngineHarness h;
  h.AddQueue(MakeQueue("q"));
  AgentProfile a = MakeAgent("a1", {}, {1, 1, 0, 0, 0});
  a.voice_blocks_other_channels = false;
  h.AddReadyAgent(a);
  ASSERT_TRUE(h.Create(MakeContact("chat", "q", 0, Channel::kChat)).ok());
  ASSERT_TRUE(h.Accept("a1", "chat").ok());
  ASSERT_TRUE(h.Create(MakeContact("voice", "q", 0, Channel::kVoice)).ok());
  ASSERT_TRUE(h.Accept("a1", "voice").ok());

  a.voice_blocks_other_channels = true;
  EXPECT_EQ(h.engine().UpsertAgentProfile(a, h.now()).code(),
            absl::StatusCode::kFailedPrecondition);
  h.Check();
  ASSERT_TRUE(h.Complete("a1", "chat").ok());
  EXPECT_TRUE(h.engine().UpsertAgentProfile(a, h.now()).ok());
  h.Check();
}

TEST(EngineRegressionTest, CreateRefusedForSkillNamesDoesNotCountAnOverflow) {
  EngineLimits limits;
  limits.max_skills = 1;
  EngineHarness h({}, limits);
  QueueConfig small = MakeQueue("small");
  small.max_waiting = 1;
  small.overflow_queue = "backup";
  h.AddQueue(small);
  h.AddQueue(MakeQueue("backup"));
  ASSERT_TRUE(h.Create(MakeContact("c1", "small")).ok());
  ContactRequest r = MakeContact("c2", "small");
  r.requirements = {{"french", 1}};
  ASSERT_TRUE(h.Create(r).ok());
  EXPECT_EQ(h.engine().GetQueueStats("small", h.now())->overflowed, 1);

  r = MakeContact("c3", "small");
  r.requirements = {{"german", 1}};
  EXPECT_EQ(h.Create(r).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(h.engine().GetQueueStats("small", h.now())->overflowed, 1);
  h.Check();
}

TEST(EngineRegressionTest, ReoffersWhenAShorterDeclineEndsFirst) {
  RoutingPolicy policy;
  policy.reoffer_delay = 30s;
  EngineHarness h(policy);
  h.AddQueue(MakeQueue("q"));
  h.AddReadyAgent(MakeAgent("a1"));
  h.AddReadyAgent(MakeAgent("a2"));
  ASSERT_TRUE(h.Create(MakeContact("c1", "q")).ok());
  ASSERT_EQ(h.AgentOf("c1"), "a1");
  ASSERT_TRUE(h.Reject("a1", "c1").ok());
  ASSERT_EQ(h.AgentOf("c1"), "a2");

  // a2's decline, under a shorter delay, ends 25 s before a1's.
  policy.reoffer_delay = 5s;
  ASSERT_TRUE(h.engine().SetRoutingPolicy(policy, h.now()).ok());
  ASSERT_TRUE(h.Reject("a2", "c1").ok());
  EXPECT_EQ(h.StateOf("c1"), ContactState::kQueued);
  h.Advance(6s);
  EXPECT_EQ(h.StateOf("c1"), ContactState::kOffered);
  EXPECT_EQ(h.AgentOf("c1"), "a2");
}

TEST(EngineRegressionTest,
     EscalationEndsTheWaitForAPreferredAgentWhoLacksTheStepsSkills) {
  EngineHarness h;
  QueueConfig q = MakeQueue("q");
  q.escalation = {{10s, {{"sales", 1}}, false}};
  h.AddQueue(q);
  h.AddReadyAgent(MakeAgent("a1"));
  // a1 is busy: the contact waits for it in person.
  ASSERT_TRUE(h.Create(MakeContact("c0", "q")).ok());
  ASSERT_TRUE(h.Accept("a1", "c0").ok());
  h.AddReadyAgent(MakeAgent("a2", {{"sales", 5}}));
  ContactRequest r = MakeContact("c1", "q");
  r.preferred_agent = "a1";
  r.preferred_wait = 60s;
  ASSERT_TRUE(h.Create(r).ok());
  ASSERT_EQ(h.StateOf("c1"), ContactState::kQueued);

  h.Advance(10s);
  EXPECT_EQ(h.Get("c1").escalation_step, 1);
  EXPECT_EQ(h.AgentOf("c1"), "a2");
  ASSERT_TRUE(h.Reject("a2", "c1").ok());
  // a1 comes free but cannot take the contact at this step.
  ASSERT_TRUE(h.Complete("a1", "c0").ok());
  EXPECT_EQ(h.StateOf("c1"), ContactState::kQueued);
}

TEST(EngineRegressionTest,
     EscalationWithdrawsAnOfferToAnAgentWhoLacksTheStepsSkills) {
  EngineHarness h;
  // An unusual but valid queue: the step asks for more than the base.
  QueueConfig q = MakeQueue("q");
  q.escalation = {{10s, {{"sales", 1}}, false}};
  q.offer_timeout = 30s;
  h.AddQueue(q);
  h.AddReadyAgent(MakeAgent("a1"));
  ASSERT_TRUE(h.Create(MakeContact("c1", "q")).ok());
  ASSERT_EQ(h.AgentOf("c1"), "a1");
  h.AddReadyAgent(MakeAgent("a2", {{"sales", 5}}));

  h.Advance(10s);
  EXPECT_EQ(h.Get("c1").escalation_step, 1);
  EXPECT_EQ(h.AgentOf("c1"), "a2");
  auto a1 = h.engine().GetAgentStats("a1", h.now());
  ASSERT_TRUE(a1.ok());
  EXPECT_EQ(a1->offered_contact, "");
}

}  // namespace
}  // namespace ccroute::core

namespace ccroute::core {
namespace {

using namespace std::chrono_literals;
using testing::EngineHarness;
using testing::MakeAgent;
using testing::MakeContact;
using testing::MakeQueue;

TEST(EngineRegressionTest,
     QueueUpdateResetsAMaximumWaitThatPassedWhileOffered) {
  EngineHarness h;
  QueueConfig q = MakeQueue("q");
  q.max_wait = 10s;
  q.offer_timeout = 60s;
  h.AddQueue(q);
  h.AddReadyAgent(MakeAgent("a1"));
  h.AddReadyAgent(MakeAgent("a2"));
  ASSERT_TRUE(h.Create(MakeContact("c1", "q")).ok());
  ASSERT_EQ(h.AgentOf("c1"), "a1");
  h.Advance(15s);   // the maximum wait passes while c1 is offered
  q.max_wait = 0s;  // ... and then the queue no longer has one
  h.AddQueue(q);
  ASSERT_TRUE(h.Reject("a1", "c1").ok());
  EXPECT_EQ(h.StateOf("c1"), ContactState::kOffered)
      << "requeued and offered to a2, not expired";
  EXPECT_EQ(h.AgentOf("c1"), "a2");
}

}  // namespace
}  // namespace ccroute::core
