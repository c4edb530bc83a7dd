#include "bench/scenario_file.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ccroute::sim {
namespace {

using FieldReader =
    std::function<absl::Status(const YAML::Node&, const std::string& where)>;

absl::Status Invalid(const YAML::Node& node, const std::string& where,
                     const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat(where, " (line ", node.Mark().line + 1, "): ", what));
}

// Calls the reader of each key of the map `node`; an unknown key, or a
// node that is not a map, is an error naming it.
absl::Status ReadMap(const YAML::Node& node, const std::string& where,
                     const std::map<std::string, FieldReader>& fields) {
  if (!node.IsMap()) return Invalid(node, where, "expected a mapping");
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    const std::string at = where.empty() ? key : absl::StrCat(where, ".", key);
    auto it = fields.find(key);
    if (it == fields.end()) return Invalid(kv.first, at, "unknown key");
    if (absl::Status s = it->second(kv.second, at); !s.ok()) return s;
  }
  return absl::OkStatus();
}

template <typename T>
FieldReader Scalar(T& out, const char* kind) {
  return [&out, kind](const YAML::Node& node, const std::string& where) {
    if (!node.IsScalar()) return Invalid(node, where, kind);
    try {
      out = node.as<T>();
    } catch (const YAML::Exception&) {
      return Invalid(node, where, kind);
    }
    return absl::OkStatus();
  };
}
FieldReader Number(double& out) { return Scalar(out, "expected a number"); }
FieldReader Integer(int& out) { return Scalar(out, "expected a whole number"); }
FieldReader Text(std::string& out) { return Scalar(out, "expected a string"); }

// One of `names`, stored as `out = parse(name)`.
template <typename T, typename Parse>
FieldReader Choice(T& out, Parse parse, const char* names) {
  return
      [&out, parse, names](const YAML::Node& node, const std::string& where) {
        std::string name;
        if (absl::Status s = Text(name)(node, where); !s.ok()) return s;
        std::optional<T> v = parse(name);
        if (!v) {
          return Invalid(node, where,
                         absl::StrCat("'", name, "' is not one of ", names));
        }
        out = *v;
        return absl::OkStatus();
      };
}

// A mapping of skill names to levels, kept in document order.
template <typename T>
FieldReader SkillLevels(std::vector<T>& out) {
  return [&out](const YAML::Node& node, const std::string& where) {
    if (!node.IsMap()) {
      return Invalid(node, where, "expected a mapping of skill: level");
    }
    out.clear();
    for (const auto& kv : node) {
      T item;
      std::string name;
      int level = 0;
      const std::string at =
          absl::StrCat(where, ".", kv.first.as<std::string>());
      if (absl::Status s = Text(name)(kv.first, at); !s.ok()) return s;
      if (absl::Status s = Integer(level)(kv.second, at); !s.ok()) return s;
      item = {name, level};
      out.push_back(std::move(item));
    }
    return absl::OkStatus();
  };
}

// A sequence whose items are read by `item(node, where, index)`.
template <typename T, typename Item>
FieldReader List(std::vector<T>& out, Item item) {
  return [&out, item](const YAML::Node& node, const std::string& where) {
    if (!node.IsSequence()) return Invalid(node, where, "expected a list");
    out.clear();
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string at = absl::StrCat(where, "[", i, "]");
      if (absl::Status s = item(node[i], at, out.emplace_back()); !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  };
}

std::optional<HandleTimeDistribution> ParseDistribution(std::string_view name) {
  if (name == "exponential") return HandleTimeDistribution::kExponential;
  if (name == "lognormal") return HandleTimeDistribution::kLognormal;
  return std::nullopt;
}

// An agent-selection name, or "random" (the simulator's).
struct Selection {
  std::optional<core::AgentSelection> engine;
  bool random = false;
};
std::optional<Selection> ParseSelection(std::string_view name) {
  if (name == "random")
    return Selection{.engine = std::nullopt, .random = true};
  if (auto s = core::ParseAgentSelection(name)) return Selection{.engine = *s};
  return std::nullopt;
}
constexpr char kSelectionNames[] =
    "longest_idle, most_skilled, least_occupied, preserve_coverage, random";

}  // namespace

absl::StatusOr<Scenario> ParseScenario(std::string_view yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", e.mark.line + 1, ": ", e.msg));
  }
  Scenario s;
  Selection default_selection{.engine = core::AgentSelection::kLongestIdle};
  // Per contact type: the selection it names, if any.
  std::vector<std::optional<Selection>> type_selection;
  auto contact_type = [&](const YAML::Node& node, const std::string& where,
                          ContactType& t) {
    std::optional<Selection>& selection = type_selection.emplace_back();
    return ReadMap(
        node, where,
        {{"name", Text(t.name)},
         {"arrivals_per_hour", Number(t.arrivals_per_hour)},
         {"aht_seconds", Number(t.aht_seconds)},
         {"handle_time",
          Choice(t.handle_time, ParseDistribution, "exponential, lognormal")},
         {"handle_time_sd_seconds", Number(t.handle_time_sd_seconds)},
         {"patience_seconds", Number(t.patience_seconds)},
         {"target_seconds", Number(t.target_seconds)},
         {"priority", Integer(t.priority)},
         {"requires", SkillLevels(t.requirements)},
         {"agent_selection",
          [&selection](const YAML::Node& n, const std::string& at) {
            Selection v;
            if (absl::Status st =
                    Choice(v, ParseSelection, kSelectionNames)(n, at);
                !st.ok()) {
              return st;
            }
            if (v.random) {
              return Invalid(n, at,
                             "random selection is for the whole scenario "
                             "(the top-level agent_selection)");
            }
            selection = v;
            return absl::OkStatus();
          }}});
  };
  auto agent_group = [](const YAML::Node& node, const std::string& where,
                        AgentGroup& g) {
    return ReadMap(node, where,
                   {{"name", Text(g.name)},
                    {"agents", Integer(g.agents)},
                    {"skills", SkillLevels(g.skills)},
                    {"speed", Number(g.speed)},
                    {"wrap_up_seconds", Number(g.wrap_up_seconds)},
                    {"accept_delay_seconds", Number(g.accept_delay_seconds)}});
  };
  absl::Status status =
      ReadMap(root, "",
              {{"name", Text(s.name)},
               {"contact_selection",
                Choice(s.contact_selection, core::ParseContactSelection,
                       "service_level, fifo")},
               {"agent_selection",
                Choice(default_selection, ParseSelection, kSelectionNames)},
               {"contact_types", List(s.contact_types, contact_type)},
               {"agent_groups", List(s.agent_groups, agent_group)}});
  if (!status.ok()) return status;
  s.random_agent_selection = default_selection.random;
  for (size_t i = 0; i < s.contact_types.size(); ++i) {
    const std::optional<Selection>& own = type_selection[i];
    s.contact_types[i].agent_selection =
        own ? *own->engine
            : default_selection.engine.value_or(
                  core::AgentSelection::kLongestIdle);
  }
  if (absl::Status v = ValidateScenario(s); !v.ok()) return v;
  return s;
}

absl::StatusOr<Scenario> LoadScenarioFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read '", path, "'"));
  }
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<Scenario> s = ParseScenario(text.str());
  if (!s.ok()) {
    return absl::Status(s.status().code(),
                        absl::StrCat(path, ": ", s.status().message()));
  }
  return s;
}

}  // namespace ccroute::sim
