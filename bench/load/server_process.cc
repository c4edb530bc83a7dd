#include "bench/load/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"

namespace ccroute::load {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The last `lines` lines of `text`.
std::string Tail(const std::string& text, int lines) {
  size_t at = text.size();
  for (int i = 0; i <= lines && at > 0; ++i) {
    size_t nl = text.rfind('\n', at - 1);
    if (nl == std::string::npos) return text;
    at = nl;
  }
  return text.substr(at + 1);
}

// The grpc_port of the JSON line {"event":"started",...}, or 0.
int StartedPort(const std::string& log) {
  size_t line_start = 0;
  while (line_start < log.size()) {
    size_t line_end = log.find('\n', line_start);
    if (line_end == std::string::npos) break;  // not complete yet
    std::string_view line(log.data() + line_start, line_end - line_start);
    if (line.find("\"event\":\"started\"") != std::string_view::npos) {
      constexpr std::string_view kKey = "\"grpc_port\":";
      size_t at = line.find(kKey);
      if (at == std::string_view::npos) return 0;
      int port = 0;
      for (size_t i = at + kKey.size();
           i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i) {
        port = port * 10 + (line[i] - '0');
      }
      return port;
    }
    line_start = line_end + 1;
  }
  return 0;
}

std::string Describe(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exit ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("killed by ", strsignal(WTERMSIG(status)));
  }
  return "ended";
}

}  // namespace

ProcessSample SampleProcess(pid_t pid) {
  std::string dir =
      pid == 0 ? std::string("/proc/self") : absl::StrCat("/proc/", pid);
  ProcessSample sample;
  std::string stat = ReadFile(dir + "/stat");
  // The command name (field 2) may hold spaces: fields count from its ')'.
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return sample;
  std::istringstream fields(stat.substr(paren + 1));
  // utime and stime are fields 14 and 15 of the line: 12 and 13 after ')'.
  std::string skip;
  for (int i = 0; i < 11; ++i) fields >> skip;
  int64_t utime = 0, stime = 0;
  if (!(fields >> utime >> stime)) return sample;
  sample.cpu_seconds = static_cast<double>(utime + stime) /
                       static_cast<double>(sysconf(_SC_CLK_TCK));
  std::istringstream status(ReadFile(dir + "/status"));
  std::string key;
  while (status >> key) {
    int64_t kb = 0;
    if (key == "VmRSS:" && status >> kb) sample.rss_bytes = kb * 1024;
    if (key == "VmHWM:" && status >> kb) sample.peak_rss_bytes = kb * 1024;
    status.clear();
    status.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  sample.ok = true;
  return sample;
}

MachineSample SampleMachine() {
  MachineSample sample;
  std::istringstream stat(ReadFile("/proc/stat"));
  // cpu user nice system idle iowait irq softirq steal ...
  std::string cpu;
  stat >> cpu;
  for (int i = 1; i <= 8; ++i) {
    int64_t v = 0;
    if (!(stat >> v)) break;
    sample.total += v;
    if (i != 4 && i != 5) sample.busy += v;
  }
  return sample;
}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Spawn(
    const std::string& path, const std::vector<std::string>& args,
    const std::string& log_path, std::chrono::milliseconds timeout) {
  int log_fd =
      open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot open ", log_path, ": ", strerror(errno)));
  }
  // Everything the child needs is made before fork: after it, only
  // async-signal-safe calls.
  std::vector<std::string> argv_strings = {path};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    // Signals the load tool blocks must reach the server again.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    execv(path.c_str(), argv.data());
    _exit(127);
  }
  close(log_fd);
  std::unique_ptr<ServerProcess> server(new ServerProcess(pid, log_path));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int port = StartedPort(ReadFile(log_path));
    if (port > 0) {
      server->port_ = port;
      return server;
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      server->reaped_ = true;
      return absl::FailedPreconditionError(
          absl::StrCat(path, " did not start (", Describe(status),
                       "); its log:\n", Tail(ReadFile(log_path), 20)));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      server->Stop(std::chrono::milliseconds(3000));
      return absl::DeadlineExceededError(absl::StrCat(
          path, " did not log \"started\" within ", timeout.count(),
          " ms; its log:\n", Tail(ReadFile(log_path), 20)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

ServerProcess::~ServerProcess() { Stop(std::chrono::milliseconds(10000)); }

std::string ServerProcess::Stop(std::chrono::milliseconds timeout) {
  if (reaped_) return "";
  reaped_ = true;
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) return Describe(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  return "killed after " + std::to_string(timeout.count()) + " ms";
}

}  // namespace ccroute::load
