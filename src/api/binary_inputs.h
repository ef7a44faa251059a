#pragma once
// Encoded images (JPEG/PNG) sent as TF-Serving string_val, REST {"b64": ...} or KServe BYTES to a
// 4-D model input are decoded into that input's tensor (OVMS §7.4).
#include <string_view>
#include <vector>

#include "common/status.h"
#include "serving/servable.h"

namespace ovms::api {

// Index of the servable input named `name`, or -1.
int inputIndex(const serving::Servable& servable, const std::string& name);
// True when string data for this input is to be decoded as images.
bool acceptsImages(const serving::Servable& servable, int input_index);
Status decodeImages(const serving::Servable& servable, int input_index, const std::vector<std::string_view>& images,
                    StatusCode empty_status, serving::InferenceInput* out);

}  // namespace ovms::api
