// IR translation benchmark: translation + session-load time of OpenVINO IR models vs ONNX, and inference latency
// of the IR-translated session vs the original ONNX session (open-closed-eye-0001 has both forms).
//
//   ir_load_bench [fixtures_dir] [--runs N] [--threads T]
//
// For every IR under <fixtures>/omz-ir and <fixtures>/ovms-test-models it prints the median of N runs of
//   translate  : translateIrToOnnx(xml, bin) (XML parse + graph build + serialize)
//   session    : Ort::Session creation from the translated bytes
//   infer      : Session::Run on a fixed input (dynamic dims = 1)
// and, where an ONNX version of the same network exists, the ONNX session creation and inference with ratios.
#include <onnxruntime_cxx_api.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/ir/custom_ops.h"
#include "engine/ir/ir_model.h"
#include "engine/ir/op_registry.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
namespace ir = ovms::engine::ir;

namespace {

int g_runs = 10;
int g_threads = 1;

std::string readFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

double ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

Ort::Env& env() {
  static Ort::Env e(ORT_LOGGING_LEVEL_ERROR, "ir_bench");
  return e;
}

Ort::SessionOptions options() {
  Ort::SessionOptions so;
  so.SetIntraOpNumThreads(g_threads);
  so.SetInterOpNumThreads(1);
  so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
  ir::registerIrCustomOps(so);
  return so;
}

// Inputs filled with a deterministic pattern in 0..255 (image-like).
struct Inputs {
  std::vector<std::string> names;
  std::vector<std::vector<char>> buffers;  // heap storage: stable across moves
  std::vector<std::vector<int64_t>> shapes;
  std::vector<ONNXTensorElementDataType> types;
  std::vector<Ort::Value> values;
};

size_t elemSize(ONNXTensorElementDataType t) {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return 8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return 4;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16: return 2;
    default: return 1;
  }
}

Inputs makeInputs(Ort::Session& s) {
  Inputs in;
  Ort::AllocatorWithDefaultOptions alloc;
  auto mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  size_t n = s.GetInputCount();
  in.buffers.resize(n);
  for (size_t i = 0; i < n; ++i) {
    in.names.push_back(s.GetInputNameAllocated(i, alloc).get());
    auto type_info = s.GetInputTypeInfo(i);  // owns the shape info below
    auto info = type_info.GetTensorTypeAndShapeInfo();
    auto shape = info.GetShape();
    for (auto& d : shape)
      if (d < 0) d = 1;
    int64_t count = 1;
    for (auto d : shape) count *= d;
    auto t = info.GetElementType();
    std::vector<char>& b = in.buffers[i];
    b.resize(static_cast<size_t>(count) * elemSize(t));
    for (int64_t k = 0; k < count; ++k) {
      double v = static_cast<double>((k * 37) % 256);
      switch (t) {
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: { float f = static_cast<float>(v); std::memcpy(&b[k * 4], &f, 4); break; }
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: std::memcpy(&b[k * 8], &v, 8); break;
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: { uint16_t h = ir::floatToHalf(static_cast<float>(v)); std::memcpy(&b[k * 2], &h, 2); break; }
        default: b[static_cast<size_t>(k) * elemSize(t)] = static_cast<char>(static_cast<int>(v) % 100); break;
      }
    }
    in.shapes.push_back(shape);
    in.types.push_back(t);
  }
  for (size_t i = 0; i < n; ++i)
    in.values.push_back(Ort::Value::CreateTensor(mem, in.buffers[i].data(), in.buffers[i].size(), in.shapes[i].data(), in.shapes[i].size(), in.types[i]));
  return in;
}

double inferMedian(Ort::Session& s, Inputs& in, int runs) {
  Ort::AllocatorWithDefaultOptions alloc;
  std::vector<std::string> outs;
  for (size_t i = 0; i < s.GetOutputCount(); ++i) outs.push_back(s.GetOutputNameAllocated(i, alloc).get());
  std::vector<const char*> on, inn;
  for (auto& o : outs) on.push_back(o.c_str());
  for (auto& n : in.names) inn.push_back(n.c_str());
  s.Run(Ort::RunOptions{nullptr}, inn.data(), in.values.data(), in.values.size(), on.data(), on.size());  // warm-up
  std::vector<double> t;
  for (int k = 0; k < runs; ++k) {
    auto a = Clock::now();
    s.Run(Ort::RunOptions{nullptr}, inn.data(), in.values.data(), in.values.size(), on.data(), on.size());
    t.push_back(ms(a, Clock::now()));
  }
  return median(t);
}

struct IrResult {
  std::string name;
  size_t xml_kb = 0, bin_kb = 0, onnx_kb = 0;
  double translate = 0, session = 0, infer = 0;
};

IrResult benchIr(const std::string& label, const fs::path& xml, const fs::path& bin, int runs) {
  IrResult r;
  r.name = label;
  r.xml_kb = fs::file_size(xml) / 1024;
  r.bin_kb = fs::file_size(bin) / 1024;
  std::vector<double> tt, ts;
  ir::IrTranslation t;
  for (int k = 0; k < std::max(3, runs / 2); ++k) {
    auto a = Clock::now();
    t = ir::translateIrToOnnx(xml.string(), bin.string());
    tt.push_back(ms(a, Clock::now()));
  }
  r.onnx_kb = t.onnx_model.size() / 1024;
  std::unique_ptr<Ort::Session> s;
  for (int k = 0; k < std::max(3, runs / 3); ++k) {
    auto so = options();
    auto a = Clock::now();
    s = std::make_unique<Ort::Session>(env(), t.onnx_model.data(), t.onnx_model.size(), so);
    ts.push_back(ms(a, Clock::now()));
  }
  r.translate = median(tt);
  r.session = median(ts);
  auto in = makeInputs(*s);
  r.infer = inferMedian(*s, in, runs);
  return r;
}

fs::path findExt(const fs::path& dir, const std::string& ext) {
  for (auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ext) return e.path();
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  std::string fixtures = IR_FIXTURES_DIR;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) g_runs = std::max(1, std::atoi(argv[++i]));
    else if (a == "--threads" && i + 1 < argc) g_threads = std::max(1, std::atoi(argv[++i]));
    else fixtures = a;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("IR translation benchmark: fixtures %s, %d runs (median), %d intra-op thread(s)\n\n", fixtures.c_str(), g_runs, g_threads);
  std::printf("%-52s %8s %8s %9s %10s %10s %9s %10s\n", "model", "xml KiB", "bin KiB", "onnx KiB", "translate", "session", "tr/sess", "infer ms");
  std::vector<IrResult> results;
  for (const char* group : {"ovms-test-models", "omz-ir"}) {
    fs::path root = fs::path(fixtures) / group;
    if (!fs::is_directory(root)) continue;
    std::vector<fs::path> models;
    for (auto& m : fs::directory_iterator(root))
      if (m.is_directory()) models.push_back(m.path());
    std::sort(models.begin(), models.end());
    for (auto& m : models) {
      std::vector<fs::path> versions;
      for (auto& v : fs::directory_iterator(m))
        if (v.is_directory()) versions.push_back(v.path());
      std::sort(versions.begin(), versions.end());
      for (auto& v : versions) {
        fs::path xml = findExt(v, ".xml"), bin = findExt(v, ".bin");
        if (xml.empty() || bin.empty()) continue;
        std::string label = m.filename().string() + "/" + v.filename().string();
        try {
          auto r = benchIr(label, xml, bin, g_runs);
          std::printf("%-52s %8zu %8zu %9zu %8.2f ms %7.2f ms %9.3f %10.3f\n", label.c_str(), r.xml_kb, r.bin_kb, r.onnx_kb, r.translate, r.session,
                      r.translate / r.session, r.infer);
          std::fflush(stdout);
          results.push_back(r);
        } catch (const std::exception& e) {
          std::printf("%-52s failed: %s\n", label.c_str(), e.what());
        }
      }
    }
  }

  // IR vs ONNX of the same network.
  fs::path eye = fs::path(fixtures) / "omz-ir" / "open-closed-eye-0001";
  fs::path onnx = findExt(eye / "2", ".onnx");
  if (!onnx.empty()) {
    auto it = std::find_if(results.begin(), results.end(), [](const IrResult& r) { return r.name == "open-closed-eye-0001/1"; });
    std::string bytes = readFile(onnx);
    std::vector<double> ts;
    std::unique_ptr<Ort::Session> s;
    for (int k = 0; k < std::max(3, g_runs / 3); ++k) {
      auto so = options();
      auto a = Clock::now();
      s = std::make_unique<Ort::Session>(env(), bytes.data(), bytes.size(), so);
      ts.push_back(ms(a, Clock::now()));
    }
    auto in = makeInputs(*s);
    double infer = inferMedian(*s, in, g_runs);
    double load = median(ts);
    std::printf("\nopen-closed-eye-0001: IR (v1) vs the ONNX it was converted from (v2)\n");
    std::printf("  ONNX session load         %8.2f ms\n", load);
    std::printf("  ONNX inference            %8.3f ms\n", infer);
    if (it != results.end()) {
      std::printf("  IR translate+session load %8.2f ms  (ratio IR/ONNX %.2f)\n", it->translate + it->session, (it->translate + it->session) / load);
      std::printf("  IR inference              %8.3f ms  (ratio IR/ONNX %.2f)\n", it->infer, it->infer / infer);
    }
  }
  return 0;
}
