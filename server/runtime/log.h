// Structured logs: one JSON object per line on stderr, with a time, a level,
// an event name and fields. Callers pass only what is safe to log: never
// contact attributes, customer ids or phone numbers.
//
// Thread-safe.
#ifndef CCROUTE_SERVER_RUNTIME_LOG_H_
#define CCROUTE_SERVER_RUNTIME_LOG_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace ccroute::runtime {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Lines below `level` are dropped. Default kInfo.
void SetLogLevel(LogLevel level);
// "debug", "info", "warning", "error"; false for anything else.
bool ParseLogLevel(std::string_view name, LogLevel& level);

struct LogField {
  std::string_view key;
  std::string value;
  bool quoted = true;  // false: value is a JSON number or boolean
  LogField(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  template <typename T>
  requires std::is_arithmetic_v<T> LogField(std::string_view k, T v)
      : key(k), value(std::to_string(v)), quoted(false) {}
};

// Writes {"ts":"2026-11-23T14:05:01.123Z","level":"info","event":...,...}.
void Log(LogLevel level, std::string_view event,
         std::initializer_list<LogField> fields = {});

// Appends `s` as a JSON string literal (quoted, escaped) to `out`.
void AppendJsonString(std::string& out, std::string_view s);

// The line Log writes: stamped with the current UTC time, newline-ended.
// For other JSON-line files in the same format (the audit log).
std::string FormatTimestampedLogLine(LogLevel level, std::string_view event,
                                     std::initializer_list<LogField> fields);

// The JSON line Log would write, without the time (for tests).
std::string FormatLogLine(LogLevel level, std::string_view event,
                          std::initializer_list<LogField> fields);

}  // namespace ccroute::runtime

#endif  // CCROUTE_SERVER_RUNTIME_LOG_H_
