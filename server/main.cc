// ccrouted: the ccroute server. Reads the configuration, starts the server
// and shuts it down gracefully on SIGTERM or SIGINT.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "server/api/config_file.h"
#include "server/api/server.h"

namespace {

constexpr char kUsage[] = R"(Usage: ccrouted [options]

The ccroute contact-center routing server.

Options:
  --config FILE          configuration file (.yaml, .yml or .json); without it
                         the built-in demo configuration is used
  --listen HOST:PORT     gRPC address (overrides the configuration;
                         default 127.0.0.1:7400)
  --print-config         print the built-in demo configuration and exit
  --check-config         load and validate the configuration, then exit
  --help                 this text

Signals: SIGTERM or SIGINT shut down gracefully (health NOT_SERVING, streams
finished with UNAVAILABLE, calls in flight completed).
)";

struct Flags {
  std::string config;
  std::string listen;
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
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (arg == "--config") {
      if (!value(flags.config)) return false;
    } else if (arg == "--listen") {
      if (!value(flags.listen)) return false;
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
  Flags flags;
  if (!ParseFlags(argc, argv, flags)) return 2;
  if (flags.print_config) {
    std::cout << ccroute::api::BuiltInConfigYaml();
    return 0;
  }

  auto parsed = flags.config.empty()
                    ? ccroute::api::ParseServerConfig(
                          ccroute::api::BuiltInConfigYaml(), "yaml")
                    : ccroute::api::LoadServerConfigFile(flags.config);
  if (!parsed.ok()) {
    std::cerr << "ccrouted: " << parsed.status().message() << "\n";
    return 2;
  }
  if (!flags.listen.empty()) parsed->set_listen(flags.listen);
  auto config = ccroute::api::ResolveServerConfig(*parsed);
  if (!config.ok()) {
    std::cerr << "ccrouted: "
              << (flags.config.empty() ? "built-in configuration"
                                       : flags.config)
              << ": " << config.status().message() << "\n";
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

  auto server = ccroute::api::Server::Start(*config);
  if (!server.ok()) {
    std::cerr << "ccrouted: " << server.status().message() << "\n";
    return 1;
  }
  std::cerr << "ccrouted: listening on " << config->listen << " (port "
            << (*server)->port() << "), " << config->queues.size()
            << " queues, " << config->agents.size() << " agent profiles"
            << (flags.config.empty() ? " (built-in demo configuration)" : "")
            << "\n";

  int received = 0;
  sigwait(&signals, &received);
  std::cerr << "ccrouted: " << strsignal(received) << ", shutting down\n";
  (*server)->Shutdown();
  std::cerr << "ccrouted: stopped\n";
  return 0;
}
