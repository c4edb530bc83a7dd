#include "server/api/server.h"

#include <grpc/support/log.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include "server/api/personal_data.h"
#include "server/runtime/log.h"

namespace ccroute::api {
namespace {

// Leaves server reflection out: it cannot check credentials, so a server
// that requires them does not offer it.
class WithoutReflection final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    std::erase_if(*plugins, [](const auto& plugin) {
      return dynamic_cast<grpc::reflection::ProtoServerReflectionPlugin*>(
                 plugin.get()) != nullptr;
    });
  }
};

HubLimits ToHubLimits(const ServerLimits& l) {
  HubLimits h;
  h.max_agent_sessions = l.max_agent_sessions;
  h.max_watchers = l.max_watchers;
  h.max_event_subscribers = l.max_event_subscribers;
  h.max_dropped_events = l.stream_queue_limit;
  h.heartbeat_timeout = l.heartbeat_timeout;
  h.reconnect_grace = l.reconnect_grace;
  return h;
}

}  // namespace

void RouteGrpcLogsToJson() {
  gpr_set_log_function([](gpr_log_func_args* args) {
    runtime::LogLevel level =
        args->severity == GPR_LOG_SEVERITY_ERROR  ? runtime::LogLevel::kError
        : args->severity == GPR_LOG_SEVERITY_INFO ? runtime::LogLevel::kInfo
                                                  : runtime::LogLevel::kDebug;
    runtime::Log(level, "grpc",
                 {{"file", args->file},
                  {"line", args->line},
                  {"message", args->message}});
  });
}

Server::Server(const ResolvedConfig& config)
    : config_(config),
      clock_(runtime::EngineRunner::Now(), std::chrono::system_clock::now()),
      runner_(config.engine_limits, config.routing),
      hub_(runner_, clock_, ToHubLimits(config.server_limits)),
      authorizer_(config.security.auth),
      owners_(config.engine_limits.idempotency_retention),
      contact_rate_(config.server_limits.contact_rate_per_second,
                    config.server_limits.contact_rate_burst),
      guard_{authorizer_, owners_, audit_, contact_rate_},
      contacts_(ServiceContextFor(*this)),
      agents_(ServiceContextFor(*this)),
      supervisor_(ServiceContextFor(*this)),
      admin_(ServiceContextFor(*this)) {}

ServiceContext Server::ServiceContextFor(Server& s) {
  return {s.runner_, s.hub_, s.clock_, s.guard_,
          static_cast<size_t>(s.config_.server_limits.stream_queue_limit)};
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ResolvedConfig& config, ServerHooks hooks) {
  std::unique_ptr<Server> server(new Server(config));
  if (absl::Status s = server->audit_.Open(config.security.audit_log_file);
      !s.ok()) {
    return s;
  }
  if (!config.security.log_hash_key.empty()) {
    SetLogHashKey(config.security.log_hash_key);
  }
  server->runner_.AddObserver(&server->hub_);
  server->runner_.AddObserver(&server->owners_);
  for (runtime::EngineObserver* o : hooks.observers) {
    server->runner_.AddObserver(o);
  }
  server->runner_.Start();

  absl::Status applied;
  server->runner_.RunSync([&](core::Engine& engine, core::Time now) {
    applied = engine.SetRoutingPolicy(config.routing, now);
    for (const auto& q : config.queues) {
      if (!applied.ok()) return;
      applied = engine.UpsertQueue(q, now);
      if (!applied.ok()) {
        applied = absl::Status(
            applied.code(),
            "queue '" + q.name + "': " + std::string(applied.message()));
      }
    }
    for (const auto& a : config.agents) {
      if (!applied.ok()) return;
      applied = engine.UpsertAgentProfile(a, now);
      if (!applied.ok()) {
        applied = absl::Status(
            applied.code(),
            "agent '" + a.id + "': " + std::string(applied.message()));
      }
    }
  });
  if (!applied.ok()) {
    server->runner_.Stop();
    return applied;
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  if (config.security.auth.enabled) {
    builder.SetOption(std::make_unique<WithoutReflection>());
  }
  builder.AddListeningPort(config.listen, ServerCredentialsFor(config.security),
                           &server->port_);
  builder.SetMaxReceiveMessageSize(config.server_limits.max_message_bytes);
  builder.SetMaxSendMessageSize(config.server_limits.max_message_bytes);
  // Find desktops that vanished without closing their connection.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 20'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // A client pinging more often than this without sending data gets a
  // strike; after the maximum it gets GOAWAY (ENHANCE_YOUR_CALM).
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             config.server_limits.max_concurrent_streams);
  if (!hooks.interceptors.empty()) {
    builder.experimental().SetInterceptorCreators(
        std::move(hooks.interceptors));
  }
  builder.RegisterService(&server->contacts_);
  builder.RegisterService(&server->agents_);
  builder.RegisterService(&server->supervisor_);
  builder.RegisterService(&server->admin_);
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || server->port_ == 0) {
    server->runner_.Stop();
    return absl::UnavailableError("cannot listen on '" + config.listen + "'");
  }
  // Each service by name too, so that a health check can ask about one;
  // Shutdown's SetServingStatus(false) covers them all.
  auto* health = server->server_->GetHealthCheckService();
  for (const char* service :
       {v1::Contacts::service_full_name(), v1::Agents::service_full_name(),
        v1::Supervisor::service_full_name(), v1::Admin::service_full_name()}) {
    health->SetServingStatus(service, true);
  }
  health->SetServingStatus(true);
  if (!config.security.tls) {
    runtime::Log(runtime::LogLevel::kWarning, "plaintext",
                 {{"listen", config.listen},
                  {"message",
                   "gRPC without TLS: use only on loopback or behind a proxy "
                   "that terminates TLS (security.tls)"}});
  }
  if (!config.security.auth.enabled) {
    runtime::Log(runtime::LogLevel::kWarning, "auth_disabled",
                 {{"listen", config.listen},
                  {"message",
                   "NO AUTHENTICATION: every caller may create contacts, log "
                   "in as any agent and change the configuration "
                   "(security.auth: none)"}});
  }
  return server;
}

Server::~Server() { Shutdown(); }

void Server::Shutdown() {
  std::call_once(shutdown_once_, [this] {
    if (server_) {
      server_->GetHealthCheckService()->SetServingStatus(false);
      grpc::Status closing(grpc::StatusCode::UNAVAILABLE,
                           "the server is shutting down");
      runner_.RunSync([this, closing](core::Engine&, core::Time) {
        hub_.CloseAll(closing);
      });
      auto deadline =
          std::chrono::system_clock::now() +
          std::chrono::duration_cast<std::chrono::system_clock::duration>(
              config_.server_limits.shutdown_timeout);
      server_->Shutdown(deadline);
    }
    runner_.Stop();
    std::lock_guard<std::mutex> lock(done_mu_);
    done_ = true;
    done_cv_.notify_all();
  });
}

void Server::Wait() {
  std::unique_lock<std::mutex> lock(done_mu_);
  done_cv_.wait(lock, [this] { return done_; });
}

}  // namespace ccroute::api
