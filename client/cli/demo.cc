// `ccroute demo`: gateways and agents playing a living contact center
// against a running server.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include "ccroute/v1/admin.grpc.pb.h"
#include "ccroute/v1/supervisor.grpc.pb.h"
#include "client/agent_session.h"
#include "client/cli/cli.h"
#include "client/gateway_client.h"

namespace ccroute::cli {
namespace {

constexpr const char* kDemoHelp = R"(Usage: ccroute demo [options]

Plays a contact center against the running server, so that `ccroute top`,
`ccroute events` and the Prometheus metrics come alive: it logs in agents
(every configured agent profile without a desktop, or --agents of them),
and gateways create contacts in the configured queues as a Poisson stream.
Agents accept offers after a short delay (or reject some), talk for a
lognormal handle time, complete, wrap up, and now and then take a break.
Callers hang up if they wait longer than their (exponential) patience.

  --agents N           agents to log in (default: all without a desktop)
  --rate PER_MINUTE    contacts per minute (default: what keeps the agents
                       --occupancy busy)
  --occupancy X        target agent occupancy for the default rate (0.85)
  --aht SECONDS        mean handle time (30)
  --patience SECONDS   mean caller patience; 0: nobody hangs up (90)
  --reject-ratio X     share of offers rejected (0.05)
  --accept-delay SECS  mean time to answer an offer (2)
  --break-ratio X      share of contacts after which an agent takes a
                       30-90 s break (0.05)
  --duration SECONDS   stop after this long (default: until Ctrl-C)
  --seed N             random seed (default: from the clock)

Every 10 s it prints what it did. On stop, it cancels the contacts it left
waiting, completes its agents' contacts and logs its agents out.
)";

std::atomic<bool> g_stop{false};
void OnStopSignal(int) { g_stop = true; }

// Timed actions run in time order on one thread; a worker pool runs the
// blocking gateway calls. Thread-safe.
class Scheduler {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Scheduler(int workers) {
    thread_ = std::thread([this] { RunTimers(); });
    for (int i = 0; i < workers; ++i) {
      workers_.emplace_back([this] { RunWork(); });
    }
  }
  ~Scheduler() { Stop(); }

  void At(Clock::time_point when, std::function<void()> action) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    timers_.emplace(when, std::move(action));
    cv_.notify_all();
  }
  void After(std::chrono::milliseconds delay, std::function<void()> action) {
    At(Clock::now() + delay, std::move(action));
  }
  // Runs `work` on a worker (for calls that block).
  void Work(std::function<void()> work) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    work_.push_back(std::move(work));
    work_cv_.notify_one();
  }
  // Drops pending timers, finishes queued work, joins the threads.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      stopped_ = true;
      timers_.clear();
      cv_.notify_all();
      work_cv_.notify_all();
    }
    thread_.join();
    for (auto& w : workers_) w.join();
  }

 private:
  void RunTimers() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopped_) {
      if (timers_.empty()) {
        cv_.wait(lock);
        continue;
      }
      auto first = timers_.begin();
      if (first->first > Clock::now()) {
        cv_.wait_until(lock, first->first);
        continue;
      }
      auto action = std::move(first->second);
      timers_.erase(first);
      lock.unlock();
      action();
      lock.lock();
    }
  }
  void RunWork() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      work_cv_.wait(lock, [&] { return stopped_ || !work_.empty(); });
      if (work_.empty()) return;
      auto work = std::move(work_.front());
      work_.pop_front();
      lock.unlock();
      work();
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_, work_cv_;
  std::multimap<Clock::time_point, std::function<void()>> timers_;
  std::deque<std::function<void()>> work_;
  bool stopped_ = false;
  std::thread thread_;
  std::vector<std::thread> workers_;
};

struct DemoOptions {
  double rate_per_second = 0;
  double aht_seconds = 30;
  double patience_seconds = 90;
  double reject_ratio = 0.05;
  double accept_delay_seconds = 2;
  double break_ratio = 0.05;
};

struct Counters {
  std::atomic<long> created{0}, create_errors{0}, offers{0}, accepted{0},
      rejected{0}, completed{0}, abandoned{0}, breaks{0};
};

// The demo's random numbers, shared by every thread. Thread-safe.
class Random {
 public:
  explicit Random(uint64_t seed) : rng_(seed) {}
  double Exponential(double mean) {
    if (mean <= 0) return 0;
    std::lock_guard<std::mutex> lock(mu_);
    return std::exponential_distribution<double>(1.0 / mean)(rng_);
  }
  // Lognormal with the given mean and a standard deviation half of it.
  double Lognormal(double mean) {
    double sigma2 = std::log(1.25);
    double mu = std::log(mean) - sigma2 / 2;
    std::lock_guard<std::mutex> lock(mu_);
    return std::lognormal_distribution<double>(mu, std::sqrt(sigma2))(rng_);
  }
  double Uniform() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::uniform_real_distribution<double>(0, 1)(rng_);
  }
  size_t Index(size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    return std::uniform_int_distribution<size_t>(0, n - 1)(rng_);
  }

 private:
  std::mutex mu_;
  std::mt19937_64 rng_;
};

std::chrono::milliseconds Seconds(double s) {
  return std::chrono::milliseconds(static_cast<long long>(s * 1000));
}

// The demo's contacts that wait (created, not yet answered or ended).
// Thread-safe.
class WaitingContacts {
 public:
  void Add(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    ids_.insert(id);
  }
  // False if it was not waiting (answered or gone already).
  bool Remove(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    return ids_.erase(id) > 0;
  }
  std::set<std::string> TakeAll() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(ids_, {});
  }

 private:
  std::mutex mu_;
  std::set<std::string> ids_;
};

// One simulated agent at a desktop.
class DemoAgent {
 public:
  DemoAgent(std::shared_ptr<grpc::Channel> channel, const std::string& id,
            const DemoOptions& options, Scheduler& scheduler, Random& random,
            Counters& counters, WaitingContacts& waiting)
      : id_(id),
        options_(options),
        scheduler_(scheduler),
        random_(random),
        counters_(counters),
        waiting_(waiting) {
    client::AgentSessionOptions session_options;
    session_options.agent_id = id;
    client::AgentSession::Callbacks callbacks;
    callbacks.on_offer = [this](const v1::AgentEvent::Offer& offer) {
      OnOffer(offer.contact().id());
    };
    callbacks.on_event = [this](const v1::AgentEvent& event) {
      if (event.has_assigned()) OnAssigned(event.assigned().contact().id());
      if (event.has_wrap_up_ended()) {
        std::lock_guard<std::mutex> lock(mu_);
        held_.erase(event.wrap_up_ended().contact_id());
      }
    };
    session_ = std::make_unique<client::AgentSession>(channel, session_options,
                                                      callbacks);
  }

  void Start() { session_->Start(); }
  bool WaitConnected(std::chrono::milliseconds timeout) {
    return session_->WaitFor(client::AgentSession::Connection::kConnected,
                             timeout);
  }

  // Completes what the agent holds, ends its wrap-ups and logs out.
  void Finish() {
    std::set<std::string> held;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      held = held_;
    }
    for (const auto& id : held) {
      session_->Complete(id, "demo").wait_for(std::chrono::seconds(2));
      session_->EndWrapUp(id).wait_for(std::chrono::seconds(2));
    }
    session_->Logout().wait_for(std::chrono::seconds(2));
    session_->Close();
  }

 private:
  void OnOffer(const std::string& contact) {
    ++counters_.offers;
    auto delay = Seconds(random_.Exponential(options_.accept_delay_seconds));
    bool reject = random_.Uniform() < options_.reject_ratio;
    scheduler_.After(delay, [this, contact, reject] {
      if (Stopping()) return;
      if (reject) {
        ++counters_.rejected;
        session_->Reject(contact);
      } else {
        session_->Accept(contact);
      }
    });
  }

  void OnAssigned(const std::string& contact) {
    ++counters_.accepted;
    waiting_.Remove(contact);
    {
      std::lock_guard<std::mutex> lock(mu_);
      held_.insert(contact);
    }
    auto talk = Seconds(random_.Lognormal(options_.aht_seconds));
    scheduler_.After(talk, [this, contact] {
      if (Stopping()) return;
      ++counters_.completed;
      session_->Complete(contact, "resolved");
      if (random_.Uniform() < options_.break_ratio) {
        ++counters_.breaks;
        session_->SetNotReady("break");
        auto length = Seconds(30 + 60 * random_.Uniform());
        scheduler_.After(length, [this] {
          if (!Stopping()) session_->SetReady();
        });
      }
    });
  }

  bool Stopping() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopping_;
  }

  const std::string id_;
  const DemoOptions& options_;
  Scheduler& scheduler_;
  Random& random_;
  Counters& counters_;
  WaitingContacts& waiting_;
  std::unique_ptr<client::AgentSession> session_;
  std::mutex mu_;
  std::set<std::string> held_;
  bool stopping_ = false;
};

// Channels a queue takes, weighted toward voice as most centres are.
std::vector<std::pair<v1::Channel, double>> ChannelMix(const v1::Queue& q) {
  std::vector<std::pair<v1::Channel, double>> mix = {{v1::CHANNEL_VOICE, 0.6},
                                                     {v1::CHANNEL_CHAT, 0.3},
                                                     {v1::CHANNEL_EMAIL, 0.1}};
  if (q.channels().empty()) return mix;
  std::vector<std::pair<v1::Channel, double>> out;
  for (const auto& [channel, weight] : mix) {
    if (std::find(q.channels().begin(), q.channels().end(), channel) !=
        q.channels().end()) {
      out.emplace_back(channel, weight);
    }
  }
  if (out.empty()) out.emplace_back(q.channels(0), 1.0);
  return out;
}

}  // namespace

int RunDemo(Invocation& inv) {
  if (inv.args.Has("help")) {
    std::cout << kDemoHelp;
    return kExitOk;
  }
  const Args& a = inv.args;
  if (auto s = a.CheckKnown({"agents", "rate", "occupancy", "aht", "patience",
                             "reject-ratio", "accept-delay", "break-ratio",
                             "duration", "seed"});
      !s.ok()) {
    return UsageError("demo", std::string(s.message()));
  }
  DemoOptions options;
  auto agents_flag = a.GetInt("agents", -1);
  auto rate = a.GetDouble("rate", 0);
  auto occupancy = a.GetDouble("occupancy", 0.85);
  auto aht = a.GetDouble("aht", 30);
  auto patience = a.GetDouble("patience", 90);
  auto reject = a.GetDouble("reject-ratio", 0.05);
  auto accept_delay = a.GetDouble("accept-delay", 2);
  auto break_ratio = a.GetDouble("break-ratio", 0.05);
  auto duration = a.GetDouble("duration", 0);
  auto seed = a.GetInt(
      "seed", std::chrono::system_clock::now().time_since_epoch().count());
  for (const absl::Status* s :
       {&agents_flag.status(), &rate.status(), &occupancy.status(),
        &aht.status(), &patience.status(), &reject.status(),
        &accept_delay.status(), &break_ratio.status(), &duration.status(),
        &seed.status()}) {
    if (!s->ok()) return UsageError("demo", std::string(s->message()));
  }
  if (*rate < 0 || *occupancy <= 0 || *occupancy > 1 || *aht <= 0 ||
      *patience < 0 || *reject < 0 || *reject > 1 || *accept_delay < 0 ||
      *break_ratio < 0 || *break_ratio > 1 || *duration < 0) {
    return UsageError("demo",
                      "--rate, --aht, --patience, --accept-delay and "
                      "--duration must not be negative (--aht positive); "
                      "--occupancy, --reject-ratio and --break-ratio are "
                      "fractions");
  }
  options.aht_seconds = *aht;
  options.patience_seconds = *patience;
  options.reject_ratio = *reject;
  options.accept_delay_seconds = *accept_delay;
  options.break_ratio = *break_ratio;

  auto channel_or = inv.connection.NewChannel();
  if (!channel_or.ok()) {
    std::cerr << "ccroute: " << channel_or.status().message() << "\n";
    return kExitUsage;
  }
  auto channel = *channel_or;
  auto admin = v1::Admin::NewStub(channel);
  auto supervisor = v1::Supervisor::NewStub(channel);
  v1::ListQueuesResponse queues;
  v1::ListAgentProfilesResponse profiles;
  v1::ListAgentsResponse live;
  {
    grpc::ClientContext c1, c2, c3;
    inv.connection.Prepare(c1);
    inv.connection.Prepare(c2);
    inv.connection.Prepare(c3);
    grpc::Status s = admin->ListQueues(&c1, v1::ListQueuesRequest(), &queues);
    if (s.ok()) {
      s = admin->ListAgentProfiles(&c2, v1::ListAgentProfilesRequest(),
                                   &profiles);
    }
    if (s.ok()) s = supervisor->ListAgents(&c3, v1::ListAgentsRequest(), &live);
    if (!s.ok()) return ReportError("demo", s);
  }
  if (queues.queues().empty()) {
    std::cerr << "ccroute: demo: the server has no queues (ccroute admin "
                 "apply FILE adds some)\n";
    return kExitServerError;
  }
  std::set<std::string> busy;
  for (const auto& agent : live.agents()) {
    if (agent.connected() || agent.state() != v1::AGENT_STATE_OFFLINE) {
      busy.insert(agent.agent_id());
    }
  }
  std::vector<std::string> agent_ids;
  double wrap_up_seconds = 0;
  for (const auto& p : profiles.agents()) {
    if (busy.count(p.id())) continue;
    if (*agents_flag >= 0 &&
        agent_ids.size() >= static_cast<size_t>(*agents_flag)) {
      break;
    }
    agent_ids.push_back(p.id());
    wrap_up_seconds += ToMillis(p.wrap_up().voice()).count() / 1000.0;
  }
  if (agent_ids.empty()) {
    std::cerr << "ccroute: demo: no agent profile is free to log in (all "
                 "have desktops, or none is configured)\n";
    return kExitServerError;
  }
  wrap_up_seconds /= static_cast<double>(agent_ids.size());
  options.rate_per_second =
      *rate > 0 ? *rate / 60.0
                : *occupancy * static_cast<double>(agent_ids.size()) /
                      (options.aht_seconds + wrap_up_seconds +
                       options.accept_delay_seconds);

  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  Random random(static_cast<uint64_t>(*seed));
  Counters counters;
  WaitingContacts waiting;
  Scheduler scheduler(4);
  std::vector<std::unique_ptr<DemoAgent>> agents;
  for (const auto& id : agent_ids) {
    agents.push_back(std::make_unique<DemoAgent>(
        channel, id, options, scheduler, random, counters, waiting));
    agents.back()->Start();
  }
  int connected = 0;
  for (auto& agent : agents) {
    if (agent->WaitConnected(std::chrono::seconds(5))) ++connected;
  }
  std::cout << "demo: " << connected << " of " << agents.size()
            << " agents logged in; " << queues.queues_size()
            << " queues; about " << std::lround(options.rate_per_second * 60)
            << " contacts a minute, handle time " << options.aht_seconds
            << " s, patience "
            << (options.patience_seconds > 0
                    ? std::to_string(std::lround(options.patience_seconds)) +
                          " s"
                    : "unlimited")
            << ". Watch it with: ccroute top (Ctrl-C stops)" << std::endl;

  client::GatewayOptions gateway_options;
  gateway_options.deadline = inv.connection.timeout;
  auto gateway =
      std::make_shared<client::GatewayClient>(channel, gateway_options);
  std::atomic<long> sequence{0};
  const std::string run_tag =
      std::to_string(static_cast<uint64_t>(*seed) % 1000000);
  std::function<void()> arrive = [&] {
    if (g_stop) return;
    const v1::Queue& q = queues.queues(static_cast<int>(
        random.Index(static_cast<size_t>(queues.queues_size()))));
    auto mix = ChannelMix(q);
    double total = 0;
    for (const auto& m : mix) total += m.second;
    double pick = random.Uniform() * total;
    v1::Channel channel_kind = mix.back().first;
    for (const auto& m : mix) {
      if ((pick -= m.second) < 0) {
        channel_kind = m.first;
        break;
      }
    }
    v1::CreateContactRequest request;
    request.set_contact_id("demo-" + run_tag + "-" +
                           std::to_string(++sequence));
    request.set_queue(q.name());
    request.set_channel(channel_kind);
    if (random.Uniform() < 0.1) request.set_priority(5);
    (*request.mutable_attributes())["language"] =
        random.Uniform() < 0.8 ? "en" : "es";
    double patience = random.Exponential(options.patience_seconds);
    scheduler.Work([&, request, patience] {
      v1::Contact contact;
      if (!gateway->CreateContact(request, &contact).ok()) {
        ++counters.create_errors;
        return;
      }
      ++counters.created;
      waiting.Add(request.contact_id());
      if (options.patience_seconds <= 0) return;
      // Voice callers hang up; chats and emails wait.
      if (request.channel() != v1::CHANNEL_VOICE) return;
      scheduler.After(Seconds(patience), [&, id = request.contact_id()] {
        // Answered before its caller's patience ran out: nothing to do.
        if (!waiting.Remove(id)) return;
        scheduler.Work([&, id] {
          v1::Contact ended;
          if (gateway->CancelContact(id, v1::END_REASON_ABANDONED, &ended)
                  .ok()) {
            ++counters.abandoned;
          }
        });
      });
    });
    scheduler.After(Seconds(random.Exponential(1.0 / options.rate_per_second)),
                    arrive);
  };
  scheduler.After(std::chrono::milliseconds(0), arrive);

  auto start = std::chrono::steady_clock::now();
  auto next_report = start + std::chrono::seconds(10);
  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto now = std::chrono::steady_clock::now();
    if (*duration > 0 && now - start >= Seconds(*duration)) g_stop = true;
    if (now >= next_report || g_stop) {
      next_report += std::chrono::seconds(10);
      std::cout << "demo: " << counters.created << " created, "
                << counters.offers << " offers, " << counters.accepted
                << " answered, " << counters.rejected << " rejected, "
                << counters.completed << " completed, " << counters.abandoned
                << " abandoned, " << counters.breaks << " breaks"
                << (counters.create_errors
                        ? ", " + std::to_string(counters.create_errors) +
                              " create errors"
                        : "")
                << std::endl;
    }
  }

  std::cout << "demo: stopping: cancelling waiting contacts, completing "
               "agents' contacts, logging out"
            << std::endl;
  scheduler.Stop();
  for (const auto& id : waiting.TakeAll()) {
    v1::Contact ended;
    // One answered since refuses (FAILED_PRECONDITION); its agent
    // finishes it.
    gateway->CancelContact(id, v1::END_REASON_CANCELLED, &ended);
  }
  for (auto& agent : agents) agent->Finish();
  return counters.create_errors > 0 && counters.created == 0 ? kExitServerError
                                                             : kExitOk;
}

}  // namespace ccroute::cli
