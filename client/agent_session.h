// The agent desktop side of ccroute: one Agents.Connect stream per agent,
// kept logged in across dropped connections and server restarts.
#ifndef CCROUTE_CLIENT_AGENT_SESSION_H_
#define CCROUTE_CLIENT_AGENT_SESSION_H_

#include <grpcpp/channel.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>

#include "ccroute/v1/agents.pb.h"
#include "client/backoff.h"

namespace ccroute::client {

struct AgentSessionOptions {
  // The agent to log in as (required).
  std::string agent_id;
  // Whether the first login goes READY; otherwise NOT_READY with
  // `not_ready_reason`.
  bool ready = true;
  std::string not_ready_reason;
  // A heartbeat is sent this often while logged in. Keep it well below the
  // server's heartbeat timeout (limits.heartbeat_timeout, 30 s by default),
  // after which a silent desktop is disconnected.
  std::chrono::milliseconds heartbeat_interval{10000};
  // How long a request waits for its Ack, including any time spent waiting
  // for the session to (re)connect. A heartbeat unanswered for this long
  // counts as a dead connection: the stream is dropped and reopened.
  std::chrono::milliseconds request_timeout{10000};
  // The waits between reconnect attempts. The sequence starts over once a
  // connection has stayed up for reconnect_backoff.max.
  Backoff reconnect_backoff{std::chrono::milliseconds(200),
                            std::chrono::milliseconds(5000), 2.0, 0.2};
  // A second session for the same agent replaces this one, which the
  // server ends with ABORTED. By default that closes this session: the
  // agent has moved to another desktop. When true, this session reconnects
  // and takes the agent back (two such sessions take turns forever).
  bool reconnect_when_replaced = false;
};

// One agent desktop session: the bidirectional Agents.Connect stream over
// gRPC's callback API, with one write in flight and the rest queued.
//
// - Start() opens the stream and logs in. When the stream drops (network,
//   server restart, heartbeat timeout), the session reconnects with backoff
//   and logs in again, re-declaring READY or NOT_READY(reason) as last
//   declared: by this session's SetReady/SetNotReady, or by the server's
//   own changes reported in status events (the supervisor, missed offers).
//   The server keeps accepted contacts through its reconnect grace; open
//   offers are withdrawn when the stream drops.
// - Requests return a future resolved with the Ack's code and message.
//   A request made while the session is (re)connecting waits for the login
//   and is then sent; one in flight when the stream drops resolves as
//   UNAVAILABLE (the server may or may not have carried it out); one
//   unanswered within request_timeout resolves as DEADLINE_EXCEEDED; one
//   made before Start or after the session closed resolves as
//   FAILED_PRECONDITION. Every future is resolved.
// - The session stops for good (kClosed) after Logout, Close, a refused
//   login (e.g. NOT_FOUND: no such agent profile), a logout by the server
//   (a supervisor forcing the agent OFFLINE: ABORTED), or being replaced by
//   another session (ABORTED, unless reconnect_when_replaced). From then on
//   no offer or event reaches the callbacks.
//
// Thread-safe: every method may be called from any thread, including from
// the callbacks, which run one at a time on the session's own thread in
// the order the server sent the events. A callback may wait on this
// session's futures, but must not destroy the session.
class AgentSession {
 public:
  enum class Connection {
    kIdle,          // not started
    kConnecting,    // stream open, login not yet acknowledged
    kConnected,     // logged in
    kReconnecting,  // the stream dropped; waiting to reconnect
    kClosed,        // stopped for good
  };

  struct Callbacks {
    // An offer: accept or reject it before offer.expires_at().
    std::function<void(const v1::AgentEvent::Offer& offer)> on_offer;
    // Every other event the server pushes (offer_withdrawn, assigned,
    // wrap_up_started, wrap_up_ended, status, reconciled); not acks. After
    // a reconnect the login declares the contacts the agent held, and
    // `reconciled` says what the server made of them.
    std::function<void(const v1::AgentEvent& event)> on_event;
    // The connection changed; `status` says why for kReconnecting (how the
    // stream ended) and kClosed (OK after Logout or Close).
    std::function<void(Connection connection, const grpc::Status& status)>
        on_connection;
  };

  // Does not connect yet: call Start. `channel` must not be null.
  AgentSession(std::shared_ptr<grpc::ChannelInterface> channel,
               AgentSessionOptions options, Callbacks callbacks);
  // Close(), then waits for the stream to end and for the callbacks
  // already queued to run.
  ~AgentSession();
  AgentSession(const AgentSession&) = delete;
  AgentSession& operator=(const AgentSession&) = delete;

  // Opens the stream and logs in; returns at once. Only the first call
  // does anything.
  void Start();

  std::future<grpc::Status> Accept(const std::string& contact_id);
  std::future<grpc::Status> Reject(const std::string& contact_id);
  std::future<grpc::Status> Complete(const std::string& contact_id,
                                     const std::string& wrap_up_code);
  std::future<grpc::Status> EndWrapUp(const std::string& contact_id);
  std::future<grpc::Status> Transfer(const std::string& contact_id,
                                     const std::string& queue);
  // Also become the state re-declared on every later reconnect, even when
  // this request itself fails.
  std::future<grpc::Status> SetReady();
  std::future<grpc::Status> SetNotReady(const std::string& reason);
  // Logs out; once the server has acknowledged it, the session closes (the
  // stream ends cleanly, no reconnects). Refused with FAILED_PRECONDITION
  // by the server while the agent holds contacts; the session stays open.
  std::future<grpc::Status> Logout();

  // Stops for good without logging out, as a desktop that quits: the
  // stream is cancelled, so the server withdraws the open offer and keeps
  // accepted contacts for its reconnect grace. Requests not yet answered
  // resolve as UNAVAILABLE, and events arriving from now on reach no
  // callback; on_connection reports kClosed with OK. Returns at once;
  // idempotent.
  void Close();

  Connection connection() const;
  // Waits up to `timeout` until the connection is `state`; true if it is.
  bool WaitFor(Connection state, std::chrono::milliseconds timeout) const;
  // Successful logins so far: 1 after the first, +1 per reconnect.
  int logins() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// "idle", "connecting", "connected", "reconnecting", "closed".
const char* ConnectionName(AgentSession::Connection connection);

}  // namespace ccroute::client

#endif  // CCROUTE_CLIENT_AGENT_SESSION_H_
