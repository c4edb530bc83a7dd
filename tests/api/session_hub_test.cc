// SessionHub's event feed with fake reactors: each event is serialized once
// and the same bytes go to every subscriber, and a subscriber that fell behind
// is told how many events it missed on the next one it gets, while the others
// are not.
#include "server/api/session_hub.h"

#include <grpcpp/impl/codegen/proto_utils.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace ccroute::api {
namespace {

using namespace std::chrono_literals;

// A subscriber's stream: records every write the outbox starts, and
// completes them only when told.
struct FakeFeed {
  std::vector<grpc::ByteBuffer> writes;
  size_t done = 0;  // writes completed
  std::shared_ptr<EventOutbox> outbox;

  explicit FakeFeed(size_t limit)
      : outbox(std::make_shared<EventOutbox>(
            limit, [this](const grpc::ByteBuffer* m) { writes.push_back(*m); },
            [](const grpc::Status&) {})) {}

  // Completes every write started so far and any that follow.
  void Drain() {
    while (done < writes.size()) {
      ++done;
      outbox->OnWriteDone(true);
    }
  }
  // Where the bytes of write `i` live: equal for two writes only when they
  // share the same serialized event.
  const uint8_t* Storage(size_t i) const {
    std::vector<grpc::Slice> slices;
    EXPECT_TRUE(writes.at(i).Dump(&slices).ok());
    // Shorter slices are inlined, copied into each reference.
    EXPECT_GT(writes.at(i).Length(), size_t{GRPC_SLICE_INLINED_SIZE});
    return slices.empty() ? nullptr : slices.front().begin();
  }
  v1::Event Written(size_t i) const {
    grpc::ByteBuffer bytes(writes.at(i));
    v1::Event e;
    EXPECT_TRUE(
        grpc::SerializationTraits<v1::Event>::Deserialize(&bytes, &e).ok());
    return e;
  }
};

class SessionHubEventsTest : public ::testing::Test {
 protected:
  SessionHubEventsTest()
      : runner_(core::EngineLimits{}, core::RoutingPolicy{}),
        clock_(core::Time(1000s), std::chrono::system_clock::now()),
        hub_(runner_, clock_, HubLimits{}),
        engine_(core::EngineLimits{}, core::RoutingPolicy{}) {}

  // The engine announced that contact `id` ended.
  void Ended(const std::string& id) {
    core::Event e;
    e.kind = core::EventKind::kContactEnded;
    e.at = core::Time(1000s);
    e.contact_id = id;
    e.queue = "sales";
    e.end_reason = core::EndReason::kCancelled;
    hub_.OnEvents({e}, engine_, core::Time(1000s));
  }

  runtime::EngineRunner runner_;  // not started: the test is the engine
  TimeMapper clock_;
  SessionHub hub_;
  core::Engine engine_;
};

TEST_F(SessionHubEventsTest, ASubscriberBehindIsToldWhatItMissedAndOnlyIt) {
  FakeFeed slow(2), fast(100);
  ASSERT_TRUE(hub_.AddSubscriber({}, slow.outbox).ok());
  ASSERT_TRUE(hub_.AddSubscriber({}, fast.outbox).ok());

  // The slow feed holds one event being written and one queued; the next
  // three find it full.
  for (int i = 1; i <= 5; ++i) {
    Ended("c" + std::to_string(i));
    fast.Drain();
  }
  ASSERT_EQ(fast.writes.size(), 5u);
  ASSERT_EQ(slow.writes.size(), 1u);
  EXPECT_EQ(hub_.dropped_events(), 3);
  slow.Drain();
  ASSERT_EQ(slow.writes.size(), 2u);
  EXPECT_EQ(slow.Written(0).contact_id(), "c1");
  EXPECT_EQ(slow.Written(1).contact_id(), "c2");
  // Both feeds write the one serialization of each event.
  EXPECT_EQ(slow.Storage(0), fast.Storage(0));
  EXPECT_EQ(slow.Storage(1), fast.Storage(1));

  Ended("c6");
  fast.Drain();
  ASSERT_EQ(slow.writes.size(), 3u);
  v1::Event told = slow.Written(2);
  EXPECT_EQ(told.contact_id(), "c6");
  EXPECT_EQ(told.kind(), "contact_ended");
  EXPECT_EQ(told.dropped_before(), 3);
  EXPECT_NE(slow.Storage(2), fast.Storage(5));  // its own copy
  for (size_t i = 0; i < fast.writes.size(); ++i) {
    v1::Event e = fast.Written(i);
    EXPECT_EQ(e.contact_id(), "c" + std::to_string(i + 1));
    EXPECT_EQ(e.dropped_before(), 0) << e.contact_id();
  }
  // Caught up: the next event carries no count, and shares the fast
  // feed's bytes again.
  slow.Drain();
  Ended("c7");
  fast.Drain();
  ASSERT_EQ(slow.writes.size(), 4u);
  EXPECT_EQ(slow.Written(3).contact_id(), "c7");
  EXPECT_EQ(slow.Written(3).dropped_before(), 0);
  EXPECT_EQ(slow.Storage(3), fast.Storage(6));
}

TEST_F(SessionHubEventsTest, AFilteredOutSubscriberGetsNothing) {
  FakeFeed sales(10), support(10);
  EventFilter only_support;
  only_support.queues = {"support"};
  ASSERT_TRUE(hub_.AddSubscriber({}, sales.outbox).ok());
  ASSERT_TRUE(hub_.AddSubscriber(only_support, support.outbox).ok());
  Ended("c1");
  EXPECT_EQ(sales.writes.size(), 1u);
  EXPECT_EQ(support.writes.size(), 0u);
}

}  // namespace
}  // namespace ccroute::api
