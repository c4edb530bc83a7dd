// ccroute-sim: the discrete-event simulator over the routing engine (see
// bench/simulator.h), with three commands: `erlang` checks one queue against
// Erlang C or Erlang A, `run` simulates a scenario file, and `chain` runs
// the skill-based routing study (a chain of two-skill agents against the
// pooled and separated Erlang C bounds).

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/erlang.h"
#include "bench/json_string.h"
#include "bench/scenario_file.h"
#include "bench/simulator.h"
#include "server/core/types.h"

namespace ccroute::sim {
namespace {

constexpr char kUsage[] = R"(usage: ccroute-sim COMMAND [flags]

A discrete-event simulation of a contact center on the ccroute routing engine
in virtual time. Figures are measured for a cohort of contacts by arrival,
after a warm-up, over independent replications, each with its 95% confidence
interval (Student t over the replications):
  service level   share of arriving contacts answered within the target
                  (a contact that hung up counts as not answered in time)
  ASA             average speed of answer over the answered contacts
  P(wait)         share of contacts not offered at the instant they arrived
  abandon ratio   share of contacts that hung up before being answered
  occupancy       agent time with an offer or a contact (wrap-up included)
                  over staffed time

Commands:
  erlang --arrivals-per-hour R --aht SECONDS --agents N --target SECONDS
         [--patience SECONDS] [--handle-sd SECONDS]
      One queue, exponential handle times (lognormal with --handle-sd),
      beside the analytic figures: Erlang C, or Erlang A (M/M/n+M) when
      callers hang up after an exponential --patience.
  run FILE [--contact-selection service_level|fifo]
           [--agent-selection longest_idle|most_skilled|least_occupied|
                              preserve_coverage|random]
           [--load-scale F]
      A scenario file (bench/scenarios/*.yaml). The flags override the
      file's routing policy and scale every arrival rate.
  chain [--skills K] [--aht SECONDS] [--patience SECONDS]
        [--occupancy LIST] [--policies LIST] [--data FILE]
      The skill-based routing study: 6 contact types, 90 agents in 6 groups
      of 15 holding K skills (default 2) in a chain (1-2, 2-3, ..., 6-1),
      under each of ccroute's routing policies (or those --policies names,
      e.g. service_level/longest_idle,fifo/preserve_coverage), against the
      pooled Erlang C bound (90 agents with every skill; Erlang A with
      --patience), six separate queues of 15, and every agent holding every
      skill simulated on the same contacts. Loads: "design" (the pooled system answers 80%
      in 20 s) and each listed occupancy, offered load / agents (default
      design,0.80,0.85,0.90,0.95,0.98). --data writes a gnuplot table.

Flags for every command:
  --contacts K       measured contacts per replication (default 100000)
  --warmup W         contacts discarded first (default max(1000, K/10))
  --replications M   independent replications (default 10)
  --seed S           seed (default 1); a seed gives the same figures
  --threads T        replications run in parallel (default: cores)
  --json             print JSON instead of tables
  --help             print this help
)";

// Parsed command line: flags with values, boolean flags, and positional
// arguments.
struct CommandLine {
  std::string command;
  std::map<std::string, std::string> values;
  std::set<std::string> switches;
  std::vector<std::string> positional;
};

constexpr std::string_view kSwitches[] = {"--json", "--help"};

absl::StatusOr<CommandLine> ParseCommandLine(
    int argc, char** argv, const std::set<std::string>& value_flags) {
  CommandLine cl;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      if (cl.command.empty()) {
        cl.command = std::string(arg);
      } else {
        cl.positional.emplace_back(arg);
      }
      continue;
    }
    std::string name(arg), value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = std::string(arg.substr(0, eq));
      value = std::string(arg.substr(eq + 1));
      has_value = true;
    }
    bool is_switch = false;
    for (std::string_view s : kSwitches) is_switch = is_switch || s == name;
    if (is_switch && !has_value) {
      cl.switches.insert(name);
      continue;
    }
    if (!value_flags.contains(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag '", std::string(arg), "'"));
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(absl::StrCat(name, " needs a value"));
      }
      value = argv[++i];
    }
    cl.values[name] = value;
  }
  return cl;
}

template <typename T>
absl::StatusOr<T> ParseNumber(std::string_view name, std::string_view text,
                              T min, T max) {
  T v{};
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || !(v >= min) ||
      !(v <= max)) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(name), ": '", std::string(text), "' is not a number in ",
        absl::StrFormat("%g", static_cast<double>(min)), "..",
        absl::StrFormat("%g", static_cast<double>(max))));
  }
  return v;
}

// The flag's number, `fallback` when absent; nullopt fallback: required.
template <typename T>
absl::StatusOr<T> Get(const CommandLine& cl, const std::string& name,
                      std::optional<T> fallback, T min, T max) {
  auto it = cl.values.find(name);
  if (it == cl.values.end()) {
    if (fallback) return *fallback;
    return absl::InvalidArgumentError(absl::StrCat(name, " is required"));
  }
  return ParseNumber<T>(name, it->second, min, max);
}

constexpr double kHuge = 1e12;

absl::StatusOr<RunOptions> GetRunOptions(const CommandLine& cl) {
  RunOptions o;
  auto contacts = Get<int64_t>(cl, "--contacts", 100'000, 1, 1'000'000'000);
  auto warmup = Get<int64_t>(cl, "--warmup", -1, 0, 1'000'000'000);
  auto reps = Get<int>(cl, "--replications", 10, 1, 100'000);
  auto seed =
      Get<uint64_t>(cl, "--seed", 1, 0, std::numeric_limits<uint64_t>::max());
  auto threads = Get<int>(cl, "--threads", 0, 1, 1024);
  for (const absl::Status& s :
       {contacts.status(), warmup.status(), reps.status(), seed.status(),
        threads.status()}) {
    if (!s.ok()) return s;
  }
  o.contacts = *contacts;
  o.warmup = cl.values.contains("--warmup") ? *warmup : -1;
  o.replications = *reps;
  o.seed = *seed;
  o.threads = cl.values.contains("--threads") ? *threads : 0;
  return o;
}

int Threads(const RunOptions& o) {
  int t = o.threads > 0 ? o.threads
                        : static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, std::min(t, o.replications));
}

std::string RunLine(const RunOptions& o) {
  return absl::StrFormat(
      "%d replications x %d contacts (warm-up %d), seed %d, %d threads",
      o.replications, o.contacts, WarmupContacts(o), o.seed, Threads(o));
}

// "0.8881 ± 0.0024" with `digits` decimals.
std::string Pm(const Estimate& e, int digits) {
  return absl::StrFormat("%.*f ± %.*f", digits, e.mean, digits, e.ci95);
}

std::string Json(const Estimate& e) {
  return absl::StrFormat(R"({"mean":%.6g,"ci95":%.6g})", e.mean, e.ci95);
}

std::string JsonFigures(const QueueEstimates& q) {
  return absl::StrFormat(
      R"("service_level":%s,"asa_seconds":%s,"p_wait":%s,"abandon_ratio":%s)",
      Json(q.service_level), Json(q.asa_seconds), Json(q.p_wait),
      Json(q.abandon_ratio));
}

std::string JsonAnalytic(const QueueFigures& f) {
  return absl::StrFormat(
      R"({"service_level":%.6g,"asa_seconds":%.6g,"p_wait":%.6g,)"
      R"("abandon_ratio":%.6g,"occupancy":%.6g})",
      f.service_level, f.asa_seconds, f.p_wait, f.abandon_ratio, f.occupancy);
}

using bench::JsonString;

int Fail(const absl::Status& s) {
  absl::FPrintF(stderr, "ccroute-sim: %s\n", s.message());
  return s.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

double WallSeconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

// --- erlang ---------------------------------------------------------------

int RunErlang(const CommandLine& cl) {
  auto rate = Get<double>(cl, "--arrivals-per-hour", std::nullopt, 1e-9, kHuge);
  auto aht = Get<double>(cl, "--aht", std::nullopt, 1e-6, kHuge);
  auto agents = Get<int>(cl, "--agents", std::nullopt, 1, 100'000);
  auto target = Get<double>(cl, "--target", std::nullopt, 0, kHuge);
  auto patience = Get<double>(cl, "--patience", 0.0, 1e-6, kHuge);
  auto handle_sd = Get<double>(cl, "--handle-sd", 0.0, 1e-6, kHuge);
  auto options = GetRunOptions(cl);
  for (const absl::Status& s :
       {rate.status(), aht.status(), agents.status(), target.status(),
        patience.status(), handle_sd.status(), options.status()}) {
    if (!s.ok()) return Fail(s);
  }
  if (!cl.positional.empty()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("erlang takes no argument '", cl.positional[0], "'")));
  }
  const QueueModel model{.arrivals_per_second = *rate / 3600,
                         .aht_seconds = *aht,
                         .agents = *agents,
                         .target_seconds = *target,
                         .patience_seconds = *patience};
  absl::StatusOr<QueueFigures> analytic = Analytic(model);
  if (!analytic.ok()) return Fail(analytic.status());
  Scenario scenario = SingleQueueScenario(model);
  if (*handle_sd > 0) {
    scenario.contact_types[0].handle_time = HandleTimeDistribution::kLognormal;
    scenario.contact_types[0].handle_time_sd_seconds = *handle_sd;
  }
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<Report> report = Simulate(scenario, *options);
  if (!report.ok()) return Fail(report.status());
  const double wall = WallSeconds(start);
  const QueueEstimates& q = report->queues[0];
  const char* formula = *patience > 0 ? "erlang_a" : "erlang_c";

  if (cl.switches.contains("--json")) {
    absl::PrintF(
        R"({"model":{"arrivals_per_hour":%.6g,"aht_seconds":%.6g,)"
        R"("agents":%d,"target_seconds":%.6g,"patience_seconds":%.6g,)"
        R"("handle_time":"%s","handle_time_sd_seconds":%.6g,)"
        R"("analytic_formula":"%s"},)"
        R"("run":{"contacts":%d,"warmup":%d,"replications":%d,"seed":%d},)"
        R"(%s,"occupancy":%s,"analytic":%s})"
        "\n",
        *rate, *aht, *agents, *target, *patience,
        *handle_sd > 0 ? "lognormal" : "exponential", *handle_sd, formula,
        options->contacts, WarmupContacts(*options), options->replications,
        options->seed, JsonFigures(q), Json(report->occupancy),
        JsonAnalytic(*analytic));
    return 0;
  }
  absl::PrintF(
      "ccroute-sim erlang: %g contacts/h, AHT %g s (%s), %d agents, "
      "target %g s, %s\n",
      *rate, *aht,
      *handle_sd > 0 ? absl::StrFormat("lognormal, sd %g s", *handle_sd)
                     : "exponential",
      *agents, *target,
      *patience > 0 ? absl::StrFormat("mean patience %g s", *patience)
                    : "callers never hang up");
  absl::PrintF("offered load %.3f Erlangs; %s; %.1f s of wall time\n\n",
               model.arrivals_per_second * *aht, RunLine(*options), wall);
  absl::PrintF("%-22s %-22s %s\n", "figure", "simulated (95% CI)",
               *patience > 0 ? "Erlang A" : "Erlang C");
  auto row = [](std::string_view name, const Estimate& sim, double exact,
                int digits) {
    absl::PrintF("%-22s %-22s %.*f\n", name, Pm(sim, digits), digits, exact);
  };
  row(absl::StrFormat("service level (%gs)", *target), q.service_level,
      analytic->service_level, 4);
  row("ASA (s)", q.asa_seconds, analytic->asa_seconds, 2);
  row("P(wait)", q.p_wait, analytic->p_wait, 4);
  row("abandon ratio", q.abandon_ratio, analytic->abandon_ratio, 4);
  row("occupancy", report->occupancy, analytic->occupancy, 4);
  if (*handle_sd > 0) {
    absl::PrintF(
        "\nThe analytic figures assume exponential handle times; with a "
        "lognormal one they are only a reference.\n");
  }
  return 0;
}

// --- run ------------------------------------------------------------------

void PrintQueueTable(const Report& r) {
  absl::PrintF("%-14s %7s %10s  %-19s %-17s %-19s %-19s\n", "queue", "target",
               "contacts", "service level", "ASA (s)", "P(wait)",
               "abandon ratio");
  auto row = [](const QueueEstimates& q, std::string target) {
    absl::PrintF("%-14s %7s %10d  %-19s %-17s %-19s %-19s\n", q.name, target,
                 q.contacts, Pm(q.service_level, 4), Pm(q.asa_seconds, 2),
                 Pm(q.p_wait, 4), Pm(q.abandon_ratio, 4));
  };
  for (const QueueEstimates& q : r.queues) {
    row(q, absl::StrFormat("%gs", q.target_seconds));
  }
  row(r.overall, "");
}

int RunScenario(const CommandLine& cl) {
  if (cl.positional.size() != 1) {
    return Fail(absl::InvalidArgumentError("run takes one scenario FILE"));
  }
  auto options = GetRunOptions(cl);
  auto scale = Get<double>(cl, "--load-scale", 1.0, 1e-9, 1e6);
  if (!options.ok()) return Fail(options.status());
  if (!scale.ok()) return Fail(scale.status());
  absl::StatusOr<Scenario> scenario = LoadScenarioFile(cl.positional[0]);
  if (!scenario.ok()) return Fail(scenario.status());
  if (auto it = cl.values.find("--contact-selection"); it != cl.values.end()) {
    auto c = core::ParseContactSelection(it->second);
    if (!c) {
      return Fail(absl::InvalidArgumentError(
          "--contact-selection: service_level or fifo"));
    }
    scenario->contact_selection = *c;
  }
  if (auto it = cl.values.find("--agent-selection"); it != cl.values.end()) {
    scenario->random_agent_selection = it->second == "random";
    if (!scenario->random_agent_selection) {
      auto a = core::ParseAgentSelection(it->second);
      if (!a) {
        return Fail(absl::InvalidArgumentError(
            "--agent-selection: longest_idle, most_skilled, least_occupied, "
            "preserve_coverage or random"));
      }
      for (ContactType& t : scenario->contact_types) t.agent_selection = *a;
    }
  }
  ScaleLoad(*scenario, *scale);
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<Report> report = Simulate(*scenario, *options);
  if (!report.ok()) return Fail(report.status());
  const double wall = WallSeconds(start);

  if (cl.switches.contains("--json")) {
    std::string out = absl::StrFormat(
        R"({"scenario":%s,"file":%s,"load_scale":%.6g,)"
        R"("contact_selection":"%s","random_agent_selection":%s,)"
        R"("run":{"contacts":%d,"warmup":%d,"replications":%d,"seed":%d},)"
        R"("queues":[)",
        JsonString(scenario->name), JsonString(cl.positional[0]), *scale,
        core::ContactSelectionName(scenario->contact_selection),
        scenario->random_agent_selection ? "true" : "false", options->contacts,
        WarmupContacts(*options), options->replications, options->seed);
    for (size_t i = 0; i < report->queues.size(); ++i) {
      const QueueEstimates& q = report->queues[i];
      absl::StrAppendFormat(
          &out, R"(%s{"name":%s,"target_seconds":%.6g,"contacts":%d,%s})",
          i ? "," : "", JsonString(q.name), q.target_seconds, q.contacts,
          JsonFigures(q));
    }
    absl::StrAppendFormat(&out,
                          R"(],"overall":{"contacts":%d,%s,"occupancy":%s},)"
                          R"("agent_groups":[)",
                          report->overall.contacts,
                          JsonFigures(report->overall),
                          Json(report->occupancy));
    for (size_t g = 0; g < scenario->agent_groups.size(); ++g) {
      const AgentGroup& group = scenario->agent_groups[g];
      absl::StrAppendFormat(
          &out, R"(%s{"name":%s,"agents":%d,"speed":%.6g,"occupancy":%s})",
          g ? "," : "", JsonString(group.name), group.agents, group.speed,
          Json(report->group_occupancy[g]));
    }
    absl::PrintF("%s]}\n", out);
    return 0;
  }
  std::string agent_selection = "random (simulator)";
  if (!scenario->random_agent_selection) {
    agent_selection =
        core::AgentSelectionName(scenario->contact_types[0].agent_selection);
    for (const ContactType& t : scenario->contact_types) {
      if (t.agent_selection != scenario->contact_types[0].agent_selection) {
        agent_selection = "per contact type";
      }
    }
  }
  absl::PrintF(
      "ccroute-sim run %s: \"%s\", load x%g, contact selection %s, agent "
      "selection %s\n",
      cl.positional[0], scenario->name, *scale,
      core::ContactSelectionName(scenario->contact_selection), agent_selection);
  absl::PrintF("%s; %.1f s of wall time\n\n", RunLine(*options), wall);
  PrintQueueTable(*report);
  absl::PrintF("\n%-14s %7s %6s  %s\n", "agent group", "agents", "speed",
               "occupancy");
  for (size_t g = 0; g < scenario->agent_groups.size(); ++g) {
    const AgentGroup& group = scenario->agent_groups[g];
    absl::PrintF("%-14s %7d %6g  %s\n", group.name, group.agents, group.speed,
                 Pm(report->group_occupancy[g], 4));
  }
  absl::PrintF("%-14s %7s %6s  %s\n", "all", "", "", Pm(report->occupancy, 4));
  return 0;
}

// --- chain ----------------------------------------------------------------

constexpr int kChainTypes = 6;
constexpr int kChainGroupSize = 15;
constexpr int kChainAgents = kChainTypes * kChainGroupSize;
constexpr double kChainTarget = 20;
constexpr double kChainGoal = 0.8;

struct Policy {
  core::ContactSelection contact;
  core::AgentSelection agent;
};
constexpr core::ContactSelection kContactSelections[] = {
    core::ContactSelection::kServiceLevel, core::ContactSelection::kFifo};
constexpr core::AgentSelection kAgentSelections[] = {
    core::AgentSelection::kLongestIdle, core::AgentSelection::kMostSkilled,
    core::AgentSelection::kLeastOccupied,
    core::AgentSelection::kPreserveCoverage};

std::string PolicyName(const Policy& p) {
  return absl::StrFormat("%s/%s", core::ContactSelectionName(p.contact),
                         core::AgentSelectionName(p.agent));
}

// The policies named in `list` ("CONTACT/AGENT,..."), or every combination
// of ccroute's contact and agent selections when it is empty.
absl::StatusOr<std::vector<Policy>> ParsePolicies(absl::string_view list) {
  std::vector<Policy> policies;
  if (list.empty()) {
    for (core::ContactSelection c : kContactSelections) {
      for (core::AgentSelection a : kAgentSelections) {
        policies.push_back({c, a});
      }
    }
    return policies;
  }
  for (absl::string_view item : absl::StrSplit(list, ',')) {
    std::vector<absl::string_view> parts = absl::StrSplit(item, '/');
    std::optional<core::ContactSelection> c;
    std::optional<core::AgentSelection> a;
    if (parts.size() == 2) {
      c = core::ParseContactSelection(
          std::string_view(parts[0].data(), parts[0].size()));
      a = core::ParseAgentSelection(
          std::string_view(parts[1].data(), parts[1].size()));
    }
    if (!c || !a) {
      return absl::InvalidArgumentError(
          absl::StrCat("--policies: '", std::string(item),
                       "' is not CONTACT_SELECTION/AGENT_SELECTION, e.g. "
                       "service_level/longest_idle"));
    }
    policies.push_back({*c, *a});
  }
  return policies;
}

struct LoadPoint {
  bool design = false;
  double occupancy = 0;  // offered load / agents
  double arrivals_per_second = 0;
  QueueFigures pooled, separate;  // analytic
  Report all_skills;              // simulated, every agent every skill
  std::vector<Report> policies;   // simulated chain, per policy
  std::vector<Estimate> gaps;     // all_skills - policy, service level
};

double ServiceLevel(const Tally& t) {
  return t.arrived ? static_cast<double>(t.answered_within_target) /
                         static_cast<double>(t.arrived)
                   : 0;
}

// The service level of `a` minus that of `b`, paired by replication: both
// saw the same contacts, so the difference is far more precise than
// either figure.
Estimate PairedGap(const Report& a, const Report& b) {
  std::vector<double> gaps;
  for (size_t r = 0; r < a.replications.size(); ++r) {
    gaps.push_back(ServiceLevel(a.replications[r].overall) -
                   ServiceLevel(b.replications[r].overall));
  }
  return EstimateMean(gaps);
}

int RunChain(const CommandLine& cl) {
  if (!cl.positional.empty()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("chain takes no argument '", cl.positional[0], "'")));
  }
  auto options = GetRunOptions(cl);
  auto aht = Get<double>(cl, "--aht", 300.0, 1e-3, 1e6);
  auto skills = Get<int>(cl, "--skills", 2, 1, kChainTypes);
  auto patience = Get<double>(cl, "--patience", 0.0, 1e-3, 1e9);
  auto it_policies = cl.values.find("--policies");
  auto parsed_policies =
      ParsePolicies(it_policies == cl.values.end() ? "" : it_policies->second);
  for (const absl::Status& s : {options.status(), aht.status(), skills.status(),
                                patience.status(), parsed_policies.status()}) {
    if (!s.ok()) return Fail(s);
  }
  const std::vector<Policy>& policies = *parsed_policies;
  const int policy_count = static_cast<int>(policies.size());
  const QueueModel pooled_model{.aht_seconds = *aht,
                                .agents = kChainAgents,
                                .target_seconds = kChainTarget,
                                .patience_seconds = *patience};
  auto design_rate = ArrivalRateForServiceLevel(pooled_model, kChainGoal);
  if (!design_rate.ok()) return Fail(design_rate.status());

  std::vector<LoadPoint> points;
  std::string list = "design,0.80,0.85,0.90,0.95,0.98";
  if (auto it = cl.values.find("--occupancy"); it != cl.values.end()) {
    list = it->second;
  }
  for (absl::string_view item : absl::StrSplit(list, ',')) {
    LoadPoint& p = points.emplace_back();
    if (item == "design") {
      p.design = true;
      p.arrivals_per_second = *design_rate;
      p.occupancy = *design_rate * *aht / kChainAgents;
      continue;
    }
    auto occ = ParseNumber<double>("--occupancy",
                                   std::string_view(item.data(), item.size()),
                                   0.01, *patience > 0 ? 10.0 : 0.999);
    if (!occ.ok()) return Fail(occ.status());
    p.occupancy = *occ;
    p.arrivals_per_second = *occ * kChainAgents / *aht;
  }

  std::stable_sort(points.begin(), points.end(),
                   [](const LoadPoint& a, const LoadPoint& b) {
                     return a.occupancy < b.occupancy;
                   });
  const auto start = std::chrono::steady_clock::now();
  for (LoadPoint& p : points) {
    QueueModel pooled = pooled_model;
    pooled.arrivals_per_second = p.arrivals_per_second;
    QueueModel separate = pooled;
    separate.arrivals_per_second /= kChainTypes;
    separate.agents = kChainGroupSize;
    auto a = Analytic(pooled), b = Analytic(separate);
    if (!a.ok()) return Fail(a.status());
    if (!b.ok()) return Fail(b.status());
    p.pooled = *a;
    p.separate = *b;
    ChainOptions chain{.types = kChainTypes,
                       .agents_per_group = kChainGroupSize,
                       .skills_per_agent = kChainTypes,
                       .aht_seconds = *aht,
                       .target_seconds = kChainTarget,
                       .patience_seconds = *patience,
                       .total_arrivals_per_hour = p.arrivals_per_second * 3600};
    absl::StatusOr<Report> all = Simulate(ChainScenario(chain), *options);
    if (!all.ok()) return Fail(all.status());
    p.all_skills = *std::move(all);
    chain.skills_per_agent = *skills;
    for (const Policy& policy : policies) {
      Scenario s = ChainScenario(chain);
      s.contact_selection = policy.contact;
      for (ContactType& t : s.contact_types) t.agent_selection = policy.agent;
      absl::StatusOr<Report> r = Simulate(s, *options);
      if (!r.ok()) return Fail(r.status());
      p.gaps.push_back(PairedGap(p.all_skills, *r));
      p.policies.push_back(*std::move(r));
    }
  }
  const double wall = WallSeconds(start);

  if (auto it = cl.values.find("--data"); it != cl.values.end()) {
    std::ofstream data(it->second);
    data << "# ccroute-sim chain: occupancy; service level of the pooled "
            "and the separate Erlang model; all skills simulated (mean "
            "ci95); then mean and ci95 per policy:\n#";
    for (const Policy& policy : policies) data << " " << PolicyName(policy);
    data << "\n";
    for (const LoadPoint& p : points) {
      data << absl::StrFormat("%.4f %.5f %.5f %.5f %.5f", p.occupancy,
                              p.pooled.service_level, p.separate.service_level,
                              p.all_skills.overall.service_level.mean,
                              p.all_skills.overall.service_level.ci95);
      for (const Report& r : p.policies) {
        data << absl::StrFormat(" %.5f %.5f", r.overall.service_level.mean,
                                r.overall.service_level.ci95);
      }
      data << "\n";
    }
    if (!data) {
      return Fail(absl::UnavailableError(
          absl::StrCat("could not write '", it->second, "'")));
    }
  }

  if (cl.switches.contains("--json")) {
    std::string out = absl::StrFormat(
        R"({"types":%d,"agents":%d,"skills_per_agent":%d,"aht_seconds":%.6g,)"
        R"("target_seconds":%.6g,"patience_seconds":%.6g,)"
        R"("run":{"contacts":%d,"warmup":%d,"replications":%d,"seed":%d},)"
        R"("points":[)",
        kChainTypes, kChainAgents, *skills, *aht, kChainTarget, *patience,
        options->contacts, WarmupContacts(*options), options->replications,
        options->seed);
    for (size_t i = 0; i < points.size(); ++i) {
      const LoadPoint& p = points[i];
      absl::StrAppendFormat(
          &out,
          R"(%s{"design":%s,"occupancy":%.6g,"arrivals_per_hour":%.6g,)"
          R"("pooled":%s,"separate":%s,"all_skills":{%s},"policies":[)",
          i ? "," : "", p.design ? "true" : "false", p.occupancy,
          p.arrivals_per_second * 3600, JsonAnalytic(p.pooled),
          JsonAnalytic(p.separate), JsonFigures(p.all_skills.overall));
      for (int k = 0; k < policy_count; ++k) {
        const Report& r = p.policies[k];
        absl::StrAppendFormat(
            &out,
            R"(%s{"contact_selection":"%s","agent_selection":"%s",%s,)"
            R"("occupancy":%s,"gap_to_all_skills":%s,)"
            R"("queue_service_levels":[)",
            k ? "," : "", core::ContactSelectionName(policies[k].contact),
            core::AgentSelectionName(policies[k].agent), JsonFigures(r.overall),
            Json(r.occupancy), Json(p.gaps[k]));
        for (size_t q = 0; q < r.queues.size(); ++q) {
          absl::StrAppendFormat(&out, "%s%s", q ? "," : "",
                                Json(r.queues[q].service_level));
        }
        out += "]}";
      }
      out += "]}";
    }
    absl::PrintF("%s]}\n", out);
    return 0;
  }

  absl::PrintF(
      "ccroute-sim chain: %d contact types, %d agents in %d groups of %d, "
      "each agent holding %d skill%s around the circle (primary level 8, "
      "others 4); AHT %g s exponential, target %g s, %s.\n",
      kChainTypes, kChainAgents, kChainTypes, kChainGroupSize, *skills,
      *skills == 1 ? "" : "s", *aht, kChainTarget,
      *patience > 0 ? absl::StrFormat("mean patience %g s", *patience)
                    : "callers never hang up");
  absl::PrintF(
      "pooled: Erlang %s, %d agents; separate: Erlang %s, %d queues of %d; "
      "all skills: simulated with every agent holding every skill.\n",
      *patience > 0 ? "A" : "C", kChainAgents, *patience > 0 ? "A" : "C",
      kChainTypes, kChainGroupSize);
  absl::PrintF("Each simulated point: %s; %.0f s of wall time in all.\n",
               RunLine(*options), wall);
  auto table = [&](std::string_view title, auto analytic, auto simulated,
                   int digits) {
    absl::PrintF("\n%s\n%-15s %7s %7s %8s %16s", title, "occupancy", "calls/h",
                 "pooled", "separate", "all skills");
    for (const Policy& policy : policies) {
      absl::PrintF(" %18s", PolicyName(policy));
    }
    absl::PrintF("\n");
    for (const LoadPoint& p : points) {
      absl::PrintF(
          "%-15s %7.0f %7.*f %8.*f %16s",
          absl::StrFormat("%.4f%s", p.occupancy, p.design ? " design" : ""),
          p.arrivals_per_second * 3600, digits, analytic(p.pooled), digits,
          analytic(p.separate), Pm(simulated(p.all_skills.overall), digits));
      for (const Report& r : p.policies) {
        absl::PrintF(" %18s", Pm(simulated(r.overall), digits));
      }
      absl::PrintF("\n");
    }
  };
  table(
      absl::StrFormat("Service level (answered within %g s):", kChainTarget),
      [](const QueueFigures& f) { return f.service_level; },
      [](const QueueEstimates& q) { return q.service_level; }, 4);
  table(
      "ASA (s):", [](const QueueFigures& f) { return f.asa_seconds; },
      [](const QueueEstimates& q) { return q.asa_seconds; }, 2);
  table(
      "P(wait):", [](const QueueFigures& f) { return f.p_wait; },
      [](const QueueEstimates& q) { return q.p_wait; }, 4);
  if (*patience > 0) {
    table(
        "Abandon ratio:", [](const QueueFigures& f) { return f.abandon_ratio; },
        [](const QueueEstimates& q) { return q.abandon_ratio; }, 4);
  }
  absl::PrintF(
      "\nService level points below all skills, paired by replication:\n"
      "%-15s",
      "occupancy");
  for (const Policy& policy : policies) {
    absl::PrintF(" %18s", PolicyName(policy));
  }
  absl::PrintF("\n");
  for (const LoadPoint& p : points) {
    absl::PrintF("%-15s", absl::StrFormat("%.4f%s", p.occupancy,
                                          p.design ? " design" : ""));
    for (const Estimate& gap : p.gaps) {
      absl::PrintF(" %18s", absl::StrFormat("%.2f ± %.2f", 100 * gap.mean,
                                            100 * gap.ci95));
    }
    absl::PrintF("\n");
  }
  for (const LoadPoint& p : points) {
    if (!p.design) continue;
    int best = 0;
    for (int k = 1; k < policy_count; ++k) {
      if (p.gaps[k].mean < p.gaps[best].mean) best = k;
    }
    const Estimate& sl = p.policies[best].overall.service_level;
    absl::PrintF(
        "\nAt the design load the pooled bound is %.4f and separate queues "
        "give %.4f. The best policy, %s, gives %s: %.2f points below the "
        "pooled bound, %.2f ± %.2f below all skills simulated on the same "
        "contacts (goal: within 2).\n",
        p.pooled.service_level, p.separate.service_level,
        PolicyName(policies[best]), Pm(sl, 4),
        100 * (p.pooled.service_level - sl.mean), 100 * p.gaps[best].mean,
        100 * p.gaps[best].ci95);
  }
  return 0;
}

int Main(int argc, char** argv) {
  static const std::set<std::string> kValueFlags = {"--arrivals-per-hour",
                                                    "--aht",
                                                    "--agents",
                                                    "--target",
                                                    "--patience",
                                                    "--handle-sd",
                                                    "--contacts",
                                                    "--warmup",
                                                    "--replications",
                                                    "--seed",
                                                    "--threads",
                                                    "--contact-selection",
                                                    "--agent-selection",
                                                    "--load-scale",
                                                    "--occupancy",
                                                    "--data",
                                                    "--skills",
                                                    "--policies"};
  absl::StatusOr<CommandLine> cl = ParseCommandLine(argc, argv, kValueFlags);
  if (!cl.ok()) {
    absl::FPrintF(stderr, "ccroute-sim: %s\n\n%s", cl.status().message(),
                  kUsage);
    return 2;
  }
  if (cl->switches.contains("--help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  static const std::set<std::string> kCommon = {
      "--contacts", "--warmup", "--replications", "--seed", "--threads"};
  static const std::map<std::string, std::set<std::string>> kCommandFlags = {
      {"erlang",
       {"--arrivals-per-hour", "--aht", "--agents", "--target", "--patience",
        "--handle-sd"}},
      {"run", {"--contact-selection", "--agent-selection", "--load-scale"}},
      {"chain",
       {"--aht", "--occupancy", "--data", "--skills", "--patience",
        "--policies"}}};
  if (auto it = kCommandFlags.find(cl->command); it != kCommandFlags.end()) {
    for (const auto& [flag, value] : cl->values) {
      if (!kCommon.contains(flag) && !it->second.contains(flag)) {
        absl::FPrintF(stderr, "ccroute-sim: %s does not take %s\n\n%s",
                      cl->command, flag, kUsage);
        return 2;
      }
    }
  }
  if (cl->command == "erlang") return RunErlang(*cl);
  if (cl->command == "run") return RunScenario(*cl);
  if (cl->command == "chain") return RunChain(*cl);
  absl::FPrintF(stderr, "ccroute-sim: %s\n\n%s",
                cl->command.empty()
                    ? std::string("no command given")
                    : absl::StrCat("unknown command '", cl->command, "'"),
                kUsage);
  return 2;
}

}  // namespace
}  // namespace ccroute::sim

int main(int argc, char** argv) { return ccroute::sim::Main(argc, argv); }
