// A custom node for the tests, compiled against our ABI header (src/custom_nodes/custom_node_interface.h).
// Behaviour by the "mode" param:
//   echo (default)  output "out" = input "in"
//   split           output "out" = `count` copies of "in" stacked on a new dim 0 ([count, ...in])
//   fail            execute() returns an error (a node that "crashes" cleanly)
//   bad_precision   output precision UNSPECIFIED
//   bad_size        output dataBytes does not match its dims
//   no_outputs      execute() succeeds with a null outputs array
//   init_fail       initialize() fails
// Input "in" / output "out": FP32, input dims [0, 0]; output dims [0, 0] (echo) or [0, 0, 0] (split).
// test_node_live_allocations() counts buffers handed to the server and not yet released (leak checks).
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "custom_node_interface.h"

namespace {
std::atomic<long> g_live{0};
std::atomic<long> g_initialized{0};

struct Settings {
  std::string mode = "echo";
  long count = 1;
};

void* track(size_t bytes) {
  void* p = std::malloc(bytes ? bytes : 1);
  if (p) ++g_live;
  return p;
}

const char* param(const CustomNodeParam* params, int n, const char* key) {
  for (int i = 0; i < n; ++i)
    if (std::strcmp(params[i].key, key) == 0) return params[i].value;
  return nullptr;
}

int info(CustomNodeTensorInfo** out, int* count, const char* name, int rank) {
  auto* i = static_cast<CustomNodeTensorInfo*>(track(sizeof(CustomNodeTensorInfo)));
  auto* dims = static_cast<uint64_t*>(track(sizeof(uint64_t) * rank));
  for (int d = 0; d < rank; ++d) dims[d] = 0;
  i->name = name;
  i->dims = dims;
  i->dimsCount = rank;
  i->precision = FP32;
  *out = i;
  *count = 1;
  return 0;
}
}  // namespace

extern "C" {

OVMS_CUSTOM_NODE_EXPORT long test_node_live_allocations() { return g_live.load(); }
OVMS_CUSTOM_NODE_EXPORT long test_node_initialized() { return g_initialized.load(); }

OVMS_CUSTOM_NODE_EXPORT int initialize(void** manager, const CustomNodeParam* params, int n) {
  auto* s = new Settings();
  if (const char* m = param(params, n, "mode")) s->mode = m;
  if (const char* c = param(params, n, "count")) s->count = std::atol(c);
  if (s->mode == "init_fail") {
    delete s;
    return 1;
  }
  *manager = s;
  ++g_initialized;
  return 0;
}

OVMS_CUSTOM_NODE_EXPORT int deinitialize(void* manager) {
  delete static_cast<Settings*>(manager);
  --g_initialized;
  return 0;
}

OVMS_CUSTOM_NODE_EXPORT int execute(const CustomNodeTensor* inputs, int inputsCount, CustomNodeTensor** outputs,
                                    int* outputsCount, const CustomNodeParam*, int, void* manager) {
  const auto* s = static_cast<const Settings*>(manager);
  if (s->mode == "fail") return 42;
  if (s->mode == "no_outputs") {
    *outputs = nullptr;
    *outputsCount = 0;
    return 0;
  }
  if (inputsCount != 1 || std::strcmp(inputs[0].name, "in") != 0) return 1;
  const CustomNodeTensor& in = inputs[0];
  long copies = s->mode == "split" ? s->count : 1;
  auto* out = static_cast<CustomNodeTensor*>(track(sizeof(CustomNodeTensor)));
  uint64_t rank = in.dimsCount + (s->mode == "split" ? 1 : 0);
  auto* dims = static_cast<uint64_t*>(track(sizeof(uint64_t) * rank));
  if (s->mode == "split") {
    dims[0] = static_cast<uint64_t>(copies);
    for (uint64_t d = 0; d < in.dimsCount; ++d) dims[d + 1] = in.dims[d];
  } else {
    for (uint64_t d = 0; d < in.dimsCount; ++d) dims[d] = in.dims[d];
  }
  uint64_t bytes = in.dataBytes * static_cast<uint64_t>(copies);
  auto* data = static_cast<uint8_t*>(track(bytes));
  for (long c = 0; c < copies; ++c) {
    // Shard c holds the input + c, so tests can tell shards apart.
    auto* dst = reinterpret_cast<float*>(data + c * in.dataBytes);
    const auto* src = reinterpret_cast<const float*>(in.data);
    for (uint64_t e = 0; e < in.dataBytes / sizeof(float); ++e) dst[e] = src[e] + static_cast<float>(c);
  }
  out->name = "out";
  out->data = data;
  out->dataBytes = s->mode == "bad_size" ? bytes + 4 : bytes;
  out->dims = dims;
  out->dimsCount = rank;
  out->precision = s->mode == "bad_precision" ? UNSPECIFIED : FP32;
  *outputs = out;
  *outputsCount = 1;
  return 0;
}

OVMS_CUSTOM_NODE_EXPORT int getInputsInfo(CustomNodeTensorInfo** i, int* n, const CustomNodeParam*, int, void*) {
  return info(i, n, "in", 2);
}

OVMS_CUSTOM_NODE_EXPORT int getOutputsInfo(CustomNodeTensorInfo** i, int* n, const CustomNodeParam*, int, void* manager) {
  const auto* s = static_cast<const Settings*>(manager);
  return info(i, n, "out", s->mode == "split" ? 3 : 2);
}

OVMS_CUSTOM_NODE_EXPORT int release(void* ptr, void*) {
  if (ptr) --g_live;
  std::free(ptr);
  return 0;
}

}  // extern "C"
