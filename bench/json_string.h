// JSON output for the bench tools (ccroute-sim, ccroute-load), which print
// their own JSON objects.
#ifndef CCROUTE_BENCH_JSON_STRING_H_
#define CCROUTE_BENCH_JSON_STRING_H_

#include <string>
#include <string_view>

#include "absl/strings/str_format.h"

namespace ccroute::bench {

// `s` as a JSON string literal: quoted, with quotes, backslashes and
// control characters escaped.
inline std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace ccroute::bench

#endif  // CCROUTE_BENCH_JSON_STRING_H_
