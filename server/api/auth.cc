#include "server/api/auth.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <chrono>
#include <mutex>

#include "server/api/personal_data.h"
#include "server/runtime/log.h"

namespace ccroute::api {
namespace {

using grpc::Status;
using grpc::StatusCode;
using runtime::Log;
using runtime::LogLevel;

constexpr uint8_t kGateway = static_cast<uint8_t>(Role::kGateway);
constexpr uint8_t kAgent = static_cast<uint8_t>(Role::kAgent);
constexpr uint8_t kSupervisor = static_cast<uint8_t>(Role::kSupervisor);
constexpr uint8_t kAdmin = static_cast<uint8_t>(Role::kAdmin);

struct MethodRoles {
  std::string_view method;
  uint8_t roles;
};

// Who may call what. A method missing here is denied to every role.
constexpr MethodRoles kTable[] = {
    {method::kCreateContact, kGateway},
    {method::kScheduleCallback, kGateway},
    {method::kGetContact, kGateway | kAgent},
    {method::kCancelContact, kGateway},
    {method::kUpdateContact, kGateway},
    {method::kWatchContact, kGateway | kAgent},
    {method::kResync, kGateway},
    {method::kConnect, kAgent},
    {method::kGetQueueStats, kSupervisor},
    {method::kListQueueStats, kSupervisor},
    {method::kListAgents, kSupervisor},
    {method::kSetAgentState, kSupervisor},
    {method::kWatchEvents, kSupervisor},
    {method::kUpsertQueue, kAdmin},
    {method::kDeleteQueue, kAdmin},
    {method::kListQueues, kAdmin},
    {method::kUpsertAgentProfile, kAdmin},
    {method::kDeleteAgentProfile, kAdmin},
    {method::kListAgentProfiles, kAdmin},
    {method::kGetRoutingPolicy, kAdmin},
    {method::kSetRoutingPolicy, kAdmin},
};

constexpr int kDenialLinesPerSecond = 20;

std::string_view ToView(const grpc::string_ref& s) {
  return std::string_view(s.data(), s.size());
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != prefix[i]) return false;
  }
  return true;
}

// The grant whose token hashes to `sha256`, comparing against every grant
// in constant time so that the time taken says nothing about the tokens.
const Grant* FindToken(const std::vector<Grant>& grants,
                       const std::array<unsigned char, 32>& sha256) {
  const Grant* found = nullptr;
  for (const Grant& g : grants) {
    bool equal =
        CRYPTO_memcmp(g.token_sha256.data(), sha256.data(), sha256.size()) == 0;
    if (equal && found == nullptr) found = &g;
  }
  return found;
}

// The host part of a gRPC peer string ("ipv4:10.0.0.7:51234").
std::string PeerHost(const grpc::ServerContextBase& context) {
  std::string peer = context.peer();
  size_t colon = peer.rfind(':');
  if (colon != std::string::npos && colon > peer.find(':')) {
    peer.resize(colon);
  }
  return peer;
}

}  // namespace

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "gateway") return Role::kGateway;
  if (name == "agent") return Role::kAgent;
  if (name == "supervisor") return Role::kSupervisor;
  if (name == "admin") return Role::kAdmin;
  return std::nullopt;
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kGateway:
      return "gateway";
    case Role::kAgent:
      return "agent";
    case Role::kSupervisor:
      return "supervisor";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

uint8_t RolesAllowed(std::string_view full_method) {
  for (const MethodRoles& m : kTable) {
    if (m.method == full_method) return m.roles;
  }
  return 0;
}

std::vector<std::string_view> TableMethods() {
  std::vector<std::string_view> out;
  for (const MethodRoles& m : kTable) out.push_back(m.method);
  return out;
}

std::array<unsigned char, 32> Sha256(std::string_view data) {
  std::array<unsigned char, 32> out{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &length, EVP_sha256(),
             nullptr);
  return out;
}

Authorizer::Authorizer(AuthSettings settings)
    : settings_(std::move(settings)) {}

void LogDenial(StatusCode code, std::string_view method,
               std::string_view principal, std::string_view reason,
               std::string_view extra_key, std::string extra_value) {
  static std::mutex mu;
  static int64_t current_second = 0;
  static int lines = 0;
  static int64_t suppressed_total = 0;
  int64_t suppressed = -1;
  {
    std::lock_guard<std::mutex> lock(mu);
    int64_t second = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::steady_clock::now().time_since_epoch())
                         .count();
    if (second != current_second) {
      current_second = second;
      lines = 0;
    }
    if (lines < kDenialLinesPerSecond) {
      ++lines;
      suppressed = suppressed_total;
      suppressed_total = 0;
    } else {
      ++suppressed_total;
    }
  }
  if (suppressed < 0) return;
  Log(LogLevel::kWarning, "auth_denied",
      {{"code", code == StatusCode::UNAUTHENTICATED ? "UNAUTHENTICATED"
                                                    : "PERMISSION_DENIED"},
       {"method", method},
       {"principal", principal},
       {"reason", reason},
       {extra_key, std::move(extra_value)},
       {"suppressed_before", suppressed}});
}

Status Authorizer::Deny(StatusCode code, std::string_view method,
                        const Principal* who, std::string_view reason,
                        const grpc::ServerContextBase& context) const {
  LogDenial(code, method, who != nullptr ? who->name : "-", reason, "peer",
            PeerHost(context));
  return Status(code, std::string(reason));
}

Status Authorizer::Authorize(const grpc::ServerContextBase& context,
                             std::string_view full_method,
                             Principal* who) const {
  uint8_t allowed = RolesAllowed(full_method);
  if (!settings_.enabled) {
    if (allowed == 0) {
      return Deny(StatusCode::PERMISSION_DENIED, full_method, nullptr,
                  "the method is not open to any role", context);
    }
    *who = Principal();
    who->name = "anonymous";
    who->unrestricted = true;
    return Status::OK;
  }

  const Grant* grant = nullptr;
  const auto& metadata = context.client_metadata();
  auto [first, last] = metadata.equal_range("authorization");
  if (first != last) {
    if (std::next(first) != last) {
      return Deny(StatusCode::UNAUTHENTICATED, full_method, nullptr,
                  "more than one authorization header", context);
    }
    std::string_view value = ToView(first->second);
    constexpr std::string_view kBearer = "bearer ";
    if (!StartsWithNoCase(value, kBearer) || value.size() == kBearer.size()) {
      return Deny(StatusCode::UNAUTHENTICATED, full_method, nullptr,
                  "the authorization header is not 'Bearer <token>'", context);
    }
    grant = FindToken(settings_.tokens, Sha256(value.substr(kBearer.size())));
    if (grant == nullptr) {
      return Deny(StatusCode::UNAUTHENTICATED, full_method, nullptr,
                  "unknown bearer token", context);
    }
  } else {
    std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
    std::vector<grpc::string_ref> names;
    if (auth != nullptr && auth->IsPeerAuthenticated()) {
      for (const char* property :
           {GRPC_X509_CN_PROPERTY_NAME, GRPC_X509_SAN_PROPERTY_NAME}) {
        for (const auto& v : auth->FindPropertyValues(property)) {
          names.push_back(v);
        }
      }
    }
    if (names.empty()) {
      return Deny(StatusCode::UNAUTHENTICATED, full_method, nullptr,
                  "no credentials: send 'authorization: Bearer <token>' "
                  "metadata or a client certificate",
                  context);
    }
    for (const Grant& g : settings_.certificates) {
      for (const auto& name : names) {
        if (ToView(name) == g.identity) {
          grant = &g;
          break;
        }
      }
      if (grant != nullptr) break;
    }
    if (grant == nullptr) {
      return Deny(StatusCode::UNAUTHENTICATED, full_method, nullptr,
                  "the client certificate is not listed in "
                  "security.principals",
                  context);
    }
  }

  Principal principal;
  principal.name = grant->name;
  principal.role = grant->role;
  principal.agent_id = grant->agent_id;
  principal.gateway_id = grant->gateway_id;
  if ((allowed & static_cast<uint8_t>(grant->role)) == 0) {
    return Deny(StatusCode::PERMISSION_DENIED, full_method, &principal,
                "the " + std::string(RoleName(grant->role)) +
                    " role may not call " + std::string(full_method),
                context);
  }
  *who = std::move(principal);
  return Status::OK;
}

std::string ClientKey(const Principal& who,
                      const grpc::ServerContextBase& context) {
  return who.unrestricted ? PeerHost(context) : who.name;
}

Status BindGateway(const Principal& who, std::string& gateway,
                   std::string_view full_method) {
  if (who.unrestricted || who.role != Role::kGateway ||
      who.gateway_id.empty()) {
    return Status::OK;
  }
  if (!gateway.empty() && gateway != who.gateway_id) {
    LogDenial(StatusCode::PERMISSION_DENIED, full_method, who.name,
              "names another gateway", "gateway_id", gateway);
    return Status(StatusCode::PERMISSION_DENIED,
                  "gateway_id: '" + gateway +
                      "' is not this client's gateway; leave it empty");
  }
  gateway = who.gateway_id;
  return Status::OK;
}

Status CheckContactAccess(const Principal& who,
                          const core::ContactView& contact,
                          std::string_view full_method) {
  if (who.unrestricted) return Status::OK;
  std::string_view reason;
  if (who.role == Role::kAgent && contact.agent_id != who.agent_id) {
    reason = "the contact is not offered or assigned to this agent";
  } else if (who.role == Role::kGateway && !who.gateway_id.empty() &&
             contact.gateway != who.gateway_id) {
    reason = "the contact belongs to another gateway";
  } else {
    return Status::OK;
  }
  LogDenial(StatusCode::PERMISSION_DENIED, full_method, who.name, reason,
            "contact_hash", LogHash(contact.id));
  return Status(StatusCode::PERMISSION_DENIED, std::string(reason));
}

}  // namespace ccroute::api
