// Numbers Debian's rapidjson 1.1.0 mis-reads (or crashes on) in full-precision mode are corrected before
// it sees them (api/common/rapidjson_numbers.h): every number reads as glibc's correctly rounded strtod.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "api/common/rapidjson_numbers.h"

namespace {

// Parses "[token]" the way the REST codecs do; returns false on a parse error.
bool readThroughGuard(const std::string& token, double* value) {
  std::string body = "[" + token + "]", storage;
  std::string_view safe = ovms::api::safeRapidjsonText(body, &storage);
  rapidjson::Document d;
  d.Parse<rapidjson::kParseFullPrecisionFlag>(safe.data(), safe.size());
  if (d.HasParseError()) return false;
  *value = d[0].GetDouble();
  return true;
}

void expectCorrect(const std::string& token) {
  double expected = std::strtod(token.c_str(), nullptr), got = 0;
  if (!std::isfinite(expected)) {
    EXPECT_FALSE(readThroughGuard(token, &got)) << token;
    return;
  }
  ASSERT_TRUE(readThroughGuard(token, &got)) << token;
  // An integer token is an integer to rapidjson ("-0" is 0): the sign of zero only matters for doubles.
  bool is_double = token.find_first_of(".eE") != std::string::npos;
  if (is_double)
    EXPECT_EQ(std::memcmp(&got, &expected, sizeof(double)), 0) << token << " read as " << got << ", not " << expected;
  else
    EXPECT_EQ(got, expected) << token;
}

TEST(RapidjsonNumbers, TheMisreadsFoundByFuzzingReadCorrectly) {
  expectCorrect("0.01e-325");                                           // rapidjson alone: -1.7e305
  expectCorrect("0." + std::string(100, '0') + "1e-250");               // rapidjson alone: crash
  expectCorrect("0." + std::string(700, '0') + "18446644073709551617");  // rapidjson alone: crash
  expectCorrect("0." + std::string(70, '0'));                           // rapidjson alone: 1.7e243
  expectCorrect("-0." + std::string(400, '0'));
  expectCorrect("1.5e300");
  expectCorrect("15e299");
  expectCorrect("1e400");  // too big: still a parse error
  expectCorrect("4.9e-324");
}

// Found by a differential run of 3 million random tokens against strtod (not by the fuzz stage, which
// does not compare values): more than 19 significant digits can be an ulp or two off in rapidjson.
TEST(RapidjsonNumbers, LongSignificandsReadCorrectly) {
  expectCorrect("9016909.2126271919125E-20");  // rapidjson alone: 9.0169092126271925e-14
  expectCorrect("-53402781016008433502E-198");
  expectCorrect("9842891747189467495174E-91");
  expectCorrect("58215949760496437923.6E-226");
  expectCorrect("-250903476088359549973830034198187.806836519");
  expectCorrect("123456789012345678901");  // rewritten in fixed notation: the only form that fits
  expectCorrect("-12345678901234567890.5");
  expectCorrect("0.10000000149011611938");  // a float32 0.1 printed with 20 digits
}

// Integers that fit 64 bits stay integers, untouched (a UINT64 or INT64 input takes them exactly).
TEST(RapidjsonNumbers, SixtyFourBitIntegersAreLeftAlone) {
  for (std::string body : {"[18446744073709551615]", "[-9223372036854775808]", "[12345678901234567890]", "[99]"}) {
    std::string storage;
    EXPECT_EQ(ovms::api::safeRapidjsonText(body, &storage).data(), body.data()) << body;
  }
  rapidjson::Document d;
  ASSERT_TRUE(ovms::api::parseJsonWithRapidjson("[18446744073709551615, -9223372036854775808]", &d));
  EXPECT_EQ(d[0].GetUint64(), 18446744073709551615ull);
  EXPECT_EQ(d[1].GetInt64(), INT64_MIN);
  expectCorrect("18446744073709551616");  // one past: a double, correctly rounded
  expectCorrect("-9223372036854775809");
}

TEST(RapidjsonNumbers, StringsAreLeftAlone) {
  std::string body = "[\"0." + std::string(400, '0') + "1e-250\", 1]", storage;
  EXPECT_EQ(ovms::api::safeRapidjsonText(body, &storage).data(), body.data());  // nothing to rewrite: no copy
}

TEST(RapidjsonNumbers, RandomNumbersReadAsStrtod) {
  std::mt19937 rng(7);
  auto digits = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += static_cast<char>('0' + rng() % 10);
    return s;
  };
  for (int i = 0; i < 20000; ++i) {
    std::string t = rng() % 2 ? "-" : "";
    int int_digits = static_cast<int>(rng() % 4 == 0 ? rng() % 400 : rng() % 20);
    t += int_digits == 0 ? "0" : std::to_string(1 + rng() % 9) + digits(int_digits - 1);
    if (rng() % 2) t += "." + std::string(rng() % 3 == 0 ? rng() % 400 : rng() % 10, '0') + digits(1 + rng() % 25);
    if (rng() % 2) t += (rng() % 2 ? "e-" : "e") + std::to_string(rng() % 3 == 0 ? rng() % 500 : rng() % 40);
    expectCorrect(t);
    if (HasFailure()) return;
  }
}

}  // namespace
