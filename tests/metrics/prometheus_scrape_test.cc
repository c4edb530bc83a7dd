// A real Prometheus server (Debian's `prometheus`) scrapes a running
// ccrouted while a gateway and an agent desktop drive a small load; the test
// then asks Prometheus's HTTP API for the queue metrics and checks they show
// the contacts it created, answered and abandoned. Everything on loopback;
// every wait is bounded.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ccroute/v1/agents.grpc.pb.h"
#include "ccroute/v1/contacts.grpc.pb.h"
#include "tests/util/child_process.h"

namespace ccroute {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

int FreePort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(
      io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

// GET http://127.0.0.1:port/target; the body, or nullopt on any error.
std::optional<std::string> HttpGet(int port, const std::string& target) {
  namespace http = boost::beast::http;
  try {
    boost::asio::io_context io;
    boost::beast::tcp_stream stream(io);
    stream.expires_after(5s);
    stream.connect({boost::asio::ip::make_address("127.0.0.1"),
                    static_cast<unsigned short>(port)});
    http::request<http::empty_body> request(http::verb::get, target, 11);
    request.set(http::field::host, "127.0.0.1");
    http::write(stream, request);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    if (response.result() != http::status::ok) return std::nullopt;
    return response.body();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '_' || c == '.' || c == '-') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// The scalar value of an instant query with one result, if there is one.
std::optional<double> Query(int port, const std::string& promql) {
  auto body = HttpGet(port, "/api/v1/query?query=" + UrlEncode(promql));
  if (!body) return std::nullopt;
  std::smatch m;
  static const std::regex kValue(R"re("value":\[[0-9.]+,"([^"]+)"\])re");
  if (!std::regex_search(*body, m, kValue)) return std::nullopt;
  return std::stod(m[1].str());
}

// Polls until the query returns `expected` (bounded); the last value seen.
std::optional<double> WaitForValue(int port, const std::string& promql,
                                   double expected) {
  std::optional<double> last;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    last = Query(port, promql);
    if (last && *last == expected) return last;
    std::this_thread::sleep_for(250ms);
  }
  return last;
}

TEST(PrometheusScrapeTest, QueueMetricsShowTheLoad) {
  ASSERT_TRUE(fs::exists("/usr/bin/prometheus"))
      << "Debian's prometheus package is required (deploy/setup.sh)";
  fs::path dir = fs::temp_directory_path() /
                 ("ccroute-scrape-" + std::to_string(getpid()));
  fs::create_directories(dir);

  testing::ChildProcess ccrouted(
      {CCROUTED_PATH, "--listen", "127.0.0.1:0", "--metrics-listen",
       "127.0.0.1:0", "--data-dir", (dir / "journal").string()},
      dir / "ccrouted.log");
  ASSERT_TRUE(ccrouted.started());
  auto grpc_port = testing::WaitForMatch(
      dir / "ccrouted.log", std::regex(R"re("grpc_port":([0-9]+))re"), 30s);
  auto metrics_port = testing::WaitForMatch(
      dir / "ccrouted.log", std::regex(R"re("metrics_port":([0-9]+))re"), 30s);
  ASSERT_TRUE(grpc_port && metrics_port)
      << testing::ReadWholeFile(dir / "ccrouted.log");

  // The exposition itself passes promtool's lint.
  auto exposition = HttpGet(std::stoi(*metrics_port), "/metrics");
  ASSERT_TRUE(exposition.has_value());
  {
    std::ofstream(dir / "exposition.txt") << *exposition;
    std::string command = "promtool check metrics < " +
                          (dir / "exposition.txt").string() + " 2>&1";
    FILE* p = popen(command.c_str(), "r");
    ASSERT_NE(p, nullptr);
    char buf[512];
    std::string out;
    while (fgets(buf, sizeof(buf), p)) out += buf;
    EXPECT_EQ(pclose(p), 0) << out;
  }

  int prometheus_port = FreePort();
  std::ofstream(dir / "prometheus.yml")
      << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
      << "scrape_configs:\n  - job_name: ccroute\n    static_configs:\n"
      << "      - targets: ['127.0.0.1:" << *metrics_port << "']\n";
  testing::ChildProcess prometheus(
      {"/usr/bin/prometheus",
       "--config.file=" + (dir / "prometheus.yml").string(),
       "--storage.tsdb.path=" + (dir / "data").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)},
      dir / "prometheus.log");
  ASSERT_TRUE(prometheus.started());

  // The load: three sales calls; one answered, one abandoned, one waiting.
  auto channel = grpc::CreateChannel("127.0.0.1:" + *grpc_port,
                                     grpc::InsecureChannelCredentials());
  auto contacts = v1::Contacts::NewStub(channel);
  auto agents = v1::Agents::NewStub(channel);
  grpc::ClientContext agent_context;
  agent_context.set_deadline(std::chrono::system_clock::now() + 60s);
  auto desk = agents->Connect(&agent_context);
  v1::AgentRequest login;
  login.mutable_login()->set_agent_id("bob");
  login.mutable_login()->set_ready(true);
  ASSERT_TRUE(desk->Write(login));
  auto create = [&](const std::string& id) {
    v1::CreateContactRequest r;
    r.set_contact_id(id);
    r.set_queue("sales");
    r.set_channel(v1::CHANNEL_VOICE);
    v1::Contact c;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    return contacts->CreateContact(&context, r, &c);
  };
  ASSERT_TRUE(create("s1").ok());
  v1::AgentEvent event;
  bool offered = false;
  while (!offered && desk->Read(&event)) offered = event.has_offer();
  ASSERT_TRUE(offered);
  v1::AgentRequest accept;
  accept.mutable_accept()->set_contact_id("s1");
  ASSERT_TRUE(desk->Write(accept));
  v1::AgentRequest complete;
  complete.mutable_complete()->set_contact_id("s1");
  ASSERT_TRUE(desk->Write(complete));
  bool wrap_up = false;
  while (!wrap_up && desk->Read(&event)) wrap_up = event.has_wrap_up_started();
  ASSERT_TRUE(wrap_up);  // bob is in wrap-up: the next two wait
  ASSERT_TRUE(create("s2").ok());
  ASSERT_TRUE(create("s3").ok());
  {
    v1::CancelContactRequest cancel;
    cancel.set_contact_id("s2");
    cancel.set_reason(v1::END_REASON_ABANDONED);
    v1::Contact c;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    ASSERT_TRUE(contacts->CancelContact(&context, cancel, &c).ok());
  }

  const std::string q = R"({queue="sales"})";
  EXPECT_EQ(WaitForValue(prometheus_port,
                         "sum(ccroute_contacts_created_total" + q + ")", 3),
            3.0)
      << testing::ReadWholeFile(dir / "prometheus.log");
  EXPECT_EQ(WaitForValue(prometheus_port,
                         "sum(ccroute_contacts_answered_total" + q + ")", 1),
            1.0);
  EXPECT_EQ(WaitForValue(prometheus_port,
                         "sum(ccroute_contacts_abandoned_total" + q + ")", 1),
            1.0);
  EXPECT_EQ(
      WaitForValue(prometheus_port, "ccroute_queue_contacts_waiting" + q, 1),
      1.0);
  EXPECT_EQ(WaitForValue(prometheus_port,
                         "sum(ccroute_answer_delay_seconds_count" + q + ")", 1),
            1.0);
  EXPECT_EQ(
      WaitForValue(prometheus_port, R"(ccroute_agents{state="offline"})", 7),
      7.0)
      << "bob logged in; the other seven built-in agents did not";
  EXPECT_EQ(
      WaitForValue(
          prometheus_port,
          R"(sum(ccroute_grpc_requests_total{method="/ccroute.v1.Contacts/CreateContact",code="OK"}))",
          3),
      3.0);
  agent_context.TryCancel();
  desk->Finish();

  // Every log line is one JSON object with a level and an event, and the
  // logs name no contact.
  std::istringstream log(testing::ReadWholeFile(dir / "ccrouted.log"));
  static const std::regex kLine(
      R"re(^\{"ts":"[0-9T:.Z-]+","level":"(debug|info|warning|error)","event":"[a-z_]+".*\}$)re");
  int lines = 0;
  for (std::string line; std::getline(log, line); ++lines) {
    EXPECT_TRUE(std::regex_match(line, kLine)) << line;
    for (const char* id : {"s1", "s2", "s3"}) {
      EXPECT_EQ(line.find(std::string("\"") + id + "\""), std::string::npos)
          << line;
    }
  }
  EXPECT_GE(lines, 2);  // started, agent_login
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

}  // namespace
}  // namespace ccroute
