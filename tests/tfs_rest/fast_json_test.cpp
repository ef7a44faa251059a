// The fast JSON path (api/common/json_fast.h, simdjson) against the rapidjson reference path:
// for every body, parsePredictRequest must give exactly what parsePredictRequestReference gives
// (status code and text, order, every input's name, precision, shape, count and bytes), except
// where rapidjson 1.1.0 itself is wrong (numbers with many zero digits, see NumbersAtTheEdges).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "api/tfs/rest_predict_codec.h"

using namespace ovms;
using namespace ovms::api::tfs;
using engine::Precision;
using engine::Shape;
using engine::TensorInfo;

namespace {

struct Result {
  Status status;
  serving::InferenceRequest request;
  RestOrder order = RestOrder::COLUMN;
};

Result fastParse(const std::string& body, const std::vector<TensorInfo>& sig, bool unnamed_allowed = true) {
  Result r;
  r.status = parsePredictRequest(body, sig, &r.request, &r.order, unnamed_allowed, body.capacity());
  return r;
}

Result referenceParse(const std::string& body, const std::vector<TensorInfo>& sig, bool unnamed_allowed = true) {
  Result r;
  r.status = parsePredictRequestReference(body, sig, &r.request, &r.order, unnamed_allowed);
  return r;
}

void expectSame(const std::string& body, const std::vector<TensorInfo>& sig, bool unnamed_allowed = true) {
  SCOPED_TRACE(body.size() > 300 ? body.substr(0, 300) + "..." : body);
  Result f = fastParse(body, sig, unnamed_allowed), r = referenceParse(body, sig, unnamed_allowed);
  ASSERT_EQ(f.status.code(), r.status.code()) << f.status.message() << " / " << r.status.message();
  EXPECT_EQ(f.status.message(), r.status.message());
  EXPECT_EQ(f.order, r.order);
  if (!r.status.ok()) return;
  ASSERT_EQ(f.request.inputs.size(), r.request.inputs.size());
  for (size_t i = 0; i < r.request.inputs.size(); ++i) {
    const auto &a = f.request.inputs[i], &b = r.request.inputs[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.tensor.precision, b.tensor.precision);
    EXPECT_EQ(a.tensor.shape, b.tensor.shape);
    EXPECT_EQ(a.storage.shape, b.storage.shape);
    EXPECT_EQ(a.value_count, b.value_count);
    EXPECT_EQ(a.typed_values, b.typed_values);
    EXPECT_EQ(a.tensor.data, a.storage.bytes.data());
    ASSERT_EQ(a.tensor.bytes, b.tensor.bytes);
    EXPECT_EQ(std::memcmp(a.tensor.data, b.tensor.data, a.tensor.bytes), 0) << "input " << a.name;
  }
}

// A number as clients write it: 1 to 25 significant digits, with or without exponent.
std::string randomNumber(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> kind(0, 9), digits(1, 25), exp(-45, 45);
  std::uniform_real_distribution<double> unit(-1, 1);
  char buf[64];
  switch (kind(rng)) {
    case 0: std::snprintf(buf, sizeof buf, "%d", static_cast<int>(unit(rng) * 300)); break;
    case 1: std::snprintf(buf, sizeof buf, "%.*e", digits(rng) - 1, unit(rng) * std::pow(10.0, exp(rng))); break;
    case 2: std::snprintf(buf, sizeof buf, "%.*g", digits(rng), unit(rng)); break;
    case 3: std::snprintf(buf, sizeof buf, "%.9g", static_cast<float>(unit(rng) * 255)); break;
    case 4: std::snprintf(buf, sizeof buf, "%.17g", unit(rng) * 1e6); break;
    case 5: std::snprintf(buf, sizeof buf, "%.*f", digits(rng) % 12, unit(rng) * 100); break;
    case 6: std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(unit(rng) * 9e18)); break;
    case 7: std::snprintf(buf, sizeof buf, "%.3fE%+d", unit(rng), exp(rng)); break;
    case 8: return unit(rng) < 0 ? "-0" : "-0.0";
    default: std::snprintf(buf, sizeof buf, "%.25f", unit(rng) * 1e-3); break;
  }
  return buf;
}

const std::vector<TensorInfo> kOneFp32 = {{"x", Precision::FP32, {-1, -1}}};

}  // namespace

TEST(TfsRestFastJson, RandomNumbersEveryPrecisionAndFormat) {
  std::mt19937_64 rng(20261127);
  const Precision precisions[] = {Precision::FP32, Precision::FP64, Precision::FP16, Precision::BF16,
                                  Precision::I8,   Precision::U8,   Precision::I16,  Precision::U16,
                                  Precision::I32,  Precision::U32,  Precision::I64,  Precision::U64,
                                  Precision::BOOL};
  for (Precision p : precisions) {
    const std::vector<TensorInfo> sig = {{"x", p, {-1, -1}}};
    for (int round = 0; round < 40; ++round) {
      std::string row = "[";
      for (int i = 0; i < 6; ++i) row += (i ? "," : "") + randomNumber(rng);
      row += "]";
      // column named / unnamed, row named / unnamed: each fails or succeeds as the reference does
      expectSame(R"({"inputs":{"x":[)" + row + "," + row + "]}}", sig);
      expectSame(R"({"inputs":[)" + row + "]}", sig);
      expectSame(R"({"instances":[)" + row + "," + row + "]}", sig);
      expectSame(R"({"instances":[{"x":)" + row + R"(},{"x":)" + row + "}]}", sig);
    }
    // integral values every precision takes (ints in range, 2.0, 0/1)
    expectSame(R"({"inputs":{"x":[[0,1,1,0],[1.0,0,1,1]]}})", sig);
  }
}

TEST(TfsRestFastJson, LargeImageTensor) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<float> unit(-2.5f, 2.5f);
  std::string body = R"({"instances":[)";
  char buf[32];
  for (int c = 0; c < 3; ++c) {
    body += c ? ",[" : "[";
    for (int y = 0; y < 64; ++y) {
      body += y ? ",[" : "[";
      for (int x = 0; x < 64; ++x) {
        std::snprintf(buf, sizeof buf, "%s%.9g", x ? "," : "", unit(rng));
        body += buf;
      }
      body += "]";
    }
    body += "]";
  }
  body += "]}";
  expectSame(body, kOneFp32);
  Result f = fastParse(body, {{"x", Precision::FP32, {-1, 64, 64}}});
  ASSERT_TRUE(f.status.ok());
  EXPECT_EQ(f.request.inputs[0].tensor.shape, (Shape{3, 64, 64}));
}

TEST(TfsRestFastJson, StructureAndErrorsAsTheReference) {
  const std::vector<TensorInfo> two = {{"a", Precision::FP32, {-1, 2}}, {"b", Precision::I64, {-1}}};
  const char* bodies[] = {
      R"({"instances":[{"a":[1,2],"b":3},{"a":[3.5,4],"b":4}]})",
      R"({"instances":[{"a":[1,2],"b":3},{"b":4,"a":[3.5,4]}]})",   // other key order
      R"({"instances":[{"a":[1,2],"b":3},{"a":[3.5,4]}]})",          // batch sizes differ
      R"({"instances":[{"a":[1,2],"b":3},{"a":[3.5,4],"b":4,"c":1}]})",
      R"({"instances":[{"a":[1,2],"a":[3,4]}]})",                    // duplicate key
      R"({"instances":[{"a":[1,2]},[1,2]]})",
      R"({"instances":[{}]})",
      R"({"instances":[]})",
      R"({"instances":{}})",
      R"({"instances":[{"a":[1,[2]]}]})",
      R"({"instances":[{"a":[[1,2],[3]]}]})",                        // ragged
      R"({"instances":[{"a":[1,"2"]}]})",                            // string among numbers
      R"({"instances":[{"a":[1,null]}]})",
      R"({"instances":[{"a":[1,true]}]})",
      R"({"instances":[{"b":1.5}]})",                                // fractional for I64
      R"({"instances":[{"b":9223372036854775808}]})",                // out of I64
      R"({"instances":[{"b":-9223372036854775808}]})",
      R"({"instances":[{"b":18446744073709551616}]})",               // beyond 64 bits
      R"({"instances":[{"b64":"AAAA"}]})",
      R"({"instances":[{"unknown":[1,2]}]})",                        // inferred precision
      R"({"instances":[{"unknown":[1.5,2]}]})",
      R"({"instances":[{"a":[1e39,2]}]})",                           // beyond FP32
      R"({"instances":[{"a":[1e400,2]}]})",                          // not a double
      R"({"instances":[{"a":[1e-400,-1e-400]}]})",                   // underflow to zero
      R"({"instances":[{"a":[-0,-0.0]}]})",
      R"({"instances":[{"a":[0.1000000000000000055511151231257827021181583404541015625,1]}]})",
      R"({"instances":[{"a":[0.12345678901234567890123,1.00000000000000000000000000000000001]}]})",
      R"({"inputs":{"a":[[1,2]],"b":[1]}})",
      R"({"inputs":{"a":[[1,2]],"b":[1]},"inputs":{"a":[[1,2]]}})",
      R"({"inputs":{"a":[[1,2]],"b":[1]},"instances":[]})",
      R"({"inputs":{}})",
      R"({"inputs":[[1,2]]})",                                       // unnamed: two inputs
      R"({"inputs":"x"})",
      R"({"inputs":{"a":["x","y"]}})",
      R"({"inputs":{"a":[{"b64":"AAAA"}]}})",
      R"({"inputs":{"a":[[1,2]]},"signature_name":"serving_default"})",
      R"({"inputs":{"a":[[1,2]]},"extra":[1,{"k":[tru]}]})",
      R"({"inputs":{"a":[[1,2]]}} x)",
      R"({"inputs":{"a":[[1,2]]}}})",
      R"({"inputs":{"a":[[1,2],]}})",
      R"({"inputs":{"a":[[01,2]]}})",
      R"({"inputs":{"a":[[1.,2]]}})",
      R"({"inputs":{"a":[[1,2]]},"s":"\ud800"})",                    // lone surrogate
      R"({"inputs":{"a":[[1,2]]},"s":"\u00e9\n"})",
      "{\"inputs\":{\"a\":[[1,2]]},\"s\":\"\xff\xfe\"}",             // invalid UTF-8 (rapidjson takes it)
      "{\"inputs\":{\"a\":[[1,2]]},\"s\":\"a\tb\"}",                 // raw control character
      "  {\"inputs\":{\"a\":[[1,2]]}}\r\n\t ",
      R"([])",
      R"(1)",
      R"("x")",
      "",
  };
  for (const char* b : bodies) {
    expectSame(b, two);
    expectSame(b, two, false);
    expectSame(b, {{"a", Precision::FP32, {-1, 2}}});
    expectSame(b, {{"a", Precision::FP32, {-1, 2}}}, false);
  }
}

TEST(TfsRestFastJson, NumbersAtTheEdges) {
  auto one = [](const std::string& number, Precision p) {
    Result r = fastParse(R"({"inputs":{"x":[)" + number + "]}}", {{"x", p, {-1}}});
    return r;
  };
  // "-0" is the integer 0 (rapidjson and simdjson agree), "-0.0" keeps its sign.
  Result r = one("-0", Precision::FP32);
  ASSERT_TRUE(r.status.ok());
  float f;
  std::memcpy(&f, r.request.inputs[0].tensor.data, 4);
  EXPECT_EQ(f, 0.0f);
  EXPECT_FALSE(std::signbit(f));
  r = one("-0.0", Precision::FP32);
  ASSERT_TRUE(r.status.ok());
  std::memcpy(&f, r.request.inputs[0].tensor.data, 4);
  EXPECT_TRUE(std::signbit(f));
  // Beyond double: not valid JSON for a double parser (OVMS's rapidjson says so too).
  EXPECT_EQ(one("1e400", Precision::FP32).status.code(), StatusCode::JSON_INVALID);
  EXPECT_EQ(one("-1e400", Precision::FP64).status.code(), StatusCode::JSON_INVALID);
  // Beyond FP32 but a double: the value does not fit the input.
  EXPECT_EQ(one("1e39", Precision::FP32).status.code(), StatusCode::REST_COULD_NOT_PARSE_INPUT);
  // Zeros written with many digits are zero, however many: rapidjson 1.1.0 (the reference path)
  // turned a 70-digit 0.000...0 into 1.7e243 (400: beyond FP32) and a 30-digit one into
  // 9.6e-240 (a wrong FP64 value), from an undefined __builtin_clzll(0); OVMS's rapidjson and
  // every correct parser give 0, and so does the fast path.
  for (int zeros : {30, 70, 400}) {
    std::string zero = "0." + std::string(zeros, '0');
    for (Precision p : {Precision::FP32, Precision::FP64}) {
      Result z = one(zero + "," + "-" + zero, p);
      ASSERT_TRUE(z.status.ok()) << zeros << " " << z.status.message();
      const auto& in = z.request.inputs[0];
      ASSERT_EQ(in.value_count, 2);
      if (p == Precision::FP32) {
        float v[2];
        std::memcpy(v, in.tensor.data, 8);
        EXPECT_EQ(v[0], 0.0f);
        EXPECT_EQ(v[1], 0.0f);
        EXPECT_TRUE(std::signbit(v[1]));
      } else {
        double v[2];
        std::memcpy(v, in.tensor.data, 16);
        EXPECT_EQ(v[0], 0.0);
        EXPECT_EQ(v[1], 0.0);
      }
    }
  }
  // 70-digit integers: beyond 64 bits, so not an integer for any integer input; a double for
  // FP32/FP64 inputs (the reference path takes these, the fast path hands them over).
  std::string big(70, '9');
  EXPECT_EQ(one(big, Precision::I64).status.code(), StatusCode::REST_COULD_NOT_PARSE_INPUT);
  EXPECT_EQ(one(big, Precision::FP32).status.code(), StatusCode::REST_COULD_NOT_PARSE_INPUT);  // 1e70 > FLT_MAX
  r = one(big, Precision::FP64);
  ASSERT_TRUE(r.status.ok());
  double d;
  std::memcpy(&d, r.request.inputs[0].tensor.data, 8);
  EXPECT_EQ(d, 1e70);
  // Long decimals round correctly (simdjson's DOM parser; its On-Demand fallback kernel does not).
  r = one("0.1000000000000000055511151231257827021181583404541015625,0.12345678901234567890123", Precision::FP64);
  ASSERT_TRUE(r.status.ok());
  double v[2];
  std::memcpy(v, r.request.inputs[0].tensor.data, 16);
  EXPECT_EQ(v[0], 0.1);
  EXPECT_EQ(v[1], 0.12345678901234568);
}

TEST(TfsRestFastJson, BodyWithoutPaddingIsCopiedNotOverread) {
  // A body whose capacity leaves no room for simdjson's padding: the fast path copies it.
  std::string body = R"({"inputs":{"x":[[1.5,2.5]]}})";
  body.shrink_to_fit();
  serving::InferenceRequest request;
  RestOrder order;
  ASSERT_TRUE(parsePredictRequest(body, kOneFp32, &request, &order, true, body.size()).ok());
  float v[2];
  std::memcpy(v, request.inputs[0].tensor.data, 8);
  EXPECT_EQ(v[0], 1.5f);
  EXPECT_EQ(v[1], 2.5f);
}

TEST(TfsRestFastJson, MutatedBodiesAsTheReference) {
  // Random edits of valid bodies (bytes JSON is made of): whatever the result, both paths agree.
  const std::vector<TensorInfo> sig = {{"a", Precision::FP32, {-1, 2}}, {"b", Precision::I32, {-1}}};
  const std::string seeds[] = {
      R"({"instances":[{"a":[1.5,-2e3],"b":3},{"a":[0.25,4],"b":-4}]})",
      R"({"inputs":{"a":[[1,2],[3,4.5]],"b":[7,8]},"signature_name":"x"})",
      R"({"instances":[[1,2],[3,4]]})",
      R"({"inputs":[[1,2]]})",
  };
  const char alphabet[] = "{}[],:\"0123456789.-+eE tfnulrsab\\x";
  std::mt19937_64 rng(99);
  for (int i = 0; i < 3000; ++i) {
    std::string body = seeds[i % 4];
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % (body.size() + 1);
      char c = alphabet[rng() % (sizeof(alphabet) - 1)];
      switch (rng() % 3) {
        case 0: body.insert(body.begin() + pos, c); break;
        case 1: if (pos < body.size()) body.erase(pos, 1); break;
        default: if (pos < body.size()) body[pos] = c; break;
      }
    }
    expectSame(body, sig);
    expectSame(body, {{"a", Precision::FP32, {-1, 2}}});
  }
}
