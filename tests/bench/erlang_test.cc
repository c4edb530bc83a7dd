// The analytic figures of bench/erlang.h against the Erlang C table in
// DESIGN.md, closed forms of special cases of Erlang A, and the Student t
// quantiles of statistics tables.
#include "bench/erlang.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace ccroute::sim {
namespace {

struct TableRow {
  double arrivals_per_30_min, aht, target;
  int agents;
  double p_wait, asa, service_level;
};

// DESIGN.md, "Queueing theory the simulator must reproduce (Erlang C)":
// the published figures, rounded as published.
constexpr TableRow kDesignTable[] = {
    {100, 180, 20, 14, 0.1741, 7.84, 0.8883},
    {100, 180, 20, 11, 0.6821, 122.8, 0.3896},
    {360, 240, 15, 55, 0.2387, 8.18, 0.8459},
};

QueueModel ModelOf(const TableRow& row) {
  return {.arrivals_per_second = row.arrivals_per_30_min / 1800,
          .aht_seconds = row.aht,
          .agents = row.agents,
          .target_seconds = row.target};
}

TEST(ErlangCTest, MatchesTheDesignTable) {
  for (const TableRow& row : kDesignTable) {
    SCOPED_TRACE(::testing::Message() << row.agents << " agents");
    absl::StatusOr<QueueFigures> f = ErlangC(ModelOf(row));
    ASSERT_TRUE(f.ok()) << f.status();
    // Half a unit of the last published digit, and a little for the
    // published rounding itself.
    EXPECT_NEAR(f->p_wait, row.p_wait, 1e-4);
    EXPECT_NEAR(f->asa_seconds, row.asa, row.asa < 100 ? 0.005 : 0.05);
    EXPECT_NEAR(f->service_level, row.service_level, 1e-4);
    EXPECT_EQ(f->abandon_ratio, 0);
    EXPECT_NEAR(f->occupancy,
                row.arrivals_per_30_min / 1800 * row.aht / row.agents, 1e-12);
  }
}

TEST(ErlangCTest, RefusesAnOverloadedQueue) {
  QueueModel m = ModelOf(kDesignTable[1]);
  m.agents = 10;  // A = 10 Erlangs
  EXPECT_EQ(ErlangC(m).status().code(), absl::StatusCode::kInvalidArgument);
  m.agents = 0;
  EXPECT_EQ(ErlangC(m).status().code(), absl::StatusCode::kInvalidArgument);
  m = ModelOf(kDesignTable[0]);
  m.aht_seconds = -1;
  EXPECT_EQ(ErlangC(m).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ErlangATest, ApproachesErlangCAsPatienceGrows) {
  for (const TableRow& row : kDesignTable) {
    QueueModel m = ModelOf(row);
    m.patience_seconds = 1e8;
    absl::StatusOr<QueueFigures> a = ErlangA(m);
    absl::StatusOr<QueueFigures> c = ErlangC(m);
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_NEAR(a->p_wait, c->p_wait, 1e-4);
    EXPECT_NEAR(a->service_level, c->service_level, 1e-4);
    EXPECT_NEAR(a->asa_seconds, c->asa_seconds, 1e-3 * c->asa_seconds);
    EXPECT_LT(a->abandon_ratio, 1e-5);
  }
}

// With patience equal to the handle time, everyone in the system leaves at
// rate mu, so the number in system is Poisson(A), as in M/M/infinity.
TEST(ErlangATest, MatchesThePoissonCaseWhenPatienceEqualsHandleTime) {
  const double a = 12;
  const int n = 10;
  QueueModel m{.arrivals_per_second = a / 100,
               .aht_seconds = 100,
               .agents = n,
               .target_seconds = 0,
               .patience_seconds = 100};
  double below_n = 0, excess = 0, pk = std::exp(-a);
  for (int k = 0; k < 200; ++k) {
    if (k < n) below_n += pk;
    if (k > n) excess += (k - n) * pk;
    pk *= a / (k + 1);
  }
  absl::StatusOr<QueueFigures> f = ErlangA(m);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_NEAR(f->p_wait, 1 - below_n, 1e-10);
  EXPECT_NEAR(f->abandon_ratio, excess / a, 1e-10);
  // With a target of 0 only those answered at once count.
  EXPECT_NEAR(f->service_level, below_n, 1e-10);
  EXPECT_NEAR(f->occupancy, a * (1 - f->abandon_ratio) / n, 1e-10);
}

TEST(ErlangATest, ServiceLevelGrowsWithTheTarget) {
  QueueModel m = ModelOf(kDesignTable[1]);
  m.patience_seconds = 120;
  double last = 0;
  for (double t : {0.0, 5.0, 20.0, 60.0, 300.0, 3000.0}) {
    m.target_seconds = t;
    absl::StatusOr<QueueFigures> f = ErlangA(m);
    ASSERT_TRUE(f.ok()) << f.status();
    EXPECT_GE(f->service_level, last);
    last = f->service_level;
    // Nobody is answered within the target who is not answered at all.
    EXPECT_LE(f->service_level, 1 - f->abandon_ratio + 1e-12);
  }
  EXPECT_NEAR(last, 1 - ErlangA(m)->abandon_ratio, 1e-9);
}

TEST(ErlangATest, HandlesOverloadAndRefusesBadPatience) {
  QueueModel m = ModelOf(kDesignTable[0]);
  m.arrivals_per_second *= 3;  // 30 Erlangs on 14 agents
  m.patience_seconds = 60;
  absl::StatusOr<QueueFigures> f = ErlangA(m);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_GT(f->abandon_ratio, 0.4);
  EXPECT_NEAR(f->occupancy, 1, 0.01);
  m.patience_seconds = 0;
  EXPECT_EQ(ErlangA(m).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ArrivalRateForServiceLevelTest, InvertsTheServiceLevel) {
  for (double patience : {0.0, 180.0}) {
    QueueModel m{.aht_seconds = 300,
                 .agents = 90,
                 .target_seconds = 20,
                 .patience_seconds = patience};
    absl::StatusOr<double> rate = ArrivalRateForServiceLevel(m, 0.8);
    ASSERT_TRUE(rate.ok()) << rate.status();
    m.arrivals_per_second = *rate;
    EXPECT_NEAR(Analytic(m)->service_level, 0.8, 1e-8);
  }
  EXPECT_FALSE(
      ArrivalRateForServiceLevel({.aht_seconds = 300, .agents = 9}, 1.5).ok());
}

TEST(StudentTQuantileTest, MatchesTables) {
  EXPECT_NEAR(StudentTQuantile(0.975, 1), 12.7062, 1e-4);
  EXPECT_NEAR(StudentTQuantile(0.975, 2), 4.3027, 1e-4);
  EXPECT_NEAR(StudentTQuantile(0.975, 9), 2.2622, 1e-4);
  EXPECT_NEAR(StudentTQuantile(0.975, 19), 2.0930, 1e-4);
  EXPECT_NEAR(StudentTQuantile(0.975, 30), 2.0423, 1e-4);
  EXPECT_NEAR(StudentTQuantile(0.995, 9), 3.2498, 1e-4);
  EXPECT_NEAR(StudentTQuantile(0.975, 100000), 1.9600, 1e-4);
  EXPECT_NEAR(StudentTQuantile(0.5, 5), 0, 1e-9);
}

TEST(EstimateMeanTest, GivesTheStudentInterval) {
  Estimate e = EstimateMean(std::vector<double>{1, 2, 3, 4});
  EXPECT_DOUBLE_EQ(e.mean, 2.5);
  // sd = sqrt(5/3), t(0.975, 3) = 3.1824.
  EXPECT_NEAR(e.ci95, 3.1824 * std::sqrt(5.0 / 3) / 2, 1e-4);
  EXPECT_EQ(EstimateMean(std::vector<double>{7}).ci95, 0);
  EXPECT_EQ(EstimateMean(std::vector<double>{}).mean, 0);
}

}  // namespace
}  // namespace ccroute::sim
