#include "engine/ir/roi_custom_ops.h"
#include "engine/ir/custom_op_util.h"

#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/ir/roi_kernels.h"

namespace ovms::engine::ir {
namespace {

using custom_op::attrFloats;
using custom_op::attrOr;
using custom_op::guarded;
using custom_op::shapeOf;

// ---------------------------------------------------------------------------------------------------------
// ROIPooling(feature_maps [N,C,H,W], rois [R,5]) -> [R, C, pooled_h, pooled_w]
struct RoiPoolingKernel {
  kernels::RoiPoolingAttrs a;
  OrtStatusPtr ComputeV2(OrtKernelContext* context) {
    return guarded([&] {
      Ort::KernelContext ctx(context);
      auto feat = ctx.GetInput(0), rois = ctx.GetInput(1);
      auto fs = shapeOf(feat), rs = shapeOf(rois);
      if (fs.size() != 4) throw std::runtime_error("ROIPooling: feature maps must be 4-D");
      if (rs.size() != 2 || rs[1] != 5) throw std::runtime_error("ROIPooling: rois must be [num_rois, 5]");
      auto out = ctx.GetOutput(0, {rs[0], fs[1], a.pooled_h, a.pooled_w});
      kernels::roiPooling(a, feat.GetTensorData<float>(), fs, rois.GetTensorData<float>(), rs[0],
                          out.GetTensorMutableData<float>());
    });
  }
};

struct RoiPoolingOp : Ort::CustomOpBase<RoiPoolingOp, RoiPoolingKernel, true> {
  OrtStatusPtr CreateKernelV2(const OrtApi&, const OrtKernelInfo* info, void** kernel) const {
    return guarded([&] {
      Ort::ConstKernelInfo ki(info);
      auto* k = new RoiPoolingKernel();
      k->a.pooled_h = attrOr<int64_t>(ki, "pooled_h", 1);
      k->a.pooled_w = attrOr<int64_t>(ki, "pooled_w", 1);
      k->a.spatial_scale = attrOr<float>(ki, "spatial_scale", 1.0f);
      k->a.bilinear = attrOr<std::string>(ki, "method", "max") == "bilinear";
      if (k->a.pooled_h < 1 || k->a.pooled_w < 1) {
        delete k;
        throw std::runtime_error("ROIPooling: pooled_h and pooled_w must be positive");
      }
      *kernel = k;
    });
  }
  const char* GetName() const { return "ROIPooling"; }
  size_t GetInputTypeCount() const { return 2; }
  ONNXTensorElementDataType GetInputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
  size_t GetOutputTypeCount() const { return 1; }
  ONNXTensorElementDataType GetOutputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
};

// ---------------------------------------------------------------------------------------------------------
// Proposal(class_probs [N,2K,H,W], bbox_deltas [N,4K,H,W], image_shape [3|4]) -> rois [N*post,5], probs [N*post]
struct ProposalKernel {
  kernels::ProposalAttrs a;
  OrtStatusPtr ComputeV2(OrtKernelContext* context) {
    return guarded([&] {
      Ort::KernelContext ctx(context);
      auto pr = ctx.GetInput(0), de = ctx.GetInput(1), im = ctx.GetInput(2);
      auto ps = shapeOf(pr), ds = shapeOf(de), is = shapeOf(im);
      if (ps.size() != 4 || ds.size() != 4) throw std::runtime_error("Proposal: class_probs and bbox_deltas must be 4-D");
      if (is.size() != 1) throw std::runtime_error("Proposal: image_shape must be 1-D");
      const int64_t rows = ps[0] * a.post_nms_topn;
      auto rois = ctx.GetOutput(0, {rows, 5});
      float* probs = nullptr;
      if (ctx.GetOutputCount() > 1) probs = ctx.GetOutput(1, {rows}).GetTensorMutableData<float>();
      kernels::proposal(a, pr.GetTensorData<float>(), ps, de.GetTensorData<float>(), ds, im.GetTensorData<float>(), is[0],
                        rois.GetTensorMutableData<float>(), probs);
    });
  }
};

struct ProposalOp : Ort::CustomOpBase<ProposalOp, ProposalKernel, true> {
  OrtStatusPtr CreateKernelV2(const OrtApi&, const OrtKernelInfo* info, void** kernel) const {
    return guarded([&] {
      Ort::ConstKernelInfo ki(info);
      auto* k = new ProposalKernel();
      auto& a = k->a;
      a.base_size = attrOr<int64_t>(ki, "base_size", 1);
      a.pre_nms_topn = attrOr<int64_t>(ki, "pre_nms_topn", 1);
      a.post_nms_topn = attrOr<int64_t>(ki, "post_nms_topn", 1);
      a.nms_thresh = attrOr<float>(ki, "nms_thresh", 0.0f);
      a.feat_stride = attrOr<int64_t>(ki, "feat_stride", 1);
      a.min_size = attrOr<int64_t>(ki, "min_size", 1);
      a.ratio = attrFloats(ki, "ratio");
      a.scale = attrFloats(ki, "scale");
      a.clip_before_nms = attrOr<int64_t>(ki, "clip_before_nms", 1) != 0;
      a.clip_after_nms = attrOr<int64_t>(ki, "clip_after_nms", 0) != 0;
      a.normalize = attrOr<int64_t>(ki, "normalize", 0) != 0;
      a.box_size_scale = attrOr<float>(ki, "box_size_scale", 1.0f);
      a.box_coordinate_scale = attrOr<float>(ki, "box_coordinate_scale", 1.0f);
      a.tensorflow = attrOr<int64_t>(ki, "tensorflow", 0) != 0;
      if (a.post_nms_topn < 0 || a.pre_nms_topn < 0) {
        delete k;
        throw std::runtime_error("Proposal: negative pre/post_nms_topn");
      }
      *kernel = k;
    });
  }
  const char* GetName() const { return "Proposal"; }
  size_t GetInputTypeCount() const { return 3; }
  ONNXTensorElementDataType GetInputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
  size_t GetOutputTypeCount() const { return 2; }
  ONNXTensorElementDataType GetOutputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
  OrtCustomOpInputOutputCharacteristic GetOutputCharacteristic(size_t i) const {
    return i == 0 ? INPUT_OUTPUT_REQUIRED : INPUT_OUTPUT_OPTIONAL;
  }
};

}  // namespace

void addRoiCustomOps(Ort::CustomOpDomain& domain) {
  // Intentionally leaked, like the domain itself: ORT keeps raw pointers to the op definitions.
  static RoiPoolingOp* roi_pooling = new RoiPoolingOp();
  static ProposalOp* proposal = new ProposalOp();
  domain.Add(roi_pooling);
  domain.Add(proposal);
}

}  // namespace ovms::engine::ir
