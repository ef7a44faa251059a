#pragma once
// IEEE 754 binary16 ("half", FP16) and bfloat16 (BF16) <-> binary32 conversion. The one implementation in the
// tree: use it rather than writing another.
//
// halfToFloat / bf16ToFloat are exact (every half and every bf16 value is a float). NaN keeps its sign and payload.
// floatToHalf rounds to nearest, ties to even; subnormal halves are produced correctly; magnitudes that round
// past 65504 (i.e. >= 65520) become +-inf; NaN stays NaN with its sign and the top 9 payload bits, and the quiet
// bit set (what F16C's vcvtps2ph does). Integer-only, so it does not depend on the FP rounding mode.
// floatToBf16 rounds to nearest, ties to even (overflow -> +-inf); NaN stays NaN, quiet, with its sign and top
// payload bits.
//
// Callers that must reject out-of-range values (e.g. request parsing) check for an infinite result themselves.
#include <cstdint>
#include <cstring>

namespace ovms::engine {

inline float halfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1fu) {  // inf / NaN
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {  // normal: rebias 15 -> 127
    bits = sign | ((exp + (127 - 15)) << 23) | (mant << 13);
  } else if (mant == 0) {  // +-0
    bits = sign;
  } else {  // subnormal: value = mant * 2^-24; normalise
    exp = 127 - 15 + 1;
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --exp;
    }
    bits = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline uint16_t floatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, sizeof x);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t exp = (x >> 23) & 0xffu;
  uint32_t mant = x & 0x7fffffu;
  if (exp == 0xffu) {  // inf, or NaN (quieted, top payload bits kept)
    return static_cast<uint16_t>(sign | 0x7c00u | (mant ? 0x200u | (mant >> 13) : 0u));
  }
  const int e = static_cast<int>(exp) - 127 + 15;  // half biased exponent
  if (e >= 0x1f) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65536: inf
  if (e <= 0) {  // half subnormal (or zero)
    if (e < -10) return static_cast<uint16_t>(sign);  // < 2^-25: rounds to 0 (2^-25 itself ties to 0)
    mant |= 0x800000u;                               // implicit bit
    const int shift = 14 - e;                        // 14..24
    uint32_t h = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1u);
    const uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (h & 1u))) ++h;  // may carry into the smallest normal: correct
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // a carry into the exponent (up to inf) is correct
  return static_cast<uint16_t>(sign | h);
}

inline float bf16ToFloat(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline uint16_t floatToBf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, sizeof x);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // NaN: quiet, no rounding
  x += 0x7fffu + ((x >> 16) & 1u);  // round to nearest even; a carry into the exponent (up to inf) is correct
  return static_cast<uint16_t>(x >> 16);
}

}  // namespace ovms::engine
