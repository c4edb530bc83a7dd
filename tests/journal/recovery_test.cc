// Recovery: an engine's contacts journaled, the journal reopened, and a new
// engine rebuilt from it at a later time.
#include "server/journal/recovery.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/journal/records.h"
#include "server/journal/rocksdb_journal.h"
#include "tests/core/engine_test_util.h"
#include "tests/journal/journal_test_util.h"

namespace ccroute::journal {
namespace {

using namespace std::chrono_literals;
using core::testing::EngineHarness;
using core::testing::MakeAgent;
using core::testing::MakeContact;
using core::testing::MakeQueue;
using testing::AppendAndWait;
using testing::T0;
using testing::TempDir;

constexpr core::Duration kRetention = 10min;

// Journals what the engine holds for `ids` as a server would: the create
// request once, then the latest status.
Batch Journaled(core::Engine& engine, const ClockMap& clock,
                const std::vector<core::ContactRequest>& requests) {
  Batch b;
  for (const core::ContactRequest& r : requests) {
    auto v = engine.GetContact(r.id, engine.now());
    EXPECT_TRUE(v.ok());
    Contact c;
    *c.mutable_request() = ToRecord(r, clock);
    c.set_created_unix_ns(clock.ToUnixNanos(v->created_at));
    b.PutContact(std::move(c), StatusOf(*v, clock));
  }
  return b;
}

void ConfigureAfterRestart(EngineHarness& h) {
  h.AddQueue(MakeQueue("sales"));
  h.AddQueue(MakeQueue("support", {{"support", 5}}));
  ASSERT_TRUE(h.engine().UpsertAgentProfile(MakeAgent("a1"), h.now()).ok());
}

TEST(RecoveryTest, ContactsComeBackAtTheirPlacesAndAssignedStayWithTheAgent) {
  TempDir dir;
  std::vector<core::ContactRequest> requests;
  std::map<std::string, int> positions;
  {
    EngineHarness before;
    before.AddQueue(MakeQueue("sales"));
    before.AddQueue(MakeQueue("support", {{"support", 5}}));
    before.AddReadyAgent(MakeAgent("a1"));
    for (int i = 0; i < 20; ++i) {
      core::ContactRequest r =
          MakeContact("c" + std::to_string(i), i % 2 ? "sales" : "support",
                      /*priority=*/i % 5 == 0 ? 3 : 0);
      r.customer_id = "cust" + std::to_string(i);
      r.attributes = {{"ivr", std::to_string(i)}};
      requests.push_back(r);
      ASSERT_TRUE(before.Create(r).ok());
      if (i == 1) {
        // a1 is offered c1 (the first sales contact) and answers.
        ASSERT_EQ(before.AgentOf("c1"), "a1");
        ASSERT_TRUE(before.Accept("a1", "c1").ok());
      }
      before.Advance(1s);
    }
    for (const auto& r : requests) {
      positions[r.id] = before.Get(r.id).position;
    }
    ClockMap clock(before.now(), T0());
    auto j = RocksDbJournal::Open(dir.path(), {});
    ASSERT_TRUE(j.ok());
    ASSERT_TRUE((*j)->Recover(T0()).ok());
    ASSERT_TRUE(
        AppendAndWait(**j, Journaled(before.engine(), clock, requests)).ok());
  }

  // Two minutes later, a new process whose engine clock starts elsewhere.
  EngineHarness after;
  ConfigureAfterRestart(after);
  auto j = RocksDbJournal::Open(dir.path(), {});
  ASSERT_TRUE(j.ok());
  auto report =
      RecoverEngine(**j, after.engine(), after.now(), T0() + 2min, kRetention);
  ASSERT_TRUE(report.ok()) << report.status();
  after.Check();
  EXPECT_EQ(report->restored_waiting, 19);
  EXPECT_EQ(report->restored_assigned, 1);
  EXPECT_EQ(report->dropped_records, 0);
  EXPECT_THAT(report->agents_awaited, ::testing::ElementsAre("a1"));
  EXPECT_TRUE(report->cleanup.empty());
  EXPECT_EQ(after.engine().live_contacts(), 20u);
  for (const auto& r : requests) {
    core::ContactView v = after.Get(r.id);
    EXPECT_EQ(v.position, positions[r.id]) << r.id;
    EXPECT_EQ(v.attributes, r.attributes) << r.id;
    EXPECT_EQ(v.customer_id, r.customer_id) << r.id;
  }
  core::ContactView c0 = after.Get("c0");
  // Arrived 2 min + 20 s before the restart's `now`.
  EXPECT_EQ(after.now() - c0.arrived_at, 2min + 20s);
  EXPECT_EQ(after.StateOf("c1"), core::ContactState::kAssigned);
  EXPECT_EQ(after.AgentOf("c1"), "a1");
}

TEST(RecoveryTest, WrapUpEndsAndUnknownQueuesAreRefusedAndReported) {
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  ClockMap clock(h.now(), T0());
  RecoveredState state;
  auto add = [&](const std::string& id, const std::string& queue,
                 journal::ContactState st) {
    JournaledContact c;
    *c.contact.mutable_request() = ToRecord(MakeContact(id, queue), clock);
    c.contact.set_seq(state.contacts.size() + 1);
    c.status.set_state(st);
    c.status.set_queue(queue);
    c.status.set_agent_id("a9");
    c.status.set_arrived_unix_ns(UnixNanos(T0() - 30s));
    c.status.set_entered_unix_ns(UnixNanos(T0() - 30s));
    state.contacts.push_back(c);
  };
  add("w", "sales", CONTACT_STATE_WRAP_UP);
  add("gone", "closed", CONTACT_STATE_WAITING);
  add("bad", "sales", static_cast<journal::ContactState>(42));
  add("ok", "sales", CONTACT_STATE_OFFERED);
  state.dropped_records = 2;
  state.problems = {"torn tail"};

  RecoveryReport r = Restore(state, h.engine(), h.now(), T0(), kRetention);
  h.Check();
  EXPECT_EQ(r.restored_waiting, 1);
  EXPECT_EQ(r.ended_in_wrap_up, 1);
  EXPECT_EQ(r.refused_contacts, 2);
  EXPECT_EQ(r.dropped_records, 2);
  EXPECT_EQ(r.problems.size(), 3u);
  EXPECT_EQ(h.engine().live_contacts(), 1u);
  EXPECT_EQ(h.Get("ok").position, 1);
  // The wrap-up contact answers a retried create as completed.
  auto w = h.engine().GetContact("w", h.now());
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->state, core::ContactState::kEnded);
  EXPECT_EQ(w->end_reason, core::EndReason::kCompleted);
  // The journal is told: three contacts end.
  ASSERT_EQ(r.cleanup.size(), 3u);
  for (const Batch::Op& op : r.cleanup.ops()) {
    EXPECT_EQ(op.kind, Batch::Op::Kind::kEnded);
    EXPECT_EQ(op.ended.expires_unix_ns(), UnixNanos(T0() + kRetention));
  }
}

TEST(RecoveryTest, IdempotencyKeysSurviveTheRestart) {
  TempDir dir;
  {
    auto j = RocksDbJournal::Open(dir.path(), {});
    ASSERT_TRUE(j.ok());
    ASSERT_TRUE((*j)->Recover(T0()).ok());
    Batch b;
    EndedContact e = testing::MakeEnded("done", T0() + kRetention);
    e.set_end_reason(static_cast<int>(core::EndReason::kAbandoned));
    b.EndContact(e);
    ASSERT_TRUE(AppendAndWait(**j, std::move(b)).ok());
  }
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  auto j = RocksDbJournal::Open(dir.path(), {});
  ASSERT_TRUE(j.ok());
  auto r = RecoverEngine(**j, h.engine(), h.now(), T0() + 1min, kRetention);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->restored_keys, 1);
  auto retry = h.Create(MakeContact("done", "sales"));
  ASSERT_TRUE(retry.ok());
  EXPECT_FALSE(retry->created);
  EXPECT_EQ(retry->end_reason, core::EndReason::kAbandoned);
}

TEST(RecoveryTest, RecordsRoundTripThroughTheClockMap) {
  ClockMap clock(core::Time(5000s), T0());
  core::ContactRequest r = MakeContact("c1", "sales", 7);
  r.requirements = {{"de", 5}};
  r.preferred_agent = "a1";
  r.preferred_wait = 30s;
  r.not_before = core::Time(5100s);
  r.attributes = {{"k", "v"}};
  // A later process maps the same wall time to another engine time.
  ClockMap later(core::Time(10s), T0() + 1h);
  auto back = FromRecord(ToRecord(r, clock), later);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->id, r.id);
  EXPECT_EQ(back->priority, 7);
  EXPECT_EQ(back->requirements, r.requirements);
  EXPECT_EQ(back->preferred_agent, "a1");
  EXPECT_EQ(back->preferred_wait, 30s);
  EXPECT_EQ(back->attributes, r.attributes);
  ASSERT_TRUE(back->not_before.has_value());
  EXPECT_EQ(*back->not_before, core::Time(10s) + 100s - 1h);
  ContactRequest bad = ToRecord(r, clock);
  bad.set_channel(9);
  EXPECT_TRUE(absl::IsInvalidArgument(FromRecord(bad, later).status()));
}

}  // namespace
}  // namespace ccroute::journal
