// Routes what the engine does to the streams that care: agent desktop
// sessions (offers, withdrawals, assignments, wrap-up, status), contact
// watchers (snapshots, position and estimated wait as they change) and
// supervisor event subscribers (filtered, dropping with a counter when
// behind). Also owns the agent-session life cycle: login binding, heartbeat
// timeouts, and the reconnect grace after a dropped stream.
//
// Thread affinity: engine thread only, except NewSessionId and IsConnected
// (thread-safe).
#ifndef CCROUTE_SERVER_API_SESSION_HUB_H_
#define CCROUTE_SERVER_API_SESSION_HUB_H_

#include <grpcpp/support/byte_buffer.h>

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "ccroute/v1/agents.pb.h"
#include "ccroute/v1/contacts.pb.h"
#include "ccroute/v1/supervisor.pb.h"
#include "server/api/convert.h"
#include "server/api/stream_outbox.h"
#include "server/runtime/engine_runner.h"

namespace ccroute::api {

using AgentOutbox = StreamOutbox<v1::AgentEvent>;
using WatchOutbox = StreamOutbox<v1::ContactUpdate>;
// Event feeds carry v1::Event, serialized once per event for every
// subscriber.
using EventOutbox = StreamOutbox<grpc::ByteBuffer>;

struct HubLimits {
  int max_agent_sessions = 20000;
  int max_watchers = 20000;
  int max_event_subscribers = 64;
  // An event subscriber this many events behind is disconnected.
  int max_dropped_events = 1024;
  core::Duration heartbeat_timeout = std::chrono::seconds(30);
  core::Duration reconnect_grace = std::chrono::seconds(60);
};

struct EventFilter {
  std::set<std::string> queues;
  std::set<std::string> agents;
  std::set<std::string> kinds;
  bool Matches(const core::Event& e, const std::string& kind) const;
};

class SessionHub : public runtime::EngineObserver {
 public:
  SessionHub(runtime::EngineRunner& runner, const TimeMapper& clock,
             HubLimits limits);
  ~SessionHub() override;

  // Any thread: a fresh id for a new agent stream.
  uint64_t NewSessionId() { return next_session_.fetch_add(1); }
  // Any thread: whether the agent has a live desktop session.
  bool IsConnected(const std::string& agent_id) const;

  // --- Agent sessions (engine thread) ---
  // A stream opened: starts its heartbeat clock. RESOURCE_EXHAUSTED closes
  // it when the server holds its maximum of sessions. A non-empty
  // `bound_agent` (the caller's credential, named `principal`, is for that
  // agent) makes a login as any other agent, and acting on another agent's
  // contact or offer, PERMISSION_DENIED.
  void AgentSessionStarted(uint64_t session,
                           std::shared_ptr<AgentOutbox> outbox,
                           std::string bound_agent = {},
                           std::string principal = {});
  // Carries out one request and answers it with an Ack on the outbox.
  void HandleAgentRequest(uint64_t session, const v1::AgentRequest& request,
                          core::Engine& engine, core::Time now);
  // The stream ended for whatever reason. An agent still logged in is
  // treated as disconnected: its open offer goes back to the queue at once
  // and the reconnect grace starts.
  void AgentSessionEnded(uint64_t session, core::Engine& engine,
                         core::Time now);

  // --- Contact watchers (engine thread) ---
  // Sends the contact's snapshot and registers the watcher; NOT_FOUND for
  // an unknown contact, RESOURCE_EXHAUSTED beyond the limit. An ended
  // contact gets its snapshot and the stream finishes.
  grpc::Status AddWatcher(const std::string& contact_id,
                          std::shared_ptr<WatchOutbox> outbox,
                          core::Engine& engine, core::Time now);
  void RemoveWatcher(const WatchOutbox* outbox);

  // --- Event subscribers (engine thread) ---
  grpc::Status AddSubscriber(EventFilter filter,
                             std::shared_ptr<EventOutbox> outbox);
  void RemoveSubscriber(const EventOutbox* outbox);

  // For an agent holding contacts restored from the journal at start, as
  // if its desktop had just dropped: its contacts wait for a login within
  // the reconnect grace, then go back to their queues. Engine thread.
  void AwaitReconnect(const std::string& agent_id) { ArmGrace(agent_id); }

  // Closes every stream with `status` (shutdown). Engine thread.
  void CloseAll(const grpc::Status& status);

  // Streams open now (for metrics). Engine thread.
  size_t agent_sessions() const { return sessions_.size(); }
  size_t watchers() const { return watcher_count_; }
  size_t subscribers() const { return subscribers_.size(); }
  // Events dropped to slow subscribers so far. Thread-safe.
  int64_t dropped_events() const { return dropped_total_.load(); }

  // runtime::EngineObserver
  void OnEvents(const std::vector<core::Event>& events, core::Engine& engine,
                core::Time now) override;

 private:
  struct Session {
    std::shared_ptr<AgentOutbox> outbox;
    std::string agent_id;     // empty until login
    std::string bound_agent;  // empty: may log in as any agent
    std::string principal;    // the credential's name, for logs
    std::unique_ptr<boost::asio::steady_timer> heartbeat;
  };
  struct Watcher {
    std::string contact_id;
    std::string queue;
    std::shared_ptr<WatchOutbox> outbox;
    int last_position = -1;
    int64_t last_wait_seconds = -2;
  };
  struct Subscriber {
    EventFilter filter;
    std::shared_ptr<EventOutbox> outbox;
    int64_t dropped = 0;
  };

  grpc::Status Login(Session& session, uint64_t id,
                     const v1::AgentRequest::Login& login, core::Engine& engine,
                     core::Time now);
  // Whether a request that names a contact (accept, reject, complete, end
  // wrap-up, transfer) names one of `agent`'s, or one no agent holds.
  // A login that declared the contacts the desktop holds: brings the
  // engine in line (see v1::AgentEvent::Reconciled) and says what it did.
  v1::AgentEvent::Reconciled Reconcile(
      const std::string& agent, const v1::AgentRequest::HeldContacts& held,
      core::Engine& engine, core::Time now);
  bool OwnsContact(const std::string& agent, const v1::AgentRequest& request,
                   core::Engine& engine, core::Time now) const;
  void ArmHeartbeat(uint64_t id);
  void ArmGrace(const std::string& agent_id);
  void SendAgent(const std::string& agent_id, v1::AgentEvent message);
  void SendStatus(const std::string& agent_id, core::Engine& engine,
                  core::Time now);
  void NotifyWatchers(const core::Event& event, core::Engine& engine,
                      core::Time now);
  void RefreshPositions(const std::string& queue, core::Engine& engine,
                        core::Time now);
  void Publish(const core::Event& event);

  runtime::EngineRunner& runner_;
  const TimeMapper& clock_;
  const HubLimits limits_;
  std::atomic<uint64_t> next_session_{1};

  std::unordered_map<uint64_t, Session> sessions_;
  std::unordered_map<std::string, uint64_t> session_of_agent_;
  mutable std::mutex connected_mu_;
  std::set<std::string> connected_;  // mirror of session_of_agent_ keys
  std::unordered_map<std::string, std::unique_ptr<boost::asio::steady_timer>>
      grace_;

  // Watchers by contact id; a contact has few.
  std::unordered_map<std::string, std::vector<Watcher>> watchers_;
  std::unordered_map<std::string, std::set<std::string>> watched_in_queue_;
  size_t watcher_count_ = 0;
  std::set<std::string> dirty_queues_;

  std::vector<Subscriber> subscribers_;
  // Set by CloseAll: new streams are refused while the server drains.
  bool closing_ = false;
  std::atomic<int64_t> dropped_total_{0};
};

}  // namespace ccroute::api

#endif  // CCROUTE_SERVER_API_SESSION_HUB_H_
