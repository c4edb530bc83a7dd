// ccroute-bench: Google Benchmark micro-benchmarks of the routing engine's
// hot operations, and (`ccroute-bench scenario ...`, bench/speed_scenario.h)
// the speed-to-answer scenario driver against the naive baseline.
//
// Each micro-benchmark iteration is a short cycle of engine calls that
// leaves the center as it found it (same number of idle agents, same
// number waiting), so that the cost per iteration stays put however many
// iterations Google Benchmark picks. The argument is the number of agents
// or of waiting contacts, on the workload of bench/workload.h.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/speed_scenario.h"
#include "bench/workload.h"
#include "server/core/engine.h"

namespace ccroute::bench {
namespace {

using namespace std::chrono_literals;
using core::Event;
using core::EventKind;
using core::Time;

void Expect(const absl::Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "ccroute-bench: %s: %s\n", what, s.ToString().c_str());
  std::abort();
}

// An engine running a workload, all agents READY, with helpers to answer
// offers. Requests are drawn ahead of time; each gets a fresh id.
class LoadedEngine {
 public:
  LoadedEngine(const Scale& scale, core::RoutingPolicy policy,
               std::vector<core::QueueConfig> queues = {})
      : workload_(scale, 1), engine_(core::EngineLimits{}, policy) {
    if (queues.empty()) queues = workload_.queues();
    for (const auto& q : queues) Expect(engine_.UpsertQueue(q, now_), "queue");
    for (const auto& a : workload_.agents()) {
      Expect(engine_.UpsertAgentProfile(a, now_), "agent");
      Expect(engine_.Login(a.id, now_), "login");
      Expect(engine_.SetReady(a.id, now_), "ready");
    }
    requests_.resize(4096);
    for (auto& r : requests_) workload_.NextContact(rng_, 0, r);
    // The first contact of a (queue, channel, requirements) combination
    // makes its requirement class, which walks every agent once; make them
    // all here, outside the timed loops.
    for (size_t i = 0; i < requests_.size(); ++i) {
      core::ContactRequest& r = NextRequest();
      Expect(engine_.CreateContact(r, now_).status(), "warm-up create");
      Expect(engine_.CancelContact(r.id, core::EndReason::kCancelled, now_),
             "warm-up cancel");
    }
    Drain();
    offers_.clear();
  }
  explicit LoadedEngine(const Scale& scale)
      : LoadedEngine(scale, Workload(scale, 1).policy()) {}

  core::Engine& engine() { return engine_; }
  Time now() const { return now_; }
  Time Tick(core::Duration d = 1ms) { return now_ += d; }

  // The next request, with a fresh id.
  core::ContactRequest& NextRequest() {
    core::ContactRequest& r = requests_[next_ % requests_.size()];
    char buf[24];
    buf[0] = 'c';
    auto [end, ec] = std::to_chars(buf + 1, buf + sizeof(buf), next_++);
    r.id.assign(buf, end);
    return r;
  }
  // Creates contacts, accepting every offer, until `waiting` wait.
  void Fill(int64_t waiting) {
    while (waiting_ < waiting) {
      Tick();
      Expect(engine_.CreateContact(NextRequest(), now_).status(), "create");
      ++waiting_;
      AcceptOffers();
    }
  }
  // Accepts the offers made so far (accepting may make more).
  void AcceptOffers() {
    while (Drain()) {
      while (!offers_.empty()) {
        auto [agent, contact] = offers_.back();
        offers_.pop_back();
        Expect(engine_.AcceptOffer(agent, contact, now_), "accept");
        --waiting_;
        assigned_.emplace_back(std::move(agent), std::move(contact));
      }
    }
  }
  // Takes the engine's events; returns whether they held offers, which it
  // keeps as (agent, contact) in offers().
  bool Drain() {
    engine_.TakeEvents(events_);
    bool any = false;
    for (Event& e : events_) {
      if (e.kind != EventKind::kContactOffered) continue;
      offers_.emplace_back(std::move(e.agent_id), std::move(e.contact_id));
      any = true;
    }
    events_.clear();
    return any;
  }
  std::vector<std::pair<std::string, std::string>>& offers() { return offers_; }
  std::vector<std::pair<std::string, std::string>>& assigned() {
    return assigned_;
  }
  void ContactCreated() { ++waiting_; }
  int64_t waiting() const { return waiting_; }
  std::mt19937_64& rng() { return rng_; }

 private:
  Workload workload_;
  core::Engine engine_;
  std::mt19937_64 rng_{2};
  Time now_{};
  int64_t next_ = 0;
  int64_t waiting_ = 0;
  std::vector<core::ContactRequest> requests_;
  std::vector<Event> events_;
  std::vector<std::pair<std::string, std::string>> offers_;
  std::vector<std::pair<std::string, std::string>> assigned_;
};

// Agents in the proportion of the scales: 10 (S, M) to 20 (L)
// agents per queue, 10 waiting contacts per agent.
Scale ByAgents(int agents, int waiting = 0) {
  return {"custom", agents, std::max(1, agents / 20), waiting};
}
Scale ByWaiting(int waiting) {
  return {"custom", std::max(100, waiting / 10), std::max(10, waiting / 200),
          waiting};
}

// A contact arrives while agents are idle and is offered at once; it is
// then cancelled (the offer is withdrawn), which frees the agent again.
void CreateContactOffered(benchmark::State& state, LoadedEngine& center) {
  core::Engine& engine = center.engine();
  int64_t offered = 0;
  for (auto _ : state) {
    Time now = center.Tick();
    core::ContactRequest& r = center.NextRequest();
    auto view = engine.CreateContact(r, now);
    offered += view->state == core::ContactState::kOffered;
    Expect(engine.CancelContact(r.id, core::EndReason::kAbandoned, now),
           "cancel");
    center.Drain();
    center.offers().clear();
  }
  state.counters["offered"] = benchmark::Counter(
      static_cast<double>(offered) / std::max<int64_t>(1, state.iterations()));
}

void BM_Engine_CreateContactOffered(benchmark::State& state) {
  LoadedEngine center(ByAgents(static_cast<int>(state.range(0))));
  CreateContactOffered(state, center);
}
BENCHMARK(BM_Engine_CreateContactOffered)->Arg(100)->Arg(1'000)->Arg(10'000);

// The same with every queue choosing agents by preserve_coverage, which
// weighs up to 16 eligible agents by their other classes' available counts
// (kept up to date on every availability change).
void BM_Engine_CreateContactOfferedPreserveCoverage(benchmark::State& state) {
  const Scale scale = ByAgents(static_cast<int>(state.range(0)));
  Workload workload(scale, 1);
  std::vector<core::QueueConfig> queues = workload.queues();
  for (core::QueueConfig& q : queues) {
    q.agent_selection = core::AgentSelection::kPreserveCoverage;
  }
  LoadedEngine center(scale, workload.policy(), queues);
  CreateContactOffered(state, center);
}
BENCHMARK(BM_Engine_CreateContactOfferedPreserveCoverage)
    ->Arg(100)
    ->Arg(1'000)
    ->Arg(10'000);

// A contact arrives while every agent it could go to is busy and waits;
// it is then cancelled (the caller hangs up).
void BM_Engine_CreateContactQueued(benchmark::State& state) {
  LoadedEngine center(ByWaiting(static_cast<int>(state.range(0))));
  center.Fill(state.range(0));
  core::Engine& engine = center.engine();
  for (auto _ : state) {
    Time now = center.Tick();
    core::ContactRequest& r = center.NextRequest();
    benchmark::DoNotOptimize(engine.CreateContact(r, now));
    Expect(engine.CancelContact(r.id, core::EndReason::kAbandoned, now),
           "cancel");
    center.Drain();
    center.offers().clear();
  }
}
BENCHMARK(BM_Engine_CreateContactQueued)->Arg(1'000)->Arg(10'000)->Arg(100'000);

// An agent completes a contact while contacts wait and is offered the next
// one, accepts it, and a new contact arrives. One arrival per completion
// keeps the center busy: an agent left without work it may take is fed by
// the arrivals for it (up to twice the starting backlog).
void BM_Engine_AgentFreesTakesNext(benchmark::State& state) {
  const int64_t waiting = state.range(0);
  LoadedEngine center(ByWaiting(static_cast<int>(waiting)));
  center.Fill(waiting);
  core::Engine& engine = center.engine();
  auto& assigned = center.assigned();
  for (auto _ : state) {
    if (assigned.empty()) {
      state.SkipWithError("every agent ran out of work");
      break;
    }
    Time now = center.Tick();
    size_t i = std::uniform_int_distribution<size_t>(
        0, assigned.size() - 1)(center.rng());
    std::swap(assigned[i], assigned.back());
    auto [agent, contact] = std::move(assigned.back());
    assigned.pop_back();
    Expect(engine.CompleteContact(agent, contact, "done", now), "complete");
    center.AcceptOffers();
    if (center.waiting() < 2 * waiting) {
      Expect(engine.CreateContact(center.NextRequest(), now).status(),
             "create");
      center.ContactCreated();
      center.AcceptOffers();
    }
  }
}
BENCHMARK(BM_Engine_AgentFreesTakesNext)->Arg(1'000)->Arg(10'000)->Arg(100'000);

// An agent rejects its offer: the contact goes back to its place (no other
// agent is free) and the agent is offered the next best contact. The
// reoffer delay is shorter than a tick, so two contacts take turns.
void BM_Engine_RequeueAfterReject(benchmark::State& state) {
  Scale scale = ByWaiting(static_cast<int>(state.range(0)));
  core::RoutingPolicy policy = Workload(scale, 1).policy();
  policy.reoffer_delay = 1us;
  LoadedEngine center(scale, policy);
  center.Fill(state.range(0));
  core::Engine& engine = center.engine();
  auto& assigned = center.assigned();
  // Free agents until one of them is offered a waiting contact.
  while (center.offers().empty()) {
    auto [agent, contact] = std::move(assigned.back());
    assigned.pop_back();
    Expect(engine.CompleteContact(agent, contact, "done", center.Tick()),
           "complete");
    center.Drain();
  }
  auto [agent, contact] = center.offers().back();
  center.offers().clear();
  for (auto _ : state) {
    Time now = center.Tick();
    Expect(engine.RejectOffer(agent, contact, now), "reject");
    center.Drain();
    if (center.offers().size() != 1 || center.offers()[0].first != agent) {
      state.SkipWithError("the agent was not offered the next contact");
      break;
    }
    contact = std::move(center.offers()[0].second);
    center.offers().clear();
  }
}
BENCHMARK(BM_Engine_RequeueAfterReject)->Arg(1'000)->Arg(10'000)->Arg(100'000);

// Contacts wait in queues with an escalation step (after 30 s the queue
// asks only for level 1 of its skill); each iteration one contact arrives
// and the timer of the one that arrived `waiting` iterations earlier fires,
// moving it to the wider class without losing its place. Every agent is
// busy, so the escalated contact keeps waiting.
void BM_Engine_Escalation(benchmark::State& state) {
  const int64_t waiting = state.range(0);
  Scale scale = ByWaiting(static_cast<int>(waiting));
  Workload workload(scale, 1);
  std::vector<core::QueueConfig> queues = workload.queues();
  const core::Duration step = core::Duration(30s) / waiting;
  for (auto& q : queues) {
    core::EscalationStep e;
    e.after = step * waiting;
    e.requirements = {{q.requirements.front().skill, 1}};
    q.escalation.push_back(e);
  }
  LoadedEngine center(scale, workload.policy(), queues);
  // Busy agents first (they hold contacts created well before the rest).
  center.Fill(1);
  core::Engine& engine = center.engine();
  for (int64_t i = 0; i < waiting; ++i) {
    Expect(
        engine.CreateContact(center.NextRequest(), center.Tick(step)).status(),
        "create");
    center.ContactCreated();
    center.AcceptOffers();
  }
  for (auto _ : state) {
    Time now = center.Tick(step);
    Expect(engine.CreateContact(center.NextRequest(), now).status(), "create");
    center.ContactCreated();
    center.AcceptOffers();
  }
}
BENCHMARK(BM_Engine_Escalation)->Arg(1'000)->Arg(10'000)->Arg(100'000);

}  // namespace
}  // namespace ccroute::bench

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "scenario") {
    return ccroute::bench::RunScenario(argc - 1, argv + 1);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
