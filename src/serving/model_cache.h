#pragma once
// The optimised-model cache (cache_dir): engine sessions are created through it, keyed by the
// model bytes and the engine options.
#include <memory>
#include <string>

#include "engine/onnx_model.h"

namespace ovms::serving {

// Creates the session, through the cache when `cache_dir` is set: a valid entry (its checksum file
// matches) is loaded without re-optimising; a missing or corrupt one is (re)written from the
// original bytes. *cache_path = the entry used ("" when the cache is off or unusable).
std::unique_ptr<engine::OnnxModel> loadSession(const std::string& bytes, const engine::EngineOptions& eo,
                                               const std::string& cache_dir, std::string* cache_path,
                                               bool* from_cache, std::string* error);

}  // namespace ovms::serving
