#pragma once
// The output precisions OVMS's TF-Serving serializer writes into a TensorProto (gRPC Predict, and the
// TF-Serving REST response, which OVMS builds from that proto). Any other model output (BOOL, U32,
// U64, ...) fails the request with OV_UNSUPPORTED_SERIALIZATION_PRECISION, on both TF-Serving APIs.
// A stateful model's sequence_id (U64) is not a model output and is written apart.
#include "engine/precision.h"

namespace ovms::api::tfs {

inline bool tfsSerializable(engine::Precision p) {
  using engine::Precision;
  switch (p) {
    case Precision::FP32:
    case Precision::I32:
    case Precision::FP64:
    case Precision::I8:
    case Precision::U8:
    case Precision::I16:
    case Precision::U16:
    case Precision::FP16:
    case Precision::I64:
    case Precision::STRING:
      return true;
    default:
      return false;
  }
}

}  // namespace ovms::api::tfs
