// The single inference path (serving/inference_path.h), independent of any wire format: one test
// per behaviour, on the real demo model (features FP32 [-1,4] -> probabilities FP32 [-1,3]).
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>

#include "serving/inference_path.h"
#include "serving/model_manager.h"
#include "serving/packed_strings.h"

using namespace ovms;
using engine::Precision;
using serving::Api;
using serving::InferenceRequest;
using serving::InferenceResponse;
using serving::Interface;
using serving::Method;

namespace {

class CountingObserver : public serving::InferenceObserver {
 public:
  struct Counts {
    std::atomic<int> begun{0}, acquired{0}, ok{0}, failed{0}, engine{0};
  };
  explicit CountingObserver(Counts* c) : c_(c) {}
  class Scope : public serving::InferenceObserver::Scope {
   public:
    explicit Scope(Counts* c) : c_(c) {}
    void acquired(const serving::InferenceTarget&, int64_t) override { ++c_->acquired; }
    void engineTimes(uint64_t, uint64_t) override { ++c_->engine; }
    void done(const Status& st) override { ++(st.ok() ? c_->ok : c_->failed); }

   private:
    Counts* c_;
  };
  std::unique_ptr<serving::InferenceObserver::Scope> begin(const InferenceRequest&) override {
    ++c_->begun;
    return std::make_unique<Scope>(c_);
  }

 private:
  Counts* c_;
};

class InferencePathTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    manager_ = new serving::ModelManager();
    serving::ModelConfig c;
    c.name = "demo";
    c.base_path = DEMO_MODEL_PATH;
    ASSERT_TRUE(manager_->startSingleModel(c).ok());
  }
  static void TearDownTestSuite() {
    manager_->stop();
    delete manager_;
  }
  void SetUp() override {
    path_ = std::make_unique<serving::InferencePath>(*manager_);
    path_->setObserver(std::make_shared<CountingObserver>(&counts_));
  }

  static InferenceRequest request(Api api, Interface interface, std::string name = "demo") {
    InferenceRequest r;
    r.model_name = std::move(name);
    r.origin = {api, interface, api == Api::KServe ? Method::ModelInfer : Method::Predict};
    return r;
  }
  // Decoder adding one FP32 [1,4] input named `name`.
  serving::WireDecoder features(std::string name = "features", std::string datatype = "") {
    return [this, name, datatype](const serving::InferenceTarget&, InferenceRequest* r) {
      serving::InferenceInput in;
      in.name = name;
      in.client_datatype = datatype;
      in.tensor = engine::TensorView{Precision::FP32, {1, 4}, x_, sizeof(x_), nullptr};
      r->inputs.push_back(std::move(in));
      return Status(StatusCode::OK);
    };
  }

  static serving::ModelManager* manager_;
  std::unique_ptr<serving::InferencePath> path_;
  CountingObserver::Counts counts_;
  float x_[4] = {5.1f, 3.5f, 1.4f, 0.2f};
};
serving::ModelManager* InferencePathTest::manager_ = nullptr;

}  // namespace

TEST_F(InferencePathTest, RunsAndFillsTheResponse) {
  auto r = request(Api::KServe, Interface::GRPC);
  r.id = "req-1";
  InferenceResponse resp;
  ASSERT_TRUE(path_->run(r, features(), &resp).ok());
  EXPECT_EQ(resp.model_name, "demo");
  EXPECT_EQ(resp.model_version, 1);
  EXPECT_EQ(resp.id, "req-1");
  ASSERT_EQ(resp.outputs.size(), 1u);
  EXPECT_EQ(resp.outputs[0].name, "probabilities");
  EXPECT_EQ(resp.outputs[0].tensor.shape, (engine::Shape{1, 3}));
  EXPECT_NE(resp.producer, nullptr);  // the servable stays alive until the response is encoded
}

TEST_F(InferencePathTest, UnknownNameStatusIsThePerApiOption) {
  InferenceResponse resp;
  auto tfs_rest = request(Api::TensorFlowServing, Interface::REST, "nope");
  EXPECT_EQ(path_->run(tfs_rest, features(), &resp).code(), StatusCode::MODEL_NAME_MISSING);
  for (auto [api, itf] : {std::pair{Api::TensorFlowServing, Interface::GRPC}, std::pair{Api::KServe, Interface::GRPC},
                          std::pair{Api::KServe, Interface::REST}}) {
    auto r = request(api, itf, "nope");
    EXPECT_EQ(path_->run(r, features(), &resp).code(), StatusCode::PIPELINE_DEFINITION_NAME_MISSING);
  }
}

TEST_F(InferencePathTest, UnknownVersionIsMissing) {
  auto r = request(Api::KServe, Interface::REST);
  r.model_version = 7;
  InferenceResponse resp;
  EXPECT_EQ(path_->run(r, features(), &resp).code(), StatusCode::MODEL_VERSION_MISSING);
}

TEST_F(InferencePathTest, ModelIsLookedUpBeforeTheBodyIsDecoded) {
  bool decoded = false;
  auto r = request(Api::KServe, Interface::REST, "nope");
  InferenceResponse resp;
  Status st = path_->run(
      r,
      [&](const serving::InferenceTarget&, InferenceRequest*) {
        decoded = true;
        return Status(StatusCode::JSON_INVALID);
      },
      &resp);
  EXPECT_EQ(st.code(), StatusCode::PIPELINE_DEFINITION_NAME_MISSING);
  EXPECT_FALSE(decoded);
}

TEST_F(InferencePathTest, DecoderSeesTheSignature) {
  auto r = request(Api::TensorFlowServing, Interface::REST);
  InferenceResponse resp;
  size_t seen_inputs = 0;
  auto decode = features();
  ASSERT_TRUE(path_->run(
                       r,
                       [&](const serving::InferenceTarget& t, InferenceRequest* req) {
                         seen_inputs = t.inputs().size();
                         return decode(t, req);
                       },
                       &resp)
                  .ok());
  EXPECT_EQ(seen_inputs, 1u);
}

TEST_F(InferencePathTest, PrecisionErrorPrintsTheClientDatatype) {
  InferenceResponse resp;
  auto kserve = request(Api::KServe, Interface::GRPC);
  auto int_input = [this](std::string datatype) {
    return [this, datatype](const serving::InferenceTarget&, InferenceRequest* r) {
      serving::InferenceInput in;
      in.name = "features";
      in.client_datatype = datatype;
      in.tensor = engine::TensorView{Precision::I32, {1, 4}, x_, sizeof(x_), nullptr};
      r->inputs.push_back(std::move(in));
      return Status(StatusCode::OK);
    };
  };
  EXPECT_EQ(path_->run(kserve, int_input("INT32"), &resp).message(),
            "Invalid input precision - Expected: FP32; Actual: INT32; input name: features");
  auto tfs = request(Api::TensorFlowServing, Interface::GRPC);
  EXPECT_EQ(path_->run(tfs, int_input(""), &resp).message(),
            "Invalid input precision - Expected: FP32; Actual: I32; input name: features");
}

TEST_F(InferencePathTest, StringsForANonImageInputAreNotImplemented) {
  std::vector<uint8_t> packed;
  serving::packStrings(std::vector<std::string>{"abc"}, &packed);
  auto r = request(Api::KServe, Interface::GRPC);
  InferenceResponse resp;
  Status st = path_->run(
      r,
      [&](const serving::InferenceTarget&, InferenceRequest* req) {
        serving::InferenceInput in;
        in.name = "features";
        in.client_datatype = "BYTES";
        in.tensor = engine::TensorView{Precision::STRING, {1}, packed.data(), packed.size(), nullptr};
        in.typed_values = true;
        in.value_count = 1;
        req->inputs.push_back(std::move(in));
        return Status(StatusCode::OK);
      },
      &resp);
  EXPECT_EQ(st.code(), StatusCode::NOT_IMPLEMENTED);
  EXPECT_EQ(st.message().rfind("Not implemented - BYTES data for input features", 0), 0u) << st.message();
}

TEST_F(InferencePathTest, KServeFiltersRequestedOutputsTfsReturnsAll) {
  InferenceResponse resp;
  auto kserve = request(Api::KServe, Interface::REST);
  kserve.requested_outputs = {"nope"};
  Status st = path_->run(kserve, features(), &resp);
  EXPECT_EQ(st.code(), StatusCode::INVALID_MISSING_OUTPUT);
  EXPECT_EQ(st.message(), "Missing output with specific name - Required output: nope");
  auto tfs = request(Api::TensorFlowServing, Interface::GRPC);
  tfs.requested_outputs = {"nope"};  // TF-Serving's output_filter is ignored, as in OVMS
  ASSERT_TRUE(path_->run(tfs, features(), &resp).ok());
  EXPECT_EQ(resp.outputs.size(), 1u);
}

TEST_F(InferencePathTest, SelectOutputsOrderAndDuplicates) {
  InferenceResponse resp;
  resp.outputs.push_back({"z", {}});
  resp.outputs.push_back({"a", {}});
  const auto kserve = serving::InferenceOptions::forOrigin({Api::KServe, Interface::GRPC, Method::ModelInfer});
  auto all = resp;
  ASSERT_TRUE(serving::InferencePath::selectOutputs(kserve, {}, &all).ok());
  EXPECT_EQ(all.outputs[0].name, "a");  // OVMS order: by name
  auto some = resp;
  ASSERT_TRUE(serving::InferencePath::selectOutputs(kserve, {"z", "z"}, &some).ok());
  ASSERT_EQ(some.outputs.size(), 1u);
  EXPECT_EQ(some.outputs[0].name, "z");
  auto bad = resp;
  Status st = serving::InferencePath::selectOutputs(kserve, {"nope"}, &bad);
  EXPECT_EQ(st.httpCode(), 400);
  EXPECT_EQ(st.grpcCode(), 3);
  const auto tfs = serving::InferenceOptions::forOrigin({Api::TensorFlowServing, Interface::REST, Method::Predict});
  auto untouched = resp;
  ASSERT_TRUE(serving::InferencePath::selectOutputs(tfs, {}, &untouched).ok());
  EXPECT_EQ(untouched.outputs[0].name, "z");
}

TEST_F(InferencePathTest, ObserverSeesEveryRequestOnce) {
  InferenceResponse resp;
  auto ok = request(Api::KServe, Interface::GRPC);
  ASSERT_TRUE(path_->run(ok, features(), &resp).ok());
  auto missing = request(Api::KServe, Interface::GRPC, "nope");
  EXPECT_FALSE(path_->run(missing, features(), &resp).ok());
  auto invalid = request(Api::TensorFlowServing, Interface::REST);
  EXPECT_FALSE(path_->run(invalid, features("x"), &resp).ok());
  EXPECT_EQ(counts_.begun, 3);
  EXPECT_EQ(counts_.acquired, 2);  // the unknown name found no target
  EXPECT_EQ(counts_.ok, 1);
  EXPECT_EQ(counts_.failed, 2);
  EXPECT_EQ(counts_.engine, 1);  // engine times only when the engine ran
}

TEST_F(InferencePathTest, StepTimesAddUpPerApiInterfaceAndModel) {
  auto recorder = std::make_shared<serving::StepTimeRecorder>();
  path_->setStepTimeRecorder(recorder);
  InferenceResponse resp;
  for (int i = 0; i < 3; ++i) {
    auto r = request(Api::KServe, Interface::REST);
    ASSERT_TRUE(path_->run(r, features(), &resp, [](const InferenceResponse&) { return Status(StatusCode::OK); }).ok());
  }
  auto failing = request(Api::TensorFlowServing, Interface::GRPC);
  EXPECT_FALSE(path_->run(failing, features("x"), &resp).ok());  // failures are not timed
  path_->setStepTimeRecorder(nullptr);
  const std::string json = recorder->json();
  EXPECT_NE(json.find("\"KServe REST demo\": {\"requests\": 3"), std::string::npos) << json;
  EXPECT_EQ(json.find("TensorFlowServing"), std::string::npos) << json;
  for (const char* step : {"acquire", "decode", "validate", "queue_wait", "engine", "infer_other", "select", "encode", "total"})
    EXPECT_NE(json.find(std::string("\"") + step + "\": "), std::string::npos) << step;
}

TEST_F(InferencePathTest, EncoderRunsInsideTheScopeAndItsErrorIsTheRequests) {
  auto r = request(Api::TensorFlowServing, Interface::GRPC);
  InferenceResponse resp;
  bool target_alive_while_encoding = false;
  Status st = path_->run(r, features(), &resp, [&](const InferenceResponse& out) {
    target_alive_while_encoding = out.producer != nullptr;
    return Status(StatusCode::OV_UNSUPPORTED_SERIALIZATION_PRECISION);
  });
  EXPECT_EQ(st.code(), StatusCode::OV_UNSUPPORTED_SERIALIZATION_PRECISION);
  EXPECT_TRUE(target_alive_while_encoding);
  EXPECT_EQ(counts_.failed, 1);
}

namespace {

// A non-model target, as a DAG pipeline would be: doubles its one FP32 input.
class DoublingPipeline : public serving::InferenceTarget {
 public:
  DoublingPipeline() {
    inputs_.push_back({"in", Precision::FP32, {-1}});
    outputs_.push_back({"out", Precision::FP32, {-1}});
  }
  const std::vector<engine::TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<engine::TensorInfo>& outputs() const override { return outputs_; }
  Status validate(const InferenceRequest& r) const override {
    const auto* in = r.find("in");
    if (!in) return Status(StatusCode::INVALID_MISSING_INPUT, "Required input: in");
    return StatusCode::OK;
  }
  Status infer(const InferenceRequest& r, InferenceResponse* resp, uint64_t*, uint64_t*) const override {
    const auto& t = r.find("in")->tensor;
    auto data = std::make_shared<std::vector<float>>(t.bytes / sizeof(float));
    std::memcpy(data->data(), t.data, t.bytes);
    for (auto& v : *data) v *= 2;
    resp->outputs.push_back({"out", {Precision::FP32, t.shape, data->data(), t.bytes, data}});
    return StatusCode::OK;
  }

 private:
  std::vector<engine::TensorInfo> inputs_, outputs_;
};

}  // namespace

TEST_F(InferencePathTest, APipelinePlugsInAfterModels) {
  auto pipeline = std::make_shared<DoublingPipeline>();
  path_->setPipelineResolver([&](const std::string& name, int64_t, std::shared_ptr<const serving::InferenceTarget>* t) {
    if (name != "double") return Status(StatusCode::PIPELINE_DEFINITION_NAME_MISSING);
    *t = pipeline;
    return Status(StatusCode::OK);
  });
  float v[2] = {1.5f, -2.0f};
  auto r = request(Api::KServe, Interface::GRPC, "double");
  InferenceResponse resp;
  ASSERT_TRUE(path_->run(
                       r,
                       [&](const serving::InferenceTarget&, InferenceRequest* req) {
                         serving::InferenceInput in;
                         in.name = "in";
                         in.tensor = engine::TensorView{Precision::FP32, {2}, v, sizeof(v), nullptr};
                         req->inputs.push_back(std::move(in));
                         return Status(StatusCode::OK);
                       },
                       &resp)
                  .ok());
  ASSERT_EQ(resp.outputs.size(), 1u);
  EXPECT_EQ(static_cast<const float*>(resp.outputs[0].tensor.data)[1], -4.0f);
  // Models still come first, and unknown names still get the per-API status.
  auto model = request(Api::KServe, Interface::GRPC);
  EXPECT_TRUE(path_->run(model, features(), &resp).ok());
  auto none = request(Api::TensorFlowServing, Interface::REST, "nope");
  EXPECT_EQ(path_->run(none, features(), &resp).code(), StatusCode::MODEL_NAME_MISSING);
}

TEST(EscapeForLog, ControlBytesEscapedAndLongStringsCut) {
  // One escaping for every log line (common/logging.h logSafe): control bytes as \n or \xNN.
  EXPECT_EQ(serving::escapeForLog("demo"), "demo");
  EXPECT_EQ(serving::escapeForLog(std::string("a\nb\x1b[31m\0", 9)), "a\\nb\\x1b[31m\\x00");
  std::string long_name(300, 'x');
  std::string logged = serving::escapeForLog(long_name);
  EXPECT_EQ(logged, std::string(256, 'x') + "...(300 bytes)");
}
