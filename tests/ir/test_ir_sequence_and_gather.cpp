// CTCGreedyDecoder / CTCGreedyDecoderSeqLen (licence-plate and text recognisers), Gather with batch_dims other
// than its axis, and the clear load errors for what the translator still refuses (issue 12 points 4 and 5).
#include <algorithm>
#include <cmath>

#include "ops_test_common.h"

using namespace irtest;
namespace ir = ovms::engine::ir;

namespace {

std::vector<float> scores(size_t n, unsigned seed) {
  std::vector<float> v(n);
  unsigned s = seed;
  for (auto& x : v) {
    s = s * 1103515245u + 12345u;
    x = static_cast<float>((s >> 16) % 1000) / 1000.0f;
  }
  return v;
}

// Best-path decoding of one sequence of `steps` score rows, written from the operation's specification.
std::vector<int64_t> bestPath(const std::function<const float*(int64_t)>& row, int64_t steps, int64_t classes, int64_t blank, bool merge) {
  std::vector<int64_t> out;
  int64_t prev = -1;
  for (int64_t t = 0; t < steps; ++t) {
    const float* r = row(t);
    int64_t best = 0;
    for (int64_t c = 1; c < classes; ++c)
      if (r[c] > r[best]) best = c;
    if (best != blank && !(merge && best == prev)) out.push_back(best);
    prev = best;
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
TEST(IrCtc, GreedyDecoderMatchesReference) {
  const int64_t T = 12, N = 3, C = 5;
  for (bool merge : {true, false}) {
    IrBuilder b;
    auto data = b.param("data", "f32", {T, N, C});
    auto mask = b.param("mask", "f32", {T, N});
    b.result(b.op("CTCGreedyDecoder", "opset1", {{"ctc_merge_repeated", merge ? "true" : "false"}}, {data, mask}, {{N, T, 1, 1}}));
    auto d = scores(static_cast<size_t>(T * N * C), 7);
    // Make repeats likely: copy some rows onto the next step.
    for (int64_t t = 1; t < T; t += 3)
      for (int64_t n = 0; n < N; ++n) std::copy_n(&d[static_cast<size_t>(((t - 1) * N + n) * C)], C, &d[static_cast<size_t>((t * N + n) * C)]);
    const int64_t lens[N] = {12, 7, 0};
    std::vector<float> m(static_cast<size_t>(T * N), 0.0f);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t t = 0; t < lens[n]; ++t) m[static_cast<size_t>(t * N + n)] = 1.0f;
    auto out = runAll(b, {{"data", Tensor::f32({T, N, C}, d)}, {"mask", Tensor::f32({T, N}, m)}});
    ASSERT_EQ(out[0].shape, (std::vector<int64_t>{N, T, 1, 1}));
    auto got = out[0].as<float>();
    for (int64_t n = 0; n < N; ++n) {
      auto ref = bestPath([&](int64_t t) { return &d[static_cast<size_t>((t * N + n) * C)]; }, lens[n], C, C - 1, merge);
      for (int64_t t = 0; t < T; ++t) {
        float want = t < static_cast<int64_t>(ref.size()) ? static_cast<float>(ref[static_cast<size_t>(t)]) : -1.0f;
        EXPECT_EQ(got[static_cast<size_t>(n * T + t)], want) << "merge " << merge << " batch " << n << " step " << t;
      }
    }
  }
}

TEST(IrCtc, GreedyDecoderSeqLenMatchesReference) {
  const int64_t N = 3, T = 10, C = 6;
  for (int blank_input : {-1, 0, 2}) {  // -1: no blank_index input (C - 1)
    for (bool merge : {true, false}) {
      IrBuilder b;
      auto data = b.param("data", "f32", {N, T, C});
      auto lens = b.param("lens", "i32", {N});
      std::vector<IrBuilder::Out> ins{data, lens};
      if (blank_input >= 0) ins.push_back(b.constant<int32_t>("i32", {}, {blank_input}));
      auto dec = b.op("CTCGreedyDecoderSeqLen", "opset6",
                      {{"merge_repeated", merge ? "true" : "false"}, {"classes_index_type", "i32"}, {"sequence_length_type", "i64"}}, ins, {{N, T}, {N}}, "i32",
                      {"i32", "i64"});
      b.result(dec);
      b.result({dec.id, dec.port + 1});
      auto d = scores(static_cast<size_t>(N * T * C), 11 + static_cast<unsigned>(blank_input + 1));
      for (int64_t n = 0; n < N; ++n)
        for (int64_t t = 2; t < T; t += 4) std::copy_n(&d[static_cast<size_t>((n * T + t - 1) * C)], C, &d[static_cast<size_t>((n * T + t) * C)]);
      std::vector<int32_t> len = {10, 4, 7};
      auto out = runAll(b, {{"data", Tensor::f32({N, T, C}, d)}, {"lens", Tensor::make(ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32, {N}, len)}});
      ASSERT_EQ(out[0].type, ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32);
      ASSERT_EQ(out[1].type, ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64);
      ASSERT_EQ(out[0].shape, (std::vector<int64_t>{N, T}));
      auto got = out[0].as<int32_t>();
      auto got_len = out[1].as<int64_t>();
      int64_t blank = blank_input < 0 ? C - 1 : blank_input;
      for (int64_t n = 0; n < N; ++n) {
        auto ref = bestPath([&](int64_t t) { return &d[static_cast<size_t>((n * T + t) * C)]; }, len[static_cast<size_t>(n)], C, blank, merge);
        EXPECT_EQ(got_len[static_cast<size_t>(n)], static_cast<int64_t>(ref.size())) << "blank " << blank << " merge " << merge;
        for (int64_t t = 0; t < T; ++t) {
          int32_t want = t < static_cast<int64_t>(ref.size()) ? static_cast<int32_t>(ref[static_cast<size_t>(t)]) : -1;
          EXPECT_EQ(got[static_cast<size_t>(n * T + t)], want) << "blank " << blank << " merge " << merge << " batch " << n << " step " << t;
        }
      }
    }
  }
}

TEST(IrCtc, SeqLenLongerThanTheSequenceIsARequestError) {
  IrBuilder b;
  auto dec = b.op("CTCGreedyDecoderSeqLen", "opset6", {}, {b.param("data", "f32", {1, 3, 4}), b.param("lens", "i32", {1})}, {{1, 3}, {1}}, "i32", {"i32", "i32"});
  b.result(dec);
  auto t = b.translate();
  Runner r(t.onnx_model);
  std::vector<int32_t> len = {5};
  EXPECT_THROW(r.run({{"data", Tensor::f32({1, 3, 4}, scores(12, 1))}, {"lens", Tensor::make(ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32, {1}, len)}}), Ort::Exception);
}

// ---------------------------------------------------------------------------------------------------------
// Gather-8 with 0 < batch_dims < axis: out[b, f, i, r] = data[b, f, idx[b, i], r].
TEST(IrGather, BatchDimsBeforeAxis) {
  struct Case {
    std::vector<int64_t> data_dims, idx_dims;
    int64_t axis, batch_dims;
  };
  for (const auto& cs : {Case{{2, 3, 4, 5}, {2, 2}, 2, 1}, Case{{2, 3, 4, 5}, {2, 3, 2}, 3, 2}, Case{{2, 3, 4}, {2, 2, 3}, 2, 1}, Case{{2, 3, 4}, {2}, 2, -1}}) {
    IrBuilder b;
    auto x = b.param("x", "f32", cs.data_dims);
    int64_t rank = static_cast<int64_t>(cs.data_dims.size()), ir = static_cast<int64_t>(cs.idx_dims.size());
    int64_t bd = cs.batch_dims < 0 ? cs.batch_dims + ir : cs.batch_dims;
    std::vector<int64_t> out_dims(cs.data_dims.begin(), cs.data_dims.begin() + cs.axis);
    out_dims.insert(out_dims.end(), cs.idx_dims.begin() + bd, cs.idx_dims.end());
    out_dims.insert(out_dims.end(), cs.data_dims.begin() + cs.axis + 1, cs.data_dims.end());
    int64_t n_idx = 1;
    for (auto v : cs.idx_dims) n_idx *= v;
    std::vector<int64_t> idx(static_cast<size_t>(n_idx));
    const int64_t len = cs.data_dims[static_cast<size_t>(cs.axis)];
    for (int64_t k = 0; k < n_idx; ++k) idx[static_cast<size_t>(k)] = (k * 3 + 1) % len - (k % 2 ? len : 0);  // some negative
    b.result(b.op("Gather", "opset8", {{"batch_dims", std::to_string(cs.batch_dims)}},
                  {x, b.param("idx", "i64", cs.idx_dims), b.i64({}, {cs.axis})}, {out_dims}));
    int64_t n = 1;
    for (auto v : cs.data_dims) n *= v;
    auto data = seq(static_cast<size_t>(n));
    std::vector<int64_t> shape;
    auto got = runF(b, {{"x", Tensor::f32(cs.data_dims, data)}, {"idx", Tensor::i64(cs.idx_dims, idx)}}, &shape);
    ASSERT_EQ(shape, out_dims);
    // Reference: iterate the output coordinates [batch (bd), free (axis - bd), index (ir - bd), rest].
    auto strides = [](const std::vector<int64_t>& d) {
      std::vector<int64_t> s(d.size(), 1);
      for (int64_t k = static_cast<int64_t>(d.size()) - 2; k >= 0; --k) s[static_cast<size_t>(k)] = s[static_cast<size_t>(k) + 1] * d[static_cast<size_t>(k) + 1];
      return s;
    };
    auto ds = strides(cs.data_dims), is = strides(cs.idx_dims);
    std::vector<int64_t> co(out_dims.size(), 0);
    for (size_t o = 0; o < got.size(); ++o) {
      int64_t rem = static_cast<int64_t>(o);
      auto os = strides(out_dims);
      for (size_t k = 0; k < out_dims.size(); ++k) {
        co[k] = rem / os[k];
        rem %= os[k];
      }
      int64_t ii = 0;
      for (int64_t k = 0; k < bd; ++k) ii += co[static_cast<size_t>(k)] * is[static_cast<size_t>(k)];
      for (int64_t k = bd; k < ir; ++k) ii += co[static_cast<size_t>(cs.axis + k - bd)] * is[static_cast<size_t>(k)];
      int64_t at = idx[static_cast<size_t>(ii)];
      if (at < 0) at += len;
      int64_t src = 0;
      for (int64_t k = 0; k < cs.axis; ++k) src += co[static_cast<size_t>(k)] * ds[static_cast<size_t>(k)];
      src += at * ds[static_cast<size_t>(cs.axis)];
      for (int64_t k = cs.axis + 1; k < rank; ++k) src += co[static_cast<size_t>(k - 1 + ir - bd)] * ds[static_cast<size_t>(k)];
      ASSERT_EQ(got[o], data[static_cast<size_t>(src)]) << "axis " << cs.axis << " batch_dims " << cs.batch_dims << " output " << o;
    }
  }
}

TEST(IrGather, BatchDimsAfterAxisIsALoadErrorNamingTheLayer) {
  IrBuilder b;
  b.result(b.op("Gather", "opset8", {{"batch_dims", "2"}}, {b.param("x", "f32", {2, 3, 4}), b.param("idx", "i64", {2, 3}), b.i64({}, {1})}, {{2, 3}}));
  try {
    b.translate();
    FAIL() << "expected a load error";
  } catch (const ir::IrError& e) {
    EXPECT_NE(std::string(e.what()).find("type Gather"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("batch_dims"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Still refused, with a load error that names the layer and the reason.
namespace {
std::string loadError(const std::string& xml) {
  try {
    ir::translateIrToOnnx(std::string_view(xml), std::string_view());
  } catch (const ir::IrError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(IrRefusals, DynamicRankInput) {
  std::string xml = R"(<?xml version="1.0"?>
<net name="t" version="11"><layers>
<layer id="0" name="anything" type="Parameter" version="opset1"><data shape="..." element_type="f32"/><output><port id="0" precision="FP32" names="anything"/></output></layer>
<layer id="1" name="relu" type="ReLU" version="opset1"><input><port id="0"/></input><output><port id="1" precision="FP32"/></output></layer>
<layer id="2" name="out" type="Result" version="opset1"><input><port id="0"/></input></layer>
</layers><edges><edge from-layer="0" from-port="0" to-layer="1" to-port="0"/><edge from-layer="1" from-port="1" to-layer="2" to-port="0"/></edges></net>)";
  std::string e = loadError(xml);
  EXPECT_NE(e.find("layer 'anything' (type Parameter, id 0)"), std::string::npos) << e;
  EXPECT_NE(e.find("dynamic rank"), std::string::npos) << e;
}

TEST(IrRefusals, InterpolateAntialiasAndPillowModes) {
  struct Case {
    std::string version, mode, antialias, expect;
  };
  for (const auto& cs : {Case{"opset4", "linear", "true", "antialias"}, Case{"opset11", "bilinear_pillow", "false", "bilinear_pillow"},
                         Case{"opset11", "bicubic_pillow", "false", "bicubic_pillow"}, Case{"opset11", "cubic", "true", "antialias"}}) {
    IrBuilder b;
    auto x = b.param("x", "f32", {1, 1, 8, 8});
    Attrs a = {{"mode", cs.mode}, {"antialias", cs.antialias}, {"shape_calculation_mode", "scales"}, {"pads_begin", "0,0,0,0"}, {"pads_end", "0,0,0,0"},
               {"coordinate_transformation_mode", "half_pixel"}, {"nearest_mode", "round_prefer_floor"}, {"cube_coeff", "-0.75"}};
    std::vector<IrBuilder::Out> ins{x};
    if (cs.version == "opset4") ins.push_back(b.i64({2}, {4, 4}));
    ins.push_back(b.f32({2}, {0.5f, 0.5f}));
    ins.push_back(b.i64({2}, {2, 3}));
    b.result(b.op("Interpolate", cs.version, a, ins, {{1, 1, 4, 4}}));
    try {
      b.translate();
      FAIL() << cs.mode << ": expected a load error";
    } catch (const ir::IrError& e) {
      std::string m = e.what();
      EXPECT_NE(m.find("(type Interpolate, id"), std::string::npos) << m;
      EXPECT_NE(m.find("Interpolate"), std::string::npos) << m;
      EXPECT_NE(m.find(cs.expect), std::string::npos) << m;
    }
  }
}
