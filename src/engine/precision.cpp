#include "engine/precision.h"

#include <array>

namespace ovms::engine {
namespace {

struct Row {
  Precision p;
  size_t size;
  const char* name;
  const char* kserve;
  int onnx;
};

constexpr std::array<Row, 15> kRows{{
    {Precision::UNDEFINED, 0, "UNDEFINED", "INVALID", 0},
    {Precision::FP32, 4, "FP32", "FP32", 1},
    {Precision::FP64, 8, "FP64", "FP64", 11},
    {Precision::FP16, 2, "FP16", "FP16", 10},
    {Precision::BF16, 2, "BF16", "BF16", 16},
    {Precision::I8, 1, "I8", "INT8", 3},
    {Precision::U8, 1, "U8", "UINT8", 2},
    {Precision::I16, 2, "I16", "INT16", 5},
    {Precision::U16, 2, "U16", "UINT16", 4},
    {Precision::I32, 4, "I32", "INT32", 6},
    {Precision::I64, 8, "I64", "INT64", 7},
    {Precision::U32, 4, "U32", "UINT32", 12},
    {Precision::U64, 8, "U64", "UINT64", 13},
    {Precision::BOOL, 1, "BOOL", "BOOL", 9},
    {Precision::STRING, 0, "STRING", "BYTES", 8},
}};

const Row& row(Precision p) {
  for (const auto& r : kRows)
    if (r.p == p) return r;
  return kRows[0];
}

}  // namespace

size_t elementSize(Precision p) { return row(p).size; }
const char* precisionName(Precision p) { return row(p).name; }
const char* kserveDatatype(Precision p) { return row(p).kserve; }
int onnxElementType(Precision p) { return row(p).onnx; }

std::optional<Precision> fromKserveDatatype(std::string_view s) {
  for (const auto& r : kRows)
    if (r.p != Precision::UNDEFINED && s == r.kserve) return r.p;
  return std::nullopt;
}

std::optional<Precision> fromOnnxElementType(int t) {
  for (const auto& r : kRows)
    if (r.p != Precision::UNDEFINED && r.onnx == t) return r.p;
  return std::nullopt;
}

}  // namespace ovms::engine
