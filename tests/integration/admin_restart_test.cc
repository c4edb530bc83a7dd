// Administrators' changes over the Admin service, against a real server on
// a journal, across restarts: what was changed comes back, with the
// contacts waiting in an administrator's queue, until the configuration
// file changes the same item.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/test_server.h"
#include "tests/journal/journal_test_util.h"

namespace ccroute::testing {
namespace {

using ::testing::ElementsAre;

api::ResolvedConfig OnJournal(const std::string& dir,
                              std::vector<core::QueueConfig> queues) {
  api::ResolvedConfig config;
  config.listen = "127.0.0.1:0";
  config.queues = std::move(queues);
  config.agents = {Agent("ann")};
  config.journal.enabled = true;
  config.journal.data_dir = dir;
  config.journal.durability = "sync";
  return config;
}

core::QueueConfig WithTarget(std::string name, core::Duration target) {
  core::QueueConfig q = Queue(std::move(name));
  q.service_level_target = target;
  return q;
}

std::vector<std::string> QueueNames(TestServer& server) {
  v1::ListQueuesResponse response;
  EXPECT_TRUE(server.admin()->ListQueues(Deadline().get(), {}, &response).ok());
  std::vector<std::string> out;
  for (const v1::Queue& q : response.queues()) out.push_back(q.name());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> AgentIds(TestServer& server) {
  v1::ListAgentProfilesResponse response;
  EXPECT_TRUE(
      server.admin()->ListAgentProfiles(Deadline().get(), {}, &response).ok());
  std::vector<std::string> out;
  for (const v1::AgentProfile& a : response.agents()) out.push_back(a.id());
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<int64_t> TargetSeconds(TestServer& server,
                                     const std::string& queue) {
  v1::ListQueuesResponse response;
  EXPECT_TRUE(server.admin()->ListQueues(Deadline().get(), {}, &response).ok());
  for (const v1::Queue& q : response.queues()) {
    if (q.name() == queue) return q.service_level_target().seconds();
  }
  return std::nullopt;
}

v1::Contact Get(TestServer& server, const std::string& id) {
  v1::GetContactRequest r;
  r.set_contact_id(id);
  v1::Contact contact;
  grpc::Status s = server.contacts()->GetContact(Deadline().get(), r, &contact);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return contact;
}

TEST(AdminRestartTest, ChangesMadeOverTheApiSurviveARestart) {
  journal::testing::TempDir dir;
  api::ResolvedConfig file =
      OnJournal(dir.path(), {Queue("calls"), Queue("old")});
  {
    TestServer server(file);
    auto admin = server.admin();
    v1::Queue vip = api::ToProto(WithTarget("vip", 10s));
    v1::Queue reply;
    ASSERT_TRUE(admin->UpsertQueue(Deadline().get(), vip, &reply).ok());
    v1::Queue calls = api::ToProto(WithTarget("calls", 30s));
    ASSERT_TRUE(admin->UpsertQueue(Deadline().get(), calls, &reply).ok());
    v1::DeleteQueueRequest del;
    del.set_name("old");
    v1::DeleteQueueResponse deleted;
    ASSERT_TRUE(admin->DeleteQueue(Deadline().get(), del, &deleted).ok());
    v1::AgentProfile bob = api::ToProto(Agent("bob"));
    v1::AgentProfile bob_reply;
    ASSERT_TRUE(
        admin->UpsertAgentProfile(Deadline().get(), bob, &bob_reply).ok());
    v1::RoutingPolicy policy;
    v1::RoutingPolicy got;
    ASSERT_TRUE(admin->GetRoutingPolicy(Deadline().get(), {}, &policy).ok());
    policy.set_contact_selection("fifo");
    ASSERT_TRUE(admin->SetRoutingPolicy(Deadline().get(), policy, &got).ok());
    // A caller waiting in the administrator's queue.
    v1::Contact contact;
    ASSERT_TRUE(
        server.contacts()
            ->CreateContact(Deadline().get(), NewContact("c1", "vip"), &contact)
            .ok());
  }
  {
    TestServer server(file);
    EXPECT_THAT(QueueNames(server), ElementsAre("calls", "vip"));
    EXPECT_EQ(TargetSeconds(server, "vip"), 10);
    EXPECT_EQ(TargetSeconds(server, "calls"), 30);
    EXPECT_THAT(AgentIds(server), ElementsAre("ann", "bob"));
    v1::RoutingPolicy policy;
    ASSERT_TRUE(
        server.admin()->GetRoutingPolicy(Deadline().get(), {}, &policy).ok());
    EXPECT_EQ(policy.contact_selection(), "fifo");
    v1::Contact c1 = Get(server, "c1");
    EXPECT_EQ(c1.queue(), "vip");
    EXPECT_EQ(c1.state(), v1::CONTACT_STATE_QUEUED);
    ASSERT_TRUE(server.server().recovery().has_value());
    EXPECT_EQ(server.server().recovery()->refused_contacts, 0);
    EXPECT_TRUE(server.CheckInvariants().ok());
  }
  // The file now has vip with its own target, and calls as before: the
  // file wins for vip only; the caller stays in vip.
  api::ResolvedConfig edited = OnJournal(
      dir.path(), {Queue("calls"), Queue("old"), WithTarget("vip", 25s)});
  for (int start = 0; start < 2; ++start) {
    TestServer server(edited);
    EXPECT_THAT(QueueNames(server), ElementsAre("calls", "vip"));
    EXPECT_EQ(TargetSeconds(server, "vip"), 25);
    EXPECT_EQ(TargetSeconds(server, "calls"), 30);
    EXPECT_EQ(Get(server, "c1").queue(), "vip");
  }
}

TEST(AdminRestartTest, AnItemChangedBackToTheFileFollowsTheFileAgain) {
  journal::testing::TempDir dir;
  api::ResolvedConfig file = OnJournal(dir.path(), {Queue("calls")});
  {
    TestServer server(file);
    v1::Queue reply;
    ASSERT_TRUE(server.admin()
                    ->UpsertQueue(Deadline().get(),
                                  api::ToProto(WithTarget("calls", 30s)),
                                  &reply)
                    .ok());
    ASSERT_TRUE(server.admin()
                    ->UpsertQueue(Deadline().get(),
                                  api::ToProto(Queue("calls")), &reply)
                    .ok());
  }
  // No record is left for calls: an edit of the file takes effect.
  TestServer server(OnJournal(dir.path(), {WithTarget("calls", 45s)}));
  EXPECT_EQ(TargetSeconds(server, "calls"), 45);
}

}  // namespace
}  // namespace ccroute::testing
