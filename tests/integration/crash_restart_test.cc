// ccrouted killed with SIGKILL while gateways create and cancel contacts,
// then started again on the same journal, over and over: every contact whose
// create was acknowledged comes back exactly once, in its original order,
// and none the gateway cancelled does.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "ccroute/v1/agents.grpc.pb.h"
#include "ccroute/v1/contacts.grpc.pb.h"
#include "ccroute/v1/supervisor.grpc.pb.h"
#include "tests/integration/ccrouted_process.h"
#include "tests/util/child_process.h"

namespace ccroute {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Deadline;

// What the gateways were told, over every cycle.
struct Ledger {
  std::mutex mu;
  // Acknowledged creates per gateway thread, in acknowledgement order (each
  // thread waits for one create before sending the next).
  std::vector<std::vector<std::string>> acked;
  std::set<std::string> cancelled;    // acknowledged cancels
  std::set<std::string> cancel_sent;  // acknowledged or not
  int64_t sent = 0;
};

class CrashRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ccroute-crash-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    config_ = dir_ / "ccrouted.yaml";
  }
  void WriteConfig(const std::string& durability) {
    testing::WriteJournalConfig(config_, "data", durability);
  }
  // `cycles` rounds of load ended by SIGKILL (or, when `graceful`, SIGTERM
  // while the load goes on), each checked after the restart.
  void RunCycles(int cycles, bool graceful);
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_, config_;
};

void CrashRestartTest::RunCycles(int cycles, bool graceful) {
  constexpr int kGateways = 4;
  Ledger ledger;
  ledger.acked.resize(kGateways);
  std::mt19937 rng(12345);
  // The last round only checks, and stops the server gracefully.
  for (int cycle = 0; cycle <= cycles; ++cycle) {
    // Every contact is checked every 10th round and at the end; between,
    // the ones of the round just killed (the totals are checked always).
    const bool full_check = cycle % 10 == 0 || cycle == cycles;
    const std::string previous = "c" + std::to_string(cycle - 1) + "-";
    SCOPED_TRACE("cycle " + std::to_string(cycle));
    testing::ChildProcess server(
        testing::CcroutedArgs(config_),
        (dir_ / ("ccrouted-" + std::to_string(cycle) + ".log")).string());
    auto port = testing::WaitForPort(server);
    ASSERT_TRUE(port.has_value()) << server.log();
    auto channel = grpc::CreateChannel("127.0.0.1:" + *port,
                                       grpc::InsecureChannelCredentials());
    auto contacts = v1::Contacts::NewStub(channel);
    auto supervisor = v1::Supervisor::NewStub(channel);

    // 1. Everything acknowledged so far is here, once, in order.
    std::map<std::string, int> position;
    {
      std::lock_guard<std::mutex> lock(ledger.mu);
      for (const auto& thread : ledger.acked) {
        int last = 0;
        for (const std::string& id : thread) {
          if (ledger.cancel_sent.count(id)) continue;
          if (!full_check && id.rfind(previous, 0) != 0) continue;
          v1::GetContactRequest r;
          r.set_contact_id(id);
          v1::Contact c;
          grpc::Status s = contacts->GetContact(Deadline(10s).get(), r, &c);
          ASSERT_TRUE(s.ok()) << id << ": " << s.error_message();
          ASSERT_EQ(c.state(), v1::CONTACT_STATE_QUEUED) << id;
          ASSERT_GT(c.position(), last) << id << " is out of order";
          last = c.position();
          position[id] = c.position();
        }
      }
      for (const std::string& id : ledger.cancelled) {
        if (!full_check && id.rfind(previous, 0) != 0) continue;
        v1::GetContactRequest r;
        r.set_contact_id(id);
        v1::Contact c;
        grpc::Status s = contacts->GetContact(Deadline(10s).get(), r, &c);
        // Remembered as ended for the idempotency retention, or forgotten.
        if (s.ok()) {
          ASSERT_EQ(c.state(), v1::CONTACT_STATE_ENDED)
              << id << " was cancelled and came back";
        } else {
          ASSERT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
        }
      }
      v1::GetQueueStatsRequest r;
      r.set_queue("calls");
      v1::QueueStats stats;
      ASSERT_TRUE(
          supervisor->GetQueueStats(Deadline(10s).get(), r, &stats).ok());
      // Exactly once: no duplicates beside the acknowledged ones; extra
      // contacts can only be creates sent but not yet acknowledged.
      size_t live_acked = 0;
      for (const auto& thread : ledger.acked) {
        for (const std::string& id : thread) {
          if (!ledger.cancel_sent.count(id)) ++live_acked;
        }
      }
      ASSERT_GE(stats.waiting(), static_cast<int64_t>(live_acked));
      ASSERT_LE(stats.waiting(),
                static_cast<int64_t>(ledger.sent - ledger.cancelled.size()));
    }
    if (cycle == cycles) {
      EXPECT_EQ(server.Stop(), 0) << "a graceful stop exits 0";
      break;
    }

    // 2. Load, then SIGKILL at a random moment.
    std::atomic<bool> stop{false};
    std::vector<std::thread> gateways;
    for (int g = 0; g < kGateways; ++g) {
      gateways.emplace_back([&, g] {
        auto stub = v1::Contacts::NewStub(channel);
        for (int n = 0; !stop; ++n) {
          std::string id = "c" + std::to_string(cycle) + "-" +
                           std::to_string(g) + "-" + std::to_string(n);
          v1::CreateContactRequest r;
          r.set_contact_id(id);
          r.set_queue("calls");
          r.set_channel(v1::CHANNEL_VOICE);
          (*r.mutable_attributes())["n"] = std::to_string(n);
          {
            std::lock_guard<std::mutex> lock(ledger.mu);
            ++ledger.sent;
          }
          v1::Contact c;
          if (!stub->CreateContact(Deadline(5s).get(), r, &c).ok()) return;
          {
            std::lock_guard<std::mutex> lock(ledger.mu);
            ledger.acked[static_cast<size_t>(g)].push_back(id);
          }
          if (n % 5 == 4) {
            v1::CancelContactRequest cancel;
            cancel.set_contact_id(id);
            cancel.set_reason(v1::END_REASON_CANCELLED);
            {
              std::lock_guard<std::mutex> lock(ledger.mu);
              ledger.cancel_sent.insert(id);
            }
            if (!stub->CancelContact(Deadline(5s).get(), cancel, &c).ok()) {
              return;
            }
            std::lock_guard<std::mutex> lock(ledger.mu);
            ledger.cancelled.insert(id);
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(
        std::uniform_int_distribution<>(30, 300)(rng)));
    if (graceful) {
      EXPECT_EQ(server.Stop(), 0);
    } else {
      server.Kill();
    }
    stop = true;
    for (auto& t : gateways) t.join();
  }

  std::lock_guard<std::mutex> lock(ledger.mu);
  size_t acked = 0;
  for (const auto& t : ledger.acked) acked += t.size();
  std::cout << cycles << (graceful ? " graceful" : " kill -9") << " restarts; "
            << ledger.sent << " creates sent, " << acked << " acknowledged, "
            << ledger.cancelled.size() << " cancelled; none lost\n";
  EXPECT_GT(acked, static_cast<size_t>(cycles));
}

TEST_F(CrashRestartTest, KillNineDuringLoadLosesNoAcknowledgedContact) {
  WriteConfig("sync");
  const char* env = std::getenv("CCROUTE_CRASH_CYCLES");
  RunCycles(env ? std::atoi(env) : 50, /*graceful=*/false);
}

// A graceful stop writes everything out, whatever the durability mode.
TEST_F(CrashRestartTest, GracefulRestartUnderLoadLosesNothingWithoutFsync) {
  WriteConfig("none");
  RunCycles(5, /*graceful=*/true);
}

// The server dies after offering a contact and before the agent's accept
// is journaled; the desktop, which has the caller, declares it when it
// logs in to the restarted server and gets it back.
TEST_F(CrashRestartTest, AcceptLostToAKillIsReclaimedAtLogin) {
  std::ofstream(config_) << "security: {plaintext: true, auth: none}\n"
                            "journal: {data_dir: data, durability: sync}\n"
                            "queues:\n"
                            "  - name: calls\n"
                            "agents:\n"
                            "  - id: a1\n";
  auto start = [&](const std::string& name) {
    auto server = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{CCROUTED_PATH, "--config", config_.string(),
                                 "--listen", "127.0.0.1:0", "--metrics-listen",
                                 ""},
        (dir_ / (name + ".log")).string());
    auto port = server->WaitForLog(
        std::regex(R"re("event":"started".*"grpc_port":([0-9]+))re"));
    EXPECT_TRUE(port.has_value()) << server->log();
    return std::make_pair(std::move(server), port.value_or("0"));
  };
  // Logs a1 in on a new stream, holding `held` when set; the stream's
  // events until `until` arrives.
  struct Desk {
    std::unique_ptr<v1::Agents::Stub> stub;
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReaderWriter<v1::AgentRequest, v1::AgentEvent>>
        stream;
    std::optional<v1::AgentEvent> ReadUntil(v1::AgentEvent::EventCase until) {
      v1::AgentEvent event;
      while (stream->Read(&event)) {
        if (event.event_case() == until) return event;
      }
      return std::nullopt;
    }
  };
  auto login = [](const std::string& port, Desk& desk,
                  const std::vector<std::string>* held) {
    auto channel = grpc::CreateChannel("127.0.0.1:" + port,
                                       grpc::InsecureChannelCredentials());
    desk.stub = v1::Agents::NewStub(channel);
    desk.context.set_deadline(std::chrono::system_clock::now() + 30s);
    desk.stream = desk.stub->Connect(&desk.context);
    v1::AgentRequest r;
    r.set_request_id("login");
    r.mutable_login()->set_agent_id("a1");
    r.mutable_login()->set_ready(held == nullptr);
    if (held != nullptr) {
      for (const std::string& id : *held) {
        r.mutable_login()->mutable_held()->add_contact_ids(id);
      }
    }
    return desk.stream->Write(r);
  };

  auto [first, port] = start("ccrouted-before");
  {
    auto contacts = v1::Contacts::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + port, grpc::InsecureChannelCredentials()));
    v1::CreateContactRequest create;
    create.set_contact_id("caller-1");
    create.set_queue("calls");
    create.set_channel(v1::CHANNEL_VOICE);
    create.set_gateway_id("gw1");
    v1::Contact created;
    ASSERT_TRUE(
        contacts->CreateContact(Deadline(10s).get(), create, &created).ok());
  }
  Desk before;
  ASSERT_TRUE(login(port, before, nullptr));
  auto offer = before.ReadUntil(v1::AgentEvent::kOffer);
  ASSERT_TRUE(offer.has_value());
  ASSERT_EQ(offer->offer().contact().id(), "caller-1");
  // Sync mode: the offer is on disk once the next create is acknowledged.
  {
    auto contacts = v1::Contacts::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + port, grpc::InsecureChannelCredentials()));
    v1::CreateContactRequest barrier;
    barrier.set_contact_id("barrier");
    barrier.set_queue("calls");
    barrier.set_channel(v1::CHANNEL_VOICE);
    v1::Contact created;
    ASSERT_TRUE(
        contacts->CreateContact(Deadline(10s).get(), barrier, &created).ok());
  }
  first->Kill();
  before.context.TryCancel();

  auto [second, port2] = start("ccrouted-after");
  Desk after;
  std::vector<std::string> held = {"caller-1"};
  ASSERT_TRUE(login(port2, after, &held));
  auto reconciled = after.ReadUntil(v1::AgentEvent::kReconciled);
  ASSERT_TRUE(reconciled.has_value()) << second->log();
  ASSERT_EQ(reconciled->reconciled().reclaimed_size(), 1)
      << reconciled->DebugString();
  EXPECT_EQ(reconciled->reconciled().reclaimed(0), "caller-1");

  auto contacts = v1::Contacts::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + port2, grpc::InsecureChannelCredentials()));
  v1::GetContactRequest get;
  get.set_contact_id("caller-1");
  v1::Contact now;
  ASSERT_TRUE(contacts->GetContact(Deadline(10s).get(), get, &now).ok());
  EXPECT_EQ(now.state(), v1::CONTACT_STATE_ASSIGNED);
  EXPECT_EQ(now.agent_id(), "a1");
  EXPECT_EQ(now.gateway_id(), "gw1");

  // A Resync is answered once journaled: what it added survives a kill.
  v1::ResyncRequest resync;
  resync.set_gateway_id("gw1");
  for (const char* id : {"caller-1", "rerouted-1"}) {
    v1::ResyncContact* item = resync.add_contacts();
    item->mutable_contact()->set_contact_id(id);
    item->mutable_contact()->set_queue("calls");
    item->mutable_contact()->set_channel(v1::CHANNEL_VOICE);
  }
  const int64_t arrived =
      std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count() -
      20;
  resync.mutable_contacts(1)->mutable_arrived_at()->set_seconds(arrived);
  v1::ResyncResponse answer;
  ASSERT_TRUE(contacts->Resync(Deadline(10s).get(), resync, &answer).ok());
  ASSERT_EQ(answer.added_size(), 1) << answer.DebugString();
  ASSERT_EQ(answer.kept_size(), 1) << answer.DebugString();
  ASSERT_EQ(answer.ended_size(), 0) << answer.DebugString();
  second->Kill();
  after.context.TryCancel();

  auto [third, port3] = start("ccrouted-third");
  contacts = v1::Contacts::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + port3, grpc::InsecureChannelCredentials()));
  get.set_contact_id("rerouted-1");
  ASSERT_TRUE(contacts->GetContact(Deadline(10s).get(), get, &now).ok())
      << third->log();
  EXPECT_EQ(now.state(), v1::CONTACT_STATE_QUEUED);
  EXPECT_EQ(now.gateway_id(), "gw1");
  EXPECT_EQ(now.arrived_at().seconds(), arrived);
  EXPECT_EQ(now.position(), 1) << "ahead of the barrier contact";
  EXPECT_EQ(third->Stop(), 0);
}

}  // namespace
}  // namespace ccroute
