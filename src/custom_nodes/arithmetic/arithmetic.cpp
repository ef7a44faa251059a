// Example custom node: element-wise arithmetic on a 2-D FP32 tensor.
//   input  "input_numbers"  FP32 [N, M] (any N, M)
//   output "output_numbers" FP32 [N, M] = (input + add_value) * multiply_value
//   params "add_value" (default 0), "multiply_value" (default 1); a param that is not a number makes
//   initialize() fail, so the pipeline is reported invalid at load time.
#include <cstdlib>
#include <new>

#include "node_utils.h"

using namespace example_nodes;

namespace {
struct Settings {
  float add = 0.0f;
  float multiply = 1.0f;
};
}  // namespace

extern "C" {

OVMS_CUSTOM_NODE_EXPORT int initialize(void** manager, const CustomNodeParam* params, int paramsCount) {
  auto* s = new (std::nothrow) Settings();
  if (!s) return 1;
  if (!toFloat(param(params, paramsCount, "add_value", "0"), &s->add) ||
      !toFloat(param(params, paramsCount, "multiply_value", "1"), &s->multiply)) {
    delete s;
    return 2;
  }
  *manager = s;
  return 0;
}

OVMS_CUSTOM_NODE_EXPORT int deinitialize(void* manager) {
  delete static_cast<Settings*>(manager);
  return 0;
}

OVMS_CUSTOM_NODE_EXPORT int execute(const CustomNodeTensor* inputs, int inputsCount, CustomNodeTensor** outputs,
                                    int* outputsCount, const CustomNodeParam*, int, void* manager) {
  const auto* s = static_cast<const Settings*>(manager);
  const CustomNodeTensor* in = findInput(inputs, inputsCount, "input_numbers");
  if (!s || !in || in->precision != FP32 || in->dimsCount != 2) return 1;
  uint64_t count = in->dims[0] * in->dims[1];
  if (in->dataBytes != count * sizeof(float)) return 2;
  auto* out = static_cast<CustomNodeTensor*>(std::malloc(sizeof(CustomNodeTensor)));
  auto* data = static_cast<float*>(std::malloc(count ? count * sizeof(float) : 1));
  uint64_t* dims = newDims({in->dims[0], in->dims[1]});
  if (!out || !data || !dims) {
    std::free(out);
    std::free(data);
    std::free(dims);
    return 3;
  }
  const auto* src = reinterpret_cast<const float*>(in->data);
  for (uint64_t i = 0; i < count; ++i) data[i] = (src[i] + s->add) * s->multiply;
  out->name = "output_numbers";
  out->data = reinterpret_cast<uint8_t*>(data);
  out->dataBytes = count * sizeof(float);
  out->dims = dims;
  out->dimsCount = 2;
  out->precision = FP32;
  *outputs = out;
  *outputsCount = 1;
  return 0;
}

static int oneInfo(CustomNodeTensorInfo** info, int* infoCount, const char* name) {
  auto* i = static_cast<CustomNodeTensorInfo*>(std::malloc(sizeof(CustomNodeTensorInfo)));
  uint64_t* dims = newDims({0, 0});
  if (!i || !dims) {
    std::free(i);
    std::free(dims);
    return 1;
  }
  i->name = name;
  i->dims = dims;
  i->dimsCount = 2;
  i->precision = FP32;
  *info = i;
  *infoCount = 1;
  return 0;
}

OVMS_CUSTOM_NODE_EXPORT int getInputsInfo(CustomNodeTensorInfo** info, int* infoCount, const CustomNodeParam*, int, void*) {
  return oneInfo(info, infoCount, "input_numbers");
}

OVMS_CUSTOM_NODE_EXPORT int getOutputsInfo(CustomNodeTensorInfo** info, int* infoCount, const CustomNodeParam*, int, void*) {
  return oneInfo(info, infoCount, "output_numbers");
}

OVMS_CUSTOM_NODE_EXPORT int release(void* ptr, void*) {
  std::free(ptr);
  return 0;
}

}  // extern "C"
