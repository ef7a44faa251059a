#pragma once
// Parsers for the OVMS model options that change tensor shapes (§7.1): batch_size, shape and layout,
// in the exact syntax OVMS accepts, plus the Dimension type ({min,max}, -1 = any) used to validate
// requests against ranges.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace ovms::serving {

// One dimension: static (min == max >= 0), any (-1), or a range [min~max].
struct Dimension {
  int64_t min = -1;
  int64_t max = -1;

  static Dimension any() { return {}; }
  static Dimension fixed(int64_t n) { return {n, n}; }
  static Dimension range(int64_t lo, int64_t hi) { return {lo, hi}; }

  bool isAny() const { return min < 0 && max < 0; }
  bool isStatic() const { return min >= 0 && min == max; }
  bool isRange() const { return min >= 0 && max > min; }
  // What the ONNX graph gets: the static value, or -1 for any and for ranges.
  int64_t graphValue() const { return isStatic() ? min : -1; }
  bool accepts(int64_t v) const { return isAny() || (v >= min && v <= max); }
  // "1", "-1", "[200~500]"
  std::string toString() const;
  bool operator==(const Dimension&) const = default;
};

using Dims = std::vector<Dimension>;
// "(1,3,-1,[200~500])"
std::string dimsToString(const Dims& dims);
Dims dimsFromShape(const std::vector<int64_t>& shape);

// "-1", "N" (>= 0) or "min:max" (0 <= min < max). Spaces around the parts are allowed.
// `batch` applies the stricter batch_size rules (N > 0 and min > 0).
Status parseDimension(const std::string& text, Dimension* out, bool batch = false);

// One shape value: "auto" or a tuple "(1,3,224,224)".
struct ShapeValue {
  bool is_auto = false;
  Dims dims;
  bool operator==(const ShapeValue&) const = default;
};
Status parseShapeTuple(const std::string& text, Dims* out);

// The whole `shape` option: an anonymous value (tuple or auto, applying to the single input, or to
// all inputs for auto) or a per-tensor map.
struct ShapeConfig {
  std::optional<ShapeValue> anonymous;
  std::map<std::string, ShapeValue> named;
  bool empty() const { return !anonymous && named.empty(); }
};
// Accepts "auto", "(…)", or a JSON object whose values are "(…)", "auto", or arrays of ints.
Status parseShapeConfig(const std::string& text, ShapeConfig* out);

// batch_size: integer, "auto", "-1", "min:max".
struct BatchConfig {
  bool is_auto = false;
  bool unset = false;  // "0": keep the model's batch (OVMS's default value)
  Dimension dim;
};
Status parseBatchSize(const std::string& text, BatchConfig* out);

// One layout value: "NCHW" or "NHWC:NCHW" (<what the client sends>:<what the model has>).
// Stored upper-case; `model` equals `client` when no ':' was given.
struct LayoutValue {
  std::string client;
  std::string model;
  bool needsTranspose() const { return client != model; }
  // For a transpose, client position of every model dim (model[i] == client[perm[i]]).
  std::vector<int64_t> modelFromClientPerm() const;
  // Position of N in the client layout, if the layout fixes it (a leading N before "..." counts).
  std::optional<size_t> batchIndex(size_t rank) const;
  bool operator==(const LayoutValue&) const = default;
};
// Validates one layout string (N C H W D ? and "...", case-insensitive).
Status parseLayoutString(const std::string& text, std::string* upper);
Status parseLayoutValue(const std::string& text, LayoutValue* out);

struct LayoutConfig {
  std::optional<LayoutValue> anonymous;
  std::map<std::string, LayoutValue> named;
  bool empty() const { return !anonymous && named.empty(); }
};
// A layout value, or a JSON object of them.
Status parseLayoutConfig(const std::string& text, LayoutConfig* out);

}  // namespace ovms::serving
