// String helpers for the core. Debian's abseil has its own string_view
// type, so these take std::string_view directly.
#ifndef CCROUTE_SERVER_CORE_DETAIL_STRINGS_H_
#define CCROUTE_SERVER_CORE_DETAIL_STRINGS_H_

#include <concepts>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"

namespace ccroute::core::detail {

inline void AppendPiece(std::string& out, std::string_view s) { out += s; }
inline void AppendPiece(std::string& out, const char* s) { out += s; }
inline void AppendPiece(std::string& out, const std::string& s) { out += s; }
inline void AppendPiece(std::string& out, char c) { out += c; }
template <std::integral T>
void AppendPiece(std::string& out, T v) {
  out += std::to_string(v);
}

// Concatenates strings and integers.
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (AppendPiece(out, args), ...);
  return out;
}

// Hash and equality for std::string keys that also look up by
// std::string_view without a copy.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const {
    return absl::Hash<absl::string_view>{}(
        absl::string_view(s.data(), s.size()));
  }
};
struct StringEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const {
    return a == b;
  }
};
template <typename V>
using StringMap = absl::flat_hash_map<std::string, V, StringHash, StringEq>;
using StringSet = absl::flat_hash_set<std::string, StringHash, StringEq>;

}  // namespace ccroute::core::detail

#endif  // CCROUTE_SERVER_CORE_DETAIL_STRINGS_H_
