// Reads simulator scenarios from YAML (bench/scenarios/*.yaml). A scenario
// names its contact types and agent groups:
//
//   name: two-skills
//   contact_selection: service_level   # or fifo
//   agent_selection: longest_idle      # default of every contact type:
//                                      # most_skilled, least_occupied,
//                                      # preserve_coverage, or random
//                                      # (done by the simulator)
//   contact_types:
//     - name: sales                    # also the queue's name
//       arrivals_per_hour: 120
//       aht_seconds: 240               # mean handle time at speed 1
//       handle_time: lognormal         # or exponential (the default)
//       handle_time_sd_seconds: 180    # lognormal only
//       patience_seconds: 90           # exponential mean; 0: never hang up
//       target_seconds: 20
//       priority: 0
//       requires: {sales: 3}           # skill: minimum level, in order
//       agent_selection: most_skilled  # overrides the scenario's
//   agent_groups:
//     - name: blend
//       agents: 10
//       skills: {sales: 5, support: 3}
//       speed: 1.0                     # handle times are divided by it
//       wrap_up_seconds: 10
//       accept_delay_seconds: 2        # exponential mean; 0: at once
//
// Unknown keys are errors that name the key. Thread-safe.
#ifndef CCROUTE_BENCH_SCENARIO_FILE_H_
#define CCROUTE_BENCH_SCENARIO_FILE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "bench/simulator.h"

namespace ccroute::sim {

// Parses a scenario from YAML text and validates it (ValidateScenario).
// INVALID_ARGUMENT naming the key and line of the first problem.
absl::StatusOr<Scenario> ParseScenario(std::string_view yaml);

// Reads and parses the file at `path`. NOT_FOUND if it cannot be read.
absl::StatusOr<Scenario> LoadScenarioFile(const std::string& path);

}  // namespace ccroute::sim

#endif  // CCROUTE_BENCH_SCENARIO_FILE_H_
