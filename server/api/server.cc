#include "server/api/server.h"

#include <google/protobuf/stubs/logging.h>
#include <grpc/support/log.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <future>
#include <utility>

#include "server/api/personal_data.h"
#include "server/journal/rocksdb_journal.h"
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

// A channel argument in milliseconds (the config allows at most 24 h).
int WholeMilliseconds(core::Duration d) {
  return static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
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
  // Protobuf's too: a request with a string field that is not UTF-8 makes
  // it log an error (naming the field) before any ccroute code runs.
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel severity,
                                     const char* file, int line,
                                     const std::string& message) {
    runtime::LogLevel level = severity == google::protobuf::LOGLEVEL_FATAL
                                  ? runtime::LogLevel::kError
                              : severity == google::protobuf::LOGLEVEL_INFO
                                  ? runtime::LogLevel::kInfo
                                  : runtime::LogLevel::kWarning;
    runtime::Log(level, "protobuf",
                 {{"file", file}, {"line", line}, {"message", message}});
  });
}

Server::Server(const ResolvedConfig& config,
               std::unique_ptr<journal::Journal> journal)
    : config_(config),
      file_config_(config),
      clock_(runtime::EngineRunner::Now(), std::chrono::system_clock::now()),
      runner_(config.engine_limits, config.routing),
      hub_(runner_, clock_, ToHubLimits(config.server_limits)),
      authorizer_(config.security.auth),
      contact_rate_(config.server_limits.contact_rate_per_second,
                    config.server_limits.contact_rate_burst),
      guard_{authorizer_, audit_, contact_rate_},
      journal_(std::move(journal)),
      journal_observer_(
          journal_ ? std::make_unique<journal::JournalObserver>(
                         *journal_, config.engine_limits.idempotency_retention)
                   : nullptr),
      contacts_(ServiceContextFor(*this)),
      agents_(ServiceContextFor(*this)),
      supervisor_(ServiceContextFor(*this)),
      admin_(ServiceContextFor(*this)) {}

ServiceContext Server::ServiceContextFor(Server& s) {
  return {s.runner_,
          s.hub_,
          s.clock_,
          s.guard_,
          static_cast<size_t>(s.config_.server_limits.stream_queue_limit),
          s.journal_observer_.get(),
          s.journal_ ? &s.file_config_ : nullptr};
}

void Server::RunCompactions() {
  std::unique_lock<std::mutex> lock(done_mu_);
  // The first at once: it reclaims what the recovery ended and the keys
  // that expired while the server was down. Not before serving: on a large
  // journal it rewrites every table (seconds for a million contacts).
  bool first = true;
  while (std::exchange(first, false) ||
         !done_cv_.wait_for(lock, std::chrono::minutes(10),
                            [this] { return stopping_compactions_; })) {
    lock.unlock();
    absl::Status s = journal_->Compact(std::chrono::system_clock::now());
    if (!s.ok()) {
      runtime::Log(runtime::LogLevel::kError, "journal_compaction_failed",
                   {{"error", std::string(s.message())}});
    }
    lock.lock();
  }
}

namespace {

// Opens the configured journal; null for memory only.
absl::StatusOr<std::unique_ptr<journal::Journal>> OpenJournal(
    const ResolvedConfig& config,
    std::function<void(const absl::Status&)> on_failure) {
  if (!config.journal.enabled) return nullptr;
  journal::JournalOptions options;
  options.durability = journal::ParseDurability(config.journal.durability)
                           .value_or(journal::Durability::kSync);
  options.sync_interval = config.journal.sync_interval;
  options.on_failure = [on_failure =
                            std::move(on_failure)](const absl::Status& s) {
    runtime::Log(runtime::LogLevel::kError, "journal_failed",
                 {{"error", std::string(s.message())},
                  {"message",
                   "the journal can no longer be written: new contacts are "
                   "refused and the server stops"}});
    if (on_failure) on_failure(s);
  };
  auto opened = journal::RocksDbJournal::Open(config.journal.data_dir,
                                              std::move(options));
  if (!opened.ok()) {
    return absl::Status(opened.status().code(),
                        "journal in '" + config.journal.data_dir +
                            "': " + std::string(opened.status().message()));
  }
  return std::unique_ptr<journal::Journal>(*std::move(opened));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ResolvedConfig& config, ServerHooks hooks) {
  auto journal = OpenJournal(config, std::move(hooks.on_journal_failure));
  if (!journal.ok()) return journal.status();
  std::unique_ptr<Server> server(new Server(config, *std::move(journal)));
  if (absl::Status s = server->audit_.Open(config.security.audit_log_file);
      !s.ok()) {
    return s;
  }
  if (!config.security.log_hash_key.empty()) {
    SetLogHashKey(config.security.log_hash_key);
  }
  server->runner_.AddObserver(&server->hub_);
  for (runtime::EngineObserver* o : hooks.observers) {
    server->runner_.AddObserver(o);
  }
  if (server->journal_observer_) {
    server->runner_.AddObserver(server->journal_observer_.get());
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
  if (absl::Status s = server->Recover(); !s.ok()) {
    server->runner_.Stop();
    return s;
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
  builder.AddChannelArgument(
      GRPC_ARG_KEEPALIVE_TIME_MS,
      WholeMilliseconds(config.server_limits.keepalive_time));
  builder.AddChannelArgument(
      GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
      WholeMilliseconds(config.server_limits.keepalive_timeout));
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

absl::Status Server::Recover() {
  if (!journal_) return absl::OkStatus();
  auto started = std::chrono::steady_clock::now();
  auto wall_now = std::chrono::system_clock::now();
  absl::StatusOr<journal::RecoveredState> state = journal_->Recover(wall_now);
  if (!state.ok()) {
    return absl::Status(state.status().code(),
                        "journal in '" + config_.journal.data_dir +
                            "': " + std::string(state.status().message()));
  }
  // The administrators' changes first: the contacts need their queues.
  AdminChangesReplay admin;
  journal::RecoveryReport report;
  runner_.RunSync([&](core::Engine& engine, core::Time now) {
    admin = ReplayAdminChanges(state->config, file_config_, engine, now);
    state->config.clear();
    report = journal::Restore(*std::move(state), engine, now, wall_now,
                              config_.engine_limits.idempotency_retention);
    for (const std::string& agent : report.agents_awaited) {
      hub_.AwaitReconnect(agent);
    }
  });
  journal::Batch cleanup = std::move(admin.cleanup);
  cleanup.Append(std::move(report.cleanup));
  report.cleanup = journal::Batch();
  if (!cleanup.empty()) {
    std::promise<absl::Status> written;
    journal_->Append(std::move(cleanup),
                     [&](const absl::Status& s) { written.set_value(s); });
    if (absl::Status s = written.get_future().get(); !s.ok()) return s;
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  auto opened = std::chrono::duration_cast<std::chrono::milliseconds>(
      report.journal_open);
  runtime::Log(runtime::LogLevel::kInfo, "journal_recovered",
               {{"data_dir", config_.journal.data_dir},
                {"durability", config_.journal.durability},
                {"waiting", report.restored_waiting},
                {"assigned", report.restored_assigned},
                {"assigned_requeued", report.assigned_requeued},
                {"idempotency_keys", report.restored_keys},
                {"ended_in_wrap_up", report.ended_in_wrap_up},
                {"dropped_records", report.dropped_records},
                {"refused_contacts", report.refused_contacts},
                {"wal_bytes_dropped", report.wal_bytes_dropped},
                {"admin_changes_applied", admin.applied},
                {"admin_changes_adopted", admin.adopted},
                {"admin_changes_superseded", admin.superseded},
                {"admin_changes_failed", admin.failed},
                {"problems", report.problems.size()},
                {"open_ms", opened.count()},
                {"ms", took.count()}});
  for (const std::string& problem : report.problems) {
    runtime::Log(runtime::LogLevel::kWarning, "journal_problem",
                 {{"problem", problem}});
  }
  for (const std::string& problem : admin.problems) {
    runtime::Log(runtime::LogLevel::kWarning, "admin_change_dropped",
                 {{"problem", problem}});
  }
  recovery_ = std::move(report);
  admin_changes_ = std::move(admin);
  compactor_ = std::thread([this] { RunCompactions(); });
  return absl::OkStatus();
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
    if (journal_) {
      {
        std::lock_guard<std::mutex> lock(done_mu_);
        stopping_compactions_ = true;
        done_cv_.notify_all();
      }
      if (compactor_.joinable()) compactor_.join();
      if (absl::Status s = journal_->Flush(); !s.ok()) {
        runtime::Log(runtime::LogLevel::kError, "journal_flush_failed",
                     {{"error", std::string(s.message())}});
      }
    }
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
