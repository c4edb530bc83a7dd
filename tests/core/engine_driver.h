// An interpreter that drives an Engine through a random sequence of
// operations in a small contact center (4 queues, 8 agents) and checks,
// after every operation, the engine's own invariants and an independent
// shadow model built only from the events the engine emits. Used by the
// property test (choices from a seeded std::mt19937_64) and the fuzzer
// (choices from the fuzzer's bytes). Single-threaded; test code only.
//
// What it checks, beyond Engine::CheckInvariants():
// - an offer goes to a READY agent without another offer, with room for the
//   contact's channel, holding the contact's effective requirements, that
//   has not declined the contact; the contact was waiting (not offered,
//   assigned or ended);
// - ordering within a requirement class: no contact of the same queue,
//   channel and effective requirements, waiting, not waiting for a
//   preferred agent and not declined by the agent, is ahead of the one
//   offered (higher priority, or same priority and earlier arrival);
// - every event fits the contact's life cycle; no contact is both live and
//   ended; the engine's views (contacts, agents, queues) match the model;
// - a call fails exactly when the model says it must, and a failed call
//   emits nothing and changes nothing observable;
// - idempotent creation: a retry returns the contact while it is live or
//   remembered, and only then;
// - at the end, with everything cancelled or completed and all timers run,
//   every created contact ended exactly once and nothing is left.
#ifndef CCROUTE_TESTS_CORE_ENGINE_DRIVER_H_
#define CCROUTE_TESTS_CORE_ENGINE_DRIVER_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/core/engine.h"
#include "server/core/events.h"

namespace ccroute::core::testing {

using namespace std::chrono_literals;

// Where the driver's choices come from.
class OpSource {
 public:
  virtual ~OpSource() = default;
  // A value in [0, n); n > 0.
  virtual uint32_t Below(uint32_t n) = 0;
  // True once a byte source has run dry (it then answers 0).
  virtual bool exhausted() const { return false; }

  bool Percent(uint32_t p) { return Below(100) < p; }
  // Uniform in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + Below(static_cast<uint32_t>(hi - lo + 1));
  }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(static_cast<uint32_t>(v.size()))];
  }
};

// Choices from a seeded std::mt19937_64: the same seed replays the same run.
class RandomOpSource final : public OpSource {
 public:
  explicit RandomOpSource(uint64_t seed) : rng_(seed) {}
  uint32_t Below(uint32_t n) override {
    return static_cast<uint32_t>(rng_() % n);
  }

 private:
  std::mt19937_64 rng_;
};

// Choices read from a byte string (a fuzzer's input).
class ByteOpSource final : public OpSource {
 public:
  ByteOpSource(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint32_t Below(uint32_t n) override {
    int bytes = n <= 256 ? 1 : n <= 65536 ? 2 : 4;
    uint32_t v = 0;
    for (int i = 0; i < bytes; ++i) {
      if (pos_ >= size_) {
        exhausted_ = true;
        return 0;
      }
      v = (v << 8) | data_[pos_++];
    }
    return v % n;
  }
  bool exhausted() const override { return exhausted_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  bool exhausted_ = false;
};

namespace driver_internal {

inline void Put(std::ostringstream& os, Time t) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3fs", ToSeconds(t.time_since_epoch()));
  os << buf;
}
inline void Put(std::ostringstream& os, Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3fs", ToSeconds(d));
  os << buf;
}
inline void Put(std::ostringstream& os, const absl::Status& s) {
  os << (s.ok() ? std::string("OK") : s.ToString());
}
inline void Put(std::ostringstream& os, Channel c) { os << ChannelName(c); }
inline void Put(std::ostringstream& os, ContactState s) {
  os << ContactStateName(s);
}
inline void Put(std::ostringstream& os, AgentState s) {
  os << AgentStateName(s);
}
inline void Put(std::ostringstream& os, EndReason r) { os << EndReasonName(r); }
template <typename T>
void Put(std::ostringstream& os, const T& v) {
  os << v;
}

}  // namespace driver_internal

// Concatenates values (times and durations in seconds) into a string.
template <typename... Args>
std::string Str(const Args&... args) {
  std::ostringstream os;
  (driver_internal::Put(os, args), ...);
  return os.str();
}

// The world the driver runs: queue configurations.
inline std::vector<QueueConfig> DriverQueues() {
  auto bits = [](std::initializer_list<Channel> cs) {
    uint32_t b = 0;
    for (Channel c : cs) b |= 1u << static_cast<int>(c);
    return b;
  };
  std::vector<QueueConfig> out;
  {
    QueueConfig q;
    q.name = "sales";
    q.channels = bits({Channel::kVoice, Channel::kChat});
    q.requirements = {{"sales", 3}};
    q.agent_selection = AgentSelection::kPreserveCoverage;
    q.escalation = {{20s, {{"sales", 1}}, false}, {60s, {}, true}};
    q.max_waiting = 8;
    q.overflow_queue = "general";
    q.offer_timeout = 10s;
    q.last_agent_window = 30s;
    q.service_level_target = 20s;
    out.push_back(q);
  }
  {
    QueueConfig q;
    q.name = "support";
    q.channels = bits({Channel::kVoice, Channel::kChat, Channel::kEmail});
    q.requirements = {{"support", 5}};
    q.escalation = {{30s, {{"support", 2}}, false}};
    q.max_wait = 120s;
    q.max_wait_queue = "general";
    q.agent_selection = AgentSelection::kMostSkilled;
    q.offer_timeout = 15s;
    q.service_level_target = 60s;
    out.push_back(q);
  }
  {
    QueueConfig q;
    q.name = "billing";
    q.channels = bits({Channel::kChat, Channel::kEmail, Channel::kCallback});
    q.requirements = {{"billing", 2}};
    q.max_wait = 90s;
    q.max_waiting = 6;
    q.agent_selection = AgentSelection::kLeastOccupied;
    q.offer_timeout = 20s;
    q.last_agent_window = 60s;
    q.service_level_target = 30s;
    out.push_back(q);
  }
  {
    QueueConfig q;
    q.name = "general";
    q.offer_timeout = 8s;
    q.service_level_target = 120s;
    out.push_back(q);
  }
  return out;
}

// The longest last-agent window any queue config of the driver uses.
inline constexpr Duration kDriverMaxLastAgentWindow = 60s;

// The world the driver runs: agent profiles.
inline std::vector<AgentProfile> DriverAgents() {
  auto make = [](std::string id, std::vector<Skill> skills,
                 std::array<int, kChannelCount> cap, bool blocks,
                 std::array<Duration, kChannelCount> wrap) {
    AgentProfile a;
    a.id = std::move(id);
    a.skills = std::move(skills);
    a.capacity = cap;
    a.voice_blocks_other_channels = blocks;
    a.wrap_up = wrap;
    return a;
  };
  return {
      make("a0", {{"sales", 7}, {"lang.de", 6}}, {1, 2, 0, 0, 0}, true,
           {5s, 0s, 0s, 0s, 0s}),
      make("a1", {{"sales", 3}, {"support", 5}}, {1, 1, 2, 0, 0}, false,
           {0s, 0s, 0s, 0s, 0s}),
      make("a2", {{"support", 8}, {"billing", 4}}, {1, 3, 0, 0, 0}, true,
           {10s, 0s, 0s, 0s, 0s}),
      make("a3", {{"billing", 6}, {"lang.fr", 4}}, {0, 2, 5, 1, 0}, false,
           {0s, 0s, 20s, 0s, 0s}),
      make("a4", {{"sales", 5}, {"support", 2}, {"billing", 2}},
           {1, 0, 0, 1, 0}, true, {3s, 0s, 0s, 3s, 0s}),
      make("a5", {{"support", 6}, {"lang.de", 5}, {"lang.fr", 7}},
           {1, 2, 1, 0, 0}, false, {0s, 2s, 0s, 0s, 0s}),
      make("a6", {{"sales", 1}}, {1, 0, 0, 0, 0}, true, {0s, 0s, 0s, 0s, 0s}),
      make("a7", {{"billing", 9}, {"sales", 8}, {"support", 9}},
           {1, 3, 3, 1, 1}, true, {2s, 1s, 0s, 0s, 5s}),
  };
}

class EngineDriver {
 public:
  // The driver reads every choice from `source`, which must outlive it.
  explicit EngineDriver(OpSource& source) : src_(source) {}

  // Builds the world: limits, policy, queues, agents (some logged in).
  absl::Status Setup() {
    current_op_ = "setup";
    if (src_.Percent(50)) {
      // Tight limits exercise the sweeps and the idempotency expiry.
      limits_.idempotency_retention = 5min;
      limits_.max_remembered_customers = 2;
      limits_.max_requirement_classes = 16;
      limits_.stats_window = 2min;
      limits_.stats_window_buckets = 4;
      // The world's five skill names and three more: contacts that ask
      // for rare skills compete for them, and names nothing holds any more
      // must be freed for new ones.
      limits_.max_skills = 8;
      rare_skills_ = true;
    }
    policy_ = RandomPolicy();
    engine_ = std::make_unique<Engine>(limits_, policy_);
    for (const QueueConfig& q : DriverQueues()) {
      base_queues_[q.name] = q;
      if (auto s = engine_->UpsertQueue(q, now_); !s.ok()) {
        return Fail(Str("UpsertQueue ", q.name, ": ", s));
      }
      queues_[q.name] = q;
    }
    for (const AgentProfile& a : DriverAgents()) {
      base_agents_[a.id] = a;
      agent_ids_.push_back(a.id);
      if (auto s = engine_->UpsertAgentProfile(a, now_); !s.ok()) {
        return Fail(Str("UpsertAgentProfile ", a.id, ": ", s));
      }
      ShadowAgent& sa = agents_[a.id];
      sa.exists = true;
      sa.profile = a;
    }
    if (auto s = Drain(); !s.ok()) return s;
    for (const std::string& id : agent_ids_) {
      if (!src_.Percent(70)) continue;
      if (auto s = engine_->Login(id, now_); !s.ok()) return Fail(Str(s));
      if (auto s = Drain(); !s.ok()) return s;
      if (src_.Percent(70)) {
        if (auto s = engine_->SetReady(id, now_); !s.ok()) return Fail(Str(s));
        if (auto s = Drain(); !s.ok()) return s;
      }
    }
    return CheckAll();
  }

  // Applies one operation chosen from the source, then checks everything.
  absl::Status Step() {
    ++op_index_;
    events_text_.clear();
    ended_this_op_.clear();
    returning_.clear();
    Snapshot before = TakeSnapshot();
    uint32_t r = src_.Below(1000);
    absl::Status result;
    std::string named_contact;
    std::optional<bool> expect_ok;
    if (r < 230) {
      result = OpCreate(expect_ok, named_contact);
    } else if (r < 280) {
      result = OpCancel(expect_ok, named_contact);
    } else if (r < 320) {
      result = OpUpdate(expect_ok, named_contact);
    } else if (r < 360) {
      result = OpLogin(expect_ok);
    } else if (r < 440) {
      result = OpReady(expect_ok);
    } else if (r < 475) {
      result = OpNotReady(expect_ok, false);
    } else if (r < 500) {
      result = OpLogout(expect_ok);
    } else if (r < 515) {
      result = OpNotReady(expect_ok, true);
    } else if (r < 635) {
      result = OpAnswerOffer(expect_ok, named_contact, true);
    } else if (r < 675) {
      result = OpAnswerOffer(expect_ok, named_contact, false);
    } else if (r < 755) {
      result = OpComplete(expect_ok, named_contact);
    } else if (r < 785) {
      result = OpEndWrapUp(expect_ok, named_contact);
    } else if (r < 815) {
      result = OpTransfer(expect_ok, named_contact);
    } else if (r < 830) {
      result = OpReturn(expect_ok, named_contact);
    } else if (r < 845) {
      result = OpReclaim(expect_ok, named_contact);
    } else if (r < 950) {
      result = OpAdvance(expect_ok);
    } else if (r < 970) {
      result = OpChangeAgentProfile(expect_ok);
    } else if (r < 982) {
      result = OpChangeQueue(expect_ok);
    } else if (r < 990) {
      result = OpChangePolicy(expect_ok);
    } else if (r < 995) {
      result = OpDeleteAgent(expect_ok);
    } else {
      result = OpDeleteQueue(expect_ok);
    }
    return AfterOp(result, expect_ok, before, named_contact);
  }

  // Cancels or completes everything, runs every timer, and checks that
  // every created contact ended exactly once and nothing is left behind.
  absl::Status Finish() {
    ++op_index_;
    current_op_ = "finish";
    for (int round = 0; round < 100; ++round) {
      bool any_work = false;
      for (const auto& [id, a] : agents_) any_work |= !a.work.empty();
      if (contacts_.empty() && !any_work) break;
      std::vector<std::string> ids;
      for (const auto& [id, c] : contacts_) ids.push_back(id);
      for (const std::string& id : ids) {
        auto it = contacts_.find(id);
        if (it == contacts_.end()) continue;
        const ShadowContact& c = it->second;
        absl::Status s;
        std::string what;
        if (c.state == ContactState::kAssigned) {
          what = Str("complete ", id, " by ", c.agent);
          s = engine_->CompleteContact(c.agent, id, "done", now_);
        } else if (c.state == ContactState::kWrapUp) {
          what = Str("end wrap-up of ", id, " by ", c.agent);
          s = engine_->EndWrapUp(c.agent, id, now_);
        } else {
          what = Str("cancel ", id);
          s = engine_->CancelContact(id, EndReason::kCancelled, now_);
        }
        if (!s.ok()) return Fail(Str("finish: ", what, ": ", s));
        if (auto st = Drain(); !st.ok()) return st;
        if (auto st = CheckEngine(); !st.ok()) return st;
      }
      // Wrap-ups of contacts transferred away.
      for (auto& [aid, a] : agents_) {
        std::vector<std::string> wraps;
        for (const ShadowWork& w : a.work) {
          if (w.transferred) wraps.push_back(w.contact);
        }
        for (const std::string& cid : wraps) {
          auto s = engine_->EndWrapUp(aid, cid, now_);
          if (!s.ok()) {
            return Fail(Str("finish: end wrap-up ", cid, " by ", aid, ": ", s));
          }
          if (auto st = Drain(); !st.ok()) return st;
          if (auto st = CheckEngine(); !st.ok()) return st;
        }
      }
    }
    for (int i = 0; i < 10000; ++i) {
      std::optional<Time> next = engine_->NextDeadline();
      if (!next) break;
      now_ = std::max(now_, *next);
      engine_->AdvanceTo(now_);
      if (auto st = Drain(); !st.ok()) return st;
      if (auto st = CheckEngine(); !st.ok()) return st;
    }
    if (auto st = CheckAll(); !st.ok()) return st;
    if (engine_->live_contacts() != 0 || !contacts_.empty()) {
      return Fail(Str("finish: ", engine_->live_contacts(),
                      " contacts still live (model: ", contacts_.size(), ")"));
    }
    if (created_ != ended_count_) {
      return Fail(Str("finish: created ", created_, " contacts but ",
                      ended_count_, " ended"));
    }
    for (const auto& [id, a] : agents_) {
      if (!a.work.empty() || !a.offer.empty()) {
        return Fail(Str("finish: agent ", id, " still has work"));
      }
    }
    if (auto next = engine_->NextDeadline()) {
      return Fail(Str("finish: a timer is still pending at ", *next));
    }
    return absl::OkStatus();
  }

  int op_index() const { return op_index_; }
  int64_t created() const { return created_; }
  // The last operations applied, one a line, oldest first.
  std::string RecentOps() const {
    std::string out;
    for (const std::string& s : log_) out += s + "\n";
    return out;
  }
  Engine& engine() { return *engine_; }
  // How often each event kind was seen and each operation succeeded or
  // failed: evidence that a run reached the states it is meant to test.
  const std::map<std::string, int64_t>& counts() const { return counts_; }

 private:
  enum class Phase { kOffered, kActive, kWrapUp };
  struct ShadowWork {
    std::string contact;
    Channel channel;
    Phase phase;
    bool transferred = false;
  };
  struct ShadowAgent {
    bool exists = false;
    AgentProfile profile;
    AgentState state = AgentState::kOffline;
    std::string offer;
    std::vector<ShadowWork> work;
    std::array<int, kChannelCount> Load() const {
      std::array<int, kChannelCount> load{};
      for (const ShadowWork& w : work) load[static_cast<int>(w.channel)]++;
      return load;
    }
    bool HasActive() const {
      for (const ShadowWork& w : work) {
        if (w.phase == Phase::kActive) return true;
      }
      return false;
    }
  };
  struct ShadowContact {
    std::string id;
    uint64_t order = 0;  // creation order: the engine's last tie-break
    std::string queue;
    Channel channel = Channel::kVoice;
    int priority = 0;
    std::map<std::string, int> extra;
    ContactState state = ContactState::kQueued;
    bool fresh = true;      // created by this operation, no event yet
    bool released = false;  // offer withdrawn, queued event still to come
    std::string agent;
    Time arrival{};
    int step = 0;
    // Until then the contact may wait for a preferred or last agent.
    Time preference_until{};
    std::map<std::string, Time> declined;  // agent -> until
  };
  struct Snapshot {
    size_t live = 0;
    std::optional<Time> deadline;
    std::vector<AgentStats> agents;
    std::vector<QueueStats> queues;
  };

  // --- Helpers ----------------------------------------------------------

  absl::Status Fail(const std::string& message) const {
    return absl::InternalError(
        Str("op #", op_index_, " [", current_op_, "] at ", now_, ": ", message,
            events_text_.empty() ? "" : "\n  events: ", events_text_));
  }

  RoutingPolicy RandomPolicy() {
    RoutingPolicy p;
    p.contact_selection = src_.Percent(50) ? ContactSelection::kServiceLevel
                                           : ContactSelection::kFifo;
    p.max_missed_offers = static_cast<int>(src_.Below(4));
    static const std::vector<Duration> kDelays = {0s, 5s, 30s};
    p.reoffer_delay = src_.Pick(kDelays);
    return p;
  }

  std::string PickAgentId() {
    if (src_.Percent(3)) return "ghost";
    return src_.Pick(agent_ids_);
  }
  std::string PickQueueName() {
    if (src_.Percent(2)) return "nowhere";
    static const std::vector<std::string> kNames = {"sales", "support",
                                                    "billing", "general"};
    return src_.Pick(kNames);
  }
  // A live contact id, or (sometimes, or when none is live) an ended or
  // unknown one.
  std::string PickContactId() {
    if (!contacts_.empty() && src_.Percent(92)) {
      auto it = contacts_.begin();
      std::advance(it, src_.Below(static_cast<uint32_t>(contacts_.size())));
      return it->first;
    }
    if (!ended_.empty() && src_.Percent(70)) {
      auto it = ended_.begin();
      std::advance(it, src_.Below(static_cast<uint32_t>(ended_.size())));
      return it->first;
    }
    return Str("c", next_id_ + 1000);
  }
  ShadowAgent* FindShadowAgent(const std::string& id) {
    auto it = agents_.find(id);
    return it == agents_.end() || !it->second.exists ? nullptr : &it->second;
  }
  static std::vector<SkillRequirement> ToReqs(
      const std::map<std::string, int>& m) {
    std::vector<SkillRequirement> out;
    for (const auto& [k, v] : m) out.push_back({k, v});
    return out;
  }
  std::map<std::string, int> RandomExtra() {
    static const std::vector<SkillRequirement> kOptions = {
        {"lang.de", 5}, {"lang.fr", 3}, {"sales", 7},
        {"support", 8}, {"billing", 5}, {"lang.fr", 8}};
    std::map<std::string, int> out;
    uint32_t r = src_.Below(100);
    int n = r < 65 ? 0 : r < 93 ? 1 : 2;
    for (int i = 0; i < n; ++i) {
      const SkillRequirement& o = src_.Pick(kOptions);
      out[o.skill] = o.min_level;
    }
    if (rare_skills_ && src_.Percent(15)) {
      out[Str("rare", src_.Below(6))] = static_cast<int>(src_.Range(1, 9));
    }
    return out;
  }
  // Whether the engine can intern `names` within limits_.max_skills: the
  // names live agents, live queues (any step) and live contacts hold, with
  // `names`, are at most that many.
  bool SkillNamesFit(const std::vector<std::string>& names) const {
    std::set<std::string> held(names.begin(), names.end());
    for (const auto& [id, a] : agents_) {
      if (!a.exists) continue;
      for (const Skill& k : a.profile.skills) held.insert(k.name);
    }
    for (const auto& [name, q] : queues_) {
      for (const std::string& skill : QueueSkillNames(q)) held.insert(skill);
    }
    for (const auto& [id, c] : contacts_) {
      for (const auto& [skill, level] : c.extra) held.insert(skill);
    }
    return held.size() <= limits_.max_skills;
  }
  // The skills a queue names, at every escalation step.
  static std::vector<std::string> QueueSkillNames(const QueueConfig& q) {
    std::vector<std::string> out;
    for (const SkillRequirement& r : q.requirements) out.push_back(r.skill);
    for (const EscalationStep& step : q.escalation) {
      for (const SkillRequirement& r : step.requirements) {
        out.push_back(r.skill);
      }
    }
    return out;
  }
  static std::vector<std::string> Names(const std::map<std::string, int>& m) {
    std::vector<std::string> out;
    for (const auto& [k, v] : m) out.push_back(k);
    return out;
  }
  static bool RefusedForSkillNames(const absl::Status& s) {
    return s.code() == absl::StatusCode::kResourceExhausted &&
           s.message().find("distinct skill names") != std::string_view::npos;
  }
  static std::string ReqsText(const std::map<std::string, int>& m) {
    std::string out;
    for (const auto& [k, v] : m) out += Str(out.empty() ? "" : ",", k, ">=", v);
    return out.empty() ? "-" : out;
  }

  // The requirements the contact's class stands for.
  absl::StatusOr<std::map<std::string, int>> EffectiveReqs(
      const ShadowContact& c) const {
    auto qit = queues_.find(c.queue);
    if (qit == queues_.end()) {
      return absl::InternalError(
          Str("contact ", c.id, " in unknown queue ", c.queue));
    }
    const QueueConfig& q = qit->second;
    if (c.step < 0 || c.step > static_cast<int>(q.escalation.size())) {
      return absl::InternalError(Str("contact ", c.id, " at escalation step ",
                                     c.step, " of queue ", q.name, " with ",
                                     q.escalation.size(), " steps"));
    }
    const std::vector<SkillRequirement>& base =
        c.step == 0 ? q.requirements : q.escalation[c.step - 1].requirements;
    std::map<std::string, int> out;
    for (const SkillRequirement& r : base) out[r.skill] = r.min_level;
    bool drop =
        c.step > 0 && q.escalation[c.step - 1].drop_contact_requirements;
    if (!drop) {
      for (const auto& [k, v] : c.extra) out[k] = std::max(out[k], v);
    }
    return out;
  }
  static bool Satisfies(const AgentProfile& a,
                        const std::map<std::string, int>& reqs) {
    for (const auto& [skill, level] : reqs) {
      bool ok = false;
      for (const Skill& s : a.skills) {
        if (s.name == skill && s.level >= level) ok = true;
      }
      if (!ok) return false;
    }
    return true;
  }
  // Whether the agent has room for one more contact on `ch`.
  static bool HasRoom(const ShadowAgent& a, Channel ch) {
    auto load = a.Load();
    int c = static_cast<int>(ch);
    if (load[c] >= a.profile.capacity[c]) return false;
    if (a.profile.voice_blocks_other_channels) {
      int voice = load[static_cast<int>(Channel::kVoice)] +
                  load[static_cast<int>(Channel::kCallback)];
      int total = 0;
      for (int l : load) total += l;
      if (voice > 0) return false;
      if (IsVoiceLike(ch) && total > 0) return false;
    }
    return true;
  }
  int Waiting(const std::string& queue) const {
    int n = 0;
    for (const auto& [id, c] : contacts_) {
      if (c.queue == queue && (c.state == ContactState::kQueued ||
                               c.state == ContactState::kOffered)) {
        n++;
      }
    }
    return n;
  }

  // --- Operations -------------------------------------------------------

  absl::Status OpCreate(std::optional<bool>& expect_ok, std::string& named) {
    ContactRequest r;
    bool retry = false;
    if ((!contacts_.empty() || !ended_.empty()) && src_.Percent(12)) {
      retry = true;
      r.id = PickContactId();
      auto it = requested_.find(r.id);
      if (it != requested_.end() && src_.Percent(80)) {
        r.queue = it->second.first;
        r.channel = it->second.second;
      } else {
        r.queue = PickQueueName();
        r.channel = static_cast<Channel>(src_.Below(kChannelCount));
      }
    } else {
      r.id = Str("c", next_id_++);
      r.queue = PickQueueName();
      auto qit = queues_.find(r.queue);
      if (qit != queues_.end() && src_.Percent(92)) {
        std::vector<Channel> takes;
        for (int c = 0; c < kChannelCount; ++c) {
          if (qit->second.TakesChannel(static_cast<Channel>(c))) {
            takes.push_back(static_cast<Channel>(c));
          }
        }
        r.channel = src_.Pick(takes);
      } else {
        r.channel = static_cast<Channel>(src_.Below(kChannelCount));
      }
    }
    uint32_t p = src_.Below(100);
    r.priority = p < 50   ? 0
                 : p < 70 ? 1
                 : p < 82 ? 2
                 : p < 90 ? 3
                 : p < 96 ? 4
                          : 5;
    std::map<std::string, int> extra = RandomExtra();
    r.requirements = ToReqs(extra);
    if (src_.Percent(40)) r.customer_id = Str("cust", src_.Below(5));
    if (src_.Percent(12)) {
      r.preferred_agent = PickAgentId();
      r.preferred_wait = std::chrono::seconds(src_.Range(5, 60));
    }
    if (src_.Percent(7)) {
      r.not_before = now_ + std::chrono::milliseconds(src_.Range(1, 120000));
    }
    if (src_.Percent(10)) r.attributes = {{"topic", "refund"}};
    bool invalid = src_.Percent(2);
    if (invalid) r.priority = 1001;

    named = r.id;
    current_op_ =
        Str("create ", r.id, retry ? " (retry)" : "", " queue=", r.queue,
            " ch=", r.channel, " prio=", r.priority, " req=", ReqsText(extra),
            r.customer_id.empty() ? "" : " cust=", r.customer_id,
            r.preferred_agent.empty() ? "" : " pref=", r.preferred_agent,
            r.not_before ? " not_before=" : "",
            r.not_before ? Str(*r.not_before) : std::string());

    size_t live_before = engine_->live_contacts();
    bool names_fit = SkillNamesFit(Names(extra));
    auto v = engine_->CreateContact(r, now_);
    if (invalid) expect_ok = false;
    if (RefusedForSkillNames(v.status()) && names_fit) {
      return Fail(
          Str("create refused for skill names; the model holds few "
              "enough for ",
              ReqsText(extra), ": ", v.status()));
    }
    if (!v.ok()) return v.status();
    if (v->created && !names_fit) {
      return Fail(Str("create made a contact with ", ReqsText(extra),
                      " beyond max_skills ", limits_.max_skills));
    }

    bool live = contacts_.contains(r.id);
    auto eit = ended_.find(r.id);
    bool remembered = eit != ended_.end() &&
                      now_ < eit->second + limits_.idempotency_retention;
    if (!v->created) {
      if (!live && !remembered) {
        return Fail(Str("a create of ", r.id,
                        " returned an existing contact the model does not "
                        "know (live or remembered)"));
      }
      if (engine_->live_contacts() != live_before) {
        return Fail("a retried create changed the number of live contacts");
      }
      std::vector<Event> events;
      engine_->TakeEvents(events);
      if (!events.empty()) {
        return Fail(Str("a retried create emitted ", events.size(),
                        " events; first ", EventKindName(events[0].kind)));
      }
      if (live) {
        const ShadowContact& c = contacts_.at(r.id);
        if (v->state != c.state) {
          return Fail(Str("retry of ", r.id, " returned state ", v->state,
                          ", model says ", c.state));
        }
      } else if (v->state != ContactState::kEnded) {
        return Fail(Str("retry of ended ", r.id, " returned state ", v->state));
      }
      return absl::OkStatus();
    }
    if (live || remembered) {
      return Fail(Str("a create of ", r.id, " made a second contact while ",
                      live ? "the first is live" : "the first is remembered"));
    }
    ShadowContact c;
    c.id = r.id;
    c.order = next_order_++;
    c.channel = r.channel;
    c.priority = r.priority;
    c.extra = extra;
    Time start = r.not_before && *r.not_before > now_ ? *r.not_before : now_;
    if (!r.preferred_agent.empty()) {
      c.preference_until = start + r.preferred_wait;
    } else if (!r.customer_id.empty()) {
      c.preference_until = start + kDriverMaxLastAgentWindow;
    }
    contacts_[r.id] = c;
    requested_[r.id] = {r.queue, r.channel};
    created_++;
    return absl::OkStatus();
  }

  absl::Status OpCancel(std::optional<bool>& expect_ok, std::string& named) {
    std::string id = PickContactId();
    named = id;
    EndReason reason =
        src_.Percent(50) ? EndReason::kAbandoned : EndReason::kCancelled;
    bool bad_reason = src_.Percent(3);
    if (bad_reason) reason = EndReason::kExpired;
    current_op_ = Str("cancel ", id, " as ", reason);
    auto it = contacts_.find(id);
    auto ended = ended_reason_.find(id);
    if (bad_reason) {
      expect_ok = false;
    } else if (it == contacts_.end() && ended != ended_reason_.end() &&
               ended->second == reason) {
      // A repeated cancel succeeds while the engine still remembers the
      // contact (its size cap may already have forgotten it).
      expect_ok = std::nullopt;
    } else if (it == contacts_.end()) {
      expect_ok = false;
    } else {
      ContactState st = it->second.state;
      expect_ok = st != ContactState::kAssigned && st != ContactState::kWrapUp;
    }
    return engine_->CancelContact(id, reason, now_);
  }

  absl::Status OpUpdate(std::optional<bool>& expect_ok, std::string& named) {
    std::string id = PickContactId();
    named = id;
    std::optional<int> priority;
    std::optional<std::map<std::string, int>> reqs;
    uint32_t what = src_.Below(3);
    if (what != 1) priority = static_cast<int>(src_.Below(6));
    if (what != 0) reqs = RandomExtra();
    current_op_ = Str("update ", id,
                      " prio=", priority ? Str(*priority) : std::string("="),
                      " req=", reqs ? ReqsText(*reqs) : std::string("="));
    auto it = contacts_.find(id);
    expect_ok = it != contacts_.end() &&
                (it->second.state == ContactState::kQueued ||
                 it->second.state == ContactState::kScheduled) &&
                (!reqs || SkillNamesFit(Names(*reqs)));
    std::optional<std::vector<SkillRequirement>> req_list;
    if (reqs) req_list = ToReqs(*reqs);
    auto s = engine_->UpdateContact(id, priority, req_list, now_);
    if (s.ok() && it != contacts_.end() && reqs) it->second.extra = *reqs;
    return s;
  }

  absl::Status OpLogin(std::optional<bool>& expect_ok) {
    std::string id = PickAgentId();
    current_op_ = Str("login ", id);
    expect_ok = FindShadowAgent(id) != nullptr;
    return engine_->Login(id, now_);
  }

  absl::Status OpReady(std::optional<bool>& expect_ok) {
    std::string id = PickAgentId();
    current_op_ = Str("ready ", id);
    ShadowAgent* a = FindShadowAgent(id);
    expect_ok = a != nullptr && a->state != AgentState::kOffline;
    return engine_->SetReady(id, now_);
  }

  absl::Status OpNotReady(std::optional<bool>& expect_ok, bool disconnect) {
    std::string id = PickAgentId();
    ShadowAgent* a = FindShadowAgent(id);
    expect_ok = a != nullptr && a->state != AgentState::kOffline;
    if (disconnect) {
      current_op_ = Str("disconnect ", id);
      return engine_->AgentDisconnected(id, now_);
    }
    static const std::vector<std::string> kReasons = {"break", "lunch",
                                                      "training"};
    std::string reason = src_.Pick(kReasons);
    current_op_ = Str("not ready ", id, " (", reason, ")");
    return engine_->SetNotReady(id, reason, now_);
  }

  absl::Status OpLogout(std::optional<bool>& expect_ok) {
    std::string id = PickAgentId();
    current_op_ = Str("logout ", id);
    ShadowAgent* a = FindShadowAgent(id);
    expect_ok =
        a != nullptr && a->state != AgentState::kOffline && !a->HasActive();
    return engine_->Logout(id, now_);
  }

  absl::Status OpAnswerOffer(std::optional<bool>& expect_ok, std::string& named,
                             bool accept) {
    std::vector<std::string> offered;
    for (const auto& [aid, a] : agents_) {
      if (!a.offer.empty()) offered.push_back(aid);
    }
    std::string id = !offered.empty() && src_.Percent(85) ? src_.Pick(offered)
                                                          : PickAgentId();
    std::string contact;
    auto stats = engine_->GetAgentStats(id, now_);
    if (stats.ok() && !stats->offered_contact.empty() && src_.Percent(92)) {
      contact = stats->offered_contact;
    } else {
      contact = PickContactId();
    }
    named = contact;
    current_op_ = Str(accept ? "accept " : "reject ", contact, " by ", id);
    ShadowAgent* a = FindShadowAgent(id);
    expect_ok =
        a != nullptr && a->state != AgentState::kOffline && a->offer == contact;
    return accept ? engine_->AcceptOffer(id, contact, now_)
                  : engine_->RejectOffer(id, contact, now_);
  }

  // An agent and one of its contacts in `phase` (or a random pair).
  std::pair<std::string, std::string> PickWork(Phase phase) {
    std::vector<std::pair<std::string, std::string>> options;
    for (const auto& [aid, a] : agents_) {
      for (const ShadowWork& w : a.work) {
        if (w.phase == phase) options.push_back({aid, w.contact});
      }
    }
    if (!options.empty() && src_.Percent(90)) return src_.Pick(options);
    return {PickAgentId(), PickContactId()};
  }

  // Whether `agent` is logged in and `contact` is assigned to it, not yet
  // in wrap-up.
  bool HandlesNow(const std::string& agent, const std::string& contact) {
    auto it = contacts_.find(contact);
    ShadowAgent* a = FindShadowAgent(agent);
    return a != nullptr && a->state != AgentState::kOffline &&
           it != contacts_.end() &&
           it->second.state == ContactState::kAssigned &&
           it->second.agent == agent;
  }

  absl::Status OpComplete(std::optional<bool>& expect_ok, std::string& named) {
    auto [agent, contact] = PickWork(Phase::kActive);
    named = contact;
    current_op_ = Str("complete ", contact, " by ", agent);
    expect_ok = HandlesNow(agent, contact);
    return engine_->CompleteContact(agent, contact, "done", now_);
  }

  // The desktop logged in again without an assigned contact: it goes back
  // to its queue at its place.
  absl::Status OpReturn(std::optional<bool>& expect_ok, std::string& named) {
    auto [agent, contact] = PickWork(Phase::kActive);
    named = contact;
    current_op_ = Str("return ", contact, " by ", agent);
    expect_ok = HandlesNow(agent, contact);
    // Until its kContactQueued event is applied.
    if (*expect_ok) returning_ = contact;
    return engine_->ReturnContact(agent, contact, now_);
  }

  // The desktop logged in again declaring a contact. Without a restart
  // nothing is reclaimable: it works for the agent's own offer (an accept)
  // and, changing nothing, for its own assigned or wrapping-up contact.
  absl::Status OpReclaim(std::optional<bool>& expect_ok, std::string& named) {
    uint32_t pick = src_.Below(3);
    auto [agent, contact] = PickWork(pick == 0   ? Phase::kOffered
                                     : pick == 1 ? Phase::kActive
                                                 : Phase::kWrapUp);
    named = contact;
    current_op_ = Str("reclaim ", contact, " by ", agent);
    auto it = contacts_.find(contact);
    ShadowAgent* a = FindShadowAgent(agent);
    bool ok = a != nullptr && a->state != AgentState::kOffline &&
              it != contacts_.end() && it->second.agent == agent;
    if (ok) {
      ContactState st = it->second.state;
      ok = st == ContactState::kAssigned || st == ContactState::kWrapUp ||
           (st == ContactState::kOffered && a->offer == contact);
    }
    expect_ok = ok;
    return engine_->ReclaimContact(agent, contact, now_);
  }

  absl::Status OpEndWrapUp(std::optional<bool>& expect_ok, std::string& named) {
    auto [agent, contact] = PickWork(Phase::kWrapUp);
    named = contact;
    current_op_ = Str("end wrap-up ", contact, " by ", agent);
    ShadowAgent* a = FindShadowAgent(agent);
    bool found = false;
    if (a != nullptr && a->state != AgentState::kOffline) {
      for (const ShadowWork& w : a->work) {
        found |= w.phase == Phase::kWrapUp && w.contact == contact;
      }
    }
    expect_ok = found;
    return engine_->EndWrapUp(agent, contact, now_);
  }

  absl::Status OpTransfer(std::optional<bool>& expect_ok, std::string& named) {
    auto [agent, contact] = PickWork(Phase::kActive);
    std::string queue = PickQueueName();
    named = contact;
    current_op_ = Str("transfer ", contact, " by ", agent, " to ", queue);
    auto it = contacts_.find(contact);
    ShadowAgent* a = FindShadowAgent(agent);
    auto qit = queues_.find(queue);
    bool ok = a != nullptr && a->state != AgentState::kOffline &&
              it != contacts_.end() &&
              it->second.state == ContactState::kAssigned &&
              it->second.agent == agent && qit != queues_.end();
    if (ok) {
      const QueueConfig& q = qit->second;
      ok = q.TakesChannel(it->second.channel) &&
           (q.max_waiting == 0 || Waiting(queue) < q.max_waiting);
    }
    expect_ok = ok;
    return engine_->TransferContact(agent, contact, queue, now_);
  }

  absl::Status OpAdvance(std::optional<bool>& expect_ok) {
    Time to = now_;
    std::optional<Time> next = engine_->NextDeadline();
    uint32_t r = src_.Below(100);
    if (r < 20 && next && *next - now_ <= 10min) {
      to = std::max(now_, *next);
    } else if (r < 28) {
      to = now_;
    } else if (r < 30) {
      to = now_ + std::chrono::seconds(src_.Range(300, 1200));
    } else {
      to = now_ + std::chrono::milliseconds(src_.Range(1, 60000));
    }
    current_op_ = Str("advance by ", to - now_, " to ", to);
    now_ = to;
    engine_->AdvanceTo(now_);
    expect_ok = true;
    return absl::OkStatus();
  }

  absl::Status OpChangeAgentProfile(std::optional<bool>& expect_ok) {
    std::string id = src_.Pick(agent_ids_);
    ShadowAgent* sa = FindShadowAgent(id);
    AgentProfile p = sa != nullptr ? sa->profile : base_agents_.at(id);
    std::string what;
    int changes = 1 + static_cast<int>(src_.Below(2));
    for (int i = 0; i < changes; ++i) {
      switch (src_.Below(5)) {
        case 0:
          if (!p.skills.empty()) {
            Skill& s =
                p.skills[src_.Below(static_cast<uint32_t>(p.skills.size()))];
            s.level = static_cast<int>(src_.Range(1, 10));
            what += Str(" ", s.name, "=", s.level);
          }
          break;
        case 1: {
          static const std::vector<std::string> kSkills = {
              "sales", "support", "billing", "lang.de", "lang.fr"};
          std::string name = src_.Pick(kSkills);
          auto it =
              std::find_if(p.skills.begin(), p.skills.end(),
                           [&](const Skill& s) { return s.name == name; });
          if (it != p.skills.end()) {
            p.skills.erase(it);
            what += Str(" -", name);
          } else {
            p.skills.push_back({name, static_cast<int>(src_.Range(1, 10))});
            what += Str(" +", name, "=", p.skills.back().level);
          }
          break;
        }
        case 2: {
          int c = static_cast<int>(src_.Below(kChannelCount));
          static const std::array<int, kChannelCount> kMax = {1, 3, 5, 1, 1};
          p.capacity[c] = static_cast<int>(src_.Range(0, kMax[c]));
          what += Str(" cap.", static_cast<Channel>(c), "=", p.capacity[c]);
          break;
        }
        case 3:
          p.voice_blocks_other_channels = !p.voice_blocks_other_channels;
          what += Str(" blocks=", p.voice_blocks_other_channels);
          break;
        case 4: {
          int c = static_cast<int>(src_.Below(kChannelCount));
          static const std::vector<Duration> kWraps = {0s, 2s, 10s};
          p.wrap_up[c] = src_.Pick(kWraps);
          what += Str(" wrap.", static_cast<Channel>(c), "=", p.wrap_up[c]);
          break;
        }
      }
    }
    current_op_ = Str("profile ", id, what);
    bool any = false;
    bool fits = true;
    std::array<int, kChannelCount> load{};
    if (sa != nullptr) load = sa->Load();
    int total = 0;
    for (int c = 0; c < kChannelCount; ++c) {
      any |= p.capacity[c] > 0;
      fits &= p.capacity[c] >= load[c];
      total += load[c];
    }
    // Voice cannot start blocking other channels beside work in progress.
    int voice = load[static_cast<int>(Channel::kVoice)] +
                load[static_cast<int>(Channel::kCallback)];
    fits &= !(p.voice_blocks_other_channels && voice > 0 && voice < total);
    std::vector<std::string> names;
    for (const Skill& k : p.skills) names.push_back(k.name);
    expect_ok = any && SkillNamesFit(names) && fits;
    auto s = engine_->UpsertAgentProfile(p, now_);
    if (s.ok()) {
      ShadowAgent& a = agents_[id];
      if (!a.exists) a = ShadowAgent{};
      a.exists = true;
      a.profile = p;
    }
    return s;
  }

  absl::Status OpChangeQueue(std::optional<bool>& expect_ok) {
    static const std::vector<std::string> kNames = {"sales", "support",
                                                    "billing", "general"};
    std::string name = src_.Pick(kNames);
    auto qit = queues_.find(name);
    const QueueConfig& base = base_queues_.at(name);
    QueueConfig q = qit != queues_.end() ? qit->second : base;
    std::string what;
    bool drops_channel = false;
    if (qit != queues_.end()) {
      int changes = 1 + static_cast<int>(src_.Below(2));
      for (int i = 0; i < changes; ++i) {
        switch (src_.Below(8)) {
          case 0:
            if (!base.requirements.empty() && src_.Percent(80)) {
              q.requirements = base.requirements;
              q.requirements[0].min_level = static_cast<int>(src_.Range(1, 8));
            } else {
              q.requirements.clear();
            }
            what += Str(" req=", q.requirements.empty()
                                     ? std::string("-")
                                     : Str(q.requirements[0].skill,
                                           ">=", q.requirements[0].min_level));
            break;
          case 1:
            q.agent_selection =
                static_cast<AgentSelection>(src_.Below(kAgentSelectionCount));
            what += Str(" select=", AgentSelectionName(q.agent_selection));
            break;
          case 2: {
            static const std::vector<Duration> kTimeouts = {5s, 10s, 20s, 30s};
            q.offer_timeout = src_.Pick(kTimeouts);
            what += Str(" offer_timeout=", q.offer_timeout);
            break;
          }
          case 3:
            q.escalation = q.escalation.empty() ? base.escalation
                                                : std::vector<EscalationStep>{};
            what += Str(" escalation=", q.escalation.size());
            break;
          case 4: {
            int c = static_cast<int>(src_.Below(kChannelCount));
            uint32_t bit = 1u << c;
            if ((q.channels & bit) && q.channels != bit) {
              q.channels &= ~bit;
              drops_channel = true;
              what += Str(" -", static_cast<Channel>(c));
            } else {
              q.channels |= bit;
              what += Str(" +", static_cast<Channel>(c));
            }
            break;
          }
          case 5: {
            static const std::vector<int> kMax = {0, 3, 8};
            q.max_waiting = src_.Pick(kMax);
            what += Str(" max_waiting=", q.max_waiting);
            break;
          }
          case 6: {
            static const std::vector<Duration> kWindows = {0s, 30s, 60s};
            q.last_agent_window = src_.Pick(kWindows);
            what += Str(" last_agent=", q.last_agent_window);
            break;
          }
          case 7:
            if (q.max_wait > Duration::zero()) {
              q.max_wait = Duration::zero();
              q.max_wait_queue.clear();
            } else {
              q.max_wait = src_.Percent(50) ? 45s : 120s;
              q.max_wait_queue = base.max_wait_queue;
            }
            what += Str(" max_wait=", q.max_wait, "->",
                        q.max_wait_queue.empty() ? "expire" : q.max_wait_queue);
            break;
        }
      }
    } else {
      what = " (re-created)";
    }
    current_op_ = Str("queue ", name, what);
    bool ok = true;
    if (drops_channel && qit != queues_.end()) {
      for (const auto& [id, c] : contacts_) {
        if (c.queue == name && !q.TakesChannel(c.channel)) ok = false;
      }
    }
    expect_ok = ok && SkillNamesFit(QueueSkillNames(q));
    auto s = engine_->UpsertQueue(q, now_);
    if (s.ok()) {
      queues_[name] = q;
      // Waiting contacts keep their step, within the new escalation.
      for (auto& [id, c] : contacts_) {
        if (c.queue == name && (c.state == ContactState::kQueued ||
                                c.state == ContactState::kOffered)) {
          c.step = std::min<int>(c.step, static_cast<int>(q.escalation.size()));
        }
      }
    }
    return s;
  }

  absl::Status OpChangePolicy(std::optional<bool>& expect_ok) {
    RoutingPolicy p = RandomPolicy();
    current_op_ = Str("policy ", ContactSelectionName(p.contact_selection),
                      " missed=", p.max_missed_offers,
                      " reoffer_delay=", p.reoffer_delay);
    expect_ok = true;
    auto s = engine_->SetRoutingPolicy(p, now_);
    if (s.ok()) policy_ = p;
    return s;
  }

  absl::Status OpDeleteAgent(std::optional<bool>& expect_ok) {
    std::string id = PickAgentId();
    current_op_ = Str("delete agent ", id);
    ShadowAgent* a = FindShadowAgent(id);
    expect_ok = a != nullptr && a->state == AgentState::kOffline;
    auto s = engine_->DeleteAgentProfile(id, now_);
    if (s.ok() && a != nullptr) {
      *a = ShadowAgent{};
      // A profile created again later is a new agent to the engine.
      for (auto& [cid, c] : contacts_) c.declined.erase(id);
    }
    return s;
  }

  absl::Status OpDeleteQueue(std::optional<bool>& expect_ok) {
    std::string name = PickQueueName();
    current_op_ = Str("delete queue ", name);
    bool ok = queues_.contains(name);
    for (const auto& [id, c] : contacts_) ok &= c.queue != name;
    expect_ok = ok;
    auto s = engine_->DeleteQueue(name, now_);
    if (s.ok()) queues_.erase(name);
    return s;
  }

  // --- Checks -----------------------------------------------------------

  Snapshot TakeSnapshot() {
    Snapshot s;
    s.live = engine_->live_contacts();
    s.deadline = engine_->NextDeadline();
    s.agents = engine_->GetAllAgentStats(now_);
    s.queues = engine_->GetAllQueueStats(now_);
    return s;
  }
  static std::string AgentText(const AgentStats& a) {
    std::string contacts;
    for (const std::string& c : a.contacts) contacts += c + " ";
    return Str(a.id, " ", a.state, "(", a.reason,
               ") in_state=", a.time_in_state, " load=", a.load[0], "/",
               a.load[1], "/", a.load[2], "/", a.load[3], "/", a.load[4],
               " offer=", a.offered_contact, " contacts=", contacts,
               " handled=", a.handled, " missed=", a.missed_offers,
               " occ=", a.occupancy ? *a.occupancy : -1.0);
  }
  static std::string QueueText(const QueueStats& q) {
    // `refused` counts refused creates: a failed call may change it.
    return Str(
        q.name, " waiting=", q.waiting, " offered=", q.offered,
        " scheduled=", q.scheduled, " oldest=", q.oldest_wait,
        " created=", q.created, " answered=", q.answered,
        " abandoned=", q.abandoned, " cancelled=", q.cancelled,
        " expired=", q.expired, " completed=", q.completed,
        " overflowed=", q.overflowed, " transferred_in=", q.transferred_in,
        " offers=", q.offers, "/", q.offers_accepted, "/", q.offers_rejected,
        "/", q.offers_timed_out, "/", q.offers_rescinded,
        " window=", q.window_answered, "/", q.window_answered_within_target,
        "/", q.window_abandoned, " ready=", q.agents_ready);
  }
  static std::string ContactText(const absl::StatusOr<ContactView>& v) {
    if (!v.ok()) return v.status().ToString();
    std::string reqs;
    for (const auto& r : v->requirements) {
      reqs += Str(r.skill, ">=", r.min_level, " ");
    }
    return Str(v->id, " ", v->queue, " ", v->channel, " prio=", v->priority,
               " ", v->state, " end=", v->end_reason, " agent=", v->agent_id,
               " arrived=", v->arrived_at, " step=", v->escalation_step,
               " pos=", v->position, " req=", reqs);
  }

  absl::Status AfterOp(const absl::Status& result,
                       std::optional<bool> expect_ok, const Snapshot& before,
                       const std::string& named) {
    std::string line =
        Str("#", op_index_, " t=", now_, " ", current_op_, " -> ", result);
    if (!result.ok() && result.code() == absl::StatusCode::kInternal) {
      // The driver's own check failed inside the operation.
      AppendLog(line);
      return result;
    }
    std::vector<Event> events;
    engine_->TakeEvents(events);
    if (!result.ok() && !events.empty()) {
      AppendLog(line);
      return Fail(Str("a failed call emitted ", events.size(),
                      " events; first ", EventKindName(events[0].kind), " of ",
                      events[0].contact_id, events[0].agent_id));
    }
    absl::Status applied = absl::OkStatus();
    for (const Event& e : events) {
      applied = Apply(e);
      if (!applied.ok()) break;
    }
    line += events_text_.empty() ? "" : Str("  {", events_text_, "}");
    counts_[Str("op ",
                current_op_.substr(0, current_op_.find_first_of(" 0123456789")),
                result.ok() ? " ok" : " failed")]++;
    if (RefusedForSkillNames(result)) counts_["refused for skill names"]++;
    AppendLog(line);
    if (!applied.ok()) return applied;
    for (auto& [id, c] : contacts_) {
      if (c.fresh) {
        return Fail(Str("contact ", id, " was created without an event"));
      }
    }
    if (expect_ok && *expect_ok != result.ok()) {
      return Fail(Str("expected the call to ", *expect_ok ? "succeed" : "fail",
                      ", got ", result));
    }
    if (!result.ok()) {
      Snapshot after = TakeSnapshot();
      if (after.live != before.live) {
        return Fail("a failed call changed the number of live contacts");
      }
      if (after.deadline != before.deadline) {
        return Fail("a failed call changed the next deadline");
      }
      if (after.agents.size() != before.agents.size() ||
          after.queues.size() != before.queues.size()) {
        return Fail("a failed call added or removed agents or queues");
      }
      for (size_t i = 0; i < after.agents.size(); ++i) {
        std::string x = AgentText(before.agents[i]);
        std::string y = AgentText(after.agents[i]);
        if (x != y) {
          return Fail(Str("a failed call changed an agent:\n  before ", x,
                          "\n  after  ", y));
        }
      }
      for (size_t i = 0; i < after.queues.size(); ++i) {
        std::string x = QueueText(before.queues[i]);
        std::string y = QueueText(after.queues[i]);
        if (x != y) {
          return Fail(Str("a failed call changed a queue:\n  before ", x,
                          "\n  after  ", y));
        }
      }
    }
    // The named contact (like every live one) is compared with the model,
    // which a failed call, emitting nothing, leaves unchanged.
    (void)named;
    return CheckAll();
  }

  void AppendLog(std::string line) {
    log_.push_back(std::move(line));
    while (log_.size() > 20) log_.pop_front();
  }

  // The engine's invariants and the model against the engine's views.
  absl::Status CheckAll() {
    if (auto s = CheckEngine(); !s.ok()) return s;
    if (auto next = engine_->NextDeadline(); next && *next <= now_) {
      return Fail(Str("a timer due at ", *next, " has not fired"));
    }
    if (engine_->live_contacts() != contacts_.size()) {
      return Fail(Str("engine holds ", engine_->live_contacts(),
                      " live contacts, the events say ", contacts_.size()));
    }
    for (const std::string& id : ended_this_op_) {
      if (contacts_.contains(id)) continue;  // created again
      auto v = engine_->GetContact(id, now_);
      if (v.ok() && v->state != ContactState::kEnded) {
        return Fail(Str("ended contact ", id, " is still ", v->state));
      }
    }
    for (const auto& [id, a] : agents_) {
      auto st = engine_->GetAgentStats(id, now_);
      if (!a.exists) {
        if (st.ok()) return Fail(Str("deleted agent ", id, " still exists"));
        continue;
      }
      if (!st.ok()) return Fail(Str("agent ", id, ": ", st.status()));
      std::vector<std::string> want, got = st->contacts;
      for (const ShadowWork& w : a.work) {
        if (w.phase != Phase::kOffered) want.push_back(w.contact);
      }
      std::sort(want.begin(), want.end());
      std::sort(got.begin(), got.end());
      if (st->state != a.state || st->offered_contact != a.offer ||
          st->load != a.Load() || want != got) {
        return Fail(Str("agent ", id, " is ", AgentText(*st),
                        "; the events say ", a.state, " offer=", a.offer,
                        " load=", a.Load()[0], "/", a.Load()[1], "/",
                        a.Load()[2], "/", a.Load()[3], "/", a.Load()[4]));
      }
      if (a.state == AgentState::kOffline && !a.work.empty()) {
        return Fail(Str("offline agent ", id, " has work"));
      }
    }
    std::map<std::string, std::array<int, 3>> per_queue;
    for (const auto& [id, c] : contacts_) {
      auto v = engine_->GetContact(id, now_);
      if (!v.ok()) return Fail(Str("live contact ", id, ": ", v.status()));
      bool waiting =
          c.state == ContactState::kQueued || c.state == ContactState::kOffered;
      if (v->state != c.state || v->agent_id != c.agent ||
          v->queue != c.queue || v->priority != c.priority ||
          v->requirements != ToReqs(c.extra) ||
          (waiting &&
           (v->arrived_at != c.arrival || v->escalation_step != c.step))) {
        return Fail(Str("contact is ", ContactText(v), "; the events say ",
                        c.state, " agent=", c.agent, " queue=", c.queue,
                        " prio=", c.priority, " arrived=", c.arrival,
                        " step=", c.step, " req=", ReqsText(c.extra)));
      }
      if (c.released) return Fail(Str("contact ", id, " left released"));
      auto& counts = per_queue[c.queue];
      counts[0] += waiting;
      counts[1] += c.state == ContactState::kOffered;
      counts[2] += c.state == ContactState::kScheduled;
    }
    for (const auto& [name, q] : queues_) {
      auto st = engine_->GetQueueStats(name, now_);
      if (!st.ok()) return Fail(Str("queue ", name, ": ", st.status()));
      const auto& counts = per_queue[name];
      if (st->waiting != counts[0] || st->offered != counts[1] ||
          st->scheduled != counts[2]) {
        return Fail(Str("queue is ", QueueText(*st), "; the events say ",
                        counts[0], " waiting, ", counts[1], " offered, ",
                        counts[2], " scheduled"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status CheckEngine() {
    std::vector<Event> events;
    engine_->TakeEvents(events);
    for (const Event& e : events) {
      if (auto s = Apply(e); !s.ok()) return s;
    }
    if (auto s = engine_->CheckInvariants(); !s.ok()) {
      return Fail(Str("CheckInvariants: ", s));
    }
    return absl::OkStatus();
  }

  absl::Status Drain() {
    std::vector<Event> events;
    engine_->TakeEvents(events);
    for (const Event& e : events) {
      if (auto s = Apply(e); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // --- The model, fed by events ------------------------------------------

  absl::Status Apply(const Event& e) {
    if (log_events_) {
      events_text_ +=
          Str(events_text_.empty() ? "" : ", ", EventKindName(e.kind), " ",
              e.contact_id, e.agent_id.empty() ? "" : "@", e.agent_id);
      if (e.kind == EventKind::kAgentStateChanged) {
        events_text_ += Str("=", e.agent_state);
      }
      if (e.kind == EventKind::kContactEnded) {
        events_text_ += Str("=", e.end_reason);
      }
    }
    counts_[Str("event ", EventKindName(e.kind))]++;
    if (e.at > now_) return Fail("an event from the future");
    if (e.kind == EventKind::kAgentStateChanged) {
      ShadowAgent* a = FindShadowAgent(e.agent_id);
      if (a == nullptr) return Fail(Str("state of unknown agent ", e.agent_id));
      a->state = e.agent_state;
      return absl::OkStatus();
    }
    if (e.kind == EventKind::kAgentWrapUpEnded) {
      ShadowAgent* a = FindShadowAgent(e.agent_id);
      if (a == nullptr) {
        return Fail(Str("wrap-up end of unknown agent ", e.agent_id));
      }
      // An agent may hold two wrap-ups of one contact id (it transferred
      // the contact away, then took it again); both end the same way, so
      // take the contact's own wrap-up when it is in one with this agent.
      auto cit = contacts_.find(e.contact_id);
      bool own = cit != contacts_.end() &&
                 cit->second.state == ContactState::kWrapUp &&
                 cit->second.agent == e.agent_id;
      auto it = std::find_if(
          a->work.begin(), a->work.end(), [&](const ShadowWork& w) {
            return w.phase == Phase::kWrapUp && w.contact == e.contact_id &&
                   w.transferred != own;
          });
      if (it == a->work.end()) {
        it = std::find_if(
            a->work.begin(), a->work.end(), [&](const ShadowWork& w) {
              return w.phase == Phase::kWrapUp && w.contact == e.contact_id;
            });
      }
      if (it == a->work.end()) {
        return Fail(Str("agent ", e.agent_id, " ended a wrap-up of ",
                        e.contact_id, " it does not have"));
      }
      a->work.erase(it);
      return absl::OkStatus();
    }

    auto cit = contacts_.find(e.contact_id);
    if (cit == contacts_.end()) {
      return Fail(Str("event ", EventKindName(e.kind), " for contact ",
                      e.contact_id, " that is not live",
                      ended_.contains(e.contact_id) ? " (it ended)" : ""));
    }
    ShadowContact& c = cit->second;
    if (e.channel != c.channel) return Fail("event with the wrong channel");
    if (e.kind != EventKind::kContactUpdated && e.priority != c.priority) {
      return Fail(Str("event priority ", e.priority, " vs ", c.priority));
    }
    bool moves = e.kind == EventKind::kContactOverflowed ||
                 e.kind == EventKind::kContactTransferred;
    if (c.fresh) {
      if (e.kind != EventKind::kContactQueued &&
          e.kind != EventKind::kContactScheduled &&
          e.kind != EventKind::kContactOverflowed) {
        return Fail(
            Str("a new contact's first event is ", EventKindName(e.kind)));
      }
      c.queue =
          e.kind == EventKind::kContactOverflowed ? e.from_queue : e.queue;
      if (c.queue != requested_.at(c.id).first) {
        return Fail("a new contact entered a queue it did not ask for");
      }
    }
    if (!moves && e.queue != c.queue) {
      return Fail(
          Str("event names queue ", e.queue, ", contact is in ", c.queue));
    }
    auto expect_state = [&](std::initializer_list<ContactState> ok) {
      for (ContactState s : ok) {
        if (c.state == s) return absl::OkStatus();
      }
      return Fail(Str("event ", EventKindName(e.kind), " for contact ", c.id,
                      " in state ", c.state));
    };
    auto expect_step = [&](int step) {
      if (e.step == step) return absl::OkStatus();
      return Fail(Str("event ", EventKindName(e.kind), " at step ", e.step,
                      ", expected ", step));
    };
    auto expect_agent = [&]() {
      if (c.agent == e.agent_id) return absl::OkStatus();
      return Fail(Str("event ", EventKindName(e.kind), " names agent ",
                      e.agent_id, ", contact is with ", c.agent));
    };
    ShadowAgent* agent = nullptr;
    if (!e.agent_id.empty() && e.kind != EventKind::kContactTransferred) {
      agent = FindShadowAgent(e.agent_id);
      if (agent == nullptr) return Fail(Str("unknown agent ", e.agent_id));
    }

    switch (e.kind) {
      case EventKind::kContactQueued: {
        if (c.state == ContactState::kAssigned) {
          // ReturnContact: back at its place, from step 0.
          if (returning_ != c.id) return Fail("queued while assigned");
          if (auto s = expect_agent(); !s.ok()) return s;
          if (auto s = expect_step(0); !s.ok()) return s;
          auto w = std::find_if(agent->work.begin(), agent->work.end(),
                                [&](const ShadowWork& x) {
                                  return x.phase == Phase::kActive &&
                                         x.contact == c.id && !x.transferred;
                                });
          if (w == agent->work.end()) return Fail("returned without the work");
          agent->work.erase(w);
          if (policy_.reoffer_delay > Duration::zero()) {
            c.declined[e.agent_id] = e.at + policy_.reoffer_delay;
          }
          c.agent.clear();
          c.step = 0;
          c.released = false;
          c.state = ContactState::kQueued;
          returning_.clear();
          return absl::OkStatus();
        }
        if (c.fresh || c.state == ContactState::kScheduled) {
          if (auto s = expect_step(0); !s.ok()) return s;
          c.arrival = e.at;
          c.step = 0;
        } else {
          if (auto s = expect_state({ContactState::kQueued}); !s.ok()) return s;
          if (!c.released) return Fail("queued again without a release");
          if (auto s = expect_step(c.step); !s.ok()) return s;
        }
        c.fresh = false;
        c.released = false;
        c.state = ContactState::kQueued;
        return absl::OkStatus();
      }
      case EventKind::kContactScheduled:
        if (!c.fresh) return Fail("scheduled after creation");
        c.fresh = false;
        c.state = ContactState::kScheduled;
        return absl::OkStatus();
      case EventKind::kContactOverflowed: {
        if (!c.fresh) {
          if (auto s = expect_state({ContactState::kQueued}); !s.ok()) return s;
        }
        if (e.from_queue != c.queue) {
          return Fail(
              Str("overflow from ", e.from_queue, ", contact is in ", c.queue));
        }
        if (auto s = expect_step(0); !s.ok()) return s;
        if (c.fresh) c.arrival = e.at;
        c.fresh = false;
        c.released = false;
        c.queue = e.queue;
        c.step = 0;
        c.state = ContactState::kQueued;
        return absl::OkStatus();
      }
      case EventKind::kContactEscalated: {
        if (auto s =
                expect_state({ContactState::kQueued, ContactState::kOffered});
            !s.ok()) {
          return s;
        }
        if (c.released) return Fail("escalated while released");
        if (auto s = expect_step(c.step + 1); !s.ok()) return s;
        c.step = e.step;
        if (auto r = EffectiveReqs(c); !r.ok()) return Fail(Str(r.status()));
        return absl::OkStatus();
      }
      case EventKind::kContactUpdated:
        if (auto s =
                expect_state({ContactState::kQueued, ContactState::kScheduled});
            !s.ok()) {
          return s;
        }
        if (c.released) return Fail("updated while released");
        if (auto s = expect_step(c.step); !s.ok()) return s;
        c.priority = e.priority;
        return absl::OkStatus();
      case EventKind::kContactOffered:
        return ApplyOffer(e, c, *agent);
      case EventKind::kContactAssigned: {
        if (auto s = expect_state({ContactState::kOffered}); !s.ok()) return s;
        if (auto s = expect_agent(); !s.ok()) return s;
        if (agent->offer != c.id) return Fail("assigned without the offer");
        for (ShadowWork& w : agent->work) {
          if (w.phase == Phase::kOffered && w.contact == c.id) {
            w.phase = Phase::kActive;
          }
        }
        agent->offer.clear();
        c.state = ContactState::kAssigned;
        c.declined.clear();
        return absl::OkStatus();
      }
      case EventKind::kOfferRejected:
      case EventKind::kOfferTimedOut:
      case EventKind::kOfferRescinded: {
        if (auto s = expect_state({ContactState::kOffered}); !s.ok()) return s;
        if (auto s = expect_agent(); !s.ok()) return s;
        if (agent->offer != c.id) return Fail("released without the offer");
        std::erase_if(agent->work, [&](const ShadowWork& w) {
          return w.phase == Phase::kOffered && w.contact == c.id;
        });
        agent->offer.clear();
        if (e.kind != EventKind::kOfferRescinded &&
            policy_.reoffer_delay > Duration::zero()) {
          c.declined[e.agent_id] = e.at + policy_.reoffer_delay;
        }
        c.agent.clear();
        c.state = ContactState::kQueued;
        c.released = true;
        return absl::OkStatus();
      }
      case EventKind::kContactWrapUp: {
        if (auto s = expect_state({ContactState::kAssigned}); !s.ok()) return s;
        if (auto s = expect_agent(); !s.ok()) return s;
        bool found = false;
        for (ShadowWork& w : agent->work) {
          if (!found && w.phase == Phase::kActive && w.contact == c.id) {
            w.phase = Phase::kWrapUp;
            found = true;
          }
        }
        if (!found) return Fail("wrap-up without the work");
        c.state = ContactState::kWrapUp;
        return absl::OkStatus();
      }
      case EventKind::kContactTransferred: {
        if (auto s = expect_state({ContactState::kAssigned}); !s.ok()) return s;
        if (auto s = expect_agent(); !s.ok()) return s;
        if (e.from_queue != c.queue) return Fail("transferred from elsewhere");
        if (auto s = expect_step(0); !s.ok()) return s;
        ShadowAgent* from = FindShadowAgent(e.agent_id);
        if (from == nullptr) return Fail("transfer by an unknown agent");
        bool found = false;
        for (ShadowWork& w : from->work) {
          if (!found && w.phase == Phase::kActive && w.contact == c.id) {
            w.phase = Phase::kWrapUp;
            w.transferred = true;
            found = true;
          }
        }
        if (!found) return Fail("transfer without the work");
        c.queue = e.queue;
        c.agent.clear();
        c.arrival = e.at;
        c.step = 0;
        c.preference_until = Time{};
        c.state = ContactState::kQueued;
        return absl::OkStatus();
      }
      case EventKind::kContactEnded: {
        if (c.state == ContactState::kWrapUp) {
          if (e.end_reason != EndReason::kCompleted) {
            return Fail("a contact in wrap-up ended other than completed");
          }
          ShadowAgent* a = FindShadowAgent(c.agent);
          if (a != nullptr) {
            for (const ShadowWork& w : a->work) {
              if (w.contact == c.id && !w.transferred &&
                  w.phase == Phase::kWrapUp) {
                return Fail("ended while its wrap-up is still running");
              }
            }
          }
        } else {
          if (auto s = expect_state(
                  {ContactState::kQueued, ContactState::kScheduled});
              !s.ok()) {
            return s;
          }
          if (e.end_reason != EndReason::kAbandoned &&
              e.end_reason != EndReason::kCancelled &&
              e.end_reason != EndReason::kExpired) {
            return Fail(Str("a waiting contact ended as ", e.end_reason));
          }
          if (e.end_reason == EndReason::kExpired &&
              c.state != ContactState::kQueued) {
            return Fail("a scheduled contact expired");
          }
        }
        ended_[c.id] = e.at;
        ended_reason_[c.id] = e.end_reason;
        ended_this_op_.push_back(c.id);
        ended_count_++;
        contacts_.erase(cit);
        return absl::OkStatus();
      }
      default:
        return Fail("unexpected event kind");
    }
  }

  absl::Status ApplyOffer(const Event& e, ShadowContact& c, ShadowAgent& a) {
    if (c.state != ContactState::kQueued || c.released) {
      return Fail(Str("contact ", c.id, " offered while ", c.state,
                      c.released ? " (released)" : ""));
    }
    if (e.step != c.step) return Fail("offer at another step");
    if (a.state != AgentState::kReady) {
      return Fail(Str("offer to agent ", e.agent_id, " who is ", a.state));
    }
    if (!a.offer.empty()) {
      return Fail(Str("offer of ", c.id, " to agent ", e.agent_id,
                      " who holds an offer of ", a.offer));
    }
    if (!HasRoom(a, c.channel)) {
      return Fail(
          Str("offer to agent ", e.agent_id, " without room for ", c.channel));
    }
    auto reqs = EffectiveReqs(c);
    if (!reqs.ok()) return Fail(Str(reqs.status()));
    if (!Satisfies(a.profile, *reqs)) {
      return Fail(Str("offer of ", c.id, " to agent ", e.agent_id, " lacking ",
                      ReqsText(*reqs)));
    }
    if (auto d = c.declined.find(e.agent_id);
        d != c.declined.end() && d->second > e.at) {
      return Fail(Str("offer of ", c.id, " to agent ", e.agent_id,
                      " who declined it until ", d->second));
    }
    // Ordering within the class. A decline or a preference that ends at
    // this very instant is ambiguous: timers due at one instant fire in the
    // order they were armed, so the timer that ends it may not have run yet
    // (the engine then still treats it as in force).
    if (c.preference_until < e.at) {
      for (const auto& [id, d] : contacts_) {
        if (id == c.id || d.state != ContactState::kQueued || d.released ||
            d.queue != c.queue || d.channel != c.channel ||
            d.preference_until >= e.at) {
          continue;
        }
        if (auto dd = d.declined.find(e.agent_id);
            dd != d.declined.end() && dd->second >= e.at) {
          continue;
        }
        auto dreqs = EffectiveReqs(d);
        if (!dreqs.ok()) return Fail(Str(dreqs.status()));
        if (*dreqs != *reqs) continue;
        bool ahead = d.priority > c.priority ||
                     (d.priority == c.priority &&
                      (d.arrival < c.arrival ||
                       (d.arrival == c.arrival && d.order < c.order)));
        if (ahead) {
          return Fail(Str("offered ", c.id, " (prio ", c.priority, ", arrived ",
                          c.arrival, ") to ", e.agent_id, " while ", id,
                          " (prio ", d.priority, ", arrived ", d.arrival,
                          ") waits ahead of it in the same class ",
                          ReqsText(*reqs)));
        }
      }
    }
    c.state = ContactState::kOffered;
    c.agent = e.agent_id;
    a.offer = c.id;
    a.work.push_back({c.id, c.channel, Phase::kOffered, false});
    return absl::OkStatus();
  }

  OpSource& src_;
  EngineLimits limits_;
  bool rare_skills_ = false;  // contacts may ask for rare skills
  std::string returning_;     // the contact ReturnContact is returning
  RoutingPolicy policy_;
  std::unique_ptr<Engine> engine_;
  Time now_ = Time(1000s);
  std::map<std::string, QueueConfig> base_queues_;
  std::map<std::string, QueueConfig> queues_;  // live queues
  std::map<std::string, AgentProfile> base_agents_;
  std::vector<std::string> agent_ids_;
  std::map<std::string, ShadowAgent> agents_;
  std::map<std::string, ShadowContact> contacts_;  // live
  std::map<std::string, Time> ended_;              // id -> last end
  std::map<std::string, EndReason> ended_reason_;  // id -> why it ended
  std::map<std::string, std::pair<std::string, Channel>> requested_;
  uint64_t next_id_ = 0;
  uint64_t next_order_ = 0;
  int64_t created_ = 0;
  int64_t ended_count_ = 0;
  std::vector<std::string> ended_this_op_;
  int op_index_ = 0;
  std::string current_op_;
  std::string events_text_;
  bool log_events_ = true;
  std::deque<std::string> log_;
  std::map<std::string, int64_t> counts_;
};

}  // namespace ccroute::core::testing

#endif  // CCROUTE_TESTS_CORE_ENGINE_DRIVER_H_
