// The `security` section of the configuration: TLS on the gRPC port, the
// credentials (bearer tokens from a file, client certificate identities)
// and their roles, the audit trail and the key of the logs' keyed hashes.
// Stateless; thread-safe.
#ifndef CCROUTE_SERVER_API_SECURITY_CONFIG_H_
#define CCROUTE_SERVER_API_SECURITY_CONFIG_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ccroute/v1/config.pb.h"
#include "server/api/auth.h"

namespace ccroute::api {

struct TlsSettings {
  std::string cert_chain_pem;
  std::string private_key_pem;
  std::string client_ca_pem;  // empty: no client certificates asked for
  bool require_client_cert = false;
};

// The security section, files read and checked. The default (what a
// configuration without the section, and a server built in code, get):
// plaintext and no authentication.
struct ResolvedSecurity {
  std::optional<TlsSettings> tls;  // nullopt: plaintext
  AuthSettings auth;
  std::string audit_log_file;  // empty: audit lines go to the log
  std::string log_hash_key;    // empty: a random key per process
};

// Reads the files the section names and checks it. INVALID_ARGUMENT naming
// the key ("security.tls.cert_file: ...", "security.tokens_file: tokens[2]
// (desk-7).agent_id: required for the agent role") for: tls and plaintext
// both or neither, missing or unreadable PEM files, a key that does not
// match its certificate, an expired server certificate, require_client_cert
// or principals without client_ca_file, an unknown auth mode or role, an
// agent without agent_id, a gateway_id or agent_id on another role, a
// token shorter than 32 characters, duplicate names or tokens, no
// credentials at all while auth is "tokens", credentials while it is
// "none".
absl::StatusOr<ResolvedSecurity> ResolveSecurity(const v1::Security& security);

// ccrouted's rule: a configuration file must have a security section, so
// that plaintext and auth "none" are always said explicitly.
// INVALID_ARGUMENT saying what to write otherwise.
absl::Status RequireSecuritySection(const v1::ServerConfig& config);

// ccrouted's rule for its built-in demo configuration, which has neither
// TLS nor authentication: `listen` must be a loopback address (127.x.x.x,
// [::1] or localhost). INVALID_ARGUMENT otherwise.
absl::Status RequireLoopback(const std::string& listen);

// Makes the file paths of `config.security`, and journal.data_dir,
// absolute, relative to `directory` (the configuration file's).
void ResolveSecurityPaths(const std::string& directory,
                          v1::ServerConfig& config);

// The gRPC credentials for the listening port.
std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(
    const ResolvedSecurity& security);

}  // namespace ccroute::api

#endif  // CCROUTE_SERVER_API_SECURITY_CONFIG_H_
