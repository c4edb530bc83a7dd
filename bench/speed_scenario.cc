#include "bench/speed_scenario.h"

#include <malloc.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/naive_router.h"
#include "bench/workload.h"
#include "server/core/engine.h"

namespace ccroute::bench {
namespace {

using namespace std::chrono_literals;
using core::Time;

constexpr char kUsage[] = R"(usage: ccroute-bench scenario [flags]

Routes a contact center at scale S, M or L with the ccroute engine and with a
naive baseline (scan every queue member per contact, rank every waiting
contact per free agent), and prints per-decision latency (p50, p99, p99.9 in
ns) and decisions per second for: a contact arriving while agents are idle,
an agent freeing while contacts wait, and a steady mixed stream.

  --scale S|M|L     S: 100 agents, 10 queues, 1,000 waiting (default)
                    M: 1,000 / 100 / 10,000   L: 10,000 / 500 / 100,000
  --agents N        override the scale's agents
  --queues N        override the scale's queues
  --waiting N       override the scale's waiting contacts
  --decisions N     timed calls per decision kind (default 50,000 at S and
                    M, 20,000 at L)
  --seed N          seed for the center and the calls (default 1)
  --no-baseline     run ccroute only
  --verify          run both routers in lockstep on the same calls and fail
                    unless they make the same offers (no timing)
  --json            print one JSON object instead of the table
  --help            print this help
)";

struct Options {
  Scale scale = *ScaleByName("S");
  int64_t decisions = 0;  // 0: the scale's default
  uint64_t seed = 1;
  bool baseline = true;
  bool verify = false;
  bool json = false;
};

template <typename T>
bool ParseNumber(std::string_view text, T min, T max, T& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && out >= min && out <= max;
}

// Fills `opt` from the command line. Returns the exit code when the program
// should stop: after --help, or after explaining a bad flag.
std::optional<int> ParseFlags(int argc, char** argv, Options& opt) {
  std::optional<int> agents, queues, waiting;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    std::optional<std::string_view> value;
    if (size_t eq = flag.find('='); eq != std::string_view::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    auto boolean = [&](std::string_view name, bool& out) {
      if (flag != name || value) return false;
      out = true;
      return true;
    };
    bool help = false, no_baseline = false;
    if (boolean("--help", help)) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (boolean("--json", opt.json) || boolean("--verify", opt.verify)) {
      continue;
    }
    if (boolean("--no-baseline", no_baseline)) {
      opt.baseline = false;
      continue;
    }
    bool known = flag == "--scale" || flag == "--agents" ||
                 flag == "--queues" || flag == "--waiting" ||
                 flag == "--decisions" || flag == "--seed";
    if (!known) {
      absl::FPrintF(stderr, "ccroute-bench scenario: unknown flag '%s'\n\n%s",
                    argv[i], kUsage);
      return 2;
    }
    if (!value && i + 1 < argc) value = argv[++i];
    bool ok = value.has_value();
    int n = 0;
    if (ok && flag == "--scale") {
      auto s = ScaleByName(*value);
      ok = s.has_value();
      if (ok) opt.scale = *s;
    } else if (ok && flag == "--decisions") {
      ok = ParseNumber<int64_t>(*value, 1, 100'000'000, opt.decisions);
    } else if (ok && flag == "--seed") {
      ok = ParseNumber<uint64_t>(
          *value, 0, std::numeric_limits<uint64_t>::max(), opt.seed);
    } else if (ok) {
      ok = ParseNumber(*value, flag == "--waiting" ? 0 : 1, 10'000'000, n);
      if (flag == "--agents") agents = n;
      if (flag == "--queues") queues = n;
      if (flag == "--waiting") waiting = n;
    }
    if (!ok) {
      absl::FPrintF(stderr, "ccroute-bench scenario: bad value for %s%s\n",
                    flag, flag == "--scale" ? " (S, M or L)" : "");
      return 2;
    }
  }
  if (agents || queues || waiting) {
    opt.scale.name = "custom";
    if (agents) opt.scale.agents = *agents;
    if (queues) opt.scale.queues = *queues;
    if (waiting) opt.scale.waiting = *waiting;
  }
  if (opt.decisions == 0) {
    opt.decisions =
        opt.scale.agents * 1LL + opt.scale.waiting >= 100'000 ? 20'000 : 50'000;
  }
  return std::nullopt;
}

// An offer as (contact number, agent number).
struct OfferMade {
  int64_t contact;
  int64_t agent;
  friend bool operator==(const OfferMade&, const OfferMade&) = default;
};

// What the driver needs of a router. Each call returns false if the router
// refused it.
class Router {
 public:
  virtual ~Router() = default;
  virtual void AddQueue(const core::QueueConfig& queue) = 0;
  virtual void AddReadyAgent(const core::AgentProfile& agent, Time now) = 0;
  virtual bool CreateContact(const core::ContactRequest& r, Time now) = 0;
  virtual bool AcceptOffer(const std::string& agent, const std::string& contact,
                           Time now) = 0;
  virtual bool RejectOffer(const std::string& agent, const std::string& contact,
                           Time now) = 0;
  virtual bool CompleteContact(const std::string& agent,
                               const std::string& contact, Time now) = 0;
  // Appends the offers made since the last call.
  virtual void TakeOffers(std::vector<OfferMade>& out) = 0;
  // OK, or what is wrong with the router's state (ccroute only).
  virtual std::string Check() const { return ""; }
};

class CcrouteRouter : public Router {
 public:
  explicit CcrouteRouter(const core::RoutingPolicy& policy)
      : engine_(core::EngineLimits{}, policy) {}
  void AddQueue(const core::QueueConfig& queue) override {
    Expect(engine_.UpsertQueue(queue, engine_.now()));
  }
  void AddReadyAgent(const core::AgentProfile& agent, Time now) override {
    Expect(engine_.UpsertAgentProfile(agent, now));
    Expect(engine_.Login(agent.id, now));
    Expect(engine_.SetReady(agent.id, now));
  }
  bool CreateContact(const core::ContactRequest& r, Time now) override {
    return engine_.CreateContact(r, now).ok();
  }
  bool AcceptOffer(const std::string& agent, const std::string& contact,
                   Time now) override {
    return engine_.AcceptOffer(agent, contact, now).ok();
  }
  bool RejectOffer(const std::string& agent, const std::string& contact,
                   Time now) override {
    return engine_.RejectOffer(agent, contact, now).ok();
  }
  bool CompleteContact(const std::string& agent, const std::string& contact,
                       Time now) override {
    return engine_.CompleteContact(agent, contact, "done", now).ok();
  }
  void TakeOffers(std::vector<OfferMade>& out) override {
    engine_.TakeEvents(events_);
    for (const core::Event& e : events_) {
      if (e.kind == core::EventKind::kContactOffered) {
        out.push_back({Workload::ParseNumber(e.contact_id),
                       Workload::ParseNumber(e.agent_id)});
      }
    }
    events_.clear();
  }
  std::string Check() const override {
    absl::Status s = engine_.CheckInvariants();
    return s.ok() ? "" : s.ToString();
  }

 private:
  static void Expect(const absl::Status& s) {
    if (!s.ok()) {
      absl::FPrintF(stderr, "ccroute-bench: engine refused setup: %s\n",
                    s.ToString());
      std::exit(1);
    }
  }
  core::Engine engine_;
  std::vector<core::Event> events_;
};

class BaselineRouter : public Router {
 public:
  explicit BaselineRouter(const core::RoutingPolicy& policy)
      : router_(policy) {}
  void AddQueue(const core::QueueConfig& queue) override {
    router_.AddQueue(queue);
  }
  void AddReadyAgent(const core::AgentProfile& agent, Time now) override {
    router_.AddReadyAgent(agent, now);
  }
  bool CreateContact(const core::ContactRequest& r, Time now) override {
    return router_.CreateContact(r, now);
  }
  bool AcceptOffer(const std::string& agent, const std::string& contact,
                   Time now) override {
    return router_.AcceptOffer(agent, contact, now);
  }
  bool RejectOffer(const std::string& agent, const std::string& contact,
                   Time now) override {
    return router_.RejectOffer(agent, contact, now);
  }
  bool CompleteContact(const std::string& agent, const std::string& contact,
                       Time now) override {
    return router_.CompleteContact(agent, contact, now);
  }
  void TakeOffers(std::vector<OfferMade>& out) override {
    router_.TakeOffers(pairs_);
    for (const auto& [contact, agent] : pairs_) {
      out.push_back(
          {Workload::ParseNumber(contact), Workload::ParseNumber(agent)});
    }
    pairs_.clear();
  }

 private:
  NaiveRouter router_;
  std::vector<std::pair<std::string, std::string>> pairs_;
};

// Bytes the allocator has handed out and not had back.
int64_t HeapInUse() {
  struct mallinfo2 m = mallinfo2();
  return static_cast<int64_t>(m.uordblks + m.hblkhd);
}

// Calls this long are counted: for ccroute they are preemptions (the
// scheduler's 4 ms time slices on a shared machine), not the router's work.
constexpr int64_t kLongCallNs = 1'000'000;

struct Summary {
  int64_t count = 0;
  int64_t p50 = 0, p99 = 0, p999 = 0;
  double mean_ns = 0;
  // The mean without the slowest 0.1% of calls. On a shared machine those
  // are mostly preemptions (see `over_1ms`), each worth thousands of
  // calls, so they would make the throughput a measure of the scheduler.
  double trimmed_mean_ns = 0;
  int64_t over_1ms = 0;  // calls over kLongCallNs
  // One core: 1e9 / trimmed mean time per call.
  double per_second() const {
    return trimmed_mean_ns > 0 ? 1e9 / trimmed_mean_ns : 0;
  }
};

// Nearest-rank percentiles and means of the samples (which it sorts).
Summary Summarize(std::vector<int64_t>& ns) {
  Summary s;
  s.count = static_cast<int64_t>(ns.size());
  if (ns.empty()) return s;
  std::sort(ns.begin(), ns.end());
  auto index = [&](double q) {
    return std::min(ns.size() - 1,
                    static_cast<size_t>(q * static_cast<double>(ns.size())));
  };
  s.p50 = ns[index(0.50)];
  s.p99 = ns[index(0.99)];
  s.p999 = ns[index(0.999)];
  double total = 0, trimmed = 0;
  size_t kept = std::max<size_t>(1, ns.size() - ns.size() / 1000);
  for (size_t i = 0; i < ns.size(); ++i) {
    total += static_cast<double>(ns[i]);
    if (i < kept) trimmed += static_cast<double>(ns[i]);
    s.over_1ms += ns[i] > kLongCallNs;
  }
  s.mean_ns = total / static_cast<double>(ns.size());
  s.trimmed_mean_ns = trimmed / static_cast<double>(kept);
  return s;
}

enum Kind { kArrival, kAgentFree, kMixed, kKindCount };
enum MixedOp { kCreate, kAccept, kReject, kComplete, kMixedOpCount };
constexpr const char* kKindNames[kKindCount] = {"arrival", "agent_free",
                                                "mixed"};
constexpr const char* kKindTitles[kKindCount] = {
    "arrival, agents idle -> offer", "agent frees -> next contact",
    "mixed stream"};
constexpr const char* kMixedOpNames[kMixedOpCount] = {"create", "accept",
                                                      "reject", "complete"};

struct RouterResult {
  std::array<Summary, kKindCount> kinds;
  std::array<Summary, kMixedOpCount> mixed_ops;
  double arrival_offered_share = 0;
  double agent_free_offered_share = 0;
  double bytes_per_agent = 0;
  double bytes_per_waiting_contact = 0;
};

// Drives one router through a center: the contacts it holds, the open
// offers and the assignments, from the offers the router reports.
class Center {
 public:
  Center(Router& router, const Workload& workload, uint64_t seed)
      : router_(router), workload_(workload), rng_(seed) {
    for (int i = 0; i < workload.scale().agents; ++i) {
      agent_ids_.push_back(Workload::AgentId(i));
    }
    assigned_.reserve(workload.scale().agents * 3 + 16);
  }

  void Open() {
    for (const auto& q : workload_.queues()) router_.AddQueue(q);
    for (const auto& a : workload_.agents()) router_.AddReadyAgent(a, now_);
    Collect();
  }

  int64_t waiting() const { return waiting_; }
  size_t assigned() const { return assigned_.size(); }
  bool has_open_offer() const { return !open_.empty(); }
  int64_t offers_made() const { return offers_made_; }

  // Each runs one router call and returns its duration in ns; `offered`
  // tells whether the call made any offer.
  int64_t Create(bool backlog, bool& offered) {
    Tick();
    if (backlog) {
      workload_.BacklogContact(rng_, next_contact_, request_);
    } else {
      workload_.NextContact(rng_, next_contact_, request_);
    }
    ++next_contact_;
    auto t0 = std::chrono::steady_clock::now();
    bool ok = router_.CreateContact(request_, now_);
    auto t1 = std::chrono::steady_clock::now();
    Must(ok, "create");
    waiting_++;
    offered = Collect() > 0;
    return (t1 - t0).count();
  }
  // Answers the oldest open offer.
  int64_t Respond(bool accept, bool& offered) {
    Tick();
    OfferMade o = open_.front();
    open_.pop_front();
    const std::string& agent = agent_ids_[o.agent];
    std::string contact = Workload::ContactId(o.contact);
    auto t0 = std::chrono::steady_clock::now();
    bool ok = accept ? router_.AcceptOffer(agent, contact, now_)
                     : router_.RejectOffer(agent, contact, now_);
    auto t1 = std::chrono::steady_clock::now();
    Must(ok, accept ? "accept" : "reject");
    if (accept) {
      waiting_--;
      assigned_.push_back(o);
    }
    offered = Collect() > 0;
    return (t1 - t0).count();
  }
  // Completes a random assigned contact; the agent takes the next.
  int64_t Complete(bool& offered) {
    Tick();
    size_t i =
        std::uniform_int_distribution<size_t>(0, assigned_.size() - 1)(rng_);
    OfferMade o = assigned_[i];
    assigned_[i] = assigned_.back();
    assigned_.pop_back();
    const std::string& agent = agent_ids_[o.agent];
    std::string contact = Workload::ContactId(o.contact);
    auto t0 = std::chrono::steady_clock::now();
    bool ok = router_.CompleteContact(agent, contact, now_);
    auto t1 = std::chrono::steady_clock::now();
    Must(ok, "complete");
    offered = Collect() > 0;
    return (t1 - t0).count();
  }
  void AcceptAll() {
    bool offered;
    while (has_open_offer()) Respond(true, offered);
  }
  // Offers of the last call, for lockstep comparison.
  const std::vector<OfferMade>& last_offers() const { return last_; }
  std::mt19937_64& rng() { return rng_; }

 private:
  void Tick() { now_ += 1ms; }
  int Collect() {
    last_.clear();
    router_.TakeOffers(last_);
    for (const OfferMade& o : last_) open_.push_back(o);
    offers_made_ += static_cast<int64_t>(last_.size());
    return static_cast<int>(last_.size());
  }
  static void Must(bool ok, const char* what) {
    if (ok) return;
    absl::FPrintF(stderr, "ccroute-bench: the router refused a %s\n", what);
    std::exit(1);
  }

  Router& router_;
  const Workload& workload_;
  std::mt19937_64 rng_;
  Time now_{};
  int64_t next_contact_ = 0;
  int64_t waiting_ = 0;  // created and not yet accepted
  int64_t offers_made_ = 0;
  core::ContactRequest request_;
  std::vector<std::string> agent_ids_;
  std::deque<OfferMade> open_;
  std::vector<OfferMade> assigned_;
  std::vector<OfferMade> last_;
};

// Fills the center until `target` contacts wait, accepting every offer.
void Fill(Center& center, int64_t target) {
  bool offered;
  while (center.waiting() < target) {
    center.Create(false, offered);
    center.AcceptAll();
  }
}

// Keeps the steady stream around `waiting` contacts: answer open offers
// first (5% rejected), then an arrival when at or below the target, else a
// completion. Returns the call's duration; `op` tells which it was.
int64_t MixedStep(Center& center, int64_t waiting, MixedOp& op) {
  bool offered;
  if (center.has_open_offer()) {
    bool reject = std::uniform_int_distribution<int>(0, 99)(center.rng()) < 5;
    op = reject ? kReject : kAccept;
    return center.Respond(!reject, offered);
  }
  if (center.waiting() <= waiting || center.assigned() == 0) {
    op = kCreate;
    return center.Create(false, offered);
  }
  op = kComplete;
  return center.Complete(offered);
}

using RouterFactory = std::unique_ptr<Router> (*)(const core::RoutingPolicy&);

RouterResult Measure(RouterFactory make, const Workload& workload,
                     const Options& opt) {
  RouterResult result;
  const int64_t n = opt.decisions;
  const int64_t warmup = std::max<int64_t>(100, n / 10);
  const int64_t waiting = workload.scale().waiting;
  std::vector<int64_t> samples;
  samples.reserve(n);

  {
    // Arrivals while about half the agents are idle; the queues hold the
    // backlog of contacts nobody can take.
    auto router = make(workload.policy());
    Center center(*router, workload, opt.seed);
    center.Open();
    bool offered;
    for (int64_t i = 0; i < waiting; ++i) center.Create(true, offered);
    int64_t with_offer = 0;
    for (int64_t i = 0; i < warmup + n; ++i) {
      int64_t ns = center.Create(false, offered);
      if (i >= warmup) {
        samples.push_back(ns);
        with_offer += offered;
      }
      center.AcceptAll();
      while (center.assigned() * 2 > workload.agents().size()) {
        center.Complete(offered);
        center.AcceptAll();
      }
    }
    result.kinds[kArrival] = Summarize(samples);
    result.arrival_offered_share = static_cast<double>(with_offer) / n;
    samples.clear();
  }

  auto router = make(workload.policy());
  Center center(*router, workload, opt.seed + 1);
  int64_t heap0 = HeapInUse();
  center.Open();
  int64_t heap1 = HeapInUse();
  result.bytes_per_agent =
      static_cast<double>(heap1 - heap0) / workload.agents().size();
  // Agents are saturated well before a tenth of the backlog waits; what
  // the rest adds is the cost of waiting contacts.
  Fill(center, waiting / 10);
  int64_t heap2 = HeapInUse();
  int64_t waiting2 = center.waiting();
  Fill(center, waiting);
  if (center.waiting() > waiting2) {
    result.bytes_per_waiting_contact =
        static_cast<double>(HeapInUse() - heap2) /
        static_cast<double>(center.waiting() - waiting2);
  }

  // An agent frees while contacts wait; arrivals keep the backlog.
  int64_t with_offer = 0;
  for (int64_t i = 0; i < warmup + n && center.assigned() > 0; ++i) {
    bool offered;
    int64_t ns = center.Complete(offered);
    if (i >= warmup) {
      samples.push_back(ns);
      with_offer += offered;
    }
    center.AcceptAll();
    Fill(center, waiting);
  }
  result.kinds[kAgentFree] = Summarize(samples);
  result.agent_free_offered_share =
      samples.empty() ? 0 : static_cast<double>(with_offer) / samples.size();
  samples.clear();

  // The steady mixed stream, every call timed.
  std::array<std::vector<int64_t>, kMixedOpCount> by_op;
  for (int64_t i = 0; i < warmup + n; ++i) {
    MixedOp op;
    int64_t ns = MixedStep(center, waiting, op);
    if (i >= warmup) {
      samples.push_back(ns);
      by_op[op].push_back(ns);
    }
  }
  result.kinds[kMixed] = Summarize(samples);
  for (int k = 0; k < kMixedOpCount; ++k) {
    result.mixed_ops[k] = Summarize(by_op[k]);
  }
  return result;
}

std::unique_ptr<Router> MakeCcroute(const core::RoutingPolicy& p) {
  return std::make_unique<CcrouteRouter>(p);
}
std::unique_ptr<Router> MakeBaseline(const core::RoutingPolicy& p) {
  return std::make_unique<BaselineRouter>(p);
}

// Both routers in lockstep: the calls are chosen from ccroute's offers and
// replayed on the baseline; every call must produce the same offers.
int Verify(const Workload& workload, const Options& opt) {
  CcrouteRouter ccroute(workload.policy());
  BaselineRouter baseline(workload.policy());
  Center a(ccroute, workload, opt.seed), b(baseline, workload, opt.seed);
  a.Open();
  b.Open();
  int64_t calls = 0;
  auto compare = [&](const char* what) {
    ++calls;
    if (a.last_offers() == b.last_offers()) return true;
    absl::FPrintF(stderr,
                  "ccroute-bench: verify: call %d (%s): ccroute made %d "
                  "offers, the baseline %d",
                  calls, what, a.last_offers().size(), b.last_offers().size());
    for (size_t i = 0;
         i < std::min(a.last_offers().size(), b.last_offers().size()); ++i) {
      absl::FPrintF(stderr, "; c%d to a%d vs c%d to a%d",
                    a.last_offers()[i].contact, a.last_offers()[i].agent,
                    b.last_offers()[i].contact, b.last_offers()[i].agent);
    }
    absl::FPrintF(stderr, "\n");
    return false;
  };
  auto check = [&]() {
    std::string problem = ccroute.Check();
    if (problem.empty()) return true;
    absl::FPrintF(stderr, "ccroute-bench: verify: after call %d: %s\n", calls,
                  problem);
    return false;
  };
  const int64_t waiting = workload.scale().waiting;
  bool offered;
  // The fill routes arrivals to idle agents (decision 1) until the backlog
  // builds; the mixed stream then exercises every decision.
  while (a.waiting() < waiting) {
    a.Create(false, offered);
    b.Create(false, offered);
    if (!compare("create")) return 1;
    while (a.has_open_offer()) {
      a.Respond(true, offered);
      b.Respond(true, offered);
      if (!compare("accept")) return 1;
    }
  }
  if (!check()) return 1;
  for (int64_t i = 0; i < opt.decisions; ++i) {
    MixedOp op_a, op_b;
    MixedStep(a, waiting, op_a);
    MixedStep(b, waiting, op_b);
    if (op_a != op_b) {
      absl::FPrintF(stderr, "ccroute-bench: verify: the centers diverged\n");
      return 1;
    }
    if (!compare(kMixedOpNames[op_a])) return 1;
    if (i % 1000 == 0 && !check()) return 1;
  }
  if (!check()) return 1;
  absl::PrintF(
      "verify: %d calls at %d agents, %d queues, %d waiting: ccroute and the "
      "baseline made the same %d offers; ccroute's invariants hold\n",
      calls, workload.scale().agents, workload.scale().queues, waiting,
      a.offers_made());
  return 0;
}

// The cost of the two clock reads around each call, for reference.
int64_t ClockOverheadNs() {
  std::vector<int64_t> ns(20'000);
  for (auto& v : ns) {
    auto t0 = std::chrono::steady_clock::now();
    auto t1 = std::chrono::steady_clock::now();
    v = (t1 - t0).count();
  }
  std::nth_element(ns.begin(), ns.begin() + ns.size() / 2, ns.end());
  return ns[ns.size() / 2];
}

std::string JsonSummary(const Summary& s) {
  return absl::StrFormat(
      "\"count\": %d, \"p50_ns\": %d, \"p99_ns\": %d, \"p999_ns\": %d, "
      "\"mean_ns\": %.1f, \"trimmed_mean_ns\": %.1f, \"over_1ms\": %d, "
      "\"decisions_per_second\": %.0f",
      s.count, s.p50, s.p99, s.p999, s.mean_ns, s.trimmed_mean_ns, s.over_1ms,
      s.per_second());
}

std::string JsonRouter(const RouterResult& r) {
  std::string out = absl::StrCat("{", JsonSummary(r.kinds[kMixed]));
  for (int k : {kArrival, kAgentFree}) {
    out += absl::StrFormat(
        ", \"%s\": {%s, \"offered_share\": %.4f}", kKindNames[k],
        JsonSummary(r.kinds[k]),
        k == kArrival ? r.arrival_offered_share : r.agent_free_offered_share);
  }
  out += ", \"mixed_ops\": {";
  for (int k = 0; k < kMixedOpCount; ++k) {
    out += absl::StrFormat("%s\"%s\": {%s}", k ? ", " : "", kMixedOpNames[k],
                           JsonSummary(r.mixed_ops[k]));
  }
  out += absl::StrFormat(
      "}, \"memory\": {\"bytes_per_agent\": %.0f, "
      "\"bytes_per_waiting_contact\": %.0f}}",
      r.bytes_per_agent, r.bytes_per_waiting_contact);
  return out;
}

double Ratio(const RouterResult& baseline, const RouterResult& ccroute,
             Kind k) {
  return ccroute.kinds[k].trimmed_mean_ns > 0
             ? baseline.kinds[k].trimmed_mean_ns /
                   ccroute.kinds[k].trimmed_mean_ns
             : 0;
}

void PrintTable(const Options& opt, const RouterResult& c,
                const std::optional<RouterResult>& b, int64_t clock_ns) {
  const Scale& s = opt.scale;
  absl::PrintF(
      "ccroute-bench scenario: scale %s (%d agents, %d queues, %d waiting), "
      "seed %d, %d timed calls per kind, %d cores\n\n",
      s.name, s.agents, s.queues, s.waiting, opt.seed, opt.decisions,
      std::thread::hardware_concurrency());
  absl::PrintF("%-32s %-9s %9s %9s %9s %9s %13s %9s\n", "decision", "router",
               "p50 ns", "p99 ns", "p99.9 ns", "mean* ns", "decisions/s",
               ">1 ms");
  auto row = [](const char* title, const char* who, const Summary& x) {
    absl::PrintF("%-32s %-9s %9d %9d %9d %9.0f %13.0f %9d\n", title, who, x.p50,
                 x.p99, x.p999, x.trimmed_mean_ns, x.per_second(), x.over_1ms);
  };
  for (int k = 0; k < kKindCount; ++k) {
    row(kKindTitles[k], "ccroute", c.kinds[k]);
    if (b) row(kKindTitles[k], "baseline", b->kinds[k]);
  }
  absl::PrintF("\nmixed stream by call:\n");
  for (int k = 0; k < kMixedOpCount; ++k) {
    std::string title =
        absl::StrFormat("  %s (%d)", kMixedOpNames[k], c.mixed_ops[k].count);
    row(title.c_str(), "ccroute", c.mixed_ops[k]);
    if (b) row(title.c_str(), "baseline", b->mixed_ops[k]);
  }
  absl::PrintF(
      "\narrivals offered at once: %.1f%%; agent frees given a contact: "
      "%.1f%%\n",
      100 * c.arrival_offered_share, 100 * c.agent_free_offered_share);
  if (b) {
    absl::PrintF(
        "baseline / ccroute mean* time per decision: mixed %.1fx, arrival "
        "%.1fx, agent frees %.1fx\n",
        Ratio(*b, c, kMixed), Ratio(*b, c, kArrival), Ratio(*b, c, kAgentFree));
  }
  absl::PrintF(
      "memory (mallinfo2 in-use deltas): ccroute %.0f bytes per agent, %.0f "
      "per waiting contact",
      c.bytes_per_agent, c.bytes_per_waiting_contact);
  if (b) {
    absl::PrintF("; baseline %.0f and %.0f", b->bytes_per_agent,
                 b->bytes_per_waiting_contact);
  }
  absl::PrintF(
      "\nmean*: without the slowest 0.1%% of calls (for ccroute, preemptions: "
      "see '>1 ms'); decisions/s = 1e9 / mean*\nclock overhead per timed "
      "call: %d ns (included above)\n",
      clock_ns);
}

}  // namespace

int RunScenario(int argc, char** argv) {
  Options opt;
  if (auto code = ParseFlags(argc, argv, opt)) return *code;
  Workload workload(opt.scale, opt.seed);
  if (opt.verify) return Verify(workload, opt);

  int64_t clock_ns = ClockOverheadNs();
  RouterResult c = Measure(MakeCcroute, workload, opt);
  std::optional<RouterResult> b;
  if (opt.baseline) b = Measure(MakeBaseline, workload, opt);

  if (!opt.json) {
    PrintTable(opt, c, b, clock_ns);
    return 0;
  }
  const Scale& s = opt.scale;
  std::string out = absl::StrFormat(
      "{\"scale\": \"%s\", \"agents\": %d, \"queues\": %d, \"waiting\": %d, "
      "\"seed\": %d, \"decisions\": %d, \"cores\": %d, "
      "\"clock_overhead_ns\": %d, \"ccroute\": %s",
      s.name, s.agents, s.queues, s.waiting, opt.seed, opt.decisions,
      std::thread::hardware_concurrency(), clock_ns, JsonRouter(c));
  if (b) {
    out += absl::StrFormat(
        ", \"baseline\": %s, \"ratio\": %.2f, \"ratio_arrival\": %.2f, "
        "\"ratio_agent_free\": %.2f",
        JsonRouter(*b), Ratio(*b, c, kMixed), Ratio(*b, c, kArrival),
        Ratio(*b, c, kAgentFree));
  }
  absl::PrintF("%s}\n", out);
  return 0;
}

}  // namespace ccroute::bench
