/* The ABI header compiles as C (node authors write C too), and its layouts are what OVMS's
 * custom_node_interface.h implies on LP64: pointers and uint64_t are 8 bytes, the enum is an int. */
#include <stddef.h>

#include "custom_node_interface.h"

_Static_assert(sizeof(struct CustomNodeTensor) == 48, "CustomNodeTensor size");
_Static_assert(offsetof(struct CustomNodeTensor, name) == 0, "name");
_Static_assert(offsetof(struct CustomNodeTensor, data) == 8, "data");
_Static_assert(offsetof(struct CustomNodeTensor, dataBytes) == 16, "dataBytes");
_Static_assert(offsetof(struct CustomNodeTensor, dims) == 24, "dims");
_Static_assert(offsetof(struct CustomNodeTensor, dimsCount) == 32, "dimsCount");
_Static_assert(offsetof(struct CustomNodeTensor, precision) == 40, "precision");
_Static_assert(sizeof(struct CustomNodeTensorInfo) == 32, "CustomNodeTensorInfo size");
_Static_assert(offsetof(struct CustomNodeTensorInfo, precision) == 24, "info precision");
_Static_assert(sizeof(struct CustomNodeParam) == 16, "CustomNodeParam size");
_Static_assert(sizeof(CustomNodeTensorPrecision) == 4, "enum size");

/* Layout facts seen from C, for the C++ test to compare with its own view. */
size_t abi_c_tensor_size(void) { return sizeof(struct CustomNodeTensor); }
size_t abi_c_tensor_precision_offset(void) { return offsetof(struct CustomNodeTensor, precision); }
size_t abi_c_info_size(void) { return sizeof(struct CustomNodeTensorInfo); }
size_t abi_c_param_size(void) { return sizeof(struct CustomNodeParam); }
int abi_c_precision_value(int which) {
  static const CustomNodeTensorPrecision all[] = {UNSPECIFIED, FP32, FP16, U8, I8, I16, U16, I32, FP64, I64};
  return (int)all[which];
}
