#include "engine/ir/ctc_custom_ops.h"
#include "engine/ir/custom_op_util.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace ovms::engine::ir {
namespace {

using custom_op::attrOr;
using custom_op::guarded;
using custom_op::shapeOf;

// Index of the first largest score among `classes` values.
int64_t bestClass(const float* scores, int64_t classes) {
  return static_cast<int64_t>(std::max_element(scores, scores + classes) - scores);
}

// ---------------------------------------------------------------------------------------------------------
// CTCGreedyDecoder-1: data [T, N, C], sequence mask [T, N] (a step with mask 0 ends the sequence) ->
// [N, T, 1, 1] decoded class indices as floats, -1 after the end. The blank class is C - 1.
struct CtcGreedyKernel {
  bool merge_repeated = true;
  OrtStatusPtr ComputeV2(OrtKernelContext* context) {
    return guarded([&] {
      Ort::KernelContext ctx(context);
      auto data = ctx.GetInput(0), mask = ctx.GetInput(1);
      auto ds = shapeOf(data), ms = shapeOf(mask);
      if (ds.size() != 3) throw std::runtime_error("CTCGreedyDecoder: data must be [T, N, C]");
      const int64_t T = ds[0], N = ds[1], C = ds[2];
      if (ms.size() != 2 || ms[0] != T || ms[1] != N) throw std::runtime_error("CTCGreedyDecoder: sequence mask must be [T, N]");
      if (C < 1) throw std::runtime_error("CTCGreedyDecoder: no classes");
      const float* d = data.GetTensorData<float>();
      const float* m = mask.GetTensorData<float>();
      auto out = ctx.GetOutput(0, {N, T, 1, 1});
      float* o = out.GetTensorMutableData<float>();
      std::fill(o, o + N * T, -1.0f);
      const int64_t blank = C - 1;
      for (int64_t n = 0; n < N; ++n) {
        int64_t written = 0, previous = -1;
        for (int64_t t = 0; t < T && m[t * N + n] != 0.0f; ++t) {
          int64_t best = bestClass(d + (t * N + n) * C, C);
          if (best < blank && !(merge_repeated && best == previous)) o[n * T + written++] = static_cast<float>(best);
          previous = best;
        }
      }
    });
  }
};

struct CtcGreedyOp : Ort::CustomOpBase<CtcGreedyOp, CtcGreedyKernel, true> {
  OrtStatusPtr CreateKernelV2(const OrtApi&, const OrtKernelInfo* info, void** kernel) const {
    return guarded([&] {
      Ort::ConstKernelInfo ki(info);
      auto* k = new CtcGreedyKernel();
      k->merge_repeated = attrOr<int64_t>(ki, "merge_repeated", 1) != 0;
      *kernel = k;
    });
  }
  const char* GetName() const { return "CTCGreedyDecoder"; }
  size_t GetInputTypeCount() const { return 2; }
  ONNXTensorElementDataType GetInputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
  size_t GetOutputTypeCount() const { return 1; }
  ONNXTensorElementDataType GetOutputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
};

// ---------------------------------------------------------------------------------------------------------
// CTCGreedyDecoderSeqLen-6: data [N, T, C], sequence lengths [N], blank index [1] (-1: C - 1) ->
// decoded classes [N, T] (-1 after the end) and decoded lengths [N].
struct CtcGreedySeqLenKernel {
  bool merge_repeated = true;
  OrtStatusPtr ComputeV2(OrtKernelContext* context) {
    return guarded([&] {
      Ort::KernelContext ctx(context);
      auto data = ctx.GetInput(0), lens = ctx.GetInput(1), blank_in = ctx.GetInput(2);
      auto ds = shapeOf(data);
      if (ds.size() != 3) throw std::runtime_error("CTCGreedyDecoderSeqLen: data must be [N, T, C]");
      const int64_t N = ds[0], T = ds[1], C = ds[2];
      if (lens.GetTensorTypeAndShapeInfo().GetElementCount() != static_cast<size_t>(N))
        throw std::runtime_error("CTCGreedyDecoderSeqLen: sequence_length must have one value per batch item");
      if (blank_in.GetTensorTypeAndShapeInfo().GetElementCount() != 1) throw std::runtime_error("CTCGreedyDecoderSeqLen: blank_index must be a scalar");
      int64_t blank = blank_in.GetTensorData<int64_t>()[0];
      if (blank == -1) blank = C - 1;
      const float* d = data.GetTensorData<float>();
      const int64_t* len = lens.GetTensorData<int64_t>();
      for (int64_t n = 0; n < N; ++n)
        if (len[n] < 0 || len[n] > T)
          throw std::runtime_error("CTCGreedyDecoderSeqLen: sequence length " + std::to_string(len[n]) + " is outside [0, " + std::to_string(T) + "]");
      auto classes = ctx.GetOutput(0, {N, T});
      auto lengths = ctx.GetOutput(1, {N});
      int64_t* o = classes.GetTensorMutableData<int64_t>();
      int64_t* ol = lengths.GetTensorMutableData<int64_t>();
      std::fill(o, o + N * T, int64_t{-1});
      for (int64_t n = 0; n < N; ++n) {
        int64_t written = 0, previous = -1;
        for (int64_t t = 0; t < len[n]; ++t) {
          int64_t best = C > 0 ? bestClass(d + (n * T + t) * C, C) : 0;
          if (best != blank && !(merge_repeated && best == previous)) o[n * T + written++] = best;
          previous = best;
        }
        ol[n] = written;
      }
    });
  }
};

struct CtcGreedySeqLenOp : Ort::CustomOpBase<CtcGreedySeqLenOp, CtcGreedySeqLenKernel, true> {
  OrtStatusPtr CreateKernelV2(const OrtApi&, const OrtKernelInfo* info, void** kernel) const {
    return guarded([&] {
      Ort::ConstKernelInfo ki(info);
      auto* k = new CtcGreedySeqLenKernel();
      k->merge_repeated = attrOr<int64_t>(ki, "merge_repeated", 1) != 0;
      *kernel = k;
    });
  }
  const char* GetName() const { return "CTCGreedyDecoderSeqLen"; }
  size_t GetInputTypeCount() const { return 3; }
  ONNXTensorElementDataType GetInputType(size_t i) const {
    return i == 0 ? ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT : ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
  }
  size_t GetOutputTypeCount() const { return 2; }
  ONNXTensorElementDataType GetOutputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64; }
};

}  // namespace

void addCtcCustomOps(Ort::CustomOpDomain& domain) {
  // Intentionally leaked, like the domain itself: ORT keeps raw pointers to the op definitions.
  static CtcGreedyOp* greedy = new CtcGreedyOp();
  static CtcGreedySeqLenOp* greedy_seq_len = new CtcGreedySeqLenOp();
  domain.Add(greedy);
  domain.Add(greedy_seq_len);
}

}  // namespace ovms::engine::ir
