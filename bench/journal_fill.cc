// ccroute-journal-fill: writes N live contacts into a journal directory
// through ccrouted's own write path, so that a ccrouted started on the
// directory recovers them for real: the routing engine on its runner thread
// creates each contact (one command per contact, as a gateway's
// CreateContact), and the journal observer writes the contact and every
// later change into a RocksDbJournal. No agent logs in, so every contact
// stays waiting (or scheduled, for callbacks). For measuring recovery at
// sizes that take too long to fill over gRPC (bench/journal_recovery.sh,
// bench/RESULTS.md). `--help` lists the flags.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "bench/json_string.h"
#include "server/api/config_file.h"
#include "server/core/config.h"
#include "server/core/engine.h"
#include "server/journal/journal_observer.h"
#include "server/journal/rocksdb_journal.h"
#include "server/runtime/engine_runner.h"

namespace ccroute::bench {
namespace {

namespace fs = std::filesystem;

constexpr char kUsage[] =
    R"(Usage: ccroute-journal-fill --data-dir DIR --contacts N [options]

Writes N live contacts into a new journal in DIR through ccrouted's own
write path (the routing engine creates each contact, the journal observer
writes it), for the queues of a configuration. No agent logs in: every
contact waits, or is scheduled if it is a callback. Start ccrouted on DIR
with the same configuration to recover them.

  --data-dir DIR      the journal directory; must be missing or empty
  --contacts N        contacts to create
  --config FILE       ccrouted configuration whose queues and agent profiles
                      are used (default: the built-in configuration)
  --seed N            random seed for the mix (default 1)
  --callbacks P       share of callbacks, scheduled 1-2 hours ahead, in
                      queues that take the callback channel (default 0.05)
  --requirements P    share with an extra requirement, language.de >= 5
                      (default 0.1)
  --priorities K      priorities 0..K-1; 70% get 0, the rest spread evenly
                      (default 4)
  --durability MODE   the fill's journal mode: none, interval or sync
                      (default none; the end is synced whatever the mode)
  --json              one JSON object instead of the lines
  --help              this text
)";

struct Flags {
  std::string data_dir;
  int64_t contacts = -1;
  std::string config;
  uint64_t seed = 1;
  double callbacks = 0.05;
  double requirements = 0.1;
  int priorities = 4;
  journal::Durability durability = journal::Durability::kNone;
  bool json = false;
};

bool ParseFlags(int argc, char** argv, Flags& f) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string v;
    auto value = [&] {
      if (i + 1 >= argc) {
        std::cerr << "ccroute-journal-fill: " << arg << " needs a value\n";
        return false;
      }
      v = argv[++i];
      return true;
    };
    auto bad = [&] {
      std::cerr << "ccroute-journal-fill: " << arg << ": bad value '" << v
                << "'\n";
      return false;
    };
    auto share = [&](double& out) {
      if (!value()) return false;
      if (!absl::SimpleAtod(v, &out) || !(out >= 0 && out <= 1)) return bad();
      return true;
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (arg == "--data-dir") {
      if (!value()) return false;
      f.data_dir = v;
    } else if (arg == "--contacts") {
      if (!value()) return false;
      if (!absl::SimpleAtoi(v, &f.contacts) || f.contacts < 0) return bad();
    } else if (arg == "--config") {
      if (!value()) return false;
      f.config = v;
    } else if (arg == "--seed") {
      if (!value()) return false;
      if (!absl::SimpleAtoi(v, &f.seed)) return bad();
    } else if (arg == "--callbacks") {
      if (!share(f.callbacks)) return false;
    } else if (arg == "--requirements") {
      if (!share(f.requirements)) return false;
    } else if (arg == "--priorities") {
      if (!value()) return false;
      if (!absl::SimpleAtoi(v, &f.priorities) || f.priorities < 1) {
        return bad();
      }
    } else if (arg == "--durability") {
      if (!value()) return false;
      auto mode = journal::ParseDurability(v);
      if (!mode) return bad();
      f.durability = *mode;
    } else if (arg == "--json") {
      f.json = true;
    } else {
      std::cerr << "ccroute-journal-fill: unknown flag '" << arg
                << "' (--help lists them)\n";
      return false;
    }
  }
  if (f.data_dir.empty() || f.contacts < 0) {
    std::cerr << "ccroute-journal-fill: --data-dir and --contacts are "
                 "required (--help)\n";
    return false;
  }
  return true;
}

// Creates in flight between this thread and the journal's acknowledgement,
// bounded so that a million queued commands do not pile up in memory.
class InFlight {
 public:
  static constexpr int64_t kMax = 4096;

  void Acquire() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int64_t* n) { return *n < kMax; }, &in_flight_));
    ++in_flight_;
  }
  // A create the journal acknowledged (or failed), or the engine refused.
  void Release(const absl::Status& status, bool refused) {
    absl::MutexLock lock(&mu_);
    --in_flight_;
    if (refused) {
      ++refused_;
      if (first_refusal_.ok()) first_refusal_ = status;
    } else if (!status.ok() && failure_.ok()) {
      failure_ = status;
    }
  }
  void WaitForAll() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int64_t* n) { return *n == 0; }, &in_flight_));
  }
  int64_t refused() {
    absl::MutexLock lock(&mu_);
    return refused_;
  }
  absl::Status first_refusal() {
    absl::MutexLock lock(&mu_);
    return first_refusal_;
  }
  absl::Status failure() {
    absl::MutexLock lock(&mu_);
    return failure_;
  }

 private:
  absl::Mutex mu_;
  int64_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t refused_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status first_refusal_ ABSL_GUARDED_BY(mu_);
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
};

// The mix of contacts: queues uniformly, a channel the queue takes, a
// priority, sometimes an extra requirement, sometimes a scheduled callback.
class ContactMix {
 public:
  ContactMix(const Flags& flags, const std::vector<core::QueueConfig>& queues)
      : flags_(flags), queues_(queues), rng_(flags.seed) {}

  core::ContactRequest Next(int64_t n, core::Time now) {
    const core::QueueConfig& q = queues_[rng_() % queues_.size()];
    core::ContactRequest r;
    r.id = "fill-" + std::to_string(n);
    r.queue = q.name;
    bool callback =
        q.TakesChannel(core::Channel::kCallback) && Chance(flags_.callbacks);
    if (callback) {
      r.channel = core::Channel::kCallback;
      r.not_before = now + std::chrono::seconds(3600 + rng_() % 3600);
    } else {
      std::vector<core::Channel> channels;
      for (int c = 0; c < core::kChannelCount; ++c) {
        auto channel = static_cast<core::Channel>(c);
        if (channel != core::Channel::kCallback && q.TakesChannel(channel)) {
          channels.push_back(channel);
        }
      }
      r.channel = channels.empty() ? core::Channel::kCallback
                                   : channels[rng_() % channels.size()];
      if (r.channel == core::Channel::kCallback) {
        r.not_before = now + std::chrono::seconds(3600 + rng_() % 3600);
      }
    }
    if (flags_.priorities > 1 && !Chance(0.7)) {
      r.priority = 1 + static_cast<int>(rng_() % (flags_.priorities - 1));
    }
    if (Chance(flags_.requirements)) {
      r.requirements.push_back({"language.de", 5});
    }
    r.customer_id = "customer-" + std::to_string(rng_() % 100000);
    r.attributes = {{"source", "journal-fill"}, {"n", std::to_string(n)}};
    return r;
  }

 private:
  bool Chance(double p) {
    return std::uniform_real_distribution<double>(0, 1)(rng_) < p;
  }

  const Flags& flags_;
  const std::vector<core::QueueConfig>& queues_;
  std::mt19937_64 rng_;
};

uintmax_t DirectoryBytes(const std::string& dir) {
  uintmax_t bytes = 0;
  std::error_code ec;
  for (const auto& f : fs::recursive_directory_iterator(dir, ec)) {
    if (f.is_regular_file(ec)) bytes += f.file_size(ec);
  }
  return bytes;
}

int Run(const Flags& flags) {
  std::string source =
      flags.config.empty() ? "built-in configuration" : flags.config;
  auto parsed = flags.config.empty()
                    ? api::ParseServerConfig(api::BuiltInConfigYaml(), "yaml")
                    : api::LoadServerConfigFile(flags.config);
  if (!parsed.ok()) {
    std::cerr << "ccroute-journal-fill: " << source << ": "
              << parsed.status().message() << "\n";
    return 2;
  }
  auto config = api::ResolveServerConfig(*parsed);
  if (!config.ok()) {
    std::cerr << "ccroute-journal-fill: " << source << ": "
              << config.status().message() << "\n";
    return 2;
  }
  if (config->queues.empty()) {
    std::cerr << "ccroute-journal-fill: " << source << " has no queues\n";
    return 2;
  }
  std::error_code ec;
  if (fs::exists(flags.data_dir, ec) && !fs::is_empty(flags.data_dir, ec)) {
    std::cerr << "ccroute-journal-fill: '" << flags.data_dir
              << "' is not empty; the fill writes a new journal\n";
    return 2;
  }

  journal::JournalOptions options;
  options.durability = flags.durability;
  auto opened = journal::RocksDbJournal::Open(flags.data_dir, options);
  if (!opened.ok()) {
    std::cerr << "ccroute-journal-fill: " << opened.status().message() << "\n";
    return 1;
  }
  std::unique_ptr<journal::RocksDbJournal> journal = *std::move(opened);
  if (auto empty = journal->Recover(std::chrono::system_clock::now());
      !empty.ok()) {
    std::cerr << "ccroute-journal-fill: " << empty.status().message() << "\n";
    return 1;
  }

  // Before the runner: its thread calls the observer until it stops.
  journal::JournalObserver observer(
      *journal, config->engine_limits.idempotency_retention);
  runtime::EngineRunner runner(config->engine_limits, config->routing);
  runner.AddObserver(&observer);
  runner.Start();
  absl::Status applied;
  runner.RunSync([&](core::Engine& engine, core::Time now) {
    applied = engine.SetRoutingPolicy(config->routing, now);
    for (const auto& q : config->queues) {
      if (applied.ok()) applied = engine.UpsertQueue(q, now);
    }
    for (const auto& a : config->agents) {
      if (applied.ok()) applied = engine.UpsertAgentProfile(a, now);
    }
  });
  if (!applied.ok()) {
    std::cerr << "ccroute-journal-fill: " << source << ": " << applied.message()
              << "\n";
    return 2;
  }

  auto started = std::chrono::steady_clock::now();
  InFlight in_flight;
  ContactMix mix(flags, config->queues);
  for (int64_t n = 0; n < flags.contacts; ++n) {
    in_flight.Acquire();
    core::ContactRequest request = mix.Next(n, runtime::EngineRunner::Now());
    runner.Post([&in_flight, &observer, request = std::move(request)](
                    core::Engine& engine, core::Time now) {
      auto view = engine.CreateContact(request, now);
      if (!view.ok()) {
        in_flight.Release(view.status(), /*refused=*/true);
        return;
      }
      observer.Created(request, *view, now,
                       [&in_flight](const absl::Status& written) {
                         in_flight.Release(written, /*refused=*/false);
                       });
    });
  }
  in_flight.WaitForAll();
  std::vector<core::QueueStats> stats;
  runner.RunSync([&](core::Engine& engine, core::Time now) {
    stats = engine.GetAllQueueStats(now);
  });
  runner.Stop();
  absl::Status flushed = journal->Flush();
  journal.reset();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
          .count();
  absl::Status failure = in_flight.failure();
  if (failure.ok()) failure = flushed;

  int64_t waiting = 0, scheduled = 0;
  for (const core::QueueStats& q : stats) {
    waiting += q.waiting;
    scheduled += q.scheduled;
  }
  uintmax_t bytes = DirectoryBytes(flags.data_dir);
  if (flags.json) {
    std::string queues;
    for (const core::QueueStats& q : stats) {
      if (!queues.empty()) queues += ",";
      queues +=
          absl::StrFormat("{\"queue\":%s,\"waiting\":%d,\"scheduled\":%d}",
                          JsonString(q.name), q.waiting, q.scheduled);
    }
    std::cout << absl::StrFormat(
        "{\"data_dir\":%s,\"config\":%s,\"contacts\":%d,\"live\":%d,"
        "\"waiting\":%d,\"scheduled\":%d,\"refused\":%d,\"seconds\":%.3f,"
        "\"contacts_per_second\":%.0f,\"journal_bytes\":%d,\"queues\":[%s],"
        "\"error\":%s}\n",
        JsonString(flags.data_dir), JsonString(source), flags.contacts,
        waiting + scheduled, waiting, scheduled, in_flight.refused(), seconds,
        seconds > 0 ? flags.contacts / seconds : 0.0, bytes, queues,
        JsonString(failure.ok() ? "" : failure.ToString()));
  } else {
    std::cout << absl::StrFormat(
        "%d contacts into %s (%s) in %.1f s (%.0f/s): %d live (%d waiting, "
        "%d scheduled), %d refused; journal %.1f MB\n",
        flags.contacts, flags.data_dir, source, seconds,
        seconds > 0 ? flags.contacts / seconds : 0.0, waiting + scheduled,
        waiting, scheduled, in_flight.refused(), bytes / 1e6);
    for (const core::QueueStats& q : stats) {
      std::cout << absl::StrFormat("  %-20s %9d waiting %9d scheduled\n",
                                   q.name, q.waiting, q.scheduled);
    }
  }
  if (in_flight.refused() > 0) {
    std::cerr << "ccroute-journal-fill: " << in_flight.refused()
              << " creates refused, the first: "
              << in_flight.first_refusal().ToString() << "\n";
  }
  if (!failure.ok()) {
    std::cerr << "ccroute-journal-fill: the journal failed: "
              << failure.ToString() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace ccroute::bench

int main(int argc, char** argv) {
  ccroute::bench::Flags flags;
  if (!ccroute::bench::ParseFlags(argc, argv, flags)) return 2;
  return ccroute::bench::Run(flags);
}
