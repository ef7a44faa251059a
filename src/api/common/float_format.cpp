#include "api/common/float_format.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace ovms::api {
namespace {

// Appends ".0" to a number written without '.' or exponent ("5" -> "5.0").
size_t appendPointZero(char* buf, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (buf[i] == '.' || buf[i] == 'e') return n;
  buf[n++] = '.';
  buf[n++] = '0';
  return n;
}

// Lays out k shortest significant digits with decimal exponent x as "%g" does (fixed notation for
// -4 <= x < 6, else d.ddde+XX), then ".0" as TF-Serving's writer adds. Returns the length.
size_t layoutShortest(char* buf, bool negative, const char* digits, int k, int x) {
  char* o = buf;
  if (negative) *o++ = '-';
  if (x >= -4 && x < 6) {
    // Fixed notation, trailing zeros dropped (they already are).
    if (x >= 0) {
      int int_digits = x + 1;
      for (int i = 0; i < int_digits; ++i) *o++ = i < k ? digits[i] : '0';
      if (k > int_digits) {
        *o++ = '.';
        for (int i = int_digits; i < k; ++i) *o++ = digits[i];
      }
    } else {
      *o++ = '0';
      *o++ = '.';
      for (int i = 0; i < -x - 1; ++i) *o++ = '0';
      for (int i = 0; i < k; ++i) *o++ = digits[i];
    }
  } else {
    *o++ = digits[0];
    if (k > 1) {
      *o++ = '.';
      for (int i = 1; i < k; ++i) *o++ = digits[i];
    }
    *o++ = 'e';
    *o++ = x < 0 ? '-' : '+';
    int ax = x < 0 ? -x : x;
    if (ax >= 100) *o++ = static_cast<char>('0' + ax / 100);
    *o++ = static_cast<char>('0' + ax / 10 % 10);
    *o++ = static_cast<char>('0' + ax % 10);
  }
  return appendPointZero(buf, static_cast<size_t>(o - buf));
}

// Fast path of formatDecimal<float> for finite normal floats (and zero). The shortest round-trip
// digits of a float (std::to_chars, Ryu) have at most 6 significant digits exactly when "%.6g"
// round-trips, and then they are "%.6g"'s digits: the float's rounding interval (half an ulp,
// < 6e-8 relative) is far narrower than half a step of 6 significant digits (> 5e-7 relative), so
// the 6-digit decimal nearest to the value is the shortest one. Only subnormals (wider relative
// interval) break that argument; they take the slow path. Returns 0 if the caller must fall back
// (more than 6 digits, or subnormal). The text is laid out exactly like printf's %g with precision 6.
size_t formatFloatShortG6(float v, char* buf) {
  if (v != 0.0f && std::fabs(v) < std::numeric_limits<float>::min()) return 0;
  char sci[32];
  auto res = std::to_chars(sci, sci + sizeof(sci), v, std::chars_format::scientific);
  if (res.ec != std::errc()) return 0;
  // sci = [-]d[.ddd]e(+|-)XX[X]
  const char* p = sci;
  const char* end = res.ptr;
  bool negative = false;
  if (*p == '-') {
    negative = true;
    ++p;
  }
  char digits[16];
  int k = 0;
  while (p < end && *p != 'e') {
    if (*p != '.') {
      if (k == 6) return 0;  // 7+ significant digits: "%.6g" does not round-trip
      digits[k++] = *p;
    }
    ++p;
  }
  if (p == end) return 0;
  ++p;  // 'e'
  bool exp_negative = *p == '-';
  ++p;
  int x = 0;
  for (; p < end; ++p) x = x * 10 + (*p - '0');
  if (exp_negative) x = -x;
  // Ryu's shortest digits carry no trailing zeros (except the single "0" of zero).
  return layoutShortest(buf, negative, digits, k, x);
}

// formatFloatShortG6 without std::to_chars, for normal floats in [1e-3, 2^24) (the usual range of
// tensor values; most of them need 7-9 digits, and this says so without computing Ryu's digits).
// Integers only: value = m * 2^-sh exactly; q = the value's 6 significant digits rounded half to
// even (as printf's "%.6g"); the 6-digit decimal nearest to the value is in the float's rounding
// interval exactly when some decimal of at most 6 digits is, and then it is the shortest one (see
// formatFloatShortG6). Returns the length written, 0 if more than 6 digits are needed, -1 outside
// the range (the caller takes formatFloatShortG6). Checked against formatFloatShortG6 for every
// float of the range.
int formatFloatG6(float v, char* buf) {
  static constexpr uint64_t kPow10[] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
                                        10000000ULL, 100000000ULL, 1000000000ULL};
  float a = std::fabs(v);
  if (!(a >= 1e-3f && a < 16777216.0f)) return -1;
  uint32_t bits;
  std::memcpy(&bits, &a, sizeof bits);
  const int e2 = static_cast<int>(bits >> 23) - 126;  // a = frac * 2^e2, frac in [0.5, 1)
  const uint64_t m = (bits & 0x7fffffu) | 0x800000u;   // a = m / 2^sh
  const int sh = 24 - e2;                              // in [1, 34]
  if (sh < 1 || sh > 40) return -1;
  int x = ((e2 - 1) * 78913) >> 18;  // decimal exponent guess (or one less), corrected below
  uint64_t q = 0, r = 0, num = 0, den = 0;
  for (int tries = 0;; ++tries) {
    if (tries == 3) return -1;
    int s10 = 5 - x;  // value * 10^s10 = num / den
    if (s10 < -2 || s10 > 8) return -1;
    if (s10 >= 0) {
      num = m * kPow10[s10];  // < 2^24 * 10^8 < 2^51
      den = uint64_t{1} << sh;
    } else {
      num = m;
      den = kPow10[-s10] << sh;
    }
    q = num / den;
    r = num % den;
    if (q >= 1000000ULL) {
      ++x;
    } else if (q < 100000ULL) {
      --x;
    } else {
      break;
    }
  }
  // Round half to even on the exact remainder.
  const uint64_t twice_r = 2 * r;
  uint64_t q6 = q;
  if (twice_r > den || (twice_r == den && (q & 1))) ++q6;
  // Distance from the decimal q6 * 10^-s10 to the value, scaled by 10^s10 * den: |q6 * den - num|.
  // One ulp (2^-sh) scaled the same way is 10^s10 (s10 >= 0) or 1 (s10 < 0).
  const int s10 = 5 - x;
  const uint64_t ulp = s10 >= 0 ? kPow10[s10] : 1;
  const bool above = q6 > q;  // q6 * den > num (r > 0); q6 == q: q * den <= num
  const uint64_t dist = above ? den - r : r;
  // The rounding interval: half an ulp each side, a quarter ulp below the lowest mantissa of a
  // binade (the float below is closer); its ends belong to it for an even mantissa.
  const bool even = (m & 1) == 0;
  const uint64_t scale = (!above && m == 0x800000u) ? 4 : 2;
  const uint64_t d = dist * scale;
  if (!(d < ulp || (d == ulp && even))) return 0;
  if (q6 == 1000000ULL) {
    q6 = 100000ULL;
    ++x;
  }
  char digits[6];
  for (int i = 5; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + q6 % 10);
    q6 /= 10;
  }
  int k = 6;
  while (k > 1 && digits[k - 1] == '0') --k;  // shortest digits carry no trailing zeros
  return static_cast<int>(layoutShortest(buf, v < 0, digits, k, x));
}

// "%.9g" of a float, exactly as printf prints it, computed with integers for normal floats in
// [1e-3, 2^24) (the usual range of tensor values): value = m * 2^-sh exactly, so
// value * 10^s = (m * 10^s) / 2^sh with a remainder, rounded half to even like glibc's printf.
// Returns 0 for values outside that range (the caller falls back to std::to_chars).
size_t formatFloatG9(float v, char* buf) {
  static constexpr uint64_t kPow10[] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
                                        10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
                                        100000000000ULL, 1000000000000ULL};
  float a = std::fabs(v);
  if (!(a >= 1e-3f && a < 16777216.0f)) return 0;
  // a is normal here: a = m * 2^(e2 - 24) with the 24-bit mantissa m (frexp's frac * 2^24), read
  // from the bits (frexp/ldexp/log10 were a quarter of a large REST response's cost).
  uint32_t bits;
  std::memcpy(&bits, &a, sizeof bits);
  const int e2 = static_cast<int>(bits >> 23) - 126;           // a = frac * 2^e2, frac in [0.5, 1)
  uint64_t m = (bits & 0x7fffffu) | 0x800000u;                   // exact: 24-bit mantissa
  int sh = 24 - e2;                                              // a = m / 2^sh, sh in [1, 34]
  if (sh < 1 || sh > 63) return 0;
  // Decimal exponent guess floor((e2 - 1) * log10(2)) (78913 / 2^18 ~ log10(2)): a >= 2^(e2-1), so
  // the guess is the exponent or one less; the loop below corrects it.
  int x = ((e2 - 1) * 78913) >> 18;
  uint64_t q = 0, r = 0;
  for (int tries = 0; tries < 3; ++tries) {
    int s10 = 8 - x;
    if (s10 < 0 || s10 > 11) return 0;
    uint64_t num = m * kPow10[s10];  // < 2^24 * 10^11 < 2^61
    q = num >> sh;
    r = num & ((uint64_t{1} << sh) - 1);
    if (q >= 1000000000ULL) {
      ++x;
    } else if (q < 100000000ULL) {
      --x;
    } else {
      break;
    }
  }
  if (q < 100000000ULL || q >= 1000000000ULL) return 0;
  uint64_t half = uint64_t{1} << (sh - 1);
  if (r > half || (r == half && (q & 1))) ++q;
  if (q == 1000000000ULL) {
    q = 100000000ULL;
    ++x;
  }
  char digits[9];
  for (int i = 8; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + q % 10);
    q /= 10;
  }
  int k = 9;
  while (k > 1 && digits[k - 1] == '0') --k;  // %g drops trailing zeros
  char* o = buf;
  if (v < 0) *o++ = '-';
  if (x >= -4 && x < 9) {
    if (x >= 0) {
      for (int i = 0; i <= x; ++i) *o++ = i < k ? digits[i] : '0';
      if (k > x + 1) {
        *o++ = '.';
        for (int i = x + 1; i < k; ++i) *o++ = digits[i];
      }
    } else {
      *o++ = '0';
      *o++ = '.';
      for (int i = 0; i < -x - 1; ++i) *o++ = '0';
      for (int i = 0; i < k; ++i) *o++ = digits[i];
    }
  } else {
    return 0;  // not reached for the range above; leave exponent forms to std::to_chars
  }
  return appendPointZero(buf, static_cast<size_t>(o - buf));
}

template <typename T>
size_t formatDecimal(T v, char* buf) {  // buf >= 40 chars
  if (!std::isfinite(v)) {
    std::string_view s = nonFiniteJson(static_cast<double>(v));
    std::memcpy(buf, s.data(), s.size());
    return s.size();
  }
  char* end = buf + 40;
  if constexpr (std::is_same_v<T, float>) {
    int g6 = formatFloatG6(v, buf);
    if (g6 > 0) return static_cast<size_t>(g6);
    if (g6 < 0) {
      if (size_t n = formatFloatShortG6(v, buf)) return n;
    }
    if (std::fabs(v) >= std::numeric_limits<float>::min()) {
      // Normal float with more than 6 shortest digits: "%.6g" cannot round-trip, skip the attempt.
      if (size_t n = formatFloatG9(v, buf)) return n;
      auto res = std::to_chars(buf, end, v, std::chars_format::general, std::numeric_limits<T>::max_digits10);
      return appendPointZero(buf, static_cast<size_t>(res.ptr - buf));
    }
  }
  auto res = std::to_chars(buf, end, static_cast<double>(v), std::chars_format::general, 6);
  T back{};
  auto parsed = std::from_chars(buf, res.ptr, back);
  if (parsed.ec != std::errc() || back != v) {
    res = std::to_chars(buf, end, v, std::chars_format::general, std::numeric_limits<T>::max_digits10);
  }
  return appendPointZero(buf, static_cast<size_t>(res.ptr - buf));
}

}  // namespace

size_t formatTfsDecimal(float v, char* buf) { return formatDecimal(v, buf); }
size_t formatTfsDecimal(double v, char* buf) { return formatDecimal(v, buf); }

}  // namespace ovms::api
