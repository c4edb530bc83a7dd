// A real ccrouted (TLS, bearer tokens, an audit file, debug logs) takes
// contacts that carry synthetic phone numbers, names and customer ids,
// refuses attributes with card numbers, refuses callers without the right
// credential, and routes a contact to an agent. Afterwards none of that
// personal data, no card number and no token is found in its log, its audit
// trail or its /metrics.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>

#include "tests/security/secure_server.h"
#include "tests/util/child_process.h"

namespace ccroute::testing {
namespace {

// GET http://127.0.0.1:port/path, the whole response; empty on error.
std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) ==
      0) {
    std::string request =
        "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (write(fd, request.data(), request.size()) ==
        static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) {
        out.append(buffer, static_cast<size_t>(n));
      }
    }
  }
  close(fd);
  return out;
}

const std::string kGatewayA = "tok-gw-a-5d1c8e0f7a9b2c4d6e8f0a1b3c5d7e9f";
const std::string kGatewayB = "tok-gw-b-8f0a1b3c5d7e9f5d1c8e0f7a9b2c4d6e";
const std::string kDesk = "tok-desk-a1-c5d7e9f5d1c8e0f7a9b2c4d6e8f0a1";
const std::string kOps = "tok-ops-2c4d6e8f0a1b3c5d7e9f5d1c8e0f7a9b";
const std::string kForged = "tok-forged-000000000000000000000000000000";

TEST(PersonalDataScanTest, LogsAuditAndMetricsCarryNoPersonalData) {
  TestCertificates certs;
  ASSERT_TRUE(certs.ok());
  WriteText(certs.dir() / "tokens.yaml",
            "tokens:\n"
            "  - {name: gw-a, role: gateway, gateway_id: site-a, token: " +
                kGatewayA +
                "}\n"
                "  - {name: gw-b, role: gateway, gateway_id: site-b, token: " +
                kGatewayB +
                "}\n"
                "  - {name: desk-a1, role: agent, agent_id: a1, token: " +
                kDesk +
                "}\n"
                "  - {name: ops, role: admin, token: " +
                kOps + "}\n");
  WriteText(certs.dir() / "ccrouted.yaml",
            "listen: 127.0.0.1:0\n"
            "metrics_listen: 127.0.0.1:0\n"
            "queues: [{name: sales, offer_timeout: 60s}]\n"
            "agents: [{id: a1, capacity: {voice: 1}}]\n"
            "security:\n"
            "  tls: {cert_file: server.pem, key_file: server.key}\n"
            "  tokens_file: tokens.yaml\n"
            "  audit_log_file: audit.log\n");
  std::string log = certs.Path("ccrouted.log");
  ChildProcess server({CCROUTED_PATH, "--config", certs.Path("ccrouted.yaml"),
                       "--log-level", "debug"},
                      log);
  ASSERT_TRUE(server.started());
  auto grpc_port = WaitForMatch(log, std::regex(R"re("grpc_port":([0-9]+))re"));
  auto metrics_port =
      WaitForMatch(log, std::regex(R"re("metrics_port":([0-9]+))re"));
  ASSERT_TRUE(grpc_port && metrics_port) << ReadText(log);

  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = certs.Pem("ca.pem");
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  auto channel = grpc::CreateCustomChannel("127.0.0.1:" + *grpc_port,
                                           grpc::SslCredentials(tls), args);

  // The synthetic personal data, and the secrets.
  const std::vector<std::string> phones = {"+15555550123", "+1 555 555 0199",
                                           "+4930901820", "+8613912345677"};
  const std::vector<std::string> cards = {
      "4111111111111111", "5555 5555 5555 4444", "3782-822463-10005"};
  const std::string customer = "cust-erika-mustermann-1975";
  const std::string email = "erika.mustermann@example.com";
  const std::vector<std::string> contact_ids = {"call-7f3a91", "call-7f3a92",
                                                "call-7f3a93"};

  // Contacts with personal data in every field that takes it.
  for (size_t i = 0; i < contact_ids.size(); ++i) {
    auto request = NewContact(contact_ids[i], "sales");
    request.set_customer_id(customer + std::to_string(i));
    (*request.mutable_attributes())["ani"] = phones[i];
    (*request.mutable_attributes())["callback"] = phones[3];
    (*request.mutable_attributes())["email"] = email;
    (*request.mutable_attributes())["name"] = "Erika Mustermann";
    grpc::Status s = CreateOn(channel, kGatewayA, request);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  // Card numbers are refused.
  for (const std::string& card : cards) {
    auto request = NewContact("call-card", "sales");
    (*request.mutable_attributes())["payment"] = card;
    (*request.mutable_attributes())["ani"] = phones[0];
    EXPECT_EQ(CreateOn(channel, kGatewayA, request).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  // Callers without the right credential, carrying personal data.
  auto refused = NewContact("call-refused", "sales");
  refused.set_customer_id(customer);
  (*refused.mutable_attributes())["ani"] = phones[1];
  EXPECT_EQ(CreateOn(channel, kForged, refused).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(CreateOn(channel, kDesk, refused).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(CreateOn(channel, "", refused).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // Another gateway reaching for gateway A's contact.
  v1::CancelContactRequest cancel;
  cancel.set_contact_id(contact_ids[2]);
  v1::Contact out;
  EXPECT_EQ(v1::Contacts::NewStub(channel)
                ->CancelContact(Call(kGatewayB).get(), cancel, &out)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // The agent answers and completes the first contact; a wrong login first.
  {
    TokenDesktop desk(channel, kDesk);
    EXPECT_EQ(desk.Login("someone-else"), grpc::StatusCode::PERMISSION_DENIED);
    ASSERT_EQ(desk.Login("a1"), grpc::StatusCode::OK);
    auto offer = desk.NextOffer();
    ASSERT_TRUE(offer.has_value());
    EXPECT_EQ(offer->contact().attributes().at("ani"), phones[0])
        << "the agent gets the attributes; only logs must not";
    ASSERT_EQ(desk.Accept(offer->contact().id()), grpc::StatusCode::OK);
    v1::AgentRequest complete;
    complete.mutable_complete()->set_contact_id(offer->contact().id());
    complete.mutable_complete()->set_wrap_up_code("sold");
    EXPECT_EQ(desk.Send(complete).code(), 0);
  }
  // The gateway hangs up the second; an admin changes a queue.
  cancel.set_contact_id(contact_ids[1]);
  EXPECT_TRUE(v1::Contacts::NewStub(channel)
                  ->CancelContact(Call(kGatewayA).get(), cancel, &out)
                  .ok());
  v1::Queue queue;
  queue.set_name("vip");
  v1::Queue upserted;
  EXPECT_TRUE(v1::Admin::NewStub(channel)
                  ->UpsertQueue(Call(kOps).get(), queue, &upserted)
                  .ok());

  std::string metrics = HttpGet(std::stoi(*metrics_port), "/metrics");
  ASSERT_THAT(metrics, ::testing::HasSubstr("ccroute_contacts_created_total"));
  ASSERT_EQ(server.Stop(), 0) << ReadText(log);
  std::string logs = ReadText(log);
  std::string audit = ReadText(certs.Path("audit.log"));

  // What the run must have produced, so that the scan looks at something.
  EXPECT_THAT(logs, ::testing::HasSubstr(R"("event":"auth_denied")"));
  EXPECT_THAT(logs, ::testing::HasSubstr(R"("contact_hash":")"));
  EXPECT_THAT(logs, ::testing::HasSubstr(R"("event":"agent_login")"));
  EXPECT_THAT(logs,
              ::testing::Not(::testing::HasSubstr(R"("event":"plaintext")")));
  EXPECT_THAT(audit, ::testing::HasSubstr(R"("principal":"ops")"));

  std::vector<std::string> secrets = {customer,  email, "Mustermann", kGatewayA,
                                      kGatewayB, kDesk, kOps,         kForged};
  for (const auto& id : contact_ids) secrets.push_back(id);
  for (const auto& values : {phones, cards}) {
    for (const std::string& v : values) {
      secrets.push_back(v);
      // And its digits however written: all of them, and every 9 in a row
      // (shorter runs could turn up by chance in times and byte counts).
      std::string digits;
      for (char c : v) {
        if (c >= '0' && c <= '9') digits += c;
      }
      secrets.push_back(digits);
      for (size_t at = 0; at + 9 <= digits.size(); ++at) {
        secrets.push_back(digits.substr(at, 9));
      }
    }
  }
  int checked = 0;
  for (const auto& [name, text] :
       {std::pair<std::string, std::string>{"log", logs},
        {"audit", audit},
        {"metrics", metrics}}) {
    ASSERT_FALSE(text.empty()) << name;
    for (const std::string& secret : secrets) {
      ++checked;
      EXPECT_EQ(text.find(secret), std::string::npos)
          << name << " holds '" << secret << "'";
    }
  }
  EXPECT_GT(checked, 100);
}

}  // namespace
}  // namespace ccroute::testing
