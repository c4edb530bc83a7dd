// The gRPC callback services of ccroute.v1. Each reaction validates and
// converts its request, posts the work to the engine thread and returns; the
// engine thread finishes the call. Streams write through a StreamOutbox.
//
// Thread-safe: gRPC calls the services from its own threads.
#ifndef CCROUTE_SERVER_API_SERVICES_H_
#define CCROUTE_SERVER_API_SERVICES_H_

#include "ccroute/v1/admin.grpc.pb.h"
#include "ccroute/v1/agents.grpc.pb.h"
#include "ccroute/v1/contacts.grpc.pb.h"
#include "ccroute/v1/supervisor.grpc.pb.h"
#include "server/api/admin_changes.h"
#include "server/api/audit_log.h"
#include "server/api/auth.h"
#include "server/api/convert.h"
#include "server/api/rate_limiter.h"
#include "server/api/session_hub.h"
#include "server/journal/journal_observer.h"
#include "server/runtime/engine_runner.h"

namespace ccroute::api {

// Who is calling, and what the services check and record about it. All
// references outlive the services.
struct CallGuard {
  const Authorizer& authorizer;
  AuditLog& audit;
  // CreateContact and ScheduleCallback, per client.
  RateLimiter& contact_rate;
};

// What the services share. All references outlive the services.
struct ServiceContext {
  runtime::EngineRunner& runner;
  SessionHub& hub;
  const TimeMapper& clock;
  const CallGuard& guard;
  // Outbound messages queued per stream before it counts as too slow.
  size_t stream_queue_limit = 1024;
  // Writes new contacts to the journal; a create is acknowledged from its
  // callback. Null: memory only.
  journal::JournalObserver* journal = nullptr;
  // The configuration the server started on: an administrator's change is
  // journaled against it (admin_changes.h). Set whenever `journal` is.
  const FileConfig* file_config = nullptr;
};

class ContactsService final : public v1::Contacts::CallbackService {
 public:
  explicit ContactsService(ServiceContext context) : ctx_(context) {}

  grpc::ServerUnaryReactor* CreateContact(
      grpc::CallbackServerContext* context,
      const v1::CreateContactRequest* request, v1::Contact* response) override;
  grpc::ServerUnaryReactor* ScheduleCallback(
      grpc::CallbackServerContext* context,
      const v1::ScheduleCallbackRequest* request,
      v1::Contact* response) override;
  grpc::ServerUnaryReactor* GetContact(grpc::CallbackServerContext* context,
                                       const v1::GetContactRequest* request,
                                       v1::Contact* response) override;
  grpc::ServerUnaryReactor* CancelContact(
      grpc::CallbackServerContext* context,
      const v1::CancelContactRequest* request, v1::Contact* response) override;
  grpc::ServerUnaryReactor* UpdateContact(
      grpc::CallbackServerContext* context,
      const v1::UpdateContactRequest* request, v1::Contact* response) override;
  grpc::ServerWriteReactor<v1::ContactUpdate>* WatchContact(
      grpc::CallbackServerContext* context,
      const v1::WatchContactRequest* request) override;
  grpc::ServerUnaryReactor* Resync(grpc::CallbackServerContext* context,
                                   const v1::ResyncRequest* request,
                                   v1::ResyncResponse* response) override;

 private:
  grpc::ServerUnaryReactor* Create(grpc::CallbackServerContext* context,
                                   std::string_view method,
                                   absl::StatusOr<core::ContactRequest> request,
                                   v1::Contact* response);
  ServiceContext ctx_;
};

class AgentsService final : public v1::Agents::CallbackService {
 public:
  explicit AgentsService(ServiceContext context) : ctx_(context) {}

  grpc::ServerBidiReactor<v1::AgentRequest, v1::AgentEvent>* Connect(
      grpc::CallbackServerContext* context) override;

 private:
  ServiceContext ctx_;
};

// WatchEvents is registered raw: its stream carries each event serialized
// once and shared by every subscriber (see SessionHub::Publish), and its
// request is parsed here.
class SupervisorService final
    : public v1::Supervisor::WithRawCallbackMethod_WatchEvents<
          v1::Supervisor::CallbackService> {
 public:
  explicit SupervisorService(ServiceContext context) : ctx_(context) {}

  grpc::ServerUnaryReactor* GetQueueStats(
      grpc::CallbackServerContext* context,
      const v1::GetQueueStatsRequest* request,
      v1::QueueStats* response) override;
  grpc::ServerUnaryReactor* ListQueueStats(
      grpc::CallbackServerContext* context,
      const v1::ListQueueStatsRequest* request,
      v1::ListQueueStatsResponse* response) override;
  grpc::ServerUnaryReactor* ListAgents(
      grpc::CallbackServerContext* context,
      const v1::ListAgentsRequest* request,
      v1::ListAgentsResponse* response) override;
  grpc::ServerUnaryReactor* SetAgentState(
      grpc::CallbackServerContext* context,
      const v1::SetAgentStateRequest* request,
      v1::AgentStats* response) override;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* WatchEvents(
      grpc::CallbackServerContext* context,
      const grpc::ByteBuffer* request) override;

 private:
  ServiceContext ctx_;
};

class AdminService final : public v1::Admin::CallbackService {
 public:
  explicit AdminService(ServiceContext context) : ctx_(context) {}

  grpc::ServerUnaryReactor* UpsertQueue(grpc::CallbackServerContext* context,
                                        const v1::Queue* request,
                                        v1::Queue* response) override;
  grpc::ServerUnaryReactor* DeleteQueue(
      grpc::CallbackServerContext* context,
      const v1::DeleteQueueRequest* request,
      v1::DeleteQueueResponse* response) override;
  grpc::ServerUnaryReactor* ListQueues(
      grpc::CallbackServerContext* context,
      const v1::ListQueuesRequest* request,
      v1::ListQueuesResponse* response) override;
  grpc::ServerUnaryReactor* UpsertAgentProfile(
      grpc::CallbackServerContext* context, const v1::AgentProfile* request,
      v1::AgentProfile* response) override;
  grpc::ServerUnaryReactor* DeleteAgentProfile(
      grpc::CallbackServerContext* context,
      const v1::DeleteAgentProfileRequest* request,
      v1::DeleteAgentProfileResponse* response) override;
  grpc::ServerUnaryReactor* ListAgentProfiles(
      grpc::CallbackServerContext* context,
      const v1::ListAgentProfilesRequest* request,
      v1::ListAgentProfilesResponse* response) override;
  grpc::ServerUnaryReactor* GetRoutingPolicy(
      grpc::CallbackServerContext* context,
      const v1::GetRoutingPolicyRequest* request,
      v1::RoutingPolicy* response) override;
  grpc::ServerUnaryReactor* SetRoutingPolicy(
      grpc::CallbackServerContext* context, const v1::RoutingPolicy* request,
      v1::RoutingPolicy* response) override;

 private:
  ServiceContext ctx_;
};

}  // namespace ccroute::api

#endif  // CCROUTE_SERVER_API_SERVICES_H_
