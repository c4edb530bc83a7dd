// A program (ccrouted, prometheus) run by a test as a child process, its
// standard error in a file, and bounded waits on what it writes there.
#ifndef CCROUTE_TESTS_UTIL_CHILD_PROCESS_H_
#define CCROUTE_TESTS_UTIL_CHILD_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace ccroute::testing {

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Waits (up to `timeout`) until the file at `path` holds a match for
// `pattern`; its group 1, or nullopt.
inline std::optional<std::string> WaitForMatch(
    const std::string& path, const std::regex& pattern,
    std::chrono::seconds timeout = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    std::string text = ReadWholeFile(path);
    if (std::regex_search(text, m, pattern)) return m[1].str();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

// Started by the constructor; stopped gracefully (SIGTERM, then SIGKILL
// after 10 s) when destroyed, unless stopped before.
class ChildProcess {
 public:
  // Runs argv[0] with `argv`; its stderr goes to `log_path` (truncated),
  // its stdout to /dev/null.
  ChildProcess(std::vector<std::string> argv, const std::string& log_path)
      : log_path_(log_path) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, log_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) !=
        0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
  }
  ~ChildProcess() { Stop(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  // The running process's id; -1 once it exited or was stopped.
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  std::string log() const { return ReadWholeFile(log_path_); }

  // Waits for a match of `pattern` in the log while the process runs; its
  // group 1, or nullopt if it did not come within `timeout` or the process
  // exited.
  std::optional<std::string> WaitForLog(
      const std::regex& pattern,
      std::chrono::seconds timeout = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
      std::smatch m;
      std::string text = log();
      if (std::regex_search(text, m, pattern)) return m[1].str();
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::nullopt;
  }

  // Waits up to `timeout` for the process to exit by itself; its exit code,
  // or nullopt if it still runs (then it is left running), died of a
  // signal, or was not running.
  std::optional<int> WaitForExit(std::chrono::seconds timeout) {
    if (pid_ <= 0) return std::nullopt;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        return std::nullopt;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::nullopt;
  }

  // SIGKILL, as a crash; waits for the exit.
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  // SIGTERM and the exit code within 10 s; SIGKILL and nullopt otherwise
  // (also when it was not running or died of a signal).
  std::optional<int> Stop() {
    if (pid_ <= 0) return std::nullopt;
    kill(pid_, SIGTERM);
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        return std::nullopt;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    Kill();
    return std::nullopt;
  }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
};

}  // namespace ccroute::testing

#endif  // CCROUTE_TESTS_UTIL_CHILD_PROCESS_H_
