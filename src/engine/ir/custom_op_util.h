#pragma once
// Helpers shared by the ONNX Runtime custom-op kernels of the "ovms.ir" domain.
#include <onnxruntime_cxx_api.h>

#include <cstdint>
#include <exception>
#include <vector>

namespace ovms::engine::ir::custom_op {

// Runs a kernel body; exceptions become an ORT status instead of unwinding through the C API.
template <typename F>
OrtStatusPtr guarded(F&& f) {
  try {
    f();
    return nullptr;
  } catch (const std::exception& e) {
    return Ort::GetApi().CreateStatus(ORT_RUNTIME_EXCEPTION, e.what());
  } catch (...) {
    return Ort::GetApi().CreateStatus(ORT_RUNTIME_EXCEPTION, "unknown error in custom op");
  }
}

template <typename T>
T attrOr(const Ort::ConstKernelInfo& info, const char* name, T def) {
  try {
    return info.GetAttribute<T>(name);
  } catch (const Ort::Exception&) {
    return def;
  }
}

inline std::vector<float> attrFloats(const Ort::ConstKernelInfo& info, const char* name) {
  try {
    return info.GetAttributes<float>(name);
  } catch (const Ort::Exception&) {
    return {};
  }
}

inline std::vector<int64_t> shapeOf(const Ort::ConstValue& v) { return v.GetTensorTypeAndShapeInfo().GetShape(); }

}  // namespace ovms::engine::ir::custom_op
