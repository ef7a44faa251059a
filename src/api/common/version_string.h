#pragma once
// The one parser of model version strings (KServe model_version, REST /versions/<v> segments).
// "" = the default version (0). Otherwise an optional '+' and decimal digits that fit an int64
// or '-' (std::stoll, which OVMS uses, accepts both; a negative version names none). Anything
// else (spaces, letters, overflow) is not a version. The caller picks the status: KServe gRPC MODEL_VERSION_INVALID_FORMAT;
// REST paths MODEL_VERSION_MISSING (no such version can exist).
#include <charconv>
#include <cstdint>
#include <string_view>

namespace ovms::api {

inline bool parseVersionString(std::string_view s, int64_t* version) {
  if (s.empty()) {
    *version = 0;
    return true;
  }
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (*begin == '+') {
    ++begin;
    if (begin != end && *begin == '-') return false;
  }
  int64_t v = 0;
  auto res = std::from_chars(begin, end, v);
  if (begin == end || res.ec != std::errc() || res.ptr != end) return false;
  *version = v;
  return true;
}

}  // namespace ovms::api
