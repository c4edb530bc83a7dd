// Faults on the streams of a real ccrouted, run as a child process, with
// real client processes where a process is what fails:
//  - an agent desktop (`ccroute agent login`) killed with SIGKILL while it
//    holds an offer, or an assigned contact;
//  - a desktop stopped with SIGSTOP: its socket stays open and nothing is
//    closed, so only HTTP/2 keepalive can find it;
//  - watchers (`ccroute events`, `ccroute contact watch`, and streams that
//    are opened and never read) while a hundred thousand events flow.
// Checked: no contact is lost or offered to two agents at once; an offer
// moves on at once, long before any timeout; an assigned contact waits out
// the reconnect grace and then goes back to its place; a slow stream is
// dropped without slowing anyone else, its slot is freed, and the server's
// memory stays bounded. Every wait is bounded; nothing asserts a duration
// (bench/fault_latency.sh measures the engine's decision latency).
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ccroute/v1/contacts.grpc.pb.h"
#include "ccroute/v1/supervisor.grpc.pb.h"
#include "tests/cli/cli_process.h"
#include "tests/integration/test_server.h"
#include "tests/util/child_process.h"

namespace ccroute::testing {
namespace {

namespace fs = std::filesystem;

const std::string kCli = CCROUTE_CLI_PATH;
// Longer than kWait, for what spans a keepalive or a reconnect grace.
constexpr auto kLong = std::chrono::seconds(30);

// GET http://127.0.0.1:port/path, the body; empty on error.
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
  size_t body = out.find("\r\n\r\n");
  return body == std::string::npos ? "" : out.substr(body + 4);
}

// The value of one series in a Prometheus exposition, e.g.
// `ccroute_streams_open{kind="events"}`; -1 if absent.
double SeriesValue(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > series.size() &&
        line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

// Polls `done` every 20 ms until it holds or `timeout` passes.
bool WaitUntil(const std::function<bool()>& done,
               std::chrono::milliseconds timeout = kLong) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// A channel with a TCP connection of its own (gRPC otherwise shares one
// between channels to the same address), so that what happens to it
// happens to no other client.
std::shared_ptr<grpc::Channel> OwnConnection(const std::string& target,
                                             grpc::ChannelArguments args = {}) {
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                   args);
}

// A ccrouted child process on a free loopback port, with its metrics
// endpoint, and a gateway's and a supervisor's stubs.
class Ccrouted {
 public:
  Ccrouted(const fs::path& dir, const std::string& config) {
    fs::path file = dir / "ccrouted.yaml";
    std::ofstream(file) << config;
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{CCROUTED_PATH, "--config", file.string(),
                                 "--listen", "127.0.0.1:0", "--metrics-listen",
                                 "127.0.0.1:0"},
        (dir / "ccrouted.log").string());
    auto metrics = process_->WaitForLog(
        std::regex(R"re("event":"started".*"metrics_port":([0-9]+))re"));
    auto grpc = process_->WaitForLog(
        std::regex(R"re("event":"started".*"grpc_port":([0-9]+))re"));
    if (!metrics || !grpc) return;
    metrics_port_ = std::stoi(*metrics);
    target_ = "127.0.0.1:" + *grpc;
    auto channel = OwnConnection(target_);
    contacts_ = v1::Contacts::NewStub(channel);
    supervisor_ = v1::Supervisor::NewStub(channel);
  }

  bool ok() const { return !target_.empty(); }
  const std::string& target() const { return target_; }
  pid_t pid() const { return process_->pid(); }
  std::string log() const { return process_->log(); }

  grpc::Status Create(const std::string& id, const std::string& queue) {
    v1::Contact reply;
    return contacts_->CreateContact(Deadline().get(), NewContact(id, queue),
                                    &reply);
  }
  v1::Contact Get(const std::string& id) {
    v1::GetContactRequest request;
    request.set_contact_id(id);
    v1::Contact reply;
    grpc::Status s = contacts_->GetContact(Deadline().get(), request, &reply);
    EXPECT_TRUE(s.ok()) << id << ": " << s.error_message();
    return reply;
  }
  v1::AgentStats Agent(const std::string& id) {
    v1::ListAgentsResponse reply;
    grpc::Status s = supervisor_->ListAgents(Deadline().get(),
                                             v1::ListAgentsRequest(), &reply);
    EXPECT_TRUE(s.ok()) << s.error_message();
    for (const v1::AgentStats& a : reply.agents()) {
      if (a.agent_id() == id) return a;
    }
    ADD_FAILURE() << "no agent " << id;
    return {};
  }
  int Waiting(const std::string& queue) {
    v1::GetQueueStatsRequest request;
    request.set_queue(queue);
    v1::QueueStats reply;
    grpc::Status s =
        supervisor_->GetQueueStats(Deadline().get(), request, &reply);
    EXPECT_TRUE(s.ok()) << queue << ": " << s.error_message();
    return reply.waiting() + reply.offered();
  }
  // One series from /metrics; -1 if absent.
  double Metric(const std::string& series) {
    return SeriesValue(HttpGet(metrics_port_, "/metrics"), series);
  }
  // Resident memory in KiB, from /proc; -1 if unreadable.
  int64_t ResidentKib() {
    std::ifstream in("/proc/" + std::to_string(pid()) + "/status");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
    }
    return -1;
  }

  v1::Contacts::Stub& contacts() { return *contacts_; }

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string target_;
  int metrics_port_ = 0;
  std::unique_ptr<v1::Contacts::Stub> contacts_;
  std::unique_ptr<v1::Supervisor::Stub> supervisor_;
};

// A supervisor's event feed (Supervisor.WatchEvents), read on a background
// thread as fast as the events come.
class EventFeed {
 public:
  EventFeed(const std::string& target, std::vector<std::string> queues)
      : stub_(v1::Supervisor::NewStub(OwnConnection(target))) {
    v1::WatchEventsRequest request;
    for (const std::string& q : queues) request.add_queues(q);
    reader_ = std::thread([this, request] {
      auto stream = stub_->WatchEvents(&context_, request);
      v1::Event event;
      while (stream->Read(&event)) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          all_.push_back(event);
        }
        events_.Push(event);
      }
      status_ = stream->Finish();
      done_ = true;
      events_.Push(v1::Event());
    });
  }
  ~EventFeed() {
    context_.TryCancel();
    reader_.join();
  }

  // The next event of `kind` about `contact`, within `timeout`.
  std::optional<v1::Event> Next(const std::string& kind,
                                const std::string& contact,
                                std::chrono::milliseconds timeout = kWait) {
    return events_.Take(
        [&](const v1::Event& e) {
          return e.kind() == kind && e.contact_id() == contact;
        },
        timeout);
  }
  std::vector<v1::Event> All() {
    std::lock_guard<std::mutex> lock(mu_);
    return all_;
  }
  bool done() const { return done_; }

 private:
  std::unique_ptr<v1::Supervisor::Stub> stub_;
  grpc::ClientContext context_;
  BlockingQueue<v1::Event> events_;
  std::mutex mu_;
  std::vector<v1::Event> all_;
  std::thread reader_;
  std::atomic<bool> done_{false};
  grpc::Status status_;
};

// A server stream that is opened and never read, on a connection of its
// own. BDP probing is off, so the stream's flow-control window stays at
// HTTP/2's 64 KiB and the server's writes block after a few hundred
// messages; a real client's window can grow to megabytes, which only
// delays that point. Its gRPC threads stay alive and answer keepalive
// pings: only the server's own bounds can deal with it.
template <typename Message>
class NeverRead {
 public:
  using Open = std::function<std::unique_ptr<grpc::ClientReader<Message>>(
      const std::shared_ptr<grpc::Channel>&, grpc::ClientContext*)>;
  NeverRead(const std::string& target, const Open& open) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    channel_ = OwnConnection(target, args);
    reader_ = open(channel_, &context_);
  }
  ~NeverRead() {
    context_.TryCancel();
    Message m;
    while (reader_->Read(&m)) {
    }
    (void)reader_->Finish();
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<Message>> reader_;
};

// Checks one contact's events: offered to at most one agent at a time
// (each offer withdrawn, rejected or accepted before the next), and never
// ended but by its agent completing it. Returns the agents it was offered
// to, in order.
std::vector<std::string> CheckOneOfferAtATime(
    const std::vector<v1::Event>& events, const std::string& contact) {
  std::vector<std::string> offered_to;
  std::string holder;
  for (const v1::Event& e : events) {
    if (e.contact_id() != contact) continue;
    if (e.kind() == "contact_ended") {
      EXPECT_EQ(e.end_reason(), v1::END_REASON_COMPLETED)
          << contact << " was lost";
    }
    if (e.kind() == "contact_offered") {
      EXPECT_EQ(holder, "") << contact << " offered to " << e.agent_id()
                            << " while still offered to " << holder;
      holder = e.agent_id();
      offered_to.push_back(holder);
    } else if (e.kind() == "offer_rescinded" || e.kind() == "offer_rejected" ||
               e.kind() == "offer_timed_out") {
      EXPECT_EQ(e.agent_id(), holder);
      holder.clear();
    } else if (e.kind() == "contact_assigned") {
      EXPECT_EQ(e.agent_id(), holder) << contact << " assigned unoffered";
      holder.clear();
    }
  }
  return offered_to;
}

// Runs `count` calls, at most `in_flight` at a time: `start(i, done)`
// starts call i, which calls `done(ok)` when it ends. Returns how many
// failed.
int RunConcurrently(
    int count, int in_flight,
    const std::function<void(int, std::function<void(bool)>)>& start) {
  std::mutex mu;
  std::condition_variable cv;
  int running = 0, finished = 0, failed = 0;
  for (int i = 0; i < count; ++i) {
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return running < in_flight; });
      ++running;
    }
    start(i, [&](bool ok) {
      std::lock_guard<std::mutex> lock(mu);
      --running;
      ++finished;
      if (!ok) ++failed;
      cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return finished == count; });
  return failed;
}

class StreamFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ccroute-fault-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  // Starts ccrouted with `limits` added to the fault tests' own, and
  // `rest` (queues, agents) after them. Keepalive pings every second with
  // a 1 s timeout; the heartbeat timeout is 300 s and offers last 60 s, so
  // that within a test's bounded waits only a dropped connection (or
  // keepalive) can move a contact.
  void Start(const std::string& limits, const std::string& rest) {
    std::string config =
        "security: {plaintext: true, auth: none}\n"
        "journal: {store: none}\n"
        "limits:\n"
        "  keepalive_time: 1s\n"
        "  keepalive_timeout: 1s\n"
        "  heartbeat_timeout: 300s\n" +
        limits + rest;
    server_ = std::make_unique<Ccrouted>(dir_, config);
    ASSERT_TRUE(server_->ok()) << server_->log();
  }
  // Agents a1 .. a3 (voice, no skills, no wrap-up) and queue sales.
  static std::string SalesCenter() {
    return "queues:\n"
           "  - {name: sales, offer_timeout: 60s}\n"
           "agents:\n"
           "  - {id: a1}\n"
           "  - {id: a2}\n"
           "  - {id: a3}\n";
  }

  // `ccroute agent login AGENT` as a child process, connected.
  std::unique_ptr<CliProcess> Login(const std::string& agent) {
    auto cli = std::make_unique<CliProcess>(
        kCli, std::vector<std::string>{"--server", server_->target(), "agent",
                                       "login", agent});
    EXPECT_TRUE(cli->WaitForOutput("connected as " + agent, kWait))
        << cli->err();
    return cli;
  }
  // SIGKILL, and the process reaped.
  static void KillNine(CliProcess& cli) {
    cli.Signal(SIGKILL);
    EXPECT_TRUE(cli.Wait(kWait).has_value());
  }

  fs::path dir_;
  std::unique_ptr<Ccrouted> server_;
};

TEST_F(StreamFaultTest, DesktopKilledHoldingAnOfferItGoesToAnotherAgentAtOnce) {
  Start("", SalesCenter());
  EventFeed feed(server_->target(), {"sales"});
  ASSERT_TRUE(WaitUntil([&] {
    return server_->Metric(R"(ccroute_streams_open{kind="events"})") == 1;
  }));
  auto a1 = Login("a1");
  ASSERT_TRUE(server_->Create("c1", "sales").ok());
  ASSERT_TRUE(a1->WaitForOutput("offer     c1", kWait)) << a1->out();
  Desktop a2(server_->target(), "a2");
  ASSERT_EQ(a2.Login(), grpc::StatusCode::OK);

  KillNine(*a1);
  // The offer lasts 60 s and the heartbeat timeout is 300 s: within kWait
  // only the dropped connection can have moved it.
  auto offer = a2.NextOffer(kWait);
  ASSERT_TRUE(offer.has_value());
  EXPECT_EQ(offer->contact().id(), "c1");
  ASSERT_EQ(a2.Accept("c1"), grpc::StatusCode::OK);
  v1::Contact c1 = server_->Get("c1");
  EXPECT_EQ(c1.state(), v1::CONTACT_STATE_ASSIGNED);
  EXPECT_EQ(c1.agent_id(), "a2");
  ASSERT_TRUE(feed.Next("contact_assigned", "c1").has_value());
  EXPECT_EQ(CheckOneOfferAtATime(feed.All(), "c1"),
            (std::vector<std::string>{"a1", "a2"}));
  EXPECT_FALSE(server_->Agent("a1").connected());
}

TEST_F(StreamFaultTest, DesktopKilledAfterAcceptingGetsItBackWithinTheGrace) {
  Start("  reconnect_grace: 60s\n", SalesCenter());
  EventFeed feed(server_->target(), {"sales"});
  auto a1 = Login("a1");
  ASSERT_TRUE(server_->Create("c1", "sales").ok());
  ASSERT_TRUE(a1->WaitForOutput("offer     c1", kWait)) << a1->out();
  a1->Write("accept\n");
  ASSERT_TRUE(a1->WaitForOutput("assigned  c1", kWait)) << a1->out();
  // A READY agent who could take c1 if it went back to the queue.
  Desktop a2(server_->target(), "a2");
  ASSERT_EQ(a2.Login(), grpc::StatusCode::OK);

  KillNine(*a1);
  ASSERT_TRUE(WaitUntil([&] { return !server_->Agent("a1").connected(); }));
  // The server knows a1 is gone; c1 stays with a1 for the grace.
  v1::Contact c1 = server_->Get("c1");
  EXPECT_EQ(c1.state(), v1::CONTACT_STATE_ASSIGNED);
  EXPECT_EQ(c1.agent_id(), "a1");

  auto again = Login("a1");
  // The server's status push, which lists the agent's contacts, follows
  // the login.
  ASSERT_TRUE(again->WaitForOutput("status    ", kWait)) << again->out();
  again->Write("status\n");
  ASSERT_TRUE(again->WaitForOutput("contacts: c1", kWait)) << again->out();
  again->Write("complete c1\n");
  ASSERT_TRUE(again->WaitForOutput("ok: complete c1", kWait))
      << again->out() << again->err();
  EXPECT_EQ(server_->Get("c1").end_reason(), v1::END_REASON_COMPLETED);
  // Routing is event-driven: had c1 gone back to the queue, a2 would have
  // been offered it by now.
  EXPECT_FALSE(a2.NextOffer(std::chrono::milliseconds(0)).has_value());
  EXPECT_EQ(CheckOneOfferAtATime(feed.All(), "c1"),
            (std::vector<std::string>{"a1"}));
  again->CloseStdin();
  EXPECT_EQ(again->Wait(kWait), 0) << again->err();
}

TEST_F(StreamFaultTest, AfterTheGraceAKilledDesktopsContactGoesBackToItsPlace) {
  Start("  reconnect_grace: 2s\n", SalesCenter());
  EventFeed feed(server_->target(), {"sales"});
  auto a1 = Login("a1");
  ASSERT_TRUE(server_->Create("c1", "sales").ok());
  ASSERT_TRUE(a1->WaitForOutput("offer     c1", kWait)) << a1->out();
  a1->Write("accept\n");
  ASSERT_TRUE(a1->WaitForOutput("assigned  c1", kWait)) << a1->out();
  // Later arrivals wait: a1 is busy, nobody else is logged in.
  ASSERT_TRUE(server_->Create("c2", "sales").ok());
  ASSERT_TRUE(server_->Create("c3", "sales").ok());

  KillNine(*a1);
  ASSERT_TRUE(WaitUntil([&] {
    return server_->Get("c1").state() == v1::CONTACT_STATE_QUEUED;
  })) << server_->log();
  EXPECT_EQ(server_->Get("c1").position(), 1);
  EXPECT_EQ(server_->Get("c2").position(), 2);
  EXPECT_EQ(server_->Get("c3").position(), 3);
  EXPECT_NE(server_->log().find("agent_reconnect_grace_over"),
            std::string::npos);

  Desktop a2(server_->target(), "a2");
  ASSERT_EQ(a2.Login(), grpc::StatusCode::OK);
  auto offer = a2.NextOffer(kWait);
  ASSERT_TRUE(offer.has_value());
  EXPECT_EQ(offer->contact().id(), "c1");
  ASSERT_EQ(a2.Accept("c1"), grpc::StatusCode::OK);
  ASSERT_TRUE(feed.Next("contact_assigned", "c1").has_value());
  // Assigned to a1, requeued, then offered to a2: never two at once.
  EXPECT_EQ(CheckOneOfferAtATime(feed.All(), "c1"),
            (std::vector<std::string>{"a1", "a2"}));
}

TEST_F(StreamFaultTest, StoppedDesktopIsFoundByKeepaliveAndItsOfferMovesOn) {
  Start("  reconnect_grace: 60s\n", SalesCenter());
  EventFeed feed(server_->target(), {"sales"});
  auto a1 = Login("a1");
  ASSERT_TRUE(server_->Create("c1", "sales").ok());
  ASSERT_TRUE(a1->WaitForOutput("offer     c1", kWait)) << a1->out();
  Desktop a2(server_->target(), "a2");
  ASSERT_EQ(a2.Login(), grpc::StatusCode::OK);
  // Both desktops idle for a few keepalive periods first: the server pings
  // every second, and neither the CLI nor the C++ client may take that for
  // abuse (clients do not police pings; this checks it).
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  ASSERT_EQ(a1->out().find("connection lost"), std::string::npos) << a1->out();
  ASSERT_TRUE(server_->Agent("a1").connected());

  a1->Signal(SIGSTOP);
  // Socket open, nothing closed, no heartbeat expected for 300 s: only an
  // unanswered keepalive ping can end a1's session.
  auto offer = a2.NextOffer(kLong);
  ASSERT_TRUE(offer.has_value()) << server_->log();
  EXPECT_EQ(offer->contact().id(), "c1");
  EXPECT_FALSE(server_->Agent("a1").connected());
  std::string log = server_->log();
  EXPECT_NE(log.find(R"("event":"agent_disconnected","agent":"a1")"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("agent_session_silent"), std::string::npos) << log;
  ASSERT_EQ(a2.Accept("c1"), grpc::StatusCode::OK);
  ASSERT_TRUE(feed.Next("contact_assigned", "c1").has_value());
  EXPECT_EQ(CheckOneOfferAtATime(feed.All(), "c1"),
            (std::vector<std::string>{"a1", "a2"}));

  // Woken up, the desktop finds its connection gone and logs in again; a1
  // holds nothing, so the end of its input logs it out.
  a1->Signal(SIGCONT);
  ASSERT_TRUE(a1->WaitForOutput("reconnecting", kWait)) << a1->out();
  ASSERT_TRUE(WaitUntil([&] { return server_->Agent("a1").connected(); }))
      << a1->out() << a1->err();
  a1->CloseStdin();
  EXPECT_EQ(a1->Wait(kWait), 0) << a1->out() << a1->err();
  EXPECT_EQ(server_->Get("c1").agent_id(), "a2");
}

// Queues for TheSlowWatchersAreDroppedAndMemoryStaysBounded: `probe`, which
// agent p1 takes; `hold`, where a watched contact waits (nobody has skill
// `none`); and an overflow chain f0 -> f1 -> ... -> f7 where each contact
// waits 1 ms per queue and then expires, which makes nine events per
// CreateContact (queued, seven overflows, ended) at little cost.
std::string LoadCenter() {
  std::string yaml =
      "queues:\n"
      "  - {name: probe, offer_timeout: 60s}\n"
      "  - {name: hold, requirements: [{skill: none, min_level: 1}]}\n";
  for (int i = 0; i < 8; ++i) {
    yaml += "  - {name: f" + std::to_string(i) +
            ", requirements: [{skill: none, min_level: 1}], max_wait: "
            "0.001s" +
            (i < 7 ? ", max_wait_queue: f" + std::to_string(i + 1) : "") +
            "}\n";
  }
  yaml += "agents:\n  - {id: p1}\n";
  return yaml;
}

// `count` contacts created in f0, 32 calls in flight; the failures.
int CreateThroughTheChain(Ccrouted& server, const std::string& prefix,
                          int count) {
  auto stub = v1::Contacts::NewStub(OwnConnection(server.target()));
  struct Call {
    grpc::ClientContext context;
    v1::CreateContactRequest request;
    v1::Contact reply;
  };
  int failed =
      RunConcurrently(count, 32, [&](int i, std::function<void(bool)> done) {
        auto call = std::make_shared<Call>();
        call->context.set_deadline(std::chrono::system_clock::now() + kLong);
        call->request = NewContact(prefix + std::to_string(i), "f0");
        stub->async()->CreateContact(
            &call->context, &call->request, &call->reply,
            [call, done](grpc::Status s) { done(s.ok()); });
      });
  // Each contact lives 8 ms of engine time, timers permitting.
  EXPECT_TRUE(WaitUntil([&] {
    for (int i = 0; i < 8; ++i) {
      if (server.Waiting("f" + std::to_string(i)) != 0) return false;
    }
    return true;
  }));
  return failed;
}

TEST_F(StreamFaultTest, TheSlowWatchersAreDroppedAndMemoryStaysBounded) {
  // Ended contacts are remembered for idempotency only briefly here, so
  // that the memory measured is the streams', not 12,000 remembered ids.
  Start(
      "  stream_queue_limit: 1024\n"
      "  max_event_subscribers: 7\n"
      "  idempotency_retention: 1s\n",
      LoadCenter());
  // Warm-up: gRPC's and the allocator's pools, the engine's indexes.
  ASSERT_EQ(CreateThroughTheChain(*server_, "warm-", 2000), 0);
  ASSERT_TRUE(server_->Create("w", "hold").ok());

  // Healthy clients: a feed of the probe queue and its agent.
  EventFeed probe_feed(server_->target(), {"probe"});
  Desktop p1(server_->target(), "p1");
  ASSERT_EQ(p1.Login(), grpc::StatusCode::OK);
  // Slow ones: two `ccroute events` and a `ccroute contact watch`, stopped;
  // four event feeds and a contact watch that are never read.
  std::vector<std::unique_ptr<CliProcess>> stopped;
  for (int i = 0; i < 2; ++i) {
    stopped.push_back(std::make_unique<CliProcess>(
        kCli,
        std::vector<std::string>{"--server", server_->target(), "events"}));
  }
  stopped.push_back(std::make_unique<CliProcess>(
      kCli, std::vector<std::string>{"--server", server_->target(), "contact",
                                     "watch", "w"}));
  ASSERT_TRUE(stopped.back()->WaitForOutput("snapshot", kWait))
      << stopped.back()->err();
  std::vector<std::unique_ptr<NeverRead<v1::Event>>> never_read_feeds;
  for (int i = 0; i < 4; ++i) {
    never_read_feeds.push_back(std::make_unique<NeverRead<v1::Event>>(
        server_->target(), [](const std::shared_ptr<grpc::Channel>& c,
                              grpc::ClientContext* context) {
          return v1::Supervisor::NewStub(c)->WatchEvents(
              context, v1::WatchEventsRequest());
        }));
  }
  NeverRead<v1::ContactUpdate> never_read_watch(
      server_->target(), [](const std::shared_ptr<grpc::Channel>& c,
                            grpc::ClientContext* context) {
        v1::WatchContactRequest request;
        request.set_contact_id("w");
        return v1::Contacts::NewStub(c)->WatchContact(context, request);
      });
  ASSERT_TRUE(WaitUntil([&] {
    return server_->Metric(R"(ccroute_streams_open{kind="events"})") == 7 &&
           server_->Metric(R"(ccroute_streams_open{kind="watch"})") == 2;
  })) << server_->Metric(R"(ccroute_streams_open{kind="events"})");
  for (auto& cli : stopped) cli->Signal(SIGSTOP);

  const int64_t before_kib = server_->ResidentKib();
  ASSERT_GT(before_kib, 0);
  // 12,000 contacts through the chain: 108,000 events, each sent to every
  // event feed. And 3,000 changes of the watched contact, each an update
  // for its watchers (not conflated, unlike positions).
  ASSERT_EQ(CreateThroughTheChain(*server_, "c", 12000), 0);
  auto update_stub = v1::Contacts::NewStub(OwnConnection(server_->target()));
  struct Update {
    grpc::ClientContext context;
    v1::UpdateContactRequest request;
    v1::Contact reply;
  };
  EXPECT_EQ(
      RunConcurrently(3000, 16,
                      [&](int i, std::function<void(bool)> done) {
                        auto call = std::make_shared<Update>();
                        call->context.set_deadline(
                            std::chrono::system_clock::now() + kLong);
                        call->request.set_contact_id("w");
                        call->request.set_priority(i % 2);
                        update_stub->async()->UpdateContact(
                            &call->context, &call->request, &call->reply,
                            [call, done](grpc::Status s) { done(s.ok()); });
                      }),
      0);
  const int64_t after_kib = server_->ResidentKib();
  // Bounded: every stream holds at most stream_queue_limit messages (about
  // 1,024 x 300 bytes here) plus the one being written, so the six slow
  // streams can pin a few MiB. Had they buffered without bound, the four
  // never-read feeds alone would hold 4 x 108,000 events, over 100 MiB.
  // 64 MiB leaves room for the allocator keeping freed memory.
  EXPECT_LT(after_kib - before_kib, 64 * 1024)
      << "VmRSS " << before_kib << " KiB before, " << after_kib << " KiB after";
  RecordProperty("rss_before_kib", std::to_string(before_kib));
  RecordProperty("rss_after_kib", std::to_string(after_kib));

  // The slow streams were dropped: the stopped processes by keepalive, the
  // never-read ones for falling behind. Only the probe feed is left, and
  // the freed slots take new subscribers.
  EXPECT_GT(server_->Metric("ccroute_events_dropped_total"), 0);
  EXPECT_TRUE(WaitUntil([&] {
    return server_->Metric(R"(ccroute_streams_open{kind="events"})") == 1 &&
           server_->Metric(R"(ccroute_streams_open{kind="watch"})") == 0;
  })) << "events streams open: "
      << server_->Metric(R"(ccroute_streams_open{kind="events"})")
      << ", watch streams open: "
      << server_->Metric(R"(ccroute_streams_open{kind="watch"})");
  EventFeed late_feed(server_->target(), {"probe"});
  ASSERT_TRUE(WaitUntil([&] {
    return server_->Metric(R"(ccroute_streams_open{kind="events"})") == 2;
  }));

  // Routing went on, and the healthy clients saw everything.
  ASSERT_TRUE(server_->Create("probe-1", "probe").ok());
  auto offer = p1.NextOffer(kWait);
  ASSERT_TRUE(offer.has_value());
  EXPECT_EQ(offer->contact().id(), "probe-1");
  ASSERT_EQ(p1.Accept("probe-1"), grpc::StatusCode::OK);
  ASSERT_TRUE(probe_feed.Next("contact_assigned", "probe-1").has_value());
  ASSERT_TRUE(late_feed.Next("contact_assigned", "probe-1").has_value());
  EXPECT_FALSE(probe_feed.done());
  for (const v1::Event& e : probe_feed.All()) {
    EXPECT_EQ(e.dropped_before(), 0) << e.kind() << " " << e.contact_id();
  }
  EXPECT_EQ(CheckOneOfferAtATime(probe_feed.All(), "probe-1"),
            (std::vector<std::string>{"p1"}));

  // Woken up, the stopped watchers find their streams ended, and say so.
  for (auto& cli : stopped) {
    cli->Signal(SIGCONT);
    auto code = cli->Wait(kLong);
    ASSERT_TRUE(code.has_value());
    EXPECT_NE(*code, 0) << cli->err();
  }
}

}  // namespace
}  // namespace ccroute::testing
