// The security section of the configuration: TLS files, the tokens file,
// certificate principals, and the errors that name what is wrong.
#include "server/api/security_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "server/api/config_file.h"
#include "tests/security/certs.h"

namespace ccroute::api {
namespace {

using ::testing::HasSubstr;
using testing::TestCertificates;
using testing::WriteText;

std::string Message(const absl::Status& s) {
  return std::string(s.message().data(), s.message().size());
}

// Resolves `yaml` after replacing every "$DIR" with `dir`.
absl::StatusOr<ResolvedConfig> Resolve(std::string yaml,
                                       const std::string& dir = "") {
  for (size_t at; (at = yaml.find("$DIR")) != std::string::npos;) {
    yaml.replace(at, 4, dir);
  }
  auto config = ParseServerConfig(yaml, "yaml");
  if (!config.ok()) return config.status();
  return ResolveServerConfig(*config);
}

constexpr char kToken[] = "0123456789abcdef0123456789abcdef-gw";

class SecurityConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(certs_.ok());
    WriteText(certs_.dir() / "tokens.yaml",
              std::string("tokens:\n") + "  - {name: sip, token: " + kToken +
                  ", role: gateway, gateway_id: site-a}\n"
                  "  - {name: desk-7, role: agent, agent_id: a7,\n"
                  "     token_sha256: "
                  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f0"
                  "0a08}\n");
  }
  std::string dir() const { return certs_.dir().string(); }

  TestCertificates certs_;
};

TEST_F(SecurityConfigTest, TlsTokensAndPrincipalsResolve) {
  auto resolved = Resolve(R"(
security:
  tls:
    cert_file: $DIR/server.pem
    key_file: $DIR/server.key
    client_ca_file: $DIR/ca.pem
    require_client_cert: true
  tokens_file: $DIR/tokens.yaml
  principals:
    - {name: wallboard, identity: wall.example, role: supervisor}
  audit_log_file: /var/log/ccroute/audit.log
)",
                          dir());
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  const ResolvedSecurity& s = resolved->security;
  ASSERT_TRUE(s.tls.has_value());
  EXPECT_EQ(s.tls->cert_chain_pem, certs_.Pem("server.pem"));
  EXPECT_EQ(s.tls->client_ca_pem, certs_.Pem("ca.pem"));
  EXPECT_TRUE(s.tls->require_client_cert);
  EXPECT_TRUE(s.auth.enabled);
  ASSERT_EQ(s.auth.tokens.size(), 2u);
  EXPECT_EQ(s.auth.tokens[0].name, "sip");
  EXPECT_EQ(s.auth.tokens[0].role, Role::kGateway);
  EXPECT_EQ(s.auth.tokens[0].gateway_id, "site-a");
  EXPECT_EQ(s.auth.tokens[0].token_sha256, Sha256(kToken));
  EXPECT_EQ(s.auth.tokens[1].agent_id, "a7");
  EXPECT_EQ(s.auth.tokens[1].token_sha256, Sha256("test"));
  ASSERT_EQ(s.auth.certificates.size(), 1u);
  EXPECT_EQ(s.auth.certificates[0].identity, "wall.example");
  EXPECT_EQ(s.audit_log_file, "/var/log/ccroute/audit.log");
}

TEST_F(SecurityConfigTest, WithoutTheSectionThereIsNeitherTlsNorAuth) {
  auto resolved = Resolve("queues: [{name: sales}]\n");
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_FALSE(resolved->security.tls.has_value());
  EXPECT_FALSE(resolved->security.auth.enabled);
  // ...which ccrouted refuses for a configuration file.
  auto parsed = ParseServerConfig("queues: [{name: sales}]\n", "yaml");
  ASSERT_TRUE(parsed.ok());
  absl::Status s = RequireSecuritySection(*parsed);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(s), HasSubstr("plaintext: true, auth: none"));
  parsed =
      ParseServerConfig("security: {plaintext: true, auth: none}\n", "yaml");
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(RequireSecuritySection(*parsed).ok());
}

TEST_F(SecurityConfigTest, ErrorsNameTheKey) {
  struct Case {
    std::string yaml;
    std::string error;
  };
  const std::string tls =
      "  tls: {cert_file: $DIR/server.pem, key_file: "
      "$DIR/server.key}\n";
  std::vector<Case> cases = {
      {"security: {}\n", "security: say how the gRPC port is secured"},
      {"security:\n  plaintext: true\n" + tls,
       "security.plaintext: true, yet tls is set"},
      {"security: {plaintext: true}\n", "security: no credentials"},
      {"security: {plaintext: true, auth: maybe}\n",
       "security.auth: 'maybe' is not tokens or none"},
      {"security: {plaintext: true, auth: none, tokens_file: x.yaml}\n",
       "security.auth: is none, yet tokens_file or principals are set"},
      {"security:\n  tls: {cert_file: $DIR/nope.pem, key_file: "
       "$DIR/server.key}\n  auth: none\n",
       "security.tls.cert_file: " + dir() + "/nope.pem: cannot read"},
      {"security:\n  tls: {cert_file: $DIR/server.pem}\n  auth: none\n",
       "security.tls.key_file: is required"},
      {"security:\n  tls: {cert_file: $DIR/ca.pem, key_file: "
       "$DIR/server.key}\n  auth: none\n",
       "security.tls.key_file: " + dir() +
           "/server.key: does not match the certificate"},
      {"security:\n  tls: {cert_file: $DIR/server.key, key_file: "
       "$DIR/server.key}\n  auth: none\n",
       "no PEM certificate"},
      {"security:\n  tls: {cert_file: $DIR/expired.pem, key_file: "
       "$DIR/expired.key}\n  auth: none\n",
       "the certificate has expired"},
      {"security:\n  tls: {cert_file: $DIR/server.pem, key_file: "
       "$DIR/server.key, require_client_cert: true}\n  auth: none\n",
       "security.tls.require_client_cert: needs client_ca_file"},
      {"security:\n" + tls +
           "  principals: [{name: x, identity: x, role: admin}]\n",
       "security.principals: need tls.client_ca_file"},
      {"security: {plaintext: true, tokens_file: $DIR/missing.yaml}\n",
       "security.tokens_file: " + dir() + "/missing.yaml: cannot read"},
      {"security: {plaintext: true, tokens_file: $DIR/bad-role.yaml}\n",
       "tokens[0] (t).role: 'root' is not gateway, agent, supervisor or "
       "admin"},
      {"security: {plaintext: true, tokens_file: $DIR/no-agent.yaml}\n",
       "tokens[0] (t).agent_id: required for the agent role"},
      {"security: {plaintext: true, tokens_file: $DIR/gw-id.yaml}\n",
       "tokens[0] (t).gateway_id: only for the gateway role"},
      {"security: {plaintext: true, tokens_file: $DIR/short.yaml}\n",
       "tokens[0] (t).token: shorter than 32 characters"},
      {"security: {plaintext: true, tokens_file: $DIR/twice.yaml}\n",
       "tokens[1] (u): the same token as an earlier entry"},
      {"security: {plaintext: true, tokens_file: $DIR/same-name.yaml}\n",
       "tokens[1] (t): name 't' is used twice"},
      {"security: {plaintext: true, tokens_file: $DIR/typo.yaml}\n",
       "tokens[0].rol: unknown field"},
      {"security: {plaintext: true, tokens_file: $DIR/bad-hash.yaml}\n",
       "token_sha256: is not 64 lower-case hex digits"},
  };
  certs_.ExpiredClient("expired", "localhost");
  const std::string t = std::string(kToken);
  WriteText(certs_.dir() / "bad-role.yaml",
            "tokens: [{name: t, token: " + t + ", role: root}]\n");
  WriteText(certs_.dir() / "no-agent.yaml",
            "tokens: [{name: t, token: " + t + ", role: agent}]\n");
  WriteText(certs_.dir() / "gw-id.yaml",
            "tokens: [{name: t, token: " + t +
                ", role: supervisor, gateway_id: g}]\n");
  WriteText(certs_.dir() / "short.yaml",
            "tokens: [{name: t, token: abc, role: admin}]\n");
  WriteText(certs_.dir() / "twice.yaml", "tokens: [{name: t, token: " + t +
                                             ", role: admin},\n"
                                             "         {name: u, token: " +
                                             t + ", role: supervisor}]\n");
  WriteText(certs_.dir() / "same-name.yaml", "tokens: [{name: t, token: " + t +
                                                 "1, role: admin},\n"
                                                 "         {name: t, token: " +
                                                 t + "2, role: supervisor}]\n");
  WriteText(certs_.dir() / "typo.yaml",
            "tokens: [{name: t, token: " + t + ", rol: admin}]\n");
  WriteText(certs_.dir() / "bad-hash.yaml",
            "tokens: [{name: t, token_sha256: ABC, role: admin}]\n");
  for (const Case& c : cases) {
    auto resolved = Resolve(c.yaml, dir());
    ASSERT_FALSE(resolved.ok()) << c.yaml;
    EXPECT_EQ(resolved.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(Message(resolved.status()), HasSubstr(c.error)) << c.yaml;
    EXPECT_THAT(Message(resolved.status()), ::testing::Not(HasSubstr(t)))
        << "a token must never appear in an error";
  }
}

TEST_F(SecurityConfigTest, RelativePathsAreRelativeToTheConfigFile) {
  WriteText(certs_.dir() / "ccrouted.yaml",
            "security:\n  plaintext: true\n  tokens_file: tokens.yaml\n"
            "  audit_log_file: audit.log\n");
  auto config = LoadServerConfigFile((certs_.dir() / "ccrouted.yaml").string());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->security().tokens_file(), dir() + "/tokens.yaml");
  EXPECT_EQ(config->security().audit_log_file(), dir() + "/audit.log");
  auto resolved = ResolveServerConfig(*config);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->security.auth.tokens.size(), 2u);
}

TEST(SecurityDefaultsTest, BuiltInDemoIsPlaintextWithoutAuthOnLoopback) {
  auto config = ParseServerConfig(BuiltInConfigYaml(), "yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(RequireSecuritySection(*config).ok());
  EXPECT_TRUE(RequireLoopback(config->listen()).ok());
  auto resolved = ResolveServerConfig(*config);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_FALSE(resolved->security.tls.has_value());
  EXPECT_FALSE(resolved->security.auth.enabled);

  for (const char* listen :
       {"127.0.0.1:7400", "127.0.0.1:0", "[::1]:7400", "localhost:7400"}) {
    EXPECT_TRUE(RequireLoopback(listen).ok()) << listen;
  }
  for (const char* listen :
       {"0.0.0.0:7400", "10.1.2.3:7400", "[::]:7400", "ccroute.example:7400"}) {
    EXPECT_EQ(RequireLoopback(listen).code(),
              absl::StatusCode::kInvalidArgument)
        << listen;
  }
}

TEST(SecurityDefaultsTest, ExampleConfigurationAuthenticates) {
  auto config = LoadServerConfigFile(std::string(CCROUTE_SOURCE_DIR) +
                                     "/deploy/ccrouted.example.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(RequireSecuritySection(*config).ok());
  auto resolved = ResolveServerConfig(*config);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_TRUE(resolved->security.auth.enabled);
  EXPECT_FALSE(resolved->security.auth.tokens.empty());
  EXPECT_EQ(resolved->server_limits.max_concurrent_streams,
            ServerLimits().max_concurrent_streams);
  EXPECT_GT(resolved->server_limits.contact_rate_per_second, 0);
}

TEST(SecurityDefaultsTest, LimitsParse) {
  auto config = ParseServerConfig(
      "limits:\n  max_concurrent_streams: 8\n"
      "  contact_rate: {per_second: 2.5, burst: 10}\n",
      "yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  auto resolved = ResolveServerConfig(*config);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->server_limits.max_concurrent_streams, 8);
  EXPECT_EQ(resolved->server_limits.contact_rate_per_second, 2.5);
  EXPECT_EQ(resolved->server_limits.contact_rate_burst, 10);
  config = ParseServerConfig("limits:\n  contact_rate: {burst: 10}\n", "yaml");
  ASSERT_TRUE(config.ok());
  EXPECT_THAT(Message(ResolveServerConfig(*config).status()),
              HasSubstr("limits.contact_rate.per_second: must be positive"));
}

}  // namespace
}  // namespace ccroute::api
