#pragma once
// The one base64 codec (RFC 4648 standard alphabet), used by TF-Serving REST {"b64": ...} values.
//
// Padding rule (decode): '=' padding is optional; when present it must complete the last 4-char
// quantum ("YQ==" and "YQ" both decode to "a"; "YQ=" is rejected). A lone trailing character
// (length % 4 == 1), characters outside the alphabet, and whitespace are rejected.
// Encoding always pads.
#include <string>
#include <string_view>

namespace ovms::api {

bool decodeBase64(std::string_view in, std::string* out);
std::string encodeBase64(std::string_view in);

}  // namespace ovms::api
