#include "server/runtime/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace ccroute::runtime {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::mutex g_write_mu;

constexpr const char* kLevelNames[] = {"debug", "info", "warning", "error"};

void AppendBody(std::string& out, LogLevel level, std::string_view event,
                std::initializer_list<LogField> fields) {
  out += "\"level\":\"";
  out += kLevelNames[static_cast<int>(level)];
  out += "\",\"event\":";
  AppendJsonString(out, event);
  for (const LogField& f : fields) {
    out += ',';
    AppendJsonString(out, f.key);
    out += ':';
    if (f.quoted) {
      AppendJsonString(out, f.value);
    } else {
      out += f.value;
    }
  }
  out += '}';
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }

bool ParseLogLevel(std::string_view name, LogLevel& level) {
  for (int i = 0; i < 4; ++i) {
    if (name == kLevelNames[i]) {
      level = static_cast<LogLevel>(i);
      return true;
    }
  }
  return false;
}

std::string FormatLogLine(LogLevel level, std::string_view event,
                          std::initializer_list<LogField> fields) {
  std::string out = "{";
  AppendBody(out, level, event, fields);
  return out;
}

std::string FormatTimestampedLogLine(LogLevel level, std::string_view event,
                                     std::initializer_list<LogField> fields) {
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  int millis =
      static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                           now.time_since_epoch())
                           .count() %
                       1000);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char ts[64];
  std::snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                utc.tm_min, utc.tm_sec, millis);
  std::string line = "{\"ts\":\"";
  line += ts;
  line += "\",";
  AppendBody(line, level, event, fields);
  line += '\n';
  return line;
}

void Log(LogLevel level, std::string_view event,
         std::initializer_list<LogField> fields) {
  if (static_cast<int>(level) < g_level.load()) return;
  std::string line = FormatTimestampedLogLine(level, event, fields);
  std::lock_guard<std::mutex> lock(g_write_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace ccroute::runtime
