// The simulator over the real engine against queueing theory: the Erlang C
// rows of DESIGN.md, an Erlang A case, the equivalence of longest-idle and
// random agent selection with agents of different speeds, and the
// simulator's own contracts (determinism, accept delays, wrap-up).
#include "bench/simulator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/erlang.h"

namespace ccroute::sim {
namespace {

struct ErlangRow {
  const char* name;
  QueueModel model;
  // Sized so that each figure's 95% interval is about 0.7 of its tolerance
  // (ASA needs the most contacts): a difference beyond the tolerance is
  // then a 3-sigma event. Measured: 4 to 16 s of CPU per row, spread over
  // the cores.
  int64_t contacts_per_replication;
};

// DESIGN.md's table, the rates per second.
const ErlangRow kRows[] = {
    {"100 per 30 min, AHT 180 s, 14 agents, 20 s",
     {.arrivals_per_second = 100.0 / 1800,
      .aht_seconds = 180,
      .agents = 14,
      .target_seconds = 20},
     75'000},
    {"100 per 30 min, AHT 180 s, 11 agents, 20 s",
     {.arrivals_per_second = 100.0 / 1800,
      .aht_seconds = 180,
      .agents = 11,
      .target_seconds = 20},
     150'000},
    {"360 per 30 min, AHT 240 s, 55 agents, 15 s",
     {.arrivals_per_second = 360.0 / 1800,
      .aht_seconds = 240,
      .agents = 55,
      .target_seconds = 15},
     325'000},
};

constexpr int kReplications = 20;
constexpr uint64_t kSeed = 1;

// Prints a figure beside its analytic value, and checks both that they
// agree within `tolerance` and that the interval is narrower than it (so
// that agreement means something).
void ExpectAgrees(const char* what, const Estimate& sim, double exact,
                  double tolerance) {
  std::printf("  %-14s simulated %10.5f ± %-9.5f analytic %10.5f\n", what,
              sim.mean, sim.ci95, exact);
  EXPECT_NEAR(sim.mean, exact, tolerance) << what;
  EXPECT_LT(sim.ci95, tolerance) << what << ": too few contacts to tell";
}

class ErlangCValidationTest : public ::testing::TestWithParam<int> {};

TEST_P(ErlangCValidationTest, SimulationReproducesTheDesignTableRow) {
  const ErlangRow& row = kRows[GetParam()];
  std::printf("%s\n", row.name);
  absl::StatusOr<QueueFigures> exact = ErlangC(row.model);
  ASSERT_TRUE(exact.ok()) << exact.status();
  absl::StatusOr<Report> r = Simulate(SingleQueueScenario(row.model),
                                      {.contacts = row.contacts_per_replication,
                                       .warmup = 5000,
                                       .replications = kReplications,
                                       .seed = kSeed});
  ASSERT_TRUE(r.ok()) << r.status();
  const QueueEstimates& q = r->queues[0];
  EXPECT_EQ(q.contacts, row.contacts_per_replication * kReplications);
  ExpectAgrees("service level", q.service_level, exact->service_level, 0.01);
  ExpectAgrees("P(wait)", q.p_wait, exact->p_wait, 0.01);
  ExpectAgrees("ASA", q.asa_seconds, exact->asa_seconds,
               0.05 * exact->asa_seconds);
  ExpectAgrees("occupancy", r->occupancy, exact->occupancy, 0.01);
  EXPECT_EQ(q.abandon_ratio.mean, 0);
}

INSTANTIATE_TEST_SUITE_P(DesignTable, ErlangCValidationTest,
                         ::testing::Values(0, 1, 2));

TEST(ErlangAValidationTest, SimulationReproducesErlangA) {
  QueueModel m = kRows[1].model;
  m.patience_seconds = 120;
  absl::StatusOr<QueueFigures> exact = ErlangA(m);
  ASSERT_TRUE(exact.ok()) << exact.status();
  absl::StatusOr<Report> r = Simulate(
      SingleQueueScenario(m),
      {.contacts = 60'000, .warmup = 5000, .replications = 10, .seed = kSeed});
  ASSERT_TRUE(r.ok()) << r.status();
  const QueueEstimates& q = r->queues[0];
  ExpectAgrees("service level", q.service_level, exact->service_level, 0.01);
  ExpectAgrees("P(wait)", q.p_wait, exact->p_wait, 0.01);
  ExpectAgrees("abandon ratio", q.abandon_ratio, exact->abandon_ratio, 0.01);
  ExpectAgrees("ASA", q.asa_seconds, exact->asa_seconds,
               0.05 * exact->asa_seconds);
}

// Agents at three speeds on one queue. Under random selection and under
// longest-idle-first the busy agents form the same process, so mean waits
// are equal (exactly, for exponential handle times); fastest-first (here
// most_skilled, with skill levels ordered by speed) is measurably better.
Scenario MixedSpeeds(core::AgentSelection selection, bool random) {
  Scenario s;
  s.name = "mixed speeds";
  s.random_agent_selection = random;
  s.contact_types.push_back({.name = "calls",
                             .arrivals_per_hour = 300,
                             .aht_seconds = 200,
                             .target_seconds = 20,
                             .requirements = {{"calls", 1}},
                             .agent_selection = selection});
  s.agent_groups.push_back(
      {.name = "fast", .agents = 5, .skills = {{"calls", 9}}, .speed = 2});
  s.agent_groups.push_back(
      {.name = "normal", .agents = 10, .skills = {{"calls", 5}}, .speed = 1});
  s.agent_groups.push_back(
      {.name = "slow", .agents = 5, .skills = {{"calls", 1}}, .speed = 0.5});
  return s;
}

// a - b per replication: both saw the same arrivals and work (common
// random numbers), so the difference is estimated tightly.
Estimate PairedDifference(const Report& a, const Report& b, auto figure) {
  std::vector<double> d;
  for (size_t i = 0; i < a.replications.size(); ++i) {
    d.push_back(figure(a.replications[i].overall) -
                figure(b.replications[i].overall));
  }
  return EstimateMean(d);
}

double MeanWait(const Tally& t) {
  return t.wait_seconds / static_cast<double>(t.answered);
}
double ShareWaited(const Tally& t) {
  return static_cast<double>(t.waited) / static_cast<double>(t.arrived);
}

TEST(AgentSelectionTest, LongestIdleAndRandomGiveEqualWaitsAcrossSpeeds) {
  const RunOptions options{
      .contacts = 60'000, .warmup = 5000, .replications = 10, .seed = kSeed};
  auto idle =
      Simulate(MixedSpeeds(core::AgentSelection::kLongestIdle, false), options);
  auto random =
      Simulate(MixedSpeeds(core::AgentSelection::kLongestIdle, true), options);
  auto fastest =
      Simulate(MixedSpeeds(core::AgentSelection::kMostSkilled, false), options);
  ASSERT_TRUE(idle.ok()) << idle.status();
  ASSERT_TRUE(random.ok()) << random.status();
  ASSERT_TRUE(fastest.ok()) << fastest.status();
  const double asa = idle->overall.asa_seconds.mean;
  std::printf(
      "mean wait: longest idle %.3f ± %.3f s, random %.3f ± %.3f s, "
      "fastest first %.3f ± %.3f s\n",
      asa, idle->overall.asa_seconds.ci95, random->overall.asa_seconds.mean,
      random->overall.asa_seconds.ci95, fastest->overall.asa_seconds.mean,
      fastest->overall.asa_seconds.ci95);

  // Equal: zero lies in the paired difference's 99.9% interval, and that
  // interval is narrow enough to show a 10% difference.
  const double widen = StudentTQuantile(0.9995, options.replications - 1) /
                       StudentTQuantile(0.975, options.replications - 1);
  for (auto figure : {MeanWait, ShareWaited}) {
    Estimate d = PairedDifference(*idle, *random, figure);
    double base = 0;
    for (const ReplicationResult& rep : idle->replications) {
      base += figure(rep.overall) / static_cast<double>(options.replications);
    }
    std::printf("longest idle - random: %.5f ± %.5f (95%%)\n", d.mean, d.ci95);
    EXPECT_LE(std::abs(d.mean), widen * d.ci95);
    EXPECT_LT(widen * d.ci95, 0.1 * base);
  }
  // The comparison has power: fastest-first is clearly different.
  Estimate d = PairedDifference(*idle, *fastest, MeanWait);
  std::printf("longest idle - fastest first: %.3f ± %.3f s\n", d.mean, d.ci95);
  EXPECT_GT(d.mean - widen * d.ci95, 0.1 * asa);
}

double ServiceLevel(const Tally& t) {
  return static_cast<double>(t.answered_within_target) /
         static_cast<double>(t.arrived);
}

// The routing study's 2-skill ring at its design load (docs/routing-
// quality.md): preserve_coverage answers clearly more contacts within the
// target than longest_idle, on the same contacts. Measured: 1.00 ± 0.17
// points more (95%; ± 0.36 at 99.9%) and 1.6 points fewer contacts
// waiting; 3 s of CPU.
TEST(ChainRoutingTest, PreserveCoverageBeatsLongestIdleOnTheSkillRing) {
  const QueueModel pooled{
      .aht_seconds = 300, .agents = 90, .target_seconds = 20};
  absl::StatusOr<double> rate = ArrivalRateForServiceLevel(pooled, 0.8);
  ASSERT_TRUE(rate.ok()) << rate.status();
  const RunOptions options{
      .contacts = 50'000, .warmup = 5000, .replications = 10, .seed = kSeed};
  auto run = [&](core::AgentSelection selection) {
    Scenario s = ChainScenario(
        {.skills_per_agent = 2, .total_arrivals_per_hour = *rate * 3600});
    for (ContactType& t : s.contact_types) t.agent_selection = selection;
    return Simulate(s, options);
  };
  auto idle = run(core::AgentSelection::kLongestIdle);
  auto coverage = run(core::AgentSelection::kPreserveCoverage);
  ASSERT_TRUE(idle.ok()) << idle.status();
  ASSERT_TRUE(coverage.ok()) << coverage.status();
  const double widen = StudentTQuantile(0.9995, options.replications - 1) /
                       StudentTQuantile(0.975, options.replications - 1);
  Estimate sl = PairedDifference(*coverage, *idle, ServiceLevel);
  Estimate waited = PairedDifference(*idle, *coverage, ShareWaited);
  std::printf(
      "service level: longest idle %.4f, preserve_coverage %.4f, paired "
      "gain %.4f ± %.4f (95%%); P(wait) lower by %.4f ± %.4f\n",
      idle->overall.service_level.mean, coverage->overall.service_level.mean,
      sl.mean, sl.ci95, waited.mean, waited.ci95);
  EXPECT_GT(sl.mean - widen * sl.ci95, 0.002);
  EXPECT_GT(waited.mean - widen * waited.ci95, 0.0);
}

// --- The simulator's own contracts (fast) -------------------------------

Scenario Small() {
  return SingleQueueScenario({.arrivals_per_second = 100.0 / 1800,
                              .aht_seconds = 180,
                              .agents = 12,
                              .target_seconds = 20,
                              .patience_seconds = 300});
}

TEST(SimulatorTest, IsDeterministicForASeedWhateverTheThreads) {
  RunOptions o{.contacts = 3000, .replications = 4, .seed = 7, .threads = 1};
  auto a = Simulate(Small(), o);
  o.threads = 3;
  auto b = Simulate(Small(), o);
  o.seed = 8;
  auto c = Simulate(Small(), o);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  for (int i = 0; i < 4; ++i) {
    const Tally& x = a->replications[i].overall;
    const Tally& y = b->replications[i].overall;
    EXPECT_EQ(x.answered_within_target, y.answered_within_target);
    EXPECT_EQ(x.abandoned, y.abandoned);
    EXPECT_EQ(x.wait_seconds, y.wait_seconds);
  }
  EXPECT_NE(a->overall.asa_seconds.mean, c->overall.asa_seconds.mean);
  // Replications differ from each other.
  EXPECT_NE(a->replications[0].overall.wait_seconds,
            a->replications[1].overall.wait_seconds);
}

TEST(SimulatorTest, AccountsForEveryMeasuredContact) {
  auto r =
      Simulate(Small(), {.contacts = 5000, .warmup = 100, .replications = 2});
  ASSERT_TRUE(r.ok()) << r.status();
  for (const ReplicationResult& rep : r->replications) {
    EXPECT_EQ(rep.overall.arrived, 5000);
    EXPECT_EQ(rep.overall.answered + rep.overall.abandoned, 5000);
    EXPECT_LE(rep.overall.answered_within_target, rep.overall.answered);
    EXPECT_GE(rep.contacts_created, 5100);
    EXPECT_GT(rep.engine_events, 5 * 5000);
  }
}

// With more agents than contacts ever need, nobody waits for an agent, the
// speed of answer is the accept delay, and occupancy is the arrival rate
// times handle plus wrap-up time (and accept delay) per agent.
TEST(SimulatorTest, AcceptDelayAndWrapUpTakeAgentTime) {
  Scenario s = SingleQueueScenario({.arrivals_per_second = 60.0 / 3600,
                                    .aht_seconds = 120,
                                    .agents = 40,
                                    .target_seconds = 4});
  s.contact_types[0].handle_time = HandleTimeDistribution::kLognormal;
  s.contact_types[0].handle_time_sd_seconds = 200;
  s.agent_groups[0].accept_delay_seconds = 4;
  s.agent_groups[0].wrap_up_seconds = 30;
  auto r = Simulate(s, {.contacts = 20000, .replications = 5});
  ASSERT_TRUE(r.ok()) << r.status();
  const QueueEstimates& q = r->queues[0];
  EXPECT_LT(q.p_wait.mean, 1e-3);
  EXPECT_NEAR(q.asa_seconds.mean, 4, 0.15);
  // Exponential accept delays of mean 4 s within a 4 s target: 1 - 1/e.
  EXPECT_NEAR(q.service_level.mean, 1 - std::exp(-1.0), 0.01);
  EXPECT_NEAR(r->occupancy.mean, 60.0 / 3600 * (120 + 30 + 4) / 40, 0.003);
}

TEST(SimulatorTest, RefusesScenariosItCannotRun) {
  Scenario s = Small();
  s.contact_types[0].requirements = {{"spanish", 3}};
  EXPECT_EQ(Simulate(s, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  s = Small();
  s.agent_groups.push_back({.name = "other", .skills = {{"x", 1}}});
  s.contact_types.push_back(
      {.name = "x-only", .arrivals_per_hour = 1, .requirements = {{"x", 1}}});
  s.random_agent_selection = true;
  absl::Status st = Simulate(s, {}).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(st.message()).find("random"), std::string::npos);
  s = Small();
  s.agent_groups[0].skills = {{"", 1}};  // the engine refuses it
  EXPECT_EQ(Simulate(s, {.contacts = 10, .replications = 1}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ChainScenarioTest, BuildsTheChainAroundTheCircle) {
  Scenario s = ChainScenario({.total_arrivals_per_hour = 600});
  ASSERT_EQ(s.contact_types.size(), 6u);
  ASSERT_EQ(s.agent_groups.size(), 6u);
  EXPECT_EQ(s.contact_types[0].arrivals_per_hour, 100);
  EXPECT_EQ(s.agent_groups[5].skills,
            (std::vector<core::Skill>{{"type6", 8}, {"type1", 4}}));
  EXPECT_TRUE(ValidateScenario(s).ok());
}

}  // namespace
}  // namespace ccroute::sim
