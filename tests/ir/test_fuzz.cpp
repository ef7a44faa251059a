// Random truncations and byte flips of fixture IRs: translation must either succeed or throw IrError.
#include <random>

#include "ir_test_util.h"

using namespace irtest;
namespace ir = ovms::engine::ir;

namespace {
void fuzz(const std::string& xml, const std::string& bin, int iterations, uint32_t seed) {
  std::mt19937 rng(seed);
  int ok = 0, err = 0;
  for (int i = 0; i < iterations; ++i) {
    std::string x = xml, b = bin;
    switch (rng() % 5) {
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
    try {
      auto t = ir::translateIrToOnnx(std::string_view(x), std::string_view(b));
      ++ok;
    } catch (const ir::IrError&) {
      ++err;
    }
  }
  EXPECT_EQ(ok + err, iterations);
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
