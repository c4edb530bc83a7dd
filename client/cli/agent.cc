// `ccroute agent login`: an agent desktop in the terminal.
#include <unistd.h>

#include <iostream>
#include <mutex>
#include <set>
#include <sstream>

#include "client/agent_session.h"
#include "client/cli/cli.h"

namespace ccroute::cli {
namespace {

constexpr const char* kAgentHelp =
    R"(Usage: ccroute agent login AGENT [--not-ready REASON] [--auto-accept]

Logs in as AGENT over the agent stream, as a desktop does, and prints what
the server pushes: offers (with their expiry), withdrawn offers, assigned
contacts, wrap-up, state changes. Type a command and Enter:

  accept [ID]          accept the open offer (or offer ID)
  reject [ID]          reject it; the contact goes to another agent
  complete [ID] [CODE] finish a contact (the only one if ID is left out);
                       wrap-up follows
  end-wrap-up [ID]     end wrap-up early
  transfer ID QUEUE    send a contact to another queue
  ready                become READY
  not-ready [REASON]   become NOT_READY
  status               print the agent's contacts and offer
  logout               log out and exit (refused while holding contacts)
  quit                 exit without logging out: open offers go back to
                       their queue; contacts wait for the reconnect grace

End of input logs out (or quits if contacts are held). The session
reconnects and logs in again on its own if the connection drops.

  --not-ready REASON   log in NOT_READY instead of READY
  --auto-accept        accept every offer at once (for demos and scripts)
)";

// What the terminal desktop knows about its agent, from the server's
// pushes. Thread-safe.
class DesktopState {
 public:
  void Offer(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    offer_ = id;
  }
  void OfferGone(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    if (offer_ == id) offer_.clear();
  }
  void Assigned(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    if (offer_ == id) offer_.clear();
    contacts_.insert(id);
  }
  void Ended(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    contacts_.erase(id);
  }
  void Status(const v1::AgentStatus& status) {
    std::lock_guard<std::mutex> lock(mu_);
    offer_ = status.offered_contact();
    contacts_ = {status.contacts().begin(), status.contacts().end()};
  }
  std::string offer() const {
    std::lock_guard<std::mutex> lock(mu_);
    return offer_;
  }
  std::set<std::string> contacts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return contacts_;
  }

 private:
  mutable std::mutex mu_;
  std::string offer_;
  std::set<std::string> contacts_;
};

// Lines from callbacks and the command loop must not interleave.
std::mutex output_mu;

void Say(const std::string& line) {
  std::lock_guard<std::mutex> lock(output_mu);
  std::cout << line << std::endl;
}

std::string Describe(const v1::Contact& c) {
  std::string s =
      c.id() + "  queue=" + c.queue() + "  channel=" + ChannelName(c.channel());
  if (c.priority() != 0) s += "  priority=" + std::to_string(c.priority());
  if (!c.customer_id().empty()) s += "  customer=" + c.customer_id();
  return s;
}

// Waits for a request's Ack and prints its outcome; true if OK.
bool Report(const std::string& what, std::future<grpc::Status> result) {
  grpc::Status status = result.get();
  if (status.ok()) {
    Say("ok: " + what);
    return true;
  }
  std::lock_guard<std::mutex> lock(output_mu);
  ReportError(what, status);
  return false;
}

}  // namespace

int RunAgent(Invocation& inv) {
  const auto& words = inv.args.words();
  if (inv.args.Has("help")) {
    std::cout << kAgentHelp;
    return kExitOk;
  }
  if (auto s = inv.args.CheckKnown({"not-ready", "auto-accept"}); !s.ok()) {
    return UsageError("agent", std::string(s.message()));
  }
  if (words.size() != 3 || words[1] != "login") {
    return UsageError("agent", "expected: ccroute agent login AGENT");
  }
  auto channel = inv.connection.NewChannel();
  if (!channel.ok()) {
    std::cerr << "ccroute: " << channel.status().message() << "\n";
    return kExitUsage;
  }
  client::AgentSessionOptions options;
  options.agent_id = words[2];
  options.ready = !inv.args.Has("not-ready");
  options.not_ready_reason = inv.args.Get("not-ready");
  options.request_timeout =
      std::max(inv.connection.timeout, std::chrono::milliseconds(1000));
  const bool json = inv.json;
  const bool auto_accept = inv.args.Has("auto-accept");
  DesktopState state;
  client::AgentSession* session_ptr = nullptr;
  std::mutex closed_mu;
  grpc::Status closed_status;

  client::AgentSession::Callbacks callbacks;
  callbacks.on_offer = [&](const v1::AgentEvent::Offer& offer) {
    state.Offer(offer.contact().id());
    if (json) {
      v1::AgentEvent event;
      *event.mutable_offer() = offer;
      Say(ToJson(event));
    } else {
      auto now = std::chrono::system_clock::now();
      auto expires = std::chrono::system_clock::time_point(
          std::chrono::seconds(offer.expires_at().seconds()) +
          std::chrono::nanoseconds(offer.expires_at().nanos()));
      Say("offer     " + Describe(offer.contact()) + "  expires in " +
          FormatDuration(std::chrono::duration_cast<std::chrono::milliseconds>(
              expires - now)) +
          (auto_accept ? "" : "  (accept or reject)"));
    }
    if (auto_accept) {
      // The callback may wait on the session's futures.
      Report("accept " + offer.contact().id(),
             session_ptr->Accept(offer.contact().id()));
    }
  };
  callbacks.on_event = [&](const v1::AgentEvent& event) {
    switch (event.event_case()) {
      case v1::AgentEvent::kOfferWithdrawn:
        state.OfferGone(event.offer_withdrawn().contact_id());
        if (!json) {
          Say("withdrawn " + event.offer_withdrawn().contact_id() + "  (" +
              event.offer_withdrawn().reason() + ")");
        }
        break;
      case v1::AgentEvent::kAssigned:
        state.Assigned(event.assigned().contact().id());
        if (!json) Say("assigned  " + Describe(event.assigned().contact()));
        break;
      case v1::AgentEvent::kWrapUpStarted:
        if (!json) {
          Say("wrap-up   " + event.wrap_up_started().contact_id() + "  until " +
              FormatClock(event.wrap_up_started().ends_at()) +
              "  (end-wrap-up to finish early)");
        }
        break;
      case v1::AgentEvent::kWrapUpEnded:
        state.Ended(event.wrap_up_ended().contact_id());
        if (!json) Say("done      " + event.wrap_up_ended().contact_id());
        break;
      case v1::AgentEvent::kStatus:
        state.Status(event.status());
        if (!json) {
          Say("status    " + AgentStateName(event.status().state()) +
              (event.status().reason().empty()
                   ? ""
                   : " (" + event.status().reason() + ")"));
        }
        break;
      default:
        break;
    }
    if (json) Say(ToJson(event));
  };
  callbacks.on_connection = [&](client::AgentSession::Connection c,
                                const grpc::Status& status) {
    if (c == client::AgentSession::Connection::kClosed) {
      std::lock_guard<std::mutex> lock(closed_mu);
      closed_status = status;
    }
    if (json) return;
    if (c == client::AgentSession::Connection::kConnected) {
      Say("connected as " + words[2]);
    } else if (c == client::AgentSession::Connection::kReconnecting) {
      Say("connection lost (" + status.error_message() + "); reconnecting");
    }
  };

  client::AgentSession session(*channel, options, callbacks);
  session_ptr = &session;
  session.Start();
  // The first login: refused (closed) or not possible in time.
  auto login_wait =
      std::max(inv.connection.timeout * 2, std::chrono::milliseconds(2000));
  auto deadline = std::chrono::steady_clock::now() + login_wait;
  while (std::chrono::steady_clock::now() < deadline &&
         session.connection() != client::AgentSession::Connection::kConnected &&
         session.connection() != client::AgentSession::Connection::kClosed) {
    session.WaitFor(client::AgentSession::Connection::kConnected,
                    std::chrono::milliseconds(50));
  }
  if (session.connection() == client::AgentSession::Connection::kClosed) {
    std::lock_guard<std::mutex> lock(closed_mu);
    return ReportError("agent login " + words[2], closed_status);
  }
  if (session.connection() != client::AgentSession::Connection::kConnected) {
    return ReportError(
        "agent login " + words[2],
        grpc::Status(grpc::StatusCode::UNAVAILABLE,
                     "no login within " + FormatDuration(login_wait) +
                         " (is ccrouted running at " + inv.connection.server +
                         "?)"));
  }

  auto pick = [&](const std::vector<std::string>& w, size_t i,
                  bool offer) -> std::string {
    if (w.size() > i) return w[i];
    if (offer) return state.offer();
    auto contacts = state.contacts();
    return contacts.size() == 1 ? *contacts.begin() : "";
  };
  std::string line;
  bool logged_out = false;
  while (session.connection() != client::AgentSession::Connection::kClosed &&
         std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::vector<std::string> w;
    for (std::string word; in >> word;) w.push_back(word);
    if (w.empty()) continue;
    const std::string& cmd = w[0];
    if (cmd == "accept" || cmd == "reject") {
      std::string id = pick(w, 1, true);
      if (id.empty()) {
        Say("no open offer");
        continue;
      }
      Report(cmd + " " + id,
             cmd == "accept" ? session.Accept(id) : session.Reject(id));
    } else if (cmd == "complete" || cmd == "end-wrap-up") {
      std::string id = pick(w, 1, false);
      if (id.empty()) {
        Say("which contact? (" + std::to_string(state.contacts().size()) +
            " held)");
        continue;
      }
      Report(cmd + " " + id,
             cmd == "complete" ? session.Complete(id, w.size() > 2 ? w[2] : "")
                               : session.EndWrapUp(id));
    } else if (cmd == "transfer") {
      if (w.size() != 3) {
        Say("usage: transfer ID QUEUE");
        continue;
      }
      Report("transfer " + w[1] + " to " + w[2], session.Transfer(w[1], w[2]));
    } else if (cmd == "ready") {
      Report("ready", session.SetReady());
    } else if (cmd == "not-ready") {
      std::string reason = line.substr(line.find("not-ready") + 9);
      reason.erase(0, reason.find_first_not_of(' '));
      Report("not-ready", session.SetNotReady(reason));
    } else if (cmd == "status") {
      std::string held;
      for (const auto& c : state.contacts()) held += " " + c;
      Say("offer: " + (state.offer().empty() ? "-" : state.offer()) +
          "  contacts:" + (held.empty() ? " -" : held));
    } else if (cmd == "logout") {
      if (Report("logout", session.Logout())) {
        logged_out = true;
        break;
      }
    } else if (cmd == "quit" || cmd == "exit") {
      break;
    } else if (cmd == "help") {
      Say(kAgentHelp);
    } else {
      Say("unknown command '" + cmd + "' (type help)");
    }
  }
  if (!logged_out &&
      session.connection() != client::AgentSession::Connection::kClosed &&
      std::cin.eof() && state.contacts().empty()) {
    Report("logout", session.Logout());
  }
  if (session.connection() == client::AgentSession::Connection::kClosed &&
      !logged_out) {
    std::lock_guard<std::mutex> lock(closed_mu);
    if (!closed_status.ok()) {
      return ReportError("agent " + words[2], closed_status);
    }
  }
  session.Close();
  return kExitOk;
}

}  // namespace ccroute::cli
