// ccrouted run as a child process on a journal directory, for the tests
// that kill, damage and restart it: its configuration, its start, reading
// its log, and deadlines for the calls made to it.
#ifndef CCROUTE_TESTS_INTEGRATION_CCROUTED_PROCESS_H_
#define CCROUTE_TESTS_INTEGRATION_CCROUTED_PROCESS_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "tests/util/child_process.h"

namespace ccroute::testing {

inline std::unique_ptr<grpc::ClientContext> Deadline(
    std::chrono::milliseconds d) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + d);
  return c;
}

// Writes a configuration for a ccrouted without TLS or authentication, its
// journal in `data_dir` (absolute, or relative to the file's directory) in
// `durability` mode, and one queue, "calls".
inline void WriteJournalConfig(const std::filesystem::path& path,
                               const std::filesystem::path& data_dir,
                               const std::string& durability) {
  std::ofstream(path) << "security: {plaintext: true, auth: none}\n"
                         "journal:\n"
                         "  data_dir: "
                      << data_dir.string() << "\n  durability: " << durability
                      << "\nqueues:\n"
                         "  - name: calls\n";
}

// The command line of a ccrouted with `config` on a free loopback port and
// no metrics endpoint.
inline std::vector<std::string> CcroutedArgs(
    const std::filesystem::path& config) {
  return {CCROUTED_PATH,
          "--config",
          config.string(),
          "--listen",
          "127.0.0.1:0",
          "--metrics-listen",
          ""};
}

// Waits for the server's "started" line; its gRPC port, or nullopt if it
// exited or did not start within 30 s.
inline std::optional<std::string> WaitForPort(ChildProcess& server) {
  return server.WaitForLog(
      std::regex(R"re("event":"started".*"grpc_port":([0-9]+))re"));
}

// The number `field` holds in the first log line of `event`, or nullopt.
inline std::optional<int64_t> LogNumber(const std::string& log,
                                        const std::string& event,
                                        const std::string& field) {
  std::smatch line;
  if (!std::regex_search(
          log, line,
          std::regex("\\{[^\n]*\"event\":\"" + event + "\"[^\n]*"))) {
    return std::nullopt;
  }
  std::smatch value;
  std::string text = line.str();
  if (!std::regex_search(text, value,
                         std::regex("\"" + field + "\":(-?[0-9]+)"))) {
    return std::nullopt;
  }
  return std::stoll(value[1].str());
}

}  // namespace ccroute::testing

#endif  // CCROUTE_TESTS_INTEGRATION_CCROUTED_PROCESS_H_
