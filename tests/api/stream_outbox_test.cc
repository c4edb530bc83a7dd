// StreamOutbox with a fake reactor: one write in flight, Finish exactly once
// and never while a write or a cancel is in flight, and a peer that stopped
// reading cancelled rather than left holding its stream.
#include "server/api/stream_outbox.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ccroute::api {
namespace {

// Records what the outbox asks of the reactor.
struct FakeReactor {
  std::vector<std::string> writes;
  std::vector<grpc::Status> finishes;
  int cancels = 0;
  // Run inside cancel, as gRPC may complete the pending write there.
  std::function<void()> on_cancel;
};

std::unique_ptr<StreamOutbox<std::string>> OutboxFor(FakeReactor& r,
                                                     size_t limit) {
  return std::make_unique<StreamOutbox<std::string>>(
      limit, [&r](const std::string* m) { r.writes.push_back(*m); },
      [&r](const grpc::Status& s) { r.finishes.push_back(s); },
      [&r] {
        r.cancels++;
        if (r.on_cancel) r.on_cancel();
      });
}

const grpc::Status kTooSlow(grpc::StatusCode::RESOURCE_EXHAUSTED, "too slow");

TEST(StreamOutboxTest, OneWriteInFlightAndFinishAfterTheQueueDrains) {
  FakeReactor r;
  auto outbox = OutboxFor(r, 4);
  using R = StreamOutbox<std::string>::PushResult;
  EXPECT_EQ(outbox->Push("a"), R::kQueued);
  EXPECT_EQ(outbox->Push("b"), R::kQueued);
  EXPECT_EQ(r.writes, (std::vector<std::string>{"a"}));
  outbox->Close(grpc::Status::OK);
  EXPECT_EQ(outbox->Push("c"), R::kClosed);
  outbox->OnWriteDone(true);
  EXPECT_EQ(r.writes, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(r.finishes.empty());
  outbox->OnWriteDone(true);
  ASSERT_EQ(r.finishes.size(), 1u);
  EXPECT_TRUE(r.finishes[0].ok());
  EXPECT_EQ(r.cancels, 0);
}

TEST(StreamOutboxTest, CloseNowBelowTheLimitWaitsForTheWriteWithoutCancel) {
  FakeReactor r;
  auto outbox = OutboxFor(r, 4);
  outbox->Push("a");
  outbox->Push("b");
  outbox->CloseNow(kTooSlow);
  EXPECT_EQ(r.cancels, 0) << "a peer that is reading keeps its status";
  EXPECT_TRUE(r.finishes.empty());
  outbox->OnWriteDone(true);
  ASSERT_EQ(r.finishes.size(), 1u);
  EXPECT_EQ(r.finishes[0].error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(r.writes, (std::vector<std::string>{"a"})) << "b was dropped";
}

TEST(StreamOutboxTest, PeerThatStoppedReadingIsCancelledAndFinishedOnce) {
  FakeReactor r;
  auto outbox = OutboxFor(r, 2);
  using R = StreamOutbox<std::string>::PushResult;
  outbox->Push("a");  // in flight, never done: the peer reads nothing
  outbox->Push("b");
  EXPECT_EQ(outbox->Push("c"), R::kFull);
  outbox->CloseNow(kTooSlow);
  EXPECT_EQ(r.cancels, 1);
  // Cancelled, the call's pending write fails; only then may it finish.
  EXPECT_TRUE(r.finishes.empty());
  outbox->OnWriteDone(false);
  ASSERT_EQ(r.finishes.size(), 1u);
  EXPECT_EQ(r.finishes[0].error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // gRPC's OnCancel follows; nothing more happens.
  outbox->CloseNow(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  EXPECT_EQ(r.finishes.size(), 1u);
  EXPECT_EQ(r.cancels, 1);
}

TEST(StreamOutboxTest, NoFinishWhileTheCancelRuns) {
  FakeReactor r;
  auto outbox = OutboxFor(r, 1);
  outbox->Push("a");
  size_t finishes_inside_cancel = 0;
  // gRPC may complete the write, and call OnCancel, inside TryCancel.
  r.on_cancel = [&] {
    outbox->OnWriteDone(false);
    outbox->CloseNow(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
    finishes_inside_cancel = r.finishes.size();
  };
  outbox->CloseNow(kTooSlow);
  EXPECT_EQ(finishes_inside_cancel, 0u)
      << "Finish would let gRPC free the call TryCancel is using";
  ASSERT_EQ(r.finishes.size(), 1u);
  EXPECT_EQ(r.finishes[0].error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

// Counts its copies.
struct Counted {
  static inline int copies = 0;
  Counted() = default;
  Counted(const Counted&) { copies++; }
  Counted& operator=(const Counted&) {
    copies++;
    return *this;
  }
  Counted(Counted&&) = default;
  Counted& operator=(Counted&&) = default;
};

TEST(StreamOutboxTest, AMessageIsCopiedOnlyWhenQueued) {
  StreamOutbox<Counted> outbox(
      1, [](const Counted*) {}, [](const grpc::Status&) {});
  const Counted event;
  Counted::copies = 0;
  using R = StreamOutbox<Counted>::PushResult;
  EXPECT_EQ(outbox.Push(event), R::kQueued);
  EXPECT_EQ(Counted::copies, 1);
  // Full: the engine thread pays nothing for a stream that stopped reading.
  EXPECT_EQ(outbox.Push(event), R::kFull);
  EXPECT_EQ(outbox.Push(event), R::kFull);
  outbox.CloseNow(grpc::Status::OK);
  EXPECT_EQ(outbox.Push(event), R::kClosed);
  EXPECT_EQ(Counted::copies, 1);
}

}  // namespace
}  // namespace ccroute::api
