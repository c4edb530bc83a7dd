#include "server/api/session_hub.h"

#include <grpcpp/impl/codegen/proto_utils.h>

#include <algorithm>
#include <cassert>

#include "server/api/auth.h"
#include "server/runtime/log.h"

namespace ccroute::api {
namespace {

// `message` in the form gRPC writes it: an event fanned out to many
// streams is serialized once, and each stream refers to the same slices.
void Serialize(const v1::Event& message, grpc::ByteBuffer* out) {
  bool own = false;
  grpc::Status s =
      grpc::SerializationTraits<v1::Event>::Serialize(message, out, &own);
  assert(s.ok());  // fails only beyond 2 GiB
  (void)s;
}

// Most contacts a desktop may declare at login: far above any agent's
// capacity, it bounds the work a login can ask for.
constexpr int kMaxHeldContacts = 256;

using core::EventKind;
using runtime::Log;
using runtime::LogLevel;

grpc::Status FromAbsl(const absl::Status& s) { return ToGrpc(s); }

bool ChangesPositions(EventKind kind) {
  switch (kind) {
    case EventKind::kContactQueued:
    case EventKind::kContactOverflowed:
    case EventKind::kContactAssigned:
    case EventKind::kContactEnded:
    case EventKind::kContactUpdated:
    case EventKind::kContactTransferred:
      return true;
    default:
      return false;
  }
}

std::chrono::steady_clock::duration ToSteady(core::Duration d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(d);
}

}  // namespace

bool EventFilter::Matches(const core::Event& e, const std::string& kind) const {
  if (!queues.empty() && !queues.contains(e.queue) &&
      !queues.contains(e.from_queue)) {
    return false;
  }
  if (!agents.empty() && !agents.contains(e.agent_id)) return false;
  if (!kinds.empty() && !kinds.contains(kind)) return false;
  return true;
}

SessionHub::SessionHub(runtime::EngineRunner& runner, const TimeMapper& clock,
                       HubLimits limits)
    : runner_(runner), clock_(clock), limits_(limits) {}

SessionHub::~SessionHub() = default;

bool SessionHub::IsConnected(const std::string& agent_id) const {
  std::lock_guard<std::mutex> lock(connected_mu_);
  return connected_.contains(agent_id);
}

// --- Agent sessions ----------------------------------------------------------

void SessionHub::AgentSessionStarted(uint64_t id,
                                     std::shared_ptr<AgentOutbox> outbox,
                                     std::string bound_agent,
                                     std::string principal) {
  if (closing_) {
    outbox->CloseNow(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                  "the server is shutting down"));
    return;
  }
  if (static_cast<int>(sessions_.size()) >= limits_.max_agent_sessions) {
    outbox->CloseNow(grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        "the server holds its maximum of " +
            std::to_string(limits_.max_agent_sessions) + " agent sessions"));
    return;
  }
  Session& s = sessions_[id];
  s.outbox = std::move(outbox);
  s.bound_agent = std::move(bound_agent);
  s.principal = std::move(principal);
  s.heartbeat =
      std::make_unique<boost::asio::steady_timer>(runner_.io_context());
  ArmHeartbeat(id);
}

void SessionHub::ArmHeartbeat(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  it->second.heartbeat->expires_after(ToSteady(limits_.heartbeat_timeout));
  it->second.heartbeat->async_wait([this, id](boost::system::error_code ec) {
    if (ec) return;
    auto s = sessions_.find(id);
    if (s == sessions_.end()) return;
    // The desktop went silent: end its stream; AgentSessionEnded follows
    // from the stream's OnDone.
    Log(LogLevel::kWarning, "agent_session_silent",
        {{"agent", s->second.agent_id}, {"session", id}});
    s->second.outbox->CloseNow(
        grpc::Status(grpc::StatusCode::UNAVAILABLE,
                     "no request or heartbeat within the heartbeat timeout"));
  });
}

void SessionHub::ArmGrace(const std::string& agent_id) {
  auto& timer = grace_[agent_id];
  timer = std::make_unique<boost::asio::steady_timer>(runner_.io_context());
  timer->expires_after(ToSteady(limits_.reconnect_grace));
  timer->async_wait([this, agent_id](boost::system::error_code ec) {
    if (ec) return;
    runner_.Post([this, agent_id](core::Engine& engine, core::Time now) {
      auto it = grace_.find(agent_id);
      if (it == grace_.end() || session_of_agent_.contains(agent_id)) return;
      grace_.erase(it);
      // Never came back: the assigned contacts go to someone else.
      Log(LogLevel::kWarning, "agent_reconnect_grace_over",
          {{"agent", agent_id}});
      (void)engine.ForceLogout(agent_id, "connection lost", now);
    });
  });
}

grpc::Status SessionHub::Login(Session& session, uint64_t id,
                               const v1::AgentRequest::Login& login,
                               core::Engine& engine, core::Time now) {
  if (login.agent_id().empty()) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "login.agent_id is required"};
  }
  if (!session.bound_agent.empty() && login.agent_id() != session.bound_agent) {
    LogDenial(grpc::StatusCode::PERMISSION_DENIED, method::kConnect,
              session.principal, "login as another agent", "agent",
              session.bound_agent);
    return {grpc::StatusCode::PERMISSION_DENIED,
            "this credential is for agent '" + session.bound_agent + "'"};
  }
  if (!session.agent_id.empty()) {
    return {grpc::StatusCode::FAILED_PRECONDITION,
            "this session is logged in as '" + session.agent_id +
                "'; log out first"};
  }
  if (login.has_held()) {
    const auto& ids = login.held().contact_ids();
    if (ids.size() > kMaxHeldContacts) {
      return {grpc::StatusCode::INVALID_ARGUMENT,
              "login.held: more than " + std::to_string(kMaxHeldContacts) +
                  " contacts"};
    }
    const size_t max_bytes = engine.limits().max_id_bytes;
    for (int i = 0; i < ids.size(); ++i) {
      std::string field = "login.held.contact_ids[" + std::to_string(i) + "]";
      if (ids[i].empty() || ids[i].size() > max_bytes) {
        return {grpc::StatusCode::INVALID_ARGUMENT,
                field + ": empty or longer than " + std::to_string(max_bytes) +
                    " bytes"};
      }
      for (int j = 0; j < i; ++j) {
        if (ids[j] == ids[i]) {
          return {grpc::StatusCode::INVALID_ARGUMENT,
                  field + ": '" + ids[i] + "' is declared twice"};
        }
      }
    }
  }
  absl::Status s = engine.Login(login.agent_id(), now);
  if (!s.ok()) return FromAbsl(s);
  const std::string& agent = login.agent_id();
  if (auto old = session_of_agent_.find(agent);
      old != session_of_agent_.end() && old->second != id) {
    auto previous = sessions_.find(old->second);
    if (previous != sessions_.end()) {
      previous->second.agent_id.clear();
      previous->second.outbox->CloseNow(
          grpc::Status(grpc::StatusCode::ABORTED,
                       "replaced by a new session for agent '" + agent + "'"));
    }
  }
  session.agent_id = agent;
  session_of_agent_[agent] = id;
  {
    std::lock_guard<std::mutex> lock(connected_mu_);
    connected_.insert(agent);
  }
  grace_.erase(agent);
  Log(LogLevel::kInfo, "agent_login", {{"agent", agent}, {"session", id}});
  if (login.has_held()) {
    v1::AgentEvent event;
    *event.mutable_reconciled() = Reconcile(agent, login.held(), engine, now);
    (void)session.outbox->Push(std::move(event));
  }
  if (login.ready()) {
    s = engine.SetReady(agent, now);
    if (!s.ok()) return FromAbsl(s);
  }
  return grpc::Status::OK;
}

void SessionHub::HandleAgentRequest(uint64_t id,
                                    const v1::AgentRequest& request,
                                    core::Engine& engine, core::Time now) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  Session& session = it->second;
  ArmHeartbeat(id);
  grpc::Status status;
  const std::string agent = session.agent_id;
  using R = v1::AgentRequest;
  if (request.action_case() == R::kLogin) {
    status = Login(session, id, request.login(), engine, now);
  } else if (request.action_case() == R::kHeartbeat) {
    status = grpc::Status::OK;
  } else if (request.action_case() == R::ACTION_NOT_SET) {
    status = {grpc::StatusCode::INVALID_ARGUMENT,
              "request has no action (login, ready, accept, ...)"};
  } else if (agent.empty()) {
    status = {grpc::StatusCode::FAILED_PRECONDITION, "log in first"};
  } else if (!session.bound_agent.empty() &&
             !OwnsContact(agent, request, engine, now)) {
    LogDenial(
        grpc::StatusCode::PERMISSION_DENIED, method::kConnect,
        session.principal,
        R::descriptor()->FindFieldByNumber(request.action_case())->name() +
            ": another agent's contact or offer",
        "agent", agent);
    status = {grpc::StatusCode::PERMISSION_DENIED,
              "the contact is offered or assigned to another agent"};
  } else {
    absl::Status s;
    switch (request.action_case()) {
      case R::kReady:
        s = engine.SetReady(agent, now);
        break;
      case R::kNotReady:
        s = engine.SetNotReady(agent, request.not_ready().reason(), now);
        break;
      case R::kAccept:
        s = engine.AcceptOffer(agent, request.accept().contact_id(), now);
        break;
      case R::kReject:
        s = engine.RejectOffer(agent, request.reject().contact_id(), now);
        break;
      case R::kComplete:
        s = engine.CompleteContact(agent, request.complete().contact_id(),
                                   request.complete().wrap_up_code(), now);
        break;
      case R::kEndWrapUp:
        s = engine.EndWrapUp(agent, request.end_wrap_up().contact_id(), now);
        break;
      case R::kTransfer:
        s = engine.TransferContact(agent, request.transfer().contact_id(),
                                   request.transfer().queue(), now);
        break;
      case R::kLogout:
        // The OFFLINE event unbinds the session (see OnEvents).
        s = engine.Logout(agent, now);
        break;
      default:
        s = absl::InvalidArgumentError("unknown action");
    }
    status = FromAbsl(s);
  }
  v1::AgentEvent ack;
  ack.mutable_ack()->set_request_id(request.request_id());
  ack.mutable_ack()->set_code(status.error_code());
  ack.mutable_ack()->set_message(status.error_message());
  if (session.outbox->Push(std::move(ack)) == AgentOutbox::PushResult::kFull) {
    session.outbox->CloseNow(
        grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                     "the desktop is not reading its stream"));
  }
  if (request.action_case() == R::kLogin && status.ok()) {
    SendStatus(request.login().agent_id(), engine, now);
  }
}

v1::AgentEvent::Reconciled SessionHub::Reconcile(
    const std::string& agent, const v1::AgentRequest::HeldContacts& held,
    core::Engine& engine, core::Time now) {
  v1::AgentEvent::Reconciled out;
  auto stats = engine.GetAgentStats(agent, now);
  if (!stats.ok()) return out;
  const std::vector<std::string>& mine = stats->contacts;
  auto declared = [&](const std::string& id) {
    return std::find(held.contact_ids().begin(), held.contact_ids().end(),
                     id) != held.contact_ids().end();
  };
  // What the desktop no longer has goes first: it may free room for what
  // it declares.
  for (const std::string& id : mine) {
    if (declared(id)) continue;
    auto view = engine.GetContactState(id);
    if (!view.ok()) continue;
    absl::Status s = view->state == core::ContactState::kWrapUp
                         ? engine.EndWrapUp(agent, id, now)
                         : engine.ReturnContact(agent, id, now);
    if (s.ok()) out.add_released(id);
  }
  for (const std::string& id : held.contact_ids()) {
    if (std::find(mine.begin(), mine.end(), id) != mine.end()) {
      out.add_kept(id);
      continue;
    }
    absl::Status s = engine.ReclaimContact(agent, id, now);
    if (s.ok()) {
      out.add_reclaimed(id);
      continue;
    }
    v1::AgentEvent::Refusal* refusal = out.add_refused();
    refusal->set_contact_id(id);
    refusal->set_code(static_cast<int>(s.code()));
    refusal->set_message(std::string(s.message()));
  }
  Log(LogLevel::kInfo, "agent_reconciled",
      {{"agent", agent},
       {"kept", out.kept_size()},
       {"reclaimed", out.reclaimed_size()},
       {"released", out.released_size()},
       {"refused", out.refused_size()}});
  return out;
}

bool SessionHub::OwnsContact(const std::string& agent,
                             const v1::AgentRequest& request,
                             core::Engine& engine, core::Time now) const {
  using R = v1::AgentRequest;
  const std::string* contact = nullptr;
  switch (request.action_case()) {
    case R::kAccept:
      contact = &request.accept().contact_id();
      break;
    case R::kReject:
      contact = &request.reject().contact_id();
      break;
    case R::kComplete:
      contact = &request.complete().contact_id();
      break;
    case R::kEndWrapUp:
      contact = &request.end_wrap_up().contact_id();
      break;
    case R::kTransfer:
      contact = &request.transfer().contact_id();
      break;
    default:
      return true;
  }
  auto view = engine.GetContact(*contact, now);
  // Unknown or unclaimed contacts are the engine's to refuse.
  return !view.ok() || view->agent_id.empty() || view->agent_id == agent;
}

void SessionHub::AgentSessionEnded(uint64_t id, core::Engine& engine,
                                   core::Time now) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  std::string agent = it->second.agent_id;
  it->second.heartbeat->cancel();
  sessions_.erase(it);
  if (agent.empty()) return;
  auto bound = session_of_agent_.find(agent);
  if (bound == session_of_agent_.end() || bound->second != id) return;
  session_of_agent_.erase(bound);
  {
    std::lock_guard<std::mutex> lock(connected_mu_);
    connected_.erase(agent);
  }
  // Offers go back at once; assigned contacts wait out the grace.
  Log(LogLevel::kInfo, "agent_disconnected",
      {{"agent", agent}, {"session", id}});
  if (engine.AgentDisconnected(agent, now).ok()) ArmGrace(agent);
}

void SessionHub::SendAgent(const std::string& agent_id,
                           v1::AgentEvent message) {
  auto bound = session_of_agent_.find(agent_id);
  if (bound == session_of_agent_.end()) return;
  auto it = sessions_.find(bound->second);
  if (it == sessions_.end()) return;
  if (it->second.outbox->Push(std::move(message)) ==
      AgentOutbox::PushResult::kFull) {
    it->second.outbox->CloseNow(
        grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                     "the desktop is not reading its stream"));
  }
}

void SessionHub::SendStatus(const std::string& agent_id, core::Engine& engine,
                            core::Time now) {
  auto stats = engine.GetAgentStats(agent_id, now);
  if (!stats.ok()) return;
  v1::AgentEvent message;
  v1::AgentStatus* status = message.mutable_status();
  status->set_agent_id(agent_id);
  status->set_state(ToProto(stats->state));
  status->set_reason(stats->reason);
  for (const std::string& c : stats->contacts) status->add_contacts(c);
  status->set_offered_contact(stats->offered_contact);
  SendAgent(agent_id, std::move(message));
}

// --- Watchers
// -----------------------------------------------------------------

grpc::Status SessionHub::AddWatcher(const std::string& contact_id,
                                    std::shared_ptr<WatchOutbox> outbox,
                                    core::Engine& engine, core::Time now) {
  if (closing_) {
    return {grpc::StatusCode::UNAVAILABLE, "the server is shutting down"};
  }
  if (static_cast<int>(watcher_count_) >= limits_.max_watchers) {
    return {grpc::StatusCode::RESOURCE_EXHAUSTED,
            "the server holds its maximum of " +
                std::to_string(limits_.max_watchers) + " contact watchers"};
  }
  auto view = engine.GetContact(contact_id, now);
  if (!view.ok()) return FromAbsl(view.status());
  v1::ContactUpdate update;
  ToProto(*view, clock_, update.mutable_contact());
  update.set_change("snapshot");
  outbox->Push(std::move(update));
  if (view->state == core::ContactState::kEnded) {
    outbox->Close(grpc::Status::OK);
    return grpc::Status::OK;
  }
  Watcher w{contact_id, view->queue, std::move(outbox), view->position,
            view->estimated_wait
                ? std::chrono::duration_cast<std::chrono::seconds>(
                      *view->estimated_wait)
                      .count()
                : -1};
  watchers_[contact_id].push_back(std::move(w));
  watched_in_queue_[view->queue].insert(contact_id);
  watcher_count_++;
  return grpc::Status::OK;
}

void SessionHub::RemoveWatcher(const WatchOutbox* outbox) {
  for (auto it = watchers_.begin(); it != watchers_.end(); ++it) {
    auto& list = it->second;
    auto w = std::find_if(list.begin(), list.end(), [&](const Watcher& x) {
      return x.outbox.get() == outbox;
    });
    if (w == list.end()) continue;
    std::string queue = w->queue;
    list.erase(w);
    watcher_count_--;
    if (list.empty()) {
      watched_in_queue_[queue].erase(it->first);
      watchers_.erase(it);
    }
    return;
  }
}

void SessionHub::NotifyWatchers(const core::Event& event, core::Engine& engine,
                                core::Time now) {
  auto it = watchers_.find(event.contact_id);
  if (it == watchers_.end()) return;
  bool ended = event.kind == EventKind::kContactEnded;
  v1::ContactUpdate update;
  update.set_change(api::EventKindName(event.kind));
  auto view = engine.GetContact(event.contact_id, now);
  if (view.ok()) ToProto(*view, clock_, update.mutable_contact());
  for (Watcher& w : it->second) {
    if (view.ok()) {
      w.last_position = view->position;
      if (w.queue != view->queue) {
        watched_in_queue_[w.queue].erase(event.contact_id);
        w.queue = view->queue;
        watched_in_queue_[w.queue].insert(event.contact_id);
      }
    }
    if (w.outbox->Push(update) == WatchOutbox::PushResult::kFull) {
      w.outbox->CloseNow(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                      "the watcher is not reading its stream"));
    }
    if (ended) w.outbox->Close(grpc::Status::OK);
  }
  if (ended) {
    for (Watcher& w : it->second) {
      watched_in_queue_[w.queue].erase(event.contact_id);
      watcher_count_--;
    }
    watchers_.erase(it);
  }
}

void SessionHub::RefreshPositions(const std::string& queue,
                                  core::Engine& engine, core::Time now) {
  auto q = watched_in_queue_.find(queue);
  if (q == watched_in_queue_.end()) return;
  for (const std::string& contact_id : q->second) {
    auto view = engine.GetContact(contact_id, now);
    if (!view.ok()) continue;
    int64_t wait = view->estimated_wait
                       ? std::chrono::duration_cast<std::chrono::seconds>(
                             *view->estimated_wait)
                             .count()
                       : -1;
    for (Watcher& w : watchers_[contact_id]) {
      if (w.last_position == view->position && w.last_wait_seconds == wait) {
        continue;
      }
      w.last_position = view->position;
      w.last_wait_seconds = wait;
      v1::ContactUpdate update;
      ToProto(*view, clock_, update.mutable_contact());
      update.set_change("position");
      // A newer position replaces one the watcher has not read yet.
      w.outbox->Push(std::move(update), /*conflate_tag=*/1);
    }
  }
}

// --- Event subscribers -------------------------------------------------------

grpc::Status SessionHub::AddSubscriber(EventFilter filter,
                                       std::shared_ptr<EventOutbox> outbox) {
  if (closing_) {
    return {grpc::StatusCode::UNAVAILABLE, "the server is shutting down"};
  }
  if (static_cast<int>(subscribers_.size()) >= limits_.max_event_subscribers) {
    return {grpc::StatusCode::RESOURCE_EXHAUSTED,
            "the server holds its maximum of " +
                std::to_string(limits_.max_event_subscribers) +
                " event subscribers"};
  }
  subscribers_.push_back({std::move(filter), std::move(outbox), 0});
  return grpc::Status::OK;
}

void SessionHub::RemoveSubscriber(const EventOutbox* outbox) {
  std::erase_if(subscribers_,
                [&](const Subscriber& s) { return s.outbox.get() == outbox; });
}

void SessionHub::Publish(const core::Event& event) {
  if (subscribers_.empty()) return;
  std::string kind = api::EventKindName(event.kind);
  // Serialized once, and shared by every subscriber that is not behind;
  // one that dropped events gets its own copy saying how many.
  v1::Event message;
  grpc::ByteBuffer shared;
  bool built = false;
  for (Subscriber& s : subscribers_) {
    if (!s.filter.Matches(event, kind)) continue;
    if (!built) {
      ToProto(event, clock_, &message);
      Serialize(message, &shared);
      built = true;
    }
    grpc::ByteBuffer own;
    if (s.dropped > 0) {
      message.set_dropped_before(s.dropped);
      Serialize(message, &own);
      message.clear_dropped_before();
    }
    switch (s.outbox->Push(s.dropped > 0 ? own : shared)) {
      case EventOutbox::PushResult::kQueued:
      case EventOutbox::PushResult::kConflated:
        s.dropped = 0;
        break;
      case EventOutbox::PushResult::kFull:
        s.dropped++;
        dropped_total_.fetch_add(1);
        if (s.dropped > limits_.max_dropped_events) {
          s.outbox->CloseNow(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                          "the subscriber fell " +
                                              std::to_string(s.dropped) +
                                              " events behind"));
        }
        break;
      case EventOutbox::PushResult::kClosed:
        break;
    }
  }
}

// --- Engine events
// -------------------------------------------------------------

void SessionHub::OnEvents(const std::vector<core::Event>& events,
                          core::Engine& engine, core::Time now) {
  for (size_t i = 0; i < events.size(); ++i) {
    const core::Event& e = events[i];
    if (!e.agent_id.empty() && session_of_agent_.contains(e.agent_id)) {
      v1::AgentEvent message;
      bool send = true;
      switch (e.kind) {
        case EventKind::kContactOffered: {
          auto view = engine.GetContact(e.contact_id, now);
          if (!view.ok()) {
            send = false;
            break;
          }
          ToProto(*view, clock_, message.mutable_offer()->mutable_contact());
          ToProto(e.deadline, clock_,
                  message.mutable_offer()->mutable_expires_at());
          break;
        }
        case EventKind::kOfferTimedOut:
        case EventKind::kOfferRescinded: {
          auto* w = message.mutable_offer_withdrawn();
          w->set_contact_id(e.contact_id);
          bool cancelled = i + 1 < events.size() &&
                           events[i + 1].kind == EventKind::kContactEnded &&
                           events[i + 1].contact_id == e.contact_id;
          w->set_reason(e.kind == EventKind::kOfferTimedOut ? "timed_out"
                        : cancelled                         ? "cancelled"
                                                            : "rescinded");
          break;
        }
        case EventKind::kContactAssigned: {
          auto view = engine.GetContact(e.contact_id, now);
          if (!view.ok()) {
            send = false;
            break;
          }
          ToProto(*view, clock_, message.mutable_assigned()->mutable_contact());
          break;
        }
        case EventKind::kContactWrapUp:
          message.mutable_wrap_up_started()->set_contact_id(e.contact_id);
          ToProto(e.deadline, clock_,
                  message.mutable_wrap_up_started()->mutable_ends_at());
          break;
        case EventKind::kAgentWrapUpEnded:
          message.mutable_wrap_up_ended()->set_contact_id(e.contact_id);
          break;
        case EventKind::kAgentStateChanged:
          send = false;
          SendStatus(e.agent_id, engine, now);
          if (e.agent_state == core::AgentState::kOffline) {
            // Logged out (by the desktop, a supervisor or the reconnect
            // grace): the stream stays open and may log in again.
            auto bound = session_of_agent_.find(e.agent_id);
            sessions_[bound->second].agent_id.clear();
            session_of_agent_.erase(bound);
            std::lock_guard<std::mutex> lock(connected_mu_);
            connected_.erase(e.agent_id);
          }
          break;
        default:
          send = false;
      }
      if (send) SendAgent(e.agent_id, std::move(message));
    }
    if (!e.contact_id.empty()) NotifyWatchers(e, engine, now);
    if (ChangesPositions(e.kind)) {
      dirty_queues_.insert(e.queue);
      if (!e.from_queue.empty()) dirty_queues_.insert(e.from_queue);
    }
    Publish(e);
  }
  for (const std::string& queue : dirty_queues_) {
    RefreshPositions(queue, engine, now);
  }
  dirty_queues_.clear();
}

void SessionHub::CloseAll(const grpc::Status& status) {
  closing_ = true;
  for (auto& [id, session] : sessions_) session.outbox->Close(status);
  for (auto& [id, list] : watchers_) {
    for (Watcher& w : list) w.outbox->Close(status);
  }
  for (Subscriber& s : subscribers_) s.outbox->Close(status);
  for (auto& [agent, timer] : grace_) timer->cancel();
}

}  // namespace ccroute::api
