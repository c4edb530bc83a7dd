// Scenario files: the shipped ones load, and mistakes are named.
#include "bench/scenario_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace ccroute::sim {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(ScenarioFileTest, LoadsTheShippedScenarios) {
  for (const char* name : {"two_skills", "chain6", "hetero_speeds"}) {
    const std::string path =
        std::string(CCROUTE_SOURCE_DIR) + "/bench/scenarios/" + name + ".yaml";
    absl::StatusOr<Scenario> s = LoadScenarioFile(path);
    EXPECT_TRUE(s.ok()) << path << ": " << s.status();
  }
}

TEST(ScenarioFileTest, ReadsEveryField) {
  absl::StatusOr<Scenario> s = ParseScenario(R"(
name: demo
contact_selection: fifo
agent_selection: most_skilled
contact_types:
  - name: sales
    arrivals_per_hour: 120
    handle_time: lognormal
    aht_seconds: 240
    handle_time_sd_seconds: 100
    patience_seconds: 90
    target_seconds: 30
    priority: 2
    requires: {sales: 3, german: 5}
  - name: support
    arrivals_per_hour: 10
    requires: {support: 1}
    agent_selection: least_occupied
agent_groups:
  - name: blend
    agents: 4
    skills: {sales: 5, german: 6, support: 2}
    speed: 1.5
    wrap_up_seconds: 10
    accept_delay_seconds: 2
)");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->name, "demo");
  EXPECT_EQ(s->contact_selection, core::ContactSelection::kFifo);
  EXPECT_FALSE(s->random_agent_selection);
  const ContactType& sales = s->contact_types[0];
  EXPECT_EQ(sales.handle_time, HandleTimeDistribution::kLognormal);
  EXPECT_EQ(sales.handle_time_sd_seconds, 100);
  EXPECT_EQ(sales.patience_seconds, 90);
  EXPECT_EQ(sales.target_seconds, 30);
  EXPECT_EQ(sales.priority, 2);
  // In document order: the first is the primary skill.
  EXPECT_EQ(sales.requirements,
            (std::vector<core::SkillRequirement>{{"sales", 3}, {"german", 5}}));
  EXPECT_EQ(sales.agent_selection, core::AgentSelection::kMostSkilled);
  EXPECT_EQ(s->contact_types[1].agent_selection,
            core::AgentSelection::kLeastOccupied);
  const AgentGroup& g = s->agent_groups[0];
  EXPECT_EQ(g.agents, 4);
  EXPECT_EQ(g.skills.size(), 3u);
  EXPECT_EQ(g.speed, 1.5);
  EXPECT_EQ(g.wrap_up_seconds, 10);
  EXPECT_EQ(g.accept_delay_seconds, 2);
}

TEST(ScenarioFileTest, NamesTheBadKey) {
  constexpr char kBase[] = R"(
contact_types:
  - {name: a, arrivals_per_hour: 10%s}
agent_groups:
  - {name: g, agents: 2%s}
%s)";
  auto parse = [&](const char* type, const char* group, const char* top) {
    char text[512];
    std::snprintf(text, sizeof text, kBase, type, group, top);
    return ParseScenario(text).status();
  };
  EXPECT_TRUE(parse("", "", "").ok());
  EXPECT_THAT(std::string(parse(", aht: 3", "", "").message()),
              AllOf(HasSubstr("contact_types[0].aht (line 3)"),
                    HasSubstr("unknown key")));
  EXPECT_THAT(parse("", ", agents: two", "").message(),
              HasSubstr("agent_groups[0].agents"));
  EXPECT_THAT(parse("", "", "agent_selection: smartest").message(),
              HasSubstr("'smartest' is not one of"));
  EXPECT_THAT(parse(", agent_selection: random", "", "").message(),
              HasSubstr("whole scenario"));
  EXPECT_THAT(parse(", requires: [a]", "", "").message(),
              HasSubstr("skill: level"));
  EXPECT_THAT(parse("", ", speed: 0", "").message(), HasSubstr("speed"));
  EXPECT_THAT(parse(", requires: {b: 1}", "", "").message(),
              HasSubstr("no agent group has the skills"));
  EXPECT_THAT(ParseScenario("contact_types: [").status().message(),
              HasSubstr("line"));
  EXPECT_EQ(LoadScenarioFile("/nonexistent.yaml").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ScenarioFileTest, TopLevelRandomSelectsRandomly) {
  absl::StatusOr<Scenario> s = ParseScenario(R"(
agent_selection: random
contact_types: [{name: a, arrivals_per_hour: 10}]
agent_groups: [{name: g, agents: 2}]
)");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->random_agent_selection);
}

}  // namespace
}  // namespace ccroute::sim
