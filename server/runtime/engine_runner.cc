#include "server/runtime/engine_runner.h"

#include <boost/asio/post.hpp>
#include <future>

namespace ccroute::runtime {

EngineRunner::EngineRunner(core::EngineLimits limits,
                           core::RoutingPolicy policy)
    : engine_(std::make_unique<core::Engine>(limits, policy)),
      work_(boost::asio::make_work_guard(io_)),
      timer_(io_) {}

EngineRunner::~EngineRunner() { Stop(); }

void EngineRunner::AddObserver(EngineObserver* observer) {
  observers_.push_back(observer);
}

void EngineRunner::Start() {
  thread_ = std::thread([this] { io_.run(); });
}

void EngineRunner::Stop() {
  if (stopped_.exchange(true)) return;
  // Handlers run in the order posted: every command queued before this one
  // runs first. Timers still pending (heartbeats, grace periods) are
  // abandoned.
  boost::asio::post(io_, [this] {
    timer_.cancel();
    work_.reset();
    io_.stop();
  });
  if (thread_.joinable()) thread_.join();
}

core::Time EngineRunner::Now() {
  return core::Time(std::chrono::duration_cast<core::Duration>(
      std::chrono::steady_clock::now().time_since_epoch()));
}

bool EngineRunner::OnEngineThread() const {
  return std::this_thread::get_id() == thread_.get_id();
}

bool EngineRunner::Post(Command command) {
  if (stopped_.load()) return false;
  pending_.fetch_add(1);
  boost::asio::post(io_, [this, command = std::move(command)] {
    pending_.fetch_sub(1);
    Run(command);
  });
  return true;
}

void EngineRunner::RunSync(Command command) {
  std::promise<void> done;
  bool posted = Post([&](core::Engine& engine, core::Time now) {
    command(engine, now);
    done.set_value();
  });
  if (posted) done.get_future().wait();
}

void EngineRunner::Run(const Command& command) {
  auto started = std::chrono::steady_clock::now();
  command(*engine_, Now());
  AfterChange(started);
}

void EngineRunner::AfterChange(std::chrono::steady_clock::time_point started) {
  engine_->TakeEvents(events_);
  if (!events_.empty()) {
    for (EngineObserver* o : observers_) {
      o->OnEvents(events_, *engine_, engine_->now());
    }
    events_.clear();
  }
  auto busy = std::chrono::steady_clock::now() - started;
  for (EngineObserver* o : observers_) o->OnCommandDone(busy);
  ArmTimer();
}

void EngineRunner::ArmTimer() {
  std::optional<core::Time> next = engine_->NextDeadline();
  if (next == armed_for_ || stopped_.load()) return;
  armed_for_ = next;
  if (!next) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          next->time_since_epoch())));
  timer_.async_wait([this](const boost::system::error_code& error) {
    if (error) return;  // re-armed or cancelled
    armed_for_.reset();
    auto started = std::chrono::steady_clock::now();
    engine_->AdvanceTo(Now());
    AfterChange(started);
  });
}

}  // namespace ccroute::runtime
