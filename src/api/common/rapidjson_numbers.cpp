#include "api/common/rapidjson_numbers.h"

#include "api/common/json_nesting.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

namespace ovms::api {
namespace {

bool isNumberChar(char c) { return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'; }

// Tokens rapidjson reads correctly: short, with decimal exponents well inside the double range.
constexpr size_t kMaxSafeLength = 64;
constexpr long kMaxSafeExponent = 280;
constexpr long kMaxSafeDigits = 19;

// True when the token [p, p + n) is a JSON number rapidjson might mis-read.
bool hazardous(const char* p, size_t n) {
  if (n > kMaxSafeLength) return true;
  size_t i = 0;
  if (i < n && p[i] == '-') ++i;
  long int_significant = 0;  // integer digits after leading zeros
  bool leading = true;
  size_t int_first = n;  // where the integer part's significant digits start
  for (; i < n && p[i] >= '0' && p[i] <= '9'; ++i) {
    if (p[i] != '0' && leading) {
      leading = false;
      int_first = i;
    }
    if (!leading) ++int_significant;
  }
  const bool integer_token = i == n;  // no fraction, no exponent: rapidjson reads it as an integer if it fits
  long frac_zeros = 0;  // zeros after the point before the first non-zero digit
  long significant = int_significant;  // digits from the first non-zero one on
  bool nonzero = int_significant > 0;
  if (i < n && p[i] == '.') {
    for (++i; i < n && p[i] >= '0' && p[i] <= '9'; ++i) {
      if (p[i] != '0') nonzero = true;
      if (!nonzero) ++frac_zeros;
      else ++significant;
    }
  }
  if (integer_token) {
    // Integers that fit 64 bits are read exactly (as integers: a UINT64 input keeps 18446744073709551615);
    // beyond that rapidjson turns them into doubles through the path below.
    if (int_significant > 20) return true;
    if (int_significant == 20) return std::string_view(p + int_first, 20) > "18446744073709551615";
    return false;
  }
  // More significant digits than a uint64 holds: rapidjson's full-precision path can be off by an
  // ulp or two there (9016909.2126271919125E-20 read as ...925e-14 instead of ...913e-14).
  if (significant > kMaxSafeDigits) return true;
  long exponent = 0;
  if (i < n && (p[i] == 'e' || p[i] == 'E')) {
    ++i;
    bool negative = false;
    if (i < n && (p[i] == '-' || p[i] == '+')) negative = p[i++] == '-';
    for (; i < n && p[i] >= '0' && p[i] <= '9'; ++i) exponent = std::min(exponent * 10 + (p[i] - '0'), 100000L);
    if (negative) exponent = -exponent;
  }
  if (exponent > kMaxSafeExponent || exponent < -kMaxSafeExponent) return true;
  // A zero is mis-read too when it carries an exponent (-0e252 -> 7.4e-68) or many digits.
  if (!nonzero) return exponent != 0 || n > 20;
  const long magnitude = (int_significant > 0 ? int_significant : -frac_zeros) + exponent;
  return magnitude > kMaxSafeExponent || magnitude < -kMaxSafeExponent;
}

// Writes `len` chars of a JSON number into out[0, n), padded with spaces; false if it does not fit.
bool place(const char* text, size_t len, char* out, size_t n) {
  if (len > n) return false;
  std::memcpy(out, text, len);
  std::memset(out + len, ' ', n - len);
  return true;
}

// Replaces the token [p, p + n) with its correctly rounded value, or, when that is not finite or does not
// fit, with an invalid token so that rapidjson reports a parse error (as it does for "1e400").
void rewrite(const char* p, size_t n, char* out) {
  std::string token(p, n);
  char* end = nullptr;
  double v = std::strtod(token.c_str(), &end);
  if (end == token.c_str() + token.size() && std::isfinite(v)) {
    if (v == 0 && place(std::signbit(v) ? "-0.0" : "0.0", std::signbit(v) ? 4 : 3, out, n)) return;
    // Shortest round-trip digits, then written as "<digits>e<exp>" and as to_chars' own form: the shorter.
    char sci[64];
    auto res = std::to_chars(sci, sci + sizeof(sci), v, std::chars_format::scientific);
    if (res.ec == std::errc()) {
      std::string_view s(sci, static_cast<size_t>(res.ptr - sci));  // [-]d[.ddd]e(+|-)XX
      size_t e = s.find('e');
      std::string digits;
      bool negative = s[0] == '-';
      for (char c : s.substr(negative ? 1 : 0, e - (negative ? 1 : 0)))
        if (c != '.') digits += c;
      long exp10 = std::strtol(std::string(s.substr(e + 1)).c_str(), nullptr, 10);
      std::string compact = (negative ? "-" : "") + digits + "e" + std::to_string(exp10 - static_cast<long>(digits.size()) + 1);
      std::string pointed = (negative ? "-" : "") + digits.substr(0, 1) + (digits.size() > 1 ? "." + digits.substr(1) : ".0") +
                            "e" + std::to_string(exp10);
      const std::string& best = compact.size() <= pointed.size() ? compact : pointed;
      if (place(best.data(), best.size(), out, n)) return;
      // A long integer such as 123456789012345678901 is shortest in fixed notation.
      char fixed[400];
      auto f = std::to_chars(fixed, fixed + sizeof(fixed), v, std::chars_format::fixed);
      if (f.ec == std::errc() && place(fixed, static_cast<size_t>(f.ptr - fixed), out, n)) return;
    }
  }
  out[0] = 'x';  // not a JSON value: a parse error, never a mis-read
}

}  // namespace

std::string_view safeRapidjsonText(std::string_view text, std::string* storage) {
  const char* data = text.data();
  const size_t size = text.size();
  bool copied = false;
  size_t i = 0;
  while (i < size) {
    char c = data[i];
    if (c == '"') {  // skip strings (escapes included)
      for (++i; i < size && data[i] != '"'; ++i)
        if (data[i] == '\\') ++i;
      ++i;
      continue;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      size_t start = i;
      while (i < size && isNumberChar(data[i])) ++i;
      if (hazardous(data + start, i - start)) {
        if (!copied) {
          storage->assign(text);
          copied = true;
        }
        rewrite(data + start, i - start, storage->data() + start);
      }
      continue;
    }
    ++i;
  }
  return copied ? std::string_view(*storage) : text;
}

bool parseJsonWithRapidjson(std::string_view json, rapidjson::Document* doc) {
  if (jsonNestingTooDeep(json)) return false;
  std::string storage;  // only when a number had to be corrected
  std::string_view safe = safeRapidjsonText(json, &storage);
  doc->Parse<rapidjson::kParseFullPrecisionFlag>(safe.data(), safe.size());
  return !doc->HasParseError();
}

}  // namespace ovms::api
