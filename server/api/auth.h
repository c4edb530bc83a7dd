// Who is calling and what they may do: every ccroute.v1 call is
// authenticated (a bearer token, or the client certificate under mutual
// TLS) and checked against a role x method table that denies whatever it
// does not list.
#ifndef CCROUTE_SERVER_API_AUTH_H_
#define CCROUTE_SERVER_API_AUTH_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/core/engine.h"
#include "server/runtime/engine_runner.h"

namespace ccroute::api {

enum class Role : uint8_t {
  kGateway = 1,
  kAgent = 2,
  kSupervisor = 4,
  kAdmin = 8,
};

// "gateway", "agent", "supervisor", "admin"; nullopt for anything else.
std::optional<Role> ParseRole(std::string_view name);
std::string_view RoleName(Role role);

// The full names of the ccroute.v1 methods, as gRPC spells them.
namespace method {
inline constexpr std::string_view kCreateContact =
    "/ccroute.v1.Contacts/CreateContact";
inline constexpr std::string_view kScheduleCallback =
    "/ccroute.v1.Contacts/ScheduleCallback";
inline constexpr std::string_view kGetContact =
    "/ccroute.v1.Contacts/GetContact";
inline constexpr std::string_view kCancelContact =
    "/ccroute.v1.Contacts/CancelContact";
inline constexpr std::string_view kUpdateContact =
    "/ccroute.v1.Contacts/UpdateContact";
inline constexpr std::string_view kWatchContact =
    "/ccroute.v1.Contacts/WatchContact";
inline constexpr std::string_view kResync = "/ccroute.v1.Contacts/Resync";
inline constexpr std::string_view kConnect = "/ccroute.v1.Agents/Connect";
inline constexpr std::string_view kGetQueueStats =
    "/ccroute.v1.Supervisor/GetQueueStats";
inline constexpr std::string_view kListQueueStats =
    "/ccroute.v1.Supervisor/ListQueueStats";
inline constexpr std::string_view kListAgents =
    "/ccroute.v1.Supervisor/ListAgents";
inline constexpr std::string_view kSetAgentState =
    "/ccroute.v1.Supervisor/SetAgentState";
inline constexpr std::string_view kWatchEvents =
    "/ccroute.v1.Supervisor/WatchEvents";
inline constexpr std::string_view kUpsertQueue =
    "/ccroute.v1.Admin/UpsertQueue";
inline constexpr std::string_view kDeleteQueue =
    "/ccroute.v1.Admin/DeleteQueue";
inline constexpr std::string_view kListQueues = "/ccroute.v1.Admin/ListQueues";
inline constexpr std::string_view kUpsertAgentProfile =
    "/ccroute.v1.Admin/UpsertAgentProfile";
inline constexpr std::string_view kDeleteAgentProfile =
    "/ccroute.v1.Admin/DeleteAgentProfile";
inline constexpr std::string_view kListAgentProfiles =
    "/ccroute.v1.Admin/ListAgentProfiles";
inline constexpr std::string_view kGetRoutingPolicy =
    "/ccroute.v1.Admin/GetRoutingPolicy";
inline constexpr std::string_view kSetRoutingPolicy =
    "/ccroute.v1.Admin/SetRoutingPolicy";
}  // namespace method

// The roles allowed to call `full_method`; 0 for a method the table does
// not list (denied to everyone).
uint8_t RolesAllowed(std::string_view full_method);
// Every method the table lists, in table order (for tests and docs).
std::vector<std::string_view> TableMethods();

// The caller of one call.
struct Principal {
  // The credential's name (for logs and the audit trail).
  std::string name;
  Role role = Role::kGateway;
  // Role agent: the only agent it may log in as.
  std::string agent_id;
  // Role gateway, optional: it sees only contacts it created.
  std::string gateway_id;
  // Authentication is off: every role, no ownership checks.
  bool unrestricted = false;
};

// A credential and what it grants: a token (by its SHA-256) or a client
// certificate identity.
struct Grant {
  std::string name;
  Role role = Role::kGateway;
  std::string agent_id;
  std::string gateway_id;
  std::array<unsigned char, 32> token_sha256{};  // tokens
  std::string identity;                          // certificates
};

struct AuthSettings {
  // false: no authentication (auth: none).
  bool enabled = false;
  std::vector<Grant> tokens;
  std::vector<Grant> certificates;
};

// SHA-256 of `data`.
std::array<unsigned char, 32> Sha256(std::string_view data);

// Authenticates calls and checks the role table. Thread-safe; immutable
// apart from the rate of its denial log lines.
class Authorizer {
 public:
  explicit Authorizer(AuthSettings settings);

  // Who is calling `full_method`, if they may: OK and `*who` set; else
  // UNAUTHENTICATED (no credential, an unknown token, a client certificate
  // no principal names) or PERMISSION_DENIED (a role the table does not
  // allow, or a method it does not list), and a warning is logged (never
  // the token). The credential: the `authorization: Bearer <token>`
  // metadata if present, else the verified client certificate.
  grpc::Status Authorize(const grpc::ServerContextBase& context,
                         std::string_view full_method, Principal* who) const;

  bool enabled() const { return settings_.enabled; }

 private:
  grpc::Status Deny(grpc::StatusCode code, std::string_view method,
                    const Principal* who, std::string_view reason,
                    const grpc::ServerContextBase& context) const;

  const AuthSettings settings_;
};

// Logs a refused call as an `auth_denied` warning: the code, the method,
// the credential's name ("-" if none), why, and one more field (e.g. the
// peer address). Never pass a token or personal data. At most 20 lines a
// second across the process, so that a flood of bad calls cannot flood the
// log; the next line logged says how many were left out
// (suppressed_before). Thread-safe.
void LogDenial(grpc::StatusCode code, std::string_view method,
               std::string_view principal, std::string_view reason,
               std::string_view extra_key, std::string extra_value);

// The client a per-client limit counts against: the credential's name, or
// without authentication the peer's address (without its port).
std::string ClientKey(const Principal& who,
                      const grpc::ServerContextBase& context);

// Sets `gateway` to the gateway that owns what `who` creates: its own when
// its credentials carry one (then `gateway` must be empty or the same:
// PERMISSION_DENIED otherwise), else `gateway` as given.
grpc::Status BindGateway(const Principal& who, std::string& gateway,
                         std::string_view full_method);

// OK if `who` may see and act on `contact`: an agent only on contacts
// offered or assigned to it, a gateway kept apart only on contacts it
// created; PERMISSION_DENIED otherwise (the contact id is logged only as a
// keyed hash).
grpc::Status CheckContactAccess(const Principal& who,
                                const core::ContactView& contact,
                                std::string_view full_method);

}  // namespace ccroute::api

#endif  // CCROUTE_SERVER_API_AUTH_H_
