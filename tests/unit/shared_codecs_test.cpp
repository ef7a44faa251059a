// The codecs both front ends share: version strings, the packed BYTES layout, base64's padding
// rule, JSON number conversion (range checks), gRPC status conversion.
#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include "api/common/base64.h"
#include "api/common/float_format.h"
#include "api/common/grpc_status.h"
#include "api/common/json_numbers.h"
#include "api/common/version_string.h"
#include "serving/packed_strings.h"

using namespace ovms;

TEST(VersionString, OneParserForEveryApi) {
  int64_t v = -1;
  EXPECT_TRUE(api::parseVersionString("", &v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(api::parseVersionString("12", &v));
  EXPECT_EQ(v, 12);
  EXPECT_TRUE(api::parseVersionString("+3", &v));  // std::stoll (OVMS) accepts the sign
  EXPECT_EQ(v, 3);
  for (const char* bad : {"abc", "1a", " 1", "99999999999999999999", "1.0", "+", "+-1"})
    EXPECT_FALSE(api::parseVersionString(bad, &v)) << bad;
}

TEST(PackedStrings, RoundTripAndMalformedBuffers) {
  std::vector<uint8_t> buf;
  serving::packStrings(std::vector<std::string>{"ab", "", "xyz"}, &buf);
  EXPECT_EQ(buf.size(), 4u * 3 + 5);
  std::vector<std::string_view> out;
  ASSERT_TRUE(serving::unpackStrings(buf.data(), buf.size(), &out));
  EXPECT_EQ(out, (std::vector<std::string_view>{"ab", "", "xyz"}));
  int64_t n = 0;
  ASSERT_TRUE(serving::countPackedStrings(buf.data(), buf.size(), &n));
  EXPECT_EQ(n, 3);
  serving::PackedStringsError e;
  EXPECT_FALSE(serving::unpackStrings(buf.data(), buf.size() - 1, &out, &e));
  EXPECT_EQ(e.kind, serving::PackedStringsError::LENGTH_EXCEEDS_BUFFER);
  EXPECT_EQ(e.length, 3u);
  buf.push_back(7);
  EXPECT_FALSE(serving::countPackedStrings(buf.data(), buf.size(), &n, &e));
  EXPECT_EQ(e.kind, serving::PackedStringsError::TRAILING_BYTES);
  EXPECT_EQ(e.processed, buf.size() - 1);
}

TEST(Base64, PaddingIsOptionalButMustCompleteTheQuantum) {
  std::string out;
  EXPECT_TRUE(api::decodeBase64("YQ==", &out));
  EXPECT_EQ(out, "a");
  EXPECT_TRUE(api::decodeBase64("YQ", &out));
  EXPECT_EQ(out, "a");
  EXPECT_FALSE(api::decodeBase64("YQ=", &out));
  EXPECT_FALSE(api::decodeBase64("Y", &out));
  EXPECT_FALSE(api::decodeBase64("Y Q=", &out));
  EXPECT_EQ(api::encodeBase64("a"), "YQ==");
}

namespace {
rapidjson::Document json(const char* text) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseFullPrecisionFlag>(text);
  return d;
}
}  // namespace

TEST(JsonNumbers, RangeCheckedOnBothTypings) {
  using api::json::Typing;
  int8_t i8 = 0;
  EXPECT_TRUE((api::json::toInteger<int8_t, Typing::kStrict>(json("-128"), &i8)));
  EXPECT_EQ(i8, -128);
  EXPECT_FALSE((api::json::toInteger<int8_t, Typing::kStrict>(json("300"), &i8)));
  EXPECT_FALSE((api::json::toInteger<int8_t, Typing::kLenient>(json("300"), &i8)));
  uint16_t u16 = 0;
  EXPECT_FALSE((api::json::toInteger<uint16_t, Typing::kLenient>(json("-1"), &u16)));
  float f = 0;
  EXPECT_FALSE(api::json::toFp32(json("1e300"), &f));
  uint16_t h = 0;
  EXPECT_FALSE(api::json::toFp16(json("70000"), &h));
}

TEST(JsonNumbers, TypingRulesDifferOnlyWhereTheApisDo) {
  using api::json::Typing;
  int32_t i = 0;
  EXPECT_TRUE((api::json::toInteger<int32_t, Typing::kLenient>(json("2.0"), &i)));  // TF-Serving
  EXPECT_EQ(i, 2);
  EXPECT_FALSE((api::json::toInteger<int32_t, Typing::kStrict>(json("2.0"), &i)));  // KServe
  EXPECT_FALSE((api::json::toInteger<int32_t, Typing::kLenient>(json("2.5"), &i)));
  EXPECT_FALSE((api::json::toInteger<int32_t, Typing::kLenient>(json("\"2\""), &i)));
  uint8_t b = 0;
  EXPECT_TRUE(api::json::toBool<Typing::kLenient>(json("1"), &b));
  EXPECT_FALSE(api::json::toBool<Typing::kStrict>(json("1"), &b));
}

TEST(FloatFormat, NonFiniteSpelledOnce) {
  EXPECT_EQ(api::nonFiniteJson(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(api::nonFiniteJson(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(api::nonFiniteJson(-std::numeric_limits<double>::infinity()), "-Infinity");
  char buf[48];
  EXPECT_EQ(std::string(buf, api::formatTfsDecimal(5.0f, buf)), "5.0");
}

TEST(GrpcStatus, OneConversion) {
  EXPECT_TRUE(api::toGrpc(StatusCode::OK).ok());
  grpc::Status st = api::toGrpc(Status(StatusCode::INVALID_SHAPE, "x"));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "Invalid input shape - x");
}
