// Servable::load with the model options: shape/batch/layout edits, name checks, validation of
// ranges, the optimised-model cache and the infer-slot wait hook.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <filesystem>
#include <thread>

#include "serving/servable.h"
#include "test_models.h"

using namespace ovms;
using namespace ovms::serving;
using namespace shapes_test;
namespace fs = std::filesystem;

namespace {

class ServableOptions : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("ovms_shapes_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  Status load(const std::string& model_bytes, ModelConfig c, std::unique_ptr<Servable>* out,
              const std::string& mapping = "") {
    auto dir = writeModelDir(root_ / "m", model_bytes);
    if (!mapping.empty()) std::ofstream(fs::path(dir) / "mapping_config.json") << mapping;
    c.name = "m";
    c.base_path = (root_ / "m").string();
    c.nireq = c.nireq ? c.nireq : 2;
    return Servable::load(dir, c, out);
  }

  static InferenceRequest request(const std::string& name, const std::vector<float>& data,
                                  const std::vector<int64_t>& shape) {
    InferenceRequest r;
    InferenceInput in;
    in.name = name;
    in.tensor = floatView(data, shape);
    r.inputs.push_back(in);
    return r;
  }

  fs::path root_;
};

}  // namespace

TEST_F(ServableOptions, NoOptionsKeepsModel) {
  std::unique_ptr<Servable> s;
  ASSERT_TRUE(load(mulModel({std::string("n"), int64_t{3}}), {}, &s).ok());
  EXPECT_EQ(s->inputs()[0].shape, (std::vector<int64_t>{-1, 3}));
  EXPECT_TRUE(s->cachePath().empty());
}

TEST_F(ServableOptions, BatchSizeFixed) {
  std::unique_ptr<Servable> s;
  ModelConfig c;
  c.batch_size = "4";
  ASSERT_TRUE(load(mulModel({std::string("n"), int64_t{3}}), c, &s).ok());
  EXPECT_EQ(s->inputs()[0].shape, (std::vector<int64_t>{4, 3}));
  std::vector<float> d4(12, 1.0f), d3(9, 1.0f);
  EXPECT_TRUE(s->validate(request("x", d4, {4, 3})).ok());
  Status st = s->validate(request("x", d3, {3, 3}));
  EXPECT_EQ(st.code(), StatusCode::INVALID_BATCH_SIZE);
  EXPECT_EQ(st.message(), "Invalid input batch size - Expected: 4; Actual: 3; input name: x");
}

TEST_F(ServableOptions, BatchSizeRangeAndAuto) {
  std::unique_ptr<Servable> s;
  ModelConfig c;
  c.batch_size = "2:3";
  ASSERT_TRUE(load(mulModel({int64_t{1}, int64_t{3}}), c, &s).ok());
  EXPECT_EQ(s->inputs()[0].shape, (std::vector<int64_t>{-1, 3}));
  std::vector<float> d(12, 1.0f);
  EXPECT_TRUE(s->validate(request("x", std::vector<float>(6), {2, 3})).ok());
  Status st = s->validate(request("x", d, {4, 3}));
  EXPECT_EQ(st.message(), "Invalid input batch size - Expected: [2~3]; Actual: 4; input name: x");

  c.batch_size = "auto";
  ASSERT_TRUE(load(mulModel({int64_t{1}, int64_t{3}}), c, &s).ok());
  EXPECT_EQ(s->inputs()[0].shape, (std::vector<int64_t>{-1, 3}));
  InferenceResponse resp;
  ASSERT_TRUE(s->infer(request("x", d, {4, 3}), &resp).ok());
  EXPECT_EQ(resp.outputs[0].tensor.shape, (std::vector<int64_t>{4, 3}));
}

TEST_F(ServableOptions, ShapeWinsOverBatch) {
  std::unique_ptr<Servable> s;
  ModelConfig c;
  c.batch_size = "4";
  c.shape = "(2,3)";
  ASSERT_TRUE(load(mulModel({std::string("n"), int64_t{3}}), c, &s).ok());
  EXPECT_EQ(s->inputs()[0].shape, (std::vector<int64_t>{2, 3}));
}

TEST_F(ServableOptions, ShapeRangeValidation) {
  std::unique_ptr<Servable> s;
  ModelConfig c;
  c.shape = "(1,2:4)";
  ASSERT_TRUE(load(mulModel({int64_t{1}, int64_t{3}}), c, &s).ok());
  EXPECT_EQ(s->inputs()[0].shape, (std::vector<int64_t>{1, -1}));
  EXPECT_EQ(dimsToString(s->inputDims()[0]), "(1,[2~4])");
  InferenceResponse resp;
  ASSERT_TRUE(s->infer(request("x", std::vector<float>(4, 1.0f), {1, 4}), &resp).ok());
  Status st = s->validate(request("x", std::vector<float>(5), {1, 5}));
  EXPECT_EQ(st.code(), StatusCode::INVALID_SHAPE);
  EXPECT_EQ(st.message(), "Invalid input shape - Expected: (1,[2~4]); Actual: (1,5); input name: x");
  st = s->validate(request("x", std::vector<float>(3), {1, 1, 3}));
  EXPECT_EQ(st.code(), StatusCode::INVALID_NO_OF_SHAPE_DIMENSIONS);
}

TEST_F(ServableOptions, ShapeMapAndNames) {
  std::unique_ptr<Servable> s;
  ModelConfig c;
  c.shape = R"j({"a": "(5,2)", "b": "(5,2)"})j";
  ASSERT_TRUE(load(twoInputModel(), c, &s).ok());
  EXPECT_EQ(s->inputs()[0].shape, (std::vector<int64_t>{5, 2}));
  EXPECT_EQ(s->outputs()[0].shape, (std::vector<int64_t>{5, 2}));

  c.shape = R"j({"nope": "(5,2)"})j";
  Status st = load(twoInputModel(), c, &s);
  EXPECT_EQ(st.code(), StatusCode::CONFIG_SHAPE_IS_NOT_IN_MODEL);
  EXPECT_EQ(st.message().rfind("Shape from config not found in model", 0), 0u);

  c.shape = "(5,2)";
  EXPECT_EQ(load(twoInputModel(), c, &s).code(), StatusCode::ANONYMOUS_FIXED_SHAPE_NOT_ALLOWED);
  c.shape = "auto";
  ASSERT_TRUE(load(twoInputModel(), c, &s).ok());
  EXPECT_EQ(s->inputs()[1].shape, (std::vector<int64_t>{-1, -1}));

  c.shape = std::nullopt;
  c.layout = R"j({"zzz": "NC"})j";
  EXPECT_EQ(load(twoInputModel(), c, &s).code(), StatusCode::CONFIG_LAYOUT_IS_NOT_IN_MODEL);
  c.layout = "NC";
  EXPECT_EQ(load(twoInputModel(), c, &s).code(), StatusCode::ANONYMOUS_FIXED_LAYOUT_NOT_ALLOWED);
}

TEST_F(ServableOptions, MappedNames) {
  std::unique_ptr<Servable> s;
  ModelConfig c;
  const std::string mapping = R"j({"inputs": {"x": "pixels"}, "outputs": {"y": "scores"}})j";
  c.shape = R"j({"pixels": "(2,3)"})j";
  ASSERT_TRUE(load(mulModel({std::string("n"), int64_t{3}}), c, &s, mapping).ok());
  EXPECT_EQ(s->inputs()[0].name, "pixels");
  EXPECT_EQ(s->inputs()[0].shape, (std::vector<int64_t>{2, 3}));
  c.shape = R"j({"x": "(2,3)"})j";
  EXPECT_EQ(load(mulModel({std::string("n"), int64_t{3}}), c, &s, mapping).code(),
            StatusCode::CONFIG_SHAPE_MAPPED_BUT_USED_REAL_NAME);
}

TEST_F(ServableOptions, ReshapeErrors) {
  std::unique_ptr<Servable> s;
  ModelConfig c;
  // A shape the graph cannot take (wrong rank, or dims its constants do not fit) leaves the model at
  // its original shape (issue #13, as OVMS does); only malformed options are errors.
  for (const char* shape : {"(1,3,224,224)", "(2,5)", "(1,3,4,4)"}) {
    c.shape = shape;
    ASSERT_TRUE(load(addFixedModel({1, 10}), c, &s).ok()) << shape;
    EXPECT_EQ(s->inputs()[0].shape, (std::vector<int64_t>{1, 10})) << shape;
  }
  c.shape = "(1,x)";
  EXPECT_EQ(load(addFixedModel({1, 10}), c, &s).code(), StatusCode::SHAPE_WRONG_FORMAT);
  c.shape = std::nullopt;
  c.layout = "NCHWX";
  EXPECT_EQ(load(addFixedModel({1, 10}), c, &s).code(), StatusCode::LAYOUT_WRONG_FORMAT);
  c.layout = "NCHW";  // rank 2 model
  EXPECT_EQ(load(addFixedModel({1, 10}), c, &s).code(), StatusCode::LAYOUT_WRONG_FORMAT);
}

TEST_F(ServableOptions, LayoutTransposeAndBatchPosition) {
  std::unique_ptr<Servable> s;
  ModelConfig c;
  c.layout = "nhwc:nchw";
  ASSERT_TRUE(load(mulModel({int64_t{1}, int64_t{2}, int64_t{3}, int64_t{4}}, 1.0f), c, &s).ok());
  EXPECT_EQ(s->inputs()[0].shape, (std::vector<int64_t>{1, 3, 4, 2}));

  // Batch in dim 1 declared by the layout.
  c.layout = "CN";
  c.batch_size = "5";
  ASSERT_TRUE(load(mulModel({int64_t{3}, std::string("n")}), c, &s).ok());
  EXPECT_EQ(s->inputs()[0].shape, (std::vector<int64_t>{3, 5}));
  Status st = s->validate(request("x", std::vector<float>(12), {3, 4}));
  EXPECT_EQ(st.message(), "Invalid input batch size - Expected: 5; Actual: 4; input name: x");
}

TEST_F(ServableOptions, CacheWrittenReusedAndRepaired) {
  auto cache = root_ / "cache";
  ModelConfig c;
  c.cache_dir = cache.string();
  std::unique_ptr<Servable> s;
  ASSERT_TRUE(load(mulModel({std::string("n"), int64_t{3}}), c, &s).ok());
  ASSERT_FALSE(s->cachePath().empty());
  EXPECT_FALSE(s->loadedFromCache());
  EXPECT_TRUE(fs::exists(s->cachePath()));
  std::string path = s->cachePath();

  ASSERT_TRUE(load(mulModel({std::string("n"), int64_t{3}}), c, &s).ok());
  EXPECT_TRUE(s->loadedFromCache());
  EXPECT_EQ(s->cachePath(), path);
  InferenceResponse resp;
  ASSERT_TRUE(s->infer(request("x", {1, 2, 3}, {1, 3}), &resp).ok());
  EXPECT_EQ(floats(resp.outputs[0].tensor), (std::vector<float>{2, 4, 6}));

  // Corrupt entry: ignored, rebuilt.
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "garbage";
  ASSERT_TRUE(load(mulModel({std::string("n"), int64_t{3}}), c, &s).ok());
  EXPECT_FALSE(s->loadedFromCache());
  ASSERT_TRUE(load(mulModel({std::string("n"), int64_t{3}}), c, &s).ok());
  EXPECT_TRUE(s->loadedFromCache());

  // Different options → different entry.
  c.batch_size = "2";
  ASSERT_TRUE(load(mulModel({std::string("n"), int64_t{3}}), c, &s).ok());
  EXPECT_NE(s->cachePath(), path);
  EXPECT_FALSE(s->loadedFromCache());
}

TEST_F(ServableOptions, QueueWaitIsMeasured) {
  std::unique_ptr<Servable> s;
  ModelConfig c;
  c.nireq = 1;
  ASSERT_TRUE(load(mulModel({std::string("n"), int64_t{3}}), c, &s).ok());
  constexpr int kThreads = 8;
  std::vector<float> d(3 * 500000, 1.0f);  // a few ms per inference, far longer than the threads' start skew
  std::atomic<int> ok{0};
  std::vector<std::thread> ts;
  std::vector<uint64_t> waits(kThreads, UINT64_MAX), runs(kThreads, UINT64_MAX), totals(kThreads);
  std::latch start(kThreads);
  for (int i = 0; i < kThreads; ++i)
    ts.emplace_back([&, i] {
      InferenceResponse r;
      auto req = request("x", d, {500000, 3});
      start.arrive_and_wait();
      auto t0 = std::chrono::steady_clock::now();
      if (s->infer(req, &r, &waits[i], &runs[i]).ok()) ++ok;
      totals[i] = static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count());
    });
  for (auto& t : ts) t.join();
  ASSERT_EQ(ok.load(), kThreads);
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_LE(waits[i] + runs[i], totals[i] + 1) << i;  // each part is within the call's own time
    EXPECT_GT(runs[i], 0u) << i;
  }
  // Eight calls released together on one infer slot: the last to get it waited at least one whole inference.
  EXPECT_GE(*std::max_element(waits.begin(), waits.end()), *std::min_element(runs.begin(), runs.end()));
}

TEST_F(ServableOptions, Devices) {
  std::unique_ptr<Servable> s;
  ModelConfig c;
  for (const char* good : {"CPU", "MULTI:CPU,CPU", "HETERO:GPU,CPU", "AUTO", "AUTO:GPU,CPU", "MULTI:CPU,GPU", "MULTI:GPU,CPU"}) {
    c.target_device = good;
    EXPECT_TRUE(load(mulModel({std::string("n"), int64_t{3}}), c, &s).ok()) << good;
  }
  for (const char* bad : {"GPU", "NPU", "MYRIAD", "HDDL", "MULTI:NPU,GPU", "HETERO:NPU,GPU"}) {
    c.target_device = bad;
    EXPECT_EQ(load(mulModel({std::string("n"), int64_t{3}}), c, &s).code(),
              StatusCode::CANNOT_COMPILE_MODEL_INTO_TARGET_DEVICE)
        << bad;
  }
}
