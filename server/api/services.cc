#include "server/api/services.h"

#include <memory>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "server/api/personal_data.h"
#include "server/runtime/log.h"

namespace ccroute::api {
namespace {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;
using grpc::Status;
using grpc::StatusCode;

const Status kShuttingDown(StatusCode::UNAVAILABLE,
                           "the server is shutting down");

// Finishes the call on the engine thread with whatever `work` returns.
template <typename Work>
ServerUnaryReactor* OnEngine(CallbackServerContext* context,
                             runtime::EngineRunner& runner, Work work) {
  ServerUnaryReactor* reactor = context->DefaultReactor();
  bool posted = runner.Post([reactor, work = std::move(work)](
                                core::Engine& engine, core::Time now) mutable {
    reactor->Finish(work(engine, now));
  });
  if (!posted) reactor->Finish(kShuttingDown);
  return reactor;
}

Status NotStored(const absl::Status& written) {
  return Status(StatusCode::UNAVAILABLE, "the change could not be stored (" +
                                             std::string(written.message()) +
                                             "); the server is stopping");
}

// As OnEngine, for calls that change contacts: an OK answer waits until
// the journal holds the change (at once without a journal), so that what
// a gateway was told survives a crash.
template <typename Work>
ServerUnaryReactor* OnEngineDurable(CallbackServerContext* context,
                                    runtime::EngineRunner& runner,
                                    journal::JournalObserver* journal,
                                    Work work) {
  ServerUnaryReactor* reactor = context->DefaultReactor();
  bool posted = runner.Post([reactor, journal, work = std::move(work)](
                                core::Engine& engine, core::Time now) mutable {
    Status s = work(engine, now);
    if (!s.ok() || journal == nullptr) return reactor->Finish(s);
    journal->AfterThisCommand([reactor](const absl::Status& written) {
      reactor->Finish(written.ok() ? Status::OK : NotStored(written));
    });
  });
  if (!posted) reactor->Finish(kShuttingDown);
  return reactor;
}

// As OnEngineDurable, for an administrator's change to the configuration:
// `work` also says what the journal keeps of it (RecordChange), written in
// one atomic batch with what the command changed in contacts, and an OK
// answer waits until the journal holds it, so that the change survives a
// restart.
template <typename Work>
ServerUnaryReactor* OnEngineConfigured(CallbackServerContext* context,
                                       runtime::EngineRunner& runner,
                                       journal::JournalObserver* journal,
                                       Work work) {
  auto configure = [journal, work = std::move(work)](core::Engine& engine,
                                                     core::Time now) mutable {
    journal::Batch record;
    Status s = work(engine, now, record);
    if (s.ok() && journal != nullptr) {
      journal->Configured(std::move(record));
    }
    return s;
  };
  return OnEngineDurable(context, runner, journal, std::move(configure));
}

ServerUnaryReactor* FinishNow(CallbackServerContext* context,
                              const Status& status) {
  ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

Status Required(std::string_view field) {
  return Status(StatusCode::INVALID_ARGUMENT,
                std::string(field) + " is required");
}

// A stream refused before it started: finished at once with `status`.
template <typename Reactor>
class Refused final : public Reactor {
 public:
  explicit Refused(const Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

// Parses a request a raw method received; false if the bytes are not one.
template <typename Request>
bool ParseRaw(const grpc::ByteBuffer& raw, Request* request) {
  if (!raw.Valid()) return true;  // no payload: the empty message
  grpc::ByteBuffer bytes(raw);    // shares the slices
  return grpc::SerializationTraits<Request>::Deserialize(&bytes, request).ok();
}

// OK unless `who` is kept to its own contacts and contact `id` is not one
// of them. An unknown id passes: the engine call that follows reports it.
Status MayTouch(const Principal& who, const std::string& id,
                std::string_view method, core::Engine& engine, core::Time now) {
  if (who.unrestricted ||
      (who.role == Role::kGateway && who.gateway_id.empty())) {
    return Status::OK;
  }
  auto view = engine.GetContact(id, now);
  if (!view.ok()) return Status::OK;
  return CheckContactAccess(who, *view, method);
}

// A server-streaming reactor whose writes go through an outbox. `attach`
// runs on the engine thread to register the outbox (and may close it with
// an error); `detach` runs there after the stream is done.
template <typename Message>
class OutboxWriter final : public grpc::ServerWriteReactor<Message> {
 public:
  using Outbox = StreamOutbox<Message>;
  using Attach =
      std::function<Status(std::shared_ptr<Outbox>, core::Engine&, core::Time)>;
  using Detach = std::function<void(const Outbox*)>;

  OutboxWriter(CallbackServerContext* context, runtime::EngineRunner& runner,
               size_t limit, Attach attach, Detach detach)
      : runner_(runner), detach_(std::move(detach)) {
    outbox_ = std::make_shared<Outbox>(
        limit, [this](const Message* m) { this->StartWrite(m); },
        [this](const Status& s) { this->Finish(s); },
        [context] { context->TryCancel(); });
    bool posted = runner_.Post([outbox = outbox_, attach = std::move(attach)](
                                   core::Engine& engine, core::Time now) {
      Status s = attach(outbox, engine, now);
      if (!s.ok()) outbox->CloseNow(s);
    });
    if (!posted) outbox_->CloseNow(kShuttingDown);
  }

  void OnWriteDone(bool ok) override { outbox_->OnWriteDone(ok); }
  void OnCancel() override {
    outbox_->CloseNow(Status(StatusCode::CANCELLED, "cancelled"));
  }
  void OnDone() override {
    runner_.Post([outbox = outbox_, detach = std::move(detach_)](
                     core::Engine&, core::Time) { detach(outbox.get()); });
    delete this;
  }

 private:
  runtime::EngineRunner& runner_;
  Detach detach_;
  std::shared_ptr<Outbox> outbox_;
};

// One agent desktop session: one read in flight; requests are carried out on
// the engine thread in the order they arrive.
class AgentSessionReactor final
    : public grpc::ServerBidiReactor<v1::AgentRequest, v1::AgentEvent> {
 public:
  // `bound_agent`: the only agent the session may log in as; empty: any.
  AgentSessionReactor(CallbackServerContext* context,
                      runtime::EngineRunner& runner, SessionHub& hub,
                      size_t limit, std::string bound_agent,
                      std::string principal)
      : runner_(runner), hub_(hub), id_(hub.NewSessionId()) {
    outbox_ = std::make_shared<AgentOutbox>(
        limit, [this](const v1::AgentEvent* m) { StartWrite(m); },
        [this](const Status& s) { Finish(s); },
        [context] { context->TryCancel(); });
    bool posted = runner_.Post(
        [&hub = hub_, id = id_, outbox = outbox_,
         bound = std::move(bound_agent),
         principal = std::move(principal)](core::Engine&, core::Time) {
          hub.AgentSessionStarted(id, outbox, bound, principal);
        });
    if (!posted) {
      outbox_->CloseNow(kShuttingDown);
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The desktop closed its side (or the stream broke): finish ours once
      // the requests read before are answered. They wait on the engine
      // thread, so the close waits there too, behind them.
      bool posted = runner_.Post([outbox = outbox_](core::Engine&, core::Time) {
        outbox->Close(Status::OK);
      });
      if (!posted) outbox_->CloseNow(kShuttingDown);
      return;
    }
    bool posted = runner_.Post([&hub = hub_, id = id_, request = request_](
                                   core::Engine& engine, core::Time now) {
      hub.HandleAgentRequest(id, request, engine, now);
    });
    if (!posted) {
      outbox_->CloseNow(kShuttingDown);
      return;
    }
    StartRead(&request_);
  }
  void OnWriteDone(bool ok) override { outbox_->OnWriteDone(ok); }
  void OnCancel() override {
    outbox_->CloseNow(Status(StatusCode::CANCELLED, "cancelled"));
  }
  void OnDone() override {
    runner_.Post([&hub = hub_, id = id_](core::Engine& engine, core::Time now) {
      hub.AgentSessionEnded(id, engine, now);
    });
    delete this;
  }

 private:
  runtime::EngineRunner& runner_;
  SessionHub& hub_;
  const uint64_t id_;
  v1::AgentRequest request_;
  std::shared_ptr<AgentOutbox> outbox_;
};

}  // namespace

// --- Contacts
// -------------------------------------------------------------------

ServerUnaryReactor* ContactsService::Create(
    CallbackServerContext* context, std::string_view method,
    absl::StatusOr<core::ContactRequest> request, v1::Contact* response) {
  Principal who;
  Status allowed = ctx_.guard.authorizer.Authorize(*context, method, &who);
  if (!allowed.ok()) return FinishNow(context, allowed);
  if (!request.ok()) return FinishNow(context, ToGrpc(request.status()));
  if (absl::Status s = CheckNoCardNumbers(request->attributes); !s.ok()) {
    return FinishNow(context, ToGrpc(s));
  }
  if (Status s = BindGateway(who, request->gateway, method); !s.ok()) {
    return FinishNow(context, s);
  }
  if (!ctx_.guard.contact_rate.Allow(ClientKey(who, *context))) {
    return FinishNow(context,
                     Status(StatusCode::RESOURCE_EXHAUSTED,
                            "too many new contacts from this client; see "
                            "limits.contact_rate"));
  }
  ServerUnaryReactor* reactor = context->DefaultReactor();
  bool posted = ctx_.runner.Post(
      [reactor, request = *std::move(request), response, &clock = ctx_.clock,
       who = std::move(who), method,
       journal = ctx_.journal](core::Engine& engine, core::Time now) {
        auto view = engine.CreateContact(request, now);
        if (!view.ok()) return reactor->Finish(ToGrpc(view.status()));
        if (Status s = CheckContactAccess(who, *view, method);
            !view->created && !s.ok()) {
          // A retry that names another gateway's contact.
          return reactor->Finish(s);
        }
        ToProto(*view, clock, response);
        if (journal == nullptr) return reactor->Finish(Status::OK);
        // Acknowledged only once the journal holds it: a gateway told OK
        // never loses the caller to a crash.
        journal->Created(
            request, *view, now, [reactor](const absl::Status& written) {
              reactor->Finish(written.ok() ? Status::OK : NotStored(written));
            });
      });
  if (!posted) reactor->Finish(kShuttingDown);
  return reactor;
}

ServerUnaryReactor* ContactsService::CreateContact(
    CallbackServerContext* context, const v1::CreateContactRequest* request,
    v1::Contact* response) {
  return Create(context, method::kCreateContact,
                FromProto(*request, ctx_.clock), response);
}

ServerUnaryReactor* ContactsService::ScheduleCallback(
    CallbackServerContext* context, const v1::ScheduleCallbackRequest* request,
    v1::Contact* response) {
  if (!request->has_not_before()) {
    Principal who;
    Status allowed = ctx_.guard.authorizer.Authorize(
        *context, method::kScheduleCallback, &who);
    return FinishNow(context, allowed.ok() ? Required("not_before") : allowed);
  }
  return Create(context, method::kScheduleCallback,
                FromProto(*request, ctx_.clock), response);
}

ServerUnaryReactor* ContactsService::GetContact(
    CallbackServerContext* context, const v1::GetContactRequest* request,
    v1::Contact* response) {
  Principal who;
  Status allowed =
      ctx_.guard.authorizer.Authorize(*context, method::kGetContact, &who);
  if (!allowed.ok()) return FinishNow(context, allowed);
  if (request->contact_id().empty()) {
    return FinishNow(context, Required("contact_id"));
  }
  return OnEngine(context, ctx_.runner,
                  [id = request->contact_id(), response, &clock = ctx_.clock,
                   who = std::move(who)](core::Engine& engine, core::Time now) {
                    auto view = engine.GetContact(id, now);
                    if (!view.ok()) return ToGrpc(view.status());
                    Status s =
                        CheckContactAccess(who, *view, method::kGetContact);
                    if (!s.ok()) return s;
                    ToProto(*view, clock, response);
                    return Status::OK;
                  });
}

ServerUnaryReactor* ContactsService::CancelContact(
    CallbackServerContext* context, const v1::CancelContactRequest* request,
    v1::Contact* response) {
  Principal who;
  Status allowed =
      ctx_.guard.authorizer.Authorize(*context, method::kCancelContact, &who);
  if (!allowed.ok()) return FinishNow(context, allowed);
  if (request->contact_id().empty()) {
    return FinishNow(context, Required("contact_id"));
  }
  core::EndReason reason;
  switch (request->reason()) {
    case v1::END_REASON_UNSPECIFIED:
    case v1::END_REASON_ABANDONED:
      reason = core::EndReason::kAbandoned;
      break;
    case v1::END_REASON_CANCELLED:
      reason = core::EndReason::kCancelled;
      break;
    default:
      return FinishNow(
          context,
          Status(StatusCode::INVALID_ARGUMENT,
                 "reason: a gateway ends a contact as END_REASON_ABANDONED or "
                 "END_REASON_CANCELLED"));
  }
  return OnEngineDurable(
      context, ctx_.runner, ctx_.journal,
      [id = request->contact_id(), reason, response, &clock = ctx_.clock,

       who = std::move(who)](core::Engine& engine, core::Time now) {
        Status mine = MayTouch(who, id, method::kCancelContact, engine, now);
        if (!mine.ok()) return mine;
        absl::Status s = engine.CancelContact(id, reason, now);
        if (!s.ok()) return ToGrpc(s);
        auto view = engine.GetContact(id, now);
        if (view.ok()) ToProto(*view, clock, response);
        return Status::OK;
      });
}

ServerUnaryReactor* ContactsService::UpdateContact(
    CallbackServerContext* context, const v1::UpdateContactRequest* request,
    v1::Contact* response) {
  Principal who;
  Status allowed =
      ctx_.guard.authorizer.Authorize(*context, method::kUpdateContact, &who);
  if (!allowed.ok()) return FinishNow(context, allowed);
  if (request->contact_id().empty()) {
    return FinishNow(context, Required("contact_id"));
  }
  std::optional<int> priority;
  if (request->has_priority()) priority = request->priority();
  std::optional<std::vector<core::SkillRequirement>> requirements;
  if (request->replace_requirements()) {
    requirements.emplace();
    for (const auto& r : request->requirements()) {
      requirements->push_back({r.skill(), r.min_level()});
    }
  }
  if (!priority && !requirements) {
    return FinishNow(context, Status(StatusCode::INVALID_ARGUMENT,
                                     "nothing to change: set priority or "
                                     "replace_requirements"));
  }
  return OnEngineDurable(
      context, ctx_.runner, ctx_.journal,
      [id = request->contact_id(), priority,
       requirements = std::move(requirements), response, &clock = ctx_.clock,

       who = std::move(who)](core::Engine& engine, core::Time now) mutable {
        Status mine = MayTouch(who, id, method::kUpdateContact, engine, now);
        if (!mine.ok()) return mine;
        absl::Status s =
            engine.UpdateContact(id, priority, std::move(requirements), now);
        if (!s.ok()) return ToGrpc(s);
        auto view = engine.GetContact(id, now);
        if (view.ok()) ToProto(*view, clock, response);
        return Status::OK;
      });
}

grpc::ServerWriteReactor<v1::ContactUpdate>* ContactsService::WatchContact(
    CallbackServerContext* context, const v1::WatchContactRequest* request) {
  Principal who;
  Status allowed =
      ctx_.guard.authorizer.Authorize(*context, method::kWatchContact, &who);
  if (!allowed.ok()) {
    return new Refused<grpc::ServerWriteReactor<v1::ContactUpdate>>(allowed);
  }
  std::string id = request->contact_id();
  SessionHub& hub = ctx_.hub;
  auto* writer = new OutboxWriter<v1::ContactUpdate>(
      context, ctx_.runner, ctx_.stream_queue_limit,
      [id, &hub, who = std::move(who)](std::shared_ptr<WatchOutbox> outbox,
                                       core::Engine& engine, core::Time now) {
        if (id.empty()) return Required("contact_id");
        Status mine = MayTouch(who, id, method::kWatchContact, engine, now);
        if (!mine.ok()) return mine;
        return hub.AddWatcher(id, std::move(outbox), engine, now);
      },
      [&hub](const WatchOutbox* outbox) { hub.RemoveWatcher(outbox); });
  return writer;
}

namespace {

// One declared contact of a Resync, converted and checked.
struct Declared {
  core::ContactRequest request;
  size_t index;  // in the request, for messages
};

// The contacts a Resync declares, or INVALID_ARGUMENT naming the first
// malformed one.
absl::StatusOr<std::vector<Declared>> ParseDeclared(
    const v1::ResyncRequest& request, const std::string& gateway,
    const TimeMapper& clock) {
  std::vector<Declared> out;
  out.reserve(request.contacts_size());
  absl::flat_hash_set<std::string_view> ids;
  for (int i = 0; i < request.contacts_size(); ++i) {
    const v1::ResyncContact& item = request.contacts(i);
    std::string where = "contacts[" + std::to_string(i) + "]";
    auto invalid = [&](absl::string_view message) {
      return absl::InvalidArgumentError(where + ": " + std::string(message));
    };
    auto r = FromProto(item.contact(), clock);
    if (!r.ok()) return invalid(r.status().message());
    if (absl::Status s = CheckNoCardNumbers(r->attributes); !s.ok()) {
      return invalid(s.message());
    }
    if (!r->gateway.empty() && r->gateway != gateway) {
      return invalid("contact.gateway_id '" + r->gateway +
                     "' is not the gateway being resynced ('" + gateway + "')");
    }
    r->gateway = gateway;
    if (item.has_arrived_at()) {
      auto t = FromProto(item.arrived_at(), clock, "arrived_at");
      if (!t.ok()) return invalid(t.status().message());
      r->arrived_at = *t;
    }
    out.push_back({*std::move(r), static_cast<size_t>(i)});
  }
  for (const Declared& d : out) {
    if (!ids.insert(d.request.id).second) {
      return absl::InvalidArgumentError("contacts[" + std::to_string(d.index) +
                                        "]: contact '" + d.request.id +
                                        "' is declared twice");
    }
  }
  return out;
}

void AddRefusal(v1::ResyncResponse* response, const std::string& id,
                const absl::Status& status) {
  v1::ResyncRefusal* refusal = response->add_refused();
  refusal->set_contact_id(id);
  refusal->set_code(static_cast<int>(status.code()));
  refusal->set_message(std::string(status.message()));
}

// Ends the live contacts of `gateway` that it did not declare.
void EndUndeclared(core::Engine& engine, core::Time now,
                   const std::string& gateway,
                   const absl::flat_hash_set<std::string_view>& declared,
                   const TimeMapper& clock, v1::ResyncResponse* response) {
  for (const std::string& id : engine.LiveContactsOf(gateway)) {
    if (declared.contains(id)) continue;
    auto view = engine.GetContactState(id);
    if (!view.ok()) continue;  // ended by an earlier step's routing
    absl::Status ended;
    switch (view->state) {
      case core::ContactState::kQueued:
      case core::ContactState::kOffered:
        // A callback waits in the server, not in the gateway.
        if (view->channel == core::Channel::kCallback) continue;
        ended = engine.CancelContact(id, core::EndReason::kAbandoned, now);
        break;
      case core::ContactState::kAssigned:
        ended = engine.CompleteContact(view->agent_id, id, "resync", now);
        break;
      default:  // scheduled callbacks, wrap-ups
        continue;
    }
    if (!ended.ok()) continue;
    auto after = engine.GetContact(id, now);
    if (after.ok()) ToProto(*after, clock, response->add_ended());
  }
}

}  // namespace

ServerUnaryReactor* ContactsService::Resync(CallbackServerContext* context,
                                            const v1::ResyncRequest* request,
                                            v1::ResyncResponse* response) {
  Principal who;
  Status allowed =
      ctx_.guard.authorizer.Authorize(*context, method::kResync, &who);
  if (!allowed.ok()) return FinishNow(context, allowed);
  std::string gateway = request->gateway_id();
  if (Status s = BindGateway(who, gateway, method::kResync); !s.ok()) {
    return FinishNow(context, s);
  }
  if (gateway.empty()) {
    return FinishNow(context,
                     Status(StatusCode::INVALID_ARGUMENT,
                            "gateway_id is required: Resync reconciles the "
                            "contacts created with it"));
  }
  auto declared = ParseDeclared(*request, gateway, ctx_.clock);
  if (!declared.ok()) return FinishNow(context, ToGrpc(declared.status()));
  return OnEngineDurable(
      context, ctx_.runner, ctx_.journal,
      [declared = *std::move(declared), gateway = std::move(gateway), response,
       &clock = ctx_.clock,
       journal = ctx_.journal](core::Engine& engine, core::Time now) mutable {
        // Every declaration is checked before anything changes.
        for (const Declared& d : declared) {
          absl::Status s =
              core::ValidateContactRequest(d.request, engine.limits());
          if (!s.ok()) {
            return Status(StatusCode::INVALID_ARGUMENT,
                          "contacts[" + std::to_string(d.index) +
                              "]: " + std::string(s.message()));
          }
        }
        absl::flat_hash_set<std::string_view> ids;
        for (const Declared& d : declared) ids.insert(d.request.id);
        // Ended first: the agents they free take the added contacts.
        EndUndeclared(engine, now, gateway, ids, clock, response);
        // Added in arrival order, so that equal arrivals keep the
        // gateway's order.
        std::stable_sort(declared.begin(), declared.end(),
                         [now](const Declared& a, const Declared& b) {
                           return a.request.arrived_at.value_or(now) <
                                  b.request.arrived_at.value_or(now);
                         });
        for (const Declared& d : declared) {
          const std::string& id = d.request.id;
          if (auto view = engine.GetContact(id, now); view.ok()) {
            if (view->state == core::ContactState::kEnded) {
              ToProto(*view, clock, response->add_gone());
            } else if (!view->gateway.empty() && view->gateway != gateway) {
              AddRefusal(response, id,
                         absl::AlreadyExistsError("contact '" + id +
                                                  "' is live for gateway '" +
                                                  view->gateway + "'"));
            } else {
              ToProto(*view, clock, response->add_kept());
            }
            continue;
          }
          auto view = engine.CreateContact(d.request, now);
          if (!view.ok()) {
            AddRefusal(response, id, view.status());
            continue;
          }
          ToProto(*view, clock, response->add_added());
          if (journal != nullptr) {
            // Durable with the rest of the command (see OnEngineDurable).
            journal->Created(d.request, *view, now, [](const absl::Status&) {});
          }
        }
        runtime::Log(runtime::LogLevel::kInfo, "resync",
                     {{"gateway_id", gateway},
                      {"added", response->added_size()},
                      {"kept", response->kept_size()},
                      {"ended", response->ended_size()},
                      {"gone", response->gone_size()},
                      {"refused", response->refused_size()}});
        return Status::OK;
      });
}

// --- Agents
// -----------------------------------------------------------------------

grpc::ServerBidiReactor<v1::AgentRequest, v1::AgentEvent>*
AgentsService::Connect(CallbackServerContext* context) {
  Principal who;
  Status allowed =
      ctx_.guard.authorizer.Authorize(*context, method::kConnect, &who);
  if (!allowed.ok()) {
    return new Refused<
        grpc::ServerBidiReactor<v1::AgentRequest, v1::AgentEvent>>(allowed);
  }
  return new AgentSessionReactor(
      context, ctx_.runner, ctx_.hub, ctx_.stream_queue_limit,
      who.unrestricted ? std::string() : who.agent_id, who.name);
}

// --- Supervisor
// -------------------------------------------------------------------

ServerUnaryReactor* SupervisorService::GetQueueStats(
    CallbackServerContext* context, const v1::GetQueueStatsRequest* request,
    v1::QueueStats* response) {
  Principal who;
  Status allowed =
      ctx_.guard.authorizer.Authorize(*context, method::kGetQueueStats, &who);
  if (!allowed.ok()) return FinishNow(context, allowed);
  if (request->queue().empty()) return FinishNow(context, Required("queue"));
  return OnEngine(context, ctx_.runner,
                  [queue = request->queue(), response](core::Engine& engine,
                                                       core::Time now) {
                    auto stats = engine.GetQueueStats(queue, now);
                    if (!stats.ok()) return ToGrpc(stats.status());
                    ToProto(*stats, response);
                    return Status::OK;
                  });
}

ServerUnaryReactor* SupervisorService::ListQueueStats(
    CallbackServerContext* context, const v1::ListQueueStatsRequest*,
    v1::ListQueueStatsResponse* response) {
  Principal who;
  Status allowed =
      ctx_.guard.authorizer.Authorize(*context, method::kListQueueStats, &who);
  if (!allowed.ok()) return FinishNow(context, allowed);
  return OnEngine(context, ctx_.runner,
                  [response](core::Engine& engine, core::Time now) {
                    for (const auto& stats : engine.GetAllQueueStats(now)) {
                      ToProto(stats, response->add_queues());
                    }
                    return Status::OK;
                  });
}

ServerUnaryReactor* SupervisorService::ListAgents(
    CallbackServerContext* context, const v1::ListAgentsRequest*,
    v1::ListAgentsResponse* response) {
  Principal who;
  Status allowed =
      ctx_.guard.authorizer.Authorize(*context, method::kListAgents, &who);
  if (!allowed.ok()) return FinishNow(context, allowed);
  return OnEngine(
      context, ctx_.runner,
      [response, &hub = ctx_.hub](core::Engine& engine, core::Time now) {
        for (const auto& stats : engine.GetAllAgentStats(now)) {
          v1::AgentStats* out = response->add_agents();
          ToProto(stats, out);
          out->set_connected(hub.IsConnected(stats.id));
        }
        return Status::OK;
      });
}

ServerUnaryReactor* SupervisorService::SetAgentState(
    CallbackServerContext* context, const v1::SetAgentStateRequest* request,
    v1::AgentStats* response) {
  Principal who;
  Status allowed =
      ctx_.guard.authorizer.Authorize(*context, method::kSetAgentState, &who);
  if (!allowed.ok()) return FinishNow(context, allowed);
  if (request->agent_id().empty()) {
    return FinishNow(context, Required("agent_id"));
  }
  v1::AgentState state = request->state();
  if (state != v1::AGENT_STATE_READY && state != v1::AGENT_STATE_NOT_READY &&
      state != v1::AGENT_STATE_OFFLINE) {
    return FinishNow(context,
                     Status(StatusCode::INVALID_ARGUMENT,
                            "state: must be AGENT_STATE_READY, "
                            "AGENT_STATE_NOT_READY or AGENT_STATE_OFFLINE"));
  }
  return OnEngine(context, ctx_.runner,
                  [id = request->agent_id(), state, reason = request->reason(),
                   response, &hub = ctx_.hub, &audit = ctx_.guard.audit,
                   who = std::move(who)](core::Engine& engine, core::Time now) {
                    absl::Status s;
                    if (state == v1::AGENT_STATE_READY) {
                      s = engine.SetReady(id, now);
                    } else if (state == v1::AGENT_STATE_NOT_READY) {
                      s = engine.SetNotReady(
                          id, reason.empty() ? "supervisor" : reason, now);
                    } else {
                      s = engine.ForceLogout(
                          id, reason.empty() ? "supervisor" : reason, now);
                    }
                    audit.Record(who, method::kSetAgentState, id, ToGrpc(s));
                    if (!s.ok()) return ToGrpc(s);
                    auto stats = engine.GetAgentStats(id, now);
                    if (stats.ok()) {
                      ToProto(*stats, response);
                      response->set_connected(hub.IsConnected(id));
                    }
                    return Status::OK;
                  });
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* SupervisorService::WatchEvents(
    CallbackServerContext* context, const grpc::ByteBuffer* raw) {
  using Reactor = grpc::ServerWriteReactor<grpc::ByteBuffer>;
  Principal who;
  Status allowed =
      ctx_.guard.authorizer.Authorize(*context, method::kWatchEvents, &who);
  if (!allowed.ok()) return new Refused<Reactor>(allowed);
  v1::WatchEventsRequest request;
  if (!ParseRaw(*raw, &request)) {
    return new Refused<Reactor>(
        Status(StatusCode::INVALID_ARGUMENT,
               "the request is not a ccroute.v1.WatchEventsRequest"));
  }
  EventFilter filter;
  filter.queues.insert(request.queues().begin(), request.queues().end());
  filter.agents.insert(request.agents().begin(), request.agents().end());
  Status invalid;
  for (const std::string& kind : request.kinds()) {
    if (!ParseEventKind(kind) && invalid.ok()) {
      invalid = Status(StatusCode::INVALID_ARGUMENT,
                       "kinds: unknown event kind '" + kind + "'");
    }
    filter.kinds.insert(kind);
  }
  SessionHub& hub = ctx_.hub;
  return new OutboxWriter<grpc::ByteBuffer>(
      context, ctx_.runner, ctx_.stream_queue_limit,
      [filter = std::move(filter), invalid, &hub](
          std::shared_ptr<EventOutbox> outbox, core::Engine&, core::Time) {
        if (!invalid.ok()) return invalid;
        return hub.AddSubscriber(filter, std::move(outbox));
      },
      [&hub](const EventOutbox* outbox) { hub.RemoveSubscriber(outbox); });
}

// --- Admin
// ----------------------------------------------------------------------

ServerUnaryReactor* AdminService::UpsertQueue(CallbackServerContext* context,
                                              const v1::Queue* request,
                                              v1::Queue* response) {
  Principal who;
  Status allowed =
      ctx_.guard.authorizer.Authorize(*context, method::kUpsertQueue, &who);
  if (!allowed.ok()) return FinishNow(context, allowed);
  auto queue = FromProto(*request);
  if (!queue.ok()) return FinishNow(context, ToGrpc(queue.status()));
  return OnEngineConfigured(
      context, ctx_.runner, ctx_.journal,
      [queue = *std::move(queue), response, &audit = ctx_.guard.audit,
       who = std::move(who), file = ctx_.file_config](
          core::Engine& engine, core::Time now, journal::Batch& record) {
        absl::Status s = engine.UpsertQueue(queue, now);
        audit.Record(who, method::kUpsertQueue, queue.name, ToGrpc(s));
        if (!s.ok()) return ToGrpc(s);
        *response = ToProto(queue);
        if (file != nullptr) {
          record = RecordChange(*file, QueueKey(queue.name), response);
        }
        return Status::OK;
      });
}

ServerUnaryReactor* AdminService::DeleteQueue(
    CallbackServerContext* context, const v1::DeleteQueueRequest* request,
    v1::DeleteQueueResponse*) {
  Principal who;
  Status allowed =
      ctx_.guard.authorizer.Authorize(*context, method::kDeleteQueue, &who);
  if (!allowed.ok()) return FinishNow(context, allowed);
  if (request->name().empty()) return FinishNow(context, Required("name"));
  return OnEngineConfigured(
      context, ctx_.runner, ctx_.journal,
      [name = request->name(), &audit = ctx_.guard.audit, who = std::move(who),
       file = ctx_.file_config](core::Engine& engine, core::Time now,
                                journal::Batch& record) {
        Status s = ToGrpc(engine.DeleteQueue(name, now));
        audit.Record(who, method::kDeleteQueue, name, s);
        if (s.ok() && file != nullptr) {
          record = RecordChange(*file, QueueKey(name), nullptr);
        }
        return s;
      });
}

ServerUnaryReactor* AdminService::ListQueues(CallbackServerContext* context,
                                             const v1::ListQueuesRequest*,
                                             v1::ListQueuesResponse* response) {
  Principal who;
  Status allowed =
      ctx_.guard.authorizer.Authorize(*context, method::kListQueues, &who);
  if (!allowed.ok()) return FinishNow(context, allowed);
  return OnEngine(context, ctx_.runner,
                  [response](core::Engine& engine, core::Time) {
                    for (const auto& q : engine.ListQueues()) {
                      *response->add_queues() = ToProto(q);
                    }
                    return Status::OK;
                  });
}

ServerUnaryReactor* AdminService::UpsertAgentProfile(
    CallbackServerContext* context, const v1::AgentProfile* request,
    v1::AgentProfile* response) {
  Principal who;
  Status allowed = ctx_.guard.authorizer.Authorize(
      *context, method::kUpsertAgentProfile, &who);
  if (!allowed.ok()) return FinishNow(context, allowed);
  auto agent = FromProto(*request);
  if (!agent.ok()) return FinishNow(context, ToGrpc(agent.status()));
  return OnEngineConfigured(
      context, ctx_.runner, ctx_.journal,
      [agent = *std::move(agent), response, &audit = ctx_.guard.audit,
       who = std::move(who), file = ctx_.file_config](
          core::Engine& engine, core::Time now, journal::Batch& record) {
        absl::Status s = engine.UpsertAgentProfile(agent, now);
        audit.Record(who, method::kUpsertAgentProfile, agent.id, ToGrpc(s));
        if (!s.ok()) return ToGrpc(s);
        *response = ToProto(agent);
        if (file != nullptr) {
          record = RecordChange(*file, AgentKey(agent.id), response);
        }
        return Status::OK;
      });
}

ServerUnaryReactor* AdminService::DeleteAgentProfile(
    CallbackServerContext* context,
    const v1::DeleteAgentProfileRequest* request,
    v1::DeleteAgentProfileResponse*) {
  Principal who;
  Status allowed = ctx_.guard.authorizer.Authorize(
      *context, method::kDeleteAgentProfile, &who);
  if (!allowed.ok()) return FinishNow(context, allowed);
  if (request->id().empty()) return FinishNow(context, Required("id"));
  return OnEngineConfigured(
      context, ctx_.runner, ctx_.journal,
      [id = request->id(), &audit = ctx_.guard.audit, who = std::move(who),
       file = ctx_.file_config](core::Engine& engine, core::Time now,
                                journal::Batch& record) {
        Status s = ToGrpc(engine.DeleteAgentProfile(id, now));
        audit.Record(who, method::kDeleteAgentProfile, id, s);
        if (s.ok() && file != nullptr) {
          record = RecordChange(*file, AgentKey(id), nullptr);
        }
        return s;
      });
}

ServerUnaryReactor* AdminService::ListAgentProfiles(
    CallbackServerContext* context, const v1::ListAgentProfilesRequest*,
    v1::ListAgentProfilesResponse* response) {
  Principal who;
  Status allowed = ctx_.guard.authorizer.Authorize(
      *context, method::kListAgentProfiles, &who);
  if (!allowed.ok()) return FinishNow(context, allowed);
  return OnEngine(context, ctx_.runner,
                  [response](core::Engine& engine, core::Time) {
                    for (const auto& a : engine.ListAgentProfiles()) {
                      *response->add_agents() = ToProto(a);
                    }
                    return Status::OK;
                  });
}

ServerUnaryReactor* AdminService::GetRoutingPolicy(
    CallbackServerContext* context, const v1::GetRoutingPolicyRequest*,
    v1::RoutingPolicy* response) {
  Principal who;
  Status allowed = ctx_.guard.authorizer.Authorize(
      *context, method::kGetRoutingPolicy, &who);
  if (!allowed.ok()) return FinishNow(context, allowed);
  return OnEngine(context, ctx_.runner,
                  [response](core::Engine& engine, core::Time) {
                    *response = ToProto(engine.routing_policy());
                    return Status::OK;
                  });
}

ServerUnaryReactor* AdminService::SetRoutingPolicy(
    CallbackServerContext* context, const v1::RoutingPolicy* request,
    v1::RoutingPolicy* response) {
  Principal who;
  Status allowed = ctx_.guard.authorizer.Authorize(
      *context, method::kSetRoutingPolicy, &who);
  if (!allowed.ok()) return FinishNow(context, allowed);
  auto policy = FromProto(*request);
  if (!policy.ok()) return FinishNow(context, ToGrpc(policy.status()));
  return OnEngineConfigured(
      context, ctx_.runner, ctx_.journal,
      [policy = *std::move(policy), response, &audit = ctx_.guard.audit,
       who = std::move(who), file = ctx_.file_config](
          core::Engine& engine, core::Time now, journal::Batch& record) {
        absl::Status s = engine.SetRoutingPolicy(policy, now);
        audit.Record(who, method::kSetRoutingPolicy, "routing_policy",
                     ToGrpc(s));
        if (!s.ok()) return ToGrpc(s);
        *response = ToProto(policy);
        if (file != nullptr) {
          record =
              RecordChange(*file, std::string(kRoutingPolicyKey), response);
        }
        return Status::OK;
      });
}

}  // namespace ccroute::api
