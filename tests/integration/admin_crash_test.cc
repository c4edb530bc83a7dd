// A queue an administrator made over the API survives a SIGKILL of
// ccrouted, with the caller waiting in it: before, the caller was ended as
// cancelled at the restart because the queue was gone.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "ccroute/v1/admin.grpc.pb.h"
#include "ccroute/v1/contacts.grpc.pb.h"
#include "tests/integration/ccrouted_process.h"
#include "tests/util/child_process.h"

namespace ccroute {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Deadline;

TEST(AdminCrashTest, AQueueMadeOverTheApiKeepsItsCallerAcrossAKill) {
  fs::path dir = fs::temp_directory_path() /
                 ("ccroute-admin-crash-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::path config = dir / "ccrouted.yaml";
  testing::WriteJournalConfig(config, dir / "data", "sync");
  {
    testing::ChildProcess server(testing::CcroutedArgs(config),
                                 (dir / "ccrouted-1.log").string());
    auto port = testing::WaitForPort(server);
    ASSERT_TRUE(port.has_value()) << server.log();
    auto channel = grpc::CreateChannel("127.0.0.1:" + *port,
                                       grpc::InsecureChannelCredentials());
    v1::Queue vip;
    vip.set_name("vip");
    vip.mutable_service_level_target()->set_seconds(10);
    v1::Queue reply;
    grpc::Status s = v1::Admin::NewStub(channel)->UpsertQueue(
        Deadline(10s).get(), vip, &reply);
    ASSERT_TRUE(s.ok()) << s.error_message();
    v1::CreateContactRequest r;
    r.set_contact_id("c1");
    r.set_queue("vip");
    r.set_channel(v1::CHANNEL_VOICE);
    v1::Contact c;
    s = v1::Contacts::NewStub(channel)->CreateContact(Deadline(10s).get(), r,
                                                      &c);
    ASSERT_TRUE(s.ok()) << s.error_message();
    server.Kill();
  }
  testing::ChildProcess server(testing::CcroutedArgs(config),
                               (dir / "ccrouted-2.log").string());
  auto port = testing::WaitForPort(server);
  ASSERT_TRUE(port.has_value()) << server.log();
  auto channel = grpc::CreateChannel("127.0.0.1:" + *port,
                                     grpc::InsecureChannelCredentials());
  v1::ListQueuesResponse queues;
  ASSERT_TRUE(v1::Admin::NewStub(channel)
                  ->ListQueues(Deadline(10s).get(), {}, &queues)
                  .ok());
  bool found = false;
  for (const v1::Queue& q : queues.queues()) {
    if (q.name() != "vip") continue;
    found = true;
    EXPECT_EQ(q.service_level_target().seconds(), 10);
  }
  EXPECT_TRUE(found) << server.log();
  v1::GetContactRequest get;
  get.set_contact_id("c1");
  v1::Contact c1;
  grpc::Status s =
      v1::Contacts::NewStub(channel)->GetContact(Deadline(10s).get(), get, &c1);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(c1.queue(), "vip");
  EXPECT_EQ(c1.state(), v1::CONTACT_STATE_QUEUED);
  std::string log = server.log();
  EXPECT_EQ(
      testing::LogNumber(log, "journal_recovered", "admin_changes_applied"), 1)
      << log;
  EXPECT_EQ(testing::LogNumber(log, "journal_recovered", "refused_contacts"),
            0);
  channel.reset();
  EXPECT_EQ(server.Stop(), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ccroute
