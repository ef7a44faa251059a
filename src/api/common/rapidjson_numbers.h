#pragma once
// Debian's rapidjson 1.1.0 mis-reads some numbers in its full-precision mode: when the decimal exponent of
// the digits read (fraction digits and the explicit exponent together) goes far below -300, or a token
// carries hundreds of digits, it returns wrong values (0.01e-325 -> -1.7e305, a 70-digit zero -> 1.7e243)
// or reads outside its table of powers of ten and crashes (0.<100 zeros>1e-250). Fixed upstream after 1.1.0.
//
// Every body parsed with rapidjson goes through safeRapidjsonText() first (parseJsonWithRapidjson): numbers outside the range
// rapidjson handles are replaced, in a copy, by their correctly rounded value (glibc strtod, written in
// the shortest round-trip form and padded with spaces), so rapidjson never sees them. Bodies without such
// numbers (all real ones) are not copied.
#include <rapidjson/document.h>

#include <string>
#include <string_view>

namespace ovms::api {

// The one rapidjson parse of the REST codecs (TF-Serving and KServe): refuses nesting deeper than
// kMaxJsonDepth (json_nesting.h), corrects the numbers below, then parses in full precision. False when
// the body is not valid JSON for either reason (both JSON_INVALID); `doc` then holds nothing usable.
bool parseJsonWithRapidjson(std::string_view json, rapidjson::Document* doc);

// Returns `text` itself, or `*storage` holding the rewritten copy.
std::string_view safeRapidjsonText(std::string_view text, std::string* storage);

}  // namespace ovms::api
