// Personal and payment data at the edge: contact attributes that hold a
// payment card number are refused (the router must never carry card data),
// and logs that need to correlate a contact carry a keyed hash of its id,
// never the id, its attributes or its customer id.
//
// Thread-safe.
#ifndef CCROUTE_SERVER_API_PERSONAL_DATA_H_
#define CCROUTE_SERVER_API_PERSONAL_DATA_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace ccroute::api {

// Whether `value` holds something that looks like a payment card number: a
// run of 13 to 19 digits, written together or in groups separated by single
// spaces or dashes, that passes the Luhn check. A run that follows a '+' is
// an international phone number (E.164), never a card number, and does not
// count.
bool HoldsCardNumber(std::string_view value);

// OK, or INVALID_ARGUMENT naming the first attribute (by key, never by
// value) that holds a card number.
absl::Status CheckNoCardNumbers(
    const std::vector<std::pair<std::string, std::string>>& attributes);

// Sets the key of LogHash (at least 16 bytes). Without it, a random key is
// drawn once per process, so hashes correlate lines of one run only.
void SetLogHashKey(std::string key);
// The first 16 hex digits of HMAC-SHA256(key, value): the same value gives
// the same hash within a run (with a configured key, across runs), and the
// value cannot be recovered from it without the key.
std::string LogHash(std::string_view value);

}  // namespace ccroute::api

#endif  // CCROUTE_SERVER_API_PERSONAL_DATA_H_
