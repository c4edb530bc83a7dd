#include "server/api/config_file.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "server/api/convert.h"
#include "server/core/detail/strings.h"
#include "server/runtime/log.h"

namespace ccroute::api {
namespace {

using core::detail::Cat;

absl::Status Invalid(std::string_view where, std::string_view problem) {
  return absl::InvalidArgumentError(Cat(where, ": ", problem));
}

std::string ToStd(absl::string_view s) {
  return std::string(s.data(), s.size());
}

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Digits without leading zeros (JSON allows none), at least one digit.
std::string_view TrimLeadingZeros(std::string_view digits) {
  size_t i = 0;
  while (i + 1 < digits.size() && digits[i] == '0') ++i;
  return digits.substr(i);
}

// The JSON number for a YAML 1.2 core-schema integer or float, or nullopt
// if `s` is not plainly one.
std::optional<std::string> JsonNumber(std::string_view s) {
  std::string out;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    if (s[0] == '-') out += '-';
    s.remove_prefix(1);
  }
  std::string_view exponent;
  if (size_t e = s.find_first_of("eE"); e != std::string_view::npos) {
    exponent = s.substr(e + 1);
    s = s.substr(0, e);
    std::string_view exponent_digits = exponent;
    if (!exponent_digits.empty() &&
        (exponent_digits[0] == '-' || exponent_digits[0] == '+')) {
      exponent_digits.remove_prefix(1);
    }
    if (!IsDigits(exponent_digits)) return std::nullopt;
  }
  std::string_view integer = s;
  std::string_view fraction;
  bool has_point = false;
  if (size_t p = s.find('.'); p != std::string_view::npos) {
    has_point = true;
    integer = s.substr(0, p);
    fraction = s.substr(p + 1);
  }
  if (integer.empty() && fraction.empty()) return std::nullopt;
  if (!integer.empty() && !IsDigits(integer)) return std::nullopt;
  if (!fraction.empty() && !IsDigits(fraction)) return std::nullopt;
  out += integer.empty() ? std::string_view("0") : TrimLeadingZeros(integer);
  if (has_point) {
    out += '.';
    out += fraction.empty() ? std::string_view("0") : fraction;
  }
  if (!exponent.empty()) {
    out += 'e';
    out += exponent;
  }
  return out;
}

// What the schema says a YAML node is: a value of `field` (nullptr: not a
// known field), or when `message` is set, the fields of that message.
struct Schema {
  const google::protobuf::Descriptor* message = nullptr;
  const google::protobuf::FieldDescriptor* field = nullptr;
};

// Only a string field, or a message written as a string (a Duration such as
// `20s`), takes every scalar as a string; protobuf's JSON parser refuses a
// number there, and `id: 1001` is a fair agent id.
bool WantsString(const google::protobuf::FieldDescriptor* field) {
  if (field == nullptr) return false;
  using FD = google::protobuf::FieldDescriptor;
  return field->cpp_type() == FD::CPPTYPE_STRING ||
         field->cpp_type() == FD::CPPTYPE_MESSAGE;
}

bool IsNullScalar(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

// A scalar as JSON: null, a boolean or a number where the YAML 1.2 core
// schema plainly reads it as one (and the field is not a string), else a
// string. Quoted scalars and `!!str` are always strings.
void AppendScalar(std::string& out, const YAML::Node& node,
                  const google::protobuf::FieldDescriptor* field) {
  const std::string& tag = node.Tag();
  const std::string& s = node.Scalar();
  bool plain = tag == "?" || (tag.rfind("tag:yaml.org,2002:", 0) == 0 &&
                              tag != "tag:yaml.org,2002:str");
  if (plain && IsNullScalar(s)) {
    out += "null";
    return;
  }
  if (plain && !WantsString(field)) {
    if (s == "true" || s == "True" || s == "TRUE") {
      out += "true";
      return;
    }
    if (s == "false" || s == "False" || s == "FALSE") {
      out += "false";
      return;
    }
    // protobuf's JSON parser takes these strings for a double.
    if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf" ||
        s == "+.Inf" || s == "+.INF") {
      out += "\"Infinity\"";
      return;
    }
    if (s == "-.inf" || s == "-.Inf" || s == "-.INF") {
      out += "\"-Infinity\"";
      return;
    }
    if (s == ".nan" || s == ".NaN" || s == ".NAN") {
      out += "\"NaN\"";
      return;
    }
    if (std::optional<std::string> number = JsonNumber(s); number) {
      out += *number;
      return;
    }
  }
  runtime::AppendJsonString(out, s);
}

// The field of `message` a YAML key names, by proto or JSON name.
const google::protobuf::FieldDescriptor* FindField(
    const google::protobuf::Descriptor* message, const std::string& key) {
  if (message == nullptr) return nullptr;
  const google::protobuf::FieldDescriptor* f = message->FindFieldByName(key);
  for (int i = 0; f == nullptr && i < message->field_count(); ++i) {
    if (message->field(i)->json_name() == key) f = message->field(i);
  }
  return f;
}

absl::Status AppendJson(std::string& out, const YAML::Node& node,
                        const std::string& path, Schema schema);

// A value of `field`, repeated or not; nullptr for an unknown key.
absl::Status AppendField(std::string& out, const YAML::Node& node,
                         const std::string& path,
                         const google::protobuf::FieldDescriptor* field) {
  if (field == nullptr) return AppendJson(out, node, path, {});
  if (field->is_map()) {
    // A map<K, V> is a JSON object whose values are V.
    if (!node.IsMap()) return AppendJson(out, node, path, {nullptr, field});
    Schema values;
    values.field = field->message_type()->map_value();
    if (values.field->message_type() != nullptr) {
      values.message = values.field->message_type();
    }
    out += '{';
    bool first = true;
    std::set<std::string> keys;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        return Invalid(path, "a key is not a plain string");
      }
      const std::string& key = entry.first.Scalar();
      std::string child = Cat(path, "[\"", key, "\"]");
      if (!keys.insert(key).second) return Invalid(child, "duplicate key");
      if (!first) out += ',';
      first = false;
      runtime::AppendJsonString(out, key);
      out += ':';
      if (auto s = AppendJson(out, entry.second, child, values); !s.ok()) {
        return s;
      }
    }
    out += '}';
    return absl::OkStatus();
  }
  Schema element{field->message_type(), field};
  if (field->is_repeated() && node.IsSequence()) {
    out += '[';
    for (size_t i = 0; i < node.size(); ++i) {
      if (i > 0) out += ',';
      if (auto s = AppendJson(out, node[i], Cat(path, "[", i, "]"), element);
          !s.ok()) {
        return s;
      }
    }
    out += ']';
    return absl::OkStatus();
  }
  return AppendJson(out, node, path, element);
}

// `node` as JSON. Where `schema` knows the field, a scalar is typed by it.
absl::Status AppendJson(std::string& out, const YAML::Node& node,
                        const std::string& path, Schema schema) {
  auto where = [&path] { return path.empty() ? std::string("(top)") : path; };
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out += "null";
      return absl::OkStatus();
    case YAML::NodeType::Scalar:
      AppendScalar(out, node, schema.field);
      return absl::OkStatus();
    case YAML::NodeType::Sequence: {
      out += '[';
      for (size_t i = 0; i < node.size(); ++i) {
        if (i > 0) out += ',';
        if (auto s = AppendJson(out, node[i], Cat(path, "[", i, "]"), {});
            !s.ok()) {
          return s;
        }
      }
      out += ']';
      return absl::OkStatus();
    }
    case YAML::NodeType::Map: {
      out += '{';
      std::set<std::string> keys;
      bool first = true;
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          return Invalid(where(), "a key is not a plain string");
        }
        const std::string& key = entry.first.Scalar();
        std::string child = path.empty() ? key : Cat(path, ".", key);
        if (!keys.insert(key).second) return Invalid(child, "duplicate key");
        if (!first) out += ',';
        first = false;
        runtime::AppendJsonString(out, key);
        out += ':';
        if (auto s = AppendField(out, entry.second, child,
                                 FindField(schema.message, key));
            !s.ok()) {
          return s;
        }
      }
      out += '}';
      return absl::OkStatus();
    }
  }
  return Invalid(where(), "unsupported YAML node");
}

std::string DescribeMark(const YAML::Mark& mark) {
  if (mark.is_null()) return "";
  return Cat("line ", mark.line + 1, ", column ", mark.column + 1, ": ");
}

absl::StatusOr<std::string> YamlToJson(
    std::string_view text, const google::protobuf::Descriptor* message) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(Cat(DescribeMark(e.mark), e.msg));
  }
  if (documents.size() > 1) {
    return absl::InvalidArgumentError(
        Cat(documents.size(), " YAML documents; expected one"));
  }
  if (documents.empty() || documents[0].IsNull()) return std::string("{}");
  if (!documents[0].IsMap()) {
    return absl::InvalidArgumentError(
        Cat(DescribeMark(documents[0].Mark()),
            "the configuration must be a mapping of keys to values"));
  }
  std::string json;
  if (auto s = AppendJson(json, documents[0], "", {message, nullptr});
      !s.ok()) {
    return s;
  }
  return json;
}

// protobuf says "(queues[0]) nmae: Cannot find field." or
// "(queues[0].max_wait): invalid value ..."; this makes both read
// "queues[0].nmae: unknown field", "queues[0].max_wait: invalid value ...".
std::string DescribeJsonError(std::string_view message) {
  constexpr std::string_view kCannotFind = "Cannot find field.";
  if (message.starts_with(": ")) message.remove_prefix(2);
  size_t close = message.find(')');
  if (!message.starts_with('(') || close == std::string_view::npos) {
    if (message.ends_with(kCannotFind)) {
      message.remove_suffix(kCannotFind.size());
      return Cat(message, "unknown field");
    }
    return std::string(message);
  }
  std::string_view path = message.substr(1, close - 1);
  std::string_view rest = message.substr(close + 1);
  if (rest.starts_with(": ")) return Cat(path, rest);
  size_t colon = rest.find(": ");
  if (!rest.starts_with(' ') || colon == std::string_view::npos) {
    return std::string(message);
  }
  std::string_view key = rest.substr(1, colon - 1);
  std::string_view problem = rest.substr(colon + 2);
  if (problem == kCannotFind) problem = "unknown field";
  return path.empty() ? Cat(key, ": ", problem)
                      : Cat(path, ".", key, ": ", problem);
}

// A limit: 0 (unset) keeps `*out`, the default.
template <typename T>
absl::Status PositiveLimit(int32_t value, std::string_view key, T* out) {
  if (value < 0) return Invalid(key, Cat("must be positive, not ", value));
  if (value > 0) *out = static_cast<T>(value);
  return absl::OkStatus();
}

// A duration limit: unset keeps `*out`, the default.
absl::Status PositiveDuration(bool has, const google::protobuf::Duration& d,
                              std::string_view key, core::Duration* out) {
  if (!has) return absl::OkStatus();
  auto value = FromProto(d, key);
  if (!value.ok()) return value.status();
  if (*value <= core::Duration::zero()) {
    return Invalid(key, "must be positive");
  }
  *out = *value;
  return absl::OkStatus();
}

// A keepalive duration: unset keeps `*out`, the default. gRPC takes whole
// milliseconds as an int; below a second the pings would be load of their
// own, and a timeout that short mistakes a busy peer for a dead one.
absl::Status KeepaliveDuration(bool has, const google::protobuf::Duration& d,
                               std::string_view key, core::Duration* out) {
  if (!has) return absl::OkStatus();
  auto value = FromProto(d, key);
  if (!value.ok()) return value.status();
  if (*value < std::chrono::seconds(1) || *value > std::chrono::hours(24)) {
    return Invalid(key, Cat("must be between 1s and 24h, not ",
                            google::protobuf::util::TimeUtil::ToString(d)));
  }
  *out = *value;
  return absl::OkStatus();
}

absl::Status ResolveLimits(const v1::Limits& l, core::EngineLimits& engine,
                           ServerLimits& server) {
  for (absl::Status s : {
           PositiveLimit(l.max_message_bytes(), "limits.max_message_bytes",
                         &server.max_message_bytes),
           PositiveLimit(l.max_attributes(), "limits.max_attributes",
                         &engine.max_attributes),
           PositiveLimit(l.max_attribute_value_bytes(),
                         "limits.max_attribute_value_bytes",
                         &engine.max_attribute_value_bytes),
           PositiveLimit(l.max_agent_sessions(), "limits.max_agent_sessions",
                         &server.max_agent_sessions),
           PositiveLimit(l.max_watchers(), "limits.max_watchers",
                         &server.max_watchers),
           PositiveLimit(l.max_event_subscribers(),
                         "limits.max_event_subscribers",
                         &server.max_event_subscribers),
           PositiveLimit(l.max_live_contacts(), "limits.max_live_contacts",
                         &engine.max_live_contacts),
           PositiveLimit(l.stream_queue_limit(), "limits.stream_queue_limit",
                         &server.stream_queue_limit),
           PositiveDuration(l.has_heartbeat_timeout(), l.heartbeat_timeout(),
                            "limits.heartbeat_timeout",
                            &server.heartbeat_timeout),
           PositiveDuration(l.has_reconnect_grace(), l.reconnect_grace(),
                            "limits.reconnect_grace", &server.reconnect_grace),
           PositiveDuration(l.has_shutdown_timeout(), l.shutdown_timeout(),
                            "limits.shutdown_timeout",
                            &server.shutdown_timeout),
           PositiveDuration(
               l.has_idempotency_retention(), l.idempotency_retention(),
               "limits.idempotency_retention", &engine.idempotency_retention),
           PositiveLimit(l.max_concurrent_streams(),
                         "limits.max_concurrent_streams",
                         &server.max_concurrent_streams),
           KeepaliveDuration(l.has_keepalive_time(), l.keepalive_time(),
                             "limits.keepalive_time", &server.keepalive_time),
           KeepaliveDuration(l.has_keepalive_timeout(), l.keepalive_timeout(),
                             "limits.keepalive_timeout",
                             &server.keepalive_timeout),
       }) {
    if (!s.ok()) return s;
  }
  if (l.has_contact_rate()) {
    const v1::RateLimit& r = l.contact_rate();
    if (!(r.per_second() > 0)) {
      return Invalid("limits.contact_rate.per_second", "must be positive");
    }
    if (r.burst() < 0) {
      return Invalid("limits.contact_rate.burst", "must be positive");
    }
    server.contact_rate_per_second = r.per_second();
    server.contact_rate_burst = r.burst();
  }
  return absl::OkStatus();
}

std::string Where(std::string_view list, int index, std::string_view name) {
  if (name.empty()) return Cat(list, "[", index, "]");
  return Cat(list, "[", index, "] (", name, ")");
}

absl::Status Prefixed(std::string_view where, const absl::Status& status) {
  return absl::Status(status.code(), Cat(where, ": ", ToStd(status.message())));
}

constexpr std::string_view kBuiltInConfigYaml = R"yaml(
# The demo configuration ccrouted runs without --config.
listen: 127.0.0.1:7400
metrics_listen: 127.0.0.1:9464
# A local demo: no TLS and no authentication, so only on loopback.
# ccrouted warns about both at start. See deploy/ccrouted.example.yaml.
security:
  plaintext: true
  auth: none
# Live contacts survive a restart: kept in ./ccroute-data (relative to the
# working directory; --data-dir moves it).
journal:
  data_dir: ccroute-data
routing:
  contact_selection: service_level
queues:
  - name: sales
    channels: [CHANNEL_VOICE, CHANNEL_CHAT]
    service_level_target: 20s
    requirements:
      - {skill: sales, min_level: 3}
  - name: support
    channels: [CHANNEL_VOICE, CHANNEL_CHAT, CHANNEL_EMAIL]
    service_level_target: 60s
    requirements:
      - {skill: support, min_level: 5}
    escalation:
      - after: 30s
        requirements:
          - {skill: support, min_level: 2}
    max_waiting: 200
    overflow_queue: general
  - name: general
    service_level_target: 120s
agents:
  - id: alice
    skills: [{name: sales, level: 8}, {name: support, level: 3}]
    capacity: {voice: 1, chat: 2}
    wrap_up: {voice: 20s, chat: 10s}
  - id: bob
    skills: [{name: sales, level: 5}]
    capacity: {voice: 1, chat: 3}
    wrap_up: {voice: 15s, chat: 10s}
  - id: carol
    skills: [{name: support, level: 7}, {name: sales, level: 3}]
    capacity: {voice: 1, chat: 2, email: 3}
    wrap_up: {voice: 30s, chat: 15s, email: 20s}
  - id: dave
    skills: [{name: support, level: 5}]
    capacity: {voice: 1, email: 3}
    wrap_up: {voice: 30s, email: 20s}
  - id: erin
    skills: [{name: support, level: 2}, {name: sales, level: 3}]
    capacity: {voice: 1, chat: 3}
    wrap_up: {voice: 20s, chat: 10s}
  - id: frank
    capacity: {voice: 1, chat: 2, email: 3}
    wrap_up: {voice: 15s, chat: 10s, email: 15s}
  - id: grace
    skills: [{name: sales, level: 4}, {name: support, level: 6}]
    capacity: {voice: 1, chat: 2}
    wrap_up: {voice: 25s, chat: 10s}
  - id: heidi
    skills: [{name: support, level: 9}]
    capacity: {chat: 3, email: 3}
    wrap_up: {chat: 15s, email: 30s}
)yaml";

}  // namespace

absl::Status ParseConfigText(std::string_view text, std::string_view format,
                             google::protobuf::Message* out) {
  std::string json;
  if (format == "yaml") {
    auto converted = YamlToJson(text, out->GetDescriptor());
    if (!converted.ok()) return converted.status();
    json = *std::move(converted);
  } else if (format == "json") {
    json = std::string(text);
  } else {
    return absl::InvalidArgumentError(
        Cat("unknown configuration format '", format, "' (yaml or json)"));
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(json, out, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(DescribeJsonError(
        std::string_view(status.message().data(), status.message().size())));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ServerConfig> ParseServerConfig(std::string_view text,
                                                   std::string_view format) {
  v1::ServerConfig config;
  if (auto s = ParseConfigText(text, format, &config); !s.ok()) return s;
  return config;
}

absl::Status LoadConfigFile(const std::string& path,
                            google::protobuf::Message* out) {
  std::string_view format;
  auto ends_with = [&path](std::string_view suffix) {
    return std::string_view(path).ends_with(suffix);
  };
  if (ends_with(".yaml") || ends_with(".yml")) {
    format = "yaml";
  } else if (ends_with(".json")) {
    format = "json";
  } else {
    return absl::InvalidArgumentError(
        Cat(path, ": unknown configuration format (use .yaml, .yml or .json)"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int error = errno;
    return absl::Status(absl::ErrnoToStatusCode(error),
                        Cat(path, ": cannot read: ", std::strerror(error)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    int error = errno;
    return absl::Status(absl::ErrnoToStatusCode(error),
                        Cat(path, ": cannot read: ", std::strerror(error)));
  }
  if (auto s = ParseConfigText(text.str(), format, out); !s.ok()) {
    return Prefixed(path, s);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ServerConfig> LoadServerConfigFile(const std::string& path) {
  v1::ServerConfig config;
  if (auto s = LoadConfigFile(path, &config); !s.ok()) return s;
  std::error_code error;
  std::filesystem::path absolute = std::filesystem::absolute(path, error);
  ResolveSecurityPaths(
      (error ? std::filesystem::path(path) : absolute).parent_path().string(),
      config);
  return config;
}

absl::StatusOr<ResolvedConfig> ResolveServerConfig(
    const v1::ServerConfig& config) {
  ResolvedConfig out;
  out.listen =
      config.listen().empty() ? std::string(kDefaultListen) : config.listen();
  out.metrics_listen = config.metrics_listen();

  if (auto s =
          ResolveLimits(config.limits(), out.engine_limits, out.server_limits);
      !s.ok()) {
    return s;
  }

  auto routing = FromProto(config.routing());
  if (!routing.ok()) return routing.status();
  if (auto s = core::ValidateRoutingPolicy(*routing); !s.ok()) return s;
  out.routing = *routing;

  absl::flat_hash_map<std::string, int> queue_index;
  for (int i = 0; i < config.queues_size(); ++i) {
    std::string where = Where("queues", i, config.queues(i).name());
    auto queue = FromProto(config.queues(i));
    if (!queue.ok()) return Prefixed(where, queue.status());
    if (auto s = core::ValidateQueueConfig(*queue, out.engine_limits);
        !s.ok()) {
      return Prefixed(where, s);
    }
    auto [it, inserted] = queue_index.emplace(queue->name, i);
    if (!inserted) {
      return Invalid(where, Cat("queue.name: defined twice, first as queues[",
                                it->second, "]"));
    }
    out.queues.push_back(*std::move(queue));
  }
  for (size_t i = 0; i < out.queues.size(); ++i) {
    const core::QueueConfig& q = out.queues[i];
    std::string where = Where("queues", static_cast<int>(i), q.name);
    for (auto [key, target] : {std::pair<std::string_view, const std::string*>{
                                   "queue.overflow_queue", &q.overflow_queue},
                               {"queue.max_wait_queue", &q.max_wait_queue}}) {
      if (!target->empty() && !queue_index.contains(*target)) {
        return Invalid(where,
                       Cat(key, ": no queue named '", *target, "' is defined"));
      }
    }
  }

  absl::flat_hash_map<std::string, int> agent_index;
  for (int i = 0; i < config.agents_size(); ++i) {
    std::string where = Where("agents", i, config.agents(i).id());
    auto agent = FromProto(config.agents(i));
    if (!agent.ok()) return Prefixed(where, agent.status());
    if (auto s = core::ValidateAgentProfile(*agent, out.engine_limits);
        !s.ok()) {
      return Prefixed(where, s);
    }
    auto [it, inserted] = agent_index.emplace(agent->id, i);
    if (!inserted) {
      return Invalid(where, Cat("agent.id: defined twice, first as agents[",
                                it->second, "]"));
    }
    out.agents.push_back(*std::move(agent));
  }

  if (config.has_security()) {
    auto security = ResolveSecurity(config.security());
    if (!security.ok()) return security.status();
    out.security = *std::move(security);
  }

  const v1::JournalConfig& journal = config.journal();
  if (journal.store() == "rocksdb" ||
      (journal.store().empty() && !journal.data_dir().empty())) {
    if (journal.data_dir().empty()) {
      return Invalid("journal.data_dir", "required with store rocksdb");
    }
    out.journal.enabled = true;
    out.journal.data_dir = journal.data_dir();
  } else if (journal.store() != "none" && !journal.store().empty()) {
    return Invalid("journal.store", Cat("unknown store '", journal.store(),
                                        "' (rocksdb or none)"));
  }
  if (!journal.durability().empty()) {
    if (journal.durability() != "sync" && journal.durability() != "interval" &&
        journal.durability() != "none") {
      return Invalid("journal.durability",
                     Cat("unknown durability '", journal.durability(),
                         "' (sync, interval or none)"));
    }
    out.journal.durability = journal.durability();
  }
  if (journal.has_sync_interval()) {
    auto interval = FromProto(journal.sync_interval(), "journal.sync_interval");
    if (!interval.ok()) return interval.status();
    if (*interval <= core::Duration::zero() ||
        *interval > std::chrono::minutes(1)) {
      return Invalid("journal.sync_interval", "must be between 1ms and 1m");
    }
    out.journal.sync_interval =
        std::chrono::duration_cast<std::chrono::milliseconds>(*interval);
    if (out.journal.sync_interval.count() == 0) {
      return Invalid("journal.sync_interval", "must be between 1ms and 1m");
    }
  }
  return out;
}

std::string_view BuiltInConfigYaml() { return kBuiltInConfigYaml; }

}  // namespace ccroute::api
