// ccroute-demo: a small contact center run on the real routing engine in
// virtual time. Contacts arrive at random (Poisson per queue and channel),
// callers hang up when their patience runs out, agents accept, reject or miss
// offers, wrap up and take a break. The demo steps from one happening to the
// next (an arrival, an agent's or caller's action, or the engine's next
// timer), then prints per-queue and per-agent statistics. A run is
// deterministic for a given seed and standard library.

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "absl/strings/str_format.h"
#include "server/core/engine.h"

namespace ccroute::demo {
namespace {

using namespace std::chrono_literals;
using core::AgentState;
using core::Channel;
using core::ContactState;
using core::Duration;
using core::Event;
using core::EventKind;
using core::Time;

constexpr char kUsage[] = R"(usage: ccroute-demo [flags]

Runs a small contact center (queues sales, support and vip; 25 agents) on the
ccroute routing engine in virtual time, then prints per-queue and per-agent
statistics. Service level, ASA (average speed of answer) and AHT (average
handle time, wrap-up included) cover the whole run.

  --minutes M   simulated minutes (default 60)
  --seed S      seed for arrivals, handle times and agent behaviour (default 1)
  --events N    also print the first N engine events after the agents logged
                in, one line each (to stderr with --json)
  --json        print the statistics as one JSON object
  --help        print this help
)";

// Shares of offers an agent rejects, or misses (lets the offer time out).
constexpr double kRejectShare = 0.04;
constexpr double kMissShare = 0.03;
// Mean handle time by channel (voice, chat, email, callback, task).
constexpr std::array<double, core::kChannelCount> kMeanHandleSeconds = {
    210, 360, 600, 210, 600};

// Short names of the event kinds, in EventKind order.
constexpr std::array<const char*, 15> kEventNames = {
    "queued",  "scheduled", "escalated", "overflowed", "updated",
    "offered", "assigned",  "rejected",  "timed_out",  "rescinded",
    "wrap_up", "transfer",  "ended",     "agent",      "wrap_up_done"};
static_assert(static_cast<size_t>(EventKind::kAgentWrapUpEnded) + 1 ==
              kEventNames.size());

struct Options {
  int minutes = 60;
  uint64_t seed = 1;
  int events = 0;
  bool json = false;
};

template <typename T>
bool ParseNumber(std::string_view text, T max, T& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && out >= 0 && out <= max;
}

// Fills `opt` from the command line. Returns the exit code when the program
// should stop: after --help, or after explaining a bad flag.
std::optional<int> ParseFlags(int argc, char** argv, Options& opt) {
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    std::optional<std::string_view> value;
    if (size_t eq = flag.find('='); eq != std::string_view::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    if (flag == "--help" && !value) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (flag == "--json" && !value) {
      opt.json = true;
      continue;
    }
    if (flag != "--minutes" && flag != "--seed" && flag != "--events") {
      absl::FPrintF(stderr, "ccroute-demo: unknown flag '%s'\n\n%s", argv[i],
                    kUsage);
      return 2;
    }
    if (!value && i + 1 < argc) value = argv[++i];
    bool ok = value.has_value();
    if (ok && flag == "--minutes") {
      ok = ParseNumber(*value, 7 * 24 * 60, opt.minutes) && opt.minutes > 0;
    } else if (ok && flag == "--seed") {
      ok = ParseNumber(*value, std::numeric_limits<uint64_t>::max(), opt.seed);
    } else if (ok) {
      ok = ParseNumber(*value, std::numeric_limits<int>::max(), opt.events);
    }
    if (!ok) {
      absl::FPrintF(stderr, "ccroute-demo: %s needs a whole number%s\n", flag,
                    flag == "--minutes" ? " of minutes in 1..10080" : " >= 0");
      return 2;
    }
  }
  return std::nullopt;
}

Duration Seconds(double s) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
}

// Virtual time as mm:ss since the start of the run.
std::string Clock(Time t) {
  int64_t s =
      std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch())
          .count();
  return absl::StrFormat("%02d:%02d", s / 60, s % 60);
}

std::string Detail(const Event& e) {
  switch (e.kind) {
    case EventKind::kContactQueued:
      return e.priority > 0 ? absl::StrFormat("priority %d", e.priority) : "";
    case EventKind::kContactScheduled:
      return "callback due " + Clock(e.deadline);
    case EventKind::kContactEscalated:
      return absl::StrFormat("to step %d", e.step);
    case EventKind::kContactOffered:
      return "answer by " + Clock(e.deadline);
    case EventKind::kContactAssigned:
      return absl::StrFormat("waited %.1f s%s", core::ToSeconds(e.wait),
                             e.within_target ? "" : ", over target");
    case EventKind::kContactEnded:
      // The engine's `wait` of a completed contact runs to its end.
      if (e.end_reason == core::EndReason::kCompleted) return "completed";
      return absl::StrFormat("%s, waited %.1f s",
                             core::EndReasonName(e.end_reason),
                             core::ToSeconds(e.wait));
    case EventKind::kAgentStateChanged:
      return absl::StrFormat("%s %s", core::AgentStateName(e.agent_state),
                             e.reason);
    default:
      return "";
  }
}

// JSON for a number that may be missing. Strings here are our own
// identifiers, which need no escaping.
std::string Json(std::optional<double> v) {
  return v ? absl::StrFormat("%.6g", *v) : "null";
}
std::optional<double> Secs(std::optional<Duration> d) {
  if (!d) return std::nullopt;
  return core::ToSeconds(*d);
}

// A Poisson stream of contacts into a queue on one channel.
struct Stream {
  const char* queue;
  Channel channel;
  double per_hour;
  double patience_s;  // mean patience before hanging up; 0: never
  int priority;
  Time next{};
};

// Agents alike in skills (each level drawn from a range) and capacity.
struct Team {
  const char* prefix;
  int size;
  std::vector<std::tuple<const char*, int, int>> skills;  // name, min, max
  std::array<int, core::kChannelCount> capacity;  // voice, chat, email, ...
};

class Simulation {
 public:
  explicit Simulation(const Options& opt);
  // Runs to the end. Returns false if the engine refused a call the demo
  // expected to succeed or broke an invariant (both printed to stderr).
  bool Run();
  void PrintTables(double wall_ms);
  void PrintJson();

 private:
  enum class ActionKind {
    kAccept,
    kReject,
    kComplete,
    kAbandon,
    kBreak,
    kBack
  };
  // Something an agent or a caller does at a time.
  struct Action {
    ActionKind kind = ActionKind::kAccept;
    std::string agent{}, contact{};
    std::string reason{};   // kBreak; kBack only if not ready for it still
    Time offer_deadline{};  // kAccept, kReject: identifies the offer
    Time at{};
    uint64_t seq = 0;
    bool operator>(const Action& o) const {
      return std::tie(at, seq) > std::tie(o.at, o.seq);
    }
  };

  void OpenCenter();
  void Arrive(Stream& stream);
  void Perform(const Action& a);
  void React(const Event& e);
  void DrainEvents(bool print);
  void Schedule(Duration after, Action action) {
    action.at = now_ + after;
    action.seq = next_seq_++;
    actions_.push(std::move(action));
  }
  void Expect(const absl::Status& status, const char* what) {
    if (status.ok()) return;
    ++errors_;
    absl::FPrintF(stderr, "ccroute-demo: at %s, %s: %s\n", Clock(now_), what,
                  status.ToString());
  }
  Duration Exponential(double mean_s) {
    return Seconds(std::exponential_distribution<double>(1 / mean_s)(rng_));
  }
  double Uniform(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng_);
  }
  std::map<std::string, std::string> SkillLists() const;

  Options opt_;
  std::mt19937_64 rng_;
  core::Engine engine_;
  Time now_{};
  Time end_;
  std::vector<Stream> streams_ = {
      {"sales", Channel::kVoice, 80, 90, 0},
      {"sales", Channel::kChat, 60, 180, 0},
      {"support", Channel::kVoice, 100, 120, 0},
      {"support", Channel::kChat, 50, 240, 0},
      {"support", Channel::kEmail, 40, 0, 0},
      {"vip", Channel::kVoice, 12, 60, 10},
  };
  std::priority_queue<Action, std::vector<Action>, std::greater<>> actions_;
  std::vector<Event> batch_;
  uint64_t next_seq_ = 0;
  int next_contact_ = 0;
  int64_t events_seen_ = 0;
  int64_t events_printed_ = 0;
  int errors_ = 0;
};

core::EngineLimits LimitsFor(const Options& opt) {
  core::EngineLimits limits;
  // Statistics over the whole run, not the server's last 15 minutes.
  limits.stats_window = std::chrono::minutes(opt.minutes + 1);
  return limits;
}

Simulation::Simulation(const Options& opt)
    : opt_(opt),
      rng_(opt.seed),
      engine_(LimitsFor(opt)),
      end_(Time(std::chrono::minutes(opt.minutes))) {}

void Simulation::OpenCenter() {
  auto bit = [](Channel c) { return 1u << static_cast<int>(c); };
  core::QueueConfig sales, support, vip;
  sales.name = "sales";
  sales.channels = bit(Channel::kVoice) | bit(Channel::kChat);
  sales.service_level_target = 20s;
  sales.requirements = {{"sales", 3}};
  sales.max_wait = 4min;
  support.name = "support";
  support.channels = sales.channels | bit(Channel::kEmail);
  support.service_level_target = 60s;
  support.requirements = {{"support", 5}};
  support.escalation = {{30s, {{"support", 2}}}};
  vip.name = "vip";
  vip.channels = bit(Channel::kVoice);
  vip.service_level_target = 10s;
  vip.requirements = {{"vip", 5}};
  vip.agent_selection = core::AgentSelection::kMostSkilled;
  vip.offer_timeout = 10s;
  for (const auto* q : {&sales, &support, &vip}) {
    Expect(engine_.UpsertQueue(*q, now_), "add queue");
  }

  const std::vector<Team> teams = {
      {"sales", 8, {{"sales", 4, 9}, {"support", 1, 3}}, {1, 3}},
      {"support", 10, {{"support", 5, 9}}, {1, 2, 5}},
      {"blend",
       4,
       {{"sales", 3, 6}, {"support", 5, 7}, {"vip", 5, 7}},
       {1, 2, 3}},
      {"vip", 3, {{"vip", 6, 9}, {"sales", 5, 8}}, {1}},
  };
  auto draw = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  };
  for (const Team& team : teams) {
    for (int i = 1; i <= team.size; ++i) {
      core::AgentProfile a;
      a.id = absl::StrFormat("%s%02d", team.prefix, i);
      for (const auto& [skill, lo, hi] : team.skills) {
        a.skills.push_back({skill, draw(lo, hi)});
      }
      a.capacity = team.capacity;
      for (Duration& w : a.wrap_up) w = std::chrono::seconds(draw(10, 30));
      Expect(engine_.UpsertAgentProfile(a, now_), "add agent");
      Expect(engine_.Login(a.id, now_), "log in");
      Expect(engine_.SetReady(a.id, now_), "set ready");
    }
  }
}

bool Simulation::Run() {
  OpenCenter();
  DrainEvents(false);
  if (opt_.events > 0) {
    absl::FPrintF(opt_.json ? stderr : stdout,
                  "%-5s  %-12s %-9s %-9s %-13s %s\n", "time", "event",
                  "contact", "agent", "queue", "detail");
  }
  Duration run = end_ - now_;
  for (int i : {1, 2}) {
    core::ContactRequest callback;
    callback.id = absl::StrFormat("callback%d", i);
    callback.queue = "support";
    callback.not_before = now_ + run * (i == 1 ? 2 : 6) / 10;
    Expect(engine_.CreateContact(callback, now_).status(), "add callback");
  }
  Duration break_length = std::min<Duration>(15min, run / 4);
  Schedule(
      run / 4,
      {.kind = ActionKind::kBreak, .agent = "support03", .reason = "break"});
  Schedule(
      run / 4 + break_length,
      {.kind = ActionKind::kBack, .agent = "support03", .reason = "break"});
  for (Stream& s : streams_) s.next = now_ + Exponential(3600 / s.per_hour);

  while (true) {
    auto arrival = std::min_element(
        streams_.begin(), streams_.end(),
        [](const Stream& a, const Stream& b) { return a.next < b.next; });
    Time timer = engine_.NextDeadline().value_or(Time::max());
    Time action = actions_.empty() ? Time::max() : actions_.top().at;
    Time next = std::min({timer, action, arrival->next});
    if (next > end_) break;
    now_ = next;
    if (next == timer) {
      engine_.AdvanceTo(now_);
    } else if (next == action) {
      Action a = actions_.top();
      actions_.pop();
      Perform(a);
    } else {
      Arrive(*arrival);
    }
    DrainEvents(true);
  }
  now_ = end_;
  engine_.AdvanceTo(now_);
  DrainEvents(true);
  Expect(engine_.CheckInvariants(), "engine invariants");
  return errors_ == 0;
}

void Simulation::Arrive(Stream& stream) {
  core::ContactRequest r;
  r.id = absl::StrFormat("c%04d", ++next_contact_);
  r.queue = stream.queue;
  r.channel = stream.channel;
  r.priority = stream.priority;
  Expect(engine_.CreateContact(r, now_).status(), "create contact");
  if (stream.patience_s > 0) {
    Schedule(Exponential(stream.patience_s),
             {.kind = ActionKind::kAbandon, .contact = r.id});
  }
  stream.next = now_ + Exponential(3600 / stream.per_hour);
}

void Simulation::Perform(const Action& a) {
  switch (a.kind) {
    case ActionKind::kAccept:
    case ActionKind::kReject: {
      // Skip a decision on an offer that is gone (timed out, rescinded, or
      // the caller hung up), even if the contact was offered here again.
      auto c = engine_.GetContact(a.contact, now_);
      if (!c.ok() || c->state != ContactState::kOffered ||
          c->agent_id != a.agent || c->offer_deadline != a.offer_deadline) {
        return;
      }
      Expect(a.kind == ActionKind::kAccept
                 ? engine_.AcceptOffer(a.agent, a.contact, now_)
                 : engine_.RejectOffer(a.agent, a.contact, now_),
             "answer offer");
      return;
    }
    case ActionKind::kComplete:
      Expect(engine_.CompleteContact(a.agent, a.contact, "resolved", now_),
             "complete contact");
      return;
    case ActionKind::kAbandon: {
      auto c = engine_.GetContact(a.contact, now_);
      if (c.ok() && (c->state == ContactState::kQueued ||
                     c->state == ContactState::kOffered)) {
        Expect(
            engine_.CancelContact(a.contact, core::EndReason::kAbandoned, now_),
            "abandon contact");
      }
      return;
    }
    case ActionKind::kBreak:
      Expect(engine_.SetNotReady(a.agent, a.reason, now_), "start break");
      return;
    case ActionKind::kBack: {
      auto s = engine_.GetAgentStats(a.agent, now_);
      if (s.ok() && s->state == AgentState::kNotReady &&
          s->reason == a.reason) {
        Expect(engine_.SetReady(a.agent, now_), "set ready");
      }
      return;
    }
  }
}

void Simulation::React(const Event& e) {
  if (e.kind == EventKind::kContactOffered) {
    double u = Uniform(0, 1);
    Action answer{.agent = e.agent_id,
                  .contact = e.contact_id,
                  .offer_deadline = e.deadline};
    if (u < kRejectShare) {
      answer.kind = ActionKind::kReject;
      Schedule(Seconds(Uniform(1, 3)), std::move(answer));
    } else if (u >= kRejectShare + kMissShare) {
      Schedule(Seconds(Uniform(1, 5)), std::move(answer));
    }  // else the agent misses it and the offer times out
  } else if (e.kind == EventKind::kContactAssigned) {
    Schedule(Exponential(kMeanHandleSeconds[static_cast<int>(e.channel)]),
             {.kind = ActionKind::kComplete,
              .agent = e.agent_id,
              .contact = e.contact_id});
  } else if (e.kind == EventKind::kAgentStateChanged &&
             e.agent_state == AgentState::kNotReady &&
             e.reason == "missed offers") {
    // A supervisor puts an agent parked for missed offers back to work.
    Schedule(
        2min,
        {.kind = ActionKind::kBack, .agent = e.agent_id, .reason = e.reason});
  }
}

void Simulation::DrainEvents(bool print) {
  batch_.clear();
  engine_.TakeEvents(batch_);
  for (const Event& e : batch_) {
    ++events_seen_;
    if (print && events_printed_ < opt_.events) {
      ++events_printed_;
      std::string queue =
          e.queue.empty()
              ? ""
              : absl::StrFormat("%s/%s", e.queue, core::ChannelName(e.channel));
      absl::FPrintF(opt_.json ? stderr : stdout,
                    "%-5s  %-12s %-9s %-9s %-13s %s\n", Clock(e.at),
                    kEventNames[static_cast<size_t>(e.kind)], e.contact_id,
                    e.agent_id, queue, Detail(e));
    }
    React(e);
  }
}

// Each agent's skills as "sales:7 support:2".
std::map<std::string, std::string> Simulation::SkillLists() const {
  std::map<std::string, std::string> out;
  for (const core::AgentProfile& a : engine_.ListAgentProfiles()) {
    for (const core::Skill& s : a.skills) {
      absl::StrAppendFormat(&out[a.id], "%s%s:%d", out[a.id].empty() ? "" : " ",
                            s.name, s.level);
    }
  }
  return out;
}

void Simulation::PrintTables(double wall_ms) {
  absl::PrintF(
      "\nccroute-demo: %d simulated minutes (seed %d), %d engine events, "
      "%.0f ms of wall time\n\n",
      opt_.minutes, opt_.seed, events_seen_, wall_ms);
  absl::PrintF("%-8s %7s %8s %9s %7s %7s %8s  %-21s %6s %6s\n", "queue",
               "created", "answered", "abandoned", "expired", "waiting",
               "rej/miss", "service level (goal)", "ASA", "AHT");
  auto secs = [](std::optional<Duration> d) {
    return d ? absl::StrFormat("%.1fs", core::ToSeconds(*d)) : "-";
  };
  for (const core::QueueStats& q : engine_.GetAllQueueStats(now_)) {
    std::string sl = "-";
    if (q.service_level) {
      sl = absl::StrFormat("%.1f%% in %ds (%.0f%%)", 100 * *q.service_level,
                           std::chrono::duration_cast<std::chrono::seconds>(
                               q.service_level_target)
                               .count(),
                           100 * q.service_level_goal);
    }
    absl::PrintF(
        "%-8s %7d %8d %9d %7d %7d %8s  %-21s %6s %6s\n", q.name, q.created,
        q.answered, q.abandoned, q.expired, q.waiting,
        absl::StrFormat("%d/%d", q.offers_rejected, q.offers_timed_out), sl,
        secs(q.average_speed_of_answer), secs(q.average_handle_time));
  }
  std::map<std::string, std::string> skills = SkillLists();
  absl::PrintF("\n%-10s %-21s %7s %9s  %s\n", "agent", "state", "handled",
               "occupancy", "skills");
  for (const core::AgentStats& a : engine_.GetAllAgentStats(now_)) {
    std::string state(core::AgentStateName(a.state));
    if (a.state != AgentState::kReady) absl::StrAppend(&state, " ", a.reason);
    absl::PrintF(
        "%-10s %-21s %7d %9s  %s\n", a.id, state, a.handled,
        a.occupancy ? absl::StrFormat("%.1f%%", 100 * *a.occupancy) : "-",
        skills[a.id]);
  }
}

void Simulation::PrintJson() {
  std::string out = absl::StrFormat(
      R"({"seed":%d,"minutes":%d,"engine_events":%d,"queues":[)", opt_.seed,
      opt_.minutes, events_seen_);
  const char* sep = "";
  for (const core::QueueStats& q : engine_.GetAllQueueStats(now_)) {
    absl::StrAppendFormat(
        &out,
        R"(%s{"name":"%s","created":%d,"answered":%d,"abandoned":%d,)"
        R"("expired":%d,"waiting":%d,"offers_rejected":%d,)"
        R"("offers_timed_out":%d,"service_level":%s,)"
        R"("service_level_target_s":%s,"service_level_goal":%s,)"
        R"("asa_s":%s,"aht_s":%s})",
        sep, q.name, q.created, q.answered, q.abandoned, q.expired, q.waiting,
        q.offers_rejected, q.offers_timed_out, Json(q.service_level),
        Json(core::ToSeconds(q.service_level_target)),
        Json(q.service_level_goal), Json(Secs(q.average_speed_of_answer)),
        Json(Secs(q.average_handle_time)));
    sep = ",";
  }
  out += R"(],"agents":[)";
  sep = "";
  std::map<std::string, std::string> skills = SkillLists();
  for (const core::AgentStats& a : engine_.GetAllAgentStats(now_)) {
    absl::StrAppendFormat(
        &out,
        R"(%s{"id":"%s","state":"%s","reason":"%s","handled":%d,)"
        R"("occupancy":%s,"skills":"%s"})",
        sep, a.id, core::AgentStateName(a.state), a.reason, a.handled,
        Json(a.occupancy), skills[a.id]);
    sep = ",";
  }
  absl::PrintF("%s]}\n", out);
}

}  // namespace
}  // namespace ccroute::demo

int main(int argc, char** argv) {
  using namespace ccroute::demo;
  Options opt;
  if (std::optional<int> code = ParseFlags(argc, argv, opt)) return *code;
  Simulation sim(opt);
  auto start = std::chrono::steady_clock::now();
  bool ok = sim.Run();
  std::chrono::duration<double, std::milli> wall =
      std::chrono::steady_clock::now() - start;
  if (opt.json) {
    sim.PrintJson();
  } else {
    sim.PrintTables(wall.count());
  }
  return ok ? 0 : 1;
}
