// libFuzzer target: arbitrary bytes as ccroute's gRPC requests. One real
// server (api::Server: authorization, validation, conversion, the session
// hub, the engine thread and the journal) runs with a small configuration
// and token authentication (replaced by a fresh one every kInputsPerServer
// inputs). Each input is decoded into a sequence of calls (rpc_fuzz_input.h)
// whose raw request bytes are sent with a grpc::GenericStub over the
// server's in-process channel, so that the server's own parsing and
// everything after it sees them.
//
// Streams: a server stream waits for its first message (or for the hub to
// register it). Without the keep-open bit, it is then cancelled, and
// Agents.Connect writes its messages and closes its side at once (a desktop
// that quits). With the bit, Connect waits for the Ack of each message;
// both then stay open while the input's later calls run (so desktops,
// watchers and subscribers see what those calls do) and are cancelled at
// the end (a dropped desktop).
//
// After each input, nothing may have crashed, every call must have finished
// with a status before its deadline (never INTERNAL or UNKNOWN), every
// response must parse, a desktop stream that finished OK must have had an
// Ack for every request the server read, and once the server has ended
// every call, the hub must hold no stream and the engine's invariants must
// hold (Engine::CheckInvariants, on the engine thread). Then the engine is
// put back to the configuration (agents logged out, contacts cancelled,
// queues, agents and routing policy as configured), so that inputs do not
// depend on the ones before.
//
// CCROUTE_RPC_FUZZ_STATS=1 prints, at exit, the calls made per method and
// status code. CCROUTE_RPC_FUZZ_LOG_LEVEL=debug|info|warning shows the
// server's log (default: errors only). CCROUTE_RPC_FUZZ_JOURNAL=0 runs the
// server memory only; by default its journal (RocksDB, durability "none")
// lives in a temporary directory, removed at exit (left behind by a crash).
#include <google/protobuf/message.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ccroute/v1/agents.pb.h"
#include "server/api/auth.h"
#include "server/api/config_file.h"
#include "server/api/server.h"
#include "server/runtime/log.h"
#include "tests/api/rpc_fuzz_input.h"

namespace {

using namespace std::chrono_literals;
using ccroute::api::Grant;
using ccroute::api::Role;
namespace fuzz = ccroute::testing::rpc_fuzz;
namespace core = ccroute::core;

// Generous: the machine may be slow and shared. A call still open after
// this is a hang: the input fails.
constexpr auto kCallTimeout = 30s;
// A stream that neither answers nor is seen registering in the hub (a
// future RPC this fuzzer knows nothing of, or one registering while an
// earlier stream goes) is waited for this long before the next call.
constexpr auto kSettleFallback = 20ms;
// gRPC's in-process transport keeps both ends of a stream that the server
// finished while the client's side was still open (about 10 KB each, until
// the server shuts down; not so over TCP). A fresh server every so many
// inputs keeps the process's memory flat.
constexpr int64_t kInputsPerServer = 1000;
// Ended contacts are remembered this long (the default is ten minutes), so
// that an input's retries find them and the next input's do not.
constexpr auto kIdempotencyRetention = 1ms;

constexpr std::string_view kConfigYaml = R"yaml(
routing:
  contact_selection: service_level
  max_missed_offers: 2
queues:
  - name: sales
    channels: [CHANNEL_VOICE, CHANNEL_CHAT]
    requirements: [{skill: sales, min_level: 3}]
    max_waiting: 4
    overflow_queue: general
  - name: support
    channels: [CHANNEL_VOICE, CHANNEL_CHAT, CHANNEL_EMAIL, CHANNEL_CALLBACK]
    requirements: [{skill: support, min_level: 5}]
    escalation:
      - after: 30s
        requirements: [{skill: support, min_level: 2}]
    max_wait: 300s
    max_wait_queue: general
    agent_selection: most_skilled
  - name: general
    agent_selection: least_occupied
    last_agent_window: 60s
agents:
  - id: a1
    skills: [{name: sales, level: 8}, {name: support, level: 3}]
    capacity: {voice: 1, chat: 2}
    wrap_up: {voice: 20s}
  - id: a2
    skills: [{name: support, level: 7}, {name: language.de, level: 5}]
    capacity: {voice: 1, chat: 2, email: 3, callback: 1}
    voice_blocks_other_channels: false
  - id: a3
    capacity: {chat: 3, email: 3, task: 2}
    wrap_up: {chat: 10s}
)yaml";

struct Credential {
  fuzz::Caller caller;
  const char* token;
  Role role;
  const char* agent_id;
  const char* gateway_id;
};

const Credential kCredentials[] = {
    {fuzz::Caller::kGatewayAny, "fuzz-token-gateway-any-0123456789ab",
     Role::kGateway, "", ""},
    {fuzz::Caller::kGatewayA, "fuzz-token-gateway-a-0123456789abcd",
     Role::kGateway, "", "gw-a"},
    {fuzz::Caller::kGatewayB, "fuzz-token-gateway-b-0123456789abcd",
     Role::kGateway, "", "gw-b"},
    {fuzz::Caller::kAgentA1, "fuzz-token-desk-a1-0123456789abcdef",
     Role::kAgent, "a1", ""},
    {fuzz::Caller::kAgentA2, "fuzz-token-desk-a2-0123456789abcdef",
     Role::kAgent, "a2", ""},
    {fuzz::Caller::kSupervisor, "fuzz-token-supervisor-0123456789abc",
     Role::kSupervisor, "", ""},
    {fuzz::Caller::kAdmin, "fuzz-token-admin-0123456789abcdefghi", Role::kAdmin,
     "", ""},
};

// The authorization header `caller` sends for `method`; empty: none.
std::string AuthorizationFor(fuzz::Caller caller, const std::string& method) {
  if (caller == fuzz::Caller::kOwnRole) {
    uint8_t roles = ccroute::api::RolesAllowed(method);
    caller =
        roles & static_cast<uint8_t>(Role::kGateway) ? fuzz::Caller::kGatewayA
        : roles & static_cast<uint8_t>(Role::kAgent) ? fuzz::Caller::kAgentA1
        : roles & static_cast<uint8_t>(Role::kSupervisor)
            ? fuzz::Caller::kSupervisor
            : fuzz::Caller::kAdmin;
  }
  switch (caller) {
    case fuzz::Caller::kNoCredential:
      return "";
    case fuzz::Caller::kUnknownToken:
      return "Bearer fuzz-token-nobody-0123456789abcdefgh";
    case fuzz::Caller::kNotBearer:
      return "Basic ZnV6ejpmdXp6";
    default:
      break;
  }
  for (const Credential& c : kCredentials) {
    if (c.caller == caller) return std::string("Bearer ") + c.token;
  }
  return "";
}

// Every contact id the engine mentions, to cancel them after the input.
// Engine thread only.
class ContactTracker final : public ccroute::runtime::EngineObserver {
 public:
  void OnEvents(const std::vector<core::Event>& events, core::Engine&,
                core::Time) override {
    for (const core::Event& e : events) {
      if (!e.contact_id.empty()) ids_.insert(e.contact_id);
    }
  }
  std::set<std::string> Take() { return std::exchange(ids_, {}); }

 private:
  std::set<std::string> ids_;
};

// Counts the calls the server has not finished with yet: an interceptor
// lives from the call's arrival until after its reactor's OnDone.
class LiveCalls final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  class Counted final : public grpc::experimental::Interceptor {
   public:
    explicit Counted(std::atomic<int>& live) : live_(live) { live_++; }
    ~Counted() override { live_--; }
    void Intercept(grpc::experimental::InterceptorBatchMethods* m) override {
      m->Proceed();
    }

   private:
    std::atomic<int>& live_;
  };

  explicit LiveCalls(std::atomic<int>& live) : live_(live) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo*) override {
    return new Counted(live_);
  }

 private:
  std::atomic<int>& live_;
};

// Calls made, by method and status code (CCROUTE_RPC_FUZZ_STATS).
struct Stats {
  std::map<std::string, std::map<int, int64_t>> codes;
  int64_t settle_fallbacks = 0;
  int64_t inputs = 0;
};

struct Fixture {
  ccroute::api::ResolvedConfig config;
  ContactTracker tracker;
  std::atomic<int> live_calls{0};
  std::unique_ptr<ccroute::api::Server> server;
  std::unique_ptr<grpc::GenericStub> stub;
  grpc::CompletionQueue cq;
  bool print_stats = false;
  Stats stats;
  // Where each server's journal goes (one directory per server, removed
  // with it); empty: memory only.
  std::filesystem::path journal_root;
  int servers_started = 0;
};

Fixture* fixture = nullptr;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "rpc_fuzz: %s\n", what);
  std::fflush(stderr);
  std::abort();
}

void PrintStats() {
  if (fixture == nullptr || !fixture->print_stats) return;
  std::fprintf(stderr, "rpc_fuzz: %lld inputs, %lld stream settle fallbacks\n",
               static_cast<long long>(fixture->stats.inputs),
               static_cast<long long>(fixture->stats.settle_fallbacks));
  for (const fuzz::RpcMethod& m : fuzz::RpcMethods()) {
    auto it = fixture->stats.codes.find(m.path);
    int64_t total = 0;
    std::string codes;
    if (it != fixture->stats.codes.end()) {
      for (auto [code, n] : it->second) {
        total += n;
        codes += " " + std::to_string(code) + ":" + std::to_string(n);
      }
    }
    std::fprintf(stderr, "  %-42s %9lld  codes%s\n", m.path.c_str(),
                 static_cast<long long>(total), codes.c_str());
  }
}

std::filesystem::path JournalDir(int server) {
  return fixture->journal_root / ("server-" + std::to_string(server));
}

// A server on the configuration, with a journal in a fresh directory, and a
// stub on its in-process channel.
void StartServer() {
  if (!fixture->journal_root.empty()) {
    fixture->config.journal.data_dir =
        JournalDir(++fixture->servers_started).string();
  }
  ccroute::api::ServerHooks hooks;
  hooks.observers.push_back(&fixture->tracker);
  hooks.interceptors.push_back(
      std::make_unique<LiveCalls>(fixture->live_calls));
  auto server = ccroute::api::Server::Start(fixture->config, std::move(hooks));
  if (!server.ok()) Die(server.status().ToString().c_str());
  fixture->server = *std::move(server);
  fixture->stub = std::make_unique<grpc::GenericStub>(
      fixture->server->grpc_server().InProcessChannel(
          grpc::ChannelArguments()));
}

// Between inputs only: no call is open.
void RestartServer() {
  fixture->stub.reset();
  fixture->server.reset();
  if (!fixture->journal_root.empty()) {
    std::filesystem::remove_all(JournalDir(fixture->servers_started));
  }
  StartServer();
}

void StopServer() {
  PrintStats();
  fixture->server->Shutdown();
  if (!fixture->journal_root.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(fixture->journal_root, ignored);
  }
  // The rest (the channel, the completion queue, gRPC itself) goes with the
  // process; tearing gRPC down from an atexit handler is not supported.
}

// One call in flight, driven through the completion queue.
class ClientCall {
 public:
  enum class Op { kStart, kWrite, kWritesDone, kRead, kFinish };
  struct Tag {
    ClientCall* call;
    Op op;
  };

  explicit ClientCall(const fuzz::Call& spec) : spec_(spec) {
    std::string auth = AuthorizationFor(spec.caller, spec.method->path);
    if (!auth.empty()) context_.AddMetadata("authorization", auth);
    context_.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
  }

  void Start(grpc::GenericStub& stub, grpc::CompletionQueue& cq) {
    const auto* m = spec_.method->descriptor;
    if (!m->client_streaming() && !m->server_streaming()) {
      grpc::ByteBuffer request = ToBuffer(spec_.messages.front());
      unary_ =
          stub.PrepareUnaryCall(&context_, spec_.method->path, request, &cq);
      unary_->StartCall();
      unary_->Finish(&read_buffer_, &status_, Begin(Op::kFinish));
      return;
    }
    stream_ = stub.PrepareCall(&context_, spec_.method->path, &cq);
    stream_->StartCall(Begin(Op::kStart));
  }

  // Handles one completion of this call's operations.
  void Handle(Op op, bool ok) {
    pending_--;
    switch (op) {
      case Op::kStart:
        if (!ok) return StartFinish();
        started_ = true;
        NextWrite();
        StartRead();
        return;
      case Op::kWrite:
        writing_ = false;
        if (!ok) {
          write_failed_ = true;
          return;
        }
        next_write_++;
        NextWrite();
        return;
      case Op::kWritesDone:
        return;
      case Op::kRead:
        if (!ok) return StartFinish();
        OnMessage();
        StartRead();
        return;
      case Op::kFinish:
        finished_ = true;
        if (status_.ok() && unary_ != nullptr) OnMessage();
        return;
    }
  }

  // Ends the client's side of a stream: no more writes (a desktop that
  // closes its stream); the server then finishes it.
  void HalfClose() {
    close_requested_ = true;
    NextWrite();
  }
  void Cancel() { context_.TryCancel(); }

  bool finished() const { return finished_; }
  bool done() const { return finished_ && pending_ == 0; }
  const grpc::Status& status() const { return status_; }
  const fuzz::Call& spec() const { return spec_; }
  int messages_read() const { return messages_read_; }
  int acks() const { return acks_; }
  // For a stream answered with Acks (Agents.Connect): the requests the
  // server reads, those before the first that does not parse (the server
  // takes that one for the end of the stream). 0 for other methods.
  int requests_to_answer() const {
    if (spec_.method->descriptor->output_type() !=
        ccroute::v1::AgentEvent::descriptor()) {
      return 0;
    }
    int n = 0;
    for (const std::string& bytes : spec_.messages) {
      ccroute::v1::AgentRequest request;
      if (!request.ParseFromString(bytes)) break;
      n++;
    }
    return n;
  }
  bool bad_response() const { return bad_response_; }

 private:
  static grpc::ByteBuffer ToBuffer(const std::string& bytes) {
    grpc::Slice slice(bytes.data(), bytes.size());
    return grpc::ByteBuffer(&slice, 1);
  }
  static std::string FromBuffer(const grpc::ByteBuffer& buffer) {
    std::vector<grpc::Slice> slices;
    std::string out;
    if (!buffer.Dump(&slices).ok()) return out;
    for (const grpc::Slice& s : slices) {
      out.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    return out;
  }

  void* Begin(Op op) {
    pending_++;
    tags_[static_cast<int>(op)] = {this, op};
    return &tags_[static_cast<int>(op)];
  }

  void NextWrite() {
    if (!started_ || writing_ || write_failed_ || writes_done_) return;
    const auto* m = spec_.method->descriptor;
    if (next_write_ < spec_.messages.size()) {
      write_buffer_ = ToBuffer(spec_.messages[next_write_]);
      writing_ = true;
      stream_->Write(write_buffer_, Begin(Op::kWrite));
    } else if (!m->client_streaming() || close_requested_) {
      writes_done_ = true;
      stream_->WritesDone(Begin(Op::kWritesDone));
    }
  }
  void StartRead() { stream_->Read(&read_buffer_, Begin(Op::kRead)); }
  void StartFinish() { stream_->Finish(&status_, Begin(Op::kFinish)); }

  // A response: it must parse as the method's output type.
  void OnMessage() {
    messages_read_++;
    std::string bytes = FromBuffer(read_buffer_);
    read_buffer_.Clear();
    const auto* type = spec_.method->descriptor->output_type();
    std::unique_ptr<google::protobuf::Message> message(
        google::protobuf::MessageFactory::generated_factory()
            ->GetPrototype(type)
            ->New());
    if (!message->ParseFromString(bytes)) {
      bad_response_ = true;
      return;
    }
    if (type == ccroute::v1::AgentEvent::descriptor() &&
        static_cast<ccroute::v1::AgentEvent*>(message.get())->has_ack()) {
      acks_++;
    }
  }

  const fuzz::Call& spec_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> unary_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> stream_;
  Tag tags_[5];
  grpc::ByteBuffer write_buffer_;
  grpc::ByteBuffer read_buffer_;
  grpc::Status status_;
  int pending_ = 0;
  size_t next_write_ = 0;
  bool started_ = false;
  bool writing_ = false;
  bool write_failed_ = false;
  bool writes_done_ = false;
  bool close_requested_ = false;
  bool finished_ = false;
  int messages_read_ = 0;
  int acks_ = 0;
  bool bad_response_ = false;
};

std::string Hex(const std::string& bytes, size_t max = 64) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < max; ++i) {
    out += kDigits[static_cast<uint8_t>(bytes[i]) >> 4];
    out += kDigits[static_cast<uint8_t>(bytes[i]) & 15];
  }
  if (bytes.size() > max) out += "...";
  return out;
}

// Prints the input's calls and what came of them, then crashes (a finding).
[[noreturn]] void Fail(const std::string& what,
                       const std::vector<std::unique_ptr<ClientCall>>& calls) {
  std::fprintf(stderr, "rpc_fuzz: %s\ncalls:\n", what.c_str());
  for (const auto& c : calls) {
    const fuzz::Call& spec = c->spec();
    std::fprintf(stderr, "  %s as %s%s: ", spec.method->path.c_str(),
                 fuzz::CallerName(spec.caller),
                 spec.keep_open ? " (kept open)" : "");
    for (const std::string& m : spec.messages) {
      std::fprintf(stderr, "[%s] ", Hex(m).c_str());
    }
    if (c->finished()) {
      std::fprintf(stderr, "-> %d %s (%d messages)\n",
                   static_cast<int>(c->status().error_code()),
                   c->status().error_message().c_str(), c->messages_read());
    } else {
      std::fprintf(stderr, "-> not finished\n");
    }
  }
  std::fflush(stderr);
  __builtin_trap();
}

// Runs the completion queue until `settled()` or the deadline; false on
// the deadline. `slow_check`, when given, is tried whenever the queue is
// idle for a moment (it may be costly).
template <typename Settled, typename SlowCheck>
bool PumpUntil(Settled settled, SlowCheck slow_check,
               std::chrono::steady_clock::time_point deadline) {
  while (!settled()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    void* tag = nullptr;
    bool ok = false;
    auto status = fixture->cq.AsyncNext(
        &tag, &ok, std::chrono::system_clock::now() + 200us);
    if (status == grpc::CompletionQueue::GOT_EVENT) {
      auto* t = static_cast<ClientCall::Tag*>(tag);
      t->call->Handle(t->op, ok);
    } else if (status == grpc::CompletionQueue::TIMEOUT) {
      if (slow_check()) return true;
    } else {
      Die("completion queue shut down");
    }
  }
  return true;
}

// Streams the hub holds (engine thread state, read there).
size_t HubStreams() {
  size_t n = 0;
  auto& server = *fixture->server;
  server.runner().RunSync([&](core::Engine&, core::Time) {
    n = server.hub().agent_sessions() + server.hub().watchers() +
        server.hub().subscribers();
  });
  return n;
}

// Waits until a stream has answered, ended, or registered in the hub, so
// that the calls after it see it in place.
void Settle(ClientCall& call, size_t hub_before,
            const std::vector<std::unique_ptr<ClientCall>>& calls) {
  const fuzz::Call& spec = call.spec();
  auto deadline = std::chrono::steady_clock::now() + kCallTimeout;
  auto fallback = std::chrono::steady_clock::now() + kSettleFallback;
  bool registered = false;
  auto hub_grew = [&] {
    if (!registered) registered = HubStreams() > hub_before;
    if (!registered && std::chrono::steady_clock::now() > fallback) {
      fixture->stats.settle_fallbacks++;
      registered = true;
    }
    return false;
  };
  bool settled;
  if (!spec.method->descriptor->server_streaming()) {
    settled = PumpUntil([&] { return call.finished(); }, [] { return false; },
                        deadline);
  } else if (spec.method->descriptor->client_streaming() && !spec.keep_open) {
    // A desktop that sends its requests and closes its side at once: the
    // server must still answer them all (checked in RunInput).
    call.HalfClose();
    settled = PumpUntil([&] { return call.finished(); }, [] { return false; },
                        deadline);
  } else if (spec.method->descriptor->client_streaming()) {
    // Every request answered with an Ack, and the session in place.
    settled = PumpUntil(
        [&] {
          return call.finished() ||
                 (static_cast<size_t>(call.acks()) >= spec.messages.size() &&
                  (!spec.messages.empty() || registered));
        },
        hub_grew, deadline);
  } else {
    settled = PumpUntil(
        [&] {
          return call.finished() || call.messages_read() > 0 || registered;
        },
        hub_grew, deadline);
  }
  if (!settled) {
    Fail(spec.method->path + ": no answer within the call's deadline", calls);
  }
}

// What is wrong with a call's final status, or null. ccroute answers bad
// input with INVALID_ARGUMENT and the like; gRPC answers a request that does
// not parse with UNIMPLEMENTED and no message (the callback API's way);
// nothing may time out, fail unknowingly or internally.
const char* WrongStatus(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "deadline exceeded";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN status";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL status";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS status";
    case grpc::StatusCode::UNIMPLEMENTED:
      return status.error_message().empty() ? nullptr
                                            : "UNIMPLEMENTED with a message";
    default:
      return nullptr;
  }
}

void Record(const ClientCall& call) {
  if (!fixture->print_stats) return;
  fixture->stats.codes[call.spec().method->path]
                      [static_cast<int>(call.status().error_code())]++;
}

// Queues, agent profiles and the routing policy as configured.
absl::Status ResetConfig(core::Engine& engine, core::Time now) {
  const auto& config = fixture->config;
  for (const core::QueueConfig& q : config.queues) {
    if (absl::Status s = engine.UpsertQueue(q, now); !s.ok()) return s;
  }
  // Extra queues may name each other as overflow: delete in rounds.
  for (int round = 0; round < 8; ++round) {
    bool left = false;
    for (const core::QueueConfig& q : engine.ListQueues()) {
      bool configured = false;
      for (const core::QueueConfig& c : config.queues) {
        configured = configured || c.name == q.name;
      }
      if (!configured) left = !engine.DeleteQueue(q.name, now).ok() || left;
    }
    if (!left) break;
  }
  if (engine.ListQueues().size() != config.queues.size()) {
    return absl::InternalError("extra queues cannot be deleted");
  }
  for (const core::AgentProfile& a : config.agents) {
    if (absl::Status s = engine.UpsertAgentProfile(a, now); !s.ok()) return s;
  }
  for (const core::AgentProfile& a : engine.ListAgentProfiles()) {
    bool configured = false;
    for (const core::AgentProfile& c : config.agents) {
      configured = configured || c.id == a.id;
    }
    if (!configured) {
      if (absl::Status s = engine.DeleteAgentProfile(a.id, now); !s.ok()) {
        return s;
      }
    }
  }
  return engine.SetRoutingPolicy(config.routing, now);
}

// The engine back to the configuration: agents logged out, contacts
// cancelled, and when `config_changed` (an Admin call succeeded), extra
// queues and agents deleted and the configured ones restored. Engine
// thread.
absl::Status Reset(core::Engine& engine, core::Time now, bool config_changed) {
  for (const core::AgentStats& a : engine.GetAllAgentStats(now)) {
    if (a.state != core::AgentState::kOffline) {
      (void)engine.ForceLogout(a.id, "fuzz reset", now);
    }
  }
  for (const std::string& id : fixture->tracker.Take()) {
    (void)engine.CancelContact(id, core::EndReason::kCancelled, now);
  }
  if (engine.live_contacts() != 0) {
    return absl::InternalError(
        "contacts left after logging every agent out and cancelling every "
        "contact: " +
        std::to_string(engine.live_contacts()));
  }
  if (config_changed) {
    if (absl::Status s = ResetConfig(engine, now); !s.ok()) return s;
  }
  // Forget the contacts just ended: the engine's clock runs ahead by the
  // retention (1 ms) at most; later calls read the same time until the
  // steady clock catches up.
  engine.AdvanceTo(std::max(now, engine.now()) + kIdempotencyRetention + 1ns);
  return absl::OkStatus();
}

void RunInput(const uint8_t* data, size_t size) {
  std::vector<fuzz::Call> specs = fuzz::DecodeCalls(data, size);
  std::vector<std::unique_ptr<ClientCall>> calls;
  auto never = [] { return false; };
  for (const fuzz::Call& spec : specs) {
    size_t hub_before =
        spec.method->descriptor->server_streaming() ? HubStreams() : 0;
    calls.push_back(std::make_unique<ClientCall>(spec));
    ClientCall& call = *calls.back();
    call.Start(*fixture->stub, fixture->cq);
    Settle(call, hub_before, calls);
    if (!spec.keep_open && !call.finished()) {
      if (spec.method->descriptor->client_streaming()) {
        call.HalfClose();
      } else {
        call.Cancel();
      }
      if (!PumpUntil([&] { return call.finished(); }, never,
                     std::chrono::steady_clock::now() + kCallTimeout)) {
        Fail(spec.method->path + ": not finished after closing it", calls);
      }
    }
  }
  for (auto& call : calls) {
    if (!call->finished()) call->Cancel();
  }
  auto deadline = std::chrono::steady_clock::now() + kCallTimeout;
  if (!PumpUntil(
          [&] {
            for (const auto& call : calls) {
              if (!call->done()) return false;
            }
            return true;
          },
          never, deadline)) {
    Fail("calls not finished after cancelling them", calls);
  }
  // Only Admin changes queues, agent profiles and the routing policy.
  bool config_changed = false;
  for (const auto& call : calls) {
    Record(*call);
    config_changed = config_changed ||
                     (call->status().ok() &&
                      call->spec().method->descriptor->service()->full_name() ==
                          ccroute::v1::Admin::service_full_name());
    if (const char* wrong = WrongStatus(call->status())) {
      Fail(call->spec().method->path + ": " + wrong, calls);
    }
    if (call->bad_response()) {
      Fail(call->spec().method->path + ": a response does not parse", calls);
    }
    if (call->status().ok() && call->acks() < call->requests_to_answer()) {
      Fail(call->spec().method->path + ": " +
               std::to_string(call->requests_to_answer()) + " requests read, " +
               std::to_string(call->acks()) +
               " answered before the stream finished OK",
           calls);
    }
  }
  // The server's side of every call over: OnDone has run and posted what
  // it posts to the engine thread, which RunSync below runs after.
  while (fixture->live_calls.load() != 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      Fail("the server did not end every call", calls);
    }
    std::this_thread::sleep_for(20us);
  }
  absl::Status invariants;
  absl::Status hub;
  absl::Status reset;
  auto& server = *fixture->server;
  server.runner().RunSync([&](core::Engine& engine, core::Time now) {
    invariants = engine.CheckInvariants();
    if (server.hub().agent_sessions() != 0 || server.hub().watchers() != 0 ||
        server.hub().subscribers() != 0) {
      hub = absl::InternalError(
          "the hub still holds streams after every call ended: " +
          std::to_string(server.hub().agent_sessions()) + " sessions, " +
          std::to_string(server.hub().watchers()) + " watchers, " +
          std::to_string(server.hub().subscribers()) + " subscribers");
    }
    if (invariants.ok()) reset = Reset(engine, now, config_changed);
  });
  if (!invariants.ok()) Fail("invariants: " + invariants.ToString(), calls);
  if (!hub.ok()) Fail(hub.ToString(), calls);
  if (!reset.ok()) Fail("reset: " + reset.ToString(), calls);
  fixture->stats.inputs++;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ccroute::runtime::LogLevel level = ccroute::runtime::LogLevel::kError;
  if (const char* name = std::getenv("CCROUTE_RPC_FUZZ_LOG_LEVEL")) {
    if (!ccroute::runtime::ParseLogLevel(name, level)) {
      Die("CCROUTE_RPC_FUZZ_LOG_LEVEL: debug, info, warning or error");
    }
  }
  ccroute::runtime::SetLogLevel(level);
  // gRPC's and protobuf's lines too, so that the level drops them: protobuf
  // logs every string field that is not UTF-8, which most inputs have.
  ccroute::api::RouteGrpcLogsToJson();

  fixture = new Fixture;
  const char* stats = std::getenv("CCROUTE_RPC_FUZZ_STATS");
  fixture->print_stats = stats != nullptr && std::string(stats) != "0";
  auto parsed = ccroute::api::ParseServerConfig(kConfigYaml, "yaml");
  if (!parsed.ok()) Die(parsed.status().ToString().c_str());
  auto resolved = ccroute::api::ResolveServerConfig(*parsed);
  if (!resolved.ok()) Die(resolved.status().ToString().c_str());
  fixture->config = *std::move(resolved);
  auto& config = fixture->config;
  // The server needs a port; the calls come over the in-process channel.
  config.listen = "127.0.0.1:0";
  // The journal as ccrouted runs it by default, without fsync: creates,
  // cancels and updates are answered once it holds them.
  const char* journal = std::getenv("CCROUTE_RPC_FUZZ_JOURNAL");
  config.journal.enabled = journal == nullptr || std::string(journal) != "0";
  if (config.journal.enabled) {
    std::string root =
        (std::filesystem::temp_directory_path() / "rpc_fuzz-journal-XXXXXX")
            .string();
    if (::mkdtemp(root.data()) == nullptr) Die("cannot make a journal dir");
    fixture->journal_root = root;
    config.journal.durability = "none";
  }
  config.engine_limits.idempotency_retention = kIdempotencyRetention;
  config.security.auth.enabled = true;
  for (const Credential& c : kCredentials) {
    Grant g;
    g.name = std::string("fuzz-") + fuzz::CallerName(c.caller);
    g.role = c.role;
    g.agent_id = c.agent_id;
    g.gateway_id = c.gateway_id;
    g.token_sha256 = ccroute::api::Sha256(c.token);
    config.security.auth.tokens.push_back(g);
  }

  StartServer();
  for (const fuzz::RpcMethod& m : fuzz::RpcMethods()) {
    if (ccroute::api::RolesAllowed(m.path) == 0) {
      std::fprintf(stderr,
                   "rpc_fuzz: warning: %s is not in the role table (every "
                   "call is denied)\n",
                   m.path.c_str());
    }
  }
  std::atexit(StopServer);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (fixture->stats.inputs > 0 &&
      fixture->stats.inputs % kInputsPerServer == 0) {
    RestartServer();
  }
  RunInput(data, size);
  return 0;
}
