/*
 * Custom node C ABI of the model server (binary compatible with OpenVINO Model Server's custom node
 * interface): a pipeline node implemented in a shared library (.so) that the server dlopen()s.
 *
 * A library exports the six functions below (C linkage, exact names). Every function returns 0 on
 * success and any other value on failure.
 *
 * Ownership rules:
 *  - Everything the server passes in (input tensors, their data and dims, params, names) is owned by
 *    the server and valid only during the call. A node must not free or keep it.
 *  - Everything a node hands out (the outputs array of execute(), each output's data and dims, the
 *    info array of getInputsInfo()/getOutputsInfo() and each info's dims) is owned by the node
 *    until the server returns it through release(ptr, manager), once per pointer. Output data may
 *    be released long after execute() returned (it flows to later nodes without a copy).
 *  - Output and info names are not released: they must point to storage that outlives the library
 *    (string literals) or at least the pipeline using it.
 *  - When execute() fails (non-zero), the node frees whatever it allocated itself; the server calls
 *    release() on nothing.
 *  - Dims of 0 in getInputsInfo()/getOutputsInfo() mean "any size" (dynamic).
 *
 * `manager` is the node's own state: initialize() may set *manager (per pipeline node, with that
 * node's params); it is passed to every later call and to deinitialize().
 *
 * Layout (LP64): CustomNodeTensor is 48 bytes (name@0, data@8, dataBytes@16, dims@24, dimsCount@32,
 * precision@40), CustomNodeTensorInfo is 32 bytes (name@0, dims@8, dimsCount@16, precision@24),
 * CustomNodeParam is 16 bytes (key@0, value@8); the precision enum is an int.
 */
#ifndef OVMS_CPP_CUSTOM_NODE_INTERFACE_H
#define OVMS_CPP_CUSTOM_NODE_INTERFACE_H

#include <stdint.h>

#if defined(__GNUC__)
#define OVMS_CUSTOM_NODE_EXPORT __attribute__((visibility("default")))
#else
#define OVMS_CUSTOM_NODE_EXPORT
#endif

/* Element type of a tensor. The numeric values are part of the ABI. */
typedef enum {
  UNSPECIFIED = 0,
  FP32 = 1,
  FP16 = 2,
  U8 = 3,
  I8 = 4,
  I16 = 5,
  U16 = 6,
  I32 = 7,
  FP64 = 8,
  I64 = 9
} CustomNodeTensorPrecision;

/* A dense tensor: `dimsCount` dims, row-major bytes. */
struct CustomNodeTensor {
  const char* name;
  uint8_t* data;
  uint64_t dataBytes;
  uint64_t* dims;
  uint64_t dimsCount;
  CustomNodeTensorPrecision precision;
};

/* Metadata of one node input or output (dims of 0 = any size). */
struct CustomNodeTensorInfo {
  const char* name;
  uint64_t* dims;
  uint64_t dimsCount;
  CustomNodeTensorPrecision precision;
};

/* One `params` entry of the pipeline node config. */
struct CustomNodeParam {
  const char* key;
  const char* value;
};

#ifdef __cplusplus
extern "C" {
#endif

OVMS_CUSTOM_NODE_EXPORT int initialize(void** manager, const struct CustomNodeParam* params, int paramsCount);
OVMS_CUSTOM_NODE_EXPORT int deinitialize(void* manager);
OVMS_CUSTOM_NODE_EXPORT int execute(const struct CustomNodeTensor* inputs, int inputsCount,
                                    struct CustomNodeTensor** outputs, int* outputsCount,
                                    const struct CustomNodeParam* params, int paramsCount, void* manager);
OVMS_CUSTOM_NODE_EXPORT int getInputsInfo(struct CustomNodeTensorInfo** info, int* infoCount,
                                          const struct CustomNodeParam* params, int paramsCount, void* manager);
OVMS_CUSTOM_NODE_EXPORT int getOutputsInfo(struct CustomNodeTensorInfo** info, int* infoCount,
                                           const struct CustomNodeParam* params, int paramsCount, void* manager);
OVMS_CUSTOM_NODE_EXPORT int release(void* ptr, void* manager);

#ifdef __cplusplus
}
#endif

#endif /* OVMS_CPP_CUSTOM_NODE_INTERFACE_H */
