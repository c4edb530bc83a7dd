// The journal kept as the server keeps it: creates through
// JournalObserver::Created, every later change through OnEvents after each
// command; then a restart rebuilds the same live state.
#include "server/journal/journal_observer.h"

#include <gtest/gtest.h>

#include "absl/synchronization/notification.h"
#include "server/journal/recovery.h"
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
using testing::T0;
using testing::TempDir;

constexpr core::Duration kRetention = 10min;

// An engine whose every step is journaled the way ccrouted does it.
class JournaledEngine {
 public:
  explicit JournaledEngine(Journal& journal) : observer_(journal, kRetention) {
    h_.AddQueue(MakeQueue("sales"));
    h_.AddQueue(MakeQueue("support"));
    h_.AddReadyAgent(MakeAgent("a1"));
    Flush();
  }

  // A create acknowledged as a gateway would see it: after the journal.
  absl::Status Create(const core::ContactRequest& r) {
    auto view = h_.Create(r);
    if (!view.ok()) return view.status();
    absl::Notification acked;
    absl::Status result;
    observer_.Created(r, *view, h_.now(), [&](const absl::Status& s) {
      result = s;
      acked.Notify();
    });
    Flush();
    acked.WaitForNotification();
    return result;
  }
  // Journals the events of whatever the harness did since the last call.
  void Flush() { observer_.OnEvents(h_.TakeEvents(), h_.engine(), h_.now()); }

  EngineHarness& h() { return h_; }

 private:
  EngineHarness h_;
  JournalObserver observer_;
};

TEST(JournalObserverTest, ARestartFindsWhatTheObserverWrote) {
  TempDir dir;
  std::map<std::string, int> positions;
  {
    auto journal = RocksDbJournal::Open(dir.path(), {});
    ASSERT_TRUE(journal.ok());
    ASSERT_TRUE((*journal)->Recover(T0()).ok());
    JournaledEngine e(**journal);
    for (int i = 0; i < 12; ++i) {
      auto r = MakeContact("c" + std::to_string(i), i % 3 ? "support" : "sales",
                           i == 7 ? 5 : 0);
      r.attributes = {{"ivr", std::to_string(i)}};
      ASSERT_TRUE(e.Create(r).ok());
      e.h().Advance(1s);
      e.Flush();
    }
    // c0 went to a1 at once; a1 answers it. c3 waits behind it in sales.
    ASSERT_EQ(e.h().AgentOf("c0"), "a1");
    ASSERT_TRUE(e.h().Accept("a1", "c0").ok());
    e.Flush();
    // A caller hangs up, and a contact is escalated in priority.
    ASSERT_TRUE(
        e.h()
            .engine()
            .CancelContact("c4", core::EndReason::kAbandoned, e.h().now())
            .ok());
    ASSERT_TRUE(
        e.h().engine().UpdateContact("c5", 9, std::nullopt, e.h().now()).ok());
    e.Flush();
    // A retried create of c1 is acknowledged, and changes nothing.
    ASSERT_TRUE(e.Create(MakeContact("c1", "support")).ok());
    for (int i = 0; i < 12; ++i) {
      std::string id = "c" + std::to_string(i);
      if (id != "c4") positions[id] = e.h().Get(id).position;
    }
    ASSERT_TRUE((*journal)->Flush().ok());
  }

  EngineHarness after;
  after.AddQueue(MakeQueue("sales"));
  after.AddQueue(MakeQueue("support"));
  ASSERT_TRUE(
      after.engine().UpsertAgentProfile(MakeAgent("a1"), after.now()).ok());
  auto journal = RocksDbJournal::Open(dir.path(), {});
  ASSERT_TRUE(journal.ok());
  // The observer reads the real clock; so does a restarted server.
  auto report =
      RecoverEngine(**journal, after.engine(), after.now(),
                    std::chrono::system_clock::now() + 1min, kRetention);
  ASSERT_TRUE(report.ok()) << report.status();
  after.Check();
  EXPECT_EQ(report->restored_assigned, 1);
  EXPECT_EQ(report->restored_waiting, 10);
  EXPECT_EQ(report->restored_keys, 1);
  EXPECT_EQ(report->dropped_records, 0);
  EXPECT_EQ(after.engine().live_contacts(), 11u);
  EXPECT_EQ(after.AgentOf("c0"), "a1");
  EXPECT_EQ(after.StateOf("c0"), core::ContactState::kAssigned);
  for (const auto& [id, position] : positions) {
    EXPECT_EQ(after.Get(id).position, position) << id;
  }
  EXPECT_EQ(after.Get("c5").priority, 9);
  EXPECT_EQ(after.Get("c7").attributes.at(0).second, "7");
  // The hung-up caller is gone, but its id is still known: a retried
  // create returns the ended contact instead of queuing it again.
  auto retried =
      after.engine().CreateContact(MakeContact("c4", "support"), after.now());
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_FALSE(retried->created);
  EXPECT_EQ(retried->state, core::ContactState::kEnded);
  EXPECT_EQ(retried->end_reason, core::EndReason::kAbandoned);
}

TEST(JournalObserverTest, TheAcknowledgementCarriesTheJournalsAnswer) {
  NullJournal null;
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  JournalObserver observer(null, kRetention);
  auto view = h.Create(MakeContact("x", "sales"));
  ASSERT_TRUE(view.ok());
  bool acked = false;
  observer.Created(MakeContact("x", "sales"), *view, h.now(),
                   [&](const absl::Status& s) { acked = s.ok(); });
  EXPECT_TRUE(acked) << "the memory-only journal acknowledges at once";

  // A RocksDB journal not yet recovered refuses every batch: the gateway
  // must not be told the contact is safe.
  TempDir dir;
  auto journal = RocksDbJournal::Open(dir.path(), {});
  ASSERT_TRUE(journal.ok());
  JournalObserver refusing(**journal, kRetention);
  absl::Status result;
  refusing.Created(MakeContact("x", "sales"), *view, h.now(),
                   [&](const absl::Status& s) { result = s; });
  EXPECT_EQ(result.code(), absl::StatusCode::kFailedPrecondition);
}

// Keeps what is appended, and answers each `done` only when told to.
class HeldJournal final : public Journal {
 public:
  absl::StatusOr<RecoveredState> Recover(WallTime) override {
    return RecoveredState();
  }
  void Append(Batch batch, Done done) override {
    batches.push_back(std::move(batch));
    dones.push_back(std::move(done));
  }
  absl::Status Flush() override { return absl::OkStatus(); }
  absl::Status Compact(WallTime) override { return absl::OkStatus(); }
  JournalStats stats() const override { return {}; }
  // Answers every `done` held so far, in order.
  void Release() {
    for (Done& done : dones) {
      if (done) done(absl::OkStatus());
    }
    dones.clear();
  }

  std::vector<Batch> batches;
  std::vector<Done> dones;
};

std::vector<Batch::Op::Kind> Kinds(const Batch& batch) {
  std::vector<Batch::Op::Kind> out;
  for (const Batch::Op& op : batch.ops()) out.push_back(op.kind);
  return out;
}

TEST(JournalObserverTest,
     AnAdministratorsChangeIsWrittenWithItsCommandsEffects) {
  using Kind = Batch::Op::Kind;
  HeldJournal journal;
  EngineHarness h;
  h.AddQueue(MakeQueue("sales"));
  ASSERT_TRUE(h.Create(MakeContact("x", "sales")).ok());
  h.TakeEvents();
  JournalObserver observer(journal, kRetention);

  // A command that changes the configuration and, through it, a contact
  // (here: an agent arrives and takes x). One batch holds both, the change
  // first; the answer waits for it.
  ConfigChange change;
  change.set_key("agent/a1");
  Batch record;
  record.PutConfig(change);
  h.AddReadyAgent(MakeAgent("a1"));
  ASSERT_EQ(h.AgentOf("x"), "a1");
  observer.Configured(std::move(record));
  bool answered = false;
  observer.AfterThisCommand([&](const absl::Status& s) { answered = s.ok(); });
  observer.OnEvents(h.TakeEvents(), h.engine(), h.now());
  observer.OnCommandDone(0ns);
  ASSERT_EQ(journal.batches.size(), 2u);
  EXPECT_EQ(Kinds(journal.batches[0]),
            (std::vector<Kind>{Kind::kConfig, Kind::kStatus}));
  EXPECT_TRUE(journal.batches[1].empty()) << "the answer's barrier";
  EXPECT_FALSE(answered) << "answered before the journal held the change";
  journal.Release();
  EXPECT_TRUE(answered);

  // A change that touches no contact is written when the command is done,
  // still ahead of the answer.
  Batch erase;
  erase.EraseConfig("queue/sales");
  observer.Configured(std::move(erase));
  answered = false;
  observer.AfterThisCommand([&](const absl::Status& s) { answered = s.ok(); });
  observer.OnCommandDone(0ns);
  ASSERT_EQ(journal.batches.size(), 4u);
  EXPECT_EQ(Kinds(journal.batches[2]),
            (std::vector<Kind>{Kind::kConfigErased}));
  EXPECT_TRUE(journal.batches[3].empty());
  EXPECT_FALSE(answered);
  journal.Release();
  EXPECT_TRUE(answered);
}

}  // namespace
}  // namespace ccroute::journal
