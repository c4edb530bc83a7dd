// The `ccroute` command-line tool: what its subcommands share. Each
// subcommand is a function taking the parsed command line and returning
// the process's exit code.
#ifndef CCROUTE_CLIENT_CLI_CLI_H_
#define CCROUTE_CLIENT_CLI_CLI_H_

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/message.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/timestamp.pb.h>
#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ccroute::cli {

// Exit codes, the same for every subcommand.
inline constexpr int kExitOk = 0;
// The server answered with an error (or, for `health`, is not serving).
inline constexpr int kExitServerError = 1;
// The command line is wrong; nothing was sent.
inline constexpr int kExitUsage = 2;
// The server could not be reached, or did not answer in time.
inline constexpr int kExitUnreachable = 3;

// A parsed command line: words, then flags. "--name value", "--name=value"
// and "-n value" set a flag; a flag named in the command's boolean set
// takes no value; a flag may repeat (e.g. --skill). "--" ends the flags.
class Args {
 public:
  // Splits `argv`. `bool_flags` lists the flags that take no value (names
  // without dashes); every other flag needs one (CheckKnown reports a
  // missing one). INVALID_ARGUMENT for a value given to a boolean flag.
  static absl::StatusOr<Args> Parse(const std::vector<std::string>& argv,
                                    const std::vector<std::string>& bool_flags);

  const std::vector<std::string>& words() const { return words_; }
  bool Has(const std::string& flag) const { return flags_.count(flag) > 0; }
  // The last value given for `flag`, or `fallback`.
  std::string Get(const std::string& flag,
                  const std::string& fallback = "") const;
  // Every value given for `flag`, in order.
  std::vector<std::string> GetAll(const std::string& flag) const;
  // INVALID_ARGUMENT naming the first flag not in `known` or kGlobalFlags
  // (booleans included), so that a typo is never silently ignored; then
  // one for a flag left without its value.
  absl::Status CheckKnown(const std::vector<std::string>& known) const;

  // Numeric flags; INVALID_ARGUMENT naming the flag for a malformed value.
  absl::StatusOr<long long> GetInt(const std::string& flag,
                                   long long fallback) const;
  absl::StatusOr<double> GetDouble(const std::string& flag,
                                   double fallback) const;

 private:
  std::vector<std::string> words_;
  std::multimap<std::string, std::string> flags_;
  std::vector<std::string> order_;
  std::string missing_value_;
};

// How to reach the server, from the global flags and the environment.
struct Connection {
  std::string server;  // host:port
  std::string token;   // bearer token; empty: none
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::chrono::milliseconds timeout{5000};

  // A channel with the configured transport (TLS when a CA or client
  // certificate is given) whose calls all carry the token.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> NewChannel() const;
  // Sets a unary call's deadline.
  void Prepare(grpc::ClientContext& context) const;
};

// The flags every subcommand accepts.
inline const std::vector<std::string> kGlobalFlags = {
    "server",  "token",   "tls-ca", "tls-cert",
    "tls-key", "timeout", "json",   "help"};

// What a subcommand gets.
struct Invocation {
  Connection connection;
  Args args;
  bool json = false;
};

// Prints "ccroute: <what>: CODE: message" to stderr and returns the exit
// code for `status` (kExitUnreachable for UNAVAILABLE and
// DEADLINE_EXCEEDED, kExitServerError otherwise).
int ReportError(const std::string& what, const grpc::Status& status);
// Prints "ccroute: message" and "Try 'ccroute <command> --help'." to
// stderr; returns kExitUsage.
int UsageError(const std::string& command, const std::string& message);

// For commands with subcommands (`contact create`, `admin apply`): prints
// `help` and returns the exit code when --help was given (0) or the
// subcommand is missing (kExitUsage); nullopt otherwise.
struct Invocation;
std::optional<int> HelpOrMissingCommand(const Invocation& inv,
                                        const char* help);
// One line of protobuf JSON (snake_case names, zero values included).
std::string ToJson(const google::protobuf::Message& message);

// "1m05s", "2h03m", "850ms", "4.2s"; "-" for a negative duration.
std::string FormatDuration(std::chrono::milliseconds d);
std::chrono::milliseconds ToMillis(const google::protobuf::Duration& d);
// Local wall-clock time of day, "14:03:07.123".
std::string FormatClock(const google::protobuf::Timestamp& t);
// "93.1%" of a fraction.
std::string FormatPercent(double fraction);
// "voice", "not_ready", "queued", "completed": the enum value's name
// without its prefix, lower case.
std::string ChannelName(int channel);
std::string AgentStateName(int state);
std::string ContactStateName(int state);
std::string EndReasonName(int reason);
// Parses the same names (and the full enum names); nullopt if unknown.
std::optional<int> ParseChannel(const std::string& name);
std::optional<int> ParseAgentState(const std::string& name);
std::optional<int> ParseEndReason(const std::string& name);

// A text table: columns sized to their widest cell, numbers right-aligned.
class Table {
 public:
  explicit Table(std::vector<std::string> header);
  void AddRow(std::vector<std::string> cells);
  // The table, one line per row, each ending in '\n'. Columns are two
  // spaces apart; a cell that looks like a number is right-aligned.
  std::string Render() const;
  size_t rows() const { return rows_.size(); }

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// The subcommands.
int RunQueues(Invocation& inv);
int RunAgents(Invocation& inv);
int RunContact(Invocation& inv);
int RunAgent(Invocation& inv);
int RunEvents(Invocation& inv);
int RunAdmin(Invocation& inv);
int RunHealth(Invocation& inv);
int RunTop(Invocation& inv);
int RunDemo(Invocation& inv);

}  // namespace ccroute::cli

#endif  // CCROUTE_CLIENT_CLI_CLI_H_
