#include "engine/tensor.h"

namespace ovms::engine {

int64_t elementCount(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return -1;
    if (d != 0 && n > INT64_MAX / d) return -1;
    n *= d;
  }
  return n;
}

bool denseByteSize(const Shape& shape, Precision p, uint64_t limit, uint64_t* bytes) {
  uint64_t n = elementSize(p);
  for (int64_t d : shape) {
    if (d < 0) return false;
    if (d == 0) {
      n = 0;
      continue;
    }
    if (n > limit / static_cast<uint64_t>(d)) return false;
    n *= static_cast<uint64_t>(d);
  }
  if (n > limit) return false;
  *bytes = n;
  return true;
}

std::string shapeToString(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  s += ")";
  return s;
}

}  // namespace ovms::engine
