// A ccroute server on a loopback port for integration tests, and simple
// synchronous clients: a gateway (unary stubs), an agent desktop (the
// bidirectional stream, read by a background thread into a queue), and a
// contact watcher. Every wait is bounded.
#ifndef CCROUTE_TESTS_INTEGRATION_TEST_SERVER_H_
#define CCROUTE_TESTS_INTEGRATION_TEST_SERVER_H_

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "ccroute/v1/admin.grpc.pb.h"
#include "ccroute/v1/agents.grpc.pb.h"
#include "ccroute/v1/contacts.grpc.pb.h"
#include "ccroute/v1/supervisor.grpc.pb.h"
#include "server/api/config_file.h"
#include "server/api/server.h"

namespace ccroute::testing {

using namespace std::chrono_literals;

// Generous: the machine running the tests may be slow and shared.
inline constexpr auto kWait = std::chrono::seconds(10);

// A queue with no requirements and the given offer timeout.
inline core::QueueConfig Queue(std::string name,
                               core::Duration offer_timeout = 15s) {
  core::QueueConfig q;
  q.name = std::move(name);
  q.offer_timeout = offer_timeout;
  return q;
}

// A voice agent with no skills and the given voice wrap-up.
inline core::AgentProfile Agent(std::string id, core::Duration wrap_up = 0s) {
  core::AgentProfile a;
  a.id = std::move(id);
  a.wrap_up[0] = wrap_up;
  return a;
}

inline v1::CreateContactRequest NewContact(std::string id, std::string queue) {
  v1::CreateContactRequest r;
  r.set_contact_id(std::move(id));
  r.set_queue(std::move(queue));
  r.set_channel(v1::CHANNEL_VOICE);
  return r;
}

// A blocking queue with a bounded pop.
template <typename T>
class BlockingQueue {
 public:
  void Push(T value) {
    std::lock_guard<std::mutex> lock(mu_);
    items_.push_back(std::move(value));
    cv_.notify_all();
  }
  // Removes and returns the first item matching `pred`, leaving the others
  // in order; nullopt if none arrives within `timeout`.
  std::optional<T> Take(const std::function<bool(const T&)>& pred,
                        std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      for (auto it = items_.begin(); it != items_.end(); ++it) {
        if (pred(*it)) {
          T item = std::move(*it);
          items_.erase(it);
          return item;
        }
      }
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
        for (auto it = items_.begin(); it != items_.end(); ++it) {
          if (pred(*it)) {
            T item = std::move(*it);
            items_.erase(it);
            return item;
          }
        }
        return std::nullopt;
      }
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<T> items_;
};

// The contacts `server`'s engine holds, read on its engine thread.
inline size_t LiveContactsOf(api::Server& server) {
  size_t n = 0;
  server.runner().RunSync(
      [&](core::Engine& engine, core::Time) { n = engine.live_contacts(); });
  return n;
}

// A server with the given queues and agent profiles on 127.0.0.1:0.
class TestServer {
 public:
  explicit TestServer(std::vector<core::QueueConfig> queues,
                      std::vector<core::AgentProfile> agents,
                      api::ServerLimits limits = {},
                      core::RoutingPolicy routing = {})
      : TestServer([&] {
          api::ResolvedConfig config;
          config.listen = "127.0.0.1:0";
          config.queues = std::move(queues);
          config.agents = std::move(agents);
          config.server_limits = limits;
          config.routing = routing;
          return config;
        }()) {}
  // Any configuration (a journal, say); config.listen should pick a port.
  explicit TestServer(const api::ResolvedConfig& config) {
    auto server = api::Server::Start(config);
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials());
  }

  api::Server& server() { return *server_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  std::unique_ptr<v1::Contacts::Stub> contacts() {
    return v1::Contacts::NewStub(channel_);
  }
  std::unique_ptr<v1::Supervisor::Stub> supervisor() {
    return v1::Supervisor::NewStub(channel_);
  }
  std::unique_ptr<v1::Admin::Stub> admin() {
    return v1::Admin::NewStub(channel_);
  }
  // Runs the engine's invariant check on the engine thread.
  absl::Status CheckInvariants() {
    absl::Status result;
    server_->runner().RunSync([&](core::Engine& engine, core::Time) {
      result = engine.CheckInvariants();
    });
    return result;
  }
  size_t LiveContacts() { return LiveContactsOf(*server_); }

 private:
  std::unique_ptr<api::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

inline std::unique_ptr<grpc::ClientContext> Deadline(
    std::chrono::milliseconds timeout = kWait) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  return context;
}

// One agent desktop on its own stream (and, by default, its own channel,
// so that dropping it is a real disconnect).
class Desktop {
 public:
  Desktop(TestServer& server, std::string agent_id, bool own_channel = true)
      : Desktop(own_channel
                    ? grpc::CreateChannel(
                          "127.0.0.1:" + std::to_string(server.server().port()),
                          grpc::InsecureChannelCredentials())
                    : server.channel(),
                std::move(agent_id)) {}
  // A desktop of a server at `target` ("127.0.0.1:PORT"), e.g. a ccrouted
  // run as a child process.
  Desktop(const std::string& target, std::string agent_id)
      : Desktop(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()),
                std::move(agent_id)) {}
  Desktop(std::shared_ptr<grpc::Channel> channel, std::string agent_id)
      : agent_id_(std::move(agent_id)), channel_(std::move(channel)) {
    stub_ = v1::Agents::NewStub(channel_);
    stream_ = stub_->Connect(&context_);
    reader_ = std::thread([this] {
      v1::AgentEvent event;
      while (stream_->Read(&event)) events_.Push(event);
      finished_ = true;
      events_.Push(v1::AgentEvent());  // end of stream: wakes waiters
    });
  }
  ~Desktop() { Drop(); }

  // Sends a request and waits for its Ack; returns the ack's code.
  grpc::StatusCode Send(v1::AgentRequest request) {
    std::string id = "r" + std::to_string(++next_request_);
    request.set_request_id(id);
    if (!stream_->Write(request)) return grpc::StatusCode::UNAVAILABLE;
    auto ack = events_.Take(
        [&](const v1::AgentEvent& e) {
          return (e.has_ack() && e.ack().request_id() == id) ||
                 e.event_case() == v1::AgentEvent::EVENT_NOT_SET;
        },
        kWait);
    if (!ack) return grpc::StatusCode::DEADLINE_EXCEEDED;
    if (!ack->has_ack()) {
      events_.Push(*ack);  // the stream ended; later calls see it too
      return grpc::StatusCode::UNAVAILABLE;
    }
    last_ack_message_ = ack->ack().message();
    return static_cast<grpc::StatusCode>(ack->ack().code());
  }
  grpc::StatusCode Login(bool ready = true) {
    v1::AgentRequest r;
    r.mutable_login()->set_agent_id(agent_id_);
    r.mutable_login()->set_ready(ready);
    return Send(r);
  }
  grpc::StatusCode Accept(const std::string& contact) {
    v1::AgentRequest r;
    r.mutable_accept()->set_contact_id(contact);
    return Send(r);
  }
  grpc::StatusCode Reject(const std::string& contact) {
    v1::AgentRequest r;
    r.mutable_reject()->set_contact_id(contact);
    return Send(r);
  }
  grpc::StatusCode Complete(const std::string& contact) {
    v1::AgentRequest r;
    r.mutable_complete()->set_contact_id(contact);
    r.mutable_complete()->set_wrap_up_code("done");
    return Send(r);
  }
  // The next offer pushed to this desktop (any contact), within `timeout`.
  std::optional<v1::AgentEvent::Offer> NextOffer(
      std::chrono::milliseconds timeout = kWait) {
    auto e = events_.Take([](const v1::AgentEvent& e) { return e.has_offer(); },
                          timeout);
    if (!e) return std::nullopt;
    return e->offer();
  }
  std::optional<v1::AgentEvent> NextOf(
      v1::AgentEvent::EventCase kind,
      std::chrono::milliseconds timeout = kWait) {
    return events_.Take(
        [kind](const v1::AgentEvent& e) { return e.event_case() == kind; },
        timeout);
  }
  // Cancels the stream and closes the channel: the server sees it drop.
  void Drop() {
    if (dropped_) return;
    dropped_ = true;
    context_.TryCancel();
    if (reader_.joinable()) reader_.join();
  }
  const std::string& last_ack_message() const { return last_ack_message_; }
  const std::string& agent_id() const { return agent_id_; }

 private:
  std::string agent_id_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Agents::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::AgentRequest, v1::AgentEvent>>
      stream_;
  BlockingQueue<v1::AgentEvent> events_;
  std::thread reader_;
  std::atomic<bool> finished_{false};
  bool dropped_ = false;
  int next_request_ = 0;
  std::string last_ack_message_;
};

// Follows one contact's updates on a background thread.
class Watcher {
 public:
  Watcher(TestServer& server, const std::string& contact_id)
      : stub_(server.contacts()) {
    v1::WatchContactRequest request;
    request.set_contact_id(contact_id);
    reader_ = std::thread([this, request] {
      auto stream = stub_->WatchContact(&context_, request);
      v1::ContactUpdate update;
      while (stream->Read(&update)) updates_.Push(update);
      status_ = stream->Finish();
      done_ = true;
      updates_.Push(v1::ContactUpdate());
    });
  }
  ~Watcher() {
    context_.TryCancel();
    reader_.join();
  }
  std::optional<v1::ContactUpdate> NextWithState(
      v1::ContactState state, std::chrono::milliseconds timeout = kWait) {
    return updates_.Take(
        [state](const v1::ContactUpdate& u) {
          return u.has_contact() && u.contact().state() == state;
        },
        timeout);
  }
  // Waits for the stream to finish; its status.
  std::optional<grpc::Status> Finished(
      std::chrono::milliseconds timeout = kWait) {
    auto end = updates_.Take(
        [](const v1::ContactUpdate& u) { return !u.has_contact(); }, timeout);
    if (!end) return std::nullopt;
    return status_;
  }

 private:
  std::unique_ptr<v1::Contacts::Stub> stub_;
  grpc::ClientContext context_;
  BlockingQueue<v1::ContactUpdate> updates_;
  std::thread reader_;
  std::atomic<bool> done_{false};
  grpc::Status status_;
};

}  // namespace ccroute::testing

#endif  // CCROUTE_TESTS_INTEGRATION_TEST_SERVER_H_
