#pragma once
// JSON request bodies nested deeper than 100 containers are JSON_INVALID (OVMS). A quick scan that
// also keeps rapidjson's recursive parser away from pathological nesting; used by both REST APIs.
#include <string_view>

namespace ovms::api {

inline constexpr int kMaxJsonDepth = 100;
bool jsonNestingTooDeep(std::string_view json);

}  // namespace ovms::api
