#include "server/api/config_file.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

namespace ccroute::api {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

std::string Message(const absl::Status& status) {
  return std::string(status.message().data(), status.message().size());
}

// The status of parsing `yaml` and resolving the result.
absl::Status ResolveYaml(std::string_view yaml) {
  auto config = ParseServerConfig(yaml, "yaml");
  if (!config.ok()) return config.status();
  return ResolveServerConfig(*config).status();
}

constexpr std::string_view kSmallYaml = R"(
listen: 0.0.0.0:7400
routing:
  contact_selection: fifo
  max_missed_offers: 0
queues:
  - name: sales
    channels: [CHANNEL_VOICE, CHANNEL_CHAT]
    service_level_target: 20s
    service_level_goal: 0.9
    requirements:
      - {skill: sales, min_level: 3}
    escalation:
      - after: 30s
        requirements: [{skill: sales}]
    overflow_queue: general
  - name: general
agents:
  - id: 1001
    skills: [{name: sales, level: 7}]
    capacity: {voice: 1, chat: 3}
    voice_blocks_other_channels: false
    wrap_up: {voice: 1.5s}
limits:
  max_watchers: 10
  heartbeat_timeout: 10s
)";

constexpr std::string_view kSmallJson = R"({
  "listen": "0.0.0.0:7400",
  "routing": {"contact_selection": "fifo", "max_missed_offers": 0},
  "queues": [
    {"name": "sales", "channels": ["CHANNEL_VOICE", "CHANNEL_CHAT"],
     "service_level_target": "20s", "service_level_goal": 0.9,
     "requirements": [{"skill": "sales", "min_level": 3}],
     "escalation": [{"after": "30s", "requirements": [{"skill": "sales"}]}],
     "overflow_queue": "general"},
    {"name": "general"}
  ],
  "agents": [
    {"id": "1001", "skills": [{"name": "sales", "level": 7}],
     "capacity": {"voice": 1, "chat": 3},
     "voice_blocks_other_channels": false, "wrap_up": {"voice": "1.5s"}}
  ],
  "limits": {"max_watchers": 10, "heartbeat_timeout": "10s"}
})";

TEST(ConfigFileTest, ParsesYaml) {
  auto config = ParseServerConfig(kSmallYaml, "yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen(), "0.0.0.0:7400");
  ASSERT_EQ(config->queues_size(), 2);
  EXPECT_EQ(config->queues(0).service_level_target().seconds(), 20);
  EXPECT_DOUBLE_EQ(config->queues(0).service_level_goal(), 0.9);
  ASSERT_EQ(config->agents_size(), 1);
  // A numeric-looking YAML scalar in a string field stays a string.
  EXPECT_EQ(config->agents(0).id(), "1001");
  EXPECT_EQ(config->agents(0).wrap_up().voice().nanos(), 500'000'000);
  EXPECT_TRUE(config->agents(0).has_voice_blocks_other_channels());
  EXPECT_TRUE(config->routing().has_max_missed_offers());
}

TEST(ConfigFileTest, YamlAndJsonReadTheSame) {
  auto yaml = ParseServerConfig(kSmallYaml, "yaml");
  auto json = ParseServerConfig(kSmallJson, "json");
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*yaml, *json))
      << yaml->DebugString() << "\nvs\n"
      << json->DebugString();
}

TEST(ConfigFileTest, ResolvesWithDefaultsAndOverrides) {
  auto config = ParseServerConfig(kSmallYaml, "yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  auto resolved = ResolveServerConfig(*config);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->listen, "0.0.0.0:7400");
  EXPECT_EQ(resolved->metrics_listen, "");
  EXPECT_EQ(resolved->routing.contact_selection, core::ContactSelection::kFifo);
  EXPECT_EQ(resolved->routing.max_missed_offers, 0);
  ASSERT_EQ(resolved->queues.size(), 2u);
  EXPECT_EQ(resolved->queues[0].requirements[0].min_level, 3);
  EXPECT_EQ(resolved->queues[0].escalation[0].requirements[0].min_level, 1);
  EXPECT_EQ(resolved->queues[1].channels, (1u << core::kChannelCount) - 1);
  ASSERT_EQ(resolved->agents.size(), 1u);
  EXPECT_EQ(resolved->agents[0].capacity[1], 3);
  EXPECT_EQ(resolved->agents[0].wrap_up[0], 1500ms);
  EXPECT_EQ(resolved->server_limits.max_watchers, 10);
  EXPECT_EQ(resolved->server_limits.heartbeat_timeout, 10s);
  EXPECT_EQ(resolved->server_limits.max_agent_sessions, 20000);
  EXPECT_EQ(resolved->server_limits.reconnect_grace, 60s);
  EXPECT_EQ(resolved->server_limits.keepalive_time, 20s);
  EXPECT_EQ(resolved->server_limits.keepalive_timeout, 10s);
  EXPECT_EQ(resolved->engine_limits.max_attributes, 32);
}

TEST(ConfigFileTest, EmptyConfigTakesEveryDefault) {
  auto config = ParseServerConfig("# nothing here\n", "yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  auto resolved = ResolveServerConfig(*config);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->listen, "127.0.0.1:7400");
  EXPECT_TRUE(resolved->queues.empty());
  EXPECT_EQ(resolved->routing.max_missed_offers, 3);
  EXPECT_EQ(resolved->server_limits.max_message_bytes, 1 << 20);
  EXPECT_EQ(resolved->server_limits.max_event_subscribers, 64);
  EXPECT_EQ(resolved->server_limits.stream_queue_limit, 1024);
  EXPECT_EQ(resolved->server_limits.shutdown_timeout, 5s);
  EXPECT_EQ(resolved->engine_limits.max_live_contacts, 2'000'000u);
  EXPECT_EQ(resolved->engine_limits.idempotency_retention, 10min);
}

TEST(ConfigFileTest, MisspelledYamlKeyIsNamed) {
  auto config = ParseServerConfig("queues:\n  - nmae: sales\n", "yaml");
  ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(config.status()), "queues[0].nmae: unknown field");

  config = ParseServerConfig("lisen: 1.2.3.4:5\n", "yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(Message(config.status()), "lisen: unknown field");
}

TEST(ConfigFileTest, MisspelledJsonKeyIsNamed) {
  auto config = ParseServerConfig(
      R"({"agents": [{"id": "a"}, {"id": "b", "skils": []}]})", "json");
  ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(config.status()), "agents[1].skils: unknown field");
}

TEST(ConfigFileTest, YamlSyntaxErrorHasLineAndColumn) {
  auto config =
      ParseServerConfig("queues:\n  - name: sales\n   bad: indent\n", "yaml");
  ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(config.status()), HasSubstr("line 3, column"));

  config = ParseServerConfig("queues: [sales\n", "yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(Message(config.status()), HasSubstr("line "));
}

TEST(ConfigFileTest, JsonSyntaxErrorIsInvalid) {
  auto config = ParseServerConfig(R"({"listen": })", "json");
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ConfigFileTest, DuplicateYamlKeyIsNamed) {
  auto config = ParseServerConfig(
      "queues:\n  - name: a\n    max_waiting: 1\n    max_waiting: 2\n", "yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(Message(config.status()), "queues[0].max_waiting: duplicate key");
}

TEST(ConfigFileTest, ConfigMustBeAMapping) {
  auto config = ParseServerConfig("- a\n- b\n", "yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(Message(config.status()), HasSubstr("mapping"));
}

TEST(ConfigFileTest, QuotedScalarsStayStrings) {
  auto config = ParseServerConfig(
      "queues:\n  - name: q\n    max_waiting: '7'\n"
      "    agent_selection: \"most_skilled\"\n",
      "yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->queues(0).max_waiting(), 7);  // protobuf reads "7"

  config = ParseServerConfig("routing:\n  max_missed_offers: '3x'\n", "yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(Message(config.status()), HasSubstr("routing.max_missed_offers"));
}

TEST(ConfigFileTest, BadDurationIsNamed) {
  auto config = ParseServerConfig(
      "queues:\n  - name: sales\n    service_level_target: 20 seconds\n",
      "yaml");
  ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(config.status()),
              HasSubstr("queues[0].service_level_target"));
}

TEST(ConfigFileTest, DurationBeyondTheCoreRangeIsNamed) {
  absl::Status s =
      ResolveYaml("queues:\n  - name: sales\n    offer_timeout: 9999999999s\n");
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(s), HasSubstr("queues[0] (sales): queue.offer_timeout"));
  EXPECT_THAT(Message(s), HasSubstr("out of range"));
}

TEST(ConfigFileTest, CoreValidationErrorsSayWhere) {
  absl::Status s = ResolveYaml(
      "queues:\n  - name: a\n  - name: b\n  - name: sales\n"
      "    service_level_target: 0s\n");
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(s),
            "queues[2] (sales): queue.service_level_target: must be positive");

  s = ResolveYaml("agents:\n  - id: bob\n    skills: [{name: x, level: 11}]\n");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(Message(s), HasSubstr("agents[0] (bob): agent.skills[0]"));

  s = ResolveYaml("agents:\n  - id: bob\n    capacity: {voice: 0}\n");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(Message(s), HasSubstr("agents[0] (bob): agent.capacity"));

  s = ResolveYaml("queues:\n  - channels: [CHANNEL_CHAT]\n");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(Message(s), HasSubstr("queues[0]: queue.name: is required"));
}

TEST(ConfigFileTest, BadSelectionNamesSayWhere) {
  absl::Status s =
      ResolveYaml("queues:\n  - name: sales\n    agent_selection: random\n");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(Message(s),
              HasSubstr("queues[0] (sales): queue.agent_selection"));

  s = ResolveYaml("routing:\n  contact_selection: lifo\n");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(Message(s), HasSubstr("routing.contact_selection"));
}

TEST(ConfigFileTest, NegativeRoutingValuesAreNamed) {
  absl::Status s = ResolveYaml("routing:\n  max_missed_offers: -1\n");
  EXPECT_EQ(Message(s), "routing.max_missed_offers: is negative");
  s = ResolveYaml("routing:\n  reoffer_delay: -5s\n");
  EXPECT_EQ(Message(s), "routing.reoffer_delay: is negative");
}

TEST(ConfigFileTest, DuplicateQueueIsAnError) {
  absl::Status s = ResolveYaml(
      "queues:\n  - name: sales\n  - name: support\n  - name: sales\n");
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(s),
            "queues[2] (sales): queue.name: defined twice, first as "
            "queues[0]");
}

TEST(ConfigFileTest, DuplicateAgentIsAnError) {
  absl::Status s = ResolveYaml("agents:\n  - id: alice\n  - id: alice\n");
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(s), HasSubstr("agents[1] (alice): agent.id"));
}

TEST(ConfigFileTest, UnknownOverflowTargetIsAnError) {
  absl::Status s = ResolveYaml(
      "queues:\n  - name: sales\n    max_waiting: 5\n"
      "    overflow_queue: nowhere\n");
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(s),
            "queues[0] (sales): queue.overflow_queue: no queue named "
            "'nowhere' is defined");

  s = ResolveYaml(
      "queues:\n  - name: sales\n    max_wait: 60s\n"
      "    max_wait_queue: later\n  - name: general\n");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(Message(s), HasSubstr("queue.max_wait_queue: no queue named "
                                    "'later'"));
}

TEST(ConfigFileTest, OverflowTargetMayBeDefinedLater) {
  EXPECT_TRUE(ResolveYaml("queues:\n  - name: sales\n    overflow_queue: b\n"
                          "  - name: b\n")
                  .ok());
}

TEST(ConfigFileTest, NonPositiveLimitsAreNamed) {
  absl::Status s = ResolveYaml("limits:\n  max_watchers: -1\n");
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(s), "limits.max_watchers: must be positive, not -1");

  s = ResolveYaml("limits:\n  reconnect_grace: 0s\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(Message(s), "limits.reconnect_grace: must be positive");

  s = ResolveYaml("limits:\n  max_live_contacts: -5\n");
  EXPECT_THAT(Message(s), HasSubstr("limits.max_live_contacts"));
}

TEST(ConfigFileTest, KeepaliveIsSetWithinOneSecondAndOneDay) {
  auto config = ParseServerConfig(
      "limits:\n  keepalive_time: 1s\n  keepalive_timeout: 2.5s\n", "yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  auto resolved = ResolveServerConfig(*config);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->server_limits.keepalive_time, 1s);
  EXPECT_EQ(resolved->server_limits.keepalive_timeout, 2500ms);

  absl::Status s = ResolveYaml("limits:\n  keepalive_time: 0.5s\n");
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(s),
            "limits.keepalive_time: must be between 1s and 24h, not 0.500s");
  s = ResolveYaml("limits:\n  keepalive_timeout: 0s\n");
  EXPECT_EQ(Message(s),
            "limits.keepalive_timeout: must be between 1s and 24h, not 0s");
  s = ResolveYaml("limits:\n  keepalive_time: 86401s\n");
  EXPECT_EQ(Message(s),
            "limits.keepalive_time: must be between 1s and 24h, not 86401s");
  s = ResolveYaml("limits:\n  keepalive_time: 20\n");
  EXPECT_THAT(Message(s), HasSubstr("limits.keepalive_time"));
}

TEST(ConfigFileTest, LimitsReachTheEngine) {
  auto config = ParseServerConfig(
      "limits:\n  max_attributes: 4\n  max_attribute_value_bytes: 100\n"
      "  max_live_contacts: 1000\n  idempotency_retention: 60s\n",
      "yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  auto resolved = ResolveServerConfig(*config);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->engine_limits.max_attributes, 4);
  EXPECT_EQ(resolved->engine_limits.max_attribute_value_bytes, 100u);
  EXPECT_EQ(resolved->engine_limits.max_live_contacts, 1000u);
  EXPECT_EQ(resolved->engine_limits.idempotency_retention, 60s);
}

TEST(ConfigFileTest, UnknownFormatIsAnError) {
  EXPECT_EQ(ParseServerConfig("{}", "toml").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ConfigFileTest, BuiltInConfigResolves) {
  auto config = ParseServerConfig(BuiltInConfigYaml(), "yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  auto resolved = ResolveServerConfig(*config);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->listen, "127.0.0.1:7400");
  EXPECT_EQ(resolved->metrics_listen, "127.0.0.1:9464");
  ASSERT_EQ(resolved->queues.size(), 3u);
  const core::QueueConfig& sales = resolved->queues[0];
  EXPECT_EQ(sales.name, "sales");
  EXPECT_TRUE(sales.TakesChannel(core::Channel::kVoice));
  EXPECT_TRUE(sales.TakesChannel(core::Channel::kChat));
  EXPECT_FALSE(sales.TakesChannel(core::Channel::kEmail));
  EXPECT_EQ(sales.service_level_target, 20s);
  const core::QueueConfig& support = resolved->queues[1];
  EXPECT_EQ(support.name, "support");
  EXPECT_TRUE(support.TakesChannel(core::Channel::kEmail));
  EXPECT_EQ(support.service_level_target, 60s);
  ASSERT_EQ(support.escalation.size(), 1u);
  EXPECT_EQ(support.escalation[0].after, 30s);
  EXPECT_EQ(support.escalation[0].requirements[0].min_level, 2);
  EXPECT_EQ(support.max_waiting, 200);
  EXPECT_EQ(support.overflow_queue, "general");
  const core::QueueConfig& general = resolved->queues[2];
  EXPECT_TRUE(general.requirements.empty());
  EXPECT_EQ(general.service_level_target, 120s);
  EXPECT_EQ(resolved->agents.size(), 8u);
}

TEST(ConfigFileTest, ExampleFileResolves) {
  std::string path =
      std::string(CCROUTE_SOURCE_DIR) + "/deploy/ccrouted.example.yaml";
  auto config = LoadServerConfigFile(path);
  ASSERT_TRUE(config.ok()) << config.status();
  auto resolved = ResolveServerConfig(*config);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_FALSE(resolved->queues.empty());
  EXPECT_FALSE(resolved->agents.empty());
  // The example shows every default; they must be the real ones.
  ServerLimits defaults;
  EXPECT_EQ(resolved->server_limits.max_message_bytes,
            defaults.max_message_bytes);
  EXPECT_EQ(resolved->server_limits.heartbeat_timeout,
            defaults.heartbeat_timeout);
  EXPECT_EQ(resolved->server_limits.reconnect_grace, defaults.reconnect_grace);
  EXPECT_EQ(resolved->server_limits.shutdown_timeout,
            defaults.shutdown_timeout);
  EXPECT_EQ(resolved->server_limits.keepalive_time, defaults.keepalive_time);
  EXPECT_EQ(resolved->server_limits.keepalive_timeout,
            defaults.keepalive_timeout);
  core::EngineLimits engine;
  EXPECT_EQ(resolved->engine_limits.idempotency_retention,
            engine.idempotency_retention);
  EXPECT_EQ(resolved->engine_limits.max_live_contacts,
            engine.max_live_contacts);
  EXPECT_EQ(resolved->routing.max_missed_offers,
            core::RoutingPolicy{}.max_missed_offers);
  EXPECT_EQ(resolved->routing.reoffer_delay,
            core::RoutingPolicy{}.reoffer_delay);
}

TEST(ConfigFileTest, JournalDefaultsAndErrors) {
  auto memory = ParseServerConfig("queues: [{name: q}]\n", "yaml");
  ASSERT_TRUE(memory.ok());
  auto resolved = ResolveServerConfig(*memory);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_FALSE(resolved->journal.enabled) << "no data_dir: memory only";

  auto durable = ParseServerConfig(
      "journal: {data_dir: /tmp/x, durability: interval, sync_interval: 0.25s}"
      "\n",
      "yaml");
  ASSERT_TRUE(durable.ok()) << durable.status();
  resolved = ResolveServerConfig(*durable);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_TRUE(resolved->journal.enabled);
  EXPECT_EQ(resolved->journal.data_dir, "/tmp/x");
  EXPECT_EQ(resolved->journal.durability, "interval");
  EXPECT_EQ(resolved->journal.sync_interval, 250ms);

  EXPECT_THAT(Message(ResolveYaml("journal: {store: rocksdb}\n")),
              HasSubstr("journal.data_dir: required with store rocksdb"));
  EXPECT_THAT(Message(ResolveYaml("journal: {store: floppy}\n")),
              HasSubstr("journal.store: unknown store 'floppy'"));
  EXPECT_THAT(
      Message(ResolveYaml("journal: {data_dir: d, durability: maybe}\n")),
      HasSubstr("journal.durability: unknown durability 'maybe'"));
  EXPECT_THAT(
      Message(ResolveYaml("journal: {data_dir: d, sync_interval: 0s}\n")),
      HasSubstr("journal.sync_interval: must be between 1ms and 1m"));
  auto none =
      ParseServerConfig("journal: {store: none, data_dir: d}\n", "yaml");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(ResolveServerConfig(*none)->journal.enabled);
}

TEST(ConfigFileTest, BuiltInAndExampleConfigsKeepAJournal) {
  auto built_in = ParseServerConfig(BuiltInConfigYaml(), "yaml");
  ASSERT_TRUE(built_in.ok());
  auto resolved = ResolveServerConfig(*built_in);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_TRUE(resolved->journal.enabled);
  EXPECT_EQ(resolved->journal.data_dir, "ccroute-data");
  EXPECT_EQ(resolved->journal.durability, "sync");

  auto example = LoadServerConfigFile(std::string(CCROUTE_SOURCE_DIR) +
                                      "/deploy/ccrouted.example.yaml");
  ASSERT_TRUE(example.ok()) << example.status();
  resolved = ResolveServerConfig(*example);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_TRUE(resolved->journal.enabled);
  EXPECT_EQ(resolved->journal.data_dir, "/var/lib/ccroute/journal");
}

TEST(ConfigFileTest, RelativeDataDirIsRelativeToTheFile) {
  std::string dir = ::testing::TempDir() + "/ccroute_journal_config";
  std::filesystem::create_directories(dir);
  std::string path = dir + "/c.yaml";
  std::ofstream(path) << "journal: {data_dir: state/journal}\n";
  auto config = LoadServerConfigFile(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->journal().data_dir(),
            (std::filesystem::path(dir) / "state/journal")
                .lexically_normal()
                .string());
}

TEST(ConfigFileTest, FileErrorsStartWithThePath) {
  std::string path = ::testing::TempDir() + "/ccroute_config_test.yaml";
  {
    std::ofstream out(path);
    out << "queues:\n  - name: sales\n    nmae: typo\n";
  }
  auto config = LoadServerConfigFile(path);
  ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(config.status()), path + ": queues[0].nmae: unknown field");

  std::string json = ::testing::TempDir() + "/ccroute_config_test.json";
  {
    std::ofstream out(json);
    out << R"({"queues": [{"name": "sales"}]})";
  }
  config = LoadServerConfigFile(json);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->queues(0).name(), "sales");
}

TEST(ConfigFileTest, MissingFileNamesThePath) {
  auto config = LoadServerConfigFile("/nonexistent/ccrouted.yaml");
  ASSERT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(config.status()),
              HasSubstr("/nonexistent/ccrouted.yaml: cannot read"));
}

TEST(ConfigFileTest, UnknownExtensionIsAnError) {
  auto config = LoadServerConfigFile("/etc/ccrouted.toml");
  ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(config.status()), HasSubstr("/etc/ccrouted.toml"));
}

}  // namespace
}  // namespace ccroute::api
