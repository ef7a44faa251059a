#include "api/tfs/rest_predict_codec.h"

#include <gtest/gtest.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <type_traits>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

using namespace ovms;
using namespace ovms::api::tfs;
using engine::Precision;
using engine::Shape;
using engine::TensorInfo;

namespace {

struct Parsed {
  Status status;
  serving::InferenceRequest request;
  RestOrder order = RestOrder::COLUMN;
};

Parsed parse(const std::string& body, const std::vector<TensorInfo>& sig) {
  Parsed p;
  p.order = RestOrder::COLUMN;
  p.status = parsePredictRequest(body, sig, &p.request, &p.order);
  return p;
}

template <typename T>
std::vector<T> values(const serving::InferenceInput& in) {
  EXPECT_EQ(in.tensor.data, in.storage.bytes.data());
  EXPECT_EQ(in.tensor.bytes, in.storage.bytes.size());
  EXPECT_EQ(in.tensor.bytes % sizeof(T), 0u);
  std::vector<T> out(in.tensor.bytes / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), in.tensor.data, in.tensor.bytes);
  return out;
}

std::vector<std::string> strings(const serving::InferenceInput& in) {
  std::vector<std::string_view> views;
  EXPECT_TRUE(unpackStrings(in.tensor.data, in.tensor.bytes, &views));
  return std::vector<std::string>(views.begin(), views.end());
}

const std::vector<TensorInfo> kOneInput = {{"x", Precision::FP32, {-1, 2}}};
const std::vector<TensorInfo> kTwoInputs = {{"a", Precision::FP32, {-1, 2}}, {"b", Precision::I64, {-1}}};

// ---- response helpers
struct OutBuf {
  std::vector<std::vector<uint8_t>> storage;
  serving::InferenceResponse response;
  template <typename T>
  void add(const std::string& name, Precision p, Shape shape, std::vector<T> vals) {
    std::vector<uint8_t> b(vals.size() * sizeof(T));
    if (!b.empty()) std::memcpy(b.data(), vals.data(), b.size());
    storage.push_back(std::move(b));
    serving::InferenceOutput out;
    out.name = name;
    out.tensor.precision = p;
    out.tensor.shape = std::move(shape);
    out.tensor.data = storage.back().data();
    out.tensor.bytes = storage.back().size();
    response.outputs.push_back(out);
  }
  void addStrings(const std::string& name, Shape shape, const std::vector<std::string>& vals) {
    std::vector<uint8_t> b;
    packStrings(vals, &b);
    storage.push_back(std::move(b));
    serving::InferenceOutput out;
    out.name = name;
    out.tensor.precision = Precision::STRING;
    out.tensor.shape = std::move(shape);
    out.tensor.data = storage.back().data();
    out.tensor.bytes = storage.back().size();
    response.outputs.push_back(out);
  }
};

}  // namespace

// ------------------------------------------------------------------------------------------------
// Request: structure

TEST(TfsRestParse, RowNamed) {
  auto p = parse(R"({"signature_name":"serving_default","instances":[{"a":[1,2],"b":3},{"a":[3.5,4],"b":4}]})",
                 kTwoInputs);
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  EXPECT_EQ(p.order, RestOrder::ROW);
  ASSERT_EQ(p.request.inputs.size(), 2u);
  const auto& a = p.request.inputs[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.tensor.precision, Precision::FP32);
  EXPECT_EQ(a.tensor.shape, (Shape{2, 2}));
  EXPECT_EQ(a.storage.shape, (Shape{2, 2}));
  EXPECT_FALSE(a.typed_values);
  EXPECT_EQ(a.value_count, 4);
  EXPECT_EQ(values<float>(a), (std::vector<float>{1, 2, 3.5f, 4}));
  const auto& b = p.request.inputs[1];
  EXPECT_EQ(b.name, "b");
  EXPECT_EQ(b.tensor.precision, Precision::I64);
  EXPECT_EQ(b.tensor.shape, (Shape{2}));
  EXPECT_EQ(values<int64_t>(b), (std::vector<int64_t>{3, 4}));
  EXPECT_NE(p.request.find("a"), nullptr);
}

TEST(TfsRestParse, RowNamedScalarInstances) {
  auto p = parse(R"({"instances":[{"b":1},{"b":2},{"b":3}]})", kTwoInputs);
  ASSERT_TRUE(p.status.ok());
  ASSERT_EQ(p.request.inputs.size(), 1u);  // "a" is missing -> simply absent
  EXPECT_EQ(p.request.inputs[0].tensor.shape, (Shape{3}));
  EXPECT_EQ(values<int64_t>(p.request.inputs[0]), (std::vector<int64_t>{1, 2, 3}));
}

TEST(TfsRestParse, RowNamedMixedScalarAndArrayFails) {
  auto p = parse(R"({"instances":[{"b":1},{"b":[2]}]})", kTwoInputs);
  EXPECT_EQ(p.status.code(), StatusCode::REST_COULD_NOT_PARSE_INSTANCE);
  EXPECT_EQ(p.status.message(), "Could not parse instance content. Not valid ndarray detected");
  p = parse(R"({"instances":[{"a":[1,2]},{"a":[1]}]})", kTwoInputs);
  EXPECT_EQ(p.status.code(), StatusCode::REST_COULD_NOT_PARSE_INSTANCE);
  p = parse(R"({"instances":[{}]})", kTwoInputs);
  EXPECT_EQ(p.status.code(), StatusCode::REST_COULD_NOT_PARSE_INSTANCE);
}

TEST(TfsRestParse, RowNamedBatchSizeDiffer) {
  auto p = parse(R"({"instances":[{"a":[1,2],"b":1},{"a":[3,4]}]})", kTwoInputs);
  EXPECT_EQ(p.status.code(), StatusCode::REST_INSTANCES_BATCH_SIZE_DIFFER);
  EXPECT_EQ(p.status.message(), "Invalid JSON structure. Request inputs have different batch sizes");
}

TEST(TfsRestParse, RowNamedInstanceNotObject) {
  auto p = parse(R"({"instances":[{"b":1},[1]]})", kTwoInputs);
  EXPECT_EQ(p.status.code(), StatusCode::REST_NAMED_INSTANCE_NOT_AN_OBJECT);
  EXPECT_EQ(p.status.message(), "Invalid JSON structure. One of named instances is not a JSON object.");
  EXPECT_EQ(p.order, RestOrder::ROW);
}

TEST(TfsRestParse, RowUnnamed) {
  auto p = parse(R"({"instances":[[1,2],[3,4],[5,6]]})", kOneInput);
  ASSERT_TRUE(p.status.ok());
  ASSERT_EQ(p.request.inputs.size(), 1u);
  EXPECT_EQ(p.request.inputs[0].name, "x");
  EXPECT_EQ(p.request.inputs[0].tensor.shape, (Shape{3, 2}));
  EXPECT_EQ(values<float>(p.request.inputs[0]), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  p = parse(R"({"instances":[1,2,3]})", kOneInput);
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.request.inputs[0].tensor.shape, (Shape{3}));
}

TEST(TfsRestParse, RowUnnamedNeedsSingleInput) {
  auto p = parse(R"({"instances":[[1,2]]})", kTwoInputs);
  EXPECT_EQ(p.status.code(), StatusCode::INVALID_INPUT_FORMAT);
  EXPECT_EQ(p.status.message(), "Inputs inside buffer does not match expected format.");
  p = parse(R"({"inputs":[[1,2]]})", kTwoInputs);
  EXPECT_EQ(p.status.code(), StatusCode::INVALID_INPUT_FORMAT);
  p = parse(R"({"inputs":3})", kTwoInputs);
  EXPECT_EQ(p.status.code(), StatusCode::INVALID_INPUT_FORMAT);
}

TEST(TfsRestParse, RowErrors) {
  auto p = parse(R"({"instances":{"x":[1,2]}})", kOneInput);
  EXPECT_EQ(p.status.code(), StatusCode::REST_INSTANCES_NOT_AN_ARRAY);
  EXPECT_EQ(p.status.message(), "Invalid JSON structure. Nonamed instance is not an array.");
  p = parse(R"({"instances":[]})", kOneInput);
  EXPECT_EQ(p.status.code(), StatusCode::REST_NO_INSTANCES_FOUND);
  EXPECT_EQ(p.status.message(), "Invalid JSON structure. Missing instances in row format");
  p = parse(R"({"instances":[null]})", kOneInput);
  EXPECT_EQ(p.status.code(), StatusCode::REST_INSTANCES_NOT_NAMED_OR_NONAMED);
  EXPECT_EQ(p.status.message(), "Could not detect neither named or nonamed format");
  p = parse(R"({"instances":[[1,2],{"x":[1,2]}]})", kOneInput);
  EXPECT_EQ(p.status.code(), StatusCode::REST_COULD_NOT_PARSE_INSTANCE);
  p = parse(R"({"instances":[[1,2],[3]]})", kOneInput);
  EXPECT_EQ(p.status.code(), StatusCode::REST_COULD_NOT_PARSE_INSTANCE);
}

TEST(TfsRestParse, ColumnNamed) {
  auto p = parse(R"({"inputs":{"a":[[1,2]],"b":7,"extra":[1,2]}})", kTwoInputs);
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  EXPECT_EQ(p.order, RestOrder::COLUMN);
  ASSERT_EQ(p.request.inputs.size(), 3u);
  EXPECT_EQ(p.request.inputs[0].tensor.shape, (Shape{1, 2}));
  EXPECT_EQ(p.request.inputs[1].tensor.shape, (Shape{}));
  EXPECT_EQ(values<int64_t>(p.request.inputs[1]), (std::vector<int64_t>{7}));
  EXPECT_EQ(p.request.inputs[1].value_count, 1);
  EXPECT_EQ(p.request.inputs[2].name, "extra");  // unknown names are kept
  EXPECT_EQ(p.request.inputs[2].tensor.precision, Precision::I32);
}

TEST(TfsRestParse, ColumnUnnamed) {
  auto p = parse(R"({"inputs":[[1,2],[3,4]]})", kOneInput);
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.order, RestOrder::COLUMN);
  EXPECT_EQ(p.request.inputs[0].name, "x");
  EXPECT_EQ(p.request.inputs[0].tensor.shape, (Shape{2, 2}));
  EXPECT_EQ(values<float>(p.request.inputs[0]), (std::vector<float>{1, 2, 3, 4}));
  p = parse(R"({"inputs":2.5})", kOneInput);
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.request.inputs[0].tensor.shape, (Shape{}));
  EXPECT_EQ(values<float>(p.request.inputs[0]), (std::vector<float>{2.5f}));
}

TEST(TfsRestParse, ColumnErrors) {
  auto p = parse(R"({"inputs":{}})", kOneInput);
  EXPECT_EQ(p.status.code(), StatusCode::REST_NO_INPUTS_FOUND);
  EXPECT_EQ(p.status.message(), "Invalid JSON structure, missing inputs");
  p = parse(R"({"inputs":null})", kOneInput);
  EXPECT_EQ(p.status.code(), StatusCode::REST_INPUTS_NOT_AN_OBJECT);
  EXPECT_EQ(p.status.message(), "Invalid JSON structure. One of inputs is not a JSON object.");
  for (const char* bad : {R"({"inputs":{"x":[[1,2],[3]]}})", R"({"inputs":{"x":[[1,2],3]}})",
                          R"({"inputs":{"x":[1,[2]]}})", R"({"inputs":{"x":[[]]}})", R"({"inputs":{"x":[]}})",
                          R"({"inputs":{"x":[[1,2],[3,4,5]]}})", R"({"inputs":{"x":[1,null]}})",
                          R"({"inputs":{"x":{"y":1}}})", R"({"inputs":[[1,2],[3]]})", R"({"inputs":[]})",
                          R"({"inputs":{"x":[1,true]}})"}) {
    p = parse(bad, kOneInput);
    EXPECT_EQ(p.status.code(), StatusCode::REST_COULD_NOT_PARSE_INPUT) << bad;
    EXPECT_EQ(p.status.message(), "Could not parse input content. Not valid ndarray detected") << bad;
    EXPECT_TRUE(p.request.inputs.empty());
  }
}

TEST(TfsRestParse, BodyErrors) {
  auto p = parse(R"({"instances":[[1]],"inputs":[[1]]})", kOneInput);
  EXPECT_EQ(p.status.code(), StatusCode::REST_PREDICT_UNKNOWN_ORDER);
  EXPECT_EQ(p.status.message(), "Invalid JSON structure. Could not detect row or column format");
  p = parse(R"({"signature_name":"serving_default"})", kOneInput);
  EXPECT_EQ(p.status.code(), StatusCode::REST_PREDICT_UNKNOWN_ORDER);
  p = parse(R"([{"inputs":[1]}])", kOneInput);
  EXPECT_EQ(p.status.code(), StatusCode::REST_BODY_NOT_AN_OBJECT);
  EXPECT_EQ(p.status.message(), "Request body should be JSON object");
  for (const char* bad : {"", "{", R"({"inputs":[1,2]} x)", R"({"inputs":[1,2,]})", "{'inputs':[1]}",
                          R"({"inputs":[NaN]})"}) {
    p = parse(bad, kOneInput);
    EXPECT_EQ(p.status.code(), StatusCode::JSON_INVALID) << bad;
    EXPECT_EQ(p.status.message(), "The file is not valid json");
  }
}

TEST(TfsRestParse, NestingLimit) {
  // The object counts as one level: 99 arrays -> depth 100 is fine, 100 arrays -> 101 is not.
  auto body = [](int arrays) {
    return R"({"inputs":)" + std::string(arrays, '[') + "1" + std::string(arrays, ']') + "}";
  };
  auto p = parse(body(99), kOneInput);
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  EXPECT_EQ(p.request.inputs[0].tensor.shape.size(), 99u);
  p = parse(body(100), kOneInput);
  EXPECT_EQ(p.status.code(), StatusCode::JSON_INVALID);
  p = parse(body(100000), kOneInput);
  EXPECT_EQ(p.status.code(), StatusCode::JSON_INVALID);
  // brackets inside strings do not count
  p = parse(R"({"inputs":{"x":[1]},"signature_name":")" + std::string(200, '[') + "\"}", kOneInput);
  EXPECT_TRUE(p.status.ok());
}

TEST(TfsRestParse, NestingLimitAtEveryAlignment) {
  // Brackets separated by whitespace runs of every length, so they fall on every byte of the
  // nesting scan's 8-byte steps; strings with escaped quotes and brackets of every length too.
  for (int pad = 0; pad < 20; ++pad) {
    auto body = [pad](int arrays) {
      std::string b = R"({"signature_name":")" + std::string(pad, '[') + R"(\"[{", "inputs":)";
      for (int i = 0; i < arrays; ++i) b += "[" + std::string((i + pad) % 17, ' ');
      b += "1";
      for (int i = 0; i < arrays; ++i) b += std::string((i * pad) % 11, ' ') + "]";
      return b + std::string(pad, ' ') + "}";
    };
    auto p = parse(body(99), kOneInput);
    ASSERT_TRUE(p.status.ok()) << pad << " " << p.status.message();
    EXPECT_EQ(p.request.inputs[0].tensor.shape.size(), 99u);
    EXPECT_EQ(parse(body(100), kOneInput).status.code(), StatusCode::JSON_INVALID) << pad;
  }
}

// ------------------------------------------------------------------------------------------------
// Request: value conversion

namespace {
Status convert(Precision prec, const std::string& vals, std::vector<uint8_t>* bytes, bool row = false) {
  std::vector<TensorInfo> sig = {{"v", prec, {-1}}};
  std::string body = row ? R"({"instances":)" + vals + "}" : R"({"inputs":{"v":)" + vals + "}}";
  auto p = parse(body, sig);
  if (p.status.ok()) {
    EXPECT_EQ(p.request.inputs[0].tensor.precision, prec);
    *bytes = p.request.inputs[0].storage.bytes;
  }
  return p.status;
}

template <typename T>
std::vector<T> asVec(const std::vector<uint8_t>& b) {
  std::vector<T> v(b.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), b.data(), b.size());
  return v;
}

template <typename T>
void expectOk(Precision prec, const std::string& vals, std::vector<T> expected) {
  std::vector<uint8_t> b;
  Status s = convert(prec, vals, &b);
  ASSERT_TRUE(s.ok()) << engine::precisionName(prec) << " " << vals << ": " << s.message();
  EXPECT_EQ(asVec<T>(b), expected) << engine::precisionName(prec) << " " << vals;
}

void expectReject(Precision prec, const std::string& vals) {
  std::vector<uint8_t> b;
  EXPECT_EQ(convert(prec, vals, &b).code(), StatusCode::REST_COULD_NOT_PARSE_INPUT)
      << engine::precisionName(prec) << " " << vals;
  EXPECT_EQ(convert(prec, vals, &b, true).code(), StatusCode::REST_COULD_NOT_PARSE_INSTANCE)
      << engine::precisionName(prec) << " " << vals;
}
}  // namespace

TEST(TfsRestConvert, Floats) {
  expectOk<float>(Precision::FP32, "[1, 2.5, -300, 1e-3, 16777217]", {1.f, 2.5f, -300.f, 1e-3f, 16777216.f});
  expectReject(Precision::FP32, "[1e39]");
  expectReject(Precision::FP32, "[1, null]");
  expectOk<double>(Precision::FP64, "[0.1, 1e300, -5, 9007199254740993]", {0.1, 1e300, -5.0, 9007199254740992.0});
}

TEST(TfsRestConvert, Integers) {
  expectOk<int8_t>(Precision::I8, "[-128, 127, 3.0]", {-128, 127, 3});
  expectReject(Precision::I8, "[128]");
  expectReject(Precision::I8, "[-129]");
  expectOk<uint8_t>(Precision::U8, "[0, 255, 7.0]", {0, 255, 7});
  expectReject(Precision::U8, "[-1]");
  expectReject(Precision::U8, "[300]");
  expectReject(Precision::U8, "[3.5]");
  expectOk<int16_t>(Precision::I16, "[-32768, 32767]", {-32768, 32767});
  expectReject(Precision::I16, "[32768]");
  expectOk<uint16_t>(Precision::U16, "[0, 65535]", {0, 65535});
  expectReject(Precision::U16, "[65536]");
  expectOk<int32_t>(Precision::I32, "[-2147483648, 2147483647, -0.0]", {INT32_MIN, INT32_MAX, 0});
  expectReject(Precision::I32, "[3.5]");
  expectReject(Precision::I32, "[2147483648]");
  expectReject(Precision::I32, "[true]");
  expectOk<int64_t>(Precision::I64, "[-9223372036854775808, 9223372036854775807]", {INT64_MIN, INT64_MAX});
  expectReject(Precision::I64, "[9223372036854775808]");
  expectReject(Precision::I64, "[1e19]");
  expectOk<uint32_t>(Precision::U32, "[0, 4294967295]", {0u, 4294967295u});
  expectReject(Precision::U32, "[-1]");
  expectReject(Precision::U32, "[4294967296]");
  expectOk<uint64_t>(Precision::U64, "[0, 18446744073709551615]", {0u, UINT64_MAX});
  expectReject(Precision::U64, "[-1]");
  expectReject(Precision::U64, "[1.5]");
}

TEST(TfsRestConvert, BoolAndHalf) {
  expectOk<uint8_t>(Precision::BOOL, "[true, false, 1, 0]", {1, 0, 1, 0});
  expectReject(Precision::BOOL, "[2]");
  expectReject(Precision::BOOL, "[0.5]");
  expectOk<uint16_t>(Precision::FP16, "[1.0, 0.5, -2, 65504, 1e-8, 0.1, 6e-5, 5.96e-8]",
                     {0x3c00, 0x3800, 0xc000, 0x7bff, 0x0000, 0x2e66, 0x03ef, 0x0001});
  expectReject(Precision::FP16, "[70000]");
  expectOk<uint16_t>(Precision::BF16, "[1.0, -2.5]", {0x3f80, 0xc020});
}

TEST(TfsRestConvert, UnknownInputsInferI32OrFP32) {
  auto p = parse(R"({"inputs":{"i":[[1,2]],"f":[1.5,2],"big":[3000000000]}})", kOneInput);
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  ASSERT_EQ(p.request.inputs.size(), 3u);
  EXPECT_EQ(p.request.inputs[0].tensor.precision, Precision::I32);
  EXPECT_EQ(values<int32_t>(p.request.inputs[0]), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(p.request.inputs[1].tensor.precision, Precision::FP32);
  EXPECT_EQ(values<float>(p.request.inputs[1]), (std::vector<float>{1.5f, 2.f}));
  EXPECT_EQ(p.request.inputs[2].tensor.precision, Precision::FP32);
  // I32 inferred from the first value, later fraction does not fit
  p = parse(R"({"inputs":{"i":[1, 2.5]}})", kOneInput);
  EXPECT_EQ(p.status.code(), StatusCode::REST_COULD_NOT_PARSE_INPUT);
  // The model input keeps its declared precision even if the client sends ints
  p = parse(R"({"inputs":{"x":[[1,2]]}})", kOneInput);
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.request.inputs[0].tensor.precision, Precision::FP32);
}

TEST(TfsRestConvert, StringsAndBase64) {
  std::vector<TensorInfo> sig = {{"s", Precision::STRING, {-1}}};
  auto p = parse(R"({"instances":[{"s":{"b64":"aGVsbG8="}},{"s":"plain"},{"s":{"b64":""}}]})", sig);
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  EXPECT_EQ(p.request.inputs[0].tensor.precision, Precision::STRING);
  EXPECT_EQ(p.request.inputs[0].tensor.shape, (Shape{3}));
  EXPECT_EQ(p.request.inputs[0].value_count, 3);
  EXPECT_TRUE(p.request.inputs[0].typed_values);  // counted in elements, not in (packed) bytes
  EXPECT_EQ(strings(p.request.inputs[0]), (std::vector<std::string>{"hello", "plain", ""}));
  // unnamed row with b64 objects
  p = parse(R"({"instances":[{"b64":"YQ=="},{"b64":"YmM"}]})", sig);
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  EXPECT_EQ(strings(p.request.inputs[0]), (std::vector<std::string>{"a", "bc"}));
  // bad base64 / numbers for a STRING input
  p = parse(R"({"instances":[{"s":{"b64":"a$=="}}]})", sig);
  EXPECT_EQ(p.status.code(), StatusCode::REST_COULD_NOT_PARSE_INSTANCE);
  p = parse(R"({"inputs":{"s":[1]}})", sig);
  EXPECT_EQ(p.status.code(), StatusCode::REST_COULD_NOT_PARSE_INPUT);
  // an object with more keys than b64 is not binary
  p = parse(R"({"inputs":{"s":[{"b64":"YQ==","x":1}]}})", sig);
  EXPECT_EQ(p.status.code(), StatusCode::REST_COULD_NOT_PARSE_INPUT);
}

// Strings and {"b64": ...} stay STRING whatever the model input is: the API layer decodes them as
// images for image inputs, and validation reports a precision mismatch for anything else.
TEST(TfsRestConvert, BinaryDataForNumericInputStaysString) {
  std::vector<TensorInfo> sig = {{"img", Precision::U8, {-1, -1, -1, 3}}};
  for (const char* body : {R"({"instances":[{"img":{"b64":"aGVsbG8="}}]})", R"({"inputs":{"img":["raw"]}})",
                           R"({"instances":[{"b64":"aGVsbG8="}]})"}) {
    auto p = parse(body, sig);
    ASSERT_TRUE(p.status.ok()) << body << ": " << p.status.message();
    ASSERT_EQ(p.request.inputs.size(), 1u);
    EXPECT_EQ(p.request.inputs[0].tensor.precision, Precision::STRING) << body;
    std::vector<std::string_view> elems;
    ASSERT_TRUE(unpackStrings(p.request.inputs[0].tensor.data, p.request.inputs[0].tensor.bytes, &elems));
    ASSERT_EQ(elems.size(), 1u);
    EXPECT_TRUE(elems[0] == "hello" || elems[0] == "raw") << body;
  }
}

TEST(TfsRestConvert, Base64Codec) {
  std::string out;
  EXPECT_TRUE(decodeBase64("aGVsbG8gd29ybGQ=", &out));
  EXPECT_EQ(out, "hello world");
  EXPECT_TRUE(decodeBase64("aGVsbG8gd29ybGQ", &out));  // padding optional
  EXPECT_EQ(out, "hello world");
  EXPECT_TRUE(decodeBase64("", &out));
  EXPECT_EQ(out, "");
  EXPECT_FALSE(decodeBase64("a", &out));
  EXPECT_FALSE(decodeBase64("ab=c", &out));
  EXPECT_FALSE(decodeBase64("ab c", &out));
  EXPECT_FALSE(decodeBase64("abc==", &out));
  std::string bin;
  for (int i = 0; i < 256; ++i) bin.push_back(static_cast<char>(i));
  for (size_t n = 0; n < 8; ++n) {
    std::string s = bin.substr(0, bin.size() - n);
    ASSERT_TRUE(decodeBase64(encodeBase64(s), &out));
    EXPECT_EQ(out, s);
  }
  EXPECT_EQ(encodeBase64("ab"), "YWI=");
}

TEST(TfsRestParse, MillionFloats) {
  const int rows = 1000, cols = 1000;
  std::string body = R"({"inputs":{"x":[)";
  body.reserve(12 * rows * cols);
  for (int r = 0; r < rows; ++r) {
    body += r ? ",[" : "[";
    for (int c = 0; c < cols; ++c) {
      if (c) body += ',';
      body += std::to_string((r * cols + c) % 1000) + ".25";
    }
    body += ']';
  }
  body += "]}}";
  auto t0 = std::chrono::steady_clock::now();
  auto p = parse(body, kOneInput);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(p.status.ok());
  const auto& in = p.request.inputs[0];
  EXPECT_EQ(in.tensor.shape, (Shape{rows, cols}));
  EXPECT_EQ(in.value_count, rows * cols);
  ASSERT_EQ(in.tensor.bytes, size_t(rows) * cols * 4);
  const float* f = static_cast<const float*>(in.tensor.data);
  for (int i = 0; i < rows * cols; i += 997) ASSERT_EQ(f[i], float(i % 1000) + 0.25f) << i;
  EXPECT_EQ(f[rows * cols - 1], 999.25f);
  std::printf("parsed %zu byte body with 1M floats in %lld ms\n", body.size(), static_cast<long long>(ms));
  EXPECT_LT(ms, 5000);
}

// ------------------------------------------------------------------------------------------------
// Response

TEST(TfsRestResponse, FloatFormatting) {
  EXPECT_EQ(formatFloat(1.0f), "1.0");
  EXPECT_EQ(formatFloat(5.0f), "5.0");
  EXPECT_EQ(formatFloat(0.5f), "0.5");
  EXPECT_EQ(formatFloat(0.1f), "0.1");
  EXPECT_EQ(formatFloat(-2.25f), "-2.25");
  EXPECT_EQ(formatFloat(1e-7f), "1e-07");
  EXPECT_EQ(formatFloat(3e-5f), "3e-05");
  EXPECT_EQ(formatFloat(9000000.0f), "9e+06");
  EXPECT_EQ(formatFloat(123456.0f), "123456.0");
  EXPECT_EQ(formatFloat(1234567.0f), "1234567.0");
  EXPECT_EQ(formatFloat(16777216.0f), "16777216.0");
  EXPECT_EQ(formatFloat(0.123456789f), "0.123456791");
  EXPECT_EQ(formatFloat(3.14159274f), "3.14159274");
  EXPECT_EQ(formatFloat(-0.0f), "-0.0");
  EXPECT_EQ(formatFloat(0.0f), "0.0");
  EXPECT_EQ(formatFloat(std::numeric_limits<float>::quiet_NaN()), "NaN");
  EXPECT_EQ(formatFloat(std::numeric_limits<float>::infinity()), "Infinity");
  EXPECT_EQ(formatFloat(-std::numeric_limits<float>::infinity()), "-Infinity");
  EXPECT_EQ(formatDouble(0.1), "0.1");
  EXPECT_EQ(formatDouble(1.0 / 3), "0.33333333333333331");
  EXPECT_EQ(formatDouble(1e100), "1e+100");
  EXPECT_EQ(formatDouble(42.0), "42.0");
}

// Test-only references for formatFloat / formatDouble: the printf-based definition of TF Serving's
// WriteDecimal ("%.6g", then max_digits10 digits if that does not round-trip, ".0" for plain
// integers), and the previous to_chars implementation (always "%.6g" + from_chars check).
template <typename T>
std::string referenceDecimalPrintf(T v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v < 0 ? "-Infinity" : "Infinity";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", static_cast<double>(v));
  T back = std::is_same_v<T, float> ? static_cast<T>(std::strtof(buf, nullptr)) : static_cast<T>(std::strtod(buf, nullptr));
  if (back != v) {
    std::snprintf(buf, sizeof(buf), "%.*g", std::numeric_limits<T>::max_digits10, static_cast<double>(v));
  }
  std::string s(buf);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

template <typename T>
std::string referenceDecimalToChars(T v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v < 0 ? "-Infinity" : "Infinity";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), static_cast<double>(v), std::chars_format::general, 6);
  T back{};
  auto parsed = std::from_chars(buf, res.ptr, back);
  if (parsed.ec != std::errc() || back != v)
    res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general, std::numeric_limits<T>::max_digits10);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

TEST(TfsRestResponse, FloatFormattingMatchesPrintfReference) {
  std::mt19937_64 rng(20261125);
  size_t checked = 0, failures = 0;
  auto check = [&](float v) {
    ++checked;
    std::string got = formatFloat(v);
    std::string want = referenceDecimalPrintf(v);
    if (got != want || got != referenceDecimalToChars(v)) {
      if (++failures <= 20) {
        uint32_t bits;
        std::memcpy(&bits, &v, 4);
        ADD_FAILURE() << "bits 0x" << std::hex << bits << ": got " << got << ", printf reference " << want;
      }
    }
  };
  auto fromBits = [](uint32_t b) {
    float f;
    std::memcpy(&f, &b, 4);
    return f;
  };
  // Random bit patterns: every exponent, subnormals, NaN payloads, infinities.
  for (int i = 0; i < 2000000; ++i) check(fromBits(static_cast<uint32_t>(rng())));
  // A strided sweep over all 2^32 patterns.
  for (uint64_t b = 0; b < (1ULL << 32); b += 1021) check(fromBits(static_cast<uint32_t>(b)));
  // Typical tensor values, integers, tiny and huge magnitudes, values near powers of ten.
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::uniform_int_distribution<int> ints(-20000000, 20000000);
  std::uniform_int_distribution<int> exps(-45, 38);
  for (int i = 0; i < 1000000; ++i) {
    float u = unit(rng);
    check(u);
    check(u + 1.0f);
    check(static_cast<float>(ints(rng)));
    check(u * std::pow(10.0f, static_cast<float>(exps(rng))));
    check(static_cast<float>(std::round(u * 1e6) / 1e6));  // 6-digit decimals
  }
  for (int e = -45; e <= 38; ++e) {
    float p = static_cast<float>(std::pow(10.0, e));
    for (float q = p, n = 0; n < 64; ++n) {
      check(q);
      check(-q);
      q = std::nextafter(q, std::numeric_limits<float>::infinity());
    }
    for (float q = p, n = 0; n < 64; ++n) {
      check(q);
      q = std::nextafter(q, 0.0f);
    }
  }
  // Exact halfway cases at 9 significant digits (rounded half to even by printf).
  for (int i = 0; i < 4096; ++i) {
    for (float f : {4194303.0f - i, 2097151.0f - i, 1048575.0f - i, 524287.0f - i})
      for (float step = 0.5f; step >= 1.0f / 64; step /= 2)
        for (float add = step; add < 1.0f; add += 2 * step) check(f + add);
  }
  for (uint32_t b = 0; b < 100000; ++b) check(fromBits(b));                // smallest subnormals
  for (uint32_t b = 0x007f0000; b < 0x00810000; ++b) check(fromBits(b));   // subnormal / normal boundary
  for (float f : {0.0f, -0.0f, std::numeric_limits<float>::min(), std::numeric_limits<float>::max(),
                  std::numeric_limits<float>::lowest(), std::numeric_limits<float>::denorm_min(),
                  std::numeric_limits<float>::epsilon(), std::numeric_limits<float>::infinity(),
                  -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                  -std::numeric_limits<float>::quiet_NaN(), 999999.5f, 9999995.0f, 0.0001f, 0.00001f, 100000.0f,
                  1000000.0f, 999999.0f, 1e-5f, 9.999995e-5f})
    check(f);
  EXPECT_EQ(failures, 0u) << "of " << checked;
  std::printf("formatFloat checked against the printf reference on %zu values\n", checked);
}

TEST(TfsRestResponse, DoubleFormattingMatchesPrintfReference) {
  std::mt19937_64 rng(7);
  size_t failures = 0;
  auto check = [&](double v) {
    std::string got = formatDouble(v);
    if (got != referenceDecimalPrintf(v) && ++failures <= 20) ADD_FAILURE() << got << " vs " << referenceDecimalPrintf(v);
  };
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  for (int i = 0; i < 300000; ++i) {
    uint64_t b = rng();
    double d;
    std::memcpy(&d, &b, 8);
    check(d);
    check(unit(rng));
    check(static_cast<double>(static_cast<float>(unit(rng))));
  }
  EXPECT_EQ(failures, 0u);
}

TEST(TfsRestResponse, RowSingleOutput) {
  OutBuf o;
  o.add<float>("a", Precision::FP32, {2, 2}, {1, 2, 3, 4});
  std::string body;
  ASSERT_TRUE(makePredictResponse(o.response, RestOrder::ROW, &body).ok());
  EXPECT_EQ(body, "{\n    \"predictions\": [[1.0, 2.0], [3.0, 4.0]\n    ]\n}");

  OutBuf o1;
  o1.add<int32_t>("a", Precision::I32, {2}, {5, 6});
  ASSERT_TRUE(makePredictResponse(o1.response, RestOrder::ROW, &body).ok());
  EXPECT_EQ(body, "{\n    \"predictions\": [5, 6\n    ]\n}");
}

TEST(TfsRestResponse, RowMultipleOutputs) {
  OutBuf o;
  o.add<float>("a", Precision::FP32, {2, 2}, {1, 0.5f, 3, 1e-7f});
  o.add<int64_t>("b", Precision::I64, {2}, {5, -6});
  std::string body;
  ASSERT_TRUE(makePredictResponse(o.response, RestOrder::ROW, &body).ok());
  EXPECT_EQ(body,
            "{\n"
            "    \"predictions\": [\n"
            "        {\n"
            "            \"a\": [1.0, 0.5],\n"
            "            \"b\": 5\n"
            "        },\n"
            "        {\n"
            "            \"a\": [3.0, 1e-07],\n"
            "            \"b\": -6\n"
            "        }\n"
            "    ]\n"
            "}");
}

TEST(TfsRestResponse, ColumnSingleAndMultipleOutputs) {
  OutBuf o;
  o.add<float>("a", Precision::FP32, {2, 2}, {1, 2, 3, 4});
  std::string body;
  ASSERT_TRUE(makePredictResponse(o.response, RestOrder::COLUMN, &body).ok());
  EXPECT_EQ(body,
            "{\n"
            "    \"outputs\": [\n"
            "        [\n"
            "            1.0,\n"
            "            2.0\n"
            "        ],\n"
            "        [\n"
            "            3.0,\n"
            "            4.0\n"
            "        ]\n"
            "    ]\n"
            "}");
  o.add<uint8_t>("b", Precision::U8, {2}, {5, 255});
  ASSERT_TRUE(makePredictResponse(o.response, RestOrder::COLUMN, &body).ok());
  EXPECT_EQ(body,
            "{\n"
            "    \"outputs\": {\n"
            "        \"a\": [\n"
            "            [\n"
            "                1.0,\n"
            "                2.0\n"
            "            ],\n"
            "            [\n"
            "                3.0,\n"
            "                4.0\n"
            "            ]\n"
            "        ],\n"
            "        \"b\": [\n"
            "            5,\n"
            "            255\n"
            "        ]\n"
            "    }\n"
            "}");
  OutBuf s;
  s.add<double>("d", Precision::FP64, {}, {2.0});
  ASSERT_TRUE(makePredictResponse(s.response, RestOrder::COLUMN, &body).ok());
  EXPECT_EQ(body, "{\n    \"outputs\": 2.0\n}");
}

TEST(TfsRestResponse, AllSupportedPrecisions) {
  OutBuf o;
  o.add<int8_t>("i8", Precision::I8, {1}, {-8});
  o.add<int16_t>("i16", Precision::I16, {1}, {-16});
  // U64 is written only for a stateful model's sequence_id (model outputs of U32/U64 are refused: below).
  o.add<uint64_t>("u64", Precision::U64, {1}, {UINT64_MAX});
  o.response.outputs.back().sequence_id = true;
  o.add<double>("f64", Precision::FP64, {1}, {0.1});
  o.addStrings("str", {1}, {"he\"y"});
  o.addStrings("raw_bytes", {1}, {"ab"});
  std::string body;
  ASSERT_TRUE(makePredictResponse(o.response, RestOrder::ROW, &body).ok());
  EXPECT_EQ(body,
            "{\n"
            "    \"predictions\": [\n"
            "        {\n"
            "            \"i8\": -8,\n"
            "            \"i16\": -16,\n"
            "            \"u64\": 18446744073709551615,\n"
            "            \"f64\": 0.1,\n"
            "            \"str\": \"he\\\"y\",\n"
            "            \"raw_bytes\": {\n"
            "                \"b64\": \"YWI=\"\n"
            "            }\n"
            "        }\n"
            "    ]\n"
            "}");
}

TEST(TfsRestResponse, OutputsOvmsCannotSerializeAreRefusedBeforeAnyJson) {
  std::string body;
  for (Precision p : {Precision::BOOL, Precision::U32, Precision::U64}) {
    OutBuf o;
    o.add<float>("a", Precision::FP32, {1}, {1});
    if (p == Precision::BOOL) o.add<uint8_t>("b", p, {1}, {1});
    if (p == Precision::U32) o.add<uint32_t>("b", p, {1}, {1});
    if (p == Precision::U64) o.add<uint64_t>("b", p, {1}, {1});
    Status s = makePredictResponse(o.response, RestOrder::ROW, &body);
    EXPECT_EQ(s.code(), StatusCode::OV_UNSUPPORTED_SERIALIZATION_PRECISION) << engine::precisionName(p);
    EXPECT_EQ(s.message(), "Unsupported serialization precision");
    EXPECT_EQ(s.httpCode(), 500);
  }
}

TEST(TfsRestResponse, Errors) {
  std::string body;
  {
    OutBuf o;
    o.add<float>("a", Precision::FP32, {2, 1}, {1, 2});
    o.add<float>("b", Precision::FP32, {3}, {1, 2, 3});
    Status s = makePredictResponse(o.response, RestOrder::ROW, &body);
    EXPECT_EQ(s.message(), "Response parsing to JSON error");
    EXPECT_EQ(s.httpCode(), 500);
    EXPECT_TRUE(makePredictResponse(o.response, RestOrder::COLUMN, &body).ok());  // column has no batch rule
  }
  {
    OutBuf o;
    o.add<float>("a", Precision::FP32, {}, {1});
    EXPECT_EQ(makePredictResponse(o.response, RestOrder::ROW, &body).message(), "Response parsing to JSON error");
  }
  {
    OutBuf o;
    o.add<uint16_t>("h", Precision::FP16, {1}, {0x3c00});
    EXPECT_EQ(makePredictResponse(o.response, RestOrder::COLUMN, &body).code(),
              StatusCode::OV_UNSUPPORTED_SERIALIZATION_PRECISION);
    OutBuf b;
    b.add<uint8_t>("b", Precision::BOOL, {1}, {1});
    EXPECT_EQ(makePredictResponse(b.response, RestOrder::ROW, &body).code(),
              StatusCode::OV_UNSUPPORTED_SERIALIZATION_PRECISION);
  }
  {
    OutBuf o;
    o.add<float>("a", Precision::FP32, {0, 3}, {});
    EXPECT_EQ(makePredictResponse(o.response, RestOrder::COLUMN, &body).code(), StatusCode::REST_SERIALIZE_NO_DATA);
  }
  {
    serving::InferenceResponse empty;
    EXPECT_EQ(makePredictResponse(empty, RestOrder::COLUMN, &body).message(), "Response parsing to JSON error");
  }
}

TEST(TfsRestResponse, RoundTripThroughParser) {
  auto p = parse(R"({"instances":[[0.1,0.2],[0.3,0.4]]})", kOneInput);
  ASSERT_TRUE(p.status.ok());
  serving::InferenceResponse r;
  r.outputs.push_back({"y", p.request.inputs[0].tensor});
  std::string body;
  ASSERT_TRUE(makePredictResponse(r, p.order, &body).ok());
  EXPECT_EQ(body, "{\n    \"predictions\": [[0.1, 0.2], [0.3, 0.4]\n    ]\n}");
}

// A string among numbers is a client error (400) like any ragged ndarray (it used to be a 500
// NOT_IMPLEMENTED); out-of-range integers are rejected by the shared JSON rules, never wrapped.
TEST(TfsRestConvert, StringsAmongNumbersAndOutOfRangeAreParseErrors) {
  std::vector<TensorInfo> sig = {{"x", Precision::I8, {-1, 2}}};
  auto p = parse(R"({"instances":[[1,"a"]]})", sig);
  EXPECT_EQ(p.status.code(), StatusCode::REST_COULD_NOT_PARSE_INSTANCE);
  p = parse(R"({"inputs":{"x":[[1,"a"]]}})", sig);
  EXPECT_EQ(p.status.code(), StatusCode::REST_COULD_NOT_PARSE_INPUT);
  p = parse(R"({"inputs":{"x":[[300,1]]}})", sig);
  EXPECT_EQ(p.status.code(), StatusCode::REST_COULD_NOT_PARSE_INPUT);
  p = parse(R"({"inputs":{"x":[[-128,127]]}})", sig);
  EXPECT_TRUE(p.status.ok()) << p.status.message();
}
