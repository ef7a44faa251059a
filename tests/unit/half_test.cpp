// Tests of engine/half.h: IEEE binary16 and bfloat16 <-> float conversion.
#include "engine/half.h"

#include <gtest/gtest.h>

#include <cfenv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace {

using ovms::engine::bf16ToFloat;
using ovms::engine::floatToBf16;
using ovms::engine::floatToHalf;
using ovms::engine::halfToFloat;

uint32_t bitsOf(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
float fromBits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}
bool isHalfNan(uint16_t h) { return (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0; }
bool isBf16Nan(uint16_t b) { return (b & 0x7f80u) == 0x7f80u && (b & 0x7fu) != 0; }

// Value of a half computed independently of halfToFloat: (-1)^s * 2^(e-15) * 1.m, or 2^-14 * 0.m for subnormals.
double halfValueRef(uint16_t h) {
  const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  const double sign = (h & 0x8000u) ? -1.0 : 1.0;
  if (e == 0) return sign * std::ldexp(m, -24);
  if (e == 31) return m ? std::numeric_limits<double>::quiet_NaN() : sign * std::numeric_limits<double>::infinity();
  return sign * std::ldexp(1024 + m, e - 25);
}

TEST(Half, HalfToFloatExactForAllValues) {
  for (uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<uint16_t>(i);
    const float f = halfToFloat(h);
    if (isHalfNan(h)) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << i;
      ASSERT_EQ(std::signbit(f), (h & 0x8000u) != 0) << std::hex << i;
      ASSERT_EQ((bitsOf(f) >> 13) & 0x3ffu, h & 0x3ffu) << std::hex << i;  // payload kept
    } else {
      ASSERT_EQ(static_cast<double>(f), halfValueRef(h)) << std::hex << i;
      ASSERT_EQ(std::signbit(f), (h & 0x8000u) != 0) << std::hex << i;  // including -0
    }
  }
}

TEST(Half, RoundTripsAllHalfValues) {
  for (uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<uint16_t>(i);
    const uint16_t back = floatToHalf(halfToFloat(h));
    if (isHalfNan(h))
      ASSERT_EQ(back, h | 0x200u) << std::hex << i;  // NaN stays NaN: sign and payload kept, made quiet
    else
      ASSERT_EQ(back, h) << std::hex << i;
  }
}

TEST(Half, KnownValues) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(floatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(halfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(floatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(halfToFloat(0xc000), -2.0f);
  EXPECT_EQ(floatToHalf(65504.0f), 0x7bff);  // largest finite
  EXPECT_EQ(halfToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(halfToFloat(0x0400), std::ldexp(1.0f, -14));  // smallest normal, 6.1035e-5
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -14)), 0x0400);
  EXPECT_EQ(floatToHalf(6.1e-5f), 0x03ff);  // just below 2^-14: the largest subnormal (1023 * 2^-24)
  EXPECT_EQ(halfToFloat(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal, 5.96e-8
  EXPECT_EQ(floatToHalf(5.96e-8f), 0x0001);
  EXPECT_EQ(floatToHalf(-5.96e-8f), 0x8001);
  EXPECT_EQ(floatToHalf(0.0f), 0x0000);
  EXPECT_EQ(floatToHalf(-0.0f), 0x8000);
  EXPECT_EQ(floatToHalf(1e-10f), 0x0000);
  EXPECT_EQ(floatToHalf(-1e-10f), 0x8000);
  EXPECT_EQ(floatToHalf(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(floatToHalf(0.1f), 0x2e66);
  EXPECT_EQ(floatToHalf(inf), 0x7c00);
  EXPECT_EQ(floatToHalf(-inf), 0xfc00);
  EXPECT_EQ(halfToFloat(0x7c00), inf);
  EXPECT_EQ(halfToFloat(0xfc00), -inf);
  // Overflow: anything that rounds past 65504 is inf.
  EXPECT_EQ(floatToHalf(65519.996f), 0x7bff);
  EXPECT_EQ(floatToHalf(65520.0f), 0x7c00);
  EXPECT_EQ(floatToHalf(-65520.0f), 0xfc00);
  EXPECT_EQ(floatToHalf(1e6f), 0x7c00);
  EXPECT_EQ(floatToHalf(std::numeric_limits<float>::max()), 0x7c00);
}

TEST(Half, NanIsPreservedAsQuietNan) {
  EXPECT_EQ(floatToHalf(std::numeric_limits<float>::quiet_NaN()), 0x7e00);
  EXPECT_EQ(floatToHalf(-std::numeric_limits<float>::quiet_NaN()), 0xfe00);
  // Signalling NaN, and a NaN whose payload is only in the low bits (would be lost by truncation): still NaN, quiet.
  EXPECT_EQ(floatToHalf(fromBits(0x7f800001u)), 0x7e00);
  EXPECT_EQ(floatToHalf(fromBits(0xff800001u)), 0xfe00);
  EXPECT_EQ(floatToHalf(fromBits(0x7fffffffu)), 0x7fff);
  EXPECT_TRUE(std::isnan(halfToFloat(0x7e00)));
  EXPECT_TRUE(std::isnan(halfToFloat(0x7c01)));
  EXPECT_TRUE(std::isnan(halfToFloat(0xfe00)));
  EXPECT_TRUE(std::signbit(halfToFloat(0xfe00)));
}

TEST(Half, RoundsTiesToEven) {
  const float ulp1 = std::ldexp(1.0f, -10);  // half spacing in [1, 2)
  EXPECT_EQ(floatToHalf(1.0f + ulp1 / 2), 0x3c00);                              // tie, 1.0 is even
  EXPECT_EQ(floatToHalf(1.0f + 3 * ulp1 / 2), 0x3c02);                          // tie, rounds up to even
  EXPECT_EQ(floatToHalf(std::nextafter(1.0f + ulp1 / 2, 2.0f)), 0x3c01);        // just above the tie
  EXPECT_EQ(floatToHalf(std::nextafter(1.0f + 3 * ulp1 / 2, 0.0f)), 0x3c01);    // just below the tie
  EXPECT_EQ(floatToHalf(2049.0f), 0x6800);                                      // 2048, even
  EXPECT_EQ(floatToHalf(2051.0f), 0x6802);                                      // 2052, even
  EXPECT_EQ(floatToHalf(-2051.0f), 0xe802);
  EXPECT_EQ(floatToHalf(2047.5f), 0x6800);                                      // tie, 2048 even (carries exponent)
  EXPECT_EQ(floatToHalf(2046.5f), 0x67fe);                                      // tie, 2046 even
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -25)), 0x0000);                        // subnormal tie to 0
  EXPECT_EQ(floatToHalf(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);  // above it
  EXPECT_EQ(floatToHalf(std::ldexp(3.0f, -25)), 0x0002);                        // 1.5 units -> 2
  EXPECT_EQ(floatToHalf(std::ldexp(5.0f, -25)), 0x0002);                        // 2.5 units -> 2
  EXPECT_EQ(floatToHalf(std::ldexp(2047.0f, -25)), 0x0400);                     // 1023.5 units -> smallest normal
}

// Every rounding boundary of every finite half: the half's own value, the midpoints to its neighbours (exact in
// float) and one float ulp either side of each midpoint.
TEST(Half, RoundsCorrectlyAtEveryBoundary) {
  for (uint32_t i = 0; i < 0x7c00; ++i) {
    for (uint32_t sign : {0u, 0x8000u}) {
      const auto h = static_cast<uint16_t>(i | sign);
      const float v = halfToFloat(h);
      ASSERT_EQ(floatToHalf(v), h);
      const auto up = static_cast<uint16_t>(h + 1);  // next larger magnitude (0x7c00 = inf after 65504)
      const float vu = (i + 1 == 0x7c00) ? (sign ? -65536.0f : 65536.0f) : halfToFloat(up);
      const float mid = (v + vu) / 2;  // exact: needs 12 significant bits
      const uint16_t even = (h & 1u) ? up : h;
      ASSERT_EQ(floatToHalf(mid), even) << std::hex << h;
      ASSERT_EQ(floatToHalf(std::nextafter(mid, 0.0f)), h) << std::hex << h;
      ASSERT_EQ(floatToHalf(std::nextafter(mid, vu * 2)), up) << std::hex << h;
    }
  }
}

#if defined(__FLT16_MAX__)
// The compiler's _Float16 conversion (IEEE, round to nearest even) as an independent oracle over a sweep of
// float bit patterns covering every exponent.
TEST(Half, MatchesCompilerFloat16) {
  for (uint64_t b = 0; b < (1ull << 32); b += 4099) {
    const float f = fromBits(static_cast<uint32_t>(b));
    if (std::isnan(f)) continue;
    const _Float16 ref = static_cast<_Float16>(f);
    uint16_t refBits;
    std::memcpy(&refBits, &ref, 2);
    ASSERT_EQ(floatToHalf(f), refBits) << std::hex << b;
  }
}
#endif

TEST(Half, IndependentOfFpRoundingMode) {
  const int saved = std::fegetround();
  ASSERT_EQ(std::fesetround(FE_TOWARDZERO), 0);
  volatile float sub = std::ldexp(3.0f, -25), norm = 1.0f + std::ldexp(3.0f, -11), big = 65520.0f;
  const uint16_t a = floatToHalf(sub), b = floatToHalf(norm), c = floatToHalf(big);
  std::fesetround(saved);
  EXPECT_EQ(a, 0x0002);
  EXPECT_EQ(b, 0x3c02);
  EXPECT_EQ(c, 0x7c00);
}

TEST(Bf16, RoundTripsAllValues) {
  for (uint32_t i = 0; i < 65536; ++i) {
    const auto b = static_cast<uint16_t>(i);
    const float f = bf16ToFloat(b);
    ASSERT_EQ(bitsOf(f), i << 16);  // exact widening
    if (isBf16Nan(b))
      ASSERT_EQ(floatToBf16(f), b | 0x40u) << std::hex << i;
    else
      ASSERT_EQ(floatToBf16(f), b) << std::hex << i;
  }
}

TEST(Bf16, KnownValuesAndRounding) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(floatToBf16(1.0f), 0x3f80);
  EXPECT_EQ(floatToBf16(-2.5f), 0xc020);
  EXPECT_EQ(bf16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(bf16ToFloat(0xc020), -2.5f);
  EXPECT_EQ(floatToBf16(0.0f), 0x0000);
  EXPECT_EQ(floatToBf16(-0.0f), 0x8000);
  EXPECT_EQ(floatToBf16(inf), 0x7f80);
  EXPECT_EQ(floatToBf16(-inf), 0xff80);
  EXPECT_EQ(floatToBf16(fromBits(0x7f7f0000u)), 0x7f7f);  // largest finite bf16
  EXPECT_EQ(floatToBf16(std::numeric_limits<float>::max()), 0x7f80);  // rounds to inf
  EXPECT_EQ(floatToBf16(fromBits(0x7f7f7fffu)), 0x7f7f);  // just below the tie to inf
  EXPECT_EQ(floatToBf16(fromBits(0x7f7f8000u)), 0x7f80);  // tie, 0x7f7f is odd -> inf
  const float ulp1 = std::ldexp(1.0f, -7);  // bf16 spacing in [1, 2)
  EXPECT_EQ(floatToBf16(1.0f + ulp1 / 2), 0x3f80);        // tie, even stays
  EXPECT_EQ(floatToBf16(1.0f + 3 * ulp1 / 2), 0x3f82);    // tie, rounds up to even
  EXPECT_EQ(floatToBf16(std::nextafter(1.0f + ulp1 / 2, 2.0f)), 0x3f81);
  EXPECT_EQ(floatToBf16(std::nextafter(1.0f + 3 * ulp1 / 2, 0.0f)), 0x3f81);
  EXPECT_EQ(floatToBf16(fromBits(0x00018000u)), 0x0002);  // subnormal tie, rounds up to even
  EXPECT_EQ(floatToBf16(fromBits(0x00008000u)), 0x0000);  // subnormal tie, stays even (0)
  EXPECT_EQ(floatToBf16(0.1f), 0x3dcd);
}

TEST(Bf16, NanIsPreservedAsQuietNan) {
  EXPECT_EQ(floatToBf16(std::numeric_limits<float>::quiet_NaN()), 0x7fc0);
  EXPECT_EQ(floatToBf16(-std::numeric_limits<float>::quiet_NaN()), 0xffc0);
  // Payload only in the low 16 bits: rounding would turn these into inf, or carry the sign; they stay NaN.
  EXPECT_EQ(floatToBf16(fromBits(0x7f800001u)), 0x7fc0);
  EXPECT_EQ(floatToBf16(fromBits(0xff800001u)), 0xffc0);
  EXPECT_EQ(floatToBf16(fromBits(0x7fffffffu)), 0x7fff);
  EXPECT_TRUE(std::isnan(bf16ToFloat(0x7fc0)));
  EXPECT_TRUE(std::isnan(bf16ToFloat(0x7f81)));
}

}  // namespace
