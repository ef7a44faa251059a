#pragma once
// The float writers of the JSON front ends, in one place. The two APIs print finite numbers
// differently because OVMS does: TF-Serving REST through TF Serving's WriteDecimal
// (formatTfsDecimal), KServe REST through rapidjson's shortest round-trip Double(). Non-finite
// values are spelled the same everywhere (nonFiniteJson).
#include <cstddef>
#include <string>
#include <string_view>

namespace ovms::api {

// "NaN", "Infinity" or "-Infinity" (v must not be finite).
inline std::string_view nonFiniteJson(double v) {
  if (v != v) return "NaN";
  return v > 0 ? std::string_view("Infinity") : std::string_view("-Infinity");
}

// TF Serving's WriteDecimal: "%.6g" (absl SixDigits), falling back to max_digits10 significant
// digits when that does not round-trip, ".0" appended to plain integers ("5.0", "0.5", "1e-07",
// "9e+06"); non-finite values per nonFiniteJson. `buf` must hold 48 chars; returns the length.
size_t formatTfsDecimal(float v, char* buf);
size_t formatTfsDecimal(double v, char* buf);

}  // namespace ovms::api
