// Analytic queueing figures the simulator is checked against: Erlang C
// (M/M/n, callers never hang up) and Erlang A (M/M/n+M, Palm's model:
// exponential patience), and the Student t quantile for confidence intervals.
// Pure functions of their arguments; thread-safe.
#ifndef CCROUTE_BENCH_ERLANG_H_
#define CCROUTE_BENCH_ERLANG_H_

#include <vector>

#include "absl/status/statusor.h"

namespace ccroute::sim {

// A single queue served by `agents` identical agents: Poisson arrivals,
// exponential handle times, first come first served.
struct QueueModel {
  double arrivals_per_second = 0;
  double aht_seconds = 0;  // mean handle time
  int agents = 0;
  double target_seconds = 0;  // service-level target
  // Mean of the exponential patience; 0 means callers never hang up.
  double patience_seconds = 0;
};

// What a model predicts for its contacts in the long run.
struct QueueFigures {
  // Share of all arriving contacts answered within the target. A contact
  // that hung up counts as not answered in time, whenever it hung up.
  double service_level = 0;
  // Mean wait of the answered contacts (0 for those answered at once).
  double asa_seconds = 0;
  // Share of arriving contacts that found every agent busy and waited.
  double p_wait = 0;
  // Share of arriving contacts that hung up before being answered.
  double abandon_ratio = 0;
  // Carried load per agent: answered contacts x AHT / (agents x time).
  double occupancy = 0;
};

// Erlang C for `model` (patience_seconds ignored), with the offered load
// A = arrivals x AHT and B_0 = 1, B_k = A B_(k-1) / (k + A B_(k-1)):
//   P(wait) C = B_n / (1 - rho + rho B_n), rho = A / n,
//   ASA = C AHT / (n - A),  SL(t) = 1 - C exp(-(n - A) t / AHT).
// INVALID_ARGUMENT for a non-positive rate, AHT or agent count, a negative
// target, or A >= n (the queue grows without bound).
absl::StatusOr<QueueFigures> ErlangC(const QueueModel& model);

// Erlang A for `model` (patience_seconds > 0). Computed exactly, without
// asymptotic approximations: the number in system is a birth-death chain
// (birth rate lambda, death rate min(k, n) mu + max(k - n, 0) theta with
// mu = 1/AHT, theta = 1/patience), solved in log space and truncated where
// its tail is below 1e-15. By PASTA an arrival sees that distribution; a
// tagged contact finding j others waiting then moves up a place at rate
// n mu + m theta (m still ahead), is answered at rate n mu from the head,
// and hangs up at rate theta. Absorption probabilities and times of that
// chain give the abandon ratio and ASA in closed recursions; the share
// answered within the target is its transient absorption probability by
// time t, evaluated by uniformization (every term positive).
// INVALID_ARGUMENT for non-positive rate, AHT, agents or patience, or a
// negative target. Any load is allowed: hang-ups keep the queue finite.
absl::StatusOr<QueueFigures> ErlangA(const QueueModel& model);

// ErlangA when patience_seconds > 0, ErlangC otherwise.
absl::StatusOr<QueueFigures> Analytic(const QueueModel& model);

// The arrival rate (per second) at which `model` (its arrival rate
// ignored; Erlang A if it has a patience, else Erlang C) answers exactly
// `goal` of the contacts within its target, found by bisection to a
// relative 1e-10. INVALID_ARGUMENT for a bad model or unless 0 < goal < 1.
absl::StatusOr<double> ArrivalRateForServiceLevel(const QueueModel& model,
                                                  double goal);

// The p-quantile of Student's t distribution with `df` degrees of freedom
// (0.5 <= p < 1, df >= 1), accurate to about 1e-9: the distribution
// function is integrated numerically and inverted by bisection.
double StudentTQuantile(double p, int df);

// Mean of `values` and the half-width of its 95% confidence interval from
// the Student t distribution with n - 1 degrees of freedom. The half-width
// is 0 for fewer than two values; both are 0 for none.
struct Estimate {
  double mean = 0;
  double ci95 = 0;
};
Estimate EstimateMean(const std::vector<double>& values);

}  // namespace ccroute::sim

#endif  // CCROUTE_BENCH_ERLANG_H_
