#pragma once
// ONNX Runtime custom ops ROIPooling and Proposal (domain "ovms.ir"), kernels in roi_kernels.cpp. Added to the
// process-wide ovms.ir domain by registerIrCustomOps() (custom_ops.cpp).
#include <onnxruntime_cxx_api.h>

namespace ovms::engine::ir {

// Adds the ROI op definitions (which live for the whole process) to `domain`.
void addRoiCustomOps(Ort::CustomOpDomain& domain);

}  // namespace ovms::engine::ir
