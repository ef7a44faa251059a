#include "serving/model_cache.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/cpu.h"
#include "common/logging.h"
#include "serving/model_files.h"

namespace ovms::serving {
namespace fs = std::filesystem;
namespace {

// FNV-1a, two seeds: a 128-bit content key for cache file names.
std::string contentKey(std::string_view a, std::string_view b) {
  auto fnv = [&](uint64_t h) {
    for (std::string_view s : {a, std::string_view("\0", 1), b})
      for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
    return h;
  };
  char buf[33];
  snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(fnv(14695981039346656037ULL)),
           static_cast<unsigned long long>(fnv(0x9e3779b97f4a7c15ULL)));
  return buf;
}

}  // namespace

std::unique_ptr<engine::OnnxModel> loadSession(const std::string& bytes, const engine::EngineOptions& eo,
                                               const std::string& cache_dir, std::string* cache_path,
                                               bool* from_cache, std::string* error) {
  *from_cache = false;
  cache_path->clear();
  if (cache_dir.empty()) return engine::OnnxModel::load(bytes, eo, error);
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  if (!fs::is_directory(cache_dir, ec)) {
    MODEL_LOG(warn, "Cache directory {} cannot be used; the model cache is off", cache_dir);
    return engine::OnnxModel::load(bytes, eo, error);
  }
  std::string options = "ovms-ort-cache-v1;ort=" + engine::engineVersion() + ";device=" + eo.device +
                        ";cores=" + std::to_string(usableCores());
  std::string path = (fs::path(cache_dir) / ("ovms_" + contentKey(bytes, options) + ".onnx")).string();
  std::string sum_path = path + ".sum";
  *cache_path = path;
  if (fs::exists(path, ec)) {
    std::string cached, sum;
    bool valid = readFileBytes(path, &cached).ok() && readFileBytes(sum_path, &sum).ok() && !cached.empty() &&
                 sum == contentKey(cached, "");
    if (valid) {
      engine::EngineOptions ceo = eo;
      ceo.already_optimized = true;
      std::string cache_error;
      auto m = engine::OnnxModel::load(cached, ceo, &cache_error);
      if (m) {
        MODEL_LOG(info, "Loaded model from cache {}", path);
        *from_cache = true;
        return m;
      }
      MODEL_LOG(warn, "Cached model {} cannot be loaded ({}); it is rebuilt", path, cache_error);
    } else {
      MODEL_LOG(warn, "Cached model {} is corrupt; it is rebuilt", path);
    }
    fs::remove(path, ec);
    fs::remove(sum_path, ec);
  }
  static std::atomic<uint64_t> counter{0};
  std::string tmp = path + ".tmp" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  engine::EngineOptions seo = eo;
  seo.optimized_model_path = tmp;
  std::string save_error;
  auto m = engine::OnnxModel::load(bytes, seo, &save_error);
  std::string saved;
  if (m && readFileBytes(tmp, &saved).ok() && !saved.empty()) {
    std::ofstream(tmp + ".sum", std::ios::binary) << contentKey(saved, "");
    fs::rename(tmp + ".sum", sum_path, ec);
    if (!ec) fs::rename(tmp, path, ec);
    if (ec) MODEL_LOG(warn, "Cannot write model cache {}: {}", path, ec.message());
    else MODEL_LOG(info, "Saved optimized model to cache {}", path);
  }
  fs::remove(tmp, ec);
  fs::remove(tmp + ".sum", ec);
  if (m) return m;
  // Saving may be what failed (read-only cache): load without the cache.
  cache_path->clear();
  return engine::OnnxModel::load(bytes, eo, error);
}

}  // namespace ovms::serving
