#include "client/agent_session.h"

#include <grpcpp/client_context.h>
#include <grpcpp/support/client_callback.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include "ccroute/v1/agents.grpc.pb.h"

namespace ccroute::client {
namespace {

using Clock = std::chrono::steady_clock;
using Connection = AgentSession::Connection;

// A stream that ended this way will end the same way if reopened.
bool EndsForGood(const grpc::Status& status, bool reconnect_when_replaced) {
  switch (status.error_code()) {
    case grpc::StatusCode::ABORTED:
      return !reconnect_when_replaced;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::UNIMPLEMENTED:
      return true;
    default:
      return false;
  }
}

grpc::Status FromAck(const v1::AgentEvent::Ack& ack) {
  return grpc::Status(static_cast<grpc::StatusCode>(ack.code()), ack.message());
}

}  // namespace

const char* ConnectionName(Connection connection) {
  switch (connection) {
    case Connection::kIdle:
      return "idle";
    case Connection::kConnecting:
      return "connecting";
    case Connection::kConnected:
      return "connected";
    case Connection::kReconnecting:
      return "reconnecting";
    case Connection::kClosed:
      return "closed";
  }
  return "unknown";
}

// Everything below is guarded by Impl::mu_, the reactor's state included:
// gRPC never runs a reaction inline from StartWrite, StartRead, RemoveHold
// or TryCancel, so they may be called with the lock held.
class AgentSession::Impl {
 public:
  Impl(std::shared_ptr<grpc::ChannelInterface> channel,
       AgentSessionOptions options, Callbacks callbacks);
  ~Impl();

  void Start();
  // Close(), then waits for the stream to end and for the queued callbacks
  // to run, and stops the threads. Idempotent; not from a callback.
  void Stop();
  std::future<grpc::Status> Request(v1::AgentRequest request);
  std::future<grpc::Status> SetState(bool ready, const std::string& reason);
  std::future<grpc::Status> Logout();
  void Close();
  Connection connection() const;
  bool WaitFor(Connection state, std::chrono::milliseconds timeout) const;
  int logins() const;

 private:
  class Stream;
  enum class Kind {
    kUser,         // resolved for the caller with the ack
    kStateChange,  // SetReady / SetNotReady: also blocks status tracking
    kLogout,       // closes the session once acknowledged
    kLogin,        // internal: the first request on each stream
    kRedeclare,    // internal: NOT_READY(reason) right after a login
    kHeartbeat,    // internal: unanswered means a dead connection
  };
  struct Pending {
    Kind kind;
    Clock::time_point deadline;
    // The stream it went out on; 0 while waiting for a connection.
    uint64_t generation = 0;
    // Kept until sent.
    v1::AgentRequest request;
    std::optional<std::promise<grpc::Status>> promise;
  };

  std::future<grpc::Status> Submit(v1::AgentRequest request, Kind kind);
  uint64_t AddInternal(v1::AgentRequest request, Kind kind);
  void Resolve(std::map<uint64_t, Pending>::iterator it,
               const grpc::Status& status);
  void Connect();
  bool Send(const v1::AgentRequest& request);
  void OnEvent(Stream& stream, const v1::AgentEvent& event);
  void OnAck(const v1::AgentEvent::Ack& ack);
  void OnStreamDone(Stream& stream, const grpc::Status& status);
  void FailAll(const grpc::Status& status);
  void SetConnection(Connection connection, const grpc::Status& status);
  void Dispatch(std::function<void()> task);
  void TimerLoop();
  void DispatchLoop();

  const AgentSessionOptions options_;
  const Callbacks callbacks_;
  std::unique_ptr<v1::Agents::Stub> stub_;

  mutable std::mutex mu_;
  mutable std::condition_variable connection_cv_;
  std::condition_variable timer_cv_;
  std::condition_variable dispatch_cv_;

  Connection connection_ = Connection::kIdle;
  bool closed_ = false;
  grpc::Status close_status_;
  Stream* stream_ = nullptr;  // owned by gRPC until its OnDone
  uint64_t generation_ = 0;
  uint64_t next_request_ = 1;
  std::map<uint64_t, Pending> pending_;  // by request number: issue order
  int logins_ = 0;

  // The state to re-declare at each login.
  bool ready_;
  std::string not_ready_reason_;
  // While these are in flight a status event may describe the state before
  // them, so it does not count as a declaration.
  bool redeclaring_ = false;
  int state_changes_ = 0;
  // The contacts the agent holds (assigned or in wrap-up), as the server
  // last said; declared at every login after the first, so that the server
  // reconciles with them (an accept it lost to a restart is reclaimed).
  std::set<std::string> held_;

  std::mt19937_64 rng_;
  int retry_ = 0;
  std::optional<Clock::time_point> logged_in_at_;
  Clock::time_point reconnect_at_;
  Clock::time_point next_heartbeat_;

  std::deque<std::function<void()>> dispatch_;
  bool stopping_ = false;
  std::thread timer_thread_;
  std::thread dispatch_thread_;
};

// One Agents.Connect call. Created and driven by Impl under its lock; deletes
// itself in OnDone, after telling Impl, which then forgets it.
class AgentSession::Impl::Stream final
    : public grpc::ClientBidiReactor<v1::AgentRequest, v1::AgentEvent> {
 public:
  Stream(Impl& impl, uint64_t generation)
      : impl_(impl), generation_(generation) {}

  uint64_t generation() const { return generation_; }

  // Opens the call with `first` as its first message.
  void Open(v1::Agents::Stub& stub, v1::AgentRequest first) {
    stub.async()->Connect(&context_, this);
    // Writes start outside reactions (user calls, the timer), so the call
    // must not finish while more may come: hold it until the write side
    // is closed.
    AddHold();
    hold_ = true;
    StartRead(&incoming_);
    Write(std::move(first));
    StartCall();
  }

  // Queues a message; false once the write side is closed.
  bool Write(v1::AgentRequest request) {
    if (write_closed_ || half_close_wanted_) return false;
    outbox_.push_back(std::move(request));
    if (!writing_) {
      writing_ = true;
      StartWrite(&outbox_.front());
    }
    return true;
  }
  // Half-closes after the queued messages are written.
  void HalfClose() {
    half_close_wanted_ = true;
    if (!writing_ && !write_closed_) {
      write_closed_ = true;
      writing_ = true;
      StartWritesDone();
    }
  }
  void Cancel() { context_.TryCancel(); }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(impl_.mu_);
    outbox_.pop_front();
    writing_ = false;
    if (!ok) {
      // The call is broken; the read side brings the status.
      write_closed_ = true;
      outbox_.clear();
    } else if (!write_closed_ && !outbox_.empty()) {
      writing_ = true;
      StartWrite(&outbox_.front());
    } else if (!write_closed_ && half_close_wanted_) {
      write_closed_ = true;
      writing_ = true;
      StartWritesDone();
    }
    MaybeReleaseHold();
  }
  void OnWritesDoneDone(bool) override {
    std::lock_guard<std::mutex> lock(impl_.mu_);
    writing_ = false;
    MaybeReleaseHold();
  }
  void OnReadDone(bool ok) override {
    std::lock_guard<std::mutex> lock(impl_.mu_);
    if (!ok) {
      // The server finished the call: nothing more will be written.
      write_closed_ = true;
      if (!outbox_.empty())
        outbox_.erase(outbox_.begin() + (writing_ ? 1 : 0), outbox_.end());
      MaybeReleaseHold();
      return;
    }
    impl_.OnEvent(*this, incoming_);
    StartRead(&incoming_);
  }
  void OnDone(const grpc::Status& status) override {
    {
      std::lock_guard<std::mutex> lock(impl_.mu_);
      impl_.OnStreamDone(*this, status);
    }
    delete this;
  }

 private:
  void MaybeReleaseHold() {
    if (write_closed_ && !writing_ && hold_) {
      hold_ = false;
      RemoveHold();
    }
  }

  Impl& impl_;
  const uint64_t generation_;
  grpc::ClientContext context_;
  v1::AgentEvent incoming_;
  // The front message is being written while writing_ (std::deque keeps it
  // in place as others are appended).
  std::deque<v1::AgentRequest> outbox_;
  bool writing_ = false;
  bool write_closed_ = false;
  bool half_close_wanted_ = false;
  bool hold_ = false;
};

AgentSession::Impl::Impl(std::shared_ptr<grpc::ChannelInterface> channel,
                         AgentSessionOptions options, Callbacks callbacks)
    : options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      stub_(v1::Agents::NewStub(std::move(channel))),
      ready_(options_.ready),
      not_ready_reason_(options_.not_ready_reason),
      rng_(std::random_device()()) {
  timer_thread_ = std::thread([this] { TimerLoop(); });
  dispatch_thread_ = std::thread([this] { DispatchLoop(); });
}

AgentSession::Impl::~Impl() { Stop(); }

void AgentSession::Impl::Stop() {
  Close();
  {
    std::unique_lock<std::mutex> lock(mu_);
    // Close cancelled the stream: its OnDone comes promptly.
    connection_cv_.wait(lock, [this] { return stream_ == nullptr; });
    stopping_ = true;
  }
  timer_cv_.notify_all();
  dispatch_cv_.notify_all();
  if (timer_thread_.joinable()) timer_thread_.join();
  if (dispatch_thread_.joinable()) dispatch_thread_.join();
}

void AgentSession::Impl::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (connection_ != Connection::kIdle) return;
  Connect();
}

void AgentSession::Impl::Connect() {
  generation_++;
  stream_ = new Stream(*this, generation_);
  logged_in_at_.reset();
  v1::AgentRequest login;
  login.mutable_login()->set_agent_id(options_.agent_id);
  login.mutable_login()->set_ready(ready_);
  if (logins_ > 0) {
    auto* held = login.mutable_login()->mutable_held();
    for (const std::string& id : held_) held->add_contact_ids(id);
  }
  uint64_t n = AddInternal(login, Kind::kLogin);
  Pending& entry = pending_.at(n);
  entry.generation = generation_;
  SetConnection(Connection::kConnecting, grpc::Status::OK);
  stream_->Open(*stub_, std::move(entry.request));
  timer_cv_.notify_all();
}

bool AgentSession::Impl::Send(const v1::AgentRequest& request) {
  return stream_ != nullptr && stream_->Write(request);
}

uint64_t AgentSession::Impl::AddInternal(v1::AgentRequest request, Kind kind) {
  uint64_t n = next_request_++;
  request.set_request_id("r" + std::to_string(n));
  Pending& entry = pending_[n];
  entry.kind = kind;
  entry.deadline = Clock::now() + options_.request_timeout;
  entry.request = std::move(request);
  return n;
}

std::future<grpc::Status> AgentSession::Impl::Submit(v1::AgentRequest request,
                                                     Kind kind) {
  std::promise<grpc::Status> promise;
  std::future<grpc::Status> future = promise.get_future();
  if (connection_ == Connection::kIdle || closed_) {
    promise.set_value(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                   connection_ == Connection::kIdle
                                       ? "the session is not started"
                                       : "the session is closed"));
    return future;
  }
  uint64_t n = AddInternal(std::move(request), kind);
  Pending& entry = pending_.at(n);
  entry.promise = std::move(promise);
  if (kind == Kind::kStateChange) state_changes_++;
  // While (re)connecting, the request waits for the login, which sends the
  // waiting requests in order.
  if (connection_ == Connection::kConnected && Send(entry.request)) {
    entry.generation = generation_;
    entry.request.Clear();
  }
  timer_cv_.notify_all();
  return future;
}

std::future<grpc::Status> AgentSession::Impl::Request(
    v1::AgentRequest request) {
  std::lock_guard<std::mutex> lock(mu_);
  return Submit(std::move(request), Kind::kUser);
}

std::future<grpc::Status> AgentSession::Impl::SetState(
    bool ready, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  v1::AgentRequest request;
  if (ready) {
    request.mutable_ready();
  } else {
    request.mutable_not_ready()->set_reason(reason);
  }
  if (!closed_) {
    ready_ = ready;
    not_ready_reason_ = ready ? "" : reason;
  }
  return Submit(std::move(request), Kind::kStateChange);
}

std::future<grpc::Status> AgentSession::Impl::Logout() {
  std::lock_guard<std::mutex> lock(mu_);
  v1::AgentRequest request;
  request.mutable_logout();
  return Submit(std::move(request), Kind::kLogout);
}

void AgentSession::Impl::Resolve(std::map<uint64_t, Pending>::iterator it,
                                 const grpc::Status& status) {
  Pending& entry = it->second;
  if (entry.kind == Kind::kStateChange) state_changes_--;
  if (entry.kind == Kind::kRedeclare) redeclaring_ = false;
  if (entry.promise) entry.promise->set_value(status);
  pending_.erase(it);
}

void AgentSession::Impl::FailAll(const grpc::Status& status) {
  while (!pending_.empty()) Resolve(pending_.begin(), status);
}

void AgentSession::Impl::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return;
  closed_ = true;
  close_status_ = grpc::Status::OK;
  SetConnection(Connection::kClosed, close_status_);
  if (stream_ != nullptr) {
    // OnStreamDone fails what is in flight.
    stream_->Cancel();
  } else {
    FailAll(
        grpc::Status(grpc::StatusCode::UNAVAILABLE, "the session was closed"));
  }
}

void AgentSession::Impl::OnEvent(Stream& stream, const v1::AgentEvent& event) {
  if (&stream != stream_) return;
  if (event.has_ack()) {
    OnAck(event.ack());
    return;
  }
  // A closed session tells its user nothing more but that it closed.
  if (closed_) return;
  switch (event.event_case()) {
    case v1::AgentEvent::kOffer:
      if (callbacks_.on_offer) {
        Dispatch([this, offer = event.offer()] { callbacks_.on_offer(offer); });
      }
      return;
    case v1::AgentEvent::kAssigned:
      held_.insert(event.assigned().contact().id());
      break;
    case v1::AgentEvent::kWrapUpEnded:
      held_.erase(event.wrap_up_ended().contact_id());
      break;
    case v1::AgentEvent::kStatus: {
      const v1::AgentStatus& status = event.status();
      held_ = {status.contacts().begin(), status.contacts().end()};
      bool declared = connection_ == Connection::kConnected && !redeclaring_ &&
                      state_changes_ == 0;
      if (declared && status.state() == v1::AGENT_STATE_READY) {
        ready_ = true;
        not_ready_reason_.clear();
      } else if (declared && status.state() == v1::AGENT_STATE_NOT_READY) {
        ready_ = false;
        not_ready_reason_ = status.reason();
      }
      if (connection_ == Connection::kConnected &&
          status.state() == v1::AGENT_STATE_OFFLINE) {
        // Logged out by the server (a supervisor): this stream can neither
        // log in again nor log out, and logging in on a new one would undo
        // the supervisor's decision. Stop.
        if (callbacks_.on_event) {
          Dispatch([this, event] { callbacks_.on_event(event); });
        }
        closed_ = true;
        close_status_ = grpc::Status(
            grpc::StatusCode::ABORTED,
            "the agent was logged out by the server: " + status.reason());
        SetConnection(Connection::kClosed, close_status_);
        stream_->Cancel();
        return;
      }
      break;
    }
    default:
      break;
  }
  if (callbacks_.on_event) {
    Dispatch([this, event] { callbacks_.on_event(event); });
  }
}

void AgentSession::Impl::OnAck(const v1::AgentEvent::Ack& ack) {
  const std::string& id = ack.request_id();
  if (id.size() < 2 || id[0] != 'r') return;
  uint64_t n = std::strtoull(id.c_str() + 1, nullptr, 10);
  auto it = pending_.find(n);
  if (it == pending_.end()) return;
  grpc::Status status = FromAck(ack);
  const Kind kind = it->second.kind;
  if (kind == Kind::kRedeclare) {
    Resolve(it, status);
    return;
  }
  Resolve(it, status);
  if (closed_) return;
  if (kind == Kind::kLogout && status.ok()) {
    closed_ = true;
    close_status_ = grpc::Status::OK;
    SetConnection(Connection::kClosed, close_status_);
    // The server finishes the call once it sees the half-close.
    stream_->HalfClose();
    return;
  }
  if (kind != Kind::kLogin) return;
  if (!status.ok()) {
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE) {
      // The agent cannot log in (no profile, ...): retrying will not help.
      closed_ = true;
      close_status_ = grpc::Status(status.error_code(),
                                   "login refused: " + status.error_message());
      SetConnection(Connection::kClosed, close_status_);
    }
    stream_->Cancel();
    return;
  }
  logins_++;
  logged_in_at_ = Clock::now();
  next_heartbeat_ = *logged_in_at_ + options_.heartbeat_interval;
  if (!ready_) {
    // Login only says ready or not; the reason needs its own request.
    v1::AgentRequest not_ready;
    not_ready.mutable_not_ready()->set_reason(not_ready_reason_);
    uint64_t r = AddInternal(std::move(not_ready), Kind::kRedeclare);
    redeclaring_ = true;
    Pending& entry = pending_.at(r);
    if (Send(entry.request)) entry.generation = generation_;
  }
  for (auto& [number, entry] : pending_) {
    if (entry.generation != 0) continue;
    if (!Send(entry.request)) break;
    entry.generation = generation_;
    entry.request.Clear();
  }
  SetConnection(Connection::kConnected, grpc::Status::OK);
  timer_cv_.notify_all();
}

void AgentSession::Impl::OnStreamDone(Stream& stream,
                                      const grpc::Status& status) {
  if (&stream != stream_) return;
  stream_ = nullptr;
  const Clock::time_point now = Clock::now();
  const grpc::Status lost(
      grpc::StatusCode::UNAVAILABLE,
      "the stream ended before the server answered: " + status.error_message());
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto next = std::next(it);
    if (it->second.generation == stream.generation()) Resolve(it, lost);
    it = next;
  }
  if (!closed_ && EndsForGood(status, options_.reconnect_when_replaced)) {
    closed_ = true;
    close_status_ = status;
  }
  if (closed_) {
    FailAll(grpc::Status(
        grpc::StatusCode::UNAVAILABLE,
        "the session is closed: " + close_status_.error_message()));
    SetConnection(Connection::kClosed, close_status_);
    // Also wakes the destructor, which waits for the stream to be gone.
    connection_cv_.notify_all();
    return;
  }
  if (logged_in_at_ && now - *logged_in_at_ >= options_.reconnect_backoff.max) {
    retry_ = 0;
  }
  reconnect_at_ = now + BackoffDelay(options_.reconnect_backoff, retry_, rng_);
  retry_ = std::min(retry_ + 1, 64);
  SetConnection(Connection::kReconnecting, status);
  timer_cv_.notify_all();
}

void AgentSession::Impl::SetConnection(Connection connection,
                                       const grpc::Status& status) {
  if (connection_ == connection) return;
  connection_ = connection;
  connection_cv_.notify_all();
  if (callbacks_.on_connection) {
    Dispatch([this, connection, status] {
      callbacks_.on_connection(connection, status);
    });
  }
}

void AgentSession::Impl::Dispatch(std::function<void()> task) {
  dispatch_.push_back(std::move(task));
  dispatch_cv_.notify_one();
}

void AgentSession::Impl::DispatchLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    dispatch_cv_.wait(lock, [this] { return stopping_ || !dispatch_.empty(); });
    if (dispatch_.empty()) return;
    std::function<void()> task = std::move(dispatch_.front());
    dispatch_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

void AgentSession::Impl::TimerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    Clock::time_point now = Clock::now();
    std::optional<Clock::time_point> wake;
    auto earliest = [&wake](Clock::time_point t) {
      if (!wake || t < *wake) wake = t;
    };
    for (auto it = pending_.begin(); it != pending_.end();) {
      auto next = std::next(it);
      if (it->second.deadline > now) {
        earliest(it->second.deadline);
      } else if (it->second.kind == Kind::kLogin ||
                 it->second.kind == Kind::kHeartbeat) {
        // The server does not answer on this connection: drop it, and
        // reconnect when it is done.
        if (stream_ != nullptr &&
            stream_->generation() == it->second.generation) {
          stream_->Cancel();
        }
        Resolve(it, grpc::Status::OK);
      } else {
        Resolve(it, grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                 "no answer from the server within the "
                                 "request timeout"));
      }
      it = next;
    }
    if (connection_ == Connection::kReconnecting) {
      if (now >= reconnect_at_) {
        Connect();
        continue;
      }
      earliest(reconnect_at_);
    }
    if (connection_ == Connection::kConnected) {
      if (now >= next_heartbeat_) {
        v1::AgentRequest heartbeat;
        heartbeat.mutable_heartbeat();
        uint64_t n = AddInternal(std::move(heartbeat), Kind::kHeartbeat);
        auto entry = pending_.find(n);
        if (Send(entry->second.request)) {
          entry->second.generation = generation_;
        } else {
          // The stream is going down; the next login starts afresh.
          pending_.erase(entry);
        }
        next_heartbeat_ = now + options_.heartbeat_interval;
        continue;
      }
      earliest(next_heartbeat_);
    }
    if (wake) {
      timer_cv_.wait_until(lock, *wake);
    } else {
      timer_cv_.wait(lock);
    }
  }
}

AgentSession::Connection AgentSession::Impl::connection() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connection_;
}

bool AgentSession::Impl::WaitFor(Connection state,
                                 std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return connection_cv_.wait_for(lock, timeout,
                                 [&] { return connection_ == state; });
}

int AgentSession::Impl::logins() const {
  std::lock_guard<std::mutex> lock(mu_);
  return logins_;
}

// --- AgentSession ------------------------------------------------------------

AgentSession::AgentSession(std::shared_ptr<grpc::ChannelInterface> channel,
                           AgentSessionOptions options, Callbacks callbacks)
    : impl_(std::make_unique<Impl>(std::move(channel), std::move(options),
                                   std::move(callbacks))) {}

// Stopped here rather than in ~Impl, so that callbacks still running may use
// this session.
AgentSession::~AgentSession() { impl_->Stop(); }

void AgentSession::Start() { impl_->Start(); }

std::future<grpc::Status> AgentSession::Accept(const std::string& contact_id) {
  v1::AgentRequest request;
  request.mutable_accept()->set_contact_id(contact_id);
  return impl_->Request(std::move(request));
}

std::future<grpc::Status> AgentSession::Reject(const std::string& contact_id) {
  v1::AgentRequest request;
  request.mutable_reject()->set_contact_id(contact_id);
  return impl_->Request(std::move(request));
}

std::future<grpc::Status> AgentSession::Complete(
    const std::string& contact_id, const std::string& wrap_up_code) {
  v1::AgentRequest request;
  request.mutable_complete()->set_contact_id(contact_id);
  request.mutable_complete()->set_wrap_up_code(wrap_up_code);
  return impl_->Request(std::move(request));
}

std::future<grpc::Status> AgentSession::EndWrapUp(
    const std::string& contact_id) {
  v1::AgentRequest request;
  request.mutable_end_wrap_up()->set_contact_id(contact_id);
  return impl_->Request(std::move(request));
}

std::future<grpc::Status> AgentSession::Transfer(const std::string& contact_id,
                                                 const std::string& queue) {
  v1::AgentRequest request;
  request.mutable_transfer()->set_contact_id(contact_id);
  request.mutable_transfer()->set_queue(queue);
  return impl_->Request(std::move(request));
}

std::future<grpc::Status> AgentSession::SetReady() {
  return impl_->SetState(true, "");
}

std::future<grpc::Status> AgentSession::SetNotReady(const std::string& reason) {
  return impl_->SetState(false, reason);
}

std::future<grpc::Status> AgentSession::Logout() { return impl_->Logout(); }

void AgentSession::Close() { impl_->Close(); }

AgentSession::Connection AgentSession::connection() const {
  return impl_->connection();
}

bool AgentSession::WaitFor(Connection state,
                           std::chrono::milliseconds timeout) const {
  return impl_->WaitFor(state, timeout);
}

int AgentSession::logins() const { return impl_->logins(); }

}  // namespace ccroute::client
