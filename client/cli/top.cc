// `ccroute top`: a live wallboard in the terminal.
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "ccroute/v1/supervisor.grpc.pb.h"
#include "client/cli/cli.h"

namespace ccroute::cli {
namespace {

constexpr const char* kTopHelp =
    R"(Usage: ccroute top [--interval SECONDS] [-b] [-n ITERATIONS]

A live wallboard of the contact center, like `top`: per queue the waiting
contacts, the oldest wait, the service level against its target (green at
or above the goal, yellow within 10 points of it, red below), answered and
abandoned contacts, average speed of answer, estimated wait and ready
agents; agents by state; and the latest events. It redraws as events
arrive on the supervisor stream, at most 5 times a second, and at least
every --interval (default 1) seconds.

Keys: q (or Ctrl-C) quits; the screen follows the terminal's size.

When standard output is not a terminal (or with -b), it prints plain text
frames without colours or cursor movement: one frame, or -n of them
--interval apart (-n 0: until interrupted).
)";

std::atomic<bool> g_quit{false};
std::atomic<bool> g_resized{false};

void OnSignal(int sig) {
  if (sig == SIGWINCH) {
    g_resized = true;
  } else {
    g_quit = true;
  }
}

// The data one frame shows.
struct Snapshot {
  std::vector<v1::QueueStats> queues;
  std::vector<v1::AgentStats> agents;
  std::deque<std::string> events;  // newest last
  std::string error;               // the last failure to fetch, if any
};

// Follows the supervisor stream on its own thread: each event is kept for
// the ticker and wakes the drawing loop. Thread-safe.
class EventFeed {
 public:
  EventFeed(std::shared_ptr<grpc::Channel> channel, size_t keep)
      : stub_(v1::Supervisor::NewStub(channel)), keep_(keep) {
    thread_ = std::thread([this] { Run(); });
  }
  ~EventFeed() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      if (context_) context_->TryCancel();
    }
    thread_.join();
  }
  // Waits up to `timeout` for an event newer than the last call's.
  bool WaitNew(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    bool fresh = cv_.wait_for(lock, timeout, [&] { return seq_ != seen_; });
    seen_ = seq_;
    return fresh;
  }
  void Wake() {
    std::lock_guard<std::mutex> lock(mu_);
    ++seq_;
    cv_.notify_all();
  }
  std::deque<std::string> Recent() {
    std::lock_guard<std::mutex> lock(mu_);
    return recent_;
  }

 private:
  void Run() {
    while (true) {
      auto context = std::make_shared<grpc::ClientContext>();
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return;
        context_ = context;
      }
      auto reader = stub_->WatchEvents(context.get(), v1::WatchEventsRequest());
      v1::Event e;
      while (reader->Read(&e)) {
        std::string line = FormatClock(e.at()) + " " + e.kind();
        if (!e.contact_id().empty()) line += " " + e.contact_id();
        if (!e.agent_id().empty()) line += " agent=" + e.agent_id();
        if (!e.queue().empty()) line += " queue=" + e.queue();
        if (e.agent_state() != v1::AGENT_STATE_UNSPECIFIED) {
          line += " " + AgentStateName(e.agent_state());
        }
        if (e.end_reason() != v1::END_REASON_UNSPECIFIED) {
          line += " " + EndReasonName(e.end_reason());
        }
        std::lock_guard<std::mutex> lock(mu_);
        recent_.push_back(line);
        while (recent_.size() > keep_) recent_.pop_front();
        ++seq_;
        cv_.notify_all();
      }
      reader->Finish();
      std::unique_lock<std::mutex> lock(mu_);
      // The server went away or restarted: try again shortly.
      if (cv_.wait_for(lock, std::chrono::seconds(1),
                       [&] { return stopping_; })) {
        return;
      }
    }
  }

  std::unique_ptr<v1::Supervisor::Stub> stub_;
  const size_t keep_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::shared_ptr<grpc::ClientContext> context_;
  uint64_t seq_ = 0, seen_ = 0;
  std::deque<std::string> recent_;
  std::thread thread_;
};

std::string Colour(const std::string& text, const char* code, bool colour) {
  if (!colour || code == nullptr) return text;
  return std::string("\x1b[") + code + "m" + text + "\x1b[0m";
}

// Visible width of a line that may hold colour codes.
size_t VisibleWidth(const std::string& s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b') {
      while (i < s.size() && s[i] != 'm') ++i;
    } else {
      ++n;
    }
  }
  return n;
}

// Cuts a line to `width` visible characters, keeping colour codes whole.
std::string Fit(const std::string& s, size_t width) {
  std::string out;
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b') {
      size_t end = s.find('m', i);
      if (end == std::string::npos) break;
      out += s.substr(i, end - i + 1);
      i = end;
    } else if (n < width) {
      out += s[i];
      ++n;
    }
  }
  return out;
}

const char* ServiceLevelColour(const v1::QueueStats& q) {
  if (!q.has_service_level()) return nullptr;
  if (q.service_level() >= q.service_level_goal()) return "32";  // green
  if (q.service_level() >= q.service_level_goal() - 0.10) return "33";
  return "31";  // red
}

const char* StateColour(int state) {
  switch (state) {
    case v1::AGENT_STATE_READY:
      return "32";
    case v1::AGENT_STATE_NOT_READY:
      return "33";
    default:
      return "2";  // dim
  }
}

// Colours the cells of one column of rendered table lines. Table pads
// cells, so the colour goes around the padded cell text in place.
std::vector<std::string> TableLines(const Table& table) {
  std::vector<std::string> lines;
  std::string text = table.Render();
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// Wraps the first occurrence of `cell` at or after column `from` of
// `line` in a colour.
void ColourCell(std::string& line, size_t from, const std::string& cell,
                const char* code) {
  if (code == nullptr || cell.empty()) return;
  size_t at = line.find(cell, from);
  if (at == std::string::npos) return;
  line = line.substr(0, at) + Colour(cell, code, true) +
         line.substr(at + cell.size());
}

std::vector<std::string> RenderFrame(const Snapshot& s,
                                     const std::string& server, size_t width,
                                     size_t height, bool colour) {
  std::vector<std::string> out;
  std::map<int, int> by_state;
  int busy = 0, connected = 0;
  for (const auto& a : s.agents) {
    ++by_state[a.state()];
    if (!a.contacts().empty() || !a.offered_contact().empty()) ++busy;
    if (a.connected()) ++connected;
  }
  int waiting = 0;
  for (const auto& q : s.queues) waiting += q.waiting();
  auto now = std::chrono::system_clock::now().time_since_epoch();
  google::protobuf::Timestamp t;
  t.set_seconds(std::chrono::duration_cast<std::chrono::seconds>(now).count());
  std::string clock = FormatClock(t).substr(0, 8);
  out.push_back(
      Colour("ccroute top", "1", colour) + "  " + server + "  " + clock +
      "   waiting " + std::to_string(waiting) +
      "   agents: " + std::to_string(by_state[v1::AGENT_STATE_READY]) +
      " ready, " + std::to_string(by_state[v1::AGENT_STATE_NOT_READY]) +
      " not ready, " + std::to_string(by_state[v1::AGENT_STATE_OFFLINE]) +
      " offline; " + std::to_string(busy) + " busy, " +
      std::to_string(connected) + " connected");
  if (!s.error.empty()) {
    out.push_back(Colour("error: " + s.error, "31", colour));
  }
  out.push_back("");

  Table queues({"QUEUE", "WAITING", "OFFERED", "OLDEST", "SL", "TARGET", "GOAL",
                "ANSWERED", "ABANDONED", "ASA", "EWT", "READY"});
  for (const auto& q : s.queues) {
    queues.AddRow(
        {q.queue(), std::to_string(q.waiting()), std::to_string(q.offered()),
         q.waiting() > 0 ? FormatDuration(ToMillis(q.oldest_wait())) : "-",
         q.has_service_level() ? FormatPercent(q.service_level()) : "-",
         FormatDuration(ToMillis(q.service_level_target())),
         FormatPercent(q.service_level_goal()), std::to_string(q.answered()),
         std::to_string(q.abandoned()),
         q.window_answered() > 0
             ? FormatDuration(ToMillis(q.average_speed_of_answer()))
             : "-",
         q.has_estimated_wait() ? FormatDuration(ToMillis(q.estimated_wait()))
                                : "-",
         std::to_string(q.agents_ready())});
  }
  auto queue_lines = TableLines(queues);
  // The SL column starts after the QUEUE..OLDEST columns; colour each
  // queue's figure where it appears from there on.
  size_t sl_column = queue_lines.empty() ? 0 : queue_lines[0].find("SL");
  for (size_t i = 0; i < queue_lines.size(); ++i) {
    if (i == 0) {
      out.push_back(Colour(queue_lines[0], "1", colour));
      continue;
    }
    const auto& q = s.queues[i - 1];
    std::string line = queue_lines[i];
    if (colour && q.has_service_level()) {
      ColourCell(line, sl_column > 6 ? sl_column - 6 : 0,
                 FormatPercent(q.service_level()), ServiceLevelColour(q));
    }
    out.push_back(line);
  }
  out.push_back("");

  Table agents({"AGENT", "STATE", "REASON", "IN STATE", "LOAD", "CONTACTS",
                "HANDLED", "OCCUPANCY"});
  for (const auto& a : s.agents) {
    std::map<std::string, int> load(a.load().begin(), a.load().end());
    std::string load_cell;
    for (const auto& [ch, n] : load) {
      if (n > 0)
        load_cell +=
            (load_cell.empty() ? "" : ",") + ch + ":" + std::to_string(n);
    }
    std::string contacts;
    if (!a.offered_contact().empty()) contacts = a.offered_contact() + "?";
    for (const auto& c : a.contacts()) {
      contacts += (contacts.empty() ? "" : ",") + c;
    }
    agents.AddRow({a.agent_id(), AgentStateName(a.state()),
                   a.reason().empty() ? "-" : a.reason(),
                   FormatDuration(ToMillis(a.time_in_state())),
                   load_cell.empty() ? "-" : load_cell,
                   contacts.empty() ? "-" : contacts,
                   std::to_string(a.handled()),
                   a.has_occupancy() ? FormatPercent(a.occupancy()) : "-"});
  }
  auto agent_lines = TableLines(agents);
  // Room for the queues, a header and some events; agents get the rest.
  size_t events_room = std::min<size_t>(s.events.size(), 6);
  size_t fixed = out.size() + 2 + (events_room ? events_room + 2 : 0);
  size_t agent_room = height > fixed ? height - fixed : 1;
  for (size_t i = 0; i < agent_lines.size(); ++i) {
    if (i >= agent_room) {
      out.push_back("... " + std::to_string(agent_lines.size() - i) +
                    " more agents");
      break;
    }
    std::string line = agent_lines[i];
    if (i == 0) {
      line = Colour(line, "1", colour);
    } else if (colour) {
      ColourCell(line, s.agents[i - 1].agent_id().size(),
                 AgentStateName(s.agents[i - 1].state()),
                 StateColour(s.agents[i - 1].state()));
    }
    out.push_back(line);
  }
  if (events_room > 0) {
    out.push_back("");
    out.push_back(Colour("RECENT EVENTS", "1", colour));
    for (size_t i = s.events.size() - events_room; i < s.events.size(); ++i) {
      out.push_back(s.events[i]);
    }
  }
  for (auto& line : out) {
    if (VisibleWidth(line) > width) line = Fit(line, width);
  }
  if (out.size() > height) out.resize(height);
  return out;
}

// Fetches the queue and agent lists; an error leaves the last ones.
void Refresh(const Invocation& inv, v1::Supervisor::Stub& stub,
             Snapshot& snapshot) {
  grpc::ClientContext qc;
  inv.connection.Prepare(qc);
  v1::ListQueueStatsResponse queues;
  grpc::Status s =
      stub.ListQueueStats(&qc, v1::ListQueueStatsRequest(), &queues);
  if (!s.ok()) {
    snapshot.error = s.error_message() + " (retrying)";
    return;
  }
  grpc::ClientContext ac;
  inv.connection.Prepare(ac);
  v1::ListAgentsResponse agents;
  s = stub.ListAgents(&ac, v1::ListAgentsRequest(), &agents);
  if (!s.ok()) {
    snapshot.error = s.error_message() + " (retrying)";
    return;
  }
  snapshot.error.clear();
  snapshot.queues.assign(queues.queues().begin(), queues.queues().end());
  snapshot.agents.assign(agents.agents().begin(), agents.agents().end());
}

// Raw, unechoed keys and the alternate screen while alive.
class TerminalMode {
 public:
  TerminalMode() {
    if (tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios raw = saved_;
      raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      tcsetattr(STDIN_FILENO, TCSANOW, &raw);
      restore_ = true;
    }
    std::cout << "\x1b[?1049h\x1b[?25l" << std::flush;
  }
  ~TerminalMode() {
    std::cout << "\x1b[?25h\x1b[?1049l" << std::flush;
    if (restore_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }

 private:
  termios saved_{};
  bool restore_ = false;
};

void TerminalSize(size_t* width, size_t* height) {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
    *width = ws.ws_col;
    *height = ws.ws_row;
  } else {
    *width = 80;
    *height = 24;
  }
}

}  // namespace

int RunTop(Invocation& inv) {
  if (inv.args.Has("help")) {
    std::cout << kTopHelp;
    return kExitOk;
  }
  if (auto s =
          inv.args.CheckKnown({"interval", "b", "batch", "n", "iterations"});
      !s.ok()) {
    return UsageError("top", std::string(s.message()));
  }
  auto interval = inv.args.GetDouble("interval", 1.0);
  if (!interval.ok() || *interval < 0.1 || *interval > 3600) {
    return UsageError("top", "--interval must be between 0.1 and 3600 seconds");
  }
  const bool batch =
      inv.args.Has("b") || inv.args.Has("batch") || !isatty(STDOUT_FILENO);
  const std::string n_flag = inv.args.Has("n") ? "n" : "iterations";
  auto iterations = inv.args.GetInt(n_flag, 1);
  if (!iterations.ok() || *iterations < 0) {
    return UsageError("top", "-n must be a non-negative integer");
  }
  auto channel = inv.connection.NewChannel();
  if (!channel.ok()) {
    std::cerr << "ccroute: " << channel.status().message() << "\n";
    return kExitUsage;
  }
  auto stub = v1::Supervisor::NewStub(*channel);
  auto period =
      std::chrono::milliseconds(static_cast<long long>(*interval * 1000));

  if (batch) {
    Snapshot snapshot;
    for (long long i = 0; *iterations == 0 || i < *iterations; ++i) {
      if (i > 0) std::this_thread::sleep_for(period);
      Refresh(inv, *stub, snapshot);
      if (!snapshot.error.empty() && snapshot.queues.empty()) {
        return ReportError(
            "top", grpc::Status(grpc::StatusCode::UNAVAILABLE, snapshot.error));
      }
      if (inv.json) {
        v1::ListQueueStatsResponse q;
        v1::ListAgentsResponse a;
        for (const auto& x : snapshot.queues) *q.add_queues() = x;
        for (const auto& x : snapshot.agents) *a.add_agents() = x;
        std::cout << "{\"queues\":" << ToJson(q) << ",\"agents\":" << ToJson(a)
                  << "}" << std::endl;
        continue;
      }
      if (i > 0) std::cout << "\n";
      for (const auto& line :
           RenderFrame(snapshot, inv.connection.server, 1000, 100000, false)) {
        std::cout << line << "\n";
      }
      std::cout << std::flush;
    }
    return kExitOk;
  }

  // Interactive: check the server once so that a wrong address is one
  // clear error, not a screen of retries.
  Snapshot snapshot;
  Refresh(inv, *stub, snapshot);
  if (!snapshot.error.empty()) {
    return ReportError(
        "top", grpc::Status(grpc::StatusCode::UNAVAILABLE, snapshot.error));
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGWINCH, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  EventFeed feed(*channel, 6);
  TerminalMode terminal;
  size_t width = 80, height = 24;
  TerminalSize(&width, &height);
  auto last_draw = std::chrono::steady_clock::time_point();
  bool keyboard = true;
  bool dirty = true;
  while (!g_quit) {
    if (g_resized.exchange(false)) {
      TerminalSize(&width, &height);
      dirty = true;
    }
    auto now = std::chrono::steady_clock::now();
    if (dirty || now - last_draw >= period) {
      Refresh(inv, *stub, snapshot);
      snapshot.events = feed.Recent();
      std::string frame = "\x1b[H";
      for (const auto& line :
           RenderFrame(snapshot, inv.connection.server, width, height, true)) {
        frame += line + "\x1b[K\r\n";
      }
      frame += "\x1b[J";
      // The last line's newline would scroll a full screen.
      if (frame.size() > 2) frame.erase(frame.rfind("\r\n"), 2);
      std::cout << frame << std::flush;
      last_draw = now;
      dirty = false;
    }
    // Keys first (q quits), then new events; at most 5 frames a second.
    if (keyboard) {
      pollfd key{STDIN_FILENO, POLLIN, 0};
      if (poll(&key, 1, 200) > 0 && (key.revents & (POLLIN | POLLHUP))) {
        char c = 0;
        ssize_t n;
        while ((n = read(STDIN_FILENO, &c, 1)) == 1) {
          if (c == 'q' || c == 'Q' || c == 3) g_quit = true;
          if (c == 12) dirty = true;  // Ctrl-L redraws
        }
        if (n == 0 && !isatty(STDIN_FILENO)) keyboard = false;  // end of input
      }
      if (feed.WaitNew(std::chrono::milliseconds(0))) dirty = true;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (feed.WaitNew(std::chrono::milliseconds(0))) dirty = true;
    }
  }
  return kExitOk;
}

}  // namespace ccroute::cli
