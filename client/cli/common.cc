#include <google/protobuf/util/json_util.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include "ccroute/v1/common.pb.h"
#include "client/channel.h"
#include "client/cli/cli.h"

namespace ccroute::cli {
namespace {

bool IsBoolFlag(const std::vector<std::string>& bool_flags,
                const std::string& name) {
  return std::find(bool_flags.begin(), bool_flags.end(), name) !=
         bool_flags.end();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(path + ": cannot open");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(c));
  return s;
}

// The enum value's name without `prefix`, lower case; the number if the
// value is unknown.
std::string EnumShortName(const google::protobuf::EnumDescriptor* type,
                          int value, const std::string& prefix) {
  const auto* v = type->FindValueByNumber(value);
  if (v == nullptr) return std::to_string(value);
  std::string name = v->name();
  if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
  return Lower(name);
}

std::optional<int> ParseEnum(const google::protobuf::EnumDescriptor* type,
                             const std::string& name,
                             const std::string& prefix) {
  std::string upper = name;
  for (char& c : upper) {
    c = c == '-' ? '_' : static_cast<char>(std::toupper(c));
  }
  const auto* v = type->FindValueByName(upper);
  if (v == nullptr) v = type->FindValueByName(prefix + upper);
  if (v == nullptr || v->number() == 0) return std::nullopt;
  return v->number();
}

bool LooksNumeric(const std::string& cell) {
  if (cell.empty() || cell == "-") return !cell.empty();
  bool digit = false;
  for (char c : cell) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digit = true;
    } else if (!std::strchr(".,%:+-hms", c)) {
      return false;
    }
  }
  return digit;
}

}  // namespace

absl::StatusOr<Args> Args::Parse(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& bool_flags) {
  Args args;
  bool flags_done = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (flags_done || a.size() < 2 || a[0] != '-' ||
        (a.size() > 1 && std::isdigit(static_cast<unsigned char>(a[1])))) {
      args.words_.push_back(a);
      continue;
    }
    if (a == "--") {
      flags_done = true;
      continue;
    }
    std::string name = a.substr(a[1] == '-' ? 2 : 1);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (name == "h") name = "help";
    if (IsBoolFlag(bool_flags, name)) {
      if (value.has_value() && *value != "true" && *value != "false") {
        return absl::InvalidArgumentError("--" + name + " takes no value");
      }
      if (!value.has_value() || *value == "true") {
        args.flags_.emplace(name, "true");
        args.order_.push_back(name);
      }
      continue;
    }
    if (!value.has_value()) {
      if (i + 1 >= argv.size()) {
        // Reported by CheckKnown, after an unknown name.
        args.missing_value_ = name;
        args.order_.push_back(name);
        continue;
      }
      value = argv[++i];
    }
    args.flags_.emplace(name, *value);
    args.order_.push_back(name);
  }
  return args;
}

std::string Args::Get(const std::string& flag,
                      const std::string& fallback) const {
  auto range = flags_.equal_range(flag);
  if (range.first == range.second) return fallback;
  return std::prev(range.second)->second;
}

std::vector<std::string> Args::GetAll(const std::string& flag) const {
  std::vector<std::string> out;
  auto range = flags_.equal_range(flag);
  for (auto it = range.first; it != range.second; ++it) {
    out.push_back(it->second);
  }
  return out;
}

absl::Status Args::CheckKnown(const std::vector<std::string>& known) const {
  for (const std::string& name : order_) {
    if (std::find(known.begin(), known.end(), name) == known.end() &&
        std::find(kGlobalFlags.begin(), kGlobalFlags.end(), name) ==
            kGlobalFlags.end()) {
      return absl::InvalidArgumentError("unknown flag --" + name);
    }
  }
  if (!missing_value_.empty()) {
    return absl::InvalidArgumentError("--" + missing_value_ + " needs a value");
  }
  return absl::OkStatus();
}

absl::StatusOr<long long> Args::GetInt(const std::string& flag,
                                       long long fallback) const {
  if (!Has(flag)) return fallback;
  const std::string value = Get(flag);
  size_t used = 0;
  long long n = 0;
  try {
    n = std::stoll(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size()) {
    return absl::InvalidArgumentError("--" + flag + ": '" + value +
                                      "' is not an integer");
  }
  return n;
}

absl::StatusOr<double> Args::GetDouble(const std::string& flag,
                                       double fallback) const {
  if (!Has(flag)) return fallback;
  const std::string value = Get(flag);
  size_t used = 0;
  double x = 0;
  try {
    x = std::stod(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size() || !std::isfinite(x)) {
    return absl::InvalidArgumentError("--" + flag + ": '" + value +
                                      "' is not a number");
  }
  return x;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Connection::NewChannel() const {
  client::ChannelOptions options;
  if (!tls_ca_file.empty() || !tls_cert_file.empty()) {
    grpc::SslCredentialsOptions ssl;
    if (!tls_ca_file.empty()) {
      auto ca = ReadFile(tls_ca_file);
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *ca;
    }
    if (tls_cert_file.empty() != tls_key_file.empty()) {
      return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
    }
    if (!tls_cert_file.empty()) {
      auto cert = ReadFile(tls_cert_file);
      if (!cert.ok()) return cert.status();
      auto key = ReadFile(tls_key_file);
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *cert;
      ssl.pem_private_key = *key;
    }
    options.credentials = grpc::SslCredentials(ssl);
  }
  if (!token.empty()) {
    options.metadata.emplace_back("authorization", "Bearer " + token);
  }
  return client::NewChannel(server, options);
}

void Connection::Prepare(grpc::ClientContext& context) const {
  context.set_deadline(std::chrono::system_clock::now() + timeout);
}

int ReportError(const std::string& what, const grpc::Status& status) {
  int code = status.error_code();
  // gRPC's codes are abseil's, by number and name.
  std::string name =
      absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  if (name.empty()) name = "UNKNOWN";
  std::cerr << "ccroute: " << what << ": " << name << ": "
            << status.error_message() << "\n";
  if (code == grpc::StatusCode::UNAVAILABLE ||
      code == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return kExitUnreachable;
  }
  return kExitServerError;
}

int UsageError(const std::string& command, const std::string& message) {
  std::cerr << "ccroute: " << message << "\n"
            << "Try 'ccroute " << command << (command.empty() ? "" : " ")
            << "--help'.\n";
  return kExitUsage;
}

std::optional<int> HelpOrMissingCommand(const Invocation& inv,
                                        const char* help) {
  bool asked = inv.args.Has("help");
  if (!asked && inv.args.words().size() >= 2) return std::nullopt;
  std::cout << help;
  return asked ? kExitOk : kExitUsage;
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

std::string FormatDuration(std::chrono::milliseconds d) {
  long long ms = d.count();
  if (ms < 0) return "-";
  char buf[32];
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%lldms", ms);
  } else if (ms < 10'000) {
    std::snprintf(buf, sizeof buf, "%.1fs", ms / 1000.0);
  } else if (ms < 60'000) {
    std::snprintf(buf, sizeof buf, "%llds", ms / 1000);
  } else if (ms < 3'600'000) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", ms / 60'000,
                  (ms / 1000) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", ms / 3'600'000,
                  (ms / 60'000) % 60);
  }
  return buf;
}

std::chrono::milliseconds ToMillis(const google::protobuf::Duration& d) {
  return std::chrono::milliseconds(d.seconds() * 1000 + d.nanos() / 1'000'000);
}

std::string FormatClock(const google::protobuf::Timestamp& t) {
  std::time_t seconds = static_cast<std::time_t>(t.seconds());
  std::tm local{};
  localtime_r(&seconds, &local);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03d", local.tm_hour,
                local.tm_min, local.tm_sec, t.nanos() / 1'000'000);
  return buf;
}

std::string FormatPercent(double fraction) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%", fraction * 100.0);
  return buf;
}

std::string ChannelName(int channel) {
  return EnumShortName(v1::Channel_descriptor(), channel, "CHANNEL_");
}
std::string AgentStateName(int state) {
  return EnumShortName(v1::AgentState_descriptor(), state, "AGENT_STATE_");
}
std::string ContactStateName(int state) {
  return EnumShortName(v1::ContactState_descriptor(), state, "CONTACT_STATE_");
}
std::string EndReasonName(int reason) {
  return EnumShortName(v1::EndReason_descriptor(), reason, "END_REASON_");
}
std::optional<int> ParseChannel(const std::string& name) {
  return ParseEnum(v1::Channel_descriptor(), name, "CHANNEL_");
}
std::optional<int> ParseAgentState(const std::string& name) {
  return ParseEnum(v1::AgentState_descriptor(), name, "AGENT_STATE_");
}
std::optional<int> ParseEndReason(const std::string& name) {
  return ParseEnum(v1::EndReason_descriptor(), name, "END_REASON_");
}

Table::Table(std::vector<std::string> header) : header_(std::move(header)) {}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(header_.size());
  rows_.push_back(std::move(cells));
}

std::string Table::Render() const {
  std::vector<size_t> width(header_.size());
  std::vector<bool> numeric(header_.size(), true);
  for (size_t c = 0; c < header_.size(); ++c) {
    width[c] = header_[c].size();
    bool any = false;
    for (const auto& row : rows_) {
      width[c] = std::max(width[c], row[c].size());
      if (!row[c].empty()) {
        any = true;
        if (!LooksNumeric(row[c])) numeric[c] = false;
      }
    }
    if (!any) numeric[c] = false;
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t c = 0; c < cells.size(); ++c) {
      if (c > 0) line += "  ";
      std::string pad(width[c] - cells[c].size(), ' ');
      line += numeric[c] ? pad + cells[c] : cells[c] + pad;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  };
  emit(header_);
  for (const auto& row : rows_) emit(row);
  return out;
}

}  // namespace ccroute::cli
