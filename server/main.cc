// ccrouted: the ccroute server. Reads the configuration, starts the server
// and its metrics endpoint, and shuts down gracefully on SIGTERM or SIGINT.
// Wiring only: the logic lives in the libraries.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <iostream>
#include <string>

#include "absl/synchronization/mutex.h"
#include "server/api/config_file.h"
#include "server/api/health_probe.h"
#include "server/api/server.h"
#include "server/metrics/metrics.h"
#include "server/runtime/log.h"

namespace {

using ccroute::runtime::Log;
using ccroute::runtime::LogLevel;

constexpr char kUsage[] = R"(Usage: ccrouted [options]

The ccroute contact-center routing server.

Options:
  --config FILE            configuration file (.yaml, .yml or .json); without
                           it the built-in demo configuration is used: no
                           TLS, no authentication, loopback only
  --listen HOST:PORT       gRPC address (overrides the configuration;
                           default 127.0.0.1:7400; port 0 picks a free one)
  --metrics-listen HOST:PORT
                           Prometheus /metrics address (overrides the
                           configuration; "" turns it off)
  --data-dir DIR           keep live contacts in a journal in DIR (overrides
                           journal.data_dir; the built-in configuration uses
                           ./ccroute-data): a restart, even after kill -9,
                           puts every acknowledged contact back in its place
  --log-level LEVEL        debug, info (default), warning or error
  --check-config           load and validate the configuration, then exit
  --print-config           print the built-in demo configuration and exit
  --probe HOST:PORT        gRPC health check of a running server: exit 0 if
                           it is SERVING, 1 otherwise
  --help                   this text

Logs are JSON lines on stderr. SIGTERM or SIGINT shut down gracefully:
health NOT_SERVING, streams finished with UNAVAILABLE, calls in flight
completed.
)";

struct Flags {
  std::string config;
  std::string listen;
  std::optional<std::string> metrics_listen;
  std::string probe;
  std::string data_dir;
  bool print_config = false;
  bool check_config = false;
};

// Returns false (after printing why) on a bad command line.
bool ParseFlags(int argc, char** argv, Flags& flags) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) {
        std::cerr << "ccrouted: " << arg << " needs a value\n";
        return false;
      }
      out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (arg == "--config") {
      if (!value(flags.config)) return false;
    } else if (arg == "--listen") {
      if (!value(flags.listen)) return false;
    } else if (arg == "--metrics-listen") {
      if (!value(v)) return false;
      flags.metrics_listen = v;
    } else if (arg == "--probe") {
      if (!value(flags.probe)) return false;
    } else if (arg == "--data-dir") {
      if (!value(flags.data_dir)) return false;
      if (flags.data_dir.empty()) {
        std::cerr << "ccrouted: --data-dir needs a directory\n";
        return false;
      }
    } else if (arg == "--log-level") {
      LogLevel level;
      if (!value(v)) return false;
      if (!ccroute::runtime::ParseLogLevel(v, level)) {
        std::cerr << "ccrouted: --log-level: '" << v
                  << "' is not debug, info, warning or error\n";
        return false;
      }
      ccroute::runtime::SetLogLevel(level);
    } else if (arg == "--print-config") {
      flags.print_config = true;
    } else if (arg == "--check-config") {
      flags.check_config = true;
    } else {
      std::cerr << "ccrouted: unknown option '" << arg
                << "' (see ccrouted --help)\n";
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  namespace api = ccroute::api;
  namespace metrics = ccroute::metrics;
  // Debian's abseil checks every lock for cycles, a debugging aid that
  // costs the server a few percent of its CPU (bench/RESULTS.md).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  Flags flags;
  if (!ParseFlags(argc, argv, flags)) return 2;
  if (flags.print_config) {
    std::cout << api::BuiltInConfigYaml();
    return 0;
  }
  if (!flags.probe.empty()) {
    absl::Status health =
        api::ProbeHealth(flags.probe, std::chrono::milliseconds(3000));
    std::cout << (health.ok() ? "SERVING" : std::string(health.message()))
              << "\n";
    return health.ok() ? 0 : 1;
  }

  api::RouteGrpcLogsToJson();
  std::string source =
      flags.config.empty() ? "built-in configuration" : flags.config;
  auto parsed = flags.config.empty()
                    ? api::ParseServerConfig(api::BuiltInConfigYaml(), "yaml")
                    : api::LoadServerConfigFile(flags.config);
  if (!parsed.ok()) {
    Log(LogLevel::kError, "config_invalid",
        {{"source", source},
         {"error", std::string(parsed.status().message())}});
    return 2;
  }
  if (!flags.listen.empty()) parsed->set_listen(flags.listen);
  if (flags.metrics_listen) parsed->set_metrics_listen(*flags.metrics_listen);
  if (!flags.data_dir.empty()) {
    parsed->mutable_journal()->set_store("rocksdb");
    parsed->mutable_journal()->set_data_dir(flags.data_dir);
  }
  absl::Status explicit_security = flags.config.empty()
                                       ? api::RequireLoopback(parsed->listen())
                                       : api::RequireSecuritySection(*parsed);
  if (!explicit_security.ok()) {
    Log(LogLevel::kError, "config_invalid",
        {{"source", source},
         {"error", std::string(explicit_security.message())}});
    return 2;
  }
  auto config = api::ResolveServerConfig(*parsed);
  if (!config.ok()) {
    Log(LogLevel::kError, "config_invalid",
        {{"source", source},
         {"error", std::string(config.status().message())}});
    return 2;
  }
  if (flags.check_config) {
    std::cout << "configuration OK: " << config->queues.size() << " queues, "
              << config->agents.size() << " agent profiles\n";
    return 0;
  }

  // Signals are taken synchronously by this thread; every other thread
  // inherits the mask and never sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::unique_ptr<metrics::MetricsEndpoint> endpoint;
  std::unique_ptr<metrics::EngineMetrics> engine_metrics;
  api::ServerHooks hooks;
  // A journal that cannot be written stops the server (as SIGTERM would),
  // and ccrouted then exits with 1.
  static std::atomic<bool> journal_failed{false};
  hooks.on_journal_failure = [](const absl::Status&) {
    journal_failed = true;
    kill(getpid(), SIGTERM);
  };
  if (!config->metrics_listen.empty()) {
    auto started = metrics::MetricsEndpoint::Start(config->metrics_listen);
    if (!started.ok()) {
      Log(LogLevel::kError, "metrics_listen_failed",
          {{"error", std::string(started.status().message())}});
      return 1;
    }
    endpoint = *std::move(started);
    engine_metrics =
        std::make_unique<metrics::EngineMetrics>(endpoint->registry());
    hooks.observers.push_back(engine_metrics.get());
    hooks.interceptors.push_back(
        std::make_unique<metrics::GrpcMetricsInterceptorFactory>(
            endpoint->registry()));
  }

  auto server = api::Server::Start(*config, std::move(hooks));
  if (!server.ok()) {
    Log(LogLevel::kError, "start_failed",
        {{"error", std::string(server.status().message())}});
    return 1;
  }
  std::shared_ptr<metrics::SnapshotCollector> snapshots;
  std::shared_ptr<metrics::ProcessCollector> process;
  if (endpoint) {
    api::Server* s = server->get();
    snapshots = std::make_shared<metrics::SnapshotCollector>([s] {
      return metrics::TakeSnapshot(
          s->runner(), std::chrono::milliseconds(2000),
          [s](metrics::EngineSnapshot& snap) {
            snap.agent_sessions =
                static_cast<int64_t>(s->hub().agent_sessions());
            snap.watchers = static_cast<int64_t>(s->hub().watchers());
            snap.event_subscribers =
                static_cast<int64_t>(s->hub().subscribers());
            snap.events_dropped = s->hub().dropped_events();
          });
    });
    process = std::make_shared<metrics::ProcessCollector>();
    endpoint->Register(snapshots);
    endpoint->Register(process);
  }
  Log(LogLevel::kInfo, "started",
      {{"source", source},
       {"listen", config->listen},
       {"grpc_port", (*server)->port()},
       {"metrics_port", endpoint ? endpoint->port() : 0},
       {"queues", config->queues.size()},
       {"agent_profiles", config->agents.size()},
       {"tls", config->security.tls ? "on" : "off"},
       {"auth", config->security.auth.enabled ? "on" : "off"},
       {"journal", config->journal.enabled ? config->journal.data_dir
                                           : std::string("none")},
       {"durability", config->journal.enabled ? config->journal.durability
                                              : std::string("none")}});
  if (!config->journal.enabled) {
    Log(LogLevel::kWarning, "no_journal",
        {{"message",
          "no journal (journal.data_dir or --data-dir): a restart loses "
          "every contact"}});
  }

  int received = 0;
  sigwait(&signals, &received);
  Log(LogLevel::kInfo, "shutting_down", {{"signal", strsignal(received)}});
  (*server)->Shutdown();
  // Stop scraping before the server's engine goes away.
  snapshots.reset();
  endpoint.reset();
  server->reset();
  Log(LogLevel::kInfo, "stopped");
  return journal_failed ? 1 : 0;
}
