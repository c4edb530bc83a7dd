// ccroute-load: end-to-end load on a running ccrouted over loopback gRPC.
// Agent desktops (one Agents.Connect stream each) take offers, handle and
// wrap up; gateways create contacts as a Poisson process or a closed loop.
// It reports completed lifecycles per second, create->offer and
// offer->accept latency, errors by gRPC status, and the server's CPU and
// memory, as a table or JSON. `--help` lists the flags; bench/RESULTS.md has
// the figures and their commands.
#include <grpcpp/create_channel.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/channel_arguments.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "bench/json_string.h"
#include "bench/load/agent_fleet.h"
#include "bench/load/center.h"
#include "bench/load/gateway.h"
#include "bench/load/load_run.h"
#include "bench/load/server_process.h"

namespace ccroute::load {
namespace {

constexpr char kUsage[] = R"(Usage: ccroute-load [options]

Drives a ccrouted over loopback gRPC: agent streams that take, handle and
wrap up contacts, and gateways that create them. Reports completed contact
lifecycles per second, create->offer and offer->accept latency, errors by
gRPC status, and the server's CPU and memory.

Server:
  --server HOST:PORT      a running ccrouted (default 127.0.0.1:7400)
  --server-pid PID        its pid, for CPU and memory from /proc
  --spawn PATH            start PATH (a ccrouted) on a free loopback port,
                          and stop it at the end
  --setup MODE            config: the center is in the configuration file
                          of the spawned server (default with --spawn);
                          admin: set it up over the Admin service (default
                          without --spawn; with --spawn, the server runs its
                          built-in configuration); none: it exists already
  --no-metrics            spawned server without its Prometheus endpoint
  --server-log PATH       keep the spawned server's log there

Center (load-q-NN queues, load-agent-NNNNN agents with two queues' skills):
  --agents N              agent streams (default 2000)
  --queues N              queues (default 10)
  --channels N            gRPC channels, each its own connection (default 4)

Load:
  --rate R                Poisson arrivals, R contacts per second
  --concurrency C         closed loop: C contacts live at once, each that
                          ends starts the next (default agents / 2; used
                          when --rate is not given)
  --contacts N            at most N contacts (default 0: no bound)
  --duration S            stop creating after S seconds (default 10 unless
                          --contacts is given)
  --warmup S              leave the first S seconds out of the figures
  --drain-timeout S       then wait up to S seconds for live contacts to
                          complete (default 30)

Agents (delays in milliseconds; DIST is const, exp or uniform):
  --accept-ms MEAN        offer -> accept (default 0)     --accept-dist DIST
  --handle-ms MEAN        assigned -> complete (default 100, exp)
                                                          --handle-dist DIST
  --wrap-ms MEAN          wrap-up -> end_wrap_up (default 20, exp)
                                                          --wrap-dist DIST
  --wrap-timeout-ms MS    the profiles' wrap-up time, after which the server
                          ends it (default 5 x --wrap-ms; draws past it
                          expire)
  --wrap-expire P         share of wrap-ups left to expire (default 0)

Output:
  --json                  one JSON object instead of the table
  --check                 exit 1 unless every contact created completed,
                          with no error and no offer withdrawn
  --quiet                 no progress lines on stderr
  --seed N                random seed (default 1)
  --help                  this text
)";

struct Flags {
  std::string server = "127.0.0.1:7400";
  pid_t server_pid = 0;
  std::string spawn;
  std::string setup;
  bool metrics = true;
  std::string server_log;
  int agents = 2000;
  int queues = 10;
  int channels = 4;
  double rate = 0;
  int concurrency = 0;
  int64_t contacts = 0;
  double duration = -1;
  double warmup = 0;
  double drain_timeout = 30;
  AgentBehaviour behaviour;
  std::optional<double> wrap_timeout;
  bool json = false;
  bool check = false;
  bool quiet = false;
  uint64_t seed = 1;
};

bool ParseFlags(int argc, char** argv, Flags& f) {
  f.behaviour.handle = {100, Delay::Shape::kExponential};
  f.behaviour.wrap_up = {20, Delay::Shape::kExponential};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string v;
    auto value = [&]() {
      if (i + 1 >= argc) {
        std::cerr << "ccroute-load: " << arg << " needs a value\n";
        return false;
      }
      v = argv[++i];
      return true;
    };
    auto bad = [&]() {
      std::cerr << "ccroute-load: " << arg << ": bad value '" << v << "'\n";
      return false;
    };
    auto number = [&](double& out, double min) {
      if (!value()) return false;
      if (!absl::SimpleAtod(v, &out) || !(out >= min)) return bad();
      return true;
    };
    auto integer = [&](auto& out, int64_t min) {
      int64_t n = 0;
      if (!value()) return false;
      if (!absl::SimpleAtoi(v, &n) || n < min) return bad();
      out = static_cast<std::remove_reference_t<decltype(out)>>(n);
      return true;
    };
    auto shape = [&](Delay& d) {
      if (!value()) return false;
      if (!Delay::ParseShape(v, d.shape)) return bad();
      return true;
    };
    bool ok = true;
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (arg == "--server") {
      ok = value();
      f.server = v;
    } else if (arg == "--server-pid") {
      ok = integer(f.server_pid, 1);
    } else if (arg == "--spawn") {
      ok = value();
      f.spawn = v;
    } else if (arg == "--setup") {
      ok = value();
      if (ok && v != "config" && v != "admin" && v != "none") ok = bad();
      f.setup = v;
    } else if (arg == "--no-metrics") {
      f.metrics = false;
    } else if (arg == "--server-log") {
      ok = value();
      f.server_log = v;
    } else if (arg == "--agents") {
      ok = integer(f.agents, 1);
    } else if (arg == "--queues") {
      ok = integer(f.queues, 1);
    } else if (arg == "--channels") {
      ok = integer(f.channels, 1);
    } else if (arg == "--rate") {
      ok = number(f.rate, 1e-9);
    } else if (arg == "--concurrency") {
      ok = integer(f.concurrency, 1);
    } else if (arg == "--contacts") {
      ok = integer(f.contacts, 0);
    } else if (arg == "--duration") {
      ok = number(f.duration, 0);
    } else if (arg == "--warmup") {
      ok = number(f.warmup, 0);
    } else if (arg == "--drain-timeout") {
      ok = number(f.drain_timeout, 0);
    } else if (arg == "--accept-ms") {
      ok = number(f.behaviour.accept.mean_ms, 0);
    } else if (arg == "--accept-dist") {
      ok = shape(f.behaviour.accept);
    } else if (arg == "--handle-ms") {
      ok = number(f.behaviour.handle.mean_ms, 0);
    } else if (arg == "--handle-dist") {
      ok = shape(f.behaviour.handle);
    } else if (arg == "--wrap-ms") {
      ok = number(f.behaviour.wrap_up.mean_ms, 0);
    } else if (arg == "--wrap-dist") {
      ok = shape(f.behaviour.wrap_up);
    } else if (arg == "--wrap-timeout-ms") {
      double ms = 0;
      ok = number(ms, 0);
      f.wrap_timeout = ms;
    } else if (arg == "--wrap-expire") {
      ok = number(f.behaviour.wrap_up_expire, 0);
      if (ok && f.behaviour.wrap_up_expire > 1) ok = bad();
    } else if (arg == "--json") {
      f.json = true;
    } else if (arg == "--check") {
      f.check = true;
    } else if (arg == "--quiet") {
      f.quiet = true;
    } else if (arg == "--seed") {
      ok = integer(f.seed, 0);
    } else {
      std::cerr << "ccroute-load: unknown option '" << arg
                << "' (see ccroute-load --help)\n";
      return false;
    }
    if (!ok) return false;
  }
  if (f.rate > 0 && f.concurrency > 0) {
    std::cerr << "ccroute-load: --rate (open loop) and --concurrency (closed "
                 "loop) exclude each other\n";
    return false;
  }
  if (f.rate == 0 && f.concurrency == 0)
    f.concurrency = std::max(1, f.agents / 2);
  if (f.duration < 0) f.duration = f.contacts > 0 ? 0 : 10;
  if (f.duration > 0 && f.warmup >= f.duration) {
    std::cerr << "ccroute-load: --warmup must be shorter than --duration\n";
    return false;
  }
  if (f.setup.empty()) f.setup = f.spawn.empty() ? "admin" : "config";
  if (f.setup == "config" && f.spawn.empty()) {
    std::cerr << "ccroute-load: --setup config needs --spawn (a running "
                 "server's configuration is its own: use --setup admin)\n";
    return false;
  }
  f.behaviour.wrap_up_timeout_ms =
      f.wrap_timeout ? *f.wrap_timeout : 5 * f.behaviour.wrap_up.mean_ms;
  return true;
}

// Channels with distinct arguments, so that each has a connection of its
// own rather than sharing one subchannel.
std::vector<std::shared_ptr<grpc::Channel>> MakeChannels(
    const std::string& target, int count) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < count; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("ccroute.load.channel", i);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    channels.push_back(grpc::CreateCustomChannel(
        target, grpc::InsecureChannelCredentials(), args));
  }
  return channels;
}

bool WaitForChannels(const std::vector<std::shared_ptr<grpc::Channel>>& all,
                     std::chrono::seconds timeout) {
  auto deadline = std::chrono::system_clock::now() + timeout;
  for (const auto& channel : all) {
    if (!channel->WaitForConnected(deadline)) return false;
  }
  return true;
}

struct Percentiles {
  size_t n = 0;
  double p50 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;  // microseconds
};

Percentiles Summarize(std::vector<int64_t>& ns) {
  Percentiles p;
  p.n = ns.size();
  if (ns.empty()) return p;
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) {
    auto rank =
        static_cast<size_t>(std::ceil(q * static_cast<double>(ns.size())));
    return static_cast<double>(ns[std::clamp<size_t>(rank, 1, ns.size()) - 1]) /
           1e3;
  };
  p.p50 = at(0.5);
  p.p99 = at(0.99);
  p.p999 = at(0.999);
  p.max = static_cast<double>(ns.back()) / 1e3;
  double sum = 0;
  for (int64_t v : ns) sum += static_cast<double>(v);
  p.mean = sum / static_cast<double>(ns.size()) / 1e3;
  return p;
}

struct Usage {
  bool ok = false;
  double cores = 0;  // CPU seconds per second in the window
  int64_t rss_bytes = 0;
  int64_t peak_rss_bytes = 0;
};

Usage UsageBetween(const ProcessSample& a, const ProcessSample& b,
                   double seconds) {
  Usage u;
  u.ok = a.ok && b.ok && seconds > 0;
  if (!u.ok) return u;
  u.cores = (b.cpu_seconds - a.cpu_seconds) / seconds;
  u.rss_bytes = b.rss_bytes;
  u.peak_rss_bytes = b.peak_rss_bytes;
  return u;
}

struct Report {
  std::string mode;
  double window_s = 0;
  std::string stopped_by;
  int64_t issued = 0, created = 0, create_failed = 0, completed = 0;
  int64_t incomplete = 0, not_created = 0;
  int64_t window_created = 0, window_completed = 0;
  int64_t offers = 0, foreign_offers = 0, wrap_ups_expired = 0,
          wrap_up_races = 0;
  Percentiles create_call, create_to_offer, offer_to_ack, accept_rtt, lifecycle,
      send_lag;
  std::map<std::string, int64_t> errors, withdrawn;
  // Agent stream messages over the whole run, by kind, and requests sent.
  std::map<std::string, int64_t> events;
  int64_t requests_sent = 0;
  int64_t error_count = 0;
  pid_t server_pid = 0;
  Usage server, self;
  double machine_busy = -1;  // share of all cores, 0-1
  std::string loadavg;
  int cores = 0;
};

std::string ReadLoadAvg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string Mb(int64_t bytes) {
  return absl::StrFormat("%.1f MB", static_cast<double>(bytes) / 1048576.0);
}

void PrintTable(const Flags& f, const Report& r) {
  absl::PrintF(
      "ccroute-load: %d agents on %d channels, %d queues; %s; accept %.0f ms "
      "%s, handle %.0f ms %s, wrap-up %.0f ms %s (timeout %.0f ms, %.0f%% "
      "left to expire)\n",
      f.agents, f.channels, f.queues, r.mode, f.behaviour.accept.mean_ms,
      Delay::ShapeName(f.behaviour.accept.shape), f.behaviour.handle.mean_ms,
      Delay::ShapeName(f.behaviour.handle.shape), f.behaviour.wrap_up.mean_ms,
      Delay::ShapeName(f.behaviour.wrap_up.shape),
      f.behaviour.wrap_up_timeout_ms, 100 * f.behaviour.wrap_up_expire);
  absl::PrintF(
      "window %.2f s (after %.1f s warm-up; stopped by %s): created %d "
      "(%.0f/s), completed lifecycles %d (%.0f/s)\n",
      r.window_s, f.warmup, r.stopped_by, r.window_created,
      r.window_created / r.window_s, r.window_completed,
      r.window_completed / r.window_s);
  absl::PrintF(
      "run: %d contacts issued, %d created, %d create calls failed, %d "
      "completed, %d not completed; %d offers (%d foreign), %d wrap-ups "
      "expired, %d end_wrap_up raced the timer\n",
      r.issued, r.created, r.create_failed, r.completed, r.incomplete, r.offers,
      r.foreign_offers, r.wrap_ups_expired, r.wrap_up_races);
  int64_t received = 0;
  for (const auto& [kind, n] : r.events) received += n;
  double per = r.completed > 0 ? 1.0 / static_cast<double>(r.completed) : 0;
  absl::PrintF(
      "agent streams: %.2f requests and %.2f events per completed contact (",
      static_cast<double>(r.requests_sent) * per,
      static_cast<double>(received) * per);
  bool first = true;
  for (const auto& [kind, n] : r.events) {
    if (n == 0) continue;
    absl::PrintF("%s%s %.2f", first ? "" : ", ", kind,
                 static_cast<double>(n) * per);
    first = false;
  }
  absl::PrintF(")\n");
  absl::PrintF("\n%-22s %9s %10s %10s %10s %10s %10s\n", "latency (ms)", "n",
               "p50", "p99", "p99.9", "max", "mean");
  auto row = [](const char* name, const Percentiles& p) {
    absl::PrintF("%-22s %9d %10.3f %10.3f %10.3f %10.3f %10.3f\n", name, p.n,
                 p.p50 / 1e3, p.p99 / 1e3, p.p999 / 1e3, p.max / 1e3,
                 p.mean / 1e3);
  };
  row("create -> offer", r.create_to_offer);
  row("create call", r.create_call);
  row("offer -> accept ack", r.offer_to_ack);
  row("accept -> ack", r.accept_rtt);
  row("create -> completed", r.lifecycle);
  if (f.rate > 0) row("arrival send lag", r.send_lag);
  absl::PrintF("\nerrors: %s\n", r.errors.empty() ? "none" : "");
  for (const auto& [what, n] : r.errors) absl::PrintF("  %-40s %d\n", what, n);
  absl::PrintF("offers withdrawn: %s\n", r.withdrawn.empty() ? "none" : "");
  for (const auto& [why, n] : r.withdrawn) absl::PrintF("  %-40s %d\n", why, n);
  if (r.server.ok) {
    absl::PrintF(
        "\nserver (pid %d): CPU %.2f cores (%.0f%% of one), RSS %s (peak %s)\n",
        r.server_pid, r.server.cores, 100 * r.server.cores,
        Mb(r.server.rss_bytes), Mb(r.server.peak_rss_bytes));
  } else {
    absl::PrintF(
        "\nserver: CPU and memory unknown (--server-pid or --spawn)\n");
  }
  absl::PrintF("ccroute-load: CPU %.2f cores, RSS %s (peak %s)\n", r.self.cores,
               Mb(r.self.rss_bytes), Mb(r.self.peak_rss_bytes));
  absl::PrintF(
      "machine: %d cores, %.0f%% busy in the window; load average %s\n",
      r.cores, 100 * r.machine_busy, r.loadavg);
}

using bench::JsonString;

void PrintJson(const Flags& f, const Report& r) {
  auto pct = [](const Percentiles& p) {
    return absl::StrFormat(
        "{\"n\":%d,\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,"
        "\"max_us\":%.1f,\"mean_us\":%.1f}",
        p.n, p.p50, p.p99, p.p999, p.max, p.mean);
  };
  auto counts = [](const std::map<std::string, int64_t>& m) {
    std::string out = "{";
    for (const auto& [k, v] : m) {
      if (out.size() > 1) out += ",";
      absl::StrAppend(&out, JsonString(k), ":", v);
    }
    return out + "}";
  };
  auto usage = [](const Usage& u) -> std::string {
    if (!u.ok) return "null";
    return absl::StrFormat(
        "{\"cpu_cores\":%.3f,\"rss_bytes\":%d,\"peak_rss_bytes\":%d}", u.cores,
        u.rss_bytes, u.peak_rss_bytes);
  };
  std::string out = "{";
  absl::StrAppend(
      &out, "\"agents\":", f.agents, ",\"queues\":", f.queues,
      ",\"channels\":", f.channels, ",\"mode\":", JsonString(r.mode),
      absl::StrFormat(",\"rate\":%.3f", f.rate),
      ",\"concurrency\":", f.rate > 0 ? 0 : f.concurrency,
      absl::StrFormat(",\"accept_ms\":%.3f,\"handle_ms\":%.3f,\"wrap_ms\":%.3f,"
                      "\"wrap_timeout_ms\":%.3f,\"wrap_expire\":%.3f",
                      f.behaviour.accept.mean_ms, f.behaviour.handle.mean_ms,
                      f.behaviour.wrap_up.mean_ms,
                      f.behaviour.wrap_up_timeout_ms,
                      f.behaviour.wrap_up_expire));
  absl::StrAppend(
      &out, absl::StrFormat(",\"window_s\":%.3f", r.window_s),
      ",\"stopped_by\":", JsonString(r.stopped_by),
      ",\"window_created\":", r.window_created,
      ",\"window_completed\":", r.window_completed,
      absl::StrFormat(",\"created_per_second\":%.1f",
                      r.window_created / r.window_s),
      absl::StrFormat(",\"lifecycles_per_second\":%.1f",
                      r.window_completed / r.window_s),
      ",\"issued\":", r.issued, ",\"created\":", r.created,
      ",\"create_failed\":", r.create_failed, ",\"completed\":", r.completed,
      ",\"incomplete\":", r.incomplete, ",\"not_created\":", r.not_created,
      ",\"offers\":", r.offers, ",\"foreign_offers\":", r.foreign_offers,
      ",\"wrap_ups_expired\":", r.wrap_ups_expired,
      ",\"wrap_up_races\":", r.wrap_up_races);
  absl::StrAppend(&out, ",\"create_to_offer\":", pct(r.create_to_offer),
                  ",\"create_call\":", pct(r.create_call),
                  ",\"offer_to_accept_ack\":", pct(r.offer_to_ack),
                  ",\"accept_to_ack\":", pct(r.accept_rtt),
                  ",\"create_to_completed\":", pct(r.lifecycle),
                  ",\"send_lag\":", f.rate > 0 ? pct(r.send_lag) : "null");
  absl::StrAppend(
      &out, ",\"errors\":", counts(r.errors),
      ",\"error_count\":", r.error_count,
      ",\"offers_withdrawn\":", counts(r.withdrawn),
      ",\"agent_events\":", counts(r.events),
      ",\"agent_requests\":", r.requests_sent, ",\"server_pid\":", r.server_pid,
      ",\"server\":", usage(r.server), ",\"load_tool\":", usage(r.self),
      absl::StrFormat(",\"machine_busy\":%.3f", r.machine_busy),
      ",\"cores\":", r.cores, ",\"loadavg\":", JsonString(r.loadavg), "}");
  std::cout << out << "\n";
}

int Run(const Flags& f) {
  // The server first: fork before gRPC starts its threads.
  std::unique_ptr<ServerProcess> server;
  std::string temp_dir;
  pid_t server_pid = f.server_pid;
  std::string target = f.server;
  if (!f.spawn.empty()) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "ccroute-load.XXXXXX")
            .string();
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("ccroute-load: mkdtemp");
      return 1;
    }
    temp_dir = pattern;
    std::string log =
        f.server_log.empty() ? temp_dir + "/ccrouted.log" : f.server_log;
    std::vector<std::string> args = {"--listen", "127.0.0.1:0",
                                     "--metrics-listen",
                                     f.metrics ? "127.0.0.1:0" : ""};
    std::string config = temp_dir + "/ccrouted.yaml";
    auto write_config = [&](bool security_section) {
      std::ofstream(config) << CenterConfigYaml(
          {f.agents, f.queues, f.behaviour.wrap_up_timeout_ms}, "127.0.0.1:0",
          "", security_section);
    };
    if (f.setup == "config") {
      write_config(false);
      args.insert(args.end(), {"--config", config});
    }
    auto spawned = ServerProcess::Spawn(f.spawn, args, log,
                                        std::chrono::milliseconds(30000));
    // A server that wants a security section in its configuration file
    // says so by name: give it plaintext on loopback, without
    // authentication, and try once more.
    if (!spawned.ok() && f.setup == "config" &&
        spawned.status().message().find("security") != std::string::npos) {
      write_config(true);
      spawned = ServerProcess::Spawn(f.spawn, args, log,
                                     std::chrono::milliseconds(30000));
    }
    if (!spawned.ok()) {
      std::cerr << "ccroute-load: " << spawned.status().message() << "\n";
      std::filesystem::remove_all(temp_dir);
      return 1;
    }
    server = *std::move(spawned);
    server_pid = server->pid();
    target = absl::StrCat("127.0.0.1:", server->port());
  }
  auto cleanup = [&] {
    if (server) server->Stop(std::chrono::milliseconds(10000));
    if (!temp_dir.empty()) std::filesystem::remove_all(temp_dir);
  };

  auto channels = MakeChannels(target, f.channels);
  if (!WaitForChannels(channels, std::chrono::seconds(10))) {
    std::cerr << "ccroute-load: cannot connect to " << target << "\n";
    cleanup();
    return 1;
  }
  if (f.setup == "admin") {
    absl::Status s = SetUpOverAdmin(
        channels[0], {f.agents, f.queues, f.behaviour.wrap_up_timeout_ms});
    if (!s.ok()) {
      std::cerr << "ccroute-load: setting up the center: " << s << "\n";
      cleanup();
      return 1;
    }
  }

  int exit_code = 0;
  Report r;
  {
    // Ids unique across runs against one server (it remembers ended ids).
    std::string prefix = absl::StrFormat(
        "ld%x%x", static_cast<uint32_t>(getpid()),
        static_cast<uint32_t>(
            std::chrono::system_clock::now().time_since_epoch().count() &
            0xffffff));
    LoadRun run(prefix, f.behaviour);
    Gateway gateway({channels, f.queues, f.contacts, f.seed ^ 0x5eed}, run);
    AgentFleet fleet({f.agents, channels, f.seed}, run);
    int64_t connect_start = NowNs();
    absl::Status connected = fleet.Connect(std::chrono::milliseconds(60000));
    if (!connected.ok()) {
      std::cerr << "ccroute-load: logging the agents in: " << connected << "\n";
      fleet.Close(std::chrono::milliseconds(5000));
      cleanup();
      return 1;
    }
    if (!f.quiet) {
      std::cerr << absl::StrFormat(
          "ccroute-load: %d agents logged in on %s in %.2f s\n", f.agents,
          target, static_cast<double>(NowNs() - connect_start) / 1e9);
    }

    const int64_t start = NowNs();
    const int64_t window_start = start + static_cast<int64_t>(f.warmup * 1e9);
    const int64_t stop_at =
        f.duration > 0 ? start + static_cast<int64_t>(f.duration * 1e9) : 0;
    if (f.rate > 0) {
      r.mode = absl::StrFormat("Poisson %.0f/s", f.rate);
      gateway.StartPoisson(f.rate);
    } else {
      r.mode = absl::StrFormat("closed loop, %d live", f.concurrency);
      gateway.StartClosedLoop(f.concurrency);
    }
    ProcessSample server0, self0;
    MachineSample machine0;
    bool sampled = false;
    int64_t sampled_at = 0;
    auto sample_start = [&] {
      sampled_at = NowNs();
      server0 = server_pid != 0 ? SampleProcess(server_pid) : ProcessSample{};
      self0 = SampleProcess(0);
      machine0 = SampleMachine();
      sampled = true;
    };
    if (f.warmup == 0) sample_start();
    int64_t next_progress = start + 5'000'000'000;
    int64_t window_end = 0;
    while (true) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      int64_t now = NowNs();
      if (!sampled && now >= window_start) sample_start();
      if (stop_at != 0 && now >= stop_at) {
        r.stopped_by = "duration";
        window_end = stop_at;
        break;
      }
      if (gateway.exhausted() &&
          run.completed() + run.create_failed() >= gateway.issued()) {
        r.stopped_by = "contacts";
        window_end = now;
        break;
      }
      if (!f.quiet && now >= next_progress) {
        std::cerr << absl::StrFormat(
            "ccroute-load: %4.0f s  created %d  completed %d  live %d\n",
            static_cast<double>(now - start) / 1e9, run.created(),
            run.completed(), run.created() - run.completed());
        next_progress += 5'000'000'000;
      }
    }
    gateway.Stop();
    if (!sampled) sample_start();
    ProcessSample server1 =
        server_pid != 0 ? SampleProcess(server_pid) : ProcessSample{};
    ProcessSample self1 = SampleProcess(0);
    MachineSample machine1 = SampleMachine();
    r.loadavg = ReadLoadAvg();
    // A run that ended before its warm-up did is measured whole.
    int64_t from = window_end > window_start ? window_start : start;
    r.window_s = static_cast<double>(window_end - from) / 1e9;
    // CPU time is measured between the two samples.
    double sampled_s = static_cast<double>(NowNs() - sampled_at) / 1e9;
    r.server = UsageBetween(server0, server1, sampled_s);
    r.self = UsageBetween(self0, self1, sampled_s);
    if (machine1.total > machine0.total) {
      r.machine_busy = static_cast<double>(machine1.busy - machine0.busy) /
                       static_cast<double>(machine1.total - machine0.total);
    }
    r.cores = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
    r.server_pid = server_pid;

    // Drain: the live contacts complete (or the timeout passes).
    int64_t drain_until = NowNs() + static_cast<int64_t>(f.drain_timeout * 1e9);
    while (run.completed() + run.create_failed() < gateway.issued() &&
           NowNs() < drain_until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    gateway.WaitForCalls(std::chrono::milliseconds(5000));
    fleet.Close(std::chrono::milliseconds(10000));

    r.issued = gateway.issued();
    r.created = run.created();
    r.create_failed = run.create_failed();
    r.completed = run.completed();
    r.incomplete = r.issued - r.completed - r.create_failed;
    r.not_created = run.not_created().load();
    r.offers = run.offers().load();
    r.foreign_offers = run.foreign_offers().load();
    r.wrap_ups_expired = run.wrap_ups_expired().load();
    r.wrap_up_races = run.wrap_up_races().load();
    r.errors = run.errors();
    r.error_count = run.error_count();
    r.withdrawn = run.withdrawn();
    static constexpr const char* kEventNames[LoadRun::kEventKinds] = {
        "",
        "ack",
        "offer",
        "offer_withdrawn",
        "assigned",
        "wrap_up_started",
        "wrap_up_ended",
        "status",
        "reconciled"};
    for (int k = 1; k < LoadRun::kEventKinds; ++k) {
      r.events[kEventNames[k]] = run.events(k).load();
    }
    r.requests_sent = run.requests_sent().load();

    std::vector<int64_t> create_call, to_offer, to_ack, accept_rtt, lifecycle,
        lag;
    for (int64_t seq = 0; seq < r.issued; ++seq) {
      ContactRecord* c = run.contacts().Find(static_cast<uint64_t>(seq));
      if (c == nullptr) continue;
      int64_t sent = c->create_sent.load();
      int64_t completed = c->completed.load();
      if (completed >= from && completed < window_end) r.window_completed++;
      if (sent < from || sent >= window_end) continue;
      r.window_created++;
      int64_t done = c->create_done.load();
      int64_t offered = c->offered.load();
      int64_t accept_sent = c->accept_sent.load();
      int64_t acked = c->accept_acked.load();
      if (done != 0) create_call.push_back(done - sent);
      if (offered != 0) to_offer.push_back(offered - sent);
      if (offered != 0 && acked != 0) to_ack.push_back(acked - offered);
      if (accept_sent != 0 && acked != 0) {
        accept_rtt.push_back(acked - accept_sent);
      }
      if (completed != 0) lifecycle.push_back(completed - sent);
      lag.push_back(sent - c->scheduled.load());
    }
    r.create_call = Summarize(create_call);
    r.create_to_offer = Summarize(to_offer);
    r.offer_to_ack = Summarize(to_ack);
    r.accept_rtt = Summarize(accept_rtt);
    r.lifecycle = Summarize(lifecycle);
    r.send_lag = Summarize(lag);

    if (f.check) {
      bool clean = r.error_count == 0 && r.withdrawn.empty() &&
                   r.create_failed == 0 && r.incomplete == 0 &&
                   r.not_created == 0 && r.completed == r.issued &&
                   r.issued > 0;
      if (!clean) exit_code = 1;
    }
  }
  cleanup();
  if (f.json) {
    PrintJson(f, r);
  } else {
    PrintTable(f, r);
  }
  if (exit_code != 0) {
    std::cerr << "ccroute-load: --check failed: " << r.issued << " issued, "
              << r.completed << " completed, " << r.create_failed
              << " create calls failed, " << r.error_count << " errors, "
              << r.withdrawn.size() << " kinds of offers withdrawn\n";
  }
  return exit_code;
}

}  // namespace
}  // namespace ccroute::load

int main(int argc, char** argv) {
  // gRPC locks absl::Mutex on every call; where abseil is built without
  // NDEBUG (Debian's is), each lock also feeds the deadlock detector's
  // graph, a few percent of this tool's CPU time (perf). Those are gRPC's
  // own locks, not ours to check: skip the detector.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  ccroute::load::Flags flags;
  if (!ccroute::load::ParseFlags(argc, argv, flags)) return 2;
  return ccroute::load::Run(flags);
}
