// ccroute: the command-line tool for operators, supervisors and anyone
// trying ccroute out.
#include <cstdlib>
#include <iostream>
#include <map>

#include "client/cli/cli.h"

namespace {

constexpr const char* kHelp =
    R"(Usage: ccroute [--server HOST:PORT] COMMAND [ARGS] [--json]

Commands:
  queues [NAME]          queues with live statistics
  agents                 agents with their states
  contact create|get|cancel|update|watch
                         queue, inspect, end or follow a contact
  agent login AGENT      be an agent desktop in the terminal
  events                 follow the supervisor event stream
  top                    live wallboard
  admin apply|export|set-state|delete-queue|delete-agent
                         change the running configuration
  demo                   play gateways and agents against the server
  health                 is the server serving?

Global flags:
  --server HOST:PORT     the ccrouted gRPC address (default $CCROUTE_SERVER,
                         else 127.0.0.1:7400)
  --token TOKEN          bearer token (default $CCROUTE_TOKEN)
  --tls-ca FILE          use TLS, trusting this CA
  --tls-cert FILE --tls-key FILE
                         client certificate for mutual TLS
  --timeout SECONDS      deadline of each request (default 5)
  --json                 machine-readable output (one JSON object per line)
  --help                 help; `ccroute COMMAND --help` for a command

Exit codes: 0 success; 1 the server refused the request (the error is one
line with its gRPC status); 2 a usage error, nothing sent; 3 the server is
unreachable or did not answer in time.
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace ccroute::cli;
  std::vector<std::string> raw(argv + 1, argv + argc);
  auto args = Args::Parse(raw, {"json", "help", "b", "batch", "watch", "prune",
                                "dry-run", "auto-accept"});
  if (!args.ok()) return UsageError("", std::string(args.status().message()));
  Invocation inv{Connection{}, *args, args->Has("json")};
  const char* env_server = std::getenv("CCROUTE_SERVER");
  const char* env_token = std::getenv("CCROUTE_TOKEN");
  inv.connection.server =
      args->Get("server", env_server ? env_server : "127.0.0.1:7400");
  inv.connection.token = args->Get("token", env_token ? env_token : "");
  inv.connection.tls_ca_file = args->Get("tls-ca");
  inv.connection.tls_cert_file = args->Get("tls-cert");
  inv.connection.tls_key_file = args->Get("tls-key");
  auto timeout = args->GetDouble("timeout", 5);
  if (!timeout.ok() || *timeout <= 0 || *timeout > 3600) {
    return UsageError("", "--timeout must be between 0 and 3600 seconds");
  }
  inv.connection.timeout =
      std::chrono::milliseconds(static_cast<long long>(*timeout * 1000));

  if (args->words().empty()) {
    std::cout << kHelp;
    return args->Has("help") ? kExitOk : kExitUsage;
  }
  static const std::map<std::string, int (*)(Invocation&)> kCommands = {
      {"queues", RunQueues}, {"agents", RunAgents}, {"contact", RunContact},
      {"agent", RunAgent},   {"events", RunEvents}, {"admin", RunAdmin},
      {"health", RunHealth}, {"top", RunTop},       {"demo", RunDemo},
  };
  const std::string& command = args->words()[0];
  if (command == "help") {
    std::cout << kHelp;
    return kExitOk;
  }
  auto it = kCommands.find(command);
  if (it == kCommands.end()) {
    return UsageError("", "unknown command '" + command + "'");
  }
  return it->second(inv);
}
