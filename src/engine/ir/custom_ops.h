#pragma once
// ONNX Runtime custom ops (domain "ovms.ir") used by translated IR models: DetectionOutput, NonMaxSuppression,
// PriorBox, PriorBoxClustered, plus ROIPooling and Proposal (roi_custom_ops.cpp) and the CTC decoders
// (ctc_custom_ops.cpp). Call registerIrCustomOps() on every
// Ort::SessionOptions used to create a session for a translated IR model. The domain object lives for the whole process.
#include <onnxruntime_cxx_api.h>

namespace ovms::engine::ir {

void registerIrCustomOps(Ort::SessionOptions& options);

}  // namespace ovms::engine::ir
