// A ccrouted that ccroute-load starts itself (--spawn), and what /proc says
// about a process's CPU time and memory.
//
// Thread-compatible: one thread uses a ServerProcess.
#ifndef CCROUTE_BENCH_LOAD_SERVER_PROCESS_H_
#define CCROUTE_BENCH_LOAD_SERVER_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ccroute::load {

// A process's CPU time (user + system) and resident memory from
// /proc/<pid>/stat and /proc/<pid>/status. ok is false when they cannot be
// read (no such process).
struct ProcessSample {
  bool ok = false;
  double cpu_seconds = 0;
  int64_t rss_bytes = 0;
  int64_t peak_rss_bytes = 0;
};
// pid 0: this process.
ProcessSample SampleProcess(pid_t pid);

// The whole machine's CPU time from /proc/stat, in clock ticks: busy (all
// but idle and iowait) and total, summed over the cores.
struct MachineSample {
  int64_t busy = 0;
  int64_t total = 0;
};
MachineSample SampleMachine();

class ServerProcess {
 public:
  // Starts `path` with `args` (argv[1..]), its stdout and stderr appended to
  // `log_path`, and waits up to `timeout` for its JSON "started" log line,
  // which carries the gRPC port. The server gets SIGTERM if this process
  // dies. Errors: it could not be started, exited, or did not start in time
  // (the server is then stopped); the message quotes the end of its log.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Spawn(
      const std::string& path, const std::vector<std::string>& args,
      const std::string& log_path, std::chrono::milliseconds timeout);
  // Stops the server if it still runs.
  ~ServerProcess();

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  // SIGTERM, then SIGKILL after `timeout`. Returns how it ended, e.g.
  // "exit 0"; empty if it had already been stopped.
  std::string Stop(std::chrono::milliseconds timeout);

 private:
  ServerProcess(pid_t pid, std::string log_path)
      : pid_(pid), log_path_(std::move(log_path)) {}

  pid_t pid_;
  std::string log_path_;
  int port_ = 0;
  bool reaped_ = false;
};

}  // namespace ccroute::load

#endif  // CCROUTE_BENCH_LOAD_SERVER_PROCESS_H_
