#include "bench/erlang.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ccroute::sim {
namespace {

absl::Status CheckModel(const QueueModel& m) {
  if (!(m.arrivals_per_second > 0) || !std::isfinite(m.arrivals_per_second)) {
    return absl::InvalidArgumentError("arrival rate must be positive");
  }
  if (!(m.aht_seconds > 0) || !std::isfinite(m.aht_seconds)) {
    return absl::InvalidArgumentError("AHT must be positive");
  }
  if (m.agents <= 0) {
    return absl::InvalidArgumentError("agents must be positive");
  }
  if (!(m.target_seconds >= 0) || !std::isfinite(m.target_seconds)) {
    return absl::InvalidArgumentError("target must be zero or positive");
  }
  return absl::OkStatus();
}

// Beyond this many waiting contacts the Erlang A chain is not truncated
// but refused: the patience is too long for the exact computation.
constexpr int kMaxQueueStates = 2'000'000;

}  // namespace

absl::StatusOr<QueueFigures> ErlangC(const QueueModel& m) {
  if (absl::Status s = CheckModel(m); !s.ok()) return s;
  const double a = m.arrivals_per_second * m.aht_seconds;
  const int n = m.agents;
  if (a >= n) {
    return absl::InvalidArgumentError(
        absl::StrCat("offered load ", a, " Erlangs needs more than ", n,
                     " agents: the queue would grow without bound"));
  }
  double b = 1;  // Erlang B with k agents, by the stable recursion
  for (int k = 1; k <= n; ++k) b = a * b / (k + a * b);
  const double rho = a / n;
  const double c = b / (1 - rho + rho * b);
  QueueFigures f;
  f.p_wait = c;
  f.asa_seconds = c * m.aht_seconds / (n - a);
  f.service_level =
      1 - c * std::exp(-(n - a) * m.target_seconds / m.aht_seconds);
  f.abandon_ratio = 0;
  f.occupancy = rho;
  return f;
}

absl::StatusOr<QueueFigures> ErlangA(const QueueModel& m) {
  if (absl::Status s = CheckModel(m); !s.ok()) return s;
  if (!(m.patience_seconds > 0) || !std::isfinite(m.patience_seconds)) {
    return absl::InvalidArgumentError("patience must be positive");
  }
  const double lambda = m.arrivals_per_second;
  const double mu = 1 / m.aht_seconds;
  const double theta = 1 / m.patience_seconds;
  const int n = m.agents;
  const double n_mu = n * mu;

  // log pi_k up to where the tail is negligible (past the mode, the terms
  // fall and then fall faster, as hang-ups grow with the queue).
  std::vector<double> log_pi = {0};
  double log_max = 0;
  const double log_lambda = std::log(lambda);
  for (int k = 1;; ++k) {
    const double death = std::min(k, n) * mu + std::max(k - n, 0) * theta;
    const double next = log_pi.back() + log_lambda - std::log(death);
    log_pi.push_back(next);
    log_max = std::max(log_max, next);
    if (k > n && lambda < death && next < log_max + std::log(1e-15) - 10) {
      break;
    }
    if (k - n > kMaxQueueStates) {
      return absl::InvalidArgumentError(
          "patience too long for the exact Erlang A computation; use Erlang "
          "C (no patience)");
    }
  }
  std::vector<double> pi(log_pi.size());
  double total = 0;
  for (size_t k = 0; k < pi.size(); ++k) {
    pi[k] = std::exp(log_pi[k] - log_max);
    total += pi[k];
  }
  for (double& p : pi) p /= total;

  double answered_at_once = 0;
  for (int k = 0; k < n; ++k) answered_at_once += pi[k];
  // q[j]: an arrival finds all agents busy and j contacts waiting.
  const std::vector<double> q(pi.begin() + n, pi.end());
  const int max_ahead = static_cast<int>(q.size()) - 1;

  // served[m], answer_time[m]: for a tagged contact with m ahead, the
  // probability it is answered, and E[time to answer; answered].
  std::vector<double> served(q.size()), answer_time(q.size());
  for (int j = 0; j <= max_ahead; ++j) {
    const double up = n_mu + j * theta;  // j = 0: answered
    const double out = up + theta;
    served[j] = up / out * (j == 0 ? 1 : served[j - 1]);
    answer_time[j] =
        served[j] / out + (j == 0 ? 0 : up / out * answer_time[j - 1]);
  }
  double answered = answered_at_once, wait_sum = 0;
  for (int j = 0; j <= max_ahead; ++j) {
    answered += q[j] * served[j];
    wait_sum += q[j] * answer_time[j];
  }

  // Answered within t: uniformize the tagged contact's chain at the
  // largest exit rate and weigh the absorbed mass after k jumps by the
  // Poisson(rate t) probability of k jumps.
  const double rate = n_mu + (max_ahead + 1) * theta;
  const double rt = rate * m.target_seconds;
  const int max_jumps =
      static_cast<int>(std::ceil(rt + 12 * std::sqrt(rt) + 30));
  std::vector<double> v = q, next(q.size());
  double absorbed = 0, within = 0;
  for (int k = 0; k <= max_jumps; ++k) {
    const double weight =
        rt > 0 ? std::exp(-rt + k * std::log(rt) - std::lgamma(k + 1.0))
               : (k == 0 ? 1.0 : 0.0);
    within += weight * absorbed;
    absorbed += v[0] * n_mu / rate;
    for (int j = 0; j <= max_ahead; ++j) {
      const double up = n_mu + j * theta;
      const double stay = 1 - (up + theta) / rate;
      next[j] =
          v[j] * stay +
          (j < max_ahead ? v[j + 1] * (n_mu + (j + 1) * theta) / rate : 0);
    }
    v.swap(next);
  }

  QueueFigures f;
  f.p_wait = 1 - answered_at_once;
  f.abandon_ratio = 1 - answered;
  f.asa_seconds = wait_sum / answered;
  f.service_level = answered_at_once + within;
  f.occupancy = lambda * answered * m.aht_seconds / n;
  return f;
}

absl::StatusOr<QueueFigures> Analytic(const QueueModel& model) {
  return model.patience_seconds > 0 ? ErlangA(model) : ErlangC(model);
}

absl::StatusOr<double> ArrivalRateForServiceLevel(const QueueModel& model,
                                                  double goal) {
  if (!(goal > 0 && goal < 1)) {
    return absl::InvalidArgumentError("goal must be in (0, 1)");
  }
  QueueModel m = model;
  auto service_level = [&m](double rate) -> absl::StatusOr<double> {
    m.arrivals_per_second = rate;
    absl::StatusOr<QueueFigures> f = Analytic(m);
    if (!f.ok()) return f.status();
    return f->service_level;
  };
  // Service level falls as the rate rises. Without hang-ups the rate stays
  // below agents / AHT; with them, the bracket doubles until it holds.
  const double capacity = m.agents / m.aht_seconds;
  double lo = 0, hi = capacity;
  if (m.patience_seconds > 0) {
    for (int i = 0; i < 60; ++i) {
      absl::StatusOr<double> sl = service_level(hi);
      if (!sl.ok()) return sl.status();
      if (*sl < goal) break;
      lo = hi;
      hi *= 2;
    }
  } else if (absl::Status s = service_level(capacity / 2).status(); !s.ok()) {
    return s;
  }
  for (int i = 0; i < 200 && hi - lo > 1e-10 * hi; ++i) {
    const double mid = (lo + hi) / 2;
    absl::StatusOr<double> sl = service_level(mid);
    if (sl.ok() && *sl >= goal) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

double StudentTQuantile(double p, int df) {
  // With x = sqrt(df) tan(u), the t density becomes c cos^(df-1)(u) on
  // [0, pi/2): smooth and bounded, so Simpson's rule is accurate.
  const double nu = df;
  const double c = std::exp(std::lgamma((nu + 1) / 2) - std::lgamma(nu / 2)) /
                   std::sqrt(std::numbers::pi);
  auto mass = [&](double u) {  // P(0 < T < sqrt(df) tan u)
    constexpr int kIntervals = 2000;
    const double h = u / kIntervals;
    double sum = 0;
    for (int i = 0; i <= kIntervals; ++i) {
      const double w = (i == 0 || i == kIntervals) ? 1 : (i % 2 ? 4 : 2);
      sum += w * std::pow(std::cos(i * h), nu - 1);
    }
    return c * sum * h / 3;
  };
  double lo = 0, hi = std::numbers::pi / 2;
  for (int i = 0; i < 60; ++i) {
    const double mid = (lo + hi) / 2;
    (mass(mid) < p - 0.5 ? lo : hi) = mid;
  }
  return std::sqrt(nu) * std::tan((lo + hi) / 2);
}

Estimate EstimateMean(const std::vector<double>& values) {
  Estimate e;
  const int n = static_cast<int>(values.size());
  if (n == 0) return e;
  for (double v : values) e.mean += v;
  e.mean /= n;
  if (n < 2) return e;
  double ss = 0;
  for (double v : values) ss += (v - e.mean) * (v - e.mean);
  e.ci95 = StudentTQuantile(0.975, n - 1) * std::sqrt(ss / (n - 1) / n);
  return e;
}

}  // namespace ccroute::sim
