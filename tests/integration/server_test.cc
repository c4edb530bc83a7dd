// ccrouted over loopback: gateways, agent desktops, watchers and
// supervisors against a real server on port 0.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <future>
#include <set>

#include "tests/integration/test_server.h"

namespace ccroute::testing {
namespace {

using ::testing::HasSubstr;

grpc::Status Create(TestServer& server, const v1::CreateContactRequest& r,
                    v1::Contact* out = nullptr) {
  v1::Contact contact;
  auto status = server.contacts()->CreateContact(Deadline().get(), r, &contact);
  if (out != nullptr) *out = contact;
  return status;
}

v1::Contact Get(TestServer& server, const std::string& id) {
  v1::GetContactRequest r;
  r.set_contact_id(id);
  v1::Contact contact;
  EXPECT_TRUE(
      server.contacts()->GetContact(Deadline().get(), r, &contact).ok());
  return contact;
}

TEST(ServerTest, FullContactLifecycle) {
  TestServer server({Queue("sales")}, {Agent("a1", 200ms)});
  Desktop desk(server, "a1");
  ASSERT_EQ(desk.Login(), grpc::StatusCode::OK);

  v1::Contact created;
  ASSERT_TRUE(Create(server, NewContact("c1", "sales"), &created).ok());
  EXPECT_TRUE(created.created());
  Watcher watch(server, "c1");
  auto offer = desk.NextOffer();
  ASSERT_TRUE(offer.has_value());
  EXPECT_EQ(offer->contact().id(), "c1");
  EXPECT_TRUE(offer->has_expires_at());
  ASSERT_EQ(desk.Accept("c1"), grpc::StatusCode::OK);

  auto answered = watch.NextWithState(v1::CONTACT_STATE_ASSIGNED);
  ASSERT_TRUE(answered.has_value());
  EXPECT_EQ(answered->contact().agent_id(), "a1");

  ASSERT_TRUE(Create(server, NewContact("c2", "sales")).ok());
  ASSERT_EQ(desk.Complete("c1"), grpc::StatusCode::OK);
  ASSERT_TRUE(desk.NextOf(v1::AgentEvent::kWrapUpStarted).has_value());
  ASSERT_TRUE(desk.NextOf(v1::AgentEvent::kWrapUpEnded).has_value());
  auto ended = watch.NextWithState(v1::CONTACT_STATE_ENDED);
  ASSERT_TRUE(ended.has_value());
  EXPECT_EQ(ended->contact().end_reason(), v1::END_REASON_COMPLETED);
  auto finished = watch.Finished();
  ASSERT_TRUE(finished.has_value());
  EXPECT_TRUE(finished->ok());

  auto next = desk.NextOffer();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->contact().id(), "c2");
  EXPECT_TRUE(server.CheckInvariants().ok());
}

TEST(ServerTest, RejectedOfferGoesToTheNextAgent) {
  TestServer server({Queue("sales")}, {Agent("a1"), Agent("a2")});
  Desktop d1(server, "a1");
  ASSERT_EQ(d1.Login(), grpc::StatusCode::OK);
  Desktop d2(server, "a2");
  ASSERT_EQ(d2.Login(), grpc::StatusCode::OK);
  ASSERT_TRUE(Create(server, NewContact("c1", "sales")).ok());
  auto first = d1.NextOffer();
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(d1.Reject("c1"), grpc::StatusCode::OK);
  auto second = d2.NextOffer();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->contact().id(), "c1");
  EXPECT_EQ(second->contact().position(), 1);
}

TEST(ServerTest, OfferTimeoutGoesToTheNextAgent) {
  TestServer server({Queue("sales", 300ms)}, {Agent("a1"), Agent("a2")});
  Desktop d1(server, "a1");
  ASSERT_EQ(d1.Login(), grpc::StatusCode::OK);
  Desktop d2(server, "a2");
  ASSERT_EQ(d2.Login(), grpc::StatusCode::OK);
  ASSERT_TRUE(Create(server, NewContact("c1", "sales")).ok());
  ASSERT_TRUE(d1.NextOffer().has_value());
  auto withdrawn = d1.NextOf(v1::AgentEvent::kOfferWithdrawn);
  ASSERT_TRUE(withdrawn.has_value());
  EXPECT_EQ(withdrawn->offer_withdrawn().reason(), "timed_out");
  auto second = d2.NextOffer();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->contact().id(), "c1");
}

TEST(ServerTest, DroppedDesktopsOfferIsReofferedAtOnce) {
  TestServer server({Queue("sales", 60s)}, {Agent("a1"), Agent("a2")});
  auto d1 = std::make_unique<Desktop>(server, "a1");
  ASSERT_EQ(d1->Login(), grpc::StatusCode::OK);
  ASSERT_TRUE(Create(server, NewContact("c1", "sales")).ok());
  ASSERT_TRUE(d1->NextOffer().has_value());
  Desktop d2(server, "a2");
  ASSERT_EQ(d2.Login(), grpc::StatusCode::OK);
  d1->Drop();
  // The offer timeout is 60 s: only the drop can move the contact in 1 s.
  auto offer = d2.NextOffer(1000ms);
  ASSERT_TRUE(offer.has_value());
  EXPECT_EQ(offer->contact().id(), "c1");
  ASSERT_EQ(d2.Accept("c1"), grpc::StatusCode::OK);
  EXPECT_EQ(Get(server, "c1").agent_id(), "a2");
  EXPECT_TRUE(server.CheckInvariants().ok());
}

TEST(ServerTest, AgentReconnectingWithinGraceKeepsItsContacts) {
  api::ServerLimits limits;
  limits.reconnect_grace = 30s;
  TestServer server({Queue("sales")}, {Agent("a1")}, limits);
  auto d1 = std::make_unique<Desktop>(server, "a1");
  ASSERT_EQ(d1->Login(), grpc::StatusCode::OK);
  ASSERT_TRUE(Create(server, NewContact("c1", "sales")).ok());
  ASSERT_TRUE(d1->NextOffer().has_value());
  ASSERT_EQ(d1->Accept("c1"), grpc::StatusCode::OK);
  d1->Drop();
  Desktop again(server, "a1");
  ASSERT_EQ(again.Login(false), grpc::StatusCode::OK);
  auto status = again.NextOf(v1::AgentEvent::kStatus);
  ASSERT_TRUE(status.has_value());
  EXPECT_THAT(status->status().contacts(), ::testing::ElementsAre("c1"));
  EXPECT_EQ(again.Complete("c1"), grpc::StatusCode::OK);
}

TEST(ServerTest, AssignedContactsReturnToTheQueueAfterTheGrace) {
  api::ServerLimits limits;
  limits.reconnect_grace = 200ms;
  TestServer server({Queue("sales")}, {Agent("a1"), Agent("a2")}, limits);
  auto d1 = std::make_unique<Desktop>(server, "a1");
  ASSERT_EQ(d1->Login(), grpc::StatusCode::OK);
  ASSERT_TRUE(Create(server, NewContact("c1", "sales")).ok());
  ASSERT_TRUE(d1->NextOffer().has_value());
  ASSERT_EQ(d1->Accept("c1"), grpc::StatusCode::OK);
  Desktop d2(server, "a2");
  ASSERT_EQ(d2.Login(), grpc::StatusCode::OK);
  d1->Drop();
  auto offer = d2.NextOffer();
  ASSERT_TRUE(offer.has_value());
  EXPECT_EQ(offer->contact().id(), "c1");
}

TEST(ServerTest, SecondSessionForAnAgentReplacesTheFirst) {
  TestServer server({Queue("sales")}, {Agent("a1")});
  Desktop first(server, "a1");
  ASSERT_EQ(first.Login(), grpc::StatusCode::OK);
  Desktop second(server, "a1");
  ASSERT_EQ(second.Login(), grpc::StatusCode::OK);
  ASSERT_TRUE(Create(server, NewContact("c1", "sales")).ok());
  auto offer = second.NextOffer();
  ASSERT_TRUE(offer.has_value());
  EXPECT_FALSE(first.NextOffer(200ms).has_value());
}

// Found by rpc_fuzz: the Acks of requests still waiting for the engine
// thread when the desktop closed its side were dropped, and the stream
// finished OK without them.
TEST(ServerTest, DesktopClosingItsSideRightAwayStillGetsEveryAck) {
  TestServer server({Queue("sales")}, {Agent("a1")});
  // Hold the engine thread, so that the requests and the half-close all
  // reach the server before any request is carried out.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  server.server().runner().Post(
      [released](core::Engine&, core::Time) { released.wait(); });

  auto stub = v1::Agents::NewStub(server.channel());
  auto context = Deadline();
  auto stream = stub->Connect(context.get());
  std::vector<v1::AgentRequest> requests(4);
  requests[0].mutable_login()->set_agent_id("a1");
  requests[1].mutable_ready();
  requests[2].mutable_heartbeat();
  requests[3].mutable_logout();
  for (size_t i = 0; i < requests.size(); ++i) {
    requests[i].set_request_id("r" + std::to_string(i));
    ASSERT_TRUE(stream->Write(requests[i]));
  }
  ASSERT_TRUE(stream->WritesDone());
  // Wait until the server has read the requests and the end of the stream:
  // each queues a command behind the held one (the session's start, each
  // request, then the close; a server that closes at once queues the
  // session's end instead).
  auto deadline = std::chrono::steady_clock::now() + kWait;
  auto& runner = server.server().runner();
  while (runner.pending_commands() <
             static_cast<int64_t>(requests.size()) + 2 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  release.set_value();

  std::set<std::string> acked;
  v1::AgentEvent event;
  while (stream->Read(&event)) {
    if (event.has_ack()) {
      EXPECT_EQ(event.ack().code(), 0) << event.ack().message();
      acked.insert(event.ack().request_id());
    }
  }
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(acked, (std::set<std::string>{"r0", "r1", "r2", "r3"}));
}

TEST(ServerTest, RetriedCreateYieldsExactlyOneContact) {
  TestServer server({Queue("sales")}, {});
  std::vector<std::thread> gateways;
  std::atomic<int> created{0}, ok{0};
  for (int i = 0; i < 8; ++i) {
    gateways.emplace_back([&] {
      for (int attempt = 0; attempt < 5; ++attempt) {
        v1::Contact contact;
        if (Create(server, NewContact("same", "sales"), &contact).ok()) {
          ok++;
          if (contact.created()) created++;
        }
      }
    });
  }
  for (auto& g : gateways) g.join();
  EXPECT_EQ(ok.load(), 40);
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(server.LiveContacts(), 1u);
}

TEST(ServerTest, MalformedRequestsAreRefusedAndChangeNothing) {
  TestServer server({Queue("sales")}, {Agent("a1"), Agent("a2")});
  Desktop d1(server, "a1");
  ASSERT_EQ(d1.Login(), grpc::StatusCode::OK);
  Desktop d2(server, "a2");
  ASSERT_EQ(d2.Login(false), grpc::StatusCode::OK);
  ASSERT_TRUE(Create(server, NewContact("c1", "sales")).ok());
  ASSERT_TRUE(d1.NextOffer().has_value());

  struct Case {
    v1::CreateContactRequest request;
    grpc::StatusCode code;
    std::string mentions;
  };
  std::vector<Case> cases;
  cases.push_back({NewContact("", "sales"), grpc::StatusCode::INVALID_ARGUMENT,
                   "contact.id"});
  cases.push_back({NewContact("x", ""), grpc::StatusCode::INVALID_ARGUMENT,
                   "contact.queue"});
  cases.push_back(
      {NewContact("x", "nowhere"), grpc::StatusCode::NOT_FOUND, "nowhere"});
  auto negative = NewContact("x", "sales");
  negative.set_priority(-1);
  cases.push_back({negative, grpc::StatusCode::INVALID_ARGUMENT, "priority"});
  auto channel = NewContact("x", "sales");
  channel.set_channel(static_cast<v1::Channel>(42));
  cases.push_back({channel, grpc::StatusCode::INVALID_ARGUMENT, "channel"});
  auto big = NewContact("x", "sales");
  (*big.mutable_attributes())["note"] = std::string(10000, 'n');
  cases.push_back({big, grpc::StatusCode::INVALID_ARGUMENT, "attributes"});
  auto many = NewContact("x", "sales");
  for (int i = 0; i < 100; ++i) {
    (*many.mutable_attributes())["k" + std::to_string(i)] = "v";
  }
  cases.push_back({many, grpc::StatusCode::INVALID_ARGUMENT, "attributes"});
  auto level = NewContact("x", "sales");
  auto* req = level.add_requirements();
  req->set_skill("lang.de");
  req->set_min_level(11);
  cases.push_back({level, grpc::StatusCode::INVALID_ARGUMENT, "level"});
  auto other_queue = NewContact("c1", "other");
  cases.push_back({other_queue, grpc::StatusCode::ALREADY_EXISTS, "c1"});
  for (const Case& c : cases) {
    grpc::Status s = Create(server, c.request);
    EXPECT_EQ(s.error_code(), c.code) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr(c.mentions));
  }

  // Agents acting on what is not theirs.
  EXPECT_EQ(d2.Accept("c1"), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(d2.last_ack_message(), HasSubstr("a2"));
  EXPECT_EQ(d2.Complete("c1"), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(d1.Complete("c1"), grpc::StatusCode::FAILED_PRECONDITION)
      << "offered, not yet accepted";
  EXPECT_EQ(d1.Accept("ghost"), grpc::StatusCode::NOT_FOUND);
  Desktop unknown(server, "nobody");
  EXPECT_EQ(unknown.Login(), grpc::StatusCode::NOT_FOUND);
  Desktop early(server, "a2");
  v1::AgentRequest ready;
  ready.mutable_ready();
  EXPECT_EQ(early.Send(ready), grpc::StatusCode::FAILED_PRECONDITION)
      << "not logged in on this stream";

  // Unary calls with missing fields.
  v1::Contact contact;
  EXPECT_EQ(
      server.contacts()
          ->GetContact(Deadline().get(), v1::GetContactRequest(), &contact)
          .error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  v1::CancelContactRequest cancel;
  cancel.set_contact_id("c1");
  cancel.set_reason(v1::END_REASON_COMPLETED);
  EXPECT_EQ(server.contacts()
                ->CancelContact(Deadline().get(), cancel, &contact)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::Queue bad_queue;
  bad_queue.set_name("bad");
  bad_queue.set_agent_selection("random");
  v1::Queue queue_out;
  auto s = server.admin()->UpsertQueue(Deadline().get(), bad_queue, &queue_out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("agent_selection"));

  // Nothing changed: one contact, still offered to a1.
  EXPECT_EQ(server.LiveContacts(), 1u);
  v1::Contact c1 = Get(server, "c1");
  EXPECT_EQ(c1.state(), v1::CONTACT_STATE_OFFERED);
  EXPECT_EQ(c1.agent_id(), "a1");
  EXPECT_TRUE(server.CheckInvariants().ok());
}

// Found by rpc_fuzz: a request with a string field that is not UTF-8 made
// protobuf write a plain-text error line to stderr, where every line is one
// JSON object; any client, even without credentials, could fill the log
// with them.
TEST(ServerTest, RequestThatIsNotUtf8IsLoggedAsJson) {
  api::RouteGrpcLogsToJson();  // as ccrouted does
  TestServer server({Queue("sales")}, {});
  std::string path = ::testing::TempDir() + "/not_utf8_stderr.log";
  std::fflush(stderr);
  int saved = ::dup(2);
  int file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(file, 0);
  ::dup2(file, 2);
  ::close(file);

  // A CreateContactRequest whose queue (field 2) is the byte 0xff.
  grpc::GenericStub stub(server.channel());
  const char bytes[] = {0x0a, 0x02, 'c', '1', 0x12, 0x01, '\xff'};
  grpc::Slice slice(bytes, sizeof(bytes));
  grpc::ByteBuffer request(&slice, 1), response;
  auto context = Deadline();
  std::promise<grpc::Status> done;
  stub.UnaryCall(context.get(), "/ccroute.v1.Contacts/CreateContact",
                 grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) { done.set_value(s); });
  grpc::Status status = done.get_future().get();

  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  EXPECT_FALSE(status.ok());
  std::ifstream log(path);
  std::string line;
  bool named = false;
  while (std::getline(log, line)) {
    EXPECT_TRUE(line.starts_with("{") && line.ends_with("}")) << line;
    named =
        named || line.find("CreateContactRequest.queue") != std::string::npos;
  }
  EXPECT_TRUE(named) << "no log line names the field";
  EXPECT_EQ(server.LiveContacts(), 0u);
}

TEST(ServerTest, WatcherSeesItsPositionImprove) {
  TestServer server({Queue("sales")}, {Agent("a1")});
  ASSERT_TRUE(Create(server, NewContact("c1", "sales")).ok());
  ASSERT_TRUE(Create(server, NewContact("c2", "sales")).ok());
  Watcher watch(server, "c2");
  ASSERT_TRUE(watch.NextWithState(v1::CONTACT_STATE_QUEUED).has_value());
  v1::CancelContactRequest cancel;
  cancel.set_contact_id("c1");
  v1::Contact contact;
  ASSERT_TRUE(server.contacts()
                  ->CancelContact(Deadline().get(), cancel, &contact)
                  .ok());
  auto update = watch.NextWithState(v1::CONTACT_STATE_QUEUED);
  ASSERT_TRUE(update.has_value());
  EXPECT_EQ(update->change(), "position");
  EXPECT_EQ(update->contact().position(), 1);
}

TEST(ServerTest, SupervisorSeesFilteredEventsAndStatistics) {
  TestServer server({Queue("sales"), Queue("support")}, {Agent("a1")});
  grpc::ClientContext context;
  v1::WatchEventsRequest filter;
  filter.add_queues("support");
  filter.add_kinds("contact_queued");
  auto stub = server.supervisor();
  auto stream = stub->WatchEvents(&context, filter);
  // The subscription is registered on the engine thread: make sure it is
  // there before creating contacts.
  v1::ListAgentsResponse agents;
  ASSERT_TRUE(
      stub->ListAgents(Deadline().get(), v1::ListAgentsRequest(), &agents)
          .ok());
  ASSERT_TRUE(Create(server, NewContact("s1", "sales")).ok());
  ASSERT_TRUE(Create(server, NewContact("t1", "support")).ok());
  v1::Event event;
  ASSERT_TRUE(stream->Read(&event));
  EXPECT_EQ(event.kind(), "contact_queued");
  EXPECT_EQ(event.contact_id(), "t1");
  context.TryCancel();

  v1::QueueStats stats;
  v1::GetQueueStatsRequest request;
  request.set_queue("sales");
  ASSERT_TRUE(stub->GetQueueStats(Deadline().get(), request, &stats).ok());
  EXPECT_EQ(stats.created(), 1);
  EXPECT_EQ(stats.waiting(), 1);

  v1::WatchEventsRequest bad;
  bad.add_kinds("no_such_kind");
  grpc::ClientContext bad_context;
  auto bad_stream = stub->WatchEvents(&bad_context, bad);
  EXPECT_FALSE(bad_stream->Read(&event));
  EXPECT_EQ(bad_stream->Finish().error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(ServerTest, SupervisorForcesAnAgentOffline) {
  TestServer server({Queue("sales")}, {Agent("a1"), Agent("a2")});
  Desktop d1(server, "a1");
  ASSERT_EQ(d1.Login(), grpc::StatusCode::OK);
  ASSERT_TRUE(Create(server, NewContact("c1", "sales")).ok());
  ASSERT_TRUE(d1.NextOffer().has_value());
  ASSERT_EQ(d1.Accept("c1"), grpc::StatusCode::OK);
  v1::SetAgentStateRequest force;
  force.set_agent_id("a1");
  force.set_state(v1::AGENT_STATE_OFFLINE);
  v1::AgentStats stats;
  ASSERT_TRUE(
      server.supervisor()->SetAgentState(Deadline().get(), force, &stats).ok());
  EXPECT_EQ(stats.state(), v1::AGENT_STATE_OFFLINE);
  // The desktop's stream is still usable: it can log in again.
  EXPECT_EQ(d1.Login(false), grpc::StatusCode::OK) << d1.last_ack_message();
  Desktop d2(server, "a2");
  ASSERT_EQ(d2.Login(), grpc::StatusCode::OK);
  auto offer = d2.NextOffer();
  ASSERT_TRUE(offer.has_value());
  EXPECT_EQ(offer->contact().id(), "c1");
}

TEST(ServerTest, ShutdownWithOpenStreamsCompletesWithinItsDeadline) {
  api::ServerLimits limits;
  limits.shutdown_timeout = 2s;
  auto server = std::make_unique<TestServer>(
      std::vector<core::QueueConfig>{Queue("sales")},
      std::vector<core::AgentProfile>{Agent("a1"), Agent("a2")}, limits);
  Desktop d1(*server, "a1");
  ASSERT_EQ(d1.Login(), grpc::StatusCode::OK);
  Desktop d2(*server, "a2");
  ASSERT_EQ(d2.Login(false), grpc::StatusCode::OK);
  ASSERT_TRUE(Create(*server, NewContact("c1", "sales")).ok());
  ASSERT_TRUE(Create(*server, NewContact("c2", "sales")).ok());
  Watcher watch(*server, "c2");
  ASSERT_TRUE(watch.NextWithState(v1::CONTACT_STATE_QUEUED).has_value());
  auto started = std::chrono::steady_clock::now();
  server->server().Shutdown();
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_LT(took, 2s + 1s);
  auto status = watch.Finished();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::UNAVAILABLE);
}

// grpc.health.v1.Health/Check for the whole server, through a generic stub
// (no generated health client needed): the serialized status, or the error.
absl::StatusOr<std::string> HealthCheck(TestServer& server) {
  grpc::GenericStub stub(server.channel());
  grpc::Slice empty;  // an empty HealthCheckRequest
  grpc::ByteBuffer request(&empty, 1), response;
  auto context = Deadline();
  std::promise<grpc::Status> done;
  stub.UnaryCall(context.get(), "/grpc.health.v1.Health/Check",
                 grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) { done.set_value(s); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) return absl::UnavailableError(status.error_message());
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return bytes;
}

TEST(ServerTest, HealthServiceReportsServing) {
  TestServer server({Queue("sales")}, {});
  auto health = HealthCheck(server);
  ASSERT_TRUE(health.ok()) << health.status();
  // HealthCheckResponse{status: SERVING (1)}.
  EXPECT_EQ(*health, std::string("\x08\x01", 2));
}

TEST(ServerTest, AgentSessionsBeyondTheLimitAreRefused) {
  api::ServerLimits limits;
  limits.max_agent_sessions = 1;
  TestServer server({Queue("sales")}, {Agent("a1"), Agent("a2")}, limits);
  Desktop first(server, "a1");
  ASSERT_EQ(first.Login(), grpc::StatusCode::OK);
  Desktop second(server, "a2");
  EXPECT_NE(second.Login(), grpc::StatusCode::OK);
  EXPECT_EQ(first.Send(v1::AgentRequest()), grpc::StatusCode::INVALID_ARGUMENT)
      << "the first session is unaffected";
}

TEST(ServerTest, WatchersBeyondTheLimitAreRefused) {
  api::ServerLimits limits;
  limits.max_watchers = 1;
  TestServer server({Queue("sales")}, {}, limits);
  ASSERT_TRUE(Create(server, NewContact("c1", "sales")).ok());
  Watcher first(server, "c1");
  ASSERT_TRUE(first.NextWithState(v1::CONTACT_STATE_QUEUED).has_value());
  Watcher second(server, "c1");
  auto status = second.Finished();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status->error_message(), HasSubstr("watchers"));
}

TEST(ServerTest, WatchingAnUnknownContactIsNotFound) {
  TestServer server({Queue("sales")}, {});
  Watcher watch(server, "ghost");
  auto status = watch.Finished();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST(ServerTest, ManyAgentsAndGatewaysAtOnceKeepTheInvariants) {
  constexpr int kAgents = 200;
  constexpr int kGateways = 8;
  constexpr int kContactsPerGateway = 100;
  std::vector<core::AgentProfile> profiles;
  for (int i = 0; i < kAgents; ++i) {
    profiles.push_back(Agent("a" + std::to_string(i)));
  }
  TestServer server({Queue("sales")}, profiles);
  std::atomic<int> handled{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> desks;
  // Agents share a few channels: hundreds of streams on few connections.
  for (int i = 0; i < kAgents; ++i) {
    desks.emplace_back([&, i] {
      Desktop desk(server, "a" + std::to_string(i), /*own_channel=*/false);
      if (desk.Login() != grpc::StatusCode::OK) return;
      while (!stop) {
        auto offer = desk.NextOffer(100ms);
        if (!offer) continue;
        const std::string& id = offer->contact().id();
        // About one offer in five is rejected (by this agent; others take
        // it); the rest are handled.
        if (std::hash<std::string>()(desk.agent_id() + "/" + id) % 5 == 0) {
          desk.Reject(id);
          continue;
        }
        if (desk.Accept(id) == grpc::StatusCode::OK &&
            desk.Complete(id) == grpc::StatusCode::OK) {
          handled++;
        }
      }
    });
  }
  std::vector<std::thread> gateways;
  for (int g = 0; g < kGateways; ++g) {
    gateways.emplace_back([&, g] {
      for (int i = 0; i < kContactsPerGateway; ++i) {
        auto r = NewContact("g" + std::to_string(g) + "-" + std::to_string(i),
                            "sales");
        EXPECT_TRUE(Create(server, r).ok());
      }
    });
  }
  for (auto& t : gateways) t.join();
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (handled < kGateways * kContactsPerGateway &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  stop = true;
  for (auto& t : desks) t.join();
  EXPECT_EQ(handled.load(), kGateways * kContactsPerGateway);
  EXPECT_TRUE(server.CheckInvariants().ok()) << server.CheckInvariants();
  EXPECT_EQ(server.LiveContacts(), 0u);
}

}  // namespace
}  // namespace ccroute::testing
