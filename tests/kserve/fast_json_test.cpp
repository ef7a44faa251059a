// The fast JSON path of KServe REST (api/common/json_fast.h, simdjson) against the rapidjson
// reference path: for every body, parseInferRequest must give exactly what
// parseInferRequestReference gives (status, id, requested outputs, every input).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "api/kserve/kserve_rest.h"

using namespace ovms;
using namespace ovms::api::kserve;

namespace {

void expectSame(const std::string& body) {
  SCOPED_TRACE(body.size() > 300 ? body.substr(0, 300) + "..." : body);
  RestInferRequest f, r;
  f.request.model_name = r.request.model_name = "m";  // the caller's, kept
  Status fs = parseInferRequest(body, nullptr, &f, body.capacity());
  Status rs = parseInferRequestReference(body, nullptr, &r);
  ASSERT_EQ(fs.code(), rs.code()) << fs.message() << " / " << rs.message();
  EXPECT_EQ(fs.message(), rs.message());
  if (!rs.ok()) return;
  EXPECT_EQ(f.request.model_name, "m");
  EXPECT_EQ(f.id, r.id);
  EXPECT_EQ(f.request.id, r.request.id);
  EXPECT_EQ(f.binary_data_output, r.binary_data_output);
  EXPECT_EQ(f.request.requested_outputs, r.request.requested_outputs);
  ASSERT_EQ(f.outputs.size(), r.outputs.size());
  for (size_t i = 0; i < r.outputs.size(); ++i) {
    EXPECT_EQ(f.outputs[i].name, r.outputs[i].name);
    EXPECT_EQ(f.outputs[i].has_binary_data, r.outputs[i].has_binary_data);
    EXPECT_EQ(f.outputs[i].binary_data, r.outputs[i].binary_data);
  }
  ASSERT_EQ(f.request.inputs.size(), r.request.inputs.size());
  for (size_t i = 0; i < r.request.inputs.size(); ++i) {
    const auto &a = f.request.inputs[i], &b = r.request.inputs[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.client_datatype, b.client_datatype);
    EXPECT_EQ(a.tensor.precision, b.tensor.precision);
    EXPECT_EQ(a.storage.precision, b.storage.precision);
    EXPECT_EQ(a.tensor.shape, b.tensor.shape);
    EXPECT_EQ(a.storage.shape, b.storage.shape);
    EXPECT_EQ(a.value_count, b.value_count);
    EXPECT_EQ(a.typed_values, b.typed_values);
    ASSERT_EQ(a.tensor.bytes, b.tensor.bytes);
    if (a.tensor.bytes) {
      EXPECT_EQ(std::memcmp(a.tensor.data, b.tensor.data, a.tensor.bytes), 0) << a.name;
    }
  }
}

std::string randomNumber(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> kind(0, 6), digits(1, 25), exp(-45, 45);
  std::uniform_real_distribution<double> unit(-1, 1);
  char buf[64];
  switch (kind(rng)) {
    case 0: std::snprintf(buf, sizeof buf, "%d", static_cast<int>(unit(rng) * 300)); break;
    case 1: std::snprintf(buf, sizeof buf, "%.*e", digits(rng) - 1, unit(rng) * std::pow(10.0, exp(rng))); break;
    case 2: std::snprintf(buf, sizeof buf, "%.*g", digits(rng), unit(rng)); break;
    case 3: std::snprintf(buf, sizeof buf, "%.9g", static_cast<float>(unit(rng) * 255)); break;
    case 4: std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(unit(rng) * 9e18)); break;
    case 5: return unit(rng) < 0 ? "-0" : "-0.0";
    default: std::snprintf(buf, sizeof buf, "%.17g", unit(rng) * 1e6); break;
  }
  return buf;
}

}  // namespace

TEST(KserveRestFastJson, RandomNumbersEveryDatatype) {
  std::mt19937_64 rng(20261127);
  for (const char* dt : {"FP32", "FP64", "INT8", "UINT8", "INT16", "UINT16", "INT32", "UINT32", "INT64", "UINT64",
                         "BOOL", "FP16", "BF16", "BYTES", "NOPE"}) {
    for (int round = 0; round < 40; ++round) {
      std::string row = "[";
      for (int i = 0; i < 4; ++i) row += (i ? "," : "") + randomNumber(rng);
      row += "]";
      expectSame(std::string(R"({"inputs":[{"name":"x","shape":[2,4],"datatype":")") + dt + R"(","data":[)" + row +
                 "," + row + "]}]}");
      expectSame(std::string(R"({"inputs":[{"name":"x","shape":[4],"datatype":")") + dt + R"(","data":)" + row + "}]}");
    }
    expectSame(std::string(R"({"inputs":[{"name":"x","shape":[4],"datatype":")") + dt + R"(","data":[0,1,1,0]}]})");
    expectSame(std::string(R"({"inputs":[{"name":"x","shape":[2],"datatype":")") + dt + R"(","data":[true,false]}]})");
  }
}

TEST(KserveRestFastJson, StructureAndErrorsAsTheReference) {
  const char* bodies[] = {
      R"({"id":"abc","inputs":[{"name":"b","shape":[2,2],"datatype":"FP32","data":[[1,2.5],[3,4]]}]})",
      R"({"inputs":[{"name":"b","shape":[2,2],"datatype":"FP32","data":[1,2.5,3,4]}]})",
      R"({"inputs":[{"name":"b","shape":[3],"datatype":"FP32","data":[[1],[2,[3]]]}]})",  // ragged: counted
      R"({"inputs":[{"name":"b","shape":[3],"datatype":"FP32","data":[]}]})",
      R"({"inputs":[{"name":"b","shape":[1],"datatype":"FP32","data":1}]})",
      R"({"inputs":[{"name":"b","shape":[1],"datatype":"FP32","data":["1"]}]})",
      R"({"inputs":[{"name":"b","shape":[1],"datatype":"INT32","data":[1.0]}]})",        // strict typing
      R"({"inputs":[{"name":"b","shape":[1],"datatype":"INT8","data":[300]}]})",
      R"({"inputs":[{"name":"b","shape":[1],"datatype":"UINT64","data":[18446744073709551616]}]})",
      R"({"inputs":[{"name":"b","shape":[1],"datatype":"FP32","data":[1e400]}]})",
      R"({"inputs":[{"name":"b","shape":[1],"datatype":"FP32","data":[1e39]}]})",
      R"({"inputs":[{"name":"b","shape":[1.5],"datatype":"FP32","data":[1]}]})",
      R"({"inputs":[{"name":"b","shape":[-1],"datatype":"FP32","data":[1]}]})",
      R"({"inputs":[{"name":"b","shape":[9223372036854775808],"datatype":"FP32","data":[1]}]})",
      R"({"inputs":[{"name":1,"shape":[1],"datatype":"FP32","data":[1]}]})",
      R"({"inputs":[{"shape":[1],"datatype":"FP32","data":[1]}]})",
      R"({"inputs":[{"name":"b","name":"c","shape":[1],"datatype":"FP32","data":[1]}]})",
      R"({"inputs":[{"name":"b","shape":[1],"datatype":"FP32","data":[1],"extra":{"k":[1]}}]})",
      R"({"inputs":[{"name":"b","shape":[1],"datatype":"FP32","data":[1],"parameters":{"x":1}}]})",
      R"({"inputs":[{"name":"b","shape":[1],"datatype":"FP32","data":[1],"parameters":{"binary_data_size":4}}]})",
      R"({"inputs":[{"name":"b","shape":[2],"datatype":"BYTES","data":["a","bc"]}]})",
      R"({"inputs":[{"name":"b","shape":[1],"datatype":"FP32"}]})",
      R"({"inputs":[]})",
      R"({"inputs":{}})",
      R"({"inputs":[1]})",
      R"({"id":5,"inputs":[]})",
      R"({"id":"a","id":"b","inputs":[]})",
      R"({"parameters":{"binary_data_output":true},"inputs":[{"name":"b","shape":[1],"datatype":"FP32","data":[1]}]})",
      R"({"parameters":{"binary_data_output":1},"inputs":[]})",
      R"({"parameters":{"binary_data_output":1.5},"inputs":[]})",
      R"({"parameters":[],"inputs":[]})",
      R"({"outputs":[{"name":"y"},{"name":"z","parameters":{"binary_data":true}}],"inputs":[]})",
      R"({"outputs":[{"name":"y","parameters":{"binary_data":"yes"}}],"inputs":[]})",
      R"({"outputs":[{"name":"y","parameters":{"binary_data":1e3}}],"inputs":[]})",
      R"({"outputs":[{"nam":"y"}],"inputs":[]})",
      R"({"outputs":{},"inputs":[]})",
      R"({"outputs":[1],"inputs":[]})",
      R"({"inputs":[{"name":"b","shape":[1],"datatype":"FP32","data":[1]}]} x)",
      R"({"inputs":[{"name":"b","shape":[1],"datatype":"FP32","data":[1,]}]})",
      R"({"inputs":[{"name":"\ud800","shape":[1],"datatype":"FP32","data":[1]}]})",
      "{\"inputs\":[{\"name\":\"\xff\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}",
      R"({})",
      R"([])",
      "",
  };
  for (const char* b : bodies) expectSame(b);
}

TEST(KserveRestFastJson, LargeTensor) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> unit(-2.5f, 2.5f);
  std::string body = R"({"id":"big","inputs":[{"name":"x","shape":[1,3,64,64],"datatype":"FP32","data":[)";
  char buf[32];
  for (int i = 0; i < 3 * 64 * 64; ++i) {
    std::snprintf(buf, sizeof buf, "%s%.9g", i ? "," : "", unit(rng));
    body += buf;
  }
  body += "]}],\"outputs\":[{\"name\":\"y\"}]}";
  expectSame(body);
}

TEST(KserveRestFastJson, ZerosWithManyDigitsAreZero) {
  // rapidjson 1.1.0 (the reference path) reads a 70-digit 0.000...0 as 1.7e243 (an undefined
  // __builtin_clzll(0)), so FP32 rejected it; the fast path reads 0 as every correct parser does.
  const std::string zero = "0." + std::string(70, '0');
  std::string body = R"({"inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[)" + zero + ",-" + zero + "]}]}";
  RestInferRequest r;
  Status st = parseInferRequest(body, nullptr, &r, body.capacity());
  ASSERT_TRUE(st.ok()) << st.message();
  float v[2];
  ASSERT_EQ(r.request.inputs[0].tensor.bytes, sizeof v);
  std::memcpy(v, r.request.inputs[0].tensor.data, sizeof v);
  EXPECT_EQ(v[0], 0.0f);
  EXPECT_EQ(v[1], 0.0f);
  EXPECT_TRUE(std::signbit(v[1]));
}

TEST(KserveRestFastJson, MutatedBodiesAsTheReference) {
  // Random edits of valid bodies (bytes JSON is made of): whatever the result, both paths agree.
  const std::string seeds[] = {
      R"({"id":"q","inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[[1.5,-2],[3e2,4]]}]})",
      R"({"inputs":[{"name":"x","shape":[3],"datatype":"INT32","data":[1,2,3]}],"outputs":[{"name":"y"}]})",
      R"({"parameters":{"binary_data_output":true},"inputs":[{"name":"b","shape":[2],"datatype":"BOOL","data":[true,false]}]})",
  };
  const char alphabet[] = "{}[],:\"0123456789.-+eE tfnulrsab\\x";
  std::mt19937_64 rng(99);
  for (int i = 0; i < 3000; ++i) {
    std::string body = seeds[i % 3];
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
    expectSame(body);
  }
}

TEST(KserveRestFastJson, NestingLimitAtTheBoundary) {
  // Object, inputs array, input object: 3 levels; then `arrays` levels of data. 100 levels in all
  // are fine, 101 are JSON_INVALID (OVMS), on the fast path as on the reference path.
  auto body = [](int arrays) {
    return R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":)" + std::string(arrays, '[') + "1" +
           std::string(arrays, ']') + "}]}";
  };
  RestInferRequest ok;
  std::string b97 = body(97), b98 = body(98);
  Status st = parseInferRequest(b97, nullptr, &ok, b97.capacity());
  EXPECT_TRUE(st.ok()) << st.message();
  RestInferRequest deep;
  EXPECT_EQ(parseInferRequest(b98, nullptr, &deep, b98.capacity()).code(), StatusCode::JSON_INVALID);
  expectSame(b97);
  expectSame(b98);
}
