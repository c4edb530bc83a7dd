// Administrators' changes kept in the journal: what is recorded for each
// change, and how a restart applies the records on top of a configuration
// file that may have changed since.
#include "server/api/admin_changes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/api/convert.h"

namespace ccroute::api {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

core::QueueConfig Queue(std::string name, core::Duration target = 20s) {
  core::QueueConfig q;
  q.name = std::move(name);
  q.service_level_target = target;
  return q;
}

core::AgentProfile Agent(std::string id, std::vector<std::string> skills = {}) {
  core::AgentProfile a;
  a.id = std::move(id);
  for (std::string& s : skills) a.skills.push_back({std::move(s), 5});
  return a;
}

ResolvedConfig File(std::vector<core::QueueConfig> queues,
                    std::vector<core::AgentProfile> agents = {}) {
  ResolvedConfig c;
  c.queues = std::move(queues);
  c.agents = std::move(agents);
  return c;
}

// The records a running server with `file` would journal, applied to the
// journal's state: the latest per key, erasures removing theirs, each with
// its order.
class Records {
 public:
  explicit Records(const ResolvedConfig& file) : file_(file) {}

  void Upsert(const core::QueueConfig& q) {
    v1::Queue proto = ToProto(q);
    Keep(RecordChange(file_, QueueKey(q.name), &proto));
  }
  void Upsert(const core::AgentProfile& a) {
    v1::AgentProfile proto = ToProto(a);
    Keep(RecordChange(file_, AgentKey(a.id), &proto));
  }
  void Set(const core::RoutingPolicy& p) {
    v1::RoutingPolicy proto = ToProto(p);
    Keep(RecordChange(file_, std::string(kRoutingPolicyKey), &proto));
  }
  void DeleteQueue(const std::string& name) {
    Keep(RecordChange(file_, QueueKey(name), nullptr));
  }
  void DeleteAgent(const std::string& id) {
    Keep(RecordChange(file_, AgentKey(id), nullptr));
  }
  void Keep(const journal::Batch& batch) {
    for (const journal::Batch::Op& op : batch.ops()) {
      std::erase_if(kept_, [&](const journal::ConfigChange& c) {
        return c.key() == op.id;
      });
      if (op.kind == journal::Batch::Op::Kind::kConfig) {
        journal::ConfigChange c = op.config;
        c.set_seq(++seq_);
        kept_.push_back(std::move(c));
      }
    }
  }
  const std::vector<journal::ConfigChange>& kept() const { return kept_; }
  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    for (const auto& c : kept_) out.push_back(c.key());
    return out;
  }

 private:
  FileConfig file_;
  std::vector<journal::ConfigChange> kept_;
  uint64_t seq_ = 0;
};

// A fresh engine holding `file`, as a restart builds it, with `records`
// replayed on top.
struct Restarted {
  Restarted(const ResolvedConfig& file,
            const std::vector<journal::ConfigChange>& records,
            core::EngineLimits limits = {})
      : engine(limits, file.routing) {
    core::Time now{};
    for (const auto& q : file.queues)
      EXPECT_TRUE(engine.UpsertQueue(q, now).ok());
    for (const auto& a : file.agents) {
      EXPECT_TRUE(engine.UpsertAgentProfile(a, now).ok());
    }
    replay = ReplayAdminChanges(records, FileConfig(file), engine, now);
  }
  std::vector<std::string> queues() const {
    std::vector<std::string> out;
    for (const auto& q : engine.ListQueues()) out.push_back(q.name);
    std::sort(out.begin(), out.end());
    return out;
  }
  std::vector<std::string> agents() const {
    std::vector<std::string> out;
    for (const auto& a : engine.ListAgentProfiles()) out.push_back(a.id);
    std::sort(out.begin(), out.end());
    return out;
  }
  core::Duration target(const std::string& queue) const {
    for (const auto& q : engine.ListQueues()) {
      if (q.name == queue) return q.service_level_target;
    }
    ADD_FAILURE() << "no queue " << queue;
    return {};
  }
  std::vector<std::string> erased() const {
    std::vector<std::string> out;
    for (const auto& op : replay.cleanup.ops()) {
      EXPECT_EQ(op.kind, journal::Batch::Op::Kind::kConfigErased);
      out.push_back(op.id);
    }
    return out;
  }

  core::Engine engine;
  AdminChangesReplay replay;
};

TEST(AdminChangesTest, ChangesComeBackOnTheSameFile) {
  ResolvedConfig file = File({Queue("sales"), Queue("old")}, {Agent("ann")});
  Records records(file);
  records.Upsert(Queue("vip", 10s));
  records.Upsert(Queue("sales", 30s));
  records.DeleteQueue("old");
  records.Upsert(Agent("bob", {"spanish"}));
  records.DeleteAgent("ann");
  core::RoutingPolicy policy;
  policy.contact_selection = core::ContactSelection::kFifo;
  records.Set(policy);

  Restarted r(file, records.kept());
  EXPECT_THAT(r.queues(), ElementsAre("sales", "vip"));
  EXPECT_EQ(r.target("vip"), 10s);
  EXPECT_EQ(r.target("sales"), 30s);
  EXPECT_THAT(r.agents(), ElementsAre("bob"));
  EXPECT_EQ(r.engine.routing_policy().contact_selection,
            core::ContactSelection::kFifo);
  EXPECT_EQ(r.replay.applied, 6);
  EXPECT_EQ(r.replay.superseded + r.replay.failed, 0);
  EXPECT_THAT(r.replay.problems, IsEmpty());
  EXPECT_TRUE(r.replay.cleanup.empty());
}

TEST(AdminChangesTest, AnItemChangedBackToTheFileKeepsNoRecord) {
  ResolvedConfig file = File({Queue("sales")});
  Records records(file);
  records.Upsert(Queue("sales", 30s));
  records.Upsert(Queue("vip"));
  EXPECT_THAT(records.keys(), ElementsAre("queue/sales", "queue/vip"));
  records.Upsert(Queue("sales"));  // as the file has it
  records.DeleteQueue("vip");      // the file never had it
  EXPECT_THAT(records.keys(), IsEmpty());
  core::RoutingPolicy policy;  // the file's (default) policy
  records.Set(policy);
  EXPECT_THAT(records.keys(), IsEmpty());
}

TEST(AdminChangesTest, TheFileWinsForAnItemItChangedSince) {
  ResolvedConfig before =
      File({Queue("sales"), Queue("support"), Queue("gone")});
  Records records(before);
  records.Upsert(Queue("sales", 30s));    // the file edits sales after
  records.Upsert(Queue("vip", 10s));      // the file adds vip after
  records.Upsert(Queue("gone", 40s));     // the file removes gone after
  records.Upsert(Queue("support", 50s));  // the file leaves support alone
  records.DeleteQueue("sales2");          // not in either file: no record
  ResolvedConfig after =
      File({Queue("sales", 25s), Queue("support"), Queue("vip", 15s)});

  Restarted r(after, records.kept());
  EXPECT_THAT(r.queues(), ElementsAre("sales", "support", "vip"));
  EXPECT_EQ(r.target("sales"), 25s);
  EXPECT_EQ(r.target("vip"), 15s);
  EXPECT_EQ(r.target("support"), 50s);
  EXPECT_EQ(r.replay.applied, 1);
  EXPECT_EQ(r.replay.superseded, 3);
  EXPECT_THAT(r.erased(),
              ElementsAre("queue/sales", "queue/vip", "queue/gone"));
  ASSERT_EQ(r.replay.problems.size(), 3u);
  EXPECT_THAT(r.replay.problems[0],
              HasSubstr("queue 'sales' was not applied: the configuration "
                        "file has changed it since"));

  // The records left (support's) apply again on the next start.
  std::vector<journal::ConfigChange> left;
  for (const auto& c : records.kept()) {
    if (c.key() == "queue/support") left.push_back(c);
  }
  Restarted again(after, left);
  EXPECT_EQ(again.target("support"), 50s);
  EXPECT_TRUE(again.replay.cleanup.empty());
}

TEST(AdminChangesTest, AChangeTheFileHasTakenInIsErasedQuietly) {
  ResolvedConfig before = File({Queue("sales"), Queue("gone")}, {Agent("ann")});
  Records records(before);
  records.Upsert(Queue("sales", 30s));  // the file says 30 s after
  records.Upsert(Queue("vip", 10s));    // the file adds vip as made
  records.DeleteQueue("gone");          // the file drops gone after
  records.DeleteAgent("ann");           // the file edits ann after
  journal::ConfigChange garbage = records.kept()[1];
  garbage.set_value("\xff\xff not a queue");  // never equal to the file's
  std::vector<journal::ConfigChange> kept = records.kept();
  kept[1] = garbage;
  ResolvedConfig after = File({Queue("sales", 30s), Queue("vip", 10s)},
                              {Agent("ann", {"french"})});

  Restarted r(after, kept);
  EXPECT_EQ(r.replay.adopted, 2);  // sales, gone
  EXPECT_EQ(r.replay.superseded,
            2);  // vip (a garbled value is not the file's), ann
  EXPECT_EQ(r.replay.applied, 0);
  EXPECT_THAT(r.erased(), ElementsAre("queue/sales", "queue/vip", "queue/gone",
                                      "agent/ann"));
  ASSERT_EQ(r.replay.problems.size(), 2u) << "adopted changes are not problems";
  EXPECT_THAT(r.replay.problems[0], HasSubstr("queue 'vip'"));
  EXPECT_THAT(r.replay.problems[1], HasSubstr("agent 'ann'"));
  EXPECT_THAT(r.queues(), ElementsAre("sales", "vip"));
  EXPECT_EQ(r.target("sales"), 30s);
  EXPECT_THAT(r.agents(), ElementsAre("ann"));
}

// A record written by an earlier version that lacked a field (here: the
// queue's channels, which ToProto always lists and FromProto defaults to
// all) compares as that field's default, so an upgrade alone neither lets
// the file win nor hides an adopted change.
TEST(AdminChangesTest, ARecordWithoutALaterFieldComparesAsItsDefault) {
  ResolvedConfig file = File({Queue("sales"), Queue("support")});
  Records records(file);
  records.Upsert(Queue("sales", 30s));
  records.Upsert(Queue("support", 40s));
  std::vector<journal::ConfigChange> older = records.kept();
  for (journal::ConfigChange& c : older) {
    for (std::string* bytes : {c.mutable_value(), c.mutable_file_value()}) {
      v1::Queue q;
      ASSERT_TRUE(q.ParseFromString(*bytes));
      ASSERT_GT(q.channels_size(), 0);
      q.clear_channels();
      *bytes = q.SerializeAsString();
    }
  }
  // support has since been set in the file as the administrator left it.
  Restarted r(File({Queue("sales"), Queue("support", 40s)}), older);
  EXPECT_EQ(r.replay.applied, 1);
  EXPECT_EQ(r.replay.adopted, 1);
  EXPECT_EQ(r.replay.superseded, 0);
  EXPECT_EQ(r.target("sales"), 30s);
}

TEST(AdminChangesTest, AChangeTheEngineRefusesNowIsDroppedAndSaidWhy) {
  ResolvedConfig file = File({Queue("sales")});
  Records records(file);
  records.Upsert(Agent("bob", {"french", "german", "dutch"}));
  records.Upsert(Queue("vip"));
  journal::ConfigChange garbage = records.kept()[1];
  garbage.set_key("queue/broken");
  garbage.set_value("\xff\xff not a queue");
  std::vector<journal::ConfigChange> kept = records.kept();
  kept.push_back(garbage);

  core::EngineLimits limits;
  limits.max_skills = 2;  // bob's three skill names no longer fit
  Restarted r(file, kept, limits);
  EXPECT_THAT(r.queues(), ElementsAre("sales", "vip"));
  EXPECT_THAT(r.agents(), IsEmpty());
  EXPECT_EQ(r.replay.applied, 1);
  EXPECT_EQ(r.replay.failed, 2);
  EXPECT_THAT(r.erased(), ElementsAre("agent/bob", "queue/broken"));
  ASSERT_EQ(r.replay.problems.size(), 2u);
  EXPECT_THAT(r.replay.problems[0],
              HasSubstr("agent 'bob' was not applied: more than 2"));
  EXPECT_THAT(r.replay.problems[1],
              HasSubstr("queue 'broken' was not applied: its record does "
                        "not decode"));
}

TEST(AdminChangesTest, AChangeNeedingRoomALaterOneMakesIsRetried) {
  // Distinct skill names are limited; ann's deletion, made after bob's
  // profile, frees the names bob needs.
  ResolvedConfig file = File({}, {Agent("ann", {"french", "german"})});
  Records records(file);
  records.Upsert(Agent("bob", {"dutch", "danish"}));
  records.DeleteAgent("ann");
  core::EngineLimits limits;
  limits.max_skills = 2;
  Restarted r(file, records.kept(), limits);
  EXPECT_THAT(r.agents(), ElementsAre("bob"));
  EXPECT_EQ(r.replay.applied, 2);
  EXPECT_EQ(r.replay.failed, 0);
}

}  // namespace
}  // namespace ccroute::api
