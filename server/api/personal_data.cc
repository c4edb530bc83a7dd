#include "server/api/personal_data.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <mutex>
#include <random>

namespace ccroute::api {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool PassesLuhn(std::string_view digits) {
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

std::mutex g_key_mu;
std::string g_key;  // guarded by g_key_mu; empty until set or first use

}  // namespace

bool HoldsCardNumber(std::string_view value) {
  size_t i = 0;
  while (i < value.size()) {
    if (!IsDigit(value[i])) {
      ++i;
      continue;
    }
    bool phone = i > 0 && value[i - 1] == '+';
    std::string digits;
    while (i < value.size()) {
      if (IsDigit(value[i])) {
        digits += value[i++];
      } else if ((value[i] == ' ' || value[i] == '-') && i + 1 < value.size() &&
                 IsDigit(value[i + 1])) {
        ++i;
      } else {
        break;
      }
    }
    if (!phone && digits.size() >= 13 && digits.size() <= 19 &&
        PassesLuhn(digits)) {
      return true;
    }
  }
  return false;
}

absl::Status CheckNoCardNumbers(
    const std::vector<std::pair<std::string, std::string>>& attributes) {
  for (const auto& [key, value] : attributes) {
    if (HoldsCardNumber(value)) {
      return absl::InvalidArgumentError(
          "contact.attributes['" + key +
          "']: the value looks like a payment card number; card data must "
          "not be sent to the router");
    }
  }
  return absl::OkStatus();
}

void SetLogHashKey(std::string key) {
  std::lock_guard<std::mutex> lock(g_key_mu);
  g_key = std::move(key);
}

std::string LogHash(std::string_view value) {
  std::string key;
  {
    std::lock_guard<std::mutex> lock(g_key_mu);
    if (g_key.empty()) {
      g_key.resize(32);
      if (RAND_bytes(reinterpret_cast<unsigned char*>(g_key.data()),
                     static_cast<int>(g_key.size())) != 1) {
        std::random_device device;
        for (char& c : g_key) c = static_cast<char>(device());
      }
    }
    key = g_key;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(value.data()), value.size(), mac,
       &length);
  constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < 8 && i < length; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 0xf];
  }
  return out;
}

}  // namespace ccroute::api
