// The ccrouted configuration file: YAML or protobuf JSON mapped onto
// v1::ServerConfig, so that an unknown or misspelled key is an error naming
// it; then resolved into the values the server and the engine start with.
// Stateless; thread-safe.
#ifndef CCROUTE_SERVER_API_CONFIG_FILE_H_
#define CCROUTE_SERVER_API_CONFIG_FILE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ccroute/v1/config.pb.h"
#include "server/api/security_config.h"
#include "server/core/config.h"
#include "server/core/types.h"

namespace ccroute::api {

// Parses a configuration in `format` "yaml" or "json". INVALID_ARGUMENT for
// an unknown format, a YAML syntax error (with its line and column), or a
// value protobuf rejects (naming the key path, e.g. "queues[0].nmae").
// YAML scalars become JSON numbers, booleans or null only when they are
// plainly one (unquoted `3`, `0.8`, `true`, `~`); everything else, durations
// like `20s` included, stays a string.
absl::StatusOr<v1::ServerConfig> ParseServerConfig(std::string_view text,
                                                   std::string_view format);

// Reads and parses the file at `path`; the format follows the extension
// (.yaml, .yml or .json). Every error starts with the path. An unreadable
// file is NOT_FOUND, PERMISSION_DENIED or the like, with the system's reason.
// Relative paths in its security section become relative to its directory.
absl::StatusOr<v1::ServerConfig> LoadServerConfigFile(const std::string& path);

// As ParseServerConfig and LoadServerConfigFile, for any message (e.g. the
// tokens file, v1::TokensFile). `out` must not be null.
absl::Status ParseConfigText(std::string_view text, std::string_view format,
                             google::protobuf::Message* out);
absl::Status LoadConfigFile(const std::string& path,
                            google::protobuf::Message* out);

// Limits the server enforces outside the engine.
struct ServerLimits {
  int max_message_bytes = 1 << 20;
  int max_agent_sessions = 20000;
  int max_watchers = 20000;
  int max_event_subscribers = 64;
  // Outbound messages queued per stream before it counts as too slow.
  int stream_queue_limit = 1024;
  // A desktop silent for this long is treated as dropped.
  core::Duration heartbeat_timeout = std::chrono::seconds(30);
  // Assigned contacts wait this long for their agent to come back.
  core::Duration reconnect_grace = std::chrono::seconds(60);
  // Graceful shutdown deadline for open streams.
  core::Duration shutdown_timeout = std::chrono::seconds(5);
  // HTTP/2 keepalive: a ping every keepalive_time on every connection; one
  // not answered within keepalive_timeout closes the connection.
  core::Duration keepalive_time = std::chrono::seconds(20);
  core::Duration keepalive_timeout = std::chrono::seconds(10);
  // HTTP/2 streams open at once on one connection.
  int max_concurrent_streams = 4096;
  // CreateContact and ScheduleCallback per client; 0: unlimited.
  double contact_rate_per_second = 0;
  double contact_rate_burst = 0;
};

// A configuration with its defaults applied, converted and validated.
struct ResolvedConfig {
  std::string listen;
  std::string metrics_listen;  // empty: no metrics endpoint
  core::RoutingPolicy routing;
  core::EngineLimits engine_limits;
  std::vector<core::QueueConfig> queues;
  std::vector<core::AgentProfile> agents;
  ServerLimits server_limits;
  // Without a security section: plaintext, no authentication.
  ResolvedSecurity security;
  // Where live contacts are kept (config.proto JournalConfig).
  struct Journal {
    bool enabled = false;  // false: memory only
    std::string data_dir;
    std::string durability = "sync";  // "sync", "interval" or "none"
    std::chrono::milliseconds sync_interval{1000};
  } journal;
};

inline constexpr std::string_view kDefaultListen = "127.0.0.1:7400";

// Applies the defaults (listen kDefaultListen, the limits documented in
// config.proto), converts with convert.h and validates every queue, agent
// and the routing policy with the core validators. INVALID_ARGUMENT, saying
// where: "queues[2] (sales): queue.service_level_target: must be positive",
// "limits.max_watchers: must be positive", a duplicate queue name or agent
// id, an overflow_queue or max_wait_queue naming no defined queue, a
// keepalive outside 1s to 24h ("limits.keepalive_time: must be between 1s
// and 24h, not 0.500s"). The
// message does not name the file; callers that loaded one prefix it.
absl::StatusOr<ResolvedConfig> ResolveServerConfig(
    const v1::ServerConfig& config);

// The demo configuration ccrouted runs without --config, as YAML: three
// queues (sales, support, general) and eight agents, on 127.0.0.1:7400 with
// metrics on 127.0.0.1:9464. Parses and resolves cleanly.
std::string_view BuiltInConfigYaml();

}  // namespace ccroute::api

#endif  // CCROUTE_SERVER_API_CONFIG_FILE_H_
