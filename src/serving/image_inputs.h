#pragma once
// Which model inputs take encoded images (JPEG/PNG sent as TF-Serving string_val, REST
// {"b64": ...} or KServe BYTES), and the decoding of such request data into the input's tensor
// with the target's dims and layout (OVMS §7.4). The pixel work itself is api/image/image_decoder.h.
#include <string_view>
#include <vector>

#include "common/status.h"
#include "serving/inference_request.h"
#include "serving/inference_target.h"

namespace ovms::serving {

// Index of the target input named `name`, or -1.
int inputIndex(const InferenceTarget& target, const std::string& name);
// True when string data for this input is to be decoded as images (4-D, not a STRING input).
bool acceptsImages(const InferenceTarget& target, int input_index);
// Decodes `images` into one NHWC tensor for input `input_index`; an empty image string fails with
// `empty_status` (STRING_VAL_EMPTY on TF-Serving, BYTES_CONTENTS_EMPTY on KServe).
Status decodeImages(const InferenceTarget& target, int input_index, const std::vector<std::string_view>& images,
                    StatusCode empty_status, InferenceInput* out);

}  // namespace ovms::serving
