#include "server/api/security_config.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "server/api/config_file.h"
#include "server/core/detail/strings.h"

namespace ccroute::api {
namespace {

using core::detail::Cat;

constexpr size_t kMinTokenBytes = 32;
constexpr size_t kMinHashKeyBytes = 16;

absl::Status Invalid(std::string_view where, std::string_view problem) {
  return absl::InvalidArgumentError(Cat(where, ": ", problem));
}

absl::StatusOr<std::string> ReadFile(std::string_view key,
                                     const std::string& path) {
  if (path.empty()) return Invalid(key, "is required");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int error = errno;
    return Invalid(key, Cat(path, ": cannot read: ", std::strerror(error)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};

std::unique_ptr<BIO, BioDeleter> MemoryBio(const std::string& pem) {
  return std::unique_ptr<BIO, BioDeleter>(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The first certificate of a PEM file, or null if it holds none.
std::unique_ptr<X509, X509Deleter> FirstCertificate(const std::string& pem) {
  auto bio = MemoryBio(pem);
  return std::unique_ptr<X509, X509Deleter>(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

absl::StatusOr<TlsSettings> ResolveTls(const v1::Tls& tls) {
  TlsSettings out;
  auto cert = ReadFile("security.tls.cert_file", tls.cert_file());
  if (!cert.ok()) return cert.status();
  auto key = ReadFile("security.tls.key_file", tls.key_file());
  if (!key.ok()) return key.status();
  auto x509 = FirstCertificate(*cert);
  if (x509 == nullptr) {
    return Invalid("security.tls.cert_file",
                   Cat(tls.cert_file(), ": no PEM certificate"));
  }
  if (X509_cmp_current_time(X509_get0_notAfter(x509.get())) < 0) {
    return Invalid("security.tls.cert_file",
                   Cat(tls.cert_file(), ": the certificate has expired"));
  }
  auto key_bio = MemoryBio(*key);
  std::unique_ptr<EVP_PKEY, KeyDeleter> pkey(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (pkey == nullptr) {
    return Invalid("security.tls.key_file",
                   Cat(tls.key_file(), ": no unencrypted PEM private key"));
  }
  if (X509_check_private_key(x509.get(), pkey.get()) != 1) {
    return Invalid("security.tls.key_file",
                   Cat(tls.key_file(), ": does not match the certificate in ",
                       tls.cert_file()));
  }
  out.cert_chain_pem = *std::move(cert);
  out.private_key_pem = *std::move(key);
  if (!tls.client_ca_file().empty()) {
    auto ca = ReadFile("security.tls.client_ca_file", tls.client_ca_file());
    if (!ca.ok()) return ca.status();
    if (FirstCertificate(*ca) == nullptr) {
      return Invalid("security.tls.client_ca_file",
                     Cat(tls.client_ca_file(), ": no PEM certificate"));
    }
    out.client_ca_pem = *std::move(ca);
  } else if (tls.require_client_cert()) {
    return Invalid("security.tls.require_client_cert",
                   "needs client_ca_file, the CA that signs client "
                   "certificates");
  }
  out.require_client_cert = tls.require_client_cert();
  return out;
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// One credential: `where` names it in errors.
absl::StatusOr<Grant> ResolveGrant(const v1::Principal& p,
                                   const std::string& where, bool token) {
  Grant g;
  if (p.name().empty()) return Invalid(where, "name is required");
  g.name = p.name();
  auto role = ParseRole(p.role());
  if (!role) {
    return Invalid(
        Cat(where, ".role"),
        Cat("'", p.role(), "' is not gateway, agent, supervisor or admin"));
  }
  g.role = *role;
  if (g.role == Role::kAgent && p.agent_id().empty()) {
    return Invalid(Cat(where, ".agent_id"), "required for the agent role");
  }
  if (g.role != Role::kAgent && !p.agent_id().empty()) {
    return Invalid(Cat(where, ".agent_id"), "only for the agent role");
  }
  if (g.role != Role::kGateway && !p.gateway_id().empty()) {
    return Invalid(Cat(where, ".gateway_id"), "only for the gateway role");
  }
  g.agent_id = p.agent_id();
  g.gateway_id = p.gateway_id();
  if (!token) {
    if (p.identity().empty()) {
      return Invalid(Cat(where, ".identity"),
                     "required: the client certificate's common name or a "
                     "subject alternative name");
    }
    if (!p.token().empty() || !p.token_sha256().empty()) {
      return Invalid(Cat(where, ".token"),
                     "tokens belong in security.tokens_file");
    }
    g.identity = p.identity();
    return g;
  }
  if (!p.identity().empty()) {
    return Invalid(Cat(where, ".identity"),
                   "certificate identities belong in security.principals");
  }
  if (!p.token().empty() && !p.token_sha256().empty()) {
    return Invalid(where, "token and token_sha256 exclude each other");
  }
  if (!p.token().empty()) {
    if (p.token().size() < kMinTokenBytes) {
      return Invalid(Cat(where, ".token"),
                     Cat("shorter than ", kMinTokenBytes,
                         " characters (try: openssl rand -hex 32)"));
    }
    for (char c : p.token()) {
      if (c <= ' ' || c > '~') {
        return Invalid(Cat(where, ".token"),
                       "may hold only printable ASCII without spaces");
      }
    }
    g.token_sha256 = Sha256(p.token());
    return g;
  }
  const std::string& hex = p.token_sha256();
  if (hex.size() != 64 || !IsLowerHex(hex)) {
    return Invalid(Cat(where, ".token_sha256"),
                   hex.empty()
                       ? std::string("token or token_sha256 is required")
                       : std::string("is not 64 lower-case hex digits"));
  }
  for (size_t i = 0; i < 32; ++i) {
    g.token_sha256[i] = static_cast<unsigned char>(
        std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  }
  return g;
}

absl::Status ResolveAuth(const v1::Security& s, AuthSettings& out) {
  const std::string& mode = s.auth();
  if (!mode.empty() && mode != "tokens" && mode != "none") {
    return Invalid("security.auth", Cat("'", mode, "' is not tokens or none"));
  }
  if (mode == "none") {
    if (!s.tokens_file().empty() || s.principals_size() > 0) {
      return Invalid("security.auth",
                     "is none, yet tokens_file or principals are set");
    }
    out.enabled = false;
    return absl::OkStatus();
  }
  out.enabled = true;
  std::set<std::string> names;
  auto unique = [&names](const Grant& g, const std::string& where) {
    if (!names.insert(g.name).second) {
      return Invalid(where, Cat("name '", g.name, "' is used twice"));
    }
    return absl::OkStatus();
  };
  if (!s.principals().empty()) {
    if (!s.has_tls() || s.tls().client_ca_file().empty()) {
      return Invalid("security.principals",
                     "need tls.client_ca_file: client certificates are only "
                     "asked for with a CA to verify them");
    }
  }
  for (int i = 0; i < s.principals_size(); ++i) {
    std::string where =
        Cat("security.principals[", i, "] (", s.principals(i).name(), ")");
    auto g = ResolveGrant(s.principals(i), where, /*token=*/false);
    if (!g.ok()) return g.status();
    if (auto u = unique(*g, where); !u.ok()) return u;
    out.certificates.push_back(*std::move(g));
  }
  if (!s.tokens_file().empty()) {
    v1::TokensFile file;
    if (auto loaded = LoadConfigFile(s.tokens_file(), &file); !loaded.ok()) {
      return absl::InvalidArgumentError(Cat(
          "security.tokens_file: ",
          std::string_view(loaded.message().data(), loaded.message().size())));
    }
    std::set<std::array<unsigned char, 32>> seen;
    for (int i = 0; i < file.tokens_size(); ++i) {
      std::string where = Cat("security.tokens_file: tokens[", i, "] (",
                              file.tokens(i).name(), ")");
      auto g = ResolveGrant(file.tokens(i), where, /*token=*/true);
      if (!g.ok()) return g.status();
      if (auto u = unique(*g, where); !u.ok()) return u;
      if (!seen.insert(g->token_sha256).second) {
        return Invalid(where, "the same token as an earlier entry");
      }
      out.tokens.push_back(*std::move(g));
    }
  }
  if (out.tokens.empty() && out.certificates.empty()) {
    return Invalid("security",
                   "no credentials: set tokens_file or principals (or, for a "
                   "local test server only, auth: none)");
  }
  return absl::OkStatus();
}

void MakeAbsolute(const std::string& directory, std::string* path) {
  if (path->empty() || std::filesystem::path(*path).is_absolute()) return;
  *path = (std::filesystem::path(directory) / *path).lexically_normal();
}

}  // namespace

absl::StatusOr<ResolvedSecurity> ResolveSecurity(const v1::Security& s) {
  ResolvedSecurity out;
  if (s.has_tls() && s.plaintext()) {
    return Invalid("security.plaintext", "true, yet tls is set");
  }
  if (!s.has_tls() && !s.plaintext()) {
    return Invalid("security",
                   "say how the gRPC port is secured: tls (cert_file, "
                   "key_file) or plaintext: true");
  }
  if (s.has_tls()) {
    auto tls = ResolveTls(s.tls());
    if (!tls.ok()) return tls.status();
    out.tls = *std::move(tls);
  }
  if (auto a = ResolveAuth(s, out.auth); !a.ok()) return a;
  out.audit_log_file = s.audit_log_file();
  if (!s.log_hash_key_file().empty()) {
    auto key = ReadFile("security.log_hash_key_file", s.log_hash_key_file());
    if (!key.ok()) return key.status();
    if (key->size() < kMinHashKeyBytes) {
      return Invalid("security.log_hash_key_file",
                     Cat("holds fewer than ", kMinHashKeyBytes, " bytes"));
    }
    out.log_hash_key = *std::move(key);
  }
  return out;
}

absl::Status RequireSecuritySection(const v1::ServerConfig& config) {
  if (config.has_security()) return absl::OkStatus();
  return Invalid("security",
                 "missing: say how the gRPC port is secured and who may "
                 "call, e.g. tls and tokens_file, or for a local test "
                 "server `security: {plaintext: true, auth: none}`");
}

absl::Status RequireLoopback(const std::string& listen) {
  std::string_view host = listen;
  if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (host.starts_with("127.") || host == "[::1]" || host == "localhost") {
    return absl::OkStatus();
  }
  return Invalid("listen",
                 Cat("the built-in demo configuration has no TLS and no "
                     "authentication, so it listens on loopback only, not on '",
                     listen, "'; use --config with a security section"));
}

void ResolveSecurityPaths(const std::string& directory,
                          v1::ServerConfig& config) {
  if (config.has_journal()) {
    MakeAbsolute(directory, config.mutable_journal()->mutable_data_dir());
  }
  if (!config.has_security()) return;
  v1::Security* s = config.mutable_security();
  MakeAbsolute(directory, s->mutable_tokens_file());
  MakeAbsolute(directory, s->mutable_audit_log_file());
  MakeAbsolute(directory, s->mutable_log_hash_key_file());
  if (s->has_tls()) {
    MakeAbsolute(directory, s->mutable_tls()->mutable_cert_file());
    MakeAbsolute(directory, s->mutable_tls()->mutable_key_file());
    MakeAbsolute(directory, s->mutable_tls()->mutable_client_ca_file());
  }
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(
    const ResolvedSecurity& security) {
  if (!security.tls) return grpc::InsecureServerCredentials();
  const TlsSettings& tls = *security.tls;
  grpc_ssl_client_certificate_request_type request =
      tls.client_ca_pem.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
      : tls.require_client_cert
          ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
          : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
  grpc::SslServerCredentialsOptions options(request);
  options.pem_root_certs = tls.client_ca_pem;
  options.pem_key_cert_pairs.push_back(
      {tls.private_key_pem, tls.cert_chain_pem});
  return grpc::SslServerCredentials(options);
}

}  // namespace ccroute::api
