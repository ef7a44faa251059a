#pragma once
// KServe gRPC wire format <-> our tensors. raw_input_contents and the typed `contents` fields whose
// element type matches the tensor (fp32, fp64, int32, int64, uint32, uint64, bool) are viewed in
// place: the request message must outlive the decoded request. Narrower integer types are
// converted into owned storage. BYTES elements are kept in the packed layout
// (<uint32 LE length><bytes> per element), which is also the raw KServe BYTES layout.
#include <string>

#include "common/status.h"
#include "serving/inference_request.h"
#include "kserve/grpc_predict_v2.pb.h"

namespace ovms::api::kserve {

// Decodes the inputs of `request` for a servable with `model_input_count` inputs. Checks, in
// OVMS's order, the number of inputs, then the message structure (contents and raw buffers not
// both; one raw buffer per input), then the packed layout of raw BYTES buffers.
// Also takes the request id and the requested outputs. Narrow integer types (INT8/16, UINT8/16)
// sent in the 32-bit contents fields must fit their type (else INVALID_INPUT_FORMAT).
Status decodeInferRequest(const inference::ModelInferRequest& request, size_t model_input_count,
                          serving::InferenceRequest* out);

// Counts the elements of a packed BYTES buffer; malformed -> INVALID_CONTENT_SIZE with OVMS's details.
Status countPackedElements(const void* data, size_t bytes, const std::string& input_name, int64_t* count);

// Appends every output (name, datatype, shape) and its bytes as one raw_output_contents buffer.
Status encodeInferResponse(const serving::InferenceResponse& result, inference::ModelInferResponse* response);

}  // namespace ovms::api::kserve
