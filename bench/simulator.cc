#include "bench/simulator.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numbers>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/core/engine.h"

namespace ccroute::sim {
namespace {

using core::Duration;
using core::Event;
using core::EventKind;
using core::Time;

constexpr Time kNever = Time::max();
// Long enough that no accept delay lets an offer time out.
constexpr Duration kOfferTimeout = std::chrono::hours(24 * 365);

Duration Seconds(double s) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
}
double Secs(Duration d) { return core::ToSeconds(d); }

// SplitMix64: turns (seed, replication, stream) into well-separated seeds.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Random variates from a 64-bit Mersenne Twister, by formulas of our own
// rather than <random>'s distributions, whose output the standard leaves to
// each library: a seed gives the same run everywhere.
class Random {
 public:
  Random(uint64_t seed, int replication, int stream)
      : gen_(Mix(Mix(Mix(seed) + static_cast<uint64_t>(replication)) +
                 static_cast<uint64_t>(stream))) {}
  // Uniform on [0, 1).
  double Uniform() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }
  double Exponential(double mean) { return -mean * std::log1p(-Uniform()); }
  // Standard normal (Box-Muller, one value of each pair).
  double Normal() {
    double u = 1 - Uniform(), v = Uniform();
    return std::sqrt(-2 * std::log(u)) * std::cos(2 * std::numbers::pi * v);
  }
  // Uniform on 0 .. n-1 (n > 0).
  size_t Below(size_t n) {
    return std::min(n - 1, static_cast<size_t>(Uniform() * n));
  }

 private:
  std::mt19937_64 gen_;
};

enum Stream { kArrivalStream = 1, kAcceptStream = 2, kSelectionStream = 3 };

bool Eligible(const AgentGroup& g, const ContactType& t) {
  for (const core::SkillRequirement& r : t.requirements) {
    bool met = false;
    for (const core::Skill& s : g.skills) {
      met = met || (s.name == r.skill && s.level >= r.min_level);
    }
    if (!met) return false;
  }
  return true;
}

bool Positive(double x) { return x > 0 && std::isfinite(x); }
bool NonNegative(double x) { return x >= 0 && std::isfinite(x); }

template <typename T>
int ParseIndex(std::string_view id) {
  T v = 0;
  auto [ptr, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
  return ec == std::errc() && ptr == id.data() + id.size() ? static_cast<int>(v)
                                                           : -1;
}

// One replication: the engine, the contacts and agents as the simulator
// sees them, and the pending happenings. Single-threaded.
class Replication {
 public:
  Replication(const Scenario& scenario, const RunOptions& options, int index);
  absl::StatusOr<ReplicationResult> Run();

 private:
  enum class ContactState : uint8_t { kWaiting, kAnswered, kAbandoned };
  struct ContactRecord {
    int64_t arrival_ns = 0;
    int64_t first_offer_ns = -1;
    double work_seconds = 0;  // handle time at speed 1
    int type = 0;
    int agent = -1;  // offered to / assigned to
    uint32_t offer_serial = 0;
    ContactState state = ContactState::kWaiting;
    bool measured = false;
  };
  struct AgentRecord {
    std::string id;
    int group = 0;
    bool busy = false;  // holds an offer or a contact, wrap-up included
    Time busy_since{};
  };
  enum class ActionKind : uint8_t { kAccept, kComplete, kAbandon };
  struct Action {
    Time at;
    uint64_t seq;
    ActionKind kind;
    int contact;
    uint32_t serial;  // kAccept: the offer it answers
    bool operator>(const Action& o) const {
      return at != o.at ? at > o.at : seq > o.seq;
    }
  };

  absl::Status Open();
  void Arrive(int type);
  void Perform(const Action& a);
  void React(const Event& e);
  void Drain();
  void BusyEnd(AgentRecord& a);
  void Resolve(ContactRecord& c, ContactState state, Duration wait);
  void BecameIdle(int agent);
  void Promote();
  void Schedule(Duration after, ActionKind kind, int contact,
                uint32_t serial = 0) {
    actions_.push({now_ + after, next_seq_++, kind, contact, serial});
  }
  void Expect(const absl::Status& status, const char* what) {
    if (status.ok() || !error_.ok()) return;
    error_ = absl::InternalError(
        absl::StrCat("at ", Secs(now_.time_since_epoch()), " s, ", what, ": ",
                     status.ToString()));
  }
  int ContactIndex(const Event& e) {
    return ParseIndex<uint32_t>(e.contact_id);
  }
  int AgentIndex(const Event& e) { return ParseIndex<uint32_t>(e.agent_id); }
  // Adds the overlap of [from, to] with the measurement window.
  void AddBusy(int group, Time from, Time to);

  const Scenario& scenario_;
  const int64_t warmup_;
  const int64_t measured_goal_;
  core::Engine engine_;
  Random arrivals_rng_, accept_rng_, selection_rng_;
  Time now_{};
  std::vector<Time> next_arrival_;
  std::vector<ContactRecord> contacts_;
  std::vector<AgentRecord> agents_;
  std::priority_queue<Action, std::vector<Action>, std::greater<>> actions_;
  std::vector<Event> batch_;
  std::vector<int> freed_;
  uint64_t next_seq_ = 0;
  int64_t measured_resolved_ = 0;
  Time window_start_ = kNever, window_end_ = kNever;
  // Random selection: the one idle agent left READY, and the idle others.
  int front_ = -1;
  std::vector<int> pool_;
  ReplicationResult result_;
  absl::Status error_;
};

Replication::Replication(const Scenario& scenario, const RunOptions& options,
                         int index)
    : scenario_(scenario),
      warmup_(WarmupContacts(options)),
      measured_goal_(options.contacts),
      engine_(
          core::EngineLimits{},
          core::RoutingPolicy{.contact_selection = scenario.contact_selection}),
      arrivals_rng_(options.seed, index, kArrivalStream),
      accept_rng_(options.seed, index, kAcceptStream),
      selection_rng_(options.seed, index, kSelectionStream) {
  result_.queues.resize(scenario.contact_types.size());
  result_.group_busy_seconds.resize(scenario.agent_groups.size());
  result_.group_staffed_seconds.resize(scenario.agent_groups.size());
}

absl::Status Replication::Open() {
  for (const ContactType& t : scenario_.contact_types) {
    core::QueueConfig q;
    q.name = t.name;
    q.service_level_target = Seconds(t.target_seconds);
    q.requirements = t.requirements;
    q.agent_selection = t.agent_selection;
    q.offer_timeout = kOfferTimeout;
    q.default_handle_time = Seconds(t.aht_seconds);
    if (absl::Status s = engine_.UpsertQueue(q, now_); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("contact type '", t.name, "': ", s.message()));
    }
  }
  for (size_t g = 0; g < scenario_.agent_groups.size(); ++g) {
    const AgentGroup& group = scenario_.agent_groups[g];
    for (int i = 0; i < group.agents; ++i) {
      AgentRecord& a = agents_.emplace_back();
      a.id = std::to_string(agents_.size() - 1);
      a.group = static_cast<int>(g);
      core::AgentProfile p;
      p.id = a.id;
      p.skills = group.skills;
      p.capacity = {1, 0, 0, 0, 0};
      p.wrap_up[static_cast<int>(core::Channel::kVoice)] =
          Seconds(group.wrap_up_seconds);
      if (absl::Status s = engine_.UpsertAgentProfile(p, now_); !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("agent group '", group.name, "': ", s.message()));
      }
      Expect(engine_.Login(p.id, now_), "log in");
    }
  }
  if (scenario_.random_agent_selection) {
    for (size_t i = 0; i < agents_.size(); ++i) {
      pool_.push_back(static_cast<int>(i));
    }
    Promote();
  } else {
    for (const AgentRecord& a : agents_) {
      Expect(engine_.SetReady(a.id, now_), "set ready");
    }
  }
  for (const ContactType& t : scenario_.contact_types) {
    next_arrival_.push_back(t.arrivals_per_hour > 0
                                ? now_ + Seconds(arrivals_rng_.Exponential(
                                             3600 / t.arrivals_per_hour))
                                : kNever);
  }
  return error_;
}

absl::StatusOr<ReplicationResult> Replication::Run() {
  if (absl::Status s = Open(); !s.ok()) return s;
  Drain();
  const int64_t total = warmup_ + measured_goal_;
  while (error_.ok() && measured_resolved_ < measured_goal_) {
    auto arrival = std::min_element(next_arrival_.begin(), next_arrival_.end());
    Time timer = engine_.NextDeadline().value_or(kNever);
    Time action = actions_.empty() ? kNever : actions_.top().at;
    Time next = std::min({*arrival, timer, action});
    if (next == kNever) {
      return absl::InternalError("nothing left to happen: contacts stuck");
    }
    now_ = next;
    if (next == timer) {
      engine_.AdvanceTo(now_);
    } else if (next == action) {
      Action a = actions_.top();
      actions_.pop();
      Perform(a);
    } else {
      Arrive(static_cast<int>(arrival - next_arrival_.begin()));
      if (static_cast<int64_t>(contacts_.size()) == total) {
        window_end_ = now_;
      }
    }
    Drain();
  }
  if (!error_.ok()) return error_;
  for (AgentRecord& a : agents_) {
    if (a.busy) AddBusy(a.group, a.busy_since, now_);
  }
  const double window = Secs(window_end_ - window_start_);
  result_.window_seconds = window;
  for (size_t g = 0; g < scenario_.agent_groups.size(); ++g) {
    result_.group_staffed_seconds[g] =
        window * scenario_.agent_groups[g].agents;
  }
  for (const Tally& t : result_.queues) result_.overall.Add(t);
  result_.contacts_created = static_cast<int64_t>(contacts_.size());
  if (absl::Status s = engine_.CheckInvariants(); !s.ok()) {
    return absl::InternalError(
        absl::StrCat("engine invariant broken: ", s.message()));
  }
  return std::move(result_);
}

void Replication::Arrive(int type) {
  const ContactType& t = scenario_.contact_types[type];
  const int index = static_cast<int>(contacts_.size());
  ContactRecord& c = contacts_.emplace_back();
  c.arrival_ns = now_.time_since_epoch().count();
  c.type = type;
  c.measured = index >= warmup_ && index < warmup_ + measured_goal_;
  if (c.measured) {
    if (window_start_ == kNever) window_start_ = now_;
    result_.queues[type].arrived++;
  }
  // Work and patience are drawn here, in arrival order, whatever the
  // routing: every policy sees the same contacts.
  if (t.handle_time == HandleTimeDistribution::kLognormal) {
    const double cv2 = std::pow(t.handle_time_sd_seconds / t.aht_seconds, 2.0);
    const double sigma = std::sqrt(std::log1p(cv2));
    const double mu = std::log(t.aht_seconds) - sigma * sigma / 2;
    c.work_seconds = std::exp(mu + sigma * arrivals_rng_.Normal());
  } else {
    c.work_seconds = arrivals_rng_.Exponential(t.aht_seconds);
  }
  const double patience = t.patience_seconds > 0
                              ? arrivals_rng_.Exponential(t.patience_seconds)
                              : 0;
  next_arrival_[type] =
      now_ + Seconds(arrivals_rng_.Exponential(3600 / t.arrivals_per_hour));

  core::ContactRequest r;
  r.id = std::to_string(index);
  r.queue = t.name;
  r.priority = t.priority;
  if (t.patience_seconds > 0) {
    Schedule(Seconds(patience), ActionKind::kAbandon, index);
  }
  Expect(engine_.CreateContact(r, now_).status(), "create contact");
}

void Replication::Perform(const Action& a) {
  ContactRecord& c = contacts_[a.contact];
  const std::string id = std::to_string(a.contact);
  switch (a.kind) {
    case ActionKind::kAccept:
      // Skip an offer that is gone (the caller hung up meanwhile).
      if (c.state != ContactState::kWaiting || c.offer_serial != a.serial ||
          c.agent < 0) {
        return;
      }
      Expect(engine_.AcceptOffer(agents_[c.agent].id, id, now_), "accept");
      return;
    case ActionKind::kComplete:
      Expect(engine_.CompleteContact(agents_[c.agent].id, id, "done", now_),
             "complete");
      return;
    case ActionKind::kAbandon:
      if (c.state == ContactState::kWaiting) {
        Expect(engine_.CancelContact(id, core::EndReason::kAbandoned, now_),
               "abandon");
      }
      return;
  }
}

void Replication::Resolve(ContactRecord& c, ContactState state, Duration wait) {
  c.state = state;
  if (!c.measured) return;
  Tally& t = result_.queues[c.type];
  const int64_t arrival = c.arrival_ns;
  if (c.first_offer_ns != arrival) t.waited++;
  if (state == ContactState::kAnswered) {
    t.answered++;
    t.wait_seconds += Secs(wait);
    if (wait <= Seconds(scenario_.contact_types[c.type].target_seconds)) {
      t.answered_within_target++;
    }
  } else {
    t.abandoned++;
  }
  measured_resolved_++;
}

void Replication::AddBusy(int group, Time from, Time to) {
  if (window_start_ == kNever) return;
  from = std::max(from, window_start_);
  to = std::min(to, window_end_);
  if (to > from) result_.group_busy_seconds[group] += Secs(to - from);
}

void Replication::BusyEnd(AgentRecord& a) {
  if (!a.busy) return;
  a.busy = false;
  AddBusy(a.group, a.busy_since, now_);
  if (scenario_.random_agent_selection) {
    freed_.push_back(static_cast<int>(&a - agents_.data()));
  }
}

void Replication::React(const Event& e) {
  switch (e.kind) {
    case EventKind::kContactOffered: {
      const int ci = ContactIndex(e), ai = AgentIndex(e);
      if (ci < 0 || ai < 0) break;
      ContactRecord& c = contacts_[ci];
      AgentRecord& a = agents_[ai];
      if (c.first_offer_ns < 0) {
        c.first_offer_ns = now_.time_since_epoch().count();
      }
      c.agent = ai;
      c.offer_serial++;
      if (!a.busy) {
        a.busy = true;
        a.busy_since = now_;
      }
      if (scenario_.random_agent_selection && ai == front_) {
        front_ = -1;
        Promote();
      }
      const double delay = scenario_.agent_groups[a.group].accept_delay_seconds;
      if (delay > 0) {
        Schedule(Seconds(accept_rng_.Exponential(delay)), ActionKind::kAccept,
                 ci, c.offer_serial);
      } else {
        Expect(engine_.AcceptOffer(a.id, e.contact_id, now_), "accept");
      }
      return;
    }
    case EventKind::kContactAssigned: {
      const int ci = ContactIndex(e);
      if (ci < 0) break;
      ContactRecord& c = contacts_[ci];
      Resolve(c, ContactState::kAnswered, e.wait);
      const double speed = scenario_.agent_groups[agents_[c.agent].group].speed;
      Schedule(Seconds(c.work_seconds / speed), ActionKind::kComplete, ci);
      return;
    }
    case EventKind::kContactEnded: {
      const int ci = ContactIndex(e);
      if (ci < 0) break;
      if (e.end_reason == core::EndReason::kAbandoned) {
        Resolve(contacts_[ci], ContactState::kAbandoned, e.wait);
      } else if (e.end_reason != core::EndReason::kCompleted) {
        Expect(
            absl::InternalError(std::string(core::EndReasonName(e.end_reason))),
            "unexpected end of a contact");
      }
      return;
    }
    case EventKind::kOfferRescinded:
    case EventKind::kOfferTimedOut:
    case EventKind::kAgentWrapUpEnded: {
      const int ai = AgentIndex(e);
      if (ai < 0) break;
      BusyEnd(agents_[ai]);
      return;
    }
    default:
      return;
  }
  Expect(absl::InternalError(absl::StrCat("contact '", e.contact_id,
                                          "' or agent '", e.agent_id, "'")),
         "event for an unknown contact or agent");
}

void Replication::Drain() {
  while (true) {
    batch_.clear();
    engine_.TakeEvents(batch_);
    if (batch_.empty()) {
      if (freed_.empty()) return;
      // Agents still without work once the step settled are idle.
      // An agent may have been freed twice in one step.
      std::vector<int> freed;
      freed.swap(freed_);
      std::sort(freed.begin(), freed.end());
      freed.erase(std::unique(freed.begin(), freed.end()), freed.end());
      for (int ai : freed) {
        if (!agents_[ai].busy) BecameIdle(ai);
      }
      continue;
    }
    result_.engine_events += static_cast<int64_t>(batch_.size());
    for (const Event& e : batch_) React(e);
  }
}

// Reservoir sampling keeps the READY agent uniform among the idle ones: the
// newcomer takes its place with probability 1 / (number idle).
void Replication::BecameIdle(int ai) {
  if (front_ < 0) {
    front_ = ai;  // READY already: it just finished its work
    return;
  }
  const size_t idle = pool_.size() + 2;
  int parked = ai;
  if (selection_rng_.Below(idle) == 0) {
    parked = front_;
    front_ = ai;
  }
  Expect(engine_.SetNotReady(agents_[parked].id, "idle", now_), "park");
  pool_.push_back(parked);
}

// Makes a uniformly drawn idle agent the READY one.
void Replication::Promote() {
  if (pool_.empty()) return;
  const size_t i = selection_rng_.Below(pool_.size());
  front_ = pool_[i];
  pool_[i] = pool_.back();
  pool_.pop_back();
  Expect(engine_.SetReady(agents_[front_].id, now_), "set ready");
}

}  // namespace

void Tally::Add(const Tally& o) {
  arrived += o.arrived;
  answered += o.answered;
  answered_within_target += o.answered_within_target;
  waited += o.waited;
  abandoned += o.abandoned;
  wait_seconds += o.wait_seconds;
}

int64_t WarmupContacts(const RunOptions& options) {
  return options.warmup >= 0 ? options.warmup
                             : std::max<int64_t>(1000, options.contacts / 10);
}

absl::Status ValidateScenario(const Scenario& s) {
  auto bad = [](const std::string& where, const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
  };
  if (s.contact_types.empty()) return bad("contact_types", "none given");
  if (s.agent_groups.empty()) return bad("agent_groups", "none given");
  std::set<std::string> names;
  bool any_arrivals = false;
  for (size_t i = 0; i < s.contact_types.size(); ++i) {
    const ContactType& t = s.contact_types[i];
    const std::string at = absl::StrCat("contact_types[", i, "]");
    if (t.name.empty()) return bad(at, "name is empty");
    if (!names.insert(t.name).second) {
      return bad(at, absl::StrCat("name '", t.name, "' used twice"));
    }
    if (!NonNegative(t.arrivals_per_hour)) {
      return bad(at, "arrivals_per_hour must be >= 0");
    }
    any_arrivals = any_arrivals || t.arrivals_per_hour > 0;
    if (!Positive(t.aht_seconds)) return bad(at, "aht_seconds must be > 0");
    if (t.handle_time == HandleTimeDistribution::kLognormal &&
        !Positive(t.handle_time_sd_seconds)) {
      return bad(at,
                 "a lognormal handle time needs handle_time_sd_seconds > 0");
    }
    if (!NonNegative(t.patience_seconds)) {
      return bad(at, "patience_seconds must be >= 0");
    }
    if (!NonNegative(t.target_seconds)) {
      return bad(at, "target_seconds must be >= 0");
    }
    bool served = false;
    for (const AgentGroup& g : s.agent_groups) {
      served = served || Eligible(g, t);
      if (s.random_agent_selection && !Eligible(g, t)) {
        return bad(at, absl::StrCat("random agent selection needs every agent "
                                    "to take every contact; group '",
                                    g.name, "' cannot take '", t.name, "'"));
      }
    }
    if (!served) {
      return bad(
          at, absl::StrCat("no agent group has the skills for '", t.name, "'"));
    }
  }
  if (!any_arrivals) return bad("contact_types", "no arrivals at all");
  names.clear();
  for (size_t i = 0; i < s.agent_groups.size(); ++i) {
    const AgentGroup& g = s.agent_groups[i];
    const std::string at = absl::StrCat("agent_groups[", i, "]");
    if (g.name.empty()) return bad(at, "name is empty");
    if (!names.insert(g.name).second) {
      return bad(at, absl::StrCat("name '", g.name, "' used twice"));
    }
    if (g.agents <= 0) return bad(at, "agents must be > 0");
    if (!Positive(g.speed)) return bad(at, "speed must be > 0");
    if (!NonNegative(g.wrap_up_seconds)) {
      return bad(at, "wrap_up_seconds must be >= 0");
    }
    if (!NonNegative(g.accept_delay_seconds) || g.accept_delay_seconds > 3600) {
      return bad(at, "accept_delay_seconds must be in 0..3600");
    }
  }
  return absl::OkStatus();
}

void ScaleLoad(Scenario& scenario, double factor) {
  for (ContactType& t : scenario.contact_types) t.arrivals_per_hour *= factor;
}

Scenario SingleQueueScenario(const QueueModel& m) {
  Scenario s;
  s.name = "single queue";
  ContactType& t = s.contact_types.emplace_back();
  t.name = "queue";
  t.arrivals_per_hour = m.arrivals_per_second * 3600;
  t.aht_seconds = m.aht_seconds;
  t.patience_seconds = m.patience_seconds;
  t.target_seconds = m.target_seconds;
  AgentGroup& g = s.agent_groups.emplace_back();
  g.name = "agents";
  g.agents = m.agents;
  return s;
}

Scenario ChainScenario(const ChainOptions& o) {
  Scenario s;
  s.name =
      absl::StrCat(o.types, " types, ", o.skills_per_agent, "-skill chain");
  auto skill = [&o](int i) { return absl::StrCat("type", i % o.types + 1); };
  for (int i = 0; i < o.types; ++i) {
    ContactType& t = s.contact_types.emplace_back();
    t.name = skill(i);
    t.arrivals_per_hour = o.total_arrivals_per_hour / o.types;
    t.aht_seconds = o.aht_seconds;
    t.target_seconds = o.target_seconds;
    t.patience_seconds = o.patience_seconds;
    t.requirements = {{skill(i), 1}};
  }
  for (int i = 0; i < o.types; ++i) {
    AgentGroup& g = s.agent_groups.emplace_back();
    g.name = absl::StrCat("group", i + 1);
    g.agents = o.agents_per_group;
    for (int k = 0; k < o.skills_per_agent; ++k) {
      g.skills.push_back({skill(i + k), k == 0 ? 8 : 4});
    }
  }
  return s;
}

absl::StatusOr<ReplicationResult> SimulateReplication(const Scenario& scenario,
                                                      const RunOptions& options,
                                                      int index) {
  if (absl::Status s = ValidateScenario(scenario); !s.ok()) return s;
  if (options.contacts <= 0) {
    return absl::InvalidArgumentError("contacts must be > 0");
  }
  return Replication(scenario, options, index).Run();
}

namespace {

// Estimates one figure over the replications where it is defined.
template <typename F>
Estimate Over(const std::vector<ReplicationResult>& reps, F figure) {
  std::vector<double> values;
  for (const ReplicationResult& r : reps) {
    if (std::optional<double> v = figure(r)) values.push_back(*v);
  }
  return EstimateMean(values);
}

std::optional<double> Share(int64_t part, int64_t whole) {
  if (whole == 0) return std::nullopt;
  return static_cast<double>(part) / static_cast<double>(whole);
}

QueueEstimates EstimateQueue(const std::vector<ReplicationResult>& reps,
                             int queue) {
  auto tally = [queue](const ReplicationResult& r) -> const Tally& {
    return queue < 0 ? r.overall : r.queues[queue];
  };
  QueueEstimates q;
  for (const ReplicationResult& r : reps) q.contacts += tally(r).arrived;
  q.service_level = Over(reps, [&](const ReplicationResult& r) {
    return Share(tally(r).answered_within_target, tally(r).arrived);
  });
  q.asa_seconds =
      Over(reps, [&](const ReplicationResult& r) -> std::optional<double> {
        const Tally& t = tally(r);
        if (t.answered == 0) return std::nullopt;
        return t.wait_seconds / static_cast<double>(t.answered);
      });
  q.p_wait = Over(reps, [&](const ReplicationResult& r) {
    return Share(tally(r).waited, tally(r).arrived);
  });
  q.abandon_ratio = Over(reps, [&](const ReplicationResult& r) {
    return Share(tally(r).abandoned, tally(r).arrived);
  });
  return q;
}

std::optional<double> Ratio(double part, double whole) {
  if (!(whole > 0)) return std::nullopt;
  return part / whole;
}

}  // namespace

absl::StatusOr<Report> Simulate(const Scenario& scenario,
                                const RunOptions& options) {
  if (absl::Status s = ValidateScenario(scenario); !s.ok()) return s;
  if (options.contacts <= 0 || options.replications <= 0) {
    return absl::InvalidArgumentError("contacts and replications must be > 0");
  }
  const int n = options.replications;
  int threads = options.threads > 0
                    ? options.threads
                    : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::clamp(threads, 1, n);
  std::vector<absl::StatusOr<ReplicationResult>> results(
      n, absl::UnknownError("not run"));
  std::atomic<int> next{0};
  auto work = [&] {
    for (int i = next++; i < n; i = next++) {
      results[i] = SimulateReplication(scenario, options, i);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();

  Report report;
  for (absl::StatusOr<ReplicationResult>& r : results) {
    if (!r.ok()) return r.status();
    report.replications.push_back(*std::move(r));
  }
  const auto& reps = report.replications;
  for (size_t q = 0; q < scenario.contact_types.size(); ++q) {
    QueueEstimates e = EstimateQueue(reps, static_cast<int>(q));
    e.name = scenario.contact_types[q].name;
    e.target_seconds = scenario.contact_types[q].target_seconds;
    report.queues.push_back(std::move(e));
  }
  report.overall = EstimateQueue(reps, -1);
  report.overall.name = "overall";
  for (size_t g = 0; g < scenario.agent_groups.size(); ++g) {
    report.group_occupancy.push_back(
        Over(reps, [g](const ReplicationResult& r) {
          return Ratio(r.group_busy_seconds[g], r.group_staffed_seconds[g]);
        }));
  }
  report.occupancy = Over(reps, [](const ReplicationResult& r) {
    double busy = 0, staffed = 0;
    for (double b : r.group_busy_seconds) busy += b;
    for (double s : r.group_staffed_seconds) staffed += s;
    return Ratio(busy, staffed);
  });
  return report;
}

}  // namespace ccroute::sim
