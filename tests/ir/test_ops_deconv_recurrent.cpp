// Tests of ops/deconvolution.cpp and ops/recurrent.cpp against plain-loop reference implementations.
#include <functional>

#include "ops_test_common.h"

using namespace irtest;

namespace {

// 1-D transposed convolution, NCW, weights [Cin, Cout, K] (group 1), with crop pads and output_padding.
std::vector<float> deconv1d(const std::vector<float>& x, int Cin, int W, const std::vector<float>& w, int Cout, int K, int s, int d, int pb, int pe,
                            int op) {
  int full = (W - 1) * s + (K - 1) * d + 1 + op;
  std::vector<float> y(static_cast<size_t>(Cout * full), 0);
  for (int ci = 0; ci < Cin; ++ci)
    for (int i = 0; i < W; ++i)
      for (int co = 0; co < Cout; ++co)
        for (int k = 0; k < K; ++k) y[co * full + i * s + k * d] += x[ci * W + i] * w[(ci * Cout + co) * K + k];
  int outw = full - pb - pe;
  std::vector<float> r;
  for (int co = 0; co < Cout; ++co)
    for (int j = 0; j < outw; ++j) r.push_back(y[co * full + j + pb]);
  return r;
}

float sigm(float v) { return 1.0f / (1.0f + std::exp(-v)); }

std::vector<float> pseudo(size_t n, float seed) {
  std::vector<float> v(n);
  for (size_t k = 0; k < n; ++k) v[k] = std::sin(seed + 0.7f * static_cast<float>(k)) * 0.8f;
  return v;
}

}  // namespace

TEST(IrOpsDeconv, ExplicitPadsStrideDilationOutputPadding) {
  // x [1,2,3], w [2,1,3], stride 2, dilation 1, pads 1/0, output_padding 1
  std::vector<float> x = seq(6, 1), w = pseudo(6, 0.3f);
  auto exp = deconv1d(x, 2, 3, w, 1, 3, 2, 1, 1, 0, 1);
  IrBuilder b;
  auto p = b.param("x", "f32", {1, 2, 3});
  int64_t outw = static_cast<int64_t>(exp.size());
  b.result(b.op("ConvolutionBackpropData", "opset1",
                {{"strides", "2"}, {"dilations", "1"}, {"pads_begin", "1"}, {"pads_end", "0"}, {"output_padding", "1"}, {"auto_pad", "explicit"}},
                {p, b.f32({2, 1, 3}, w)}, {{1, 1, outw}}));
  std::vector<int64_t> shape;
  expectNear(runF(b, {{"x", Tensor::f32({1, 2, 3}, x)}}, &shape), exp);
  EXPECT_EQ(shape, (std::vector<int64_t>{1, 1, outw}));
}

TEST(IrOpsDeconv, OutputShapeInputAndSameUpper) {
  // Natural size (3-1)*2 + 3 = 7; requested 6 -> total padding 1, split begin 0 / end 1.
  std::vector<float> x = seq(3, 1), w = pseudo(3, 1.1f);
  auto exp = deconv1d(x, 1, 3, w, 1, 3, 2, 1, 0, 1, 0);
  for (bool same_upper : {false, true}) {
    IrBuilder b;
    auto p = b.param("x", "f32", {1, 1, 3});
    std::vector<IrBuilder::Out> ins{p, b.f32({1, 1, 3}, w)};
    if (!same_upper) ins.push_back(b.i64({1}, {6}));
    b.result(b.op("ConvolutionBackpropData", "opset1", {{"strides", "2"}, {"auto_pad", same_upper ? "same_upper" : "explicit"}, {"pads_begin", "0"}, {"pads_end", "0"}},
                  ins, {{1, 1, 6}}));
    std::vector<int64_t> shape;
    expectNear(runF(b, {{"x", Tensor::f32({1, 1, 3}, x)}}, &shape), exp);
    EXPECT_EQ(shape, (std::vector<int64_t>{1, 1, 6}));
  }
}

TEST(IrOpsDeconv, GroupConvolutionBackpropData) {
  // 2 groups, each 1 in -> 1 out channel; x [1,2,2], w [2,1,1,2]
  std::vector<float> x{1, 2, 3, 4}, w{1, 10, -1, 2};
  IrBuilder b;
  auto p = b.param("x", "f32", {1, 2, 2});
  b.result(b.op("GroupConvolutionBackpropData", "opset1", {{"strides", "1"}, {"pads_begin", "0"}, {"pads_end", "0"}, {"dilations", "1"}}, {p, b.f32({2, 1, 1, 2}, w)},
                {{1, 2, 3}}));
  // group 0: [1,2] * [1,10] -> [1, 12, 20]; group 1: [3,4] * [-1,2] -> [-3, 2, 8]
  EXPECT_EQ(runF(b, {{"x", Tensor::f32({1, 2, 2}, x)}}), (std::vector<float>{1, 12, 20, -3, 2, 8}));
}

namespace {

struct SeqCase {
  int batch = 2, len = 3, in = 2, hidden = 2;
};

// Generic reference: step(x_t, h, c, dir) -> (h, c); returns Y [batch, nd, seq, hidden], Ho, Co.
struct SeqRef {
  std::vector<float> y, ho, co;
};

SeqRef runRef(const SeqCase& sc, int nd, const std::vector<float>& X, const std::vector<float>& H0, const std::vector<float>& C0,
              const std::function<void(int dir, const float* x, std::vector<float>& h, std::vector<float>& c)>& step, const std::vector<int>& dirs) {
  SeqRef r;
  int H = sc.hidden;
  r.y.assign(static_cast<size_t>(sc.batch * nd * sc.len * H), 0);
  r.ho.assign(static_cast<size_t>(sc.batch * nd * H), 0);
  r.co.assign(static_cast<size_t>(sc.batch * nd * H), 0);
  for (int b = 0; b < sc.batch; ++b)
    for (int d = 0; d < nd; ++d) {
      std::vector<float> h(H0.begin() + (b * nd + d) * H, H0.begin() + (b * nd + d + 1) * H);
      std::vector<float> c = C0.empty() ? std::vector<float>(H, 0) : std::vector<float>(C0.begin() + (b * nd + d) * H, C0.begin() + (b * nd + d + 1) * H);
      bool rev = dirs[d] == 1;
      for (int s = 0; s < sc.len; ++s) {
        int t = rev ? sc.len - 1 - s : s;
        step(d, &X[(b * sc.len + t) * sc.in], h, c);
        for (int k = 0; k < H; ++k) r.y[((b * nd + d) * sc.len + t) * H + k] = h[k];
      }
      for (int k = 0; k < H; ++k) {
        r.ho[(b * nd + d) * H + k] = h[k];
        r.co[(b * nd + d) * H + k] = c[k];
      }
    }
  return r;
}

// dot of row `row` of M [rows, cols] (direction slice at offset) with v
float dotRow(const std::vector<float>& M, size_t off, int row, int cols, const float* v) {
  float s = 0;
  for (int k = 0; k < cols; ++k) s += M[off + static_cast<size_t>(row * cols + k)] * v[k];
  return s;
}

}  // namespace

TEST(IrOpsRecurrent, LSTMSequenceMatchesReference) {
  SeqCase sc;
  for (std::string dir : {"forward", "reverse", "bidirectional"}) {
    int nd = dir == "bidirectional" ? 2 : 1, H = sc.hidden;
    std::vector<float> X = pseudo(static_cast<size_t>(sc.batch * sc.len * sc.in), 0.1f), H0 = pseudo(static_cast<size_t>(sc.batch * nd * H), 0.5f),
                       C0 = pseudo(static_cast<size_t>(sc.batch * nd * H), 0.9f), W = pseudo(static_cast<size_t>(nd * 4 * H * sc.in), 1.3f),
                       R = pseudo(static_cast<size_t>(nd * 4 * H * H), 2.1f), B = pseudo(static_cast<size_t>(nd * 4 * H), 3.7f);
    std::vector<int> dirs = dir == "reverse" ? std::vector<int>{1} : dir == "forward" ? std::vector<int>{0} : std::vector<int>{0, 1};
    auto step = [&](int d, const float* x, std::vector<float>& h, std::vector<float>& c) {
      // OpenVINO gate order: f, i, c, o
      std::vector<float> g(4 * H);
      for (int row = 0; row < 4 * H; ++row)
        g[row] = dotRow(W, static_cast<size_t>(d * 4 * H * sc.in), row, sc.in, x) + dotRow(R, static_cast<size_t>(d * 4 * H * H), row, H, h.data()) + B[d * 4 * H + row];
      std::vector<float> nh(H), nc(H);
      for (int k = 0; k < H; ++k) {
        float f = sigm(g[k]), i = sigm(g[H + k]), cc = std::tanh(g[2 * H + k]), o = sigm(g[3 * H + k]);
        nc[k] = f * c[k] + i * cc;
        nh[k] = o * std::tanh(nc[k]);
      }
      h = nh;
      c = nc;
    };
    auto ref = runRef(sc, nd, X, H0, C0, step, dirs);
    IrBuilder b;
    auto px = b.param("X", "f32", {sc.batch, sc.len, sc.in});
    auto ph = b.param("H0", "f32", {sc.batch, nd, H});
    auto pc = b.param("C0", "f32", {sc.batch, nd, H});
    auto op = b.op("LSTMSequence", "opset5", {{"hidden_size", "2"}, {"direction", dir}, {"activations", "sigmoid,tanh,tanh"}, {"clip", "0"}},
                   {px, ph, pc, b.constant<int32_t>("i32", {2}, {3, 3}), b.f32({nd, 4 * H, sc.in}, W), b.f32({nd, 4 * H, H}, R), b.f32({nd, 4 * H}, B)},
                   {{sc.batch, nd, sc.len, H}, {sc.batch, nd, H}, {sc.batch, nd, H}});
    b.result(op);
    b.result({op.id, op.port + 1});
    b.result({op.id, op.port + 2});
    auto out = runAll(b, {{"X", Tensor::f32({sc.batch, sc.len, sc.in}, X)}, {"H0", Tensor::f32({sc.batch, nd, H}, H0)}, {"C0", Tensor::f32({sc.batch, nd, H}, C0)}});
    EXPECT_EQ(out[0].shape, (std::vector<int64_t>{sc.batch, nd, sc.len, H}));
    expectNear(out[0].as<float>(), ref.y, 1e-5f);
    expectNear(out[1].as<float>(), ref.ho, 1e-5f);
    expectNear(out[2].as<float>(), ref.co, 1e-5f);
  }
}

TEST(IrOpsRecurrent, GRUSequenceLinearBeforeReset) {
  SeqCase sc;
  int H = sc.hidden, nd = 1;
  for (bool lbr : {false, true}) {
    std::vector<float> X = pseudo(static_cast<size_t>(sc.batch * sc.len * sc.in), 0.2f), H0 = pseudo(static_cast<size_t>(sc.batch * H), 0.6f),
                       W = pseudo(static_cast<size_t>(3 * H * sc.in), 1.4f), R = pseudo(static_cast<size_t>(3 * H * H), 2.2f),
                       B = pseudo(static_cast<size_t>((lbr ? 4 : 3) * H), 3.3f);
    auto step = [&](int, const float* x, std::vector<float>& h, std::vector<float>&) {
      std::vector<float> nh(H);
      for (int k = 0; k < H; ++k) {
        float z = sigm(dotRow(W, 0, k, sc.in, x) + dotRow(R, 0, k, H, h.data()) + B[k]);
        float r = sigm(dotRow(W, 0, H + k, sc.in, x) + dotRow(R, 0, H + k, H, h.data()) + B[H + k]);
        float hh;
        if (lbr) {
          hh = std::tanh(dotRow(W, 0, 2 * H + k, sc.in, x) + B[2 * H + k] + r * (dotRow(R, 0, 2 * H + k, H, h.data()) + B[3 * H + k]));
        } else {
          std::vector<float> rh(H);
          for (int j = 0; j < H; ++j) {
            float rj = sigm(dotRow(W, 0, H + j, sc.in, x) + dotRow(R, 0, H + j, H, h.data()) + B[H + j]);
            rh[j] = rj * h[j];
          }
          hh = std::tanh(dotRow(W, 0, 2 * H + k, sc.in, x) + dotRow(R, 0, 2 * H + k, H, rh.data()) + B[2 * H + k]);
        }
        nh[k] = (1 - z) * hh + z * h[k];
      }
      h = nh;
    };
    auto ref = runRef(sc, nd, X, H0, {}, step, {0});
    IrBuilder b;
    auto px = b.param("X", "f32", {sc.batch, sc.len, sc.in});
    auto ph = b.param("H0", "f32", {sc.batch, 1, H});
    auto op = b.op("GRUSequence", "opset5", {{"hidden_size", "2"}, {"direction", "forward"}, {"linear_before_reset", lbr ? "true" : "false"}},
                   {px, ph, b.i64({2}, {3, 3}), b.f32({1, 3 * H, sc.in}, W), b.f32({1, 3 * H, H}, R), b.f32({1, (lbr ? 4 : 3) * H}, B)},
                   {{sc.batch, 1, sc.len, H}, {sc.batch, 1, H}});
    b.result(op);
    b.result({op.id, op.port + 1});
    auto out = runAll(b, {{"X", Tensor::f32({sc.batch, sc.len, sc.in}, X)}, {"H0", Tensor::f32({sc.batch, 1, H}, H0)}});
    expectNear(out[0].as<float>(), ref.y, 1e-5f);
    expectNear(out[1].as<float>(), ref.ho, 1e-5f);
  }
}

TEST(IrOpsRecurrent, RNNSequenceBidirectionalShortSequence) {
  SeqCase sc;
  int H = sc.hidden, nd = 2;
  std::vector<float> X = pseudo(static_cast<size_t>(sc.batch * sc.len * sc.in), 0.4f), H0 = pseudo(static_cast<size_t>(sc.batch * nd * H), 0.8f),
                     W = pseudo(static_cast<size_t>(nd * H * sc.in), 1.5f), R = pseudo(static_cast<size_t>(nd * H * H), 2.5f), B = pseudo(static_cast<size_t>(nd * H), 3.5f);
  auto step = [&](int d, const float* x, std::vector<float>& h, std::vector<float>&) {
    std::vector<float> nh(H);
    for (int k = 0; k < H; ++k)
      nh[k] = std::tanh(dotRow(W, static_cast<size_t>(d * H * sc.in), k, sc.in, x) + dotRow(R, static_cast<size_t>(d * H * H), k, H, h.data()) + B[d * H + k]);
    h = nh;
  };
  auto ref = runRef(sc, nd, X, H0, {}, step, {0, 1});
  IrBuilder b;
  auto px = b.param("X", "f32", {sc.batch, sc.len, sc.in});
  auto ph = b.param("H0", "f32", {sc.batch, nd, H});
  auto op = b.op("RNNSequence", "opset5", {{"hidden_size", "2"}, {"direction", "bidirectional"}},
                 {px, ph, b.i64({2}, {3, 3}), b.f32({nd, H, sc.in}, W), b.f32({nd, H, H}, R), b.f32({nd, H}, B)}, {{sc.batch, nd, sc.len, H}, {sc.batch, nd, H}});
  b.result(op);
  b.result({op.id, op.port + 1});
  auto out = runAll(b, {{"X", Tensor::f32({sc.batch, sc.len, sc.in}, X)}, {"H0", Tensor::f32({sc.batch, nd, H}, H0)}});
  expectNear(out[0].as<float>(), ref.y, 1e-5f);
  expectNear(out[1].as<float>(), ref.ho, 1e-5f);
}

// ReadValue/Assign become a state input/output pair (serving/stateful.h); an initial value computed at
// run time is not supported and says so, naming the layer.
TEST(IrOpsRecurrent, ReadValueWithRuntimeInitialValueIsRejectedClearly) {
  IrBuilder b;
  auto p = b.param("x", "f32", {2});
  b.result(b.op("ReadValue", "opset6", {{"variable_id", "v"}}, {p}, {{2}}));
  std::string e = translateError(b);
  EXPECT_NE(e.find("only constant initial values"), std::string::npos) << e;
  EXPECT_NE(e.find("ReadValue"), std::string::npos) << e;
}
