// Small helpers shared by the example custom nodes (header-only, C++ standard library only).
#pragma once
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "custom_node_interface.h"

namespace example_nodes {

// The value of `key` in params, or `fallback`.
inline std::string param(const CustomNodeParam* params, int count, const char* key, const std::string& fallback) {
  for (int i = 0; i < count; ++i)
    if (params[i].key && params[i].value && std::strcmp(params[i].key, key) == 0) return params[i].value;
  return fallback;
}

// Parses a whole string as a number; false when it is not one.
inline bool toFloat(const std::string& s, float* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  *out = std::strtof(s.c_str(), &end);
  return end && *end == '\0';
}
inline bool toInt(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  *out = std::strtoll(s.c_str(), &end, 10);
  return end && *end == '\0';
}

// malloc'ed copy of dims (released by the server through release()).
inline uint64_t* newDims(std::initializer_list<uint64_t> dims) {
  auto* d = static_cast<uint64_t*>(std::malloc(sizeof(uint64_t) * dims.size()));
  if (!d) return nullptr;
  size_t i = 0;
  for (uint64_t v : dims) d[i++] = v;
  return d;
}

inline const CustomNodeTensor* findInput(const CustomNodeTensor* inputs, int count, const char* name) {
  for (int i = 0; i < count; ++i)
    if (inputs[i].name && std::strcmp(inputs[i].name, name) == 0) return &inputs[i];
  return nullptr;
}

}  // namespace example_nodes
