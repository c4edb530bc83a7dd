// Owns the routing engine and the one thread that runs it. Other threads
// post commands; each runs on the engine thread with the current time, after
// which the events it caused go to the observers and the single timer is
// re-armed at the engine's next deadline. No polling: the thread sleeps
// until a command arrives or a deadline is due.
//
// Thread-safe: Post, RunSync, Now, pending_commands. Observers are called on
// the engine thread only.
#ifndef CCROUTE_SERVER_RUNTIME_ENGINE_RUNNER_H_
#define CCROUTE_SERVER_RUNTIME_ENGINE_RUNNER_H_

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "server/core/engine.h"

namespace ccroute::runtime {

// Sees what the engine did. Engine thread only.
class EngineObserver {
 public:
  virtual ~EngineObserver() = default;
  // The events one command or one timer produced, in order. `engine` may be
  // queried (not changed) to enrich them.
  virtual void OnEvents(const std::vector<core::Event>& events,
                        core::Engine& engine, core::Time now) = 0;
  // How long the command or timer took on the engine thread.
  virtual void OnCommandDone(std::chrono::nanoseconds /*busy*/) {}
};

class EngineRunner {
 public:
  using Command = std::function<void(core::Engine&, core::Time now)>;

  EngineRunner(core::EngineLimits limits, core::RoutingPolicy policy);
  // Stops the thread if it still runs.
  ~EngineRunner();
  EngineRunner(const EngineRunner&) = delete;
  EngineRunner& operator=(const EngineRunner&) = delete;

  // Adds an observer; call before Start. The observer must outlive the
  // runner's thread (until Stop returns).
  void AddObserver(EngineObserver* observer);
  void Start();
  // Runs the commands already posted, then stops and joins the thread.
  // Commands posted afterwards are dropped. Idempotent.
  void Stop();

  // Queues `command` for the engine thread and returns at once; false (and
  // the command dropped) once the runner is stopping.
  bool Post(Command command);
  // Runs `command` on the engine thread and waits for it to finish (does
  // nothing once the runner is stopping). Not from the engine thread.
  void RunSync(Command command);

  // The current time on the engine's clock (the steady clock).
  static core::Time Now();
  // Commands posted and not yet run.
  int64_t pending_commands() const { return pending_.load(); }
  // The engine thread's I/O context, for timers that run engine-thread code
  // (heartbeats, reconnect grace). Valid for the runner's lifetime.
  boost::asio::io_context& io_context() { return io_; }
  bool OnEngineThread() const;

 private:
  void Run(const Command& command);
  void AfterChange(std::chrono::steady_clock::time_point started);
  void ArmTimer();

  std::unique_ptr<core::Engine> engine_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type>
      work_;
  boost::asio::steady_timer timer_;
  std::optional<core::Time> armed_for_;
  std::thread thread_;
  std::atomic<int64_t> pending_{0};
  std::atomic<bool> stopped_{false};
  std::vector<EngineObserver*> observers_;
  std::vector<core::Event> events_;
};

}  // namespace ccroute::runtime

#endif  // CCROUTE_SERVER_RUNTIME_ENGINE_RUNNER_H_
