#include "server/core/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/core/engine_test_util.h"

namespace ccroute::core {
namespace {

using namespace std::chrono_literals;
using testing::EngineHarness;
using testing::MakeAgent;
using testing::MakeContact;
using testing::MakeQueue;

TEST(EngineTest, OffersArrivingContactToReadyAgent) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  h.AddReadyAgent(MakeAgent("a1"));
  auto v = h.Create(MakeContact("c1", "sales"));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->created);
  EXPECT_EQ(v->state, ContactState::kOffered);
  EXPECT_EQ(v->agent_id, "a1");
  ASSERT_TRUE(h.Accept("a1", "c1").ok());
  EXPECT_EQ(h.StateOf("c1"), ContactState::kAssigned);
  ASSERT_TRUE(h.Complete("a1", "c1").ok());
  EXPECT_EQ(h.StateOf("c1"), ContactState::kEnded);
  EXPECT_EQ(h.Get("c1").end_reason, EndReason::kCompleted);
}

}  // namespace
}  // namespace ccroute::core
