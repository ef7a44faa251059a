#pragma once
// A custom node library (.so exposing the custom node C ABI, src/custom_nodes/custom_node_interface.h)
// opened with dlopen. Shared by every pipeline node that uses it; closed when the last user goes.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "serving/pipeline/pipeline_config.h"

struct CustomNodeTensor;
struct CustomNodeTensorInfo;
struct CustomNodeParam;

namespace ovms::serving::pipeline {

class NodeLibrary {
 public:
  using InitializeFn = int (*)(void**, const CustomNodeParam*, int);
  using DeinitializeFn = int (*)(void*);
  using ExecuteFn = int (*)(const CustomNodeTensor*, int, CustomNodeTensor**, int*, const CustomNodeParam*, int, void*);
  using MetadataFn = int (*)(CustomNodeTensorInfo**, int*, const CustomNodeParam*, int, void*);
  using ReleaseFn = int (*)(void*, void*);

  // Opens `path` and resolves the six ABI functions: NODE_LIBRARY_LOAD_FAILED_OPEN (dlopen failed)
  // or NODE_LIBRARY_LOAD_FAILED_SYM (a function is missing).
  static Status open(const std::string& name, const std::string& path, std::shared_ptr<const NodeLibrary>* out);
  ~NodeLibrary();
  NodeLibrary(const NodeLibrary&) = delete;
  NodeLibrary& operator=(const NodeLibrary&) = delete;

  const std::string& name() const { return name_; }
  const std::string& path() const { return path_; }

  InitializeFn initialize = nullptr;
  DeinitializeFn deinitialize = nullptr;
  ExecuteFn execute = nullptr;
  MetadataFn getInputsInfo = nullptr;
  MetadataFn getOutputsInfo = nullptr;
  ReleaseFn release = nullptr;

 private:
  NodeLibrary() = default;
  std::string name_, path_;
  void* handle_ = nullptr;
};

// custom_node_library_config_list: name -> opened library. A reload keeps libraries whose path is
// unchanged (pipelines keep using them), reopens changed ones and drops removed ones (a library
// stays open while any pipeline still holds it).
class NodeLibraryRegistry {
 public:
  // Applies the list; returns the first load error (the failing library is not registered).
  Status apply(const std::vector<CustomNodeLibraryConfig>& libraries);
  // nullptr when no valid library has that name.
  std::shared_ptr<const NodeLibrary> find(const std::string& name) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const NodeLibrary>> libraries_;
};

}  // namespace ovms::serving::pipeline
