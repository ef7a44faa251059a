#include "serving/pipeline/node_library.h"

#include <dlfcn.h>

#include "common/logging.h"

namespace ovms::serving::pipeline {

Status NodeLibrary::open(const std::string& name, const std::string& path, std::shared_ptr<const NodeLibrary>* out) {
  // RTLD_LOCAL: every library's `execute`, `release`, ... stay private to it, so several custom
  // node libraries (all exporting the same names) coexist.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* err = dlerror();
    MODEL_LOG(err, "Library name: {} failed to open base_path: {} with error: {}", name, path, err ? err : "");
    return StatusCode::NODE_LIBRARY_LOAD_FAILED_OPEN;
  }
  std::shared_ptr<NodeLibrary> lib(new NodeLibrary());
  lib->name_ = name;
  lib->path_ = path;
  lib->handle_ = handle;
  auto sym = [&](const char* fn) -> void* {
    dlerror();
    void* p = dlsym(handle, fn);
    if (!p) MODEL_LOG(err, "Failed to load library name: {} with error: {} missing symbol {}", name, dlerror() ?: "", fn);
    return p;
  };
  lib->initialize = reinterpret_cast<InitializeFn>(sym("initialize"));
  lib->deinitialize = lib->initialize ? reinterpret_cast<DeinitializeFn>(sym("deinitialize")) : nullptr;
  lib->execute = lib->deinitialize ? reinterpret_cast<ExecuteFn>(sym("execute")) : nullptr;
  lib->getInputsInfo = lib->execute ? reinterpret_cast<MetadataFn>(sym("getInputsInfo")) : nullptr;
  lib->getOutputsInfo = lib->getInputsInfo ? reinterpret_cast<MetadataFn>(sym("getOutputsInfo")) : nullptr;
  lib->release = lib->getOutputsInfo ? reinterpret_cast<ReleaseFn>(sym("release")) : nullptr;
  if (!lib->release) return StatusCode::NODE_LIBRARY_LOAD_FAILED_SYM;  // the destructor closes it
  MODEL_LOG(info, "Successfully loaded custom node library name: {}; base_path: {}", name, path);
  *out = std::move(lib);
  return StatusCode::OK;
}

NodeLibrary::~NodeLibrary() {
  if (handle_) dlclose(handle_);
}

Status NodeLibraryRegistry::apply(const std::vector<CustomNodeLibraryConfig>& libraries) {
  Status first = StatusCode::OK;
  std::map<std::string, std::shared_ptr<const NodeLibrary>> fresh;
  for (const auto& cfg : libraries) {
    {
      std::lock_guard lock(mutex_);
      auto it = libraries_.find(cfg.name);
      if (it != libraries_.end() && it->second->path() == cfg.base_path) {
        fresh[cfg.name] = it->second;
        continue;
      }
    }
    std::shared_ptr<const NodeLibrary> lib;
    Status st = NodeLibrary::open(cfg.name, cfg.base_path, &lib);
    if (!st.ok()) {
      if (first.ok()) first = st;
      continue;
    }
    fresh[cfg.name] = std::move(lib);
  }
  std::lock_guard lock(mutex_);
  libraries_.swap(fresh);
  return first;
}

std::shared_ptr<const NodeLibrary> NodeLibraryRegistry::find(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = libraries_.find(name);
  return it == libraries_.end() ? nullptr : it->second;
}

}  // namespace ovms::serving::pipeline
