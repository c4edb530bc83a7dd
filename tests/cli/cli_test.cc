// The `ccroute` command-line tool against a real server on loopback: each
// subcommand's table and --json output, its exit codes, the interactive
// agent, the demo traffic generator, and `top` in a real terminal (tmux).
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "tests/cli/cli_process.h"
#include "tests/integration/test_server.h"

namespace ccroute::testing {
namespace {

const std::string kCli = CCROUTE_CLI_PATH;
constexpr auto kLong = std::chrono::seconds(30);

struct Result {
  int exit = -1;
  std::string out, err;
};

// Splits on '\n', dropping the empty tail.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

template <typename Message>
Message FromJson(const std::string& json) {
  Message m;
  auto s = google::protobuf::util::JsonStringToMessage(json, &m);
  EXPECT_TRUE(s.ok()) << s.message() << " in: " << json;
  return m;
}

class CliTest : public ::testing::Test {
 protected:
  CliTest() : server_(Queues(), Agents()) {}

  static std::vector<core::QueueConfig> Queues() {
    auto sales = Queue("sales");
    sales.requirements = {{"sales", 3}};
    return {sales, Queue("support")};
  }
  static std::vector<core::AgentProfile> Agents() {
    auto alice = Agent("alice", 30s);
    alice.skills = {{"sales", 8}};
    auto bob = Agent("bob");
    return {alice, bob};
  }

  std::string Address() {
    return "127.0.0.1:" + std::to_string(server_.server().port());
  }

  std::vector<std::string> WithServer(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", Address()});
    return args;
  }

  Result Run(std::vector<std::string> args, const std::string& input = "") {
    CliProcess p(kCli, WithServer(std::move(args)));
    p.Write(input);
    p.CloseStdin();
    auto code = p.Wait(kLong);
    EXPECT_TRUE(code.has_value()) << "ccroute did not exit";
    return {code.value_or(-1), p.out(), p.err()};
  }

  std::unique_ptr<CliProcess> Start(std::vector<std::string> args) {
    return std::make_unique<CliProcess>(kCli, WithServer(std::move(args)));
  }

  void Create(const std::string& id, const std::string& queue) {
    v1::Contact c;
    auto request = NewContact(id, queue);
    ASSERT_TRUE(
        server_.contacts()->CreateContact(Deadline().get(), request, &c).ok());
  }

  v1::Contact Get(const std::string& id) {
    v1::GetContactRequest r;
    r.set_contact_id(id);
    v1::Contact c;
    EXPECT_TRUE(server_.contacts()->GetContact(Deadline().get(), r, &c).ok());
    return c;
  }

  v1::AgentStats AgentNow(const std::string& id) {
    v1::ListAgentsResponse r;
    EXPECT_TRUE(server_.supervisor()
                    ->ListAgents(Deadline().get(), v1::ListAgentsRequest(), &r)
                    .ok());
    for (const auto& a : r.agents()) {
      if (a.agent_id() == id) return a;
    }
    ADD_FAILURE() << "no agent " << id;
    return {};
  }

  TestServer server_;
};

TEST_F(CliTest, QueuesPrintsATableAndJson) {
  Create("c1", "support");
  Create("c2", "support");
  Result table = Run({"queues"});
  ASSERT_EQ(table.exit, 0) << table.err;
  auto lines = Lines(table.out);
  ASSERT_EQ(lines.size(), 3u) << table.out;
  EXPECT_EQ(lines[0].rfind("QUEUE", 0), 0u);
  EXPECT_NE(lines[0].find("WAITING"), std::string::npos);
  EXPECT_NE(lines[0].find("SL"), std::string::npos);
  // Rows in name order, each with its waiting count under WAITING.
  EXPECT_EQ(lines[1].rfind("sales", 0), 0u);
  EXPECT_EQ(lines[2].rfind("support", 0), 0u);
  size_t col = lines[0].find("WAITING") + std::string("WAITING").size() - 1;
  EXPECT_EQ(lines[2][col], '2') << table.out;
  EXPECT_EQ(lines[1][col], '0') << table.out;

  Result json = Run({"queues", "--json"});
  ASSERT_EQ(json.exit, 0) << json.err;
  auto parsed = FromJson<v1::ListQueueStatsResponse>(json.out);
  ASSERT_EQ(parsed.queues_size(), 2);
  EXPECT_EQ(parsed.queues(1).queue(), "support");
  EXPECT_EQ(parsed.queues(1).waiting(), 2);

  Result one = Run({"queues", "support", "--json"});
  ASSERT_EQ(one.exit, 0) << one.err;
  EXPECT_EQ(FromJson<v1::QueueStats>(one.out).created(), 2);

  Result missing = Run({"queues", "nope"});
  EXPECT_EQ(missing.exit, 1);
  EXPECT_NE(missing.err.find("NOT_FOUND"), std::string::npos) << missing.err;
  EXPECT_EQ(Lines(missing.err).size(), 1u) << missing.err;
}

TEST_F(CliTest, AgentsShowsStatesAndFiltersByState) {
  Desktop alice(server_, "alice");
  ASSERT_EQ(alice.Login(), grpc::StatusCode::OK);
  Result table = Run({"agents"});
  ASSERT_EQ(table.exit, 0) << table.err;
  auto lines = Lines(table.out);
  ASSERT_EQ(lines.size(), 3u) << table.out;
  EXPECT_NE(lines[1].find("alice"), std::string::npos);
  EXPECT_NE(lines[1].find("ready"), std::string::npos);
  EXPECT_NE(lines[1].find("connected"), std::string::npos);
  EXPECT_NE(lines[2].find("offline"), std::string::npos);

  Result ready = Run({"agents", "--state", "ready", "--json"});
  ASSERT_EQ(ready.exit, 0) << ready.err;
  auto parsed = FromJson<v1::ListAgentsResponse>(ready.out);
  ASSERT_EQ(parsed.agents_size(), 1);
  EXPECT_EQ(parsed.agents(0).agent_id(), "alice");
  EXPECT_TRUE(parsed.agents(0).connected());

  Result bad = Run({"agents", "--state", "sleepy"});
  EXPECT_EQ(bad.exit, 2);
  EXPECT_NE(bad.err.find("sleepy"), std::string::npos);
}

TEST_F(CliTest, ContactCreateGetUpdateCancel) {
  Result created =
      Run({"contact", "create", "--queue", "support", "--id", "c7",
           "--priority", "4", "--channel", "chat", "--attr", "language=de",
           "--skill", "german:2", "--customer", "cust-9"});
  ASSERT_EQ(created.exit, 0) << created.err;
  EXPECT_NE(created.out.find("position"), std::string::npos) << created.out;
  v1::Contact c = Get("c7");
  EXPECT_EQ(c.queue(), "support");
  EXPECT_EQ(c.priority(), 4);
  EXPECT_EQ(c.channel(), v1::CHANNEL_CHAT);
  EXPECT_EQ(c.attributes().at("language"), "de");
  ASSERT_EQ(c.requirements_size(), 1);
  EXPECT_EQ(c.requirements(0).skill(), "german");
  EXPECT_EQ(c.requirements(0).min_level(), 2);

  // The same id again returns the existing contact: no second caller.
  Result again = Run({"contact", "create", "--queue", "support", "--id", "c7",
                      "--channel", "chat", "--json"});
  ASSERT_EQ(again.exit, 0) << again.err;
  EXPECT_FALSE(FromJson<v1::Contact>(again.out).created());
  EXPECT_EQ(server_.LiveContacts(), 1u);

  Result got = Run({"contact", "get", "c7", "--json"});
  ASSERT_EQ(got.exit, 0) << got.err;
  EXPECT_EQ(FromJson<v1::Contact>(got.out).state(), v1::CONTACT_STATE_QUEUED);

  Result updated = Run({"contact", "update", "c7", "--priority", "9"});
  ASSERT_EQ(updated.exit, 0) << updated.err;
  EXPECT_EQ(Get("c7").priority(), 9);

  Result cancelled = Run({"contact", "cancel", "c7", "--reason", "cancelled"});
  ASSERT_EQ(cancelled.exit, 0) << cancelled.err;
  EXPECT_NE(cancelled.out.find("ended"), std::string::npos);
  EXPECT_NE(cancelled.out.find("cancelled"), std::string::npos);
  EXPECT_EQ(Get("c7").end_reason(), v1::END_REASON_CANCELLED);
  EXPECT_EQ(server_.LiveContacts(), 0u);
}

TEST_F(CliTest, ContactErrorsAreOneLineWithExitCodes) {
  Result missing_queue = Run({"contact", "create"});
  EXPECT_EQ(missing_queue.exit, 2);
  EXPECT_NE(missing_queue.err.find("--queue"), std::string::npos);

  Result bad_skill =
      Run({"contact", "create", "--queue", "sales", "--skill", "sales"});
  EXPECT_EQ(bad_skill.exit, 2);
  EXPECT_NE(bad_skill.err.find("NAME:LEVEL"), std::string::npos);

  Result typo = Run({"contact", "create", "--queue", "sales", "--prio", "3"});
  EXPECT_EQ(typo.exit, 2);
  EXPECT_NE(typo.err.find("unknown flag --prio"), std::string::npos);

  Result unknown_queue =
      Run({"contact", "create", "--queue", "nowhere", "--id", "x1"});
  EXPECT_EQ(unknown_queue.exit, 1);
  EXPECT_EQ(Lines(unknown_queue.err).size(), 1u) << unknown_queue.err;
  EXPECT_NE(unknown_queue.err.find("nowhere"), std::string::npos);
  EXPECT_EQ(server_.LiveContacts(), 0u);

  Result unknown_contact = Run({"contact", "get", "ghost"});
  EXPECT_EQ(unknown_contact.exit, 1);
  EXPECT_NE(unknown_contact.err.find("NOT_FOUND"), std::string::npos);

  Result bad_verb = Run({"contact", "shred", "x"});
  EXPECT_EQ(bad_verb.exit, 2);
}

TEST_F(CliTest, UnreachableServerExitsThree) {
  CliProcess p(kCli, {"--server", "127.0.0.1:1", "--timeout", "2", "queues"});
  auto code = p.Wait(kLong);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 3);
  EXPECT_NE(p.err().find("UNAVAILABLE"), std::string::npos) << p.err();
}

TEST_F(CliTest, ContactWatchFollowsToTheEnd) {
  Create("w1", "support");
  auto watch = Start({"contact", "watch", "w1"});
  ASSERT_TRUE(watch->WaitForOutput("snapshot", kWait)) << watch->err();
  Desktop bob(server_, "bob");
  ASSERT_EQ(bob.Login(), grpc::StatusCode::OK);
  auto offer = bob.NextOffer();
  ASSERT_TRUE(offer.has_value());
  ASSERT_EQ(bob.Accept("w1"), grpc::StatusCode::OK);
  ASSERT_EQ(bob.Complete("w1"), grpc::StatusCode::OK);
  auto code = watch->Wait(kLong);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << watch->err();
  std::string out = watch->out();
  EXPECT_NE(out.find("offered"), std::string::npos) << out;
  EXPECT_NE(out.find("assigned"), std::string::npos) << out;
  EXPECT_NE(out.find("agent=bob"), std::string::npos) << out;
  EXPECT_NE(out.find("reason=completed"), std::string::npos) << out;
}

TEST_F(CliTest, EventsFollowsTheStreamWithFilters) {
  auto events = Start({"events", "--kind", "contact_queued", "--queue",
                       "support", "--count", "2", "--json"});
  // The stream opens asynchronously: keep queuing contacts (and one the
  // filter drops each time) until two have been printed.
  std::optional<int> code;
  for (int i = 0; i < 100 && !code; ++i) {
    Create("x" + std::to_string(i), "sales");
    Create("e" + std::to_string(i), "support");
    code = events->Wait(std::chrono::milliseconds(100));
  }
  if (!code) code = events->Wait(kLong);
  ASSERT_TRUE(code.has_value()) << events->out();
  EXPECT_EQ(*code, 0) << events->err();
  auto lines = Lines(events->out());
  ASSERT_EQ(lines.size(), 2u) << events->out();
  auto first = FromJson<v1::Event>(lines[0]);
  auto second = FromJson<v1::Event>(lines[1]);
  for (const auto& e : {first, second}) {
    EXPECT_EQ(e.kind(), "contact_queued");
    EXPECT_EQ(e.queue(), "support");
    EXPECT_EQ(e.contact_id()[0], 'e');
  }
  // Consecutive: nothing in between was lost.
  EXPECT_EQ(std::stoi(second.contact_id().substr(1)),
            std::stoi(first.contact_id().substr(1)) + 1);
}

TEST_F(CliTest, AgentLoginIsAnInteractiveDesktop) {
  auto agent = Start({"agent", "login", "alice"});
  ASSERT_TRUE(agent->WaitForOutput("connected as alice", kWait))
      << agent->err();
  Create("a1", "sales");
  ASSERT_TRUE(agent->WaitForOutput("offer     a1", kWait)) << agent->out();
  agent->Write("accept\n");
  ASSERT_TRUE(agent->WaitForOutput("assigned  a1", kWait)) << agent->out();
  EXPECT_EQ(Get("a1").state(), v1::CONTACT_STATE_ASSIGNED);
  EXPECT_EQ(Get("a1").agent_id(), "alice");
  agent->Write("logout\n");  // refused: alice holds a1
  agent->Write("complete a1 sold\n");
  ASSERT_TRUE(agent->WaitForOutput("wrap-up   a1", kWait)) << agent->out();
  agent->Write("end-wrap-up\n");
  ASSERT_TRUE(agent->WaitForOutput("done      a1", kWait)) << agent->out();
  agent->Write("not-ready lunch break\n");
  ASSERT_TRUE(agent->WaitForOutput("not_ready (lunch break)", kWait))
      << agent->out();
  EXPECT_EQ(AgentNow("alice").state(), v1::AGENT_STATE_NOT_READY);
  agent->Write("logout\n");
  auto code = agent->Wait(kLong);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << agent->err();
  EXPECT_NE(agent->err().find("FAILED_PRECONDITION"), std::string::npos)
      << "the first logout, holding a contact, is refused: " << agent->err();
  EXPECT_EQ(Get("a1").end_reason(), v1::END_REASON_COMPLETED);
  EXPECT_EQ(AgentNow("alice").state(), v1::AGENT_STATE_OFFLINE);
}

TEST_F(CliTest, AgentLoginRejectAndUnknownAgent) {
  auto agent = Start({"agent", "login", "bob", "--json"});
  ASSERT_TRUE(agent->WaitForOutput("\"status\"", kWait)) << agent->err();
  Create("r1", "support");
  ASSERT_TRUE(agent->WaitForOutput("\"offer\"", kWait)) << agent->out();
  agent->Write("reject r1\n");
  ASSERT_TRUE(agent->WaitForOutput("ok: reject r1", kWait)) << agent->out();
  agent->CloseStdin();  // end of input: logs out
  auto code = agent->Wait(kLong);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << agent->err();
  EXPECT_EQ(AgentNow("bob").state(), v1::AGENT_STATE_OFFLINE);
  EXPECT_EQ(Get("r1").state(), v1::CONTACT_STATE_QUEUED);

  Result unknown = Run({"agent", "login", "mallory"});
  EXPECT_EQ(unknown.exit, 1);
  EXPECT_NE(unknown.err.find("NOT_FOUND"), std::string::npos) << unknown.err;
}

TEST_F(CliTest, AdminApplyChecksFirstThenAppliesAndExports) {
  std::string dir = ::testing::TempDir();
  std::string bad = dir + "/ccroute_cli_bad.yaml";
  std::ofstream(bad) << "queues:\n  - name: vip\n    nmae: oops\n";
  Result refused = Run({"admin", "apply", bad});
  EXPECT_EQ(refused.exit, 2);
  EXPECT_NE(refused.err.find("nmae"), std::string::npos) << refused.err;

  std::string good = dir + "/ccroute_cli_good.yaml";
  std::ofstream(good) << "queues:\n"
                         "  - name: vip\n"
                         "    service_level_target: 10s\n"
                         "    overflow_queue: support\n"
                         "    max_waiting: 5\n"
                         "  - name: support\n"
                         "agents:\n"
                         "  - id: zoe\n"
                         "    skills: [{name: sales, level: 9}]\n"
                         "routing:\n"
                         "  contact_selection: fifo\n";
  Result dry = Run({"admin", "apply", good, "--dry-run", "--prune"});
  ASSERT_EQ(dry.exit, 0) << dry.err;
  EXPECT_NE(dry.out.find("create queue vip (dry run)"), std::string::npos)
      << dry.out;
  EXPECT_NE(dry.out.find("delete queue sales (dry run)"), std::string::npos);
  v1::ListQueuesResponse queues;
  ASSERT_TRUE(
      server_.admin()
          ->ListQueues(Deadline().get(), v1::ListQueuesRequest(), &queues)
          .ok());
  EXPECT_EQ(queues.queues_size(), 2) << "a dry run changes nothing";

  Result applied = Run({"admin", "apply", good, "--json"});
  ASSERT_EQ(applied.exit, 0) << applied.err;
  EXPECT_NE(applied.out.find("\"failed\":0"), std::string::npos) << applied.out;

  Result exported = Run({"admin", "export"});
  ASSERT_EQ(exported.exit, 0) << exported.err;
  auto config = FromJson<v1::ServerConfig>(exported.out);
  ASSERT_EQ(config.queues_size(), 3);
  bool vip = false;
  for (const auto& q : config.queues()) {
    if (q.name() == "vip") {
      vip = true;
      EXPECT_EQ(q.overflow_queue(), "support");
      EXPECT_EQ(q.max_waiting(), 5);
    }
  }
  EXPECT_TRUE(vip);
  EXPECT_EQ(config.agents_size(), 3);
  EXPECT_EQ(config.routing().contact_selection(), "fifo");

  // The export applies back as it is.
  std::string round = dir + "/ccroute_cli_export.json";
  std::ofstream(round) << exported.out;
  Result again = Run({"admin", "apply", round});
  EXPECT_EQ(again.exit, 0) << again.err;
}

TEST_F(CliTest, AdminSetStateAndDelete) {
  Result offline = Run({"admin", "set-state", "bob", "ready"});
  // READY needs a desktop; the server says why.
  EXPECT_EQ(offline.exit, 1);
  EXPECT_EQ(Lines(offline.err).size(), 1u) << offline.err;

  Desktop bob(server_, "bob");
  ASSERT_EQ(bob.Login(), grpc::StatusCode::OK);
  Result nr = Run({"admin", "set-state", "bob", "not_ready", "--reason",
                   "coaching", "--json"});
  ASSERT_EQ(nr.exit, 0) << nr.err;
  EXPECT_EQ(FromJson<v1::AgentStats>(nr.out).state(),
            v1::AGENT_STATE_NOT_READY);
  EXPECT_EQ(AgentNow("bob").reason(), "coaching");

  Result bad = Run({"admin", "set-state", "bob", "asleep"});
  EXPECT_EQ(bad.exit, 2);

  Result deleted = Run({"admin", "delete-queue", "sales"});
  ASSERT_EQ(deleted.exit, 0) << deleted.err;
  Result gone = Run({"queues", "sales"});
  EXPECT_EQ(gone.exit, 1);
}

TEST_F(CliTest, HealthReportsServing) {
  Result health = Run({"health"});
  EXPECT_EQ(health.exit, 0) << health.err;
  EXPECT_EQ(health.out, "SERVING\n");
  Result json = Run({"health", "--json"});
  EXPECT_NE(json.out.find("\"status\":\"SERVING\""), std::string::npos);
  Result service = Run({"health", "--service", "ccroute.v1.Contacts"});
  EXPECT_EQ(service.exit, 0) << service.err;
  Result unknown = Run({"health", "--service", "ccroute.v1.Nothing"});
  EXPECT_EQ(unknown.exit, 1);
  EXPECT_NE(unknown.err.find("NOT_FOUND"), std::string::npos) << unknown.err;
}

TEST_F(CliTest, TopWithoutATerminalPrintsPlainFrames) {
  Create("t1", "support");
  Result top = Run({"top", "-n", "2", "--interval", "0.2"});
  ASSERT_EQ(top.exit, 0) << top.err;
  EXPECT_EQ(top.out.find('\x1b'), std::string::npos) << "no escape codes";
  size_t first = top.out.find("ccroute top");
  ASSERT_NE(first, std::string::npos);
  EXPECT_NE(top.out.find("ccroute top", first + 1), std::string::npos)
      << "two frames";
  EXPECT_NE(top.out.find("QUEUE"), std::string::npos);
  EXPECT_NE(top.out.find("AGENT"), std::string::npos);
  EXPECT_NE(top.out.find("waiting 1"), std::string::npos) << top.out;

  Result json = Run({"top", "--json"});
  ASSERT_EQ(json.exit, 0) << json.err;
  EXPECT_NE(json.out.find("\"queues\":{\"queues\":["), std::string::npos);
}

// tmux gives `top` a real pseudo-terminal and renders its screen.
class Tmux {
 public:
  explicit Tmux(std::string socket) : socket_(std::move(socket)) {}
  ~Tmux() { Run({"kill-server"}); }
  int Run(const std::vector<std::string>& args, std::string* out = nullptr) {
    std::string cmd = "tmux -L " + socket_ + " -f /dev/null";
    for (const auto& a : args) cmd += " '" + a + "'";
    cmd += " 2>/dev/null";
    FILE* pipe = popen(cmd.c_str(), "r");
    if (pipe == nullptr) return -1;
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) text.append(buf, n);
    int status = pclose(pipe);
    if (out) *out = text;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  // The screen, once it satisfies `pred` (bounded wait); the last one.
  std::string WaitScreen(const std::function<bool(const std::string&)>& pred,
                         bool escapes = false) {
    std::string screen;
    auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      std::vector<std::string> args = {"capture-pane", "-p", "-t", "top"};
      if (escapes) args.push_back("-e");
      Run(args, &screen);
      if (pred(screen)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return screen;
  }

 private:
  std::string socket_;
};

TEST_F(CliTest, TopDrawsAWallboardInARealTerminal) {
  ASSERT_EQ(std::system("command -v tmux >/dev/null"), 0)
      << "tmux is needed (deploy/setup.sh installs it)";
  Tmux tmux("ccroute-cli-test-" + std::to_string(getpid()));
  std::string command = kCli + " --server " + Address() + " top";
  ASSERT_EQ(tmux.Run({"new-session", "-d", "-s", "top", "-x", "120", "-y", "30",
                      command}),
            0);
  auto has = [](const std::string& text) {
    return [text](const std::string& s) {
      return s.find(text) != std::string::npos;
    };
  };
  std::string screen = tmux.WaitScreen(has("support"));
  EXPECT_NE(screen.find("ccroute top"), std::string::npos) << screen;
  EXPECT_NE(screen.find("QUEUE"), std::string::npos) << screen;
  EXPECT_NE(screen.find("alice"), std::string::npos) << screen;

  // Live: a new contact and an answered one show without a key press.
  Desktop bob(server_, "bob");
  ASSERT_EQ(bob.Login(), grpc::StatusCode::OK);
  Create("s1", "support");
  ASSERT_TRUE(bob.NextOffer().has_value());
  ASSERT_EQ(bob.Accept("s1"), grpc::StatusCode::OK);
  Create("s2", "support");
  screen = tmux.WaitScreen(has("waiting 1"));
  EXPECT_NE(screen.find("waiting 1"), std::string::npos) << screen;
  EXPECT_NE(screen.find("contact_assigned s1"), std::string::npos) << screen;
  // s1 was answered within target: 100% service level, in green.
  std::string coloured = tmux.WaitScreen(has("\x1b[32m100.0%"), true);
  EXPECT_NE(coloured.find("\x1b[32m100.0%"), std::string::npos) << coloured;

  // Resized, it redraws to fit.
  ASSERT_EQ(tmux.Run({"resize-window", "-t", "top", "-x", "60", "-y", "15"}),
            0);
  screen = tmux.WaitScreen([](const std::string& s) {
    auto lines = Lines(s);
    if (lines.empty() || lines[0].find("ccroute top") == std::string::npos) {
      return false;
    }
    for (const auto& line : lines) {
      if (line.size() > 60) return false;
    }
    return lines.size() <= 15;
  });
  for (const auto& line : Lines(screen)) {
    EXPECT_LE(line.size(), 60u) << screen;
  }
  EXPECT_NE(screen.find("QUEUE"), std::string::npos) << screen;

  // q quits and gives the terminal back.
  ASSERT_EQ(tmux.Run({"send-keys", "-t", "top", "q"}), 0);
  bool gone = false;
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!gone && std::chrono::steady_clock::now() < deadline) {
    gone = tmux.Run({"has-session", "-t", "top"}) != 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(gone) << "top did not quit on q";
}

TEST_F(CliTest, DemoPlaysTrafficAndLeavesNothingBehind) {
  Result demo =
      Run({"demo", "--duration", "3", "--rate", "240", "--aht", "0.3",
           "--accept-delay", "0.05", "--patience", "1", "--seed", "7"});
  ASSERT_EQ(demo.exit, 0) << demo.err;
  EXPECT_NE(demo.out.find("2 of 2 agents logged in"), std::string::npos)
      << demo.out;
  // Contacts were created and answered; the final report counts them.
  auto lines = Lines(demo.out);
  ASSERT_GE(lines.size(), 3u) << demo.out;
  std::string report = lines[lines.size() - 2];
  long created = 0, answered = 0;
  ASSERT_EQ(std::sscanf(report.c_str(), "demo: %ld created, %*d offers, %ld",
                        &created, &answered),
            2)
      << report;
  EXPECT_GT(created, 3);
  EXPECT_GT(answered, 0);
  // On stop it cancelled what waited, completed what agents held, and
  // logged its agents out.
  EXPECT_EQ(server_.LiveContacts(), 0u);
  EXPECT_EQ(AgentNow("alice").state(), v1::AGENT_STATE_OFFLINE);
  EXPECT_EQ(AgentNow("bob").state(), v1::AGENT_STATE_OFFLINE);
  EXPECT_TRUE(server_.CheckInvariants().ok());
}

TEST_F(CliTest, HelpEverywhereAndUsageErrors) {
  for (const std::string cmd : {"queues", "agents", "contact", "agent",
                                "events", "top", "admin", "demo", "health"}) {
    Result help = Run({cmd, "--help"});
    EXPECT_EQ(help.exit, 0) << cmd;
    EXPECT_NE(help.out.find("Usage"), std::string::npos) << cmd;
  }
  Result top_level = Run({"--help"});
  EXPECT_EQ(top_level.exit, 0);
  EXPECT_NE(top_level.out.find("Exit codes"), std::string::npos);
  Result unknown = Run({"frobnicate"});
  EXPECT_EQ(unknown.exit, 2);
  EXPECT_NE(unknown.err.find("unknown command 'frobnicate'"),
            std::string::npos);
}

}  // namespace
}  // namespace ccroute::testing
