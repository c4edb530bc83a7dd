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

// What the start made of the journaled changes, as {applied, adopted,
// superseded, failed}.
std::vector<int64_t> Replayed(TestServer& server) {
  const auto& replay = server.server().admin_changes();
  EXPECT_TRUE(replay.has_value());
  if (!replay.has_value()) return {};
  return {replay->applied, replay->adopted, replay->superseded, replay->failed};
}

grpc::Status UpsertQueue(TestServer& server, const core::QueueConfig& queue) {
  v1::Queue reply;
  return server.admin()->UpsertQueue(Deadline().get(), api::ToProto(queue),
                                     &reply);
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
    ASSERT_TRUE(UpsertQueue(server, WithTarget("vip", 10s)).ok());
    ASSERT_TRUE(UpsertQueue(server, WithTarget("calls", 30s)).ok());
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
    EXPECT_THAT(Replayed(server), ElementsAre(5, 0, 0, 0));
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
  // file wins for vip only, and vip's record goes at the first start; the
  // caller stays in vip.
  api::ResolvedConfig edited = OnJournal(
      dir.path(), {Queue("calls"), Queue("old"), WithTarget("vip", 25s)});
  for (int start = 0; start < 2; ++start) {
    TestServer server(edited);
    EXPECT_THAT(Replayed(server), ElementsAre(4, 0, start == 0 ? 1 : 0, 0));
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
    ASSERT_TRUE(UpsertQueue(server, WithTarget("calls", 30s)).ok());
    ASSERT_TRUE(UpsertQueue(server, Queue("calls")).ok());
  }
  // No record is left for calls: an edit of the file takes effect.
  TestServer server(OnJournal(dir.path(), {WithTarget("calls", 45s)}));
  EXPECT_THAT(Replayed(server), ElementsAre(0, 0, 0, 0));
  EXPECT_EQ(TargetSeconds(server, "calls"), 45);
}

TEST(AdminRestartTest, AChangeTheFileHasTakenInIsDroppedQuietly) {
  journal::testing::TempDir dir;
  {
    TestServer server(OnJournal(dir.path(), {Queue("calls")}));
    ASSERT_TRUE(UpsertQueue(server, WithTarget("calls", 30s)).ok());
    v1::DeleteAgentProfileRequest del;
    del.set_id("ann");
    v1::DeleteAgentProfileResponse deleted;
    ASSERT_TRUE(server.admin()
                    ->DeleteAgentProfile(Deadline().get(), del, &deleted)
                    .ok());
  }
  // The file now says what the administrator did: calls at 30 s, no ann.
  api::ResolvedConfig caught_up =
      OnJournal(dir.path(), {WithTarget("calls", 30s)});
  caught_up.agents.clear();
  for (int start = 0; start < 2; ++start) {
    TestServer server(caught_up);
    EXPECT_THAT(Replayed(server), ElementsAre(0, start == 0 ? 2 : 0, 0, 0));
    EXPECT_EQ(TargetSeconds(server, "calls"), 30);
    EXPECT_THAT(AgentIds(server), ElementsAre());
  }
}

TEST(AdminRestartTest, AFileItemDeletedAndMadeAgainComesBackAsMadeAgain) {
  journal::testing::TempDir dir;
  api::ResolvedConfig file = OnJournal(dir.path(), {Queue("calls")});
  {
    TestServer server(file);
    v1::DeleteQueueRequest del;
    del.set_name("calls");
    v1::DeleteQueueResponse deleted;
    ASSERT_TRUE(
        server.admin()->DeleteQueue(Deadline().get(), del, &deleted).ok());
    ASSERT_TRUE(UpsertQueue(server, WithTarget("calls", 30s)).ok());
  }
  TestServer server(file);
  EXPECT_THAT(Replayed(server), ElementsAre(1, 0, 0, 0));
  EXPECT_THAT(QueueNames(server), ElementsAre("calls"));
  EXPECT_EQ(TargetSeconds(server, "calls"), 30);
}

TEST(AdminRestartTest, AnAgentTheFileChangedSinceFollowsTheFile) {
  journal::testing::TempDir dir;
  api::ResolvedConfig file = OnJournal(dir.path(), {Queue("calls")});
  {
    TestServer server(file);
    v1::AgentProfile ann = api::ToProto(Agent("ann", 30s));
    v1::AgentProfile reply;
    ASSERT_TRUE(
        server.admin()->UpsertAgentProfile(Deadline().get(), ann, &reply).ok());
  }
  // Someone gave ann a 10 s wrap-up in the file meanwhile.
  api::ResolvedConfig edited = file;
  edited.agents = {Agent("ann", 10s)};
  TestServer server(edited);
  EXPECT_THAT(Replayed(server), ElementsAre(0, 0, 1, 0));
  v1::ListAgentProfilesResponse agents;
  ASSERT_TRUE(
      server.admin()->ListAgentProfiles(Deadline().get(), {}, &agents).ok());
  ASSERT_EQ(agents.agents_size(), 1);
  EXPECT_EQ(api::ToProto(Agent("ann", 10s)).SerializeAsString(),
            agents.agents(0).SerializeAsString());
}

TEST(AdminRestartTest, RefusedChangesLeaveNothingInTheJournal) {
  journal::testing::TempDir dir;
  api::ResolvedConfig file = OnJournal(dir.path(), {Queue("calls")});
  {
    TestServer server(file);
    auto admin = server.admin();
    v1::Contact contact;
    ASSERT_TRUE(server.contacts()
                    ->CreateContact(Deadline().get(), NewContact("c1", "calls"),
                                    &contact)
                    .ok());
    v1::Queue bad = api::ToProto(WithTarget("calls", 30s));
    bad.set_agent_selection("loudest");
    v1::Queue reply;
    EXPECT_EQ(admin->UpsertQueue(Deadline().get(), bad, &reply).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
    v1::Queue chat_only = api::ToProto(Queue("calls"));
    chat_only.clear_channels();
    chat_only.add_channels(v1::CHANNEL_CHAT);  // c1 is a call
    EXPECT_EQ(
        admin->UpsertQueue(Deadline().get(), chat_only, &reply).error_code(),
        grpc::StatusCode::FAILED_PRECONDITION);
    v1::DeleteQueueRequest del;
    del.set_name("calls");  // holds c1
    v1::DeleteQueueResponse deleted;
    EXPECT_EQ(admin->DeleteQueue(Deadline().get(), del, &deleted).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
    del.set_name("nowhere");
    EXPECT_EQ(admin->DeleteQueue(Deadline().get(), del, &deleted).error_code(),
              grpc::StatusCode::NOT_FOUND);
    v1::DeleteAgentProfileRequest gone;
    gone.set_id("nobody");
    v1::DeleteAgentProfileResponse gone_reply;
    EXPECT_EQ(admin->DeleteAgentProfile(Deadline().get(), gone, &gone_reply)
                  .error_code(),
              grpc::StatusCode::NOT_FOUND);
    v1::RoutingPolicy policy;
    ASSERT_TRUE(admin->GetRoutingPolicy(Deadline().get(), {}, &policy).ok());
    policy.set_contact_selection("loudest");
    v1::RoutingPolicy got;
    EXPECT_EQ(
        admin->SetRoutingPolicy(Deadline().get(), policy, &got).error_code(),
        grpc::StatusCode::INVALID_ARGUMENT);
  }
  TestServer server(file);
  EXPECT_THAT(Replayed(server), ElementsAre(0, 0, 0, 0));
  EXPECT_THAT(QueueNames(server), ElementsAre("calls"));
  EXPECT_EQ(TargetSeconds(server, "calls"), 20);  // the default
  EXPECT_EQ(Get(server, "c1").queue(), "calls");
}

}  // namespace
}  // namespace ccroute::testing
