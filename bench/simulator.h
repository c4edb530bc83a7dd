// A discrete-event simulator of a contact center that drives the real
// routing engine (ccroute::core) in virtual time. Contacts of each type
// arrive as a Poisson stream into their own queue, carry a handle time
// (exponential or lognormal) and, optionally, an exponential patience after
// which the caller hangs up; agents in groups hold skills, work at a speed,
// take a delay to accept each offer and wrap up after each contact.
//
// Every figure is measured by the simulator from the engine's events, for a
// cohort of contacts by arrival: the first `warmup` arrivals of a
// replication are discarded, the next `contacts` are measured, and the run
// continues (arrivals included) until each measured contact was answered or
// hung up. The engine's own statistics window plays no part.
//
// A run is deterministic for a seed: replications use independent random
// streams derived from (seed, replication), and each contact's handle work
// and patience are drawn at its arrival, so that runs of one scenario under
// different routing policies see the same contacts (common random numbers).
//
// Thread-safe: each replication owns its engine; Simulate runs them on
// several threads and nothing is shared but the read-only scenario.
#ifndef CCROUTE_BENCH_SIMULATOR_H_
#define CCROUTE_BENCH_SIMULATOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/erlang.h"
#include "server/core/config.h"
#include "server/core/types.h"

namespace ccroute::sim {

enum class HandleTimeDistribution { kExponential, kLognormal };

// A stream of contacts into one queue of the same name.
struct ContactType {
  std::string name;
  double arrivals_per_hour = 0;
  HandleTimeDistribution handle_time = HandleTimeDistribution::kExponential;
  double aht_seconds = 180;           // mean handle time at speed 1
  double handle_time_sd_seconds = 0;  // lognormal only
  // Mean of the exponential patience; 0: callers never hang up.
  double patience_seconds = 0;
  double target_seconds = 20;  // service-level target
  int priority = 0;
  // The queue's requirements; none: every agent may take these contacts.
  std::vector<core::SkillRequirement> requirements;
  core::AgentSelection agent_selection = core::AgentSelection::kLongestIdle;
};

// Agents alike in skills and behaviour. All take voice, one at a time.
struct AgentGroup {
  std::string name;
  int agents = 1;
  std::vector<core::Skill> skills;
  double speed = 1;  // handle times are divided by it
  double wrap_up_seconds = 0;
  // Mean of the exponential delay from offer to accept; 0 accepts at the
  // offer instant. Offers are always accepted.
  double accept_delay_seconds = 0;
};

struct Scenario {
  std::string name;
  std::vector<ContactType> contact_types;
  std::vector<AgentGroup> agent_groups;
  core::ContactSelection contact_selection =
      core::ContactSelection::kServiceLevel;
  // Random agent selection, done by the simulator (the engine has no such
  // policy): each arrival goes to an idle agent chosen uniformly at random.
  // The simulator keeps exactly one idle agent READY in the engine, drawn
  // by reservoir sampling as agents fall idle, and the others NOT_READY; a
  // contact that finds no idle agent waits as usual. Needs every agent to
  // be eligible for every contact type. Overrides the types' policies.
  bool random_agent_selection = false;
};

// INVALID_ARGUMENT naming the first bad field: duplicate or empty names,
// non-positive rates, handle times, counts or speeds, a lognormal without
// spread, a contact type no agent can take, or random selection with an
// agent not eligible for every type. The engine validates the rest (skill
// names and levels) when the scenario is loaded into it.
absl::Status ValidateScenario(const Scenario& scenario);

// Scales every arrival rate by `factor` (> 0).
void ScaleLoad(Scenario& scenario, double factor);

// The single-queue centre of `model`: one contact type "queue" without
// requirements (exponential handle times, exponential patience if given),
// and one group "agents" of model.agents agents without skills, wrap-up or
// accept delay: the M/M/n(+M) system of Erlang C (A).
Scenario SingleQueueScenario(const QueueModel& model);

// The skill chain of the routing study: `types` contact types type1 ..
// typeN, each a queue requiring its own skill (level >= 1), sharing
// `total_arrivals_per_hour` equally, with exponential handle times of mean
// `aht_seconds`, target `target_seconds` and patience `patience_seconds`
// (0: none); and `types` groups of `agents_per_group` agents, group i
// holding skill i at level 8 (its primary skill) and the next
// `skills_per_agent` - 1 skills around the circle at level 4. With 2 skills
// that is the chain 1-2, 2-3, ..., N-1; with N skills every agent holds
// every skill (one pooled queue in effect).
struct ChainOptions {
  int types = 6;
  int agents_per_group = 15;
  int skills_per_agent = 2;
  double aht_seconds = 300;
  double target_seconds = 20;
  double patience_seconds = 0;
  double total_arrivals_per_hour = 0;
};
Scenario ChainScenario(const ChainOptions& options);

// How much to simulate. A replication keeps a record of about 40 bytes per
// contact it created until it ends.
struct RunOptions {
  int64_t contacts = 100'000;  // measured per replication
  int64_t warmup = -1;         // discarded first; -1: max(1000, contacts/10)
  int replications = 10;
  uint64_t seed = 1;
  int threads = 0;  // replications run in parallel; 0: one per core
};

// Counts for the measured contacts of one queue (or all) in a replication.
struct Tally {
  int64_t arrived = 0;
  int64_t answered = 0;
  int64_t answered_within_target = 0;
  int64_t waited = 0;  // not offered at the instant of arrival
  int64_t abandoned = 0;
  double wait_seconds = 0;  // summed over the answered

  void Add(const Tally& other);
};

// One replication's measurements.
struct ReplicationResult {
  std::vector<Tally> queues;  // in contact-type order
  Tally overall;
  // Agent time with an offer or a contact (wrap-up included), and staffed
  // time, over the window from the first to the last measured arrival.
  std::vector<double> group_busy_seconds;
  std::vector<double> group_staffed_seconds;
  double window_seconds = 0;
  int64_t contacts_created = 0;  // warm-up and drain included
  int64_t engine_events = 0;
};

// Figures with 95% confidence half-widths over replications. A figure
// without data in some replication (e.g. ASA with nothing answered) is
// estimated from the others.
struct QueueEstimates {
  std::string name;
  double target_seconds = 0;
  int64_t contacts = 0;  // measured, all replications
  Estimate service_level, asa_seconds, p_wait, abandon_ratio;
};

struct Report {
  std::vector<QueueEstimates> queues;
  QueueEstimates overall;
  std::vector<Estimate> group_occupancy;  // in agent-group order
  Estimate occupancy;                     // all agents
  std::vector<ReplicationResult> replications;
};

// Runs replication `index` (0-based) of `scenario`. INVALID_ARGUMENT for a
// scenario the engine refuses; INTERNAL if the engine refused a call the
// simulator expected to succeed or broke an invariant at the end.
absl::StatusOr<ReplicationResult> SimulateReplication(const Scenario& scenario,
                                                      const RunOptions& options,
                                                      int index);

// Runs all replications (in parallel, results independent of the thread
// count) and estimates the figures. The first error of any replication.
absl::StatusOr<Report> Simulate(const Scenario& scenario,
                                const RunOptions& options);

// The number of warm-up contacts `options` asks for.
int64_t WarmupContacts(const RunOptions& options);

}  // namespace ccroute::sim

#endif  // CCROUTE_BENCH_SIMULATOR_H_
