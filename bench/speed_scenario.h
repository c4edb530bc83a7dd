// `ccroute-bench scenario`: the speed-to-answer scenario driver. Builds a
// contact center at scale S, M or L (bench/workload.h), routes it with the
// ccroute engine and with the naive baseline (bench/naive_router.h), and
// measures each decision with std::chrono::steady_clock around the single
// router call:
//
// - arrival: a contact arrives while agents are idle (about half of them
//   busy, the queues holding `waiting` contacts for a language nobody
//   speaks) and is offered;
// - agent_free: an agent completes a contact while `waiting` contacts wait
//   and is offered the next one;
// - mixed: the calls of a steady center around `waiting` contacts:
//   arrivals, accepts, rejects (5% of offers) and completions, all timed.
//
// It prints p50, p99 and p99.9 in ns and decisions per second (one core:
// 1e9 / mean time per call) as a table, or one JSON object with --json, and
// the memory per agent and per waiting contact from mallinfo2() deltas.
// `--verify` instead runs both routers in lockstep on the same calls and
// fails unless every offer is the same.
#ifndef CCROUTE_BENCH_SPEED_SCENARIO_H_
#define CCROUTE_BENCH_SPEED_SCENARIO_H_

namespace ccroute::bench {

// Runs the scenario mode; argv[0] is the word "scenario". Returns the
// process exit code (0 success, 1 verification or engine failure, 2 bad
// flags).
int RunScenario(int argc, char** argv);

}  // namespace ccroute::bench

#endif  // CCROUTE_BENCH_SPEED_SCENARIO_H_
