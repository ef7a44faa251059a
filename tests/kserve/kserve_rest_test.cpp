// KServe v2 REST: request parsing (JSON and binary extension) and response serialisation.
#include <gtest/gtest.h>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "engine/half.h"

#include "api/kserve/kserve_api.h"
#include "api/kserve/kserve_rest.h"
#include "api/kserve/kserve_tensor.h"

using namespace ovms;
using namespace ovms::api::kserve;
using engine::Precision;

namespace {

template <typename T>
std::vector<T> values(const serving::InferenceInput& in) {
  std::vector<T> out(in.tensor.bytes / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), in.tensor.data, in.tensor.bytes);
  return out;
}

std::string packed(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& i : items) {
    uint32_t n = static_cast<uint32_t>(i.size());
    s.append(reinterpret_cast<const char*>(&n), 4);
    s += i;
  }
  return s;
}

Status parse(const std::string& body, RestInferRequest* out, const std::string* header = nullptr) {
  return parseInferRequest(body, header, out);
}

}  // namespace

TEST(KserveRestParse, JsonFp32NestedAndFlat) {
  RestInferRequest r;
  ASSERT_TRUE(parse(R"({"id":"abc","inputs":[{"name":"b","shape":[2,2],"datatype":"FP32","data":[[1,2.5],[3,4]]}]})", &r).ok());
  EXPECT_EQ(r.id, "abc");
  ASSERT_EQ(r.request.inputs.size(), 1u);
  const auto& in = r.request.inputs[0];
  EXPECT_EQ(in.name, "b");
  EXPECT_EQ(in.tensor.precision, Precision::FP32);
  EXPECT_EQ(in.tensor.shape, (engine::Shape{2, 2}));
  EXPECT_TRUE(in.typed_values);
  EXPECT_EQ(in.value_count, 4);
  EXPECT_EQ(values<float>(in), (std::vector<float>{1, 2.5, 3, 4}));
  EXPECT_EQ(r.request.inputs[0].client_datatype, "FP32");

  RestInferRequest flat;
  ASSERT_TRUE(parse(R"({"inputs":[{"name":"b","shape":[2,2],"datatype":"FP32","data":[1,2.5,3,4]}]})", &flat).ok());
  EXPECT_EQ(values<float>(flat.request.inputs[0]), (std::vector<float>{1, 2.5, 3, 4}));
}

TEST(KserveRestParse, JsonAllIntegerTypes) {
  RestInferRequest r;
  ASSERT_TRUE(parse(R"({"inputs":[
    {"name":"a","shape":[2],"datatype":"INT8","data":[-5,7]},
    {"name":"b","shape":[2],"datatype":"UINT16","data":[65535,1]},
    {"name":"c","shape":[1],"datatype":"INT64","data":[-9007199254740993]},
    {"name":"d","shape":[1],"datatype":"UINT64","data":[18446744073709551615]},
    {"name":"e","shape":[3],"datatype":"BOOL","data":[true,false,true]},
    {"name":"f","shape":[1],"datatype":"FP64","data":[0.1]}]})", &r).ok());
  const auto& ins = r.request.inputs;
  EXPECT_EQ(values<int8_t>(ins[0]), (std::vector<int8_t>{-5, 7}));
  EXPECT_EQ(values<uint16_t>(ins[1]), (std::vector<uint16_t>{65535, 1}));
  EXPECT_EQ(values<int64_t>(ins[2]), (std::vector<int64_t>{-9007199254740993LL}));
  EXPECT_EQ(values<uint64_t>(ins[3]), (std::vector<uint64_t>{18446744073709551615ULL}));
  EXPECT_EQ(values<uint8_t>(ins[4]), (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(values<double>(ins[5]), (std::vector<double>{0.1}));
}

TEST(KserveRestParse, JsonBytesArePacked) {
  RestInferRequest r;
  ASSERT_TRUE(parse(R"({"inputs":[{"name":"s","shape":[2],"datatype":"BYTES","data":["ab",""]}]})", &r).ok());
  const auto& in = r.request.inputs[0];
  EXPECT_EQ(in.tensor.precision, Precision::STRING);
  EXPECT_EQ(in.value_count, 2);
  EXPECT_EQ(std::string(static_cast<const char*>(in.tensor.data), in.tensor.bytes), packed({"ab", ""}));
}

TEST(KserveRestParse, JsonValueTypeErrors) {
  struct Case {
    const char* body;
    StatusCode code;
  } cases[] = {
      {R"({"inputs":[{"name":"b","shape":[1],"datatype":"FP32","data":["x"]}]})", StatusCode::REST_COULD_NOT_PARSE_INPUT},
      {R"({"inputs":[{"name":"b","shape":[1],"datatype":"INT32","data":[1.5]}]})", StatusCode::REST_COULD_NOT_PARSE_INPUT},
      {R"({"inputs":[{"name":"b","shape":[1],"datatype":"UINT8","data":[-1]}]})", StatusCode::REST_COULD_NOT_PARSE_INPUT},
      {R"({"inputs":[{"name":"b","shape":[1],"datatype":"BOOL","data":[1]}]})", StatusCode::REST_COULD_NOT_PARSE_INPUT},
      // Out of the datatype's range: rejected, never wrapped (an INT8 300 used to become 44).
      {R"({"inputs":[{"name":"b","shape":[1],"datatype":"INT8","data":[300]}]})", StatusCode::REST_COULD_NOT_PARSE_INPUT},
      {R"({"inputs":[{"name":"b","shape":[1],"datatype":"INT16","data":[-40000]}]})", StatusCode::REST_COULD_NOT_PARSE_INPUT},
      {R"({"inputs":[{"name":"b","shape":[1],"datatype":"UINT8","data":[256]}]})", StatusCode::REST_COULD_NOT_PARSE_INPUT},
      {R"({"inputs":[{"name":"b","shape":[1],"datatype":"UINT16","data":[70000]}]})", StatusCode::REST_COULD_NOT_PARSE_INPUT},
      {R"({"inputs":[{"name":"b","shape":[1],"datatype":"INT32","data":[2147483648]}]})", StatusCode::REST_COULD_NOT_PARSE_INPUT},
      {R"({"inputs":[{"name":"b","shape":[1],"datatype":"UINT32","data":[4294967296]}]})", StatusCode::REST_COULD_NOT_PARSE_INPUT},
      {R"({"inputs":[{"name":"b","shape":[1],"datatype":"FP32","data":[1e300]}]})", StatusCode::REST_COULD_NOT_PARSE_INPUT},
      {R"({"inputs":[{"name":"b","shape":[2],"datatype":"FP32","data":[1.0,"x"]}]})", StatusCode::REST_COULD_NOT_PARSE_INPUT},
      {R"({"inputs":[{"name":"b","shape":[1],"datatype":"BYTES","data":[1]}]})", StatusCode::REST_COULD_NOT_PARSE_INPUT},
      {R"({"inputs":[{"name":"b","shape":[1],"datatype":"FP16","data":[1.0]}]})", StatusCode::REST_UNSUPPORTED_PRECISION},
      {R"({"inputs":[{"name":"b","shape":[1],"datatype":"BF16","data":[1.0]}]})", StatusCode::REST_UNSUPPORTED_PRECISION},
      {R"({"inputs":[{"name":"b","shape":[1],"datatype":"FP32","data":1.0}]})", StatusCode::REST_COULD_NOT_PARSE_INPUT},
      {R"({"inputs":[{"shape":[1],"datatype":"FP32","data":[1]}]})", StatusCode::REST_COULD_NOT_PARSE_INPUT},
      {R"({"inputs":[{"name":"b","datatype":"FP32","data":[1]}]})", StatusCode::REST_COULD_NOT_PARSE_INPUT},
      {R"({"inputs":[{"name":"b","shape":[1],"data":[1]}]})", StatusCode::REST_COULD_NOT_PARSE_INPUT},
      {R"({"inputs":[{"name":"b","shape":[1.5],"datatype":"FP32","data":[1]}]})", StatusCode::REST_COULD_NOT_PARSE_INPUT},
      {R"({"inputs":[1]})", StatusCode::REST_COULD_NOT_PARSE_INPUT},
      {R"({"inputs":{}})", StatusCode::REST_COULD_NOT_PARSE_INPUT},
      {R"({"id":"x"})", StatusCode::REST_NO_INPUTS_FOUND},
      {R"({"id":5,"inputs":[]})", StatusCode::REST_COULD_NOT_PARSE_INPUT},
      {R"([1,2])", StatusCode::REST_BODY_NOT_AN_OBJECT},
      {R"({"inputs":[)", StatusCode::JSON_INVALID},
      {R"({"inputs":[],"parameters":{"a":1.5}})", StatusCode::REST_COULD_NOT_PARSE_PARAMETERS},
      {R"({"inputs":[],"parameters":[]})", StatusCode::REST_COULD_NOT_PARSE_PARAMETERS},
      {R"({"inputs":[],"outputs":[{"nam":"a"}]})", StatusCode::REST_COULD_NOT_PARSE_OUTPUT},
      {R"({"inputs":[],"outputs":{}})", StatusCode::REST_COULD_NOT_PARSE_OUTPUT},
      {R"({"inputs":[{"name":"b","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":"4"}}]})",
       StatusCode::REST_BINARY_DATA_SIZE_PARAMETER_INVALID},
      {R"({"inputs":[{"name":"b","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":-1}}]})",
       StatusCode::REST_BINARY_DATA_SIZE_PARAMETER_INVALID},
  };
  for (const auto& c : cases) {
    RestInferRequest r;
    EXPECT_EQ(parse(c.body, &r).code(), c.code) << c.body;
  }
}

TEST(KserveRestParse, TooDeepIsInvalidJson) {
  std::string body = R"({"inputs":[{"name":"b","shape":[1],"datatype":"FP32","data":)" + std::string(120, '[') + "1" +
                     std::string(120, ']') + "}]}";
  RestInferRequest r;
  EXPECT_EQ(parse(body, &r).code(), StatusCode::JSON_INVALID);
}

TEST(KserveRestParse, ParametersAndOutputs) {
  RestInferRequest r;
  ASSERT_TRUE(parse(R"({"inputs":[],"parameters":{"binary_data_output":true,"x":"y","n":3},
      "outputs":[{"name":"a","parameters":{"binary_data":false}},{"name":"b"}]})", &r).ok());
  EXPECT_TRUE(r.binary_data_output);
  ASSERT_EQ(r.outputs.size(), 2u);
  EXPECT_EQ(r.outputs[0].name, "a");
  EXPECT_TRUE(r.outputs[0].has_binary_data);
  EXPECT_FALSE(r.outputs[0].binary_data);
  EXPECT_FALSE(r.outputs[1].has_binary_data);
}

TEST(KserveRestParse, BinaryExtensionViewsBodyInPlace) {
  std::string json = R"({"inputs":[{"name":"x","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}},)"
                     R"({"name":"y","shape":[1],"datatype":"INT32","data":[7]},)"
                     R"({"name":"z","shape":[3],"datatype":"UINT8"}]})";
  float f[2] = {1.5f, -2.0f};
  std::string body = json;
  body.append(reinterpret_cast<const char*>(f), sizeof(f));
  body += std::string("\x01\x02\x03", 3);
  std::string header = std::to_string(json.size());
  RestInferRequest r;
  ASSERT_TRUE(parse(body, &r, &header).ok());
  const auto& ins = r.request.inputs;
  EXPECT_EQ(ins[0].tensor.data, body.data() + json.size());  // zero copy
  EXPECT_FALSE(ins[0].typed_values);
  EXPECT_EQ(values<float>(ins[0]), (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(values<int32_t>(ins[1]), (std::vector<int32_t>{7}));
  EXPECT_EQ(values<uint8_t>(ins[2]), (std::vector<uint8_t>{1, 2, 3}));  // size from shape x datatype
}

TEST(KserveRestParse, BinaryBytesInputs) {
  // A lone BYTES input without binary_data_size takes all of the binary part.
  std::string json = R"({"inputs":[{"name":"s","shape":[2],"datatype":"BYTES"}]})";
  std::string body = json + packed({"hello", "w"});
  std::string header = std::to_string(json.size());
  RestInferRequest r;
  ASSERT_TRUE(parse(body, &r, &header).ok());
  EXPECT_EQ(r.request.inputs[0].value_count, 2);
  EXPECT_TRUE(r.request.inputs[0].typed_values);

  // With another input, BYTES needs binary_data_size.
  json = R"({"inputs":[{"name":"s","shape":[1],"datatype":"BYTES"},{"name":"t","shape":[1],"datatype":"INT8","data":[1]}]})";
  body = json + packed({"a"});
  header = std::to_string(json.size());
  RestInferRequest r2;
  EXPECT_EQ(parse(body, &r2, &header).code(), StatusCode::REST_COULD_NOT_PARSE_INPUT);

  // Malformed length prefix.
  json = R"({"inputs":[{"name":"s","shape":[1],"datatype":"BYTES","parameters":{"binary_data_size":6}}]})";
  body = json + std::string("\x09\x00\x00\x00xy", 6);
  header = std::to_string(json.size());
  RestInferRequest r3;
  Status st = parse(body, &r3, &header);
  EXPECT_EQ(st.code(), StatusCode::INVALID_CONTENT_SIZE);
  EXPECT_EQ(st.message(), "Invalid content size of tensor proto - Batch length metadata exceeded buffer size, "
                          "buffer size: 6, batch length: 9; input name: s");
}

TEST(KserveRestParse, BinaryExtensionErrors) {
  std::string json = R"({"inputs":[{"name":"x","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}}]})";
  std::string body = json + std::string(4, '\0');
  std::string header = std::to_string(json.size());
  RestInferRequest r;
  EXPECT_EQ(parse(body, &r, &header).code(), StatusCode::REST_BINARY_BUFFER_EXCEEDED);
  EXPECT_EQ(parse(body, &r, &header).message(),
            "Received buffer size is smaller than binary_data_size parameter indicates");

  for (std::string bad : {"abc", "-1", "", "12x"}) {
    RestInferRequest r2;
    EXPECT_EQ(parse(body, &r2, &bad).code(), StatusCode::REST_INFERENCE_HEADER_CONTENT_LENGTH_INVALID) << bad;
  }
  std::string huge = std::to_string(body.size() + 1);
  RestInferRequest r3;
  EXPECT_EQ(parse(body, &r3, &huge).code(), StatusCode::REST_INFERENCE_HEADER_CONTENT_LENGTH_EXCEEDED);

  json = R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1],"parameters":{"binary_data_size":4}}]})";
  body = json + std::string(4, '\0');
  header = std::to_string(json.size());
  RestInferRequest r4;
  EXPECT_EQ(parse(body, &r4, &header).code(), StatusCode::REST_CONTENTS_FIELD_NOT_EMPTY);

  // No data, no size and no binary part: the shape asks for bytes that are not there.
  RestInferRequest r5;
  EXPECT_EQ(parse(R"({"inputs":[{"name":"x","shape":[2],"datatype":"FP32"}]})", &r5).code(),
            StatusCode::REST_BINARY_BUFFER_EXCEEDED);
}

namespace {

serving::InferenceOutput output(const std::string& name, Precision p, engine::Shape shape, const void* data, size_t bytes) {
  serving::InferenceOutput o;
  o.name = name;
  o.tensor.precision = p;
  o.tensor.shape = std::move(shape);
  o.tensor.data = data;
  o.tensor.bytes = bytes;
  return o;
}

}  // namespace

TEST(KserveRestResponse, PrettyJsonWithSingleLineArrays) {
  float a[4] = {2.0f, 0.5f, -1.0f, 3.25f};
  int64_t b[2] = {-3, 4};
  serving::InferenceResponse resp;
  resp.outputs.push_back(output("a", Precision::FP32, {2, 2}, a, sizeof(a)));
  resp.outputs.push_back(output("b", Precision::I64, {2}, b, sizeof(b)));
  RestInferRequest req;
  req.id = "req-1";
  std::string body;
  size_t json_length = 123;
  bool has_binary = true;
  ASSERT_TRUE(makeInferResponse("m", 3, req, resp, &body, &json_length, &has_binary).ok());
  EXPECT_FALSE(has_binary);
  EXPECT_EQ(json_length, 0u);
  EXPECT_EQ(body, R"({
    "model_name": "m",
    "id": "req-1",
    "model_version": "3",
    "outputs": [{
            "name": "a",
            "shape": [2, 2],
            "datatype": "FP32",
            "data": [2.0, 0.5, -1.0, 3.25]
        }, {
            "name": "b",
            "shape": [2],
            "datatype": "INT64",
            "data": [-3, 4]
        }]
})");
}

TEST(KserveRestResponse, NoIdWhenEmptyAndOtherTypes) {
  uint8_t flags[2] = {1, 0};
  std::string strings = packed({"x", "yz"});
  uint16_t half[1] = {0x3c00};  // 1.0
  serving::InferenceResponse resp;
  resp.outputs.push_back(output("f", Precision::BOOL, {2}, flags, 2));
  resp.outputs.push_back(output("s", Precision::STRING, {2}, strings.data(), strings.size()));
  resp.outputs.push_back(output("h", Precision::FP16, {1}, half, 2));
  RestInferRequest req;
  std::string body;
  size_t json_length = 0;
  bool has_binary = false;
  ASSERT_TRUE(makeInferResponse("m", 1, req, resp, &body, &json_length, &has_binary).ok());
  EXPECT_EQ(body.find("\"id\""), std::string::npos);
  EXPECT_NE(body.find("\"data\": [true, false]"), std::string::npos) << body;
  EXPECT_NE(body.find("\"data\": [\"x\", \"yz\"]"), std::string::npos) << body;
  EXPECT_NE(body.find("\"data\": [1.0]"), std::string::npos) << body;
}

// The "data" arrays are written outside rapidjson's writer (speed); their bytes must be exactly what
// rapidjson's PrettyWriter (kFormatSingleLineArray, as OVMS) writes, for every numeric precision.
TEST(KserveRestResponse, DataArraysAreByteIdenticalToRapidjsonsWriter) {
  std::mt19937_64 rng(20261127);
  auto bits = [&](void* dst, size_t bytes) {
    for (size_t i = 0; i < bytes; ++i) static_cast<uint8_t*>(dst)[i] = static_cast<uint8_t>(rng());
  };
  const size_t n = 3000;
  for (Precision p : {Precision::FP32, Precision::FP64, Precision::FP16, Precision::BF16, Precision::I8, Precision::I16,
                      Precision::I32, Precision::I64, Precision::U8, Precision::U16, Precision::U32, Precision::U64,
                      Precision::BOOL}) {
    const size_t es = engine::elementSize(p);
    std::vector<uint8_t> data(n * es);
    bits(data.data(), data.size());
    // Random bit patterns cover the whole range; add values that matter most in practice.
    if (p == Precision::FP32) {
      std::uniform_real_distribution<float> u(-1.0f, 1.0f);
      const float specials[] = {0.0f, -0.0f, 1.0f, 0.1f, 1e-7f, 3.4028235e38f, 1.17549435e-38f, 1e-45f, 1e21f, 1e-6f, 123456.0f};
      for (size_t i = 0; i < n; ++i) {
        float v = i < sizeof(specials) / sizeof(float) ? specials[i] : (i % 2 ? u(rng) : u(rng) * 1000.0f);
        std::memcpy(data.data() + i * 4, &v, 4);
      }
    }
    if (p == Precision::BOOL)
      for (auto& b : data) b = b % 3 == 0 ? 0 : 1;
    // Non-finite values are written in the server's own spelling (covered elsewhere): keep them out.
    rapidjson::StringBuffer expected_buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(expected_buf);
    w.SetFormatOptions(rapidjson::kFormatSingleLineArray);
    w.StartArray();
    for (size_t i = 0; i < n; ++i) {
      const uint8_t* e = data.data() + i * es;
      auto finite = [&](double v) {
        if (!std::isfinite(v)) v = 0.25;  // replace in the data too
        return v;
      };
      switch (p) {
        case Precision::FP32: { float v; std::memcpy(&v, e, 4); if (!std::isfinite(v)) { v = 0.25f; std::memcpy(data.data() + i * 4, &v, 4); } w.Double(v); break; }
        case Precision::FP64: { double v; std::memcpy(&v, e, 8); if (!std::isfinite(v)) { v = finite(v); std::memcpy(data.data() + i * 8, &v, 8); } w.Double(v); break; }
        case Precision::FP16: { uint16_t h; std::memcpy(&h, e, 2); if (!std::isfinite(engine::halfToFloat(h))) { h = 0x3400; std::memcpy(data.data() + i * 2, &h, 2); } w.Double(engine::halfToFloat(h)); break; }
        case Precision::BF16: { uint16_t h; std::memcpy(&h, e, 2); if (!std::isfinite(engine::bf16ToFloat(h))) { h = 0x3e80; std::memcpy(data.data() + i * 2, &h, 2); } w.Double(engine::bf16ToFloat(h)); break; }
        case Precision::I8: { int8_t v; std::memcpy(&v, e, 1); w.Int(v); break; }
        case Precision::I16: { int16_t v; std::memcpy(&v, e, 2); w.Int(v); break; }
        case Precision::I32: { int32_t v; std::memcpy(&v, e, 4); w.Int(v); break; }
        case Precision::I64: { int64_t v; std::memcpy(&v, e, 8); w.Int64(v); break; }
        case Precision::U8: w.Uint(*e); break;
        case Precision::U16: { uint16_t v; std::memcpy(&v, e, 2); w.Uint(v); break; }
        case Precision::U32: { uint32_t v; std::memcpy(&v, e, 4); w.Uint(v); break; }
        case Precision::U64: { uint64_t v; std::memcpy(&v, e, 8); w.Uint64(v); break; }
        case Precision::BOOL: w.Bool(*e != 0); break;
        default: FAIL();
      }
    }
    w.EndArray();
    serving::InferenceResponse resp;
    resp.outputs.push_back(output("t", p, {static_cast<int64_t>(n)}, data.data(), data.size()));
    RestInferRequest req;
    std::string body;
    size_t json_length = 0;
    bool has_binary = false;
    ASSERT_TRUE(makeInferResponse("m", 1, req, resp, &body, &json_length, &has_binary).ok());
    const std::string want = std::string("\"data\": ") + expected_buf.GetString() + "\n";
    ASSERT_NE(body.find(want), std::string::npos) << engine::precisionName(p) << ": " << body.substr(0, 400);
  }
}

TEST(KserveRestResponse, BinaryOutputs) {
  float a[2] = {1.0f, 2.0f};
  int32_t b[1] = {5};
  serving::InferenceResponse resp;
  resp.outputs.push_back(output("a", Precision::FP32, {2}, a, sizeof(a)));
  resp.outputs.push_back(output("b", Precision::I32, {1}, b, sizeof(b)));
  RestInferRequest req;
  req.binary_data_output = true;
  req.outputs.push_back({"b", true, false});  // per-output binary_data:false overrides
  std::string body;
  size_t json_length = 0;
  bool has_binary = false;
  ASSERT_TRUE(makeInferResponse("m", 1, req, resp, &body, &json_length, &has_binary).ok());
  ASSERT_TRUE(has_binary);
  ASSERT_EQ(body.size(), json_length + sizeof(a));
  std::string json = body.substr(0, json_length);
  EXPECT_NE(json.find(R"("parameters": {
                "binary_data_size": 8
            })"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"data\": [5]"), std::string::npos) << json;
  EXPECT_EQ(std::memcmp(body.data() + json_length, a, sizeof(a)), 0);
}

TEST(KserveRestResponse, Metadata) {
  EXPECT_EQ(serverMetadataJson().rfind(R"({"name":"OpenVINO Model Server","version":")", 0), 0u);
  inference::ModelMetadataResponse m;
  m.set_name("dummy");
  m.add_versions("1");
  m.add_versions("2");
  m.set_platform("OpenVINO");
  auto* i = m.add_inputs();
  i->set_name("b");
  i->set_datatype("FP32");
  i->add_shape(1);
  i->add_shape(-1);
  auto* o = m.add_outputs();
  o->set_name("a");
  o->set_datatype("FP32");
  o->add_shape(1);
  EXPECT_EQ(modelMetadataJson(m, {}),
            R"({"name":"dummy","versions":["1","2"],"platform":"OpenVINO","inputs":[{"name":"b","datatype":"FP32","shape":[1,-1]}],"outputs":[{"name":"a","datatype":"FP32","shape":[1]}]})");
  EXPECT_EQ(modelMetadataJson(m, {{"model_type", "classifier"}}),
            R"({"name":"dummy","versions":["1","2"],"platform":"OpenVINO","inputs":[{"name":"b","datatype":"FP32","shape":[1,-1]}],"outputs":[{"name":"a","datatype":"FP32","shape":[1]}],"rt_info":{"model_info":{"model_type":"classifier"}}})");
}

TEST(KserveTensor, GrpcDecodeTypedAndRaw) {
  inference::ModelInferRequest req;
  auto* in = req.add_inputs();
  in->set_name("x");
  in->set_datatype("FP32");
  in->add_shape(2);
  in->mutable_contents()->add_fp32_contents(1.0f);
  in->mutable_contents()->add_fp32_contents(2.0f);
  auto* in2 = req.add_inputs();
  in2->set_name("y");
  in2->set_datatype("INT8");
  in2->add_shape(1);
  in2->mutable_contents()->add_int_contents(-3);
  serving::InferenceRequest d;
  ASSERT_TRUE(decodeInferRequest(req, 2, &d).ok());
  EXPECT_EQ(d.inputs[0].tensor.data, req.inputs(0).contents().fp32_contents().data());  // viewed
  EXPECT_EQ(d.inputs[0].value_count, 2);
  EXPECT_EQ(values<int8_t>(d.inputs[1]), (std::vector<int8_t>{-3}));
  EXPECT_EQ(d.inputs[1].client_datatype, "INT8");
  // Out of INT8's range: rejected, not wrapped (300 would become 44).
  req.mutable_inputs(1)->mutable_contents()->set_int_contents(0, 300);
  EXPECT_EQ(decodeInferRequest(req, 2, &d).code(), StatusCode::INVALID_INPUT_FORMAT);
  req.mutable_inputs(1)->mutable_contents()->set_int_contents(0, -3);

  EXPECT_EQ(decodeInferRequest(req, 3, &d).message(), "Invalid number of inputs - Expected: 3; Actual: 2");
  req.add_raw_input_contents("abcd");
  EXPECT_EQ(decodeInferRequest(req, 2, &d).message(),
            "Passing buffers both in ModelInferRequest::InferInputTensor::contents and in "
            "ModelInferRequest::raw_input_contents is not allowed - Passing buffers both in InferInputTensor contents "
            "and in raw_input_contents is not allowed. Detected buffer in InferInputTensor contents for input: x");
  req.mutable_inputs(0)->clear_contents();
  req.mutable_inputs(1)->clear_contents();
  EXPECT_EQ(decodeInferRequest(req, 2, &d).code(), StatusCode::INVALID_MESSAGE_STRUCTURE);
  req.add_raw_input_contents("z");
  ASSERT_TRUE(decodeInferRequest(req, 2, &d).ok());
  EXPECT_EQ(d.inputs[0].tensor.data, req.raw_input_contents(0).data());
  EXPECT_FALSE(d.inputs[0].typed_values);
}
