// A running ccroute server: the engine thread, the session hub, the gRPC
// services (with health checking and reflection) on one listening port.
//
// Thread-safe: Shutdown may be called from any thread, once or more.
#ifndef CCROUTE_SERVER_API_SERVER_H_
#define CCROUTE_SERVER_API_SERVER_H_

#include <grpcpp/server.h>
#include <grpcpp/support/server_interceptor.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/status/statusor.h"
#include "server/api/admin_changes.h"
#include "server/api/audit_log.h"
#include "server/api/auth.h"
#include "server/api/config_file.h"
#include "server/api/convert.h"
#include "server/api/rate_limiter.h"
#include "server/api/services.h"
#include "server/api/session_hub.h"
#include "server/journal/journal.h"
#include "server/journal/journal_observer.h"
#include "server/journal/recovery.h"
#include "server/runtime/engine_runner.h"

namespace ccroute::api {

// What the wiring adds to a server: engine observers (e.g. metrics; they
// must outlive the server) and gRPC interceptor factories.
struct ServerHooks {
  std::vector<runtime::EngineObserver*> observers;
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  // Called once, on the journal's thread, when a write or fsync of the
  // journal fails: the server must stop (new contacts are refused from
  // then on). May be empty.
  std::function<void(const absl::Status&)> on_journal_failure;
};

// Sends gRPC's and protobuf's own log lines to the JSON log (runtime/log.h),
// so that every line on stderr is one JSON object. Call once, before
// starting servers.
void RouteGrpcLogsToJson();

class Server {
 public:
  // Starts the engine thread, applies the configuration's routing policy,
  // queues and agent profiles, opens the journal (config.journal) and puts
  // its live contacts back, and listens on config.listen ("host:0" picks
  // a free port) with config.security's TLS and credentials. Warns in the
  // log when serving without TLS or without authentication. Errors: a
  // configuration the engine refuses (INVALID_ARGUMENT naming it), an
  // audit log file or a journal that cannot be opened, or an address that
  // cannot be bound (UNAVAILABLE).
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const ResolvedConfig& config, ServerHooks hooks = {});
  // Shuts down if still running.
  ~Server();

  // The bound port.
  int port() const { return port_; }
  // Graceful: health NOT_SERVING, every stream finished with UNAVAILABLE,
  // then the gRPC server stops, waiting up to the configured shutdown
  // timeout for calls in flight, and the engine thread stops.
  void Shutdown();
  // Blocks until Shutdown has completed.
  void Wait();

  // The gRPC server, e.g. for an in-process channel (tests, fuzzers):
  // grpc_server().InProcessChannel(args). Valid until Shutdown.
  grpc::Server& grpc_server() { return *server_; }
  runtime::EngineRunner& runner() { return runner_; }
  SessionHub& hub() { return hub_; }
  // What the start found in the journal; empty without one.
  const std::optional<journal::RecoveryReport>& recovery() const {
    return recovery_;
  }
  // What the start made of the administrators' changes the journal kept;
  // empty without a journal.
  const std::optional<AdminChangesReplay>& admin_changes() const {
    return admin_changes_;
  }
  const TimeMapper& clock() const { return clock_; }

 private:
  // `journal` may be null (memory only).
  Server(const ResolvedConfig& config,
         std::unique_ptr<journal::Journal> journal);
  // Applies the administrators' changes the journal kept and puts its live
  // contacts back into the engine (Start, before serving); logs what it
  // found.
  absl::Status Recover();
  // Removes expired idempotency keys from the journal now and then.
  void RunCompactions();
  static ServiceContext ServiceContextFor(Server& s);

  ResolvedConfig config_;
  // config_'s queues, agent profiles and policy, against which the Admin
  // service journals its changes.
  FileConfig file_config_;
  TimeMapper clock_;
  runtime::EngineRunner runner_;
  SessionHub hub_;
  Authorizer authorizer_;
  AuditLog audit_;
  RateLimiter contact_rate_;
  CallGuard guard_;
  // Before the services, which hold the observer.
  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<journal::JournalObserver> journal_observer_;
  std::optional<journal::RecoveryReport> recovery_;
  std::optional<AdminChangesReplay> admin_changes_;  // its cleanup moved out
  ContactsService contacts_;
  AgentsService agents_;
  SupervisorService supervisor_;
  AdminService admin_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::thread compactor_;
  bool stopping_compactions_ = false;  // guarded by done_mu_
  std::once_flag shutdown_once_;
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  bool done_ = false;
};

}  // namespace ccroute::api

#endif  // CCROUTE_SERVER_API_SERVER_H_
