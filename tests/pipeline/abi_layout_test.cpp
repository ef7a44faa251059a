// The custom node ABI: struct layouts and enum values must be what OVMS's custom_node_interface.h
// implies, so that a library built for OVMS loads into this server unchanged; and a node compiled
// against our header (test_node.cpp) loads and resolves all six functions.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <type_traits>

#include "custom_node_interface.h"
#include "serving/pipeline/node_library.h"

extern "C" {
size_t abi_c_tensor_size(void);
size_t abi_c_tensor_precision_offset(void);
size_t abi_c_info_size(void);
size_t abi_c_param_size(void);
int abi_c_precision_value(int which);
}

TEST(CustomNodeAbi, StructLayouts) {
  EXPECT_EQ(sizeof(CustomNodeTensor), 48u);
  EXPECT_EQ(offsetof(CustomNodeTensor, name), 0u);
  EXPECT_EQ(offsetof(CustomNodeTensor, data), 8u);
  EXPECT_EQ(offsetof(CustomNodeTensor, dataBytes), 16u);
  EXPECT_EQ(offsetof(CustomNodeTensor, dims), 24u);
  EXPECT_EQ(offsetof(CustomNodeTensor, dimsCount), 32u);
  EXPECT_EQ(offsetof(CustomNodeTensor, precision), 40u);
  EXPECT_EQ(sizeof(CustomNodeTensorInfo), 32u);
  EXPECT_EQ(offsetof(CustomNodeTensorInfo, name), 0u);
  EXPECT_EQ(offsetof(CustomNodeTensorInfo, dims), 8u);
  EXPECT_EQ(offsetof(CustomNodeTensorInfo, dimsCount), 16u);
  EXPECT_EQ(offsetof(CustomNodeTensorInfo, precision), 24u);
  EXPECT_EQ(sizeof(CustomNodeParam), 16u);
  EXPECT_EQ(offsetof(CustomNodeParam, key), 0u);
  EXPECT_EQ(offsetof(CustomNodeParam, value), 8u);
  EXPECT_EQ(sizeof(CustomNodeTensorPrecision), sizeof(int));
  // Field types: uint8_t* data, uint64_t sizes and dims.
  EXPECT_TRUE((std::is_same_v<decltype(CustomNodeTensor::data), uint8_t*>));
  EXPECT_TRUE((std::is_same_v<decltype(CustomNodeTensor::dims), uint64_t*>));
  EXPECT_TRUE((std::is_same_v<decltype(CustomNodeTensor::dataBytes), uint64_t>));
  EXPECT_TRUE((std::is_same_v<decltype(CustomNodeTensorInfo::dimsCount), uint64_t>));
}

TEST(CustomNodeAbi, SameLayoutSeenFromC) {
  EXPECT_EQ(abi_c_tensor_size(), sizeof(CustomNodeTensor));
  EXPECT_EQ(abi_c_tensor_precision_offset(), offsetof(CustomNodeTensor, precision));
  EXPECT_EQ(abi_c_info_size(), sizeof(CustomNodeTensorInfo));
  EXPECT_EQ(abi_c_param_size(), sizeof(CustomNodeParam));
}

TEST(CustomNodeAbi, PrecisionEnumValues) {
  // UNSPECIFIED, FP32, FP16, U8, I8, I16, U16, I32, FP64, I64 = 0..9, in this order.
  EXPECT_EQ(UNSPECIFIED, 0);
  EXPECT_EQ(FP32, 1);
  EXPECT_EQ(FP16, 2);
  EXPECT_EQ(U8, 3);
  EXPECT_EQ(I8, 4);
  EXPECT_EQ(I16, 5);
  EXPECT_EQ(U16, 6);
  EXPECT_EQ(I32, 7);
  EXPECT_EQ(FP64, 8);
  EXPECT_EQ(I64, 9);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(abi_c_precision_value(i), i);
}

TEST(CustomNodeAbi, NodeBuiltAgainstOurHeaderExportsTheSixFunctions) {
  for (const char* path : {TEST_NODE_PATH, CROP_NODE_PATH, ARITHMETIC_NODE_PATH}) {
    void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(h, nullptr) << dlerror();
    for (const char* fn : {"initialize", "deinitialize", "execute", "getInputsInfo", "getOutputsInfo", "release"})
      EXPECT_NE(dlsym(h, fn), nullptr) << path << " " << fn;
    dlclose(h);
  }
  std::shared_ptr<const ovms::serving::pipeline::NodeLibrary> lib;
  EXPECT_TRUE(ovms::serving::pipeline::NodeLibrary::open("test", TEST_NODE_PATH, &lib).ok());
  ASSERT_NE(lib, nullptr);
  EXPECT_NE(lib->execute, nullptr);
}

TEST(CustomNodeAbi, LoadErrors) {
  std::shared_ptr<const ovms::serving::pipeline::NodeLibrary> lib;
  auto st = ovms::serving::pipeline::NodeLibrary::open("missing", "/nonexistent/libnode.so", &lib);
  EXPECT_EQ(st.code(), ovms::StatusCode::NODE_LIBRARY_LOAD_FAILED_OPEN);
  EXPECT_EQ(st.message(), "Custom node library failed to open");
  // libdl/libc is a valid shared object without the ABI functions.
  st = ovms::serving::pipeline::NodeLibrary::open("libc", "libc.so.6", &lib);
  EXPECT_EQ(st.code(), ovms::StatusCode::NODE_LIBRARY_LOAD_FAILED_SYM);
  EXPECT_EQ(st.message(), "Custom node library failed to load symbol");
}
