#include "bench/load/agent_fleet.h"

#include <grpcpp/client_context.h>
#include <grpcpp/support/client_callback.h>

#include <algorithm>
#include <deque>
#include <thread>
#include <utility>

#include "bench/load/center.h"
#include "ccroute/v1/agents.grpc.pb.h"

namespace ccroute::load {

namespace v1 = ccroute::v1;

// The request ids say what a request was and for which contact, so that an
// Ack needs no lookup: the kind's letter, then the contact id.
enum class Action : char {
  kLogin = 'L',
  kAccept = 'a',
  kComplete = 'c',
  kEndWrapUp = 'w',
  kHeartbeat = 'h',
  kLogout = 'o',
};

// One agent's stream. Owned by the fleet, which keeps it until the stream is
// done (OnDone), so that the timer may still call Act on it: a stream that
// has ended drops the request.
class AgentStream final
    : public grpc::ClientBidiReactor<v1::AgentRequest, v1::AgentEvent> {
 public:
  AgentStream(AgentFleet& fleet, LoadRun& run, v1::Agents::Stub& stub,
              std::string agent_id, uint64_t seed)
      : fleet_(fleet),
        run_(run),
        stub_(stub),
        agent_id_(std::move(agent_id)),
        random_(seed) {}

  // Opens the stream and logs in READY.
  void Start() {
    stub_.async()->Connect(&context_, this);
    v1::AgentRequest login;
    login.set_request_id(std::string(1, static_cast<char>(Action::kLogin)));
    login.mutable_login()->set_agent_id(agent_id_);
    login.mutable_login()->set_ready(true);
    // Keeps the call from finishing while the timer may still start writes
    // from outside a reaction; released once no write can follow.
    AddHold();
    Send(std::move(login));
    StartRead(&event_);
    StartCall();
  }

  // Sends the request for `action` on `contact_id` (the timer's entry point).
  void Act(Action action, const std::string& contact_id) {
    v1::AgentRequest request;
    std::string request_id(1, static_cast<char>(action));
    request_id += contact_id;
    request.set_request_id(std::move(request_id));
    switch (action) {
      case Action::kAccept: {
        uint64_t seq;
        if (run_.ParseContactId(contact_id, seq)) {
          if (ContactRecord* r = run_.contacts().Find(seq)) {
            r->accept_sent.store(NowNs(), std::memory_order_relaxed);
          }
        }
        request.mutable_accept()->set_contact_id(contact_id);
        break;
      }
      case Action::kComplete:
        request.mutable_complete()->set_contact_id(contact_id);
        request.mutable_complete()->set_wrap_up_code("load");
        break;
      case Action::kEndWrapUp:
        request.mutable_end_wrap_up()->set_contact_id(contact_id);
        break;
      case Action::kHeartbeat:
        request.mutable_heartbeat();
        break;
      case Action::kLogin:
      case Action::kLogout:
        return;
    }
    Send(std::move(request));
  }

  // Sends a heartbeat if nothing was sent since `idle_since`.
  void HeartbeatIfIdle(int64_t idle_since) {
    if (last_sent_.load(std::memory_order_relaxed) < idle_since) {
      Act(Action::kHeartbeat, "");
    }
  }

  // Logs out, then closes the sending side; the server finishes the stream.
  void Close() {
    v1::AgentRequest logout;
    logout.set_request_id(std::string(1, static_cast<char>(Action::kLogout)));
    logout.mutable_logout();
    bool write = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stream_ended_ || closing_) return;
      closing_ = true;
      if (writing_) {
        queue_.push_back(std::move(logout));
      } else {
        writing_ = true;
        in_flight_ = std::move(logout);
        write = true;
      }
    }
    if (write) StartWrite(&in_flight_);
  }

  void Cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override {
    if (!ok) {
      CountRefusedWrapUp();
      bool release;
      {
        std::lock_guard<std::mutex> lock(mu_);
        stream_ended_ = true;
        queue_.clear();
        release = ReleasableLocked();
      }
      if (release) RemoveHold();
      return;
    }
    Handle(event_);
    StartRead(&event_);
  }

  void OnWriteDone(bool ok) override {
    enum { kNothing, kWrite, kWritesDone, kRelease } next = kNothing;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (ok && !stream_ended_ && !queue_.empty()) {
        in_flight_ = std::move(queue_.front());
        queue_.pop_front();
        next = kWrite;
      } else if (ok && !stream_ended_ && closing_ && !writes_done_) {
        writes_done_ = true;
        next = kWritesDone;
      } else {
        // A failed write means the stream is gone: the read fails next.
        writing_ = false;
        queue_.clear();
        if (ReleasableLocked()) next = kRelease;
      }
    }
    switch (next) {
      case kWrite:
        StartWrite(&in_flight_);
        break;
      case kWritesDone:
        StartWritesDone();
        break;
      case kRelease:
        RemoveHold();
        break;
      case kNothing:
        break;
    }
  }

  void OnWritesDoneDone(bool) override {
    bool release;
    {
      std::lock_guard<std::mutex> lock(mu_);
      writing_ = false;
      release = ReleasableLocked();
    }
    if (release) RemoveHold();
  }

  void OnDone(const grpc::Status& status) override {
    if (!status.ok()) run_.CountStatus("Agents.Connect", status);
    fleet_.OnStreamDone();
  }

 private:
  // Queues or starts a write; dropped once the stream is closing or gone.
  void Send(v1::AgentRequest request) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stream_ended_ || closing_) return;
      last_sent_.store(NowNs(), std::memory_order_relaxed);
      run_.requests_sent().fetch_add(1, std::memory_order_relaxed);
      if (writing_) {
        queue_.push_back(std::move(request));
        return;
      }
      writing_ = true;
      in_flight_ = std::move(request);
    }
    StartWrite(&in_flight_);
  }

  // True once, when the hold can go: nothing in flight that we started and
  // nothing more will be started.
  bool ReleasableLocked() {
    if (hold_released_ || writing_) return false;
    if (!stream_ended_ && !writes_done_) return false;
    hold_released_ = true;
    return true;
  }

  // Carries out `action` after `delay_ns`, or now.
  void After(int64_t delay_ns, Action action, const std::string& contact_id);

  void Handle(const v1::AgentEvent& event) {
    int kind = static_cast<int>(event.event_case());
    if (kind > 0 && kind < LoadRun::kEventKinds) {
      run_.events(kind).fetch_add(1, std::memory_order_relaxed);
    }
    switch (event.event_case()) {
      case v1::AgentEvent::kAck:
        HandleAck(event.ack());
        break;
      case v1::AgentEvent::kOffer: {
        const std::string& id = event.offer().contact().id();
        run_.offers().fetch_add(1, std::memory_order_relaxed);
        if (ContactRecord* r = Record(id)) {
          int64_t unseen = 0;
          r->offered.compare_exchange_strong(unseen, NowNs(),
                                             std::memory_order_relaxed);
        } else {
          run_.foreign_offers().fetch_add(1, std::memory_order_relaxed);
        }
        After(run_.behaviour().accept.DrawNs(random_.Uniform()),
              Action::kAccept, id);
        break;
      }
      case v1::AgentEvent::kAssigned:
        After(run_.behaviour().handle.DrawNs(random_.Uniform()),
              Action::kComplete, event.assigned().contact().id());
        break;
      case v1::AgentEvent::kWrapUpStarted: {
        CountRefusedWrapUp();
        const AgentBehaviour& b = run_.behaviour();
        int64_t timeout_ns = static_cast<int64_t>(b.wrap_up_timeout_ms * 1e6);
        if (timeout_ns == 0) break;  // over at once: no wrap-up to end
        int64_t delay = b.wrap_up.DrawNs(random_.Uniform());
        if (random_.Uniform() < b.wrap_up_expire || delay >= timeout_ns) {
          run_.wrap_ups_expired().fetch_add(1, std::memory_order_relaxed);
          break;
        }
        After(delay, Action::kEndWrapUp, event.wrap_up_started().contact_id());
        break;
      }
      case v1::AgentEvent::kWrapUpEnded: {
        const std::string& id = event.wrap_up_ended().contact_id();
        if (id == refused_wrap_up_) {
          run_.wrap_up_races().fetch_add(1, std::memory_order_relaxed);
          refused_wrap_up_.clear();
        }
        if (ContactRecord* r = Record(id)) run_.OnCompleted(*r);
        break;
      }
      case v1::AgentEvent::kOfferWithdrawn:
        run_.CountWithdrawn(event.offer_withdrawn().reason());
        break;
      case v1::AgentEvent::kStatus:
      case v1::AgentEvent::kReconciled:
      case v1::AgentEvent::EVENT_NOT_SET:
        break;
    }
  }

  void HandleAck(const v1::AgentEvent::Ack& ack) {
    const std::string& id = ack.request_id();
    if (id.empty()) return;
    auto action = static_cast<Action>(id[0]);
    std::string_view contact_id = std::string_view(id).substr(1);
    if (action == Action::kLogin) {
      fleet_.OnLogin(ack.code() == 0, ack.message());
      if (ack.code() != 0) {
        run_.CountError(std::string("ack login ") + StatusCodeName(ack.code()));
      }
      return;
    }
    ContactRecord* r = contact_id.empty() ? nullptr : Record(contact_id);
    if (ack.code() == 0) {
      if (action == Action::kAccept && r != nullptr) {
        r->accept_acked.store(NowNs(), std::memory_order_relaxed);
      }
      return;
    }
    const char* what = "other";
    switch (action) {
      case Action::kAccept:
        what = "accept";
        break;
      case Action::kComplete:
        what = "complete";
        break;
      case Action::kEndWrapUp:
        // The server's wrap-up timer may have got there first. Its
        // wrap_up_ended comes before this ack when the timer fired on its
        // own, and just after it when it fired while the server carried out
        // this request: that is told apart when the next event comes.
        if (r != nullptr && r->completed.load() != 0) {
          run_.wrap_up_races().fetch_add(1, std::memory_order_relaxed);
          return;
        }
        CountRefusedWrapUp();
        refused_wrap_up_ = std::string(contact_id);
        refused_code_ = ack.code();
        return;
      case Action::kHeartbeat:
        what = "heartbeat";
        break;
      case Action::kLogout:
        what = "logout";
        break;
      case Action::kLogin:
        break;
    }
    run_.CountError(std::string("ack ") + what + " " +
                    StatusCodeName(ack.code()));
  }

  // A refused end_wrap_up not followed by its contact's wrap_up_ended is an
  // error.
  void CountRefusedWrapUp() {
    if (refused_wrap_up_.empty()) return;
    refused_wrap_up_.clear();
    run_.CountError(std::string("ack end_wrap_up ") +
                    StatusCodeName(refused_code_));
  }

  ContactRecord* Record(std::string_view contact_id) {
    uint64_t seq;
    if (!run_.ParseContactId(contact_id, seq)) return nullptr;
    return run_.contacts().Find(seq);
  }

  AgentFleet& fleet_;
  LoadRun& run_;
  v1::Agents::Stub& stub_;
  const std::string agent_id_;
  grpc::ClientContext context_;
  // Reactions only (one at a time).
  Random random_;
  v1::AgentEvent event_;
  std::string refused_wrap_up_;
  int refused_code_ = 0;

  std::mutex mu_;
  std::deque<v1::AgentRequest> queue_;
  v1::AgentRequest in_flight_;
  bool writing_ = false;
  bool closing_ = false;
  bool writes_done_ = false;
  bool stream_ended_ = false;
  bool hold_released_ = false;
  std::atomic<int64_t> last_sent_{0};
};

// The agents' delays: a min-heap of actions by due time, run by one thread,
// which also sends the heartbeats. Thread-safe.
class DelayTimer {
 public:
  using HeartbeatFn = std::function<void(int64_t idle_since)>;

  DelayTimer(std::chrono::milliseconds heartbeat_interval,
             HeartbeatFn heartbeat)
      : heartbeat_ns_(heartbeat_interval.count() * 1000000),
        heartbeat_(std::move(heartbeat)),
        thread_([this] { Run(); }) {}

  ~DelayTimer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

  void Schedule(int64_t when, AgentStream* agent, Action action,
                std::string contact_id) {
    bool wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      wake = heap_.empty() || when < heap_.front().when;
      heap_.push_back({when, agent, action, std::move(contact_id)});
      std::push_heap(heap_.begin(), heap_.end(), Later);
    }
    if (wake) cv_.notify_one();
  }

 private:
  struct Entry {
    int64_t when;
    AgentStream* agent;
    Action action;
    std::string contact_id;
  };
  static bool Later(const Entry& a, const Entry& b) { return a.when > b.when; }

  void Run() {
    int64_t next_heartbeat = NowNs() + heartbeat_ns_;
    std::vector<Entry> due;
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      int64_t now = NowNs();
      while (!heap_.empty() && heap_.front().when <= now) {
        std::pop_heap(heap_.begin(), heap_.end(), Later);
        due.push_back(std::move(heap_.back()));
        heap_.pop_back();
      }
      bool heartbeat = now >= next_heartbeat;
      if (!due.empty() || heartbeat) {
        lock.unlock();
        for (Entry& e : due) e.agent->Act(e.action, e.contact_id);
        due.clear();
        if (heartbeat) {
          heartbeat_(now - heartbeat_ns_);
          next_heartbeat = now + heartbeat_ns_;
        }
        lock.lock();
        continue;
      }
      int64_t wake = next_heartbeat;
      if (!heap_.empty()) wake = std::min(wake, heap_.front().when);
      cv_.wait_until(lock, std::chrono::steady_clock::time_point(
                               std::chrono::nanoseconds(wake)));
    }
  }

  const int64_t heartbeat_ns_;
  const HeartbeatFn heartbeat_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Entry> heap_;
  bool stop_ = false;
  std::thread thread_;
};

void AgentStream::After(int64_t delay_ns, Action action,
                        const std::string& contact_id) {
  if (delay_ns <= 0) {
    Act(action, contact_id);
  } else {
    fleet_.timer().Schedule(NowNs() + delay_ns, this, action, contact_id);
  }
}

AgentFleet::AgentFleet(FleetOptions options, LoadRun& run)
    : options_(std::move(options)), run_(run) {
  timer_ = std::make_unique<DelayTimer>(options_.heartbeat_interval,
                                        [this](int64_t idle_since) {
                                          if (!started_.load()) return;
                                          for (auto& agent : agents_)
                                            agent->HeartbeatIfIdle(idle_since);
                                        });
}

AgentFleet::~AgentFleet() {
  Close(std::chrono::milliseconds(10000));
  // The timer may still hold agents: stop it before they go.
  timer_.reset();
}

absl::Status AgentFleet::Connect(std::chrono::milliseconds timeout) {
  for (const auto& channel : options_.channels) {
    stubs_.push_back(v1::Agents::NewStub(channel));
  }
  Random seeds(options_.seed);
  agents_.reserve(static_cast<size_t>(options_.agents));
  for (int i = 0; i < options_.agents; ++i) {
    auto& stub = *stubs_[static_cast<size_t>(i) % stubs_.size()];
    agents_.push_back(std::make_unique<AgentStream>(*this, run_, stub,
                                                    AgentId(i), seeds.Next()));
  }
  // The agents are all in place before the timer's heartbeats walk them.
  started_.store(true);
  for (auto& agent : agents_) agent->Start();
  std::unique_lock<std::mutex> lock(mu_);
  bool answered = cv_.wait_for(lock, timeout, [&] {
    return logins_answered_ == options_.agents ||
           streams_done_ == options_.agents;
  });
  if (!first_refusal_.empty()) {
    return absl::FailedPreconditionError("a login was refused: " +
                                         first_refusal_);
  }
  if (!answered || logins_answered_ < options_.agents) {
    return absl::DeadlineExceededError(
        std::to_string(logins_answered_) + " of " +
        std::to_string(options_.agents) + " logins answered, " +
        std::to_string(streams_done_) + " streams ended");
  }
  return absl::OkStatus();
}

void AgentFleet::OnLogin(bool ok, const std::string& message) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    logins_answered_++;
    if (!ok && first_refusal_.empty()) first_refusal_ = message;
  }
  cv_.notify_all();
}

void AgentFleet::OnStreamDone() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    streams_done_++;
  }
  cv_.notify_all();
}

bool AgentFleet::WaitForDone(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    return streams_done_ == static_cast<int>(agents_.size());
  });
}

void AgentFleet::Close(std::chrono::milliseconds timeout) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
  }
  for (auto& agent : agents_) agent->Close();
  if (WaitForDone(timeout)) return;
  for (auto& agent : agents_) agent->Cancel();
  if (WaitForDone(timeout)) return;
  // A stream that never finishes would be used after free: keep them all.
  for (auto& agent : agents_) (void)agent.release();
  for (auto& stub : stubs_) (void)stub.release();
}

}  // namespace ccroute::load
