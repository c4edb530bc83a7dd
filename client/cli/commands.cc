// `ccroute queues`, `agents`, `contact`, `events`, `admin` and `health`.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <iostream>
#include <map>
#include <random>
#include <set>

#include "ccroute/v1/admin.grpc.pb.h"
#include "ccroute/v1/config.pb.h"
#include "ccroute/v1/contacts.grpc.pb.h"
#include "ccroute/v1/supervisor.grpc.pb.h"
#include "client/cli/cli.h"
#include "client/gateway_client.h"
#include "server/api/config_file.h"
#include "server/api/health_probe.h"

namespace ccroute::cli {
namespace {

using Duration = google::protobuf::Duration;

// The channel, or the exit code after reporting why there is none.
std::shared_ptr<grpc::Channel> OpenChannel(const Invocation& inv, int* exit) {
  auto channel = inv.connection.NewChannel();
  if (!channel.ok()) {
    std::cerr << "ccroute: " << channel.status().message() << "\n";
    *exit = kExitUsage;
    return nullptr;
  }
  return *channel;
}

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

std::string DurationCell(const Duration& d, bool present = true) {
  if (!present) return "-";
  return FormatDuration(ToMillis(d));
}

// key value lines, the keys padded to one column.
void PrintFields(const std::vector<std::pair<std::string, std::string>>& rows) {
  size_t width = 0;
  for (const auto& [k, v] : rows) width = std::max(width, k.size());
  for (const auto& [k, v] : rows) {
    std::cout << k << std::string(width - k.size() + 2, ' ') << v << "\n";
  }
}

std::string Requirements(
    const google::protobuf::RepeatedPtrField<v1::SkillRequirement>& reqs) {
  std::string out;
  for (const auto& r : reqs) {
    if (!out.empty()) out += ",";
    out += r.skill() + ">=" + std::to_string(r.min_level());
  }
  return out;
}

void PrintContact(const v1::Contact& c) {
  std::vector<std::pair<std::string, std::string>> rows = {
      {"id", c.id()},
      {"queue", c.queue()},
      {"channel", ChannelName(c.channel())},
      {"priority", std::to_string(c.priority())},
      {"state", ContactStateName(c.state())},
  };
  if (c.state() == v1::CONTACT_STATE_ENDED) {
    rows.emplace_back("end_reason", EndReasonName(c.end_reason()));
  }
  if (!c.agent_id().empty()) rows.emplace_back("agent", c.agent_id());
  if (c.position() > 0) {
    rows.emplace_back("position", std::to_string(c.position()));
  }
  if (c.has_estimated_wait()) {
    rows.emplace_back("estimated_wait", DurationCell(c.estimated_wait()));
  }
  if (c.has_arrived_at()) {
    rows.emplace_back("arrived_at", FormatClock(c.arrived_at()));
  }
  if (c.has_offer_deadline()) {
    rows.emplace_back("offer_deadline", FormatClock(c.offer_deadline()));
  }
  if (c.escalation_step() > 0) {
    rows.emplace_back("escalation_step", std::to_string(c.escalation_step()));
  }
  if (!c.requirements().empty()) {
    rows.emplace_back("requirements", Requirements(c.requirements()));
  }
  if (!c.customer_id().empty()) rows.emplace_back("customer", c.customer_id());
  std::map<std::string, std::string> attributes(c.attributes().begin(),
                                                c.attributes().end());
  for (const auto& [k, v] : attributes) rows.emplace_back("attr." + k, v);
  PrintFields(rows);
}

// --- queues -----------------------------------------------------------

constexpr const char* kQueuesHelp = R"(Usage: ccroute queues [NAME] [--json]

Lists every queue with its live statistics; with NAME, one queue in full.
Columns: waiting and offered contacts, the oldest wait, the service level
over the statistics window against its target, answered and abandoned
counts, average speed of answer and handle time, the estimated wait of a
new contact, and the ready agents who can take the queue's contacts.
)";

void AddQueueRow(Table& table, const v1::QueueStats& q) {
  table.AddRow(
      {q.queue(), std::to_string(q.waiting()), std::to_string(q.offered()),
       DurationCell(q.oldest_wait(), q.waiting() > 0),
       q.has_service_level() ? FormatPercent(q.service_level()) : "-",
       DurationCell(q.service_level_target()),
       FormatPercent(q.service_level_goal()), std::to_string(q.answered()),
       std::to_string(q.abandoned()),
       DurationCell(q.average_speed_of_answer(), q.window_answered() > 0),
       DurationCell(q.average_handle_time()),
       DurationCell(q.estimated_wait(), q.has_estimated_wait()),
       std::to_string(q.agents_ready())});
}

Table QueueTable() {
  return Table({"QUEUE", "WAITING", "OFFERED", "OLDEST", "SL", "TARGET", "GOAL",
                "ANSWERED", "ABANDONED", "ASA", "AHT", "EWT", "READY"});
}

}  // namespace

int RunQueues(Invocation& inv) {
  if (inv.args.Has("help")) {
    std::cout << kQueuesHelp;
    return kExitOk;
  }
  if (auto s = inv.args.CheckKnown({}); !s.ok()) {
    return UsageError("queues", std::string(s.message()));
  }
  if (inv.args.words().size() > 2) {
    return UsageError("queues", "at most one queue name");
  }
  int exit = kExitOk;
  auto channel = OpenChannel(inv, &exit);
  if (!channel) return exit;
  auto stub = v1::Supervisor::NewStub(channel);
  grpc::ClientContext context;
  inv.connection.Prepare(context);
  if (inv.args.words().size() == 2) {
    v1::GetQueueStatsRequest request;
    request.set_queue(inv.args.words()[1]);
    v1::QueueStats stats;
    grpc::Status status = stub->GetQueueStats(&context, request, &stats);
    if (!status.ok()) return ReportError("queues", status);
    if (inv.json) {
      std::cout << ToJson(stats) << "\n";
      return kExitOk;
    }
    PrintFields({
        {"queue", stats.queue()},
        {"waiting", std::to_string(stats.waiting())},
        {"offered", std::to_string(stats.offered())},
        {"scheduled", std::to_string(stats.scheduled())},
        {"oldest_wait", DurationCell(stats.oldest_wait())},
        {"service_level", stats.has_service_level()
                              ? FormatPercent(stats.service_level())
                              : "-"},
        {"target", DurationCell(stats.service_level_target()) + " (goal " +
                       FormatPercent(stats.service_level_goal()) + ")"},
        {"asa", DurationCell(stats.average_speed_of_answer())},
        {"aht", DurationCell(stats.average_handle_time())},
        {"estimated_wait",
         DurationCell(stats.estimated_wait(), stats.has_estimated_wait())},
        {"agents_ready", std::to_string(stats.agents_ready())},
        {"created", std::to_string(stats.created())},
        {"answered", std::to_string(stats.answered())},
        {"abandoned", std::to_string(stats.abandoned())},
        {"cancelled", std::to_string(stats.cancelled())},
        {"expired", std::to_string(stats.expired())},
        {"completed", std::to_string(stats.completed())},
        {"refused", std::to_string(stats.refused())},
        {"overflowed", std::to_string(stats.overflowed())},
        {"transferred_in", std::to_string(stats.transferred_in())},
        {"offers", std::to_string(stats.offers())},
        {"offers_accepted", std::to_string(stats.offers_accepted())},
        {"offers_rejected", std::to_string(stats.offers_rejected())},
        {"offers_timed_out", std::to_string(stats.offers_timed_out())},
        {"offers_rescinded", std::to_string(stats.offers_rescinded())},
    });
    return kExitOk;
  }
  v1::ListQueueStatsResponse response;
  grpc::Status status =
      stub->ListQueueStats(&context, v1::ListQueueStatsRequest(), &response);
  if (!status.ok()) return ReportError("queues", status);
  if (inv.json) {
    std::cout << ToJson(response) << "\n";
    return kExitOk;
  }
  Table table = QueueTable();
  for (const auto& q : response.queues()) AddQueueRow(table, q);
  std::cout << table.Render();
  return kExitOk;
}

// --- agents -----------------------------------------------------------

namespace {

constexpr const char* kAgentsHelp =
    R"(Usage: ccroute agents [--state STATE] [--json]

Lists every agent profile with its live state: READY, NOT_READY (with the
reason) or OFFLINE, time in that state, load per channel, the open offer,
assigned contacts, contacts handled, missed offers, occupancy over the
statistics window, and whether a desktop is connected.

  --state STATE   only agents in STATE (ready, not_ready, offline)
)";

std::string LoadCell(const v1::AgentStats& a) {
  std::map<std::string, int> load(a.load().begin(), a.load().end());
  std::string out;
  for (const auto& [channel, n] : load) {
    if (n == 0) continue;
    if (!out.empty()) out += ",";
    out += channel + ":" + std::to_string(n);
  }
  return OrDash(out);
}

}  // namespace

int RunAgents(Invocation& inv) {
  if (inv.args.Has("help")) {
    std::cout << kAgentsHelp;
    return kExitOk;
  }
  if (auto s = inv.args.CheckKnown({"state"}); !s.ok()) {
    return UsageError("agents", std::string(s.message()));
  }
  if (inv.args.words().size() > 1) {
    return UsageError("agents",
                      "unexpected argument '" + inv.args.words()[1] + "'");
  }
  std::optional<int> state;
  if (inv.args.Has("state")) {
    state = ParseAgentState(inv.args.Get("state"));
    if (!state) {
      return UsageError("agents", "--state: unknown agent state '" +
                                      inv.args.Get("state") +
                                      "' (ready, not_ready, offline)");
    }
  }
  int exit = kExitOk;
  auto channel = OpenChannel(inv, &exit);
  if (!channel) return exit;
  auto stub = v1::Supervisor::NewStub(channel);
  grpc::ClientContext context;
  inv.connection.Prepare(context);
  v1::ListAgentsResponse response;
  grpc::Status status =
      stub->ListAgents(&context, v1::ListAgentsRequest(), &response);
  if (!status.ok()) return ReportError("agents", status);
  if (state) {
    auto* agents = response.mutable_agents();
    agents->erase(std::remove_if(agents->begin(), agents->end(),
                                 [&](const v1::AgentStats& a) {
                                   return a.state() != *state;
                                 }),
                  agents->end());
  }
  if (inv.json) {
    std::cout << ToJson(response) << "\n";
    return kExitOk;
  }
  Table table({"AGENT", "STATE", "REASON", "IN STATE", "LOAD", "OFFERED",
               "CONTACTS", "HANDLED", "MISSED", "OCCUPANCY", "DESKTOP"});
  for (const auto& a : response.agents()) {
    std::string contacts;
    for (const auto& c : a.contacts()) {
      contacts += (contacts.empty() ? "" : ",") + c;
    }
    table.AddRow({a.agent_id(), AgentStateName(a.state()), OrDash(a.reason()),
                  DurationCell(a.time_in_state()), LoadCell(a),
                  OrDash(a.offered_contact()), OrDash(contacts),
                  std::to_string(a.handled()),
                  std::to_string(a.missed_offers()),
                  a.has_occupancy() ? FormatPercent(a.occupancy()) : "-",
                  a.connected() ? "connected" : "-"});
  }
  std::cout << table.Render();
  return kExitOk;
}

// --- contact ----------------------------------------------------------

namespace {

constexpr const char* kContactHelp = R"(Usage:
  ccroute contact create --queue NAME [options]
  ccroute contact get ID
  ccroute contact cancel ID [--reason abandoned|cancelled]
  ccroute contact update ID [--priority N] [--skill NAME:LEVEL ...]
  ccroute contact watch ID

create queues a contact, as a gateway does, and prints it with its place
and estimated wait. The call is retried on UNAVAILABLE with the same id,
so it never queues the caller twice.
  --queue NAME            the queue (required)
  --id ID                 the contact id (default: a new unique one)
  --channel CHANNEL       voice (default), chat, email, callback, task
  --priority N            higher is answered first (default 0)
  --skill NAME:LEVEL      a required skill at a minimum level (repeatable)
  --customer ID           the customer id
  --preferred-agent ID    offer to this agent first ...
  --preferred-wait SECS   ... for this long
  --attr KEY=VALUE        an attribute (repeatable)
  --callback-in SECS      a callback routed from SECS seconds from now
  --watch                 then follow it until it ends, like `watch`

cancel ends a waiting or offered contact (default reason abandoned: the
caller hung up). update changes a waiting contact's priority or, with
--skill, replaces its requirements. watch prints each change (position,
offer, assignment, wrap-up) until the contact ends.
)";

std::string NewContactId() {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd());
  char buf[40];
  std::snprintf(buf, sizeof buf, "cli-%lld-%06llx",
                static_cast<long long>(std::time(nullptr)),
                static_cast<unsigned long long>(rng() & 0xffffff));
  return buf;
}

absl::Status ParseSkills(
    const Args& args,
    google::protobuf::RepeatedPtrField<v1::SkillRequirement>* out) {
  for (const std::string& s : args.GetAll("skill")) {
    auto colon = s.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      return absl::InvalidArgumentError("--skill: '" + s +
                                        "' is not NAME:LEVEL");
    }
    int level = 0;
    try {
      size_t used = 0;
      level = std::stoi(s.substr(colon + 1), &used);
      if (used != s.size() - colon - 1) level = -1;
    } catch (const std::exception&) {
      level = -1;
    }
    if (level < 0) {
      return absl::InvalidArgumentError("--skill: '" + s +
                                        "' has no numeric level");
    }
    auto* r = out->Add();
    r->set_skill(s.substr(0, colon));
    r->set_min_level(level);
  }
  return absl::OkStatus();
}

// Prints one ContactUpdate line; returns true once the contact has ended.
bool PrintUpdate(const v1::ContactUpdate& update, bool json) {
  const v1::Contact& c = update.contact();
  if (json) {
    std::cout << ToJson(update) << std::endl;
  } else {
    auto now = std::chrono::system_clock::now().time_since_epoch();
    google::protobuf::Timestamp t;
    t.set_seconds(
        std::chrono::duration_cast<std::chrono::seconds>(now).count());
    t.set_nanos(static_cast<int>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now).count() %
        1'000'000'000));
    std::string line = FormatClock(t) + "  " + update.change() +
                       "  state=" + ContactStateName(c.state());
    if (c.position() > 0) line += " position=" + std::to_string(c.position());
    if (c.has_estimated_wait()) {
      line += " ewt=" + DurationCell(c.estimated_wait());
    }
    if (!c.agent_id().empty()) line += " agent=" + c.agent_id();
    if (c.state() == v1::CONTACT_STATE_ENDED) {
      line += " reason=" + EndReasonName(c.end_reason());
    }
    std::cout << line << std::endl;
  }
  return c.state() == v1::CONTACT_STATE_ENDED;
}

int WatchContact(const Invocation& inv, v1::Contacts::Stub& stub,
                 const std::string& id) {
  grpc::ClientContext context;
  v1::WatchContactRequest request;
  request.set_contact_id(id);
  auto reader = stub.WatchContact(&context, request);
  v1::ContactUpdate update;
  while (reader->Read(&update)) {
    if (PrintUpdate(update, inv.json)) {
      context.TryCancel();
      break;
    }
  }
  grpc::Status status = reader->Finish();
  if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
    return ReportError("contact watch", status);
  }
  return kExitOk;
}

int ContactCreate(Invocation& inv, std::shared_ptr<grpc::Channel> channel) {
  const Args& a = inv.args;
  if (!a.Has("queue")) return UsageError("contact", "create needs --queue");
  v1::CreateContactRequest request;
  request.set_contact_id(a.Get("id", NewContactId()));
  request.set_queue(a.Get("queue"));
  auto channel_kind = ParseChannel(a.Get("channel", "voice"));
  if (!channel_kind) {
    return UsageError("contact", "--channel: unknown channel '" +
                                     a.Get("channel") +
                                     "' (voice, chat, email, callback, task)");
  }
  request.set_channel(static_cast<v1::Channel>(*channel_kind));
  auto priority = a.GetInt("priority", 0);
  auto preferred_wait = a.GetDouble("preferred-wait", 0);
  auto callback_in = a.GetDouble("callback-in", 0);
  for (const auto* s :
       {&priority.status(), &preferred_wait.status(), &callback_in.status()}) {
    if (!s->ok()) return UsageError("contact", std::string(s->message()));
  }
  request.set_priority(static_cast<int32_t>(*priority));
  if (auto s = ParseSkills(a, request.mutable_requirements()); !s.ok()) {
    return UsageError("contact", std::string(s.message()));
  }
  request.set_customer_id(a.Get("customer"));
  request.set_preferred_agent(a.Get("preferred-agent"));
  if (*preferred_wait > 0) {
    auto ms = static_cast<long long>(*preferred_wait * 1000);
    request.mutable_preferred_wait()->set_seconds(ms / 1000);
    request.mutable_preferred_wait()->set_nanos((ms % 1000) * 1'000'000);
  }
  for (const std::string& kv : a.GetAll("attr")) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return UsageError("contact", "--attr: '" + kv + "' is not KEY=VALUE");
    }
    (*request.mutable_attributes())[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  client::GatewayOptions options;
  options.deadline = inv.connection.timeout;
  options.max_attempts = 3;
  client::GatewayClient gateway(channel, options);
  v1::Contact contact;
  grpc::Status status;
  if (a.Has("callback-in")) {
    v1::ScheduleCallbackRequest callback;
    callback.set_contact_id(request.contact_id());
    callback.set_queue(request.queue());
    callback.set_priority(request.priority());
    *callback.mutable_requirements() = request.requirements();
    callback.set_customer_id(request.customer_id());
    callback.set_preferred_agent(request.preferred_agent());
    *callback.mutable_preferred_wait() = request.preferred_wait();
    *callback.mutable_attributes() = request.attributes();
    auto at =
        std::chrono::system_clock::now() +
        std::chrono::milliseconds(static_cast<long long>(*callback_in * 1000));
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  at.time_since_epoch())
                  .count();
    callback.mutable_not_before()->set_seconds(ns / 1'000'000'000);
    callback.mutable_not_before()->set_nanos(ns % 1'000'000'000);
    status = gateway.ScheduleCallback(callback, &contact);
  } else {
    status = gateway.CreateContact(request, &contact);
  }
  if (!status.ok()) return ReportError("contact create", status);
  if (inv.json) {
    std::cout << ToJson(contact) << std::endl;
  } else {
    if (!contact.created()) {
      std::cout << "(a contact with this id already existed)\n";
    }
    PrintContact(contact);
  }
  if (a.Has("watch")) {
    auto stub = v1::Contacts::NewStub(channel);
    return WatchContact(inv, *stub, contact.id());
  }
  return kExitOk;
}

}  // namespace

int RunContact(Invocation& inv) {
  const auto& words = inv.args.words();
  if (auto exit = HelpOrMissingCommand(inv, kContactHelp)) return *exit;
  const std::string& verb = words[1];
  std::vector<std::string> known;
  if (verb == "create") {
    known = {
        "queue",         "id",   "channel",     "priority", "skill",
        "customer",      "attr", "callback-in", "watch",    "preferred-agent",
        "preferred-wait"};
  } else if (verb == "cancel") {
    known = {"reason"};
  } else if (verb == "update") {
    known = {"priority", "skill"};
  } else if (verb != "get" && verb != "watch") {
    return UsageError("contact", "unknown contact command '" + verb +
                                     "' (create, get, cancel, update, watch)");
  }
  if (auto s = inv.args.CheckKnown(known); !s.ok()) {
    return UsageError("contact", std::string(s.message()));
  }
  if (verb == "create" && words.size() > 2) {
    return UsageError("contact", "unexpected argument '" + words[2] + "'");
  }
  if (verb != "create" && words.size() != 3) {
    return UsageError("contact", verb + " needs exactly one contact id");
  }
  int exit = kExitOk;
  auto channel = OpenChannel(inv, &exit);
  if (!channel) return exit;
  if (verb == "create") return ContactCreate(inv, channel);

  const std::string& id = words[2];
  auto stub = v1::Contacts::NewStub(channel);
  if (verb == "watch") return WatchContact(inv, *stub, id);
  v1::Contact contact;
  grpc::Status status;
  grpc::ClientContext context;
  inv.connection.Prepare(context);
  if (verb == "get") {
    v1::GetContactRequest request;
    request.set_contact_id(id);
    status = stub->GetContact(&context, request, &contact);
  } else if (verb == "cancel") {
    v1::CancelContactRequest request;
    request.set_contact_id(id);
    auto reason = ParseEndReason(inv.args.Get("reason", "abandoned"));
    if (!reason || (*reason != v1::END_REASON_ABANDONED &&
                    *reason != v1::END_REASON_CANCELLED)) {
      return UsageError("contact", "--reason: '" + inv.args.Get("reason") +
                                       "' is not abandoned or cancelled");
    }
    request.set_reason(static_cast<v1::EndReason>(*reason));
    status = stub->CancelContact(&context, request, &contact);
  } else {
    v1::UpdateContactRequest request;
    request.set_contact_id(id);
    auto priority = inv.args.GetInt("priority", 0);
    if (!priority.ok()) {
      return UsageError("contact", std::string(priority.status().message()));
    }
    if (inv.args.Has("priority")) {
      request.set_priority(static_cast<int32_t>(*priority));
    }
    if (inv.args.Has("skill")) {
      request.set_replace_requirements(true);
      if (auto s = ParseSkills(inv.args, request.mutable_requirements());
          !s.ok()) {
        return UsageError("contact", std::string(s.message()));
      }
    }
    if (!inv.args.Has("priority") && !inv.args.Has("skill")) {
      return UsageError("contact", "update needs --priority or --skill");
    }
    status = stub->UpdateContact(&context, request, &contact);
  }
  if (!status.ok()) return ReportError("contact " + verb, status);
  if (inv.json) {
    std::cout << ToJson(contact) << "\n";
  } else {
    PrintContact(contact);
  }
  return kExitOk;
}

// --- events -----------------------------------------------------------

namespace {

constexpr const char* kEventsHelp =
    R"(Usage: ccroute events [--queue NAME ...] [--agent ID ...] [--kind KIND ...]
                      [--count N] [--json]

Follows the supervisor event stream: one line per event as it happens,
until interrupted or after --count events. Filters repeat; each matches
any of its values. Kinds: contact_created, contact_queued, contact_offered,
contact_assigned, contact_requeued, contact_escalated, contact_overflowed,
contact_transferred, contact_ended, offer_rejected, offer_timed_out,
offer_withdrawn, wrap_up_started, wrap_up_ended, agent_state_changed, ...
)";

std::string EventLine(const v1::Event& e) {
  std::string line = FormatClock(e.at()) + "  " + e.kind();
  auto field = [&](const char* name, const std::string& value) {
    if (!value.empty()) line += std::string("  ") + name + "=" + value;
  };
  field("contact", e.contact_id());
  field("agent", e.agent_id());
  field("queue", e.queue());
  field("from", e.from_queue());
  if (e.channel() != v1::CHANNEL_UNSPECIFIED) {
    field("channel", ChannelName(e.channel()));
  }
  if (e.priority() != 0) field("priority", std::to_string(e.priority()));
  if (e.escalation_step() != 0) {
    field("step", std::to_string(e.escalation_step()));
  }
  if (e.end_reason() != v1::END_REASON_UNSPECIFIED) {
    field("reason", EndReasonName(e.end_reason()));
  }
  if (e.agent_state() != v1::AGENT_STATE_UNSPECIFIED) {
    field("state", AgentStateName(e.agent_state()));
  }
  field("why", e.reason());
  if (e.has_wait()) {
    field("wait", DurationCell(e.wait()));
    if (e.kind() == "contact_assigned") {
      field("within_target", e.within_target() ? "yes" : "no");
    }
  }
  if (e.dropped_before() > 0) {
    field("dropped_before", std::to_string(e.dropped_before()));
  }
  return line;
}

}  // namespace

int RunEvents(Invocation& inv) {
  if (inv.args.Has("help")) {
    std::cout << kEventsHelp;
    return kExitOk;
  }
  if (auto s = inv.args.CheckKnown({"queue", "agent", "kind", "count"});
      !s.ok()) {
    return UsageError("events", std::string(s.message()));
  }
  if (inv.args.words().size() > 1) {
    return UsageError("events",
                      "unexpected argument '" + inv.args.words()[1] + "'");
  }
  auto count = inv.args.GetInt("count", 0);
  if (!count.ok() || *count < 0) {
    return UsageError("events", "--count must be a non-negative integer");
  }
  int exit = kExitOk;
  auto channel = OpenChannel(inv, &exit);
  if (!channel) return exit;
  auto stub = v1::Supervisor::NewStub(channel);
  v1::WatchEventsRequest request;
  for (const auto& q : inv.args.GetAll("queue")) request.add_queues(q);
  for (const auto& a : inv.args.GetAll("agent")) request.add_agents(a);
  for (const auto& k : inv.args.GetAll("kind")) request.add_kinds(k);
  grpc::ClientContext context;
  auto reader = stub->WatchEvents(&context, request);
  v1::Event event;
  long long seen = 0;
  while (reader->Read(&event)) {
    std::cout << (inv.json ? ToJson(event) : EventLine(event)) << std::endl;
    if (*count > 0 && ++seen >= *count) {
      context.TryCancel();
      break;
    }
  }
  grpc::Status status = reader->Finish();
  if (*count > 0 && seen >= *count) return kExitOk;
  if (!status.ok()) return ReportError("events", status);
  return kExitOk;
}

// --- admin ------------------------------------------------------------

namespace {

constexpr const char* kAdminHelp = R"(Usage:
  ccroute admin apply FILE [--prune] [--dry-run]
  ccroute admin export
  ccroute admin set-state AGENT ready|not_ready|offline [--reason TEXT]
  ccroute admin delete-queue NAME
  ccroute admin delete-agent ID

apply reads a configuration file (YAML or JSON, the format of ccrouted's
--config), checks all of it first as ccrouted would, then creates or
updates its queues and agent profiles and sets its routing policy on the
running server. Server settings (listen addresses, limits) need a restart
and are left alone. With --prune, queues and agent profiles the file does
not name are deleted. --dry-run prints what would change and sends nothing.

export prints the server's queues, agent profiles and routing policy as a
JSON configuration that `admin apply` accepts.

set-state forces an agent READY, NOT_READY (with --reason) or OFFLINE, as a
supervisor does; OFFLINE sends the agent's assigned contacts back to
their queues.
)";

// Queues in an order where every overflow or max-wait target comes before
// the queues that name it, when it is not on the server already.
std::vector<v1::Queue> QueueApplyOrder(std::vector<v1::Queue> queues,
                                       std::set<std::string> existing) {
  std::vector<v1::Queue> out;
  while (!queues.empty()) {
    bool progress = false;
    for (auto it = queues.begin(); it != queues.end();) {
      auto ready = [&](const std::string& target) {
        return target.empty() || existing.count(target) > 0;
      };
      if (ready(it->overflow_queue()) && ready(it->max_wait_queue())) {
        existing.insert(it->name());
        out.push_back(std::move(*it));
        it = queues.erase(it);
        progress = true;
      } else {
        ++it;
      }
    }
    // A cycle of targets: take the rest as they are; the server checks.
    if (!progress) {
      for (auto& q : queues) out.push_back(std::move(q));
      break;
    }
  }
  return out;
}

int AdminApply(Invocation& inv, v1::Admin::Stub& stub) {
  const auto& words = inv.args.words();
  if (words.size() != 3) return UsageError("admin", "apply needs one FILE");
  auto file = api::LoadServerConfigFile(words[2]);
  if (!file.ok()) {
    std::cerr << "ccroute: " << file.status().message() << "\n";
    return kExitUsage;
  }
  // Only what apply sends is checked, so that server-only settings (paths
  // on the server's machine) cannot fail a check here.
  v1::ServerConfig config;
  *config.mutable_queues() = file->queues();
  *config.mutable_agents() = file->agents();
  if (file->has_routing()) *config.mutable_routing() = file->routing();
  if (auto resolved = api::ResolveServerConfig(config); !resolved.ok()) {
    std::cerr << "ccroute: " << words[2] << ": " << resolved.status().message()
              << "\n";
    return kExitUsage;
  }

  v1::ListQueuesResponse queues_now;
  v1::ListAgentProfilesResponse agents_now;
  {
    grpc::ClientContext context;
    inv.connection.Prepare(context);
    auto s = stub.ListQueues(&context, v1::ListQueuesRequest(), &queues_now);
    if (!s.ok()) return ReportError("admin apply", s);
  }
  {
    grpc::ClientContext context;
    inv.connection.Prepare(context);
    auto s = stub.ListAgentProfiles(&context, v1::ListAgentProfilesRequest(),
                                    &agents_now);
    if (!s.ok()) return ReportError("admin apply", s);
  }
  std::set<std::string> server_queues, server_agents, file_queues, file_agents;
  for (const auto& q : queues_now.queues()) server_queues.insert(q.name());
  for (const auto& a : agents_now.agents()) server_agents.insert(a.id());
  for (const auto& q : config.queues()) file_queues.insert(q.name());
  for (const auto& a : config.agents()) file_agents.insert(a.id());

  struct Change {
    std::string kind, name, action;
  };
  std::vector<Change> plan;
  auto ordered = QueueApplyOrder(
      std::vector<v1::Queue>(config.queues().begin(), config.queues().end()),
      server_queues);
  for (const auto& q : ordered) {
    plan.push_back({"queue", q.name(),
                    server_queues.count(q.name()) ? "update" : "create"});
  }
  for (const auto& a : config.agents()) {
    plan.push_back(
        {"agent", a.id(), server_agents.count(a.id()) ? "update" : "create"});
  }
  if (config.has_routing()) plan.push_back({"routing", "policy", "set"});
  if (inv.args.Has("prune")) {
    for (const auto& id : server_agents) {
      if (!file_agents.count(id)) plan.push_back({"agent", id, "delete"});
    }
    for (const auto& name : server_queues) {
      if (!file_queues.count(name)) plan.push_back({"queue", name, "delete"});
    }
  }

  bool dry_run = inv.args.Has("dry-run");
  int failures = 0;
  int last_exit = kExitOk;
  google::protobuf::Struct report;
  auto* changes = (*report.mutable_fields())["changes"].mutable_list_value();
  for (size_t i = 0; i < plan.size(); ++i) {
    const Change& c = plan[i];
    grpc::Status status;
    if (!dry_run) {
      grpc::ClientContext context;
      inv.connection.Prepare(context);
      if (c.kind == "queue" && c.action != "delete") {
        auto it =
            std::find_if(ordered.begin(), ordered.end(),
                         [&](const auto& q) { return q.name() == c.name; });
        v1::Queue out;
        status = stub.UpsertQueue(&context, *it, &out);
      } else if (c.kind == "agent" && c.action != "delete") {
        auto it = std::find_if(config.agents().begin(), config.agents().end(),
                               [&](const auto& a) { return a.id() == c.name; });
        v1::AgentProfile out;
        status = stub.UpsertAgentProfile(&context, *it, &out);
      } else if (c.kind == "routing") {
        v1::RoutingPolicy out;
        status = stub.SetRoutingPolicy(&context, config.routing(), &out);
      } else if (c.kind == "agent") {
        v1::DeleteAgentProfileRequest request;
        request.set_id(c.name);
        v1::DeleteAgentProfileResponse out;
        status = stub.DeleteAgentProfile(&context, request, &out);
      } else {
        v1::DeleteQueueRequest request;
        request.set_name(c.name);
        v1::DeleteQueueResponse out;
        status = stub.DeleteQueue(&context, request, &out);
      }
    }
    std::string result = dry_run ? "planned" : status.ok() ? "done" : "failed";
    if (!status.ok()) {
      ++failures;
      last_exit = ReportError(
          "admin apply: " + c.kind + " " + c.name + ": " + c.action, status);
    }
    if (inv.json) {
      auto* fields =
          changes->add_values()->mutable_struct_value()->mutable_fields();
      (*fields)["kind"].set_string_value(c.kind);
      (*fields)["name"].set_string_value(c.name);
      (*fields)["action"].set_string_value(c.action);
      (*fields)["result"].set_string_value(result);
    } else {
      std::cout << c.action << " " << c.kind << " " << c.name
                << (dry_run       ? " (dry run)"
                    : status.ok() ? ""
                                  : ": FAILED")
                << "\n";
    }
  }
  if (inv.json) {
    (*report.mutable_fields())["failed"].set_number_value(failures);
    std::cout << ToJson(report) << "\n";
  } else if (!dry_run) {
    std::cout << plan.size() - failures << " of " << plan.size()
              << " changes applied\n";
  }
  return failures == 0 ? kExitOk : last_exit;
}

int AdminExport(Invocation& inv, v1::Admin::Stub& stub) {
  v1::ServerConfig config;
  {
    grpc::ClientContext context;
    inv.connection.Prepare(context);
    v1::ListQueuesResponse queues;
    auto s = stub.ListQueues(&context, v1::ListQueuesRequest(), &queues);
    if (!s.ok()) return ReportError("admin export", s);
    *config.mutable_queues() = queues.queues();
  }
  {
    grpc::ClientContext context;
    inv.connection.Prepare(context);
    v1::ListAgentProfilesResponse agents;
    auto s = stub.ListAgentProfiles(&context, v1::ListAgentProfilesRequest(),
                                    &agents);
    if (!s.ok()) return ReportError("admin export", s);
    *config.mutable_agents() = agents.agents();
  }
  {
    grpc::ClientContext context;
    inv.connection.Prepare(context);
    auto s = stub.GetRoutingPolicy(&context, v1::GetRoutingPolicyRequest(),
                                   config.mutable_routing());
    if (!s.ok()) return ReportError("admin export", s);
  }
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.add_whitespace = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(config, &out, options);
  std::cout << out;
  return kExitOk;
}

int AdminSetState(Invocation& inv, const std::shared_ptr<grpc::Channel>& ch) {
  const auto& words = inv.args.words();
  if (words.size() != 4) {
    return UsageError("admin", "set-state needs AGENT and STATE");
  }
  auto state = ParseAgentState(words[3]);
  if (!state) {
    return UsageError("admin", "unknown agent state '" + words[3] +
                                   "' (ready, not_ready, offline)");
  }
  auto stub = v1::Supervisor::NewStub(ch);
  v1::SetAgentStateRequest request;
  request.set_agent_id(words[2]);
  request.set_state(static_cast<v1::AgentState>(*state));
  request.set_reason(inv.args.Get("reason"));
  v1::AgentStats stats;
  grpc::ClientContext context;
  inv.connection.Prepare(context);
  auto s = stub->SetAgentState(&context, request, &stats);
  if (!s.ok()) return ReportError("admin set-state", s);
  if (inv.json) {
    std::cout << ToJson(stats) << "\n";
  } else {
    std::cout << stats.agent_id() << " " << AgentStateName(stats.state())
              << (stats.reason().empty() ? "" : " (" + stats.reason() + ")")
              << "\n";
  }
  return kExitOk;
}

}  // namespace

int RunAdmin(Invocation& inv) {
  const auto& words = inv.args.words();
  if (auto exit = HelpOrMissingCommand(inv, kAdminHelp)) return *exit;
  const std::string& verb = words[1];
  std::vector<std::string> known;
  if (verb == "apply") {
    known = {"prune", "dry-run"};
  } else if (verb == "set-state") {
    known = {"reason"};
  } else if (verb != "export" && verb != "delete-queue" &&
             verb != "delete-agent") {
    return UsageError("admin", "unknown admin command '" + verb +
                                   "' (apply, export, set-state, "
                                   "delete-queue, delete-agent)");
  }
  if (auto s = inv.args.CheckKnown(known); !s.ok()) {
    return UsageError("admin", std::string(s.message()));
  }
  if ((verb == "delete-queue" || verb == "delete-agent") && words.size() != 3) {
    return UsageError("admin", verb + " needs exactly one name");
  }
  if (verb == "export" && words.size() != 2) {
    return UsageError("admin", "export takes no arguments");
  }
  int exit = kExitOk;
  auto channel = OpenChannel(inv, &exit);
  if (!channel) return exit;
  auto stub = v1::Admin::NewStub(channel);
  if (verb == "apply") return AdminApply(inv, *stub);
  if (verb == "export") return AdminExport(inv, *stub);
  if (verb == "set-state") return AdminSetState(inv, channel);
  grpc::ClientContext context;
  inv.connection.Prepare(context);
  grpc::Status status;
  if (verb == "delete-queue") {
    v1::DeleteQueueRequest request;
    request.set_name(words[2]);
    v1::DeleteQueueResponse response;
    status = stub->DeleteQueue(&context, request, &response);
  } else {
    v1::DeleteAgentProfileRequest request;
    request.set_id(words[2]);
    v1::DeleteAgentProfileResponse response;
    status = stub->DeleteAgentProfile(&context, request, &response);
  }
  if (!status.ok()) return ReportError("admin " + verb, status);
  if (inv.json) {
    google::protobuf::Struct deleted;
    (*deleted.mutable_fields())["deleted"].set_string_value(words[2]);
    std::cout << ToJson(deleted) << "\n";
  } else {
    std::cout << "deleted " << words[2] << "\n";
  }
  return kExitOk;
}

// --- health -----------------------------------------------------------

int RunHealth(Invocation& inv) {
  if (inv.args.Has("help")) {
    std::cout << R"(Usage: ccroute health [--service NAME] [--json]

Asks the server's gRPC health service whether it is serving (the whole
server, or one service such as ccroute.v1.Contacts). Prints SERVING and
exits 0; NOT_SERVING exits 1 (the server is starting or draining); an
unreachable server exits 3.
)";
    return kExitOk;
  }
  if (auto s = inv.args.CheckKnown({"service"}); !s.ok()) {
    return UsageError("health", std::string(s.message()));
  }
  int exit = kExitOk;
  auto channel = OpenChannel(inv, &exit);
  if (!channel) return exit;
  api::HealthStatus health;
  grpc::Status status = api::CheckHealth(channel, inv.args.Get("service"),
                                         inv.connection.timeout, &health);
  if (!status.ok()) return ReportError("health", status);
  static const char* const kNames[] = {"UNKNOWN", "SERVING", "NOT_SERVING",
                                       "SERVICE_UNKNOWN"};
  const char* name = kNames[static_cast<int>(health)];
  if (inv.json) {
    google::protobuf::Struct answer;
    (*answer.mutable_fields())["server"].set_string_value(
        inv.connection.server);
    (*answer.mutable_fields())["status"].set_string_value(name);
    std::cout << ToJson(answer) << "\n";
  } else {
    std::cout << name << "\n";
  }
  return health == api::HealthStatus::kServing ? kExitOk : kExitServerError;
}

}  // namespace ccroute::cli
