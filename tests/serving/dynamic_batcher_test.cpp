// Dynamic batching (serving/dynamic_batcher.h) through a real Servable on small ONNX models:
// merge/split correctness, separate batches for different shapes, the delay flush, preferred
// sizes, engine errors fanned out, oversized requests alone, queued requests answered when a
// version retires, the load-time checks and the config.json section.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include <unistd.h>

#include "../shapes/test_models.h"
#include "serving/config_file.h"
#include "serving/model.h"
#include "serving/servable.h"

namespace fs = std::filesystem;
using namespace ovms;
using namespace ovms::serving;
using shapes_test::Dim;

namespace {

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("ovms_batching_" + std::to_string(::getpid()) + "_" + std::to_string(n_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  static inline int n_ = 0;
  fs::path path_;
};

// out = table[idx] (Gather on axis 0): an index outside the 4-row table fails inside the engine.
std::string gatherModel() {
  auto m = shapes_test::baseModel();
  auto* g = m.mutable_graph();
  auto* table = g->add_initializer();
  table->set_name("table");
  table->set_data_type(onnx::TensorProto::FLOAT);
  table->add_dims(4);
  table->add_dims(2);
  for (int i = 0; i < 8; ++i) table->add_float_data(static_cast<float>(i));
  auto* node = g->add_node();
  node->set_op_type("Gather");
  node->add_input("table");
  node->add_input("idx");
  node->add_output("out");
  auto* in = g->add_input();
  in->set_name("idx");
  in->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::INT64);
  in->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_param("n");
  shapes_test::setType(g->add_output(), "out", {std::string("n"), int64_t{2}});
  return m.SerializeAsString();
}

struct Loaded {
  TempDir dir;
  std::unique_ptr<Servable> servable;
  std::mutex mutex;
  std::vector<size_t> batches;  // rows of every engine run, in order
  std::vector<size_t> batchSizes() {
    std::lock_guard lock(mutex);
    return batches;
  }
};

std::unique_ptr<Loaded> load(const std::string& model, std::optional<DynamicBatchingConfig> batching,
                             uint32_t nireq = 2) {
  auto l = std::make_unique<Loaded>();
  ModelConfig config;
  config.name = "m";
  config.nireq = nireq;
  config.dynamic_batching = std::move(batching);
  Status st = Servable::load(shapes_test::writeModelDir(l->dir.path(), model), config, &l->servable);
  EXPECT_TRUE(st.ok()) << st.message();
  if (!st.ok()) return nullptr;
  Loaded* raw = l.get();
  l->servable->setBatchObserver([raw](size_t rows) {
    std::lock_guard lock(raw->mutex);
    raw->batches.push_back(rows);
  });
  return l;
}

DynamicBatchingConfig batching(uint32_t max, uint64_t delay_us, std::vector<uint32_t> preferred = {}) {
  DynamicBatchingConfig c;
  c.max_batch_size = max;
  c.max_queue_delay_microseconds = delay_us;
  c.preferred_batch_sizes = std::move(preferred);
  return c;
}

// One client's float request (values distinct per client) and what came back.
struct Call {
  std::vector<float> data;
  std::vector<int64_t> shape;
  Status status = StatusCode::INTERNAL_ERROR;
  std::vector<float> out;
  std::vector<int64_t> out_shape;
  uint64_t queue_wait_us = 0;
};

Call makeCall(std::vector<int64_t> shape, float base) {
  Call c;
  c.shape = std::move(shape);
  int64_t n = 1;
  for (auto d : c.shape) n *= d;
  for (int64_t i = 0; i < n; ++i) c.data.push_back(base + static_cast<float>(i));
  return c;
}

void run(const Servable& s, Call* c, const std::string& input = "x") {
  InferenceRequest r;
  InferenceInput in;
  in.name = input;
  in.tensor = shapes_test::floatView(c->data, c->shape);
  r.inputs.push_back(std::move(in));
  InferenceResponse resp;
  uint64_t inference_us = 0;
  c->status = s.infer(r, &resp, &c->queue_wait_us, &inference_us);
  if (c->status.ok() && resp.outputs.size() == 1) {
    c->out = shapes_test::floats(resp.outputs[0].tensor);
    c->out_shape = resp.outputs[0].tensor.shape;
  }
}

void runAll(const Servable& s, std::vector<Call>& calls) {
  std::vector<std::thread> threads;
  for (auto& c : calls) threads.emplace_back([&s, &c] { run(s, &c); });
  for (auto& t : threads) t.join();
}

void expectDoubled(const Call& c) {
  ASSERT_TRUE(c.status.ok()) << c.status.message();
  EXPECT_EQ(c.out_shape, c.shape);
  ASSERT_EQ(c.out.size(), c.data.size());
  for (size_t i = 0; i < c.data.size(); ++i) EXPECT_EQ(c.out[i], 2.0f * c.data[i]) << "element " << i;
  EXPECT_LT(c.queue_wait_us, 300'000'000u);  // a wait, not a wrapped negative
}

}  // namespace

TEST(DynamicBatching, ConcurrentRequestsMergeIntoOneRunAndEachGetsItsOwnRows) {
  // A long delay: the batch can only run early by reaching max_batch_size (1+2+3+2 = 8 rows).
  auto l = load(shapes_test::mulModel({std::string("n"), int64_t{3}}), batching(8, 60'000'000));
  ASSERT_TRUE(l);
  std::vector<Call> calls = {makeCall({1, 3}, 0), makeCall({2, 3}, 100), makeCall({3, 3}, 200), makeCall({2, 3}, 300)};
  runAll(*l->servable, calls);
  for (const auto& c : calls) expectDoubled(c);
  EXPECT_EQ(l->batchSizes(), std::vector<size_t>({8}));
  EXPECT_EQ(l->servable->dynamicBatcher()->queued(), 0u);
}

TEST(DynamicBatching, RequestsWithDifferentShapesRunInSeparateBatches) {
  auto l = load(shapes_test::mulModel({std::string("n"), std::string("k")}), batching(2, 60'000'000));
  ASSERT_TRUE(l);
  std::vector<Call> calls = {makeCall({1, 2}, 0), makeCall({1, 3}, 10), makeCall({1, 2}, 20), makeCall({1, 3}, 30)};
  runAll(*l->servable, calls);
  for (const auto& c : calls) expectDoubled(c);
  // Two full batches of 2 (never one [2,?] run mixing widths 2 and 3).
  EXPECT_EQ(l->batchSizes(), std::vector<size_t>({2, 2}));
}

TEST(DynamicBatching, TheDelayFlushesAPartialBatch) {
  auto l = load(shapes_test::mulModel({std::string("n"), int64_t{3}}), batching(8, 100'000));
  ASSERT_TRUE(l);
  Call c = makeCall({1, 3}, 5);
  const auto start = std::chrono::steady_clock::now();
  run(*l->servable, &c);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  expectDoubled(c);
  EXPECT_GE(elapsed, std::chrono::milliseconds(100));
  EXPECT_GE(c.queue_wait_us, 100'000u);  // the batching delay counts as queue wait
  EXPECT_EQ(l->batchSizes(), std::vector<size_t>({1}));
}

TEST(DynamicBatching, APreferredSizeRunsWithoutWaitingForTheDelay) {
  // Without the preferred size these 3 rows would wait a minute for 5 more.
  auto l = load(shapes_test::mulModel({std::string("n"), int64_t{3}}), batching(8, 60'000'000, {3}));
  ASSERT_TRUE(l);
  std::vector<Call> calls = {makeCall({1, 3}, 0), makeCall({1, 3}, 10), makeCall({1, 3}, 20)};
  const auto start = std::chrono::steady_clock::now();
  runAll(*l->servable, calls);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  for (const auto& c : calls) expectDoubled(c);
  EXPECT_EQ(l->batchSizes(), std::vector<size_t>({3}));
}

TEST(DynamicBatching, AnEngineErrorGoesToEveryRequestOfTheBatch) {
  auto l = load(gatherModel(), batching(2, 60'000'000));
  ASSERT_TRUE(l);
  int64_t good = 1, bad = 100;
  Status results[2];
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i)
    threads.emplace_back([&, i] {
      InferenceRequest r;
      InferenceInput in;
      in.name = "idx";
      in.tensor = engine::TensorView{engine::Precision::I64, {1}, i == 0 ? &good : &bad, sizeof(int64_t), nullptr};
      r.inputs.push_back(std::move(in));
      InferenceResponse resp;
      results[i] = l->servable->infer(r, &resp);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(l->batchSizes(), std::vector<size_t>({2}));
  for (const auto& st : results) {
    EXPECT_EQ(st.code(), StatusCode::OV_INTERNAL_INFERENCE_ERROR) << st.message();
    EXPECT_FALSE(st.details().empty());
  }
  // The good index alone succeeds: the error came from the merged run.
  auto plain = load(gatherModel(), std::nullopt);
  ASSERT_TRUE(plain);
  InferenceRequest r;
  InferenceInput in;
  in.name = "idx";
  in.tensor = engine::TensorView{engine::Precision::I64, {1}, &good, sizeof(int64_t), nullptr};
  r.inputs.push_back(std::move(in));
  InferenceResponse resp;
  ASSERT_TRUE(plain->servable->infer(r, &resp).ok());
  EXPECT_EQ(shapes_test::floats(resp.outputs[0].tensor), std::vector<float>({2.0f, 3.0f}));
}

TEST(DynamicBatching, ARequestLargerThanMaxBatchSizeRunsAloneAtOnce) {
  auto l = load(shapes_test::mulModel({std::string("n"), int64_t{3}}), batching(2, 60'000'000));
  ASSERT_TRUE(l);
  Call c = makeCall({3, 3}, 1);
  const auto start = std::chrono::steady_clock::now();
  run(*l->servable, &c);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  expectDoubled(c);
  EXPECT_EQ(l->batchSizes(), std::vector<size_t>({3}));
}

TEST(DynamicBatching, DrainingAnswersEveryQueuedRequest) {
  auto l = load(shapes_test::mulModel({std::string("n"), int64_t{3}}), batching(8, 60'000'000));
  ASSERT_TRUE(l);
  std::vector<Call> calls = {makeCall({1, 3}, 0), makeCall({2, 3}, 10), makeCall({1, 3}, 20)};
  std::vector<std::thread> threads;
  for (auto& c : calls) threads.emplace_back([&] { run(*l->servable, &c); });
  while (l->servable->dynamicBatcher()->queued() < calls.size()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  l->servable->drainBatching();
  for (auto& t : threads) t.join();
  for (const auto& c : calls) expectDoubled(c);
  EXPECT_EQ(l->batchSizes(), std::vector<size_t>({4}));
}

TEST(DynamicBatching, RetiringAVersionAnswersItsQueuedRequests) {
  TempDir dir;
  shapes_test::writeModelDir(dir.path(), shapes_test::mulModel({std::string("n"), int64_t{3}}));
  ModelConfig config;
  config.name = "m";
  config.dynamic_batching = batching(8, 60'000'000);
  ModelVersion mv("m", 1);
  ASSERT_TRUE(mv.load((dir.path() / "1").string(), config).ok());
  std::vector<Call> calls = {makeCall({1, 3}, 0), makeCall({1, 3}, 10)};
  std::vector<std::thread> threads;
  for (auto& c : calls)
    threads.emplace_back([&] {
      auto s = mv.servable();  // held by the request, as the inference path does
      run(*s, &c);
    });
  for (;;) {
    auto s = mv.servable();
    if (s->dynamicBatcher()->queued() == calls.size()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  mv.retire();  // no new requests; the queued ones run now instead of after a minute
  for (auto& t : threads) t.join();
  for (const auto& c : calls) expectDoubled(c);
}

TEST(DynamicBatching, LoadRefusesAModelWithoutADynamicBatchDim) {
  TempDir dir;
  ModelConfig config;
  config.name = "m";
  config.dynamic_batching = batching(4, 0);
  std::unique_ptr<Servable> s;
  Status st = Servable::load(shapes_test::writeModelDir(dir.path(), shapes_test::mulModel({int64_t{1}, int64_t{3}})),
                             config, &s);
  EXPECT_EQ(st.code(), StatusCode::MODEL_NOT_LOADED);
  EXPECT_NE(st.details().find("dimension 0 of input x"), std::string::npos) << st.details();
  // batch_size -1 makes dim 0 dynamic: then it loads.
  config.batch_size = "-1";
  st = Servable::load((dir.path() / "1").string(), config, &s);
  EXPECT_TRUE(st.ok()) << st.message();
  ASSERT_TRUE(s && s->dynamicBatcher());
}

TEST(DynamicBatching, WithoutTheOptionNothingIsBatched) {
  auto l = load(shapes_test::mulModel({std::string("n"), int64_t{3}}), std::nullopt);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->servable->dynamicBatcher(), nullptr);
  std::vector<Call> calls = {makeCall({1, 3}, 0), makeCall({2, 3}, 10)};
  runAll(*l->servable, calls);
  for (const auto& c : calls) expectDoubled(c);
  EXPECT_TRUE(l->batchSizes().empty());
}

TEST(DynamicBatchingConfig, ParsedFromConfigJson) {
  const std::string text = R"({"model_config_list": [{"config": {"name": "m", "base_path": "/m",
      "dynamic_batching": {"max_batch_size": 16, "max_queue_delay_microseconds": 500, "preferred_batch_sizes": [4, 8]}}},
      {"config": {"name": "plain", "base_path": "/p"}},
      {"config": {"name": "defaults", "base_path": "/d", "dynamic_batching": {}}}]})";
  ConfigFileContent content;
  ASSERT_TRUE(parseConfigFile(text, "/", &content).ok());
  ASSERT_EQ(content.models.size(), 3u);
  ASSERT_TRUE(content.models[0].dynamic_batching);
  EXPECT_EQ(content.models[0].dynamic_batching->max_batch_size, 16u);
  EXPECT_EQ(content.models[0].dynamic_batching->max_queue_delay_microseconds, 500u);
  EXPECT_EQ(content.models[0].dynamic_batching->preferred_batch_sizes, std::vector<uint32_t>({4, 8}));
  EXPECT_FALSE(content.models[1].dynamic_batching);
  ASSERT_TRUE(content.models[2].dynamic_batching);
  EXPECT_EQ(*content.models[2].dynamic_batching, DynamicBatchingConfig{});
  // A change of the section reloads the model and is logged.
  EXPECT_FALSE(content.models[0].sameLoadSettings(content.models[2]));
}

TEST(DynamicBatchingConfig, InvalidSectionsAreRefused) {
  auto parse = [](const std::string& batching, const std::string& extra = "") {
    ConfigFileContent content;
    Status st = parseConfigFile(R"({"model_config_list": [{"config": {"name": "m", "base_path": "/m", )" + extra +
                                    R"("dynamic_batching": )" + batching + "}}]}",
                                "/", &content);
    if (st.ok() && !content.invalid_models.empty()) return content.invalid_models[0].status.code();
    return st.code();
  };
  EXPECT_EQ(parse(R"({"max_batch_size": 0})"), StatusCode::JSON_INVALID);
  EXPECT_EQ(parse(R"({"max_batch_size": "8"})"), StatusCode::JSON_INVALID);
  EXPECT_EQ(parse(R"({"max_queue_delay_microseconds": -1})"), StatusCode::JSON_INVALID);
  EXPECT_EQ(parse(R"({"max_batch_sizes": 8})"), StatusCode::JSON_INVALID);
  EXPECT_EQ(parse(R"({"preferred_batch_sizes": [0]})"), StatusCode::JSON_INVALID);
  EXPECT_EQ(parse("8"), StatusCode::JSON_INVALID);
  EXPECT_EQ(parse(R"({"max_batch_size": 4, "preferred_batch_sizes": [2, 8]})"), StatusCode::MODEL_CONFIG_INVALID);
  EXPECT_EQ(parse("{}", R"("stateful": true, )"), StatusCode::MODEL_CONFIG_INVALID);
  EXPECT_EQ(parse(R"({"max_batch_size": 4, "preferred_batch_sizes": [2, 4]})"), StatusCode::OK);
}

TEST(DynamicBatching, ManyClientsManyRoundsEachGetTheirOwnRows) {
  // Mixed row counts and two widths, a short delay, 2 infer slots: batches form, split and hand the
  // leadership on continuously; every answer must be the caller's own and none may hang.
  auto l = load(shapes_test::mulModel({std::string("n"), std::string("k")}), batching(8, 500));
  ASSERT_TRUE(l);
  constexpr int kClients = 24, kRounds = 40;
  std::atomic<int> wrong{0};
  std::atomic<int64_t> rows_sent{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        Call c = makeCall({1 + (t + r) % 3, t % 2 ? 2 : 3}, static_cast<float>(t * 1000 + r * 10));
        run(*l->servable, &c);
        bool ok = c.status.ok() && c.out_shape == c.shape && c.out.size() == c.data.size();
        for (size_t i = 0; ok && i < c.data.size(); ++i) ok = c.out[i] == 2.0f * c.data[i];
        if (!ok) ++wrong;
        rows_sent += c.shape[0];
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  size_t rows_run = 0;
  for (size_t b : l->batchSizes()) {
    EXPECT_LE(b, 8u);
    rows_run += b;
  }
  EXPECT_EQ(static_cast<int64_t>(rows_run), rows_sent.load());
  EXPECT_EQ(l->servable->dynamicBatcher()->queued(), 0u);
}
