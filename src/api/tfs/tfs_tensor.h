#pragma once
// TensorFlow TensorProto <-> our tensors. Raw `tensor_content` is viewed in place; typed fields
// (float_val, int_val, ...) sent by stock TF-Serving clients are unpacked into owned storage.
#include "common/status.h"
#include "engine/precision.h"
#include "serving/inference_request.h"
#include "tensorflow/core/framework/tensor.pb.h"
#include "tensorflow/core/framework/types.pb.h"

namespace ovms::api::tfs {

engine::Precision fromTfDataType(int dtype);
tensorflow::DataType toTfDataType(engine::Precision p);
// "DT_FLOAT" ...
const char* tfDataTypeName(engine::Precision p);

// `proto` must outlive `out` (its tensor_content is viewed, not copied). string_val is packed
// (serving/packed_strings.h). 8/16-bit values in int_val must fit their type (else INVALID_INPUT_FORMAT).
Status decodeTensorProto(const std::string& name, const tensorflow::TensorProto& proto, serving::InferenceInput* out);
void encodeTensorProto(const engine::TensorView& tensor, tensorflow::TensorProto* proto);

}  // namespace ovms::api::tfs
