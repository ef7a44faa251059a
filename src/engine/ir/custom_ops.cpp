#include "engine/ir/custom_ops.h"
#include "engine/ir/custom_op_util.h"

#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include "engine/ir/ctc_custom_ops.h"
#include "engine/ir/detection_kernels.h"
#include "engine/ir/op_registry.h"
#include "engine/ir/roi_custom_ops.h"

namespace ovms::engine::ir {
namespace {

using custom_op::attrFloats;
using custom_op::attrOr;
using custom_op::guarded;
using custom_op::shapeOf;

// ---------------------------------------------------------------------------------------------------------
struct PriorBoxClusteredKernel {
  kernels::PriorBoxClusteredAttrs a;
  OrtStatusPtr ComputeV2(OrtKernelContext* context) {
    return guarded([&] {
      Ort::KernelContext ctx(context);
      auto os = ctx.GetInput(0), is = ctx.GetInput(1);
      if (os.GetTensorTypeAndShapeInfo().GetElementCount() < 2 || is.GetTensorTypeAndShapeInfo().GetElementCount() < 2)
        throw std::runtime_error("PriorBoxClustered: size inputs need 2 values");
      const int64_t* o = os.GetTensorData<int64_t>();
      const int64_t* im = is.GetTensorData<int64_t>();
      auto v = kernels::priorBoxClustered(a, o[0], o[1], im[0], im[1]);
      auto out = ctx.GetOutput(0, {2, static_cast<int64_t>(v.size() / 2)});
      std::copy(v.begin(), v.end(), out.GetTensorMutableData<float>());
    });
  }
};

struct PriorBoxClusteredOp : Ort::CustomOpBase<PriorBoxClusteredOp, PriorBoxClusteredKernel, true> {
  OrtStatusPtr CreateKernelV2(const OrtApi&, const OrtKernelInfo* info, void** kernel) const {
    return guarded([&] {
      Ort::ConstKernelInfo ki(info);
      auto* k = new PriorBoxClusteredKernel();
      k->a.widths = attrFloats(ki, "widths");
      k->a.heights = attrFloats(ki, "heights");
      k->a.variances = attrFloats(ki, "variances");
      k->a.step_w = attrOr<float>(ki, "step_w", 0);
      k->a.step_h = attrOr<float>(ki, "step_h", 0);
      k->a.step = attrOr<float>(ki, "step", 0);
      k->a.offset = attrOr<float>(ki, "offset", 0.5f);
      k->a.clip = attrOr<int64_t>(ki, "clip", 0) != 0;
      *kernel = k;
    });
  }
  const char* GetName() const { return "PriorBoxClustered"; }
  size_t GetInputTypeCount() const { return 2; }
  ONNXTensorElementDataType GetInputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64; }
  size_t GetOutputTypeCount() const { return 1; }
  ONNXTensorElementDataType GetOutputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
};

// ---------------------------------------------------------------------------------------------------------
// PriorBox with the feature-map and image sizes given at run time (dynamic input shapes).
struct PriorBoxKernel {
  kernels::PriorBoxAttrs a;
  OrtStatusPtr ComputeV2(OrtKernelContext* context) {
    return guarded([&] {
      Ort::KernelContext ctx(context);
      auto os = ctx.GetInput(0), is = ctx.GetInput(1);
      if (os.GetTensorTypeAndShapeInfo().GetElementCount() != 2 || is.GetTensorTypeAndShapeInfo().GetElementCount() != 2)
        throw std::runtime_error("PriorBox: output_size and image_size need 2 values");
      const int64_t* o = os.GetTensorData<int64_t>();
      const int64_t* im = is.GetTensorData<int64_t>();
      auto v = kernels::priorBox(a, o[0], o[1], im[0], im[1]);
      auto out = ctx.GetOutput(0, {2, static_cast<int64_t>(v.size() / 2)});
      std::copy(v.begin(), v.end(), out.GetTensorMutableData<float>());
    });
  }
};

struct PriorBoxOp : Ort::CustomOpBase<PriorBoxOp, PriorBoxKernel, true> {
  OrtStatusPtr CreateKernelV2(const OrtApi&, const OrtKernelInfo* info, void** kernel) const {
    return guarded([&] {
      Ort::ConstKernelInfo ki(info);
      auto* k = new PriorBoxKernel();
      auto& a = k->a;
      a.min_size = attrFloats(ki, "min_size");
      a.max_size = attrFloats(ki, "max_size");
      a.aspect_ratio = attrFloats(ki, "aspect_ratio");
      a.density = attrFloats(ki, "density");
      a.fixed_ratio = attrFloats(ki, "fixed_ratio");
      a.fixed_size = attrFloats(ki, "fixed_size");
      a.variance = attrFloats(ki, "variance");
      a.clip = attrOr<int64_t>(ki, "clip", 0) != 0;
      a.flip = attrOr<int64_t>(ki, "flip", 0) != 0;
      a.scale_all_sizes = attrOr<int64_t>(ki, "scale_all_sizes", 1) != 0;
      a.min_max_order = attrOr<int64_t>(ki, "min_max_order", 1) != 0;
      a.step = attrOr<float>(ki, "step", 0);
      a.offset = attrOr<float>(ki, "offset", 0.5f);
      *kernel = k;
    });
  }
  const char* GetName() const { return "PriorBox"; }
  size_t GetInputTypeCount() const { return 2; }
  ONNXTensorElementDataType GetInputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64; }
  size_t GetOutputTypeCount() const { return 1; }
  ONNXTensorElementDataType GetOutputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
};

// ---------------------------------------------------------------------------------------------------------
struct DetectionOutputKernel {
  kernels::DetectionOutputAttrs a;
  OrtStatusPtr ComputeV2(OrtKernelContext* context) {
    return guarded([&] {
      Ort::KernelContext ctx(context);
      if (ctx.GetInputCount() != 3) throw std::runtime_error("DetectionOutput: only the 3-input form is supported");
      auto loc = ctx.GetInput(0), conf = ctx.GetInput(1), pri = ctx.GetInput(2);
      auto ls = shapeOf(loc), cs = shapeOf(conf), ps = shapeOf(pri);
      // Inputs may carry extra unit dimensions; flatten loc/conf to 2-D.
      auto flat2 = [](std::vector<int64_t> s) {
        if (s.empty()) throw std::runtime_error("DetectionOutput: scalar input");
        int64_t rest = 1;
        for (size_t k = 1; k < s.size(); ++k) rest *= s[k];
        return std::vector<int64_t>{s[0], rest};
      };
      ls = flat2(ls);
      cs = flat2(cs);
      if (ps.size() != 3) throw std::runtime_error("DetectionOutput: priors must be 3-D");
      std::vector<float> out;
      int64_t rows = kernels::detectionOutput(a, loc.GetTensorData<float>(), ls, conf.GetTensorData<float>(), cs,
                                              pri.GetTensorData<float>(), ps, out);
      auto o = ctx.GetOutput(0, {1, 1, rows, 7});
      std::copy(out.begin(), out.end(), o.GetTensorMutableData<float>());
    });
  }
};

struct DetectionOutputOp : Ort::CustomOpBase<DetectionOutputOp, DetectionOutputKernel, true> {
  OrtStatusPtr CreateKernelV2(const OrtApi&, const OrtKernelInfo* info, void** kernel) const {
    return guarded([&] {
      Ort::ConstKernelInfo ki(info);
      auto* k = new DetectionOutputKernel();
      auto& a = k->a;
      a.num_classes = attrOr<int64_t>(ki, "num_classes", -1);
      a.background_label_id = attrOr<int64_t>(ki, "background_label_id", 0);
      a.top_k = attrOr<int64_t>(ki, "top_k", -1);
      a.keep_top_k = attrOr<int64_t>(ki, "keep_top_k", -1);
      a.code_type = attrOr<std::string>(ki, "code_type", "caffe.PriorBoxParameter.CORNER");
      a.share_location = attrOr<int64_t>(ki, "share_location", 1) != 0;
      a.variance_encoded_in_target = attrOr<int64_t>(ki, "variance_encoded_in_target", 0) != 0;
      a.normalized = attrOr<int64_t>(ki, "normalized", 0) != 0;
      a.clip_before_nms = attrOr<int64_t>(ki, "clip_before_nms", 0) != 0;
      a.clip_after_nms = attrOr<int64_t>(ki, "clip_after_nms", 0) != 0;
      a.decrease_label_id = attrOr<int64_t>(ki, "decrease_label_id", 0) != 0;
      a.confidence_threshold = attrOr<float>(ki, "confidence_threshold", 0);
      a.nms_threshold = attrOr<float>(ki, "nms_threshold", 0);
      a.input_height = attrOr<int64_t>(ki, "input_height", 1);
      a.input_width = attrOr<int64_t>(ki, "input_width", 1);
      *kernel = k;
    });
  }
  const char* GetName() const { return "DetectionOutput"; }
  size_t GetInputTypeCount() const { return 3; }
  ONNXTensorElementDataType GetInputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
  size_t GetOutputTypeCount() const { return 1; }
  ONNXTensorElementDataType GetOutputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
};

// ---------------------------------------------------------------------------------------------------------
struct NmsKernel {
  kernels::NmsAttrs a;
  OrtStatusPtr ComputeV2(OrtKernelContext* context) {
    return guarded([&] {
      Ort::KernelContext ctx(context);
      auto bx = ctx.GetInput(0), sc = ctx.GetInput(1);
      auto bs = shapeOf(bx), ss = shapeOf(sc);
      if (bs.size() != 3 || bs[2] != 4 || ss.size() != 3 || ss[0] != bs[0] || ss[2] != bs[1])
        throw std::runtime_error("NonMaxSuppression: boxes must be [B, N, 4] and scores [B, C, N]");
      auto scalarF = [&](size_t i, float def) {
        auto v = ctx.GetInput(i);
        if (v == nullptr || v.GetTensorTypeAndShapeInfo().GetElementCount() == 0) return def;
        return v.GetTensorData<float>()[0];
      };
      int64_t max_out = 0;
      {
        auto v = ctx.GetInput(2);
        if (v != nullptr && v.GetTensorTypeAndShapeInfo().GetElementCount() > 0) max_out = v.GetTensorData<int64_t>()[0];
      }
      auto r = kernels::nonMaxSuppression(a, bx.GetTensorData<float>(), bs[0], bs[1], sc.GetTensorData<float>(), ss[1], max_out,
                                          scalarF(3, 0.0f), scalarF(4, 0.0f), scalarF(5, 0.0f));
      int64_t m = static_cast<int64_t>(r.indices.size() / 3);
      auto oi = ctx.GetOutput(0, {m, 3});
      std::copy(r.indices.begin(), r.indices.end(), oi.GetTensorMutableData<int64_t>());
      auto os = ctx.GetOutput(1, {m, 3});
      std::copy(r.scores.begin(), r.scores.end(), os.GetTensorMutableData<float>());
      auto ov = ctx.GetOutput(2, {1});
      ov.GetTensorMutableData<int64_t>()[0] = m;
    });
  }
};

struct NmsOp : Ort::CustomOpBase<NmsOp, NmsKernel, true> {
  OrtStatusPtr CreateKernelV2(const OrtApi&, const OrtKernelInfo* info, void** kernel) const {
    return guarded([&] {
      Ort::ConstKernelInfo ki(info);
      auto* k = new NmsKernel();
      k->a.center_point_box = attrOr<int64_t>(ki, "center_point_box", 0) != 0;
      k->a.sort_result_descending = attrOr<int64_t>(ki, "sort_result_descending", 1) != 0;
      *kernel = k;
    });
  }
  const char* GetName() const { return "NonMaxSuppression"; }
  size_t GetInputTypeCount() const { return 6; }
  ONNXTensorElementDataType GetInputType(size_t i) const {
    return i == 2 ? ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 : ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
  }
  size_t GetOutputTypeCount() const { return 3; }
  ONNXTensorElementDataType GetOutputType(size_t i) const {
    return i == 1 ? ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT : ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
  }
};

struct Domain {
  PriorBoxOp prior_box;
  PriorBoxClusteredOp prior_box_clustered;
  DetectionOutputOp detection_output;
  NmsOp nms;
  Ort::CustomOpDomain domain{kCustomDomain};
  Domain() {
    domain.Add(&prior_box);
    domain.Add(&prior_box_clustered);
    domain.Add(&detection_output);
    domain.Add(&nms);
    addRoiCustomOps(domain);
    addCtcCustomOps(domain);
  }
};

}  // namespace

void registerIrCustomOps(Ort::SessionOptions& options) {
  // Intentionally leaked: ORT keeps raw pointers to the domain and ops for as long as any session exists.
  static Domain* d = new Domain();
  options.Add(d->domain);
}

}  // namespace ovms::engine::ir
