#pragma once
// Tensors flow through the server as views over bytes that someone else owns (a request
// message, an engine output). Owning buffers exist only where data has to be produced.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/precision.h"

namespace ovms::engine {

using Shape = std::vector<int64_t>;

// Number of elements of a shape; -1 if any dim is negative; 0 for a zero dim.
int64_t elementCount(const Shape& shape);
// Overflow-safe byte size of a dense tensor; returns false if it would not fit in `limit`.
bool denseByteSize(const Shape& shape, Precision p, uint64_t limit, uint64_t* bytes);
// "(1,3,224,224)" as OVMS prints shapes.
std::string shapeToString(const Shape& shape);

// STRING tensors travel in the packed layout of serving/packed_strings.h (a 4-byte length before
// each element); the engine converts to and from ONNX Runtime string tensors.
struct TensorView {
  Precision precision = Precision::UNDEFINED;
  Shape shape;
  const void* data = nullptr;
  size_t bytes = 0;
  // Keeps the bytes alive when the view must outlive its producer (e.g. an engine output).
  std::shared_ptr<const void> owner;
};

// A tensor that owns its bytes; `view()` lends them out.
struct OwnedTensor {
  Precision precision = Precision::UNDEFINED;
  Shape shape;
  std::vector<uint8_t> bytes;
  TensorView view() const { return TensorView{precision, shape, bytes.data(), bytes.size(), nullptr}; }
};

// Metadata of one model input or output. Dims of -1 are dynamic.
struct TensorInfo {
  std::string name;
  Precision precision = Precision::UNDEFINED;
  Shape shape;
};

}  // namespace ovms::engine
