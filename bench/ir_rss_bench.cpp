// Resident memory of one model as the server loads it: IR translation (or the .onnx bytes), engine::OnnxModel with
// the server's session options, the translated bytes dropped, then one inference on a zero input (dynamic dims = 1).
//
//   ir_rss_bench <model.xml|model.onnx> [--emulation]
//
// Prints one markdown row: weights file size (MiB), RSS growth (MiB) after loading the first instance and after its
// first inference, then the growth for a second instance of the same model loaded alongside (after load, after its
// first inference): the second is what one more model costs a server that already runs one. One model per process.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/ir/ir_model.h"
#include "engine/ir/qdq_rewrite.h"
#include "engine/onnx_model.h"

namespace fs = std::filesystem;
namespace engine = ovms::engine;

namespace {

// VmRSS / VmHWM of this process in KiB, after returning freed heap to the system (else memory that the translation
// freed and the next step reuses blurs the steps).
long statusKb(const char* key) {
  malloc_trim(0);
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(std::strlen(key) + 1));
  return -1;
}

std::string readFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: ir_rss_bench <model.xml|model.onnx> [--emulation]\n");
    return 2;
  }
  fs::path model = argv[1];
  for (int i = 2; i < argc; ++i)
    if (std::string(argv[i]) == "--emulation") ovms::engine::ir::setFakeQuantizeEmulation(true);
  // warm the engine's process-wide state (environment, thread pools) so it is not counted as the model's
  (void)engine::engineVersion();
  engine::EngineOptions eo;
  // IR_RSS_SAVE=<file>: keep the graph ONNX Runtime runs after its optimisations
  if (const char* save = std::getenv("IR_RSS_SAVE")) eo.optimized_model_path = save;
  long weights = 0;
  auto loadOne = [&]() {
    std::string bytes, err;
    if (model.extension() == ".xml") {
      fs::path bin = model;
      bin.replace_extension(".bin");
      weights = static_cast<long>(fs::file_size(bin));
      bytes = ovms::engine::ir::translateIrToOnnx(model.string(), bin.string()).onnx_model;
    } else {
      bytes = readFile(model);
      weights = static_cast<long>(bytes.size());
    }
    auto m = engine::OnnxModel::load(bytes, eo, &err);
    if (!m) throw std::runtime_error("load failed: " + err);
    return m;
  };
  auto inferOne = [&](const engine::OnnxModel& m) {
    std::vector<std::vector<char>> buffers;
    std::vector<engine::TensorView> ins;
    for (const auto& info : m.inputs()) {
      engine::TensorView t;
      t.precision = info.precision;
      t.shape = info.shape;
      size_t n = 1;
      for (auto& d : t.shape) {
        if (d < 0) d = 1;
        n *= static_cast<size_t>(d);
      }
      t.bytes = n * engine::elementSize(info.precision);
      buffers.emplace_back(t.bytes, 0);
      t.data = buffers.back().data();
      ins.push_back(t);
    }
    std::vector<engine::TensorView> outs;
    std::string err;
    if (!m.infer(ins, &outs, &err)) throw std::runtime_error("infer failed: " + err);
  };
  try {
    // The first instance also pays for what every model shares (engine code pages, environment, allocator
    // set-up); the second instance of the same model, kept alongside, is what one more model costs.
    const long base = statusKb("VmRSS:");
    auto first = loadOne();
    const long first_load = statusKb("VmRSS:");
    inferOne(*first);
    const long first_infer = statusKb("VmRSS:");
    auto second = loadOne();
    const long second_load = statusKb("VmRSS:");
    inferOne(*second);
    const long second_infer = statusKb("VmRSS:");
    std::printf("%s | %.2f | %.1f | %.1f | %.1f | %.1f\n", model.filename().c_str(), weights / 1048576.0, (first_load - base) / 1024.0,
                (first_infer - base) / 1024.0, (second_load - first_infer) / 1024.0, (second_infer - first_infer) / 1024.0);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
