// The client library (ccroute::client) against a real server on loopback:
// the gateway's calls and retries, contact watches, and agent sessions that
// reconnect and log in again.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>
#include <utility>

#include "client/agent_session.h"
#include "client/backoff.h"
#include "client/channel.h"
#include "client/gateway_client.h"
#include "tests/integration/test_server.h"

namespace ccroute::testing {
namespace {

using client::AgentSession;
using client::GatewayClient;
using client::GatewayOptions;
using Connection = AgentSession::Connection;

// gRPC's callback API runs on one completion queue per process, created
// with the first channel or server that uses it and destroyed with the
// last. These tests stop servers while nothing else uses it, and gRPC 1.51
// aborts in that teardown and rebuild about once in a few hundred cycles
// ("ref_counted.h: assertion failed: prior > 0" on its "nexting_thread").
// A real process keeps its server or channels for its lifetime; the tests
// keep one channel that has made a callback call for theirs.
class CallbackQueuePin : public ::testing::Environment {
 public:
  void SetUp() override {
    channel_ =
        grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials());
    auto stub = v1::Contacts::NewStub(channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kWait);
    v1::GetContactRequest request;
    v1::Contact contact;
    std::promise<void> done;
    stub->async()->GetContact(&context, &request, &contact,
                              [&done](grpc::Status) { done.set_value(); });
    done.get_future().wait();
  }
  void TearDown() override { channel_.reset(); }

 private:
  std::shared_ptr<grpc::Channel> channel_;
};
[[maybe_unused]] ::testing::Environment* const kCallbackQueuePin =
    ::testing::AddGlobalTestEnvironment(new CallbackQueuePin);

// A server on 127.0.0.1:`port` (0: any free port), so that a test can stop
// it and start another on the same port.
std::unique_ptr<api::Server> StartServer(int port,
                                         std::vector<core::QueueConfig> queues,
                                         std::vector<core::AgentProfile> agents,
                                         api::ServerLimits limits = {}) {
  api::ResolvedConfig config;
  config.listen = "127.0.0.1:" + std::to_string(port);
  config.queues = std::move(queues);
  config.agents = std::move(agents);
  // A client reconnecting to a draining server is held until this deadline.
  limits.shutdown_timeout = 1s;
  config.server_limits = limits;
  auto server = api::Server::Start(config);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

std::string Target(int port) { return "127.0.0.1:" + std::to_string(port); }

size_t LiveContacts(api::Server& server) {
  size_t n = 0;
  server.runner().RunSync(
      [&](core::Engine& engine, core::Time) { n = engine.live_contacts(); });
  return n;
}

std::optional<v1::AgentStats> AgentOn(const std::shared_ptr<grpc::Channel>& ch,
                                      const std::string& agent_id) {
  auto stub = v1::Supervisor::NewStub(ch);
  v1::ListAgentsResponse agents;
  if (!stub->ListAgents(Deadline().get(), v1::ListAgentsRequest(), &agents)
           .ok()) {
    return std::nullopt;
  }
  for (const auto& a : agents.agents()) {
    if (a.agent_id() == agent_id) return a;
  }
  return std::nullopt;
}

// Polls the supervisor API until the agent's stats satisfy `pred`, up to
// kWait; the last stats seen.
std::optional<v1::AgentStats> AwaitAgent(
    const std::shared_ptr<grpc::Channel>& ch, const std::string& agent_id,
    const std::function<bool(const v1::AgentStats&)>& pred) {
  std::optional<v1::AgentStats> agent;
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (true) {
    agent = AgentOn(ch, agent_id);
    if ((agent && pred(*agent)) ||
        std::chrono::steady_clock::now() > deadline) {
      return agent;
    }
    std::this_thread::sleep_for(20ms);
  }
}

// Waits (bounded) for a future and returns its value; DEADLINE_EXCEEDED
// with a test-side message if it never resolves.
grpc::Status Get(std::future<grpc::Status> future) {
  if (future.wait_for(kWait) != std::future_status::ready) {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                        "test: the future never resolved");
  }
  return future.get();
}

// What an AgentSession tells its user, in queues a test can wait on.
struct DesktopLog {
  BlockingQueue<v1::AgentEvent::Offer> offers;
  BlockingQueue<v1::AgentEvent> events;
  BlockingQueue<std::pair<Connection, grpc::Status>> connections;

  AgentSession::Callbacks Callbacks() {
    AgentSession::Callbacks callbacks;
    callbacks.on_offer = [this](const v1::AgentEvent::Offer& offer) {
      offers.Push(offer);
    };
    callbacks.on_event = [this](const v1::AgentEvent& e) { events.Push(e); };
    callbacks.on_connection = [this](Connection c, const grpc::Status& s) {
      connections.Push({c, s});
    };
    return callbacks;
  }
  std::optional<grpc::Status> Next(Connection state) {
    auto c = connections.Take(
        [state](const auto& c) { return c.first == state; }, kWait);
    if (!c) return std::nullopt;
    return c->second;
  }
  std::optional<v1::AgentEvent::Offer> NextOffer() {
    return offers.Take([](const auto&) { return true; }, kWait);
  }
  std::optional<v1::AgentEvent> NextOf(v1::AgentEvent::EventCase kind) {
    return events.Take([kind](const auto& e) { return e.event_case() == kind; },
                       kWait);
  }
};

client::AgentSessionOptions SessionFor(std::string agent_id) {
  client::AgentSessionOptions options;
  options.agent_id = std::move(agent_id);
  options.reconnect_backoff.initial = 50ms;
  options.reconnect_backoff.max = 500ms;
  return options;
}

// Follows one contact through the library's WatchContact.
struct WatchLog {
  BlockingQueue<v1::ContactUpdate> updates;
  std::promise<grpc::Status> done;

  std::unique_ptr<client::ContactWatch> Watch(GatewayClient& gateway,
                                              const std::string& id) {
    return gateway.WatchContact(
        id, [this](const v1::ContactUpdate& u) { updates.Push(u); },
        [this](const grpc::Status& s) { done.set_value(s); });
  }
  std::optional<v1::ContactUpdate> NextWithState(v1::ContactState state) {
    return updates.Take(
        [state](const auto& u) { return u.contact().state() == state; }, kWait);
  }
};

TEST(BackoffTest, GrowsToItsMaximumWithinTheJitter) {
  client::Backoff backoff{100ms, 1000ms, 2.0, 0.2};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100; ++i) {
    auto first = client::BackoffDelay(backoff, 0, rng);
    EXPECT_GE(first, 80ms);
    EXPECT_LE(first, 120ms);
    auto third = client::BackoffDelay(backoff, 2, rng);
    EXPECT_GE(third, 320ms);
    EXPECT_LE(third, 480ms);
    auto late = client::BackoffDelay(backoff, 1000, rng);
    EXPECT_GE(late, 800ms);
    EXPECT_LE(late, 1200ms);
  }
}

TEST(GatewayClientTest, FullLifecycleThroughTheLibrary) {
  auto server = StartServer(0, {Queue("sales")}, {Agent("a1", 60s)});
  auto channel = client::NewChannel(Target(server->port()));
  GatewayClient gateway(channel);
  DesktopLog desk;
  AgentSession session(channel, SessionFor("a1"), desk.Callbacks());
  session.Start();
  ASSERT_TRUE(desk.Next(Connection::kConnected).has_value());

  v1::Contact contact;
  ASSERT_TRUE(gateway.CreateContact(NewContact("c1", "sales"), &contact).ok());
  EXPECT_TRUE(contact.created());
  WatchLog watch;
  auto stream = watch.Watch(gateway, "c1");

  auto offer = desk.NextOffer();
  ASSERT_TRUE(offer.has_value());
  EXPECT_EQ(offer->contact().id(), "c1");
  EXPECT_TRUE(offer->has_expires_at());
  ASSERT_TRUE(Get(session.Accept("c1")).ok());
  auto assigned = watch.NextWithState(v1::CONTACT_STATE_ASSIGNED);
  ASSERT_TRUE(assigned.has_value());
  EXPECT_EQ(assigned->contact().agent_id(), "a1");
  ASSERT_TRUE(desk.NextOf(v1::AgentEvent::kAssigned).has_value());

  ASSERT_TRUE(Get(session.Complete("c1", "sale")).ok());
  ASSERT_TRUE(desk.NextOf(v1::AgentEvent::kWrapUpStarted).has_value());
  ASSERT_TRUE(watch.NextWithState(v1::CONTACT_STATE_WRAP_UP).has_value());
  ASSERT_TRUE(Get(session.EndWrapUp("c1")).ok());
  ASSERT_TRUE(desk.NextOf(v1::AgentEvent::kWrapUpEnded).has_value());
  auto ended = watch.NextWithState(v1::CONTACT_STATE_ENDED);
  ASSERT_TRUE(ended.has_value());
  EXPECT_EQ(ended->contact().end_reason(), v1::END_REASON_COMPLETED);
  ASSERT_TRUE(stream->WaitDone(kWait));
  EXPECT_TRUE(stream->status().ok()) << stream->status().error_message();

  ASSERT_TRUE(gateway.GetContact("c1", &contact).ok());
  EXPECT_EQ(contact.state(), v1::CONTACT_STATE_ENDED);
  // The ack's code and message come back through the future.
  grpc::Status ghost = Get(session.Accept("ghost"));
  EXPECT_EQ(ghost.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(ghost.error_message(), ::testing::HasSubstr("ghost"));
}

TEST(GatewayClientTest, RefusesACreateWithoutAnIdWithoutCallingTheServer) {
  // Nothing listens here: an attempt would fail with UNAVAILABLE.
  auto channel = client::NewChannel("127.0.0.1:1");
  GatewayClient gateway(channel);
  v1::Contact contact;
  auto status = gateway.CreateContact(NewContact("", "sales"), &contact);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("contact_id"));
}

TEST(GatewayClientTest, GivesUpAfterItsAttempts) {
  GatewayOptions options;
  options.deadline = 500ms;
  options.max_attempts = 3;
  options.backoff = {10ms, 20ms, 2.0, 0.0};
  std::atomic<int> retries{0};
  options.on_retry = [&](const std::string&, int, const grpc::Status&) {
    retries++;
  };
  GatewayClient gateway(client::NewChannel("127.0.0.1:1"), options);
  v1::Contact contact;
  auto status = gateway.CreateContact(NewContact("c1", "sales"), &contact);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(retries.load(), 2);
}

TEST(GatewayClientTest, CreateIsRetriedUntilARestartedServerAnswers) {
  auto first = StartServer(0, {Queue("sales")}, {});
  const int port = first->port();
  first->Shutdown();
  first.reset();

  GatewayOptions options;
  options.deadline = 1s;
  options.max_attempts = 40;
  options.backoff = {50ms, 250ms, 2.0, 0.2};
  std::promise<void> first_retry;
  std::atomic<int> retries{0};
  options.on_retry = [&](const std::string& method, int,
                         const grpc::Status& status) {
    EXPECT_EQ(method, "CreateContact");
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
    if (retries++ == 0) first_retry.set_value();
  };
  GatewayClient gateway(client::NewChannel(Target(port)), options);
  v1::Contact contact;
  auto create = std::async(std::launch::async, [&] {
    return gateway.CreateContact(NewContact("c1", "sales"), &contact);
  });
  ASSERT_EQ(first_retry.get_future().wait_for(kWait),
            std::future_status::ready);
  auto second = StartServer(port, {Queue("sales")}, {});
  ASSERT_NE(second, nullptr);
  ASSERT_EQ(create.wait_for(20s), std::future_status::ready);
  grpc::Status status = create.get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(contact.created());
  EXPECT_EQ(contact.state(), v1::CONTACT_STATE_QUEUED);
  EXPECT_GE(retries.load(), 1);
  EXPECT_EQ(LiveContacts(*second), 1u);
}

// The first attempt reaches the server but its answer is lost (the deadline
// passes while the engine is busy); the retry finds the contact the first
// attempt created instead of queuing the caller twice.
TEST(GatewayClientTest, CreateWhoseAnswerWasLostYieldsOneContact) {
  auto server = StartServer(0, {Queue("sales")}, {});
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  server->runner().Post(
      [released](core::Engine&, core::Time) { released.wait_for(kWait); });
  GatewayOptions options;
  options.deadline = 300ms;
  options.backoff = {10ms, 50ms, 2.0, 0.0};
  std::atomic<int> retries{0};
  options.on_retry = [&](const std::string&, int, const grpc::Status& s) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
    if (retries++ == 0) release.set_value();
  };
  GatewayClient gateway(client::NewChannel(Target(server->port())), options);
  v1::Contact contact;
  ASSERT_TRUE(gateway.CreateContact(NewContact("c1", "sales"), &contact).ok());
  EXPECT_EQ(retries.load(), 1);
  EXPECT_EQ(contact.id(), "c1");
  EXPECT_FALSE(contact.created()) << "the lost first attempt created it";
  EXPECT_EQ(LiveContacts(*server), 1u);
}

TEST(GatewayClientTest, CancelWhoseAnswerWasLostCountsAsDone) {
  auto server = StartServer(0, {Queue("sales")}, {});
  GatewayOptions options;
  options.deadline = 300ms;
  options.backoff = {10ms, 50ms, 2.0, 0.0};
  std::promise<void> release;
  std::atomic<int> retries{0};
  options.on_retry = [&](const std::string&, int, const grpc::Status&) {
    if (retries++ == 0) release.set_value();
  };
  GatewayClient gateway(client::NewChannel(Target(server->port())), options);
  v1::Contact contact;
  ASSERT_TRUE(gateway.CreateContact(NewContact("c1", "sales"), &contact).ok());
  std::shared_future<void> released = release.get_future().share();
  server->runner().Post(
      [released](core::Engine&, core::Time) { released.wait_for(kWait); });
  auto status = gateway.CancelContact("c1", v1::END_REASON_CANCELLED, &contact);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(retries.load(), 1);
  EXPECT_EQ(contact.state(), v1::CONTACT_STATE_ENDED);
  EXPECT_EQ(contact.end_reason(), v1::END_REASON_CANCELLED);
  // Cancelling again for the same reason is done; for another, refused.
  EXPECT_TRUE(
      gateway.CancelContact("c1", v1::END_REASON_CANCELLED, &contact).ok());
  EXPECT_EQ(gateway.CancelContact("c1", v1::END_REASON_ABANDONED, &contact)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST(GatewayClientTest, UpdateAndScheduleCallback) {
  auto server = StartServer(0, {Queue("sales")}, {});
  GatewayClient gateway(client::NewChannel(Target(server->port())));
  v1::Contact contact;
  ASSERT_TRUE(gateway.CreateContact(NewContact("c1", "sales"), &contact).ok());
  v1::UpdateContactRequest update;
  update.set_contact_id("c1");
  update.set_priority(7);
  ASSERT_TRUE(gateway.UpdateContact(update, &contact).ok());
  EXPECT_EQ(contact.priority(), 7);

  v1::ScheduleCallbackRequest callback;
  callback.set_contact_id("cb1");
  callback.set_queue("sales");
  callback.mutable_not_before()->set_seconds(
      std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::system_clock::now().time_since_epoch() + 1h)
          .count());
  ASSERT_TRUE(gateway.ScheduleCallback(callback, &contact).ok());
  EXPECT_EQ(contact.state(), v1::CONTACT_STATE_SCHEDULED);
  EXPECT_EQ(contact.channel(), v1::CHANNEL_CALLBACK);
}

TEST(ContactWatchTest, CancelEndsTheStream) {
  auto server = StartServer(0, {Queue("sales")}, {});
  GatewayClient gateway(client::NewChannel(Target(server->port())));
  v1::Contact contact;
  ASSERT_TRUE(gateway.CreateContact(NewContact("c1", "sales"), &contact).ok());
  WatchLog watch;
  auto stream = watch.Watch(gateway, "c1");
  auto snapshot = watch.NextWithState(v1::CONTACT_STATE_QUEUED);
  ASSERT_TRUE(snapshot.has_value());
  EXPECT_EQ(snapshot->change(), "snapshot");
  EXPECT_EQ(snapshot->contact().position(), 1);
  stream->Cancel();
  ASSERT_TRUE(stream->WaitDone(kWait));
  EXPECT_EQ(stream->status().error_code(), grpc::StatusCode::CANCELLED);
}

TEST(ContactWatchTest, UnknownContactIsNotFound) {
  auto server = StartServer(0, {Queue("sales")}, {});
  GatewayClient gateway(client::NewChannel(Target(server->port())));
  WatchLog watch;
  auto stream = watch.Watch(gateway, "ghost");
  auto done = watch.done.get_future();
  ASSERT_EQ(done.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(done.get().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST(AgentSessionTest, ReconnectsAndRedeclaresItsStateAfterAServerRestart) {
  auto first = StartServer(0, {Queue("sales")}, {Agent("a1")});
  const int port = first->port();
  auto channel = client::NewChannel(Target(port));
  DesktopLog desk;
  AgentSession session(channel, SessionFor("a1"), desk.Callbacks());
  session.Start();
  ASSERT_TRUE(desk.Next(Connection::kConnected).has_value());
  ASSERT_TRUE(Get(session.SetNotReady("lunch")).ok());

  first->Shutdown();
  auto lost = desk.Next(Connection::kReconnecting);
  ASSERT_TRUE(lost.has_value());
  EXPECT_EQ(lost->error_code(), grpc::StatusCode::UNAVAILABLE);
  first.reset();
  auto second = StartServer(port, {Queue("sales")}, {Agent("a1")});
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(desk.Next(Connection::kConnected).has_value());
  EXPECT_EQ(session.logins(), 2);

  // The new server knows nothing of the agent: the session told it.
  auto agent = AwaitAgent(channel, "a1", [](const v1::AgentStats& a) {
    return a.reason() == "lunch";
  });
  ASSERT_TRUE(agent.has_value());
  EXPECT_EQ(agent->state(), v1::AGENT_STATE_NOT_READY);
  EXPECT_EQ(agent->reason(), "lunch");
  EXPECT_TRUE(agent->connected());

  ASSERT_TRUE(Get(session.SetReady()).ok());
  GatewayClient gateway(channel);
  v1::Contact contact;
  ASSERT_TRUE(gateway.CreateContact(NewContact("c1", "sales"), &contact).ok());
  auto offer = desk.NextOffer();
  ASSERT_TRUE(offer.has_value());
  ASSERT_TRUE(Get(session.Accept(offer->contact().id())).ok());
}

TEST(AgentSessionTest, RedeclaresAStateTheSupervisorSet) {
  auto first = StartServer(0, {Queue("sales")}, {Agent("a1")});
  const int port = first->port();
  auto channel = client::NewChannel(Target(port));
  DesktopLog desk;
  AgentSession session(channel, SessionFor("a1"), desk.Callbacks());
  session.Start();
  ASSERT_TRUE(desk.Next(Connection::kConnected).has_value());
  v1::SetAgentStateRequest force;
  force.set_agent_id("a1");
  force.set_state(v1::AGENT_STATE_NOT_READY);
  force.set_reason("coaching");
  v1::AgentStats stats;
  ASSERT_TRUE(v1::Supervisor::NewStub(channel)
                  ->SetAgentState(Deadline().get(), force, &stats)
                  .ok());
  auto told = desk.events.Take(
      [](const v1::AgentEvent& e) {
        return e.has_status() && e.status().reason() == "coaching";
      },
      kWait);
  ASSERT_TRUE(told.has_value());

  first->Shutdown();
  ASSERT_TRUE(desk.Next(Connection::kReconnecting).has_value());
  first.reset();
  auto second = StartServer(port, {Queue("sales")}, {Agent("a1")});
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(desk.Next(Connection::kConnected).has_value());
  auto agent = AwaitAgent(channel, "a1", [](const v1::AgentStats& a) {
    return a.reason() == "coaching";
  });
  ASSERT_TRUE(agent.has_value());
  EXPECT_EQ(agent->state(), v1::AGENT_STATE_NOT_READY);
  EXPECT_EQ(agent->reason(), "coaching");
}

TEST(AgentSessionTest, ReconnectsAfterTheServerDropsASilentStream) {
  api::ServerLimits limits;
  limits.heartbeat_timeout = 300ms;
  auto server = StartServer(0, {Queue("sales")}, {Agent("a1")}, limits);
  DesktopLog desk;
  auto options = SessionFor("a1");
  options.heartbeat_interval = 10s;  // far too slow for this server
  AgentSession session(client::NewChannel(Target(server->port())), options,
                       desk.Callbacks());
  session.Start();
  ASSERT_TRUE(desk.Next(Connection::kConnected).has_value());
  auto dropped = desk.Next(Connection::kReconnecting);
  ASSERT_TRUE(dropped.has_value());
  EXPECT_EQ(dropped->error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(dropped->error_message(), ::testing::HasSubstr("heartbeat"));
  ASSERT_TRUE(desk.Next(Connection::kConnected).has_value());
  EXPECT_GE(session.logins(), 2);
}

TEST(AgentSessionTest, HeartbeatsKeepAQuietSessionLoggedIn) {
  api::ServerLimits limits;
  limits.heartbeat_timeout = 400ms;
  auto server = StartServer(0, {Queue("sales")}, {Agent("a1")}, limits);
  DesktopLog desk;
  auto options = SessionFor("a1");
  options.heartbeat_interval = 100ms;
  AgentSession session(client::NewChannel(Target(server->port())), options,
                       desk.Callbacks());
  session.Start();
  ASSERT_TRUE(desk.Next(Connection::kConnected).has_value());
  // Several heartbeat timeouts pass without a single request from the user.
  auto until = std::chrono::steady_clock::now() + 1500ms;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_EQ(session.connection(), Connection::kConnected);
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(session.logins(), 1);
}

TEST(AgentSessionTest, ReplacedSessionClosesByDefault) {
  TestServer server({Queue("sales")}, {Agent("a1")});
  DesktopLog desk;
  AgentSession session(client::NewChannel(Target(server.server().port())),
                       SessionFor("a1"), desk.Callbacks());
  session.Start();
  ASSERT_TRUE(desk.Next(Connection::kConnected).has_value());
  Desktop other(server, "a1");
  ASSERT_EQ(other.Login(), grpc::StatusCode::OK);
  auto closed = desk.Next(Connection::kClosed);
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(Get(session.SetReady()).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(session.logins(), 1);
}

TEST(AgentSessionTest, ReplacedSessionTakesTheAgentBackWhenAskedTo) {
  TestServer server({Queue("sales")}, {Agent("a1")});
  DesktopLog desk;
  auto options = SessionFor("a1");
  options.reconnect_when_replaced = true;
  AgentSession session(client::NewChannel(Target(server.server().port())),
                       options, desk.Callbacks());
  session.Start();
  ASSERT_TRUE(desk.Next(Connection::kConnected).has_value());
  {
    Desktop other(server, "a1");
    ASSERT_EQ(other.Login(), grpc::StatusCode::OK);
    auto replaced = desk.Next(Connection::kReconnecting);
    ASSERT_TRUE(replaced.has_value());
    EXPECT_EQ(replaced->error_code(), grpc::StatusCode::ABORTED);
    ASSERT_TRUE(desk.Next(Connection::kConnected).has_value());
    EXPECT_EQ(session.logins(), 2);
  }
  // The agent is back on this session, READY as before.
  v1::Contact contact;
  ASSERT_TRUE(
      server.contacts()
          ->CreateContact(Deadline().get(), NewContact("c1", "sales"), &contact)
          .ok());
  auto offer = desk.NextOffer();
  ASSERT_TRUE(offer.has_value());
  EXPECT_EQ(offer->contact().id(), "c1");
  ASSERT_TRUE(Get(session.Accept("c1")).ok());
}

TEST(AgentSessionTest, ClosesWhenTheSupervisorLogsTheAgentOut) {
  TestServer server({Queue("sales")}, {Agent("a1")});
  auto channel = client::NewChannel(Target(server.server().port()));
  DesktopLog desk;
  AgentSession session(channel, SessionFor("a1"), desk.Callbacks());
  session.Start();
  ASSERT_TRUE(desk.Next(Connection::kConnected).has_value());
  v1::SetAgentStateRequest force;
  force.set_agent_id("a1");
  force.set_state(v1::AGENT_STATE_OFFLINE);
  v1::AgentStats stats;
  ASSERT_TRUE(
      server.supervisor()->SetAgentState(Deadline().get(), force, &stats).ok());
  auto closed = desk.Next(Connection::kClosed);
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->error_code(), grpc::StatusCode::ABORTED);
  EXPECT_THAT(closed->error_message(), ::testing::HasSubstr("supervisor"));
  auto offline = desk.events.Take(
      [](const v1::AgentEvent& e) {
        return e.has_status() && e.status().state() == v1::AGENT_STATE_OFFLINE;
      },
      kWait);
  EXPECT_TRUE(offline.has_value());
  EXPECT_EQ(session.logins(), 1);
  auto agent = AgentOn(channel, "a1");
  ASSERT_TRUE(agent.has_value());
  EXPECT_EQ(agent->state(), v1::AGENT_STATE_OFFLINE);
}

TEST(AgentSessionTest, LogoutClosesTheSessionForGood) {
  TestServer server({Queue("sales")}, {Agent("a1")});
  auto channel = client::NewChannel(Target(server.server().port()));
  DesktopLog desk;
  AgentSession session(channel, SessionFor("a1"), desk.Callbacks());
  session.Start();
  ASSERT_TRUE(desk.Next(Connection::kConnected).has_value());
  ASSERT_TRUE(Get(session.Logout()).ok());
  auto closed = desk.Next(Connection::kClosed);
  ASSERT_TRUE(closed.has_value());
  EXPECT_TRUE(closed->ok());
  auto agent = AgentOn(channel, "a1");
  ASSERT_TRUE(agent.has_value());
  EXPECT_EQ(agent->state(), v1::AGENT_STATE_OFFLINE);
  EXPECT_EQ(Get(session.Accept("c1")).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST(AgentSessionTest, UnknownAgentIsRefusedForGood) {
  TestServer server({Queue("sales")}, {Agent("a1")});
  DesktopLog desk;
  AgentSession session(client::NewChannel(Target(server.server().port())),
                       SessionFor("nobody"), desk.Callbacks());
  session.Start();
  auto closed = desk.Next(Connection::kClosed);
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(closed->error_message(), ::testing::HasSubstr("nobody"));
  EXPECT_EQ(session.logins(), 0);
}

TEST(AgentSessionTest, RequestsWaitForTheLoginAndTimeOutWithoutOne) {
  auto first = StartServer(0, {Queue("sales")}, {Agent("a1")});
  const int port = first->port();
  first->Shutdown();
  first.reset();
  DesktopLog desk;
  auto options = SessionFor("a1");
  options.request_timeout = 300ms;
  auto channel = client::NewChannel(Target(port));
  AgentSession session(channel, options, desk.Callbacks());
  session.Start();
  ASSERT_TRUE(desk.Next(Connection::kReconnecting).has_value());
  // Nobody answers: the request times out.
  EXPECT_EQ(Get(session.SetNotReady("training")).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  // It still counts as the declared state, re-declared at the next login.
  auto second = StartServer(port, {Queue("sales")}, {Agent("a1")});
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(desk.Next(Connection::kConnected).has_value());
  auto agent = AwaitAgent(channel, "a1", [](const v1::AgentStats& a) {
    return a.reason() == "training";
  });
  ASSERT_TRUE(agent.has_value());
  EXPECT_EQ(agent->state(), v1::AGENT_STATE_NOT_READY);
  EXPECT_EQ(agent->reason(), "training");
}

TEST(AgentSessionTest, ClosingWithdrawsTheOpenOffer) {
  TestServer server({Queue("sales", 60s)}, {Agent("a1"), Agent("a2")});
  auto channel = client::NewChannel(Target(server.server().port()));
  DesktopLog d1, d2;
  auto s1 =
      std::make_unique<AgentSession>(channel, SessionFor("a1"), d1.Callbacks());
  s1->Start();
  ASSERT_TRUE(d1.Next(Connection::kConnected).has_value());
  v1::Contact contact;
  ASSERT_TRUE(
      server.contacts()
          ->CreateContact(Deadline().get(), NewContact("c1", "sales"), &contact)
          .ok());
  ASSERT_TRUE(d1.NextOffer().has_value());
  AgentSession s2(channel, SessionFor("a2"), d2.Callbacks());
  s2.Start();
  ASSERT_TRUE(d2.Next(Connection::kConnected).has_value());
  s1.reset();
  auto offer = d2.NextOffer();
  ASSERT_TRUE(offer.has_value());
  EXPECT_EQ(offer->contact().id(), "c1");
  ASSERT_TRUE(Get(s2.Accept("c1")).ok());
}

}  // namespace
}  // namespace ccroute::testing
