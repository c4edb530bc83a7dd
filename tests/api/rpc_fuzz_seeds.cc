// Writes the seed corpus of the rpc_fuzz target into a directory: one input
// per method with an empty (all-default) request, so that every RPC is in
// the corpus, and a few valid conversations against the fuzz server's
// configuration (rpc_fuzz.cc: queues sales, support, general; agents a1,
// a2, a3): create, follow, offer, accept, complete, transfer, admin changes,
// another gateway's contact, denied callers.
//
// Usage: rpc_fuzz_seeds [--clean] DIR
// DIR is created if missing and its seed-* files are replaced; --clean
// first removes everything in it (a fresh corpus for the CI smoke run).
#include <google/protobuf/message.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "ccroute/v1/admin.pb.h"
#include "ccroute/v1/agents.pb.h"
#include "ccroute/v1/contacts.pb.h"
#include "ccroute/v1/supervisor.pb.h"
#include "tests/api/rpc_fuzz_input.h"

namespace {

namespace fuzz = ccroute::testing::rpc_fuzz;
namespace v1 = ccroute::v1;
using fuzz::Caller;
using fuzz::SeedCall;

SeedCall Unary(const std::string& method,
               const google::protobuf::Message& request,
               Caller caller = Caller::kOwnRole) {
  return {method, caller, false, {request.SerializeAsString()}};
}

SeedCall Stream(const std::string& method,
                const std::vector<google::protobuf::Message*>& requests,
                bool keep_open, Caller caller = Caller::kOwnRole) {
  SeedCall call{method, caller, keep_open, {}};
  for (const auto* r : requests)
    call.messages.push_back(r->SerializeAsString());
  return call;
}

SeedCall Watch(const std::string& method,
               const google::protobuf::Message& request, bool keep_open,
               Caller caller = Caller::kOwnRole) {
  return {method, caller, keep_open, {request.SerializeAsString()}};
}

const std::string kContacts = "/ccroute.v1.Contacts/";
const std::string kAgents = "/ccroute.v1.Agents/";
const std::string kSupervisor = "/ccroute.v1.Supervisor/";
const std::string kAdmin = "/ccroute.v1.Admin/";

v1::CreateContactRequest NewContact(const std::string& id,
                                    const std::string& queue,
                                    v1::Channel channel = v1::CHANNEL_VOICE) {
  v1::CreateContactRequest r;
  r.set_contact_id(id);
  r.set_queue(queue);
  r.set_channel(channel);
  return r;
}

template <typename T>
T WithId(const std::string& id) {
  T r;
  r.set_contact_id(id);
  return r;
}

v1::AgentRequest Login(const std::string& agent, bool ready, int n) {
  v1::AgentRequest r;
  r.set_request_id("r" + std::to_string(n));
  r.mutable_login()->set_agent_id(agent);
  r.mutable_login()->set_ready(ready);
  return r;
}

// An agent request acting on a contact: accept, reject, complete, end_wrap_up.
v1::AgentRequest Act(const std::string& action, const std::string& contact,
                     int n) {
  v1::AgentRequest r;
  r.set_request_id("r" + std::to_string(n));
  if (action == "accept") r.mutable_accept()->set_contact_id(contact);
  if (action == "reject") r.mutable_reject()->set_contact_id(contact);
  if (action == "complete") {
    r.mutable_complete()->set_contact_id(contact);
    r.mutable_complete()->set_wrap_up_code("done");
  }
  if (action == "end_wrap_up") r.mutable_end_wrap_up()->set_contact_id(contact);
  if (action == "transfer") {
    r.mutable_transfer()->set_contact_id(contact);
    r.mutable_transfer()->set_queue("general");
  }
  return r;
}

v1::AgentRequest Simple(const std::string& action, int n) {
  v1::AgentRequest r;
  r.set_request_id("r" + std::to_string(n));
  if (action == "ready") r.mutable_ready();
  if (action == "not_ready") r.mutable_not_ready()->set_reason("lunch");
  if (action == "logout") r.mutable_logout();
  if (action == "heartbeat") r.mutable_heartbeat();
  return r;
}

std::vector<std::pair<std::string, std::vector<SeedCall>>> Conversations() {
  std::vector<std::pair<std::string, std::vector<SeedCall>>> seeds;

  {
    v1::CreateContactRequest c1 = NewContact("c1", "sales");
    c1.set_priority(5);
    c1.set_customer_id("cust-1");
    (*c1.mutable_attributes())["lang"] = "de";
    v1::UpdateContactRequest update = WithId<v1::UpdateContactRequest>("c1");
    update.set_priority(9);
    update.set_replace_requirements(true);
    auto* req = update.add_requirements();
    req->set_skill("sales");
    req->set_min_level(5);
    v1::CancelContactRequest cancel = WithId<v1::CancelContactRequest>("c1");
    cancel.set_reason(v1::END_REASON_CANCELLED);
    seeds.push_back(
        {"create-update-cancel",
         {Unary(kContacts + "CreateContact", c1),
          Unary(kContacts + "CreateContact", c1),
          Unary(kContacts + "GetContact", WithId<v1::GetContactRequest>("c1")),
          Unary(kContacts + "UpdateContact", update),
          Unary(kContacts + "CancelContact", cancel),
          Unary(kContacts + "GetContact",
                WithId<v1::GetContactRequest>("c1"))}});
  }
  {
    v1::ScheduleCallbackRequest cb;
    cb.set_contact_id("cb1");
    cb.set_queue("support");
    cb.mutable_not_before()->set_seconds(1'900'000'000);
    cb.set_customer_id("cust-2");
    cb.set_preferred_agent("a2");
    cb.mutable_preferred_wait()->set_seconds(30);
    seeds.push_back({"callback",
                     {Unary(kContacts + "ScheduleCallback", cb),
                      Watch(kContacts + "WatchContact",
                            WithId<v1::WatchContactRequest>("cb1"), false),
                      Unary(kContacts + "CancelContact",
                            WithId<v1::CancelContactRequest>("cb1"))}});
  }
  {
    v1::WatchEventsRequest events;
    auto login = Login("a1", true, 1);
    auto accept = Act("accept", "c1", 2);
    auto complete = Act("complete", "c1", 3);
    auto end = Act("end_wrap_up", "c1", 4);
    auto not_ready = Simple("not_ready", 5);
    auto ready = Simple("ready", 6);
    auto logout = Simple("logout", 7);
    seeds.push_back(
        {"offer-accept-complete",
         {Unary(kContacts + "CreateContact", NewContact("c1", "sales")),
          Watch(kContacts + "WatchContact",
                WithId<v1::WatchContactRequest>("c1"), true),
          Watch(kSupervisor + "WatchEvents", events, true),
          Stream(
              kAgents + "Connect",
              {&login, &accept, &complete, &end, &not_ready, &ready, &logout},
              false)}});
  }
  {
    auto login = Login("a2", true, 1);
    auto accept = Act("accept", "c1", 2);
    auto transfer = Act("transfer", "c1", 3);
    auto heartbeat = Simple("heartbeat", 4);
    v1::SetAgentStateRequest state;
    state.set_agent_id("a2");
    state.set_state(v1::AGENT_STATE_NOT_READY);
    state.set_reason("coaching");
    v1::GetQueueStatsRequest stats;
    stats.set_queue("support");
    seeds.push_back(
        {"accept-transfer",
         {Unary(kContacts + "CreateContact", NewContact("c1", "support")),
          Unary(kContacts + "CreateContact",
                NewContact("c2", "general", v1::CHANNEL_CHAT)),
          Stream(kAgents + "Connect", {&login, &accept, &transfer, &heartbeat},
                 true, Caller::kAgentA2),
          Unary(kSupervisor + "SetAgentState", state),
          Unary(kSupervisor + "ListAgents", v1::ListAgentsRequest()),
          Unary(kSupervisor + "GetQueueStats", stats),
          Unary(kContacts + "GetContact", WithId<v1::GetContactRequest>("c1"),
                Caller::kAgentA2)}});
  }
  {
    auto login = Login("a1", true, 1);
    auto reject = Act("reject", "c1", 2);
    auto accept = Act("accept", "c2", 3);
    seeds.push_back(
        {"reject-drop",
         {Unary(kContacts + "CreateContact", NewContact("c1", "sales")),
          Unary(kContacts + "CreateContact",
                NewContact("c2", "sales", v1::CHANNEL_CHAT)),
          Stream(kAgents + "Connect", {&login, &reject, &accept}, true),
          Unary(kContacts + "CancelContact",
                WithId<v1::CancelContactRequest>("c2")),
          Unary(kContacts + "GetContact",
                WithId<v1::GetContactRequest>("c2"))}});
  }
  {
    v1::Queue vip;
    vip.set_name("vip");
    vip.add_channels(v1::CHANNEL_VOICE);
    vip.mutable_service_level_target()->set_seconds(10);
    vip.set_service_level_goal(0.9);
    auto* r = vip.add_requirements();
    r->set_skill("vip");
    r->set_min_level(4);
    auto* step = vip.add_escalation();
    step->mutable_after()->set_seconds(20);
    step->set_drop_contact_requirements(true);
    vip.set_max_waiting(2);
    vip.set_overflow_queue("general");
    vip.mutable_max_wait()->set_seconds(60);
    vip.set_agent_selection("most_skilled");
    vip.mutable_offer_timeout()->set_seconds(10);
    v1::AgentProfile a4;
    a4.set_id("a4");
    auto* skill = a4.add_skills();
    skill->set_name("vip");
    skill->set_level(6);
    a4.mutable_capacity()->set_voice(1);
    a4.mutable_capacity()->set_chat(2);
    a4.mutable_wrap_up()->mutable_voice()->set_seconds(5);
    v1::RoutingPolicy fifo;
    fifo.set_contact_selection("fifo");
    fifo.set_max_missed_offers(1);
    fifo.mutable_reoffer_delay()->set_seconds(5);
    v1::DeleteQueueRequest delete_queue;
    delete_queue.set_name("vip");
    v1::DeleteAgentProfileRequest delete_agent;
    delete_agent.set_id("a4");
    seeds.push_back(
        {"admin",
         {Unary(kAdmin + "UpsertQueue", vip),
          Unary(kAdmin + "UpsertAgentProfile", a4),
          Unary(kContacts + "CreateContact", NewContact("v1", "vip")),
          Unary(kAdmin + "ListQueues", v1::ListQueuesRequest()),
          Unary(kAdmin + "ListAgentProfiles", v1::ListAgentProfilesRequest()),
          Unary(kAdmin + "SetRoutingPolicy", fifo),
          Unary(kAdmin + "GetRoutingPolicy", v1::GetRoutingPolicyRequest()),
          Unary(kAdmin + "DeleteQueue", delete_queue),
          Unary(kContacts + "CancelContact",
                WithId<v1::CancelContactRequest>("v1")),
          Unary(kAdmin + "DeleteQueue", delete_queue),
          Unary(kAdmin + "DeleteAgentProfile", delete_agent)}});
  }
  {
    v1::WatchEventsRequest events;
    events.add_queues("sales");
    events.add_kinds("contact_queued");
    events.add_kinds("contact_ended");
    std::vector<SeedCall> calls = {
        Watch(kSupervisor + "WatchEvents", events, true),
        Unary(kSupervisor + "ListQueueStats", v1::ListQueueStatsRequest())};
    // sales takes 4; the rest overflow to general.
    for (int i = 1; i <= 6; ++i) {
      calls.push_back(Unary(kContacts + "CreateContact",
                            NewContact("c" + std::to_string(i), "sales")));
    }
    seeds.push_back({"overflow", std::move(calls)});
  }
  {
    seeds.push_back(
        {"gateways",
         {Unary(kContacts + "CreateContact", NewContact("c1", "general"),
                Caller::kGatewayA),
          Unary(kContacts + "GetContact", WithId<v1::GetContactRequest>("c1"),
                Caller::kGatewayB),
          Watch(kContacts + "WatchContact",
                WithId<v1::WatchContactRequest>("c1"), true, Caller::kGatewayB),
          Unary(kContacts + "CreateContact", NewContact("c1", "general"),
                Caller::kGatewayB),
          Unary(kContacts + "CancelContact",
                WithId<v1::CancelContactRequest>("c1"), Caller::kGatewayAny)}});
  }
  {
    auto login = Login("a2", true, 1);
    seeds.push_back(
        {"denied",
         {Unary(kContacts + "CreateContact", NewContact("c1", "sales"),
                Caller::kAgentA1),
          Unary(kContacts + "CreateContact", NewContact("c1", "sales"),
                Caller::kNoCredential),
          Unary(kAdmin + "ListQueues", v1::ListQueuesRequest(),
                Caller::kUnknownToken),
          Unary(kSupervisor + "ListAgents", v1::ListAgentsRequest(),
                Caller::kNotBearer),
          Stream(kAgents + "Connect", {&login}, false, Caller::kAgentA1)}});
  }
  {
    auto login = Login("a1", false, 1);
    seeds.push_back(
        {"garbage",
         {{kContacts + "CreateContact",
           Caller::kOwnRole,
           false,
           {std::string("\x0a\xff\xff\xff\xff\x0f", 6)}},
          {kAgents + "Connect",
           Caller::kOwnRole,
           false,
           {login.SerializeAsString(), std::string("\x12\x05", 2)}}}});
  }
  return seeds;
}

bool WriteFile(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  bool clean = argc == 3 && std::string(argv[1]) == "--clean";
  if (argc != 2 && !clean) {
    std::fprintf(stderr, "usage: %s [--clean] DIR\n", argv[0]);
    return 2;
  }
  std::filesystem::path dir = argv[argc - 1];
  std::error_code ec;
  if (clean) std::filesystem::remove_all(dir, ec);
  if (!ec) std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "%s: %s\n", dir.c_str(), ec.message().c_str());
    return 1;
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().starts_with("seed-")) {
      std::filesystem::remove(entry.path());
    }
  }
  int written = 0;
  for (const fuzz::RpcMethod& m : fuzz::RpcMethods()) {
    std::string name = m.path.substr(1);
    for (char& c : name) {
      if (c == '/' || c == '.') c = '-';
    }
    SeedCall call{m.path, Caller::kOwnRole, false, {}};
    if (!m.descriptor->client_streaming()) call.messages.emplace_back();
    if (!WriteFile(dir / ("seed-method-" + name), fuzz::EncodeCalls({call}))) {
      return 1;
    }
    written++;
  }
  for (const auto& [name, calls] : Conversations()) {
    if (!WriteFile(dir / ("seed-" + name), fuzz::EncodeCalls(calls))) return 1;
    written++;
  }
  std::printf("%d seeds in %s\n", written, dir.c_str());
  return 0;
}
