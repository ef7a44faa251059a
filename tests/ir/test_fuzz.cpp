// Random truncations and byte flips of fixture IRs: translation must either throw IrError or give a model
// that ONNX Runtime loads and runs (a crash or any other exception fails the test).
#include <random>

#include "ir_test_util.h"

using namespace irtest;
namespace ir = ovms::engine::ir;

namespace {
// A successful translation must be a model ONNX Runtime loads and runs: zero-filled inputs, dynamic dims as 1.
void expectLoadsAndRuns(const std::string& onnx_model, const std::string& what) {
  try {
    Runner r(onnx_model);
    Ort::AllocatorWithDefaultOptions alloc;
    std::vector<std::pair<std::string, Tensor>> inputs;
    for (size_t i = 0; i < r.session().GetInputCount(); ++i) {
      Ort::TypeInfo type_info = r.session().GetInputTypeInfo(i);  // owns what the view below points into
      auto info = type_info.GetTensorTypeAndShapeInfo();
      Tensor t;
      t.type = info.GetElementType();
      t.shape = info.GetShape();
      for (auto& d : t.shape)
        if (d < 0) d = 1;
      t.data.assign(static_cast<size_t>(t.numel()) * elemSize(t.type), '\0');
      inputs.emplace_back(r.session().GetInputNameAllocated(i, alloc).get(), std::move(t));
    }
    auto outs = r.run(inputs);
    EXPECT_EQ(outs.size(), r.session().GetOutputCount()) << what;
  } catch (const Ort::Exception& e) {
    ADD_FAILURE() << what << ": translated, but ONNX Runtime cannot load or run the result: " << e.what();
  }
}

void fuzz(const std::string& xml, const std::string& bin, int iterations, uint32_t seed) {
  std::mt19937 rng(seed);
  int ok = 0, err = 0;
  for (int i = 0; i < iterations; ++i) {
    std::string x = xml, b = bin;
    int kind = static_cast<int>(rng() % 5);
    switch (kind) {
      case 0: x.resize(rng() % (x.size() + 1)); break;
      case 1: b.resize(rng() % (b.size() + 1)); break;
      case 2:
        for (int k = 0; k < 1 + static_cast<int>(rng() % 8); ++k)
          if (!x.empty()) x[rng() % x.size()] = static_cast<char>(rng() % 256);
        break;
      case 3:
        for (int k = 0; k < 1 + static_cast<int>(rng() % 8); ++k)
          if (!x.empty()) x[rng() % x.size()] = "0123456789-,\"<>/ "[rng() % 17];
        break;
      default:
        for (int k = 0; k < 64; ++k)
          if (!b.empty()) b[rng() % b.size()] = static_cast<char>(rng() % 256);
    }
    ir::IrTranslation t;
    try {
      t = ir::translateIrToOnnx(std::string_view(x), std::string_view(b));
    } catch (const ir::IrError& e) {
      ++err;
      EXPECT_GT(std::string(e.what()).size(), 0u);
      continue;
    }
    ++ok;
    expectLoadsAndRuns(t.onnx_model, "seed " + std::to_string(seed) + " iteration " + std::to_string(i) + " mutation " + std::to_string(kind));
  }
  // Both outcomes occur: flipped weight bytes still translate, truncated XML never does.
  EXPECT_GT(ok, 0);
  EXPECT_GT(err, 0);
}
}  // namespace

TEST(IrFuzz, TestModelsNeverCrash) {
  IR_REQUIRE_FIXTURES();
  std::string d = fixturesDir() + "/ovms-test-models/";
  fuzz(readFile(d + "dummy/1/dummy.xml"), readFile(d + "dummy/1/dummy.bin"), 400, 1);
  fuzz(readFile(d + "no_name_output/1/model.xml"), readFile(d + "no_name_output/1/model.bin"), 400, 2);
}

TEST(IrFuzz, OmzModelsNeverCrash) {
  IR_REQUIRE_FIXTURES();
  std::string d = fixturesDir() + "/omz-ir/";
  fuzz(readFile(d + "open-closed-eye-0001/1/open-closed-eye-0001.xml"), readFile(d + "open-closed-eye-0001/1/open-closed-eye-0001.bin"), 200, 3);
  fuzz(readFile(d + "face-detection-retail-0004/1/face-detection-retail-0004.xml"), readFile(d + "face-detection-retail-0004/1/face-detection-retail-0004.bin"), 40, 4);
}
