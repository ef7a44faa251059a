// DAG pipelines through a real ModelManager started from a config.json: validation (every §9 rule
// with OVMS's status), execution of model and custom nodes, concurrent branches, demultiplexing and
// gathering, custom node failures, reloads and revalidation.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "serving/model_manager.h"
#include "serving/pipeline/pipeline.h"
#include "shapes/test_models.h"

namespace fs = std::filesystem;
using namespace ovms;
using namespace ovms::serving;
using namespace ovms::serving::pipeline;
using shapes_test::Dim;

namespace {

// y = Cast<float>(x) with x INT32 [n, 4]: a precision mismatch when fed from an FP32 output.
std::string castModel() {
  auto m = shapes_test::baseModel();
  auto* g = m.mutable_graph();
  auto* n = g->add_node();
  n->set_op_type("Cast");
  n->add_input("x");
  n->add_output("y");
  auto* a = n->add_attribute();
  a->set_name("to");
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(onnx::TensorProto::FLOAT);
  shapes_test::setType(g->add_input(), "x", {std::string("n"), int64_t{4}});
  g->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::INT32);
  shapes_test::setType(g->add_output(), "y", {std::string("n"), int64_t{4}});
  return m.SerializeAsString();
}

long liveTestNodeAllocations() {
  void* h = dlopen(TEST_NODE_PATH, RTLD_NOW | RTLD_LOCAL);
  auto fn = reinterpret_cast<long (*)()>(dlsym(h, "test_node_live_allocations"));
  long v = fn ? fn() : -1;
  dlclose(h);
  return v;
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pipeline_test_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // double: y = 2x, [n, 4]; triple3: y = 3x, rank 3 any; pair: sum = a + b, [n, 2];
    // fixed3: y = x + 1, [2, 1, 4]; cast: INT32 [n, 4] -> FP32.
    shapes_test::writeModelDir(dir_ / "double", shapes_test::mulModel({std::string("n"), int64_t{4}}, 2.0f));
    shapes_test::writeModelDir(dir_ / "triple3",
                               shapes_test::mulModel({std::string("a"), std::string("b"), std::string("c")}, 3.0f));
    shapes_test::writeModelDir(dir_ / "pair", shapes_test::twoInputModel());
    shapes_test::writeModelDir(dir_ / "fixed3", shapes_test::addFixedModel({2, 1, 4}));
    shapes_test::writeModelDir(dir_ / "cast", castModel());
  }
  void TearDown() override {
    manager_.reset();
    fs::remove_all(dir_);
  }

  std::string models() const {
    std::string s;
    for (const char* m : {"double", "triple3", "pair", "fixed3", "cast"}) {
      if (!s.empty()) s += ",";
      s += std::string(R"({"config": {"name": ")") + m + R"(", "base_path": ")" + (dir_ / m).string() + R"("}})";
    }
    return s;
  }
  static std::string libraries() {
    return std::string(R"([{"name": "test", "base_path": ")") + TEST_NODE_PATH + R"("}, {"name": "arith", "base_path": ")" +
           ARITHMETIC_NODE_PATH + R"("}])";
  }
  void writeConfig(const std::string& pipelines, const std::string& extra_models = "") {
    std::ofstream(dir_ / "config.json") << R"({"model_config_list": [)" << models() << extra_models
                                        << R"(], "custom_node_library_config_list": )" << libraries()
                                        << R"(, "pipeline_config_list": [)" << pipelines << "]}";
  }
  Status start(const std::string& pipelines, const std::string& extra_models = "") {
    writeConfig(pipelines, extra_models);
    manager_ = std::make_unique<ModelManager>();
    Status st = manager_->startFromConfigFile((dir_ / "config.json").string());
    EXPECT_TRUE(st.ok()) << st.message();
    return manager_->reloadConfigFile().code() == StatusCode::OK_NOT_RELOADED ? Status() : Status(StatusCode::UNKNOWN_ERROR);
  }
  std::shared_ptr<PipelineDefinition> definition(const std::string& name) {
    std::shared_ptr<PipelineDefinition> def;
    EXPECT_TRUE(manager_->findPipeline(name, &def).ok());
    return def;
  }
  Status infer(const std::string& name, const InferenceRequest& req, InferenceResponse* resp) {
    std::shared_ptr<PipelineDefinition> def;
    Status st = manager_->findPipeline(name, &def);
    if (!st.ok()) return st;
    std::shared_ptr<const Pipeline> plan;
    st = def->acquire(&plan);
    if (!st.ok()) return st;
    return plan->infer(req, resp);
  }
  static InferenceRequest request(const std::string& name, const std::vector<float>& data, const std::vector<int64_t>& shape) {
    InferenceRequest r;
    InferenceInput in;
    in.name = name;
    in.tensor = shapes_test::floatView(data, shape);
    r.inputs.push_back(std::move(in));
    return r;
  }

  fs::path dir_;
  std::unique_ptr<ModelManager> manager_;
};

// A node config in JSON.
std::string dl(const std::string& name, const std::string& model, const std::string& inputs, const std::string& outputs,
               const std::string& extra = "") {
  return R"({"name": ")" + name + R"(", "type": "DL model", "model_name": ")" + model + R"(", "inputs": [)" + inputs +
         R"(], "outputs": [)" + outputs + "]" + extra + "}";
}
std::string custom(const std::string& name, const std::string& lib, const std::string& inputs, const std::string& outputs,
                   const std::string& extra = "") {
  return R"({"name": ")" + name + R"(", "type": "custom", "library_name": ")" + lib + R"(", "inputs": [)" + inputs +
         R"(], "outputs": [)" + outputs + "]" + extra + "}";
}
std::string src(const std::string& input, const std::string& node, const std::string& item) {
  return R"({")" + input + R"(": {"node_name": ")" + node + R"(", "data_item": ")" + item + R"("}})";
}
std::string out(const std::string& item, const std::string& alias) {
  return R"({"data_item": ")" + item + R"(", "alias": ")" + alias + R"("})";
}
std::string pipelineJson(const std::string& name, const std::string& inputs, const std::string& nodes,
                         const std::string& outputs, const std::string& extra = "") {
  return R"({"name": ")" + name + R"(", "inputs": [)" + inputs + R"(], "nodes": [)" + nodes + R"(], "outputs": [)" +
         outputs + "]" + extra + "}";
}

// request.in -> double -> arith((x + 1) * 10) -> response.result
std::string chainPipeline(const std::string& name = "chain", const std::string& add = "1") {
  return pipelineJson(name, R"("in")",
                      dl("double", "double", src("x", "request", "in"), out("y", "doubled")) + "," +
                          custom("arith", "arith", src("input_numbers", "double", "doubled"),
                                 out("output_numbers", "numbers"),
                                 R"(, "params": {"add_value": ")" + add + R"(", "multiply_value": "10"})"),
                      src("result", "arith", "numbers"));
}

TEST_F(PipelineTest, ChainOfModelAndCustomNode) {
  start(chainPipeline());
  auto def = definition("chain");
  ASSERT_EQ(def->state(), PipelineState::AVAILABLE) << def->validationStatus().message();
  EXPECT_EQ(def->versionState(), VersionState::AVAILABLE);
  EXPECT_EQ(def->versionError(), VersionError::OK);
  std::shared_ptr<const Pipeline> plan;
  ASSERT_TRUE(def->acquire(&plan).ok());
  ASSERT_EQ(plan->inputs().size(), 1u);
  EXPECT_EQ(plan->inputs()[0].name, "in");
  EXPECT_EQ(plan->inputs()[0].precision, engine::Precision::FP32);
  EXPECT_EQ(plan->inputs()[0].shape, (engine::Shape{-1, 4}));
  ASSERT_EQ(plan->outputs().size(), 1u);
  EXPECT_EQ(plan->outputs()[0].name, "result");
  EXPECT_EQ(plan->outputs()[0].shape, (engine::Shape{-1, -1}));

  std::vector<float> data{1, 2, 3, 4, 5, 6, 7, 8};
  InferenceResponse resp;
  Status st = infer("chain", request("in", data, {2, 4}), &resp);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(resp.outputs.size(), 1u);
  EXPECT_EQ(resp.outputs[0].name, "result");
  EXPECT_EQ(resp.outputs[0].tensor.shape, (engine::Shape{2, 4}));
  auto values = shapes_test::floats(resp.outputs[0].tensor);
  for (size_t i = 0; i < data.size(); ++i) EXPECT_FLOAT_EQ(values[i], (2 * data[i] + 1) * 10);
}

TEST_F(PipelineTest, RequestValidatedAgainstPipelineInputs) {
  start(chainPipeline());
  std::vector<float> data{1, 2, 3};
  InferenceResponse resp;
  Status st = infer("chain", request("in", data, {1, 3}), &resp);
  EXPECT_EQ(st.code(), StatusCode::INVALID_SHAPE);
  EXPECT_EQ(st.message(), "Invalid input shape - Expected: (-1,4); Actual: (1,3); input name: in");
  st = infer("chain", request("other", data, {1, 3}), &resp);
  EXPECT_EQ(st.code(), StatusCode::INVALID_MISSING_INPUT);
  InferenceRequest none;
  st = infer("chain", none, &resp);
  EXPECT_EQ(st.code(), StatusCode::INVALID_NO_OF_INPUTS);
}

TEST_F(PipelineTest, InputPassedStraightToResponseIsNotCopied) {
  start(pipelineJson("pass", R"("in")", dl("double", "double", src("x", "request", "in"), out("y", "y")),
                     src("same", "request", "in") + "," + src("doubled", "double", "y")));
  std::vector<float> data{1, 2, 3, 4};
  InferenceResponse resp;
  auto req = request("in", data, {1, 4});
  ASSERT_TRUE(infer("pass", req, &resp).ok());
  ASSERT_EQ(resp.outputs.size(), 2u);
  EXPECT_EQ(resp.outputs[0].name, "same");
  EXPECT_EQ(resp.outputs[0].tensor.data, static_cast<const void*>(data.data()));
  EXPECT_EQ(shapes_test::floats(resp.outputs[1].tensor), (std::vector<float>{2, 4, 6, 8}));
}

TEST_F(PipelineTest, IndependentBranchesBothRun) {
  start(pipelineJson("branches", R"("in")",
                     dl("left", "double", src("x", "request", "in"), out("y", "y")) + "," +
                         dl("right", "double", src("x", "request", "in"), out("y", "y")) + "," +
                         dl("join", "pair", src("a", "left", "y") + "," + src("b", "right", "y"), out("sum", "sum")),
                     src("l", "left", "y") + "," + src("r", "right", "y")));
  // pair wants [n, 2] but left/right produce [n, 4]: that is a shape error.
  EXPECT_EQ(definition("branches")->validationStatus().code(), StatusCode::INVALID_SHAPE);
  EXPECT_EQ(definition("branches")->state(), PipelineState::LOADING);
}

TEST_F(PipelineTest, ConcurrentBranchesGiveTheirOwnResults) {
  start(pipelineJson("fan", R"("in")",
                     dl("a", "double", src("x", "request", "in"), out("y", "y")) + "," +
                         custom("b", "arith", src("input_numbers", "request", "in"), out("output_numbers", "n"),
                                R"(, "params": {"add_value": "100"})") +
                         "," + dl("c", "double", src("x", "a", "y"), out("y", "y")),
                     src("from_a", "a", "y") + "," + src("from_b", "b", "n") + "," + src("from_c", "c", "y")));
  ASSERT_EQ(definition("fan")->state(), PipelineState::AVAILABLE) << definition("fan")->validationStatus().message();
  std::vector<float> data{1, 2, 3, 4};
  for (int i = 0; i < 20; ++i) {
    InferenceResponse resp;
    ASSERT_TRUE(infer("fan", request("in", data, {1, 4}), &resp).ok());
    ASSERT_EQ(resp.outputs.size(), 3u);
    EXPECT_EQ(shapes_test::floats(resp.outputs[0].tensor), (std::vector<float>{2, 4, 6, 8}));
    EXPECT_EQ(shapes_test::floats(resp.outputs[1].tensor), (std::vector<float>{101, 102, 103, 104}));
    EXPECT_EQ(shapes_test::floats(resp.outputs[2].tensor), (std::vector<float>{4, 8, 12, 16}));
  }
}

// request.in [1,4] -> split (3 shards: in + c) -> double per shard -> response gathers [3,1,4].
std::string splitPipeline(const std::string& count, const std::string& demux, const std::string& name = "split") {
  return pipelineJson(name, R"("in")",
                      custom("split", "test", src("in", "request", "in"), out("out", "parts"),
                             R"(, "params": {"mode": "split", "count": ")" + count + R"("}, "demultiply_count": )" + demux) +
                          "," + dl("double", "double", src("x", "split", "parts"), out("y", "y")),
                      src("result", "double", "y"));
}

TEST_F(PipelineTest, FixedDemultiplyGatheredAtResponse) {
  start(splitPipeline("3", "3"));
  auto def = definition("split");
  ASSERT_EQ(def->state(), PipelineState::AVAILABLE) << def->validationStatus().message();
  std::shared_ptr<const Pipeline> plan;
  ASSERT_TRUE(def->acquire(&plan).ok());
  EXPECT_EQ(plan->outputs()[0].shape, (engine::Shape{3, -1, 4}));
  std::vector<float> data{1, 2, 3, 4};
  InferenceResponse resp;
  Status st = infer("split", request("in", data, {1, 4}), &resp);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(resp.outputs[0].tensor.shape, (engine::Shape{3, 1, 4}));
  auto v = shapes_test::floats(resp.outputs[0].tensor);
  ASSERT_EQ(v.size(), 12u);
  for (int c = 0; c < 3; ++c)
    for (int e = 0; e < 4; ++e) EXPECT_FLOAT_EQ(v[c * 4 + e], 2 * (data[e] + c));
}

TEST_F(PipelineTest, DynamicDemultiplyAndZeroIsDynamic) {
  start(splitPipeline("5", "-1", "dyn") + "," + splitPipeline("2", "0", "zero_means_dynamic"));
  std::vector<float> data{1, 2, 3, 4};
  InferenceResponse resp;
  ASSERT_TRUE(infer("dyn", request("in", data, {1, 4}), &resp).ok());
  EXPECT_EQ(resp.outputs[0].tensor.shape, (engine::Shape{5, 1, 4}));
  std::shared_ptr<const Pipeline> plan;
  ASSERT_TRUE(definition("zero_means_dynamic")->acquire(&plan).ok());
  EXPECT_EQ(plan->outputs()[0].shape, (engine::Shape{-1, -1, 4}));
  ASSERT_TRUE(infer("zero_means_dynamic", request("in", data, {1, 4}), &resp).ok());
  EXPECT_EQ(resp.outputs[0].tensor.shape, (engine::Shape{2, 1, 4}));
}

TEST_F(PipelineTest, FixedDemultiplyCountMismatchAtRuntime) {
  start(splitPipeline("2", "3"));
  std::vector<float> data{1, 2, 3, 4};
  InferenceResponse resp;
  Status st = infer("split", request("in", data, {1, 4}), &resp);
  EXPECT_EQ(st.code(), StatusCode::PIPELINE_WRONG_DIMENSION_SIZE_TO_DEMULTIPLY);
}

TEST_F(PipelineTest, DynamicDemultiplexerWithNoResultsAborts) {
  start(splitPipeline("0", "-1"));
  std::vector<float> data{1, 2, 3, 4};
  InferenceResponse resp;
  Status st = infer("split", request("in", data, {1, 4}), &resp);
  EXPECT_EQ(st.code(), StatusCode::PIPELINE_DEMULTIPLEXER_NO_RESULTS);
  EXPECT_EQ(st.message(), "Pipeline execution aborted due to no content from custom node");
  EXPECT_EQ(st.httpCode(), 204);
  EXPECT_EQ(st.grpcCode(), 10);  // ABORTED
}

TEST_F(PipelineTest, ExplicitGatherFeedsALaterNode) {
  // split(-1) -> double per shard -> gathered [n,1,4] at triple3 -> response.
  start(pipelineJson("gather", R"("in")",
                     custom("split", "test", src("in", "request", "in"), out("out", "parts"),
                            R"(, "params": {"mode": "split", "count": "4"}, "demultiply_count": -1)") +
                         "," + dl("double", "double", src("x", "split", "parts"), out("y", "y")) + "," +
                         dl("triple", "triple3", src("x", "double", "y"), out("y", "y"), R"(, "gather_from_node": "split")"),
                     src("result", "triple", "y")));
  auto def = definition("gather");
  ASSERT_EQ(def->state(), PipelineState::AVAILABLE) << def->validationStatus().message();
  std::vector<float> data{1, 2, 3, 4};
  InferenceResponse resp;
  Status st = infer("gather", request("in", data, {1, 4}), &resp);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(resp.outputs[0].tensor.shape, (engine::Shape{4, 1, 4}));
  auto v = shapes_test::floats(resp.outputs[0].tensor);
  for (int c = 0; c < 4; ++c)
    for (int e = 0; e < 4; ++e) EXPECT_FLOAT_EQ(v[c * 4 + e], 6 * (data[e] + c));
}

TEST_F(PipelineTest, DemultiplexAtTheRequest) {
  // The request input [3,1,4] is split into 3 shards of [1,4]; the response gathers them back.
  start(pipelineJson("entry", R"("in")", dl("double", "double", src("x", "request", "in"), out("y", "y")),
                     src("result", "double", "y"), R"(, "demultiply_count": 3)"));
  auto def = definition("entry");
  ASSERT_EQ(def->state(), PipelineState::AVAILABLE) << def->validationStatus().message();
  std::shared_ptr<const Pipeline> plan;
  ASSERT_TRUE(def->acquire(&plan).ok());
  EXPECT_EQ(plan->inputs()[0].shape, (engine::Shape{3, -1, 4}));
  std::vector<float> data{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  InferenceResponse resp;
  Status st = infer("entry", request("in", data, {3, 1, 4}), &resp);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(resp.outputs[0].tensor.shape, (engine::Shape{3, 1, 4}));
  auto v = shapes_test::floats(resp.outputs[0].tensor);
  for (size_t i = 0; i < data.size(); ++i) EXPECT_FLOAT_EQ(v[i], 2 * data[i]);
}

TEST_F(PipelineTest, CustomNodeExecuteErrorsAreCleanResponses) {
  auto p = [](const std::string& name, const std::string& mode) {
    return pipelineJson(name, R"("in")",
                        custom("node", "test", src("in", "request", "in"), out("out", "o"),
                               R"(, "params": {"mode": ")" + mode + R"("})"),
                        src("result", "node", "o"));
  };
  start(p("fail", "fail") + "," + p("bad_precision", "bad_precision") + "," + p("bad_size", "bad_size") + "," +
        p("no_outputs", "no_outputs") + "," + p("echo", "echo"));
  std::vector<float> data{1, 2, 3, 4};
  struct Case {
    const char* name;
    StatusCode code;
    const char* text;
  } cases[] = {
      {"fail", StatusCode::NODE_LIBRARY_EXECUTION_FAILED, "Custom node failed during execution"},
      {"bad_precision", StatusCode::NODE_LIBRARY_INVALID_PRECISION, "Custom node has produced tensor with unspecified precision"},
      {"bad_size", StatusCode::NODE_LIBRARY_INVALID_CONTENT_SIZE, "Custom node output has invalid content size"},
      {"no_outputs", StatusCode::NODE_LIBRARY_OUTPUTS_CORRUPTED, "Custom node library has returned corrupted outputs handle"},
  };
  for (const auto& c : cases) {
    InferenceResponse resp;
    Status st = infer(c.name, request("in", data, {1, 4}), &resp);
    EXPECT_EQ(st.code(), c.code) << c.name;
    EXPECT_EQ(st.message(), c.text) << c.name;
    EXPECT_EQ(st.httpCode(), 500) << c.name;
  }
  // The server keeps serving, and every buffer a node handed out went back through release().
  {
    InferenceResponse resp;
    ASSERT_TRUE(infer("echo", request("in", data, {1, 4}), &resp).ok());
    EXPECT_EQ(shapes_test::floats(resp.outputs[0].tensor), data);
    EXPECT_GT(liveTestNodeAllocations(), 0);  // the response still holds the echo output
  }
  EXPECT_EQ(liveTestNodeAllocations(), 0);
}

// ---- Validation: every rule of §9 leaves the pipeline LOADING / FAILED_PRECONDITION with OVMS's status.

struct ValidationCase {
  const char* label;
  std::string pipeline;
  StatusCode expected;
  const char* text;
};

TEST_F(PipelineTest, EveryValidationErrorHasItsStatus) {
  auto d = [](const std::string& name, const std::string& model, const std::string& in_node = "request",
              const std::string& item = "in", const std::string& extra = "") {
    return dl(name, model, src("x", in_node, item), out("y", "y"), extra);
  };
  std::vector<ValidationCase> cases = {
      {"missing model", pipelineJson("p", R"("in")", d("n", "nope"), src("o", "n", "y")),
       StatusCode::PIPELINE_NODE_REFERING_TO_MISSING_MODEL, "Pipeline definition has reference to missing model"},
      {"missing node", pipelineJson("p", R"("in")", d("n", "double", "ghost", "y"), src("o", "n", "y")),
       StatusCode::PIPELINE_NODE_REFERING_TO_MISSING_NODE, "Pipeline definition has reference to missing node"},
      {"duplicate names", pipelineJson("p", R"("in")", d("n", "double") + "," + d("n", "double"), src("o", "n", "y")),
       StatusCode::PIPELINE_NODE_NAME_DUPLICATE, "Pipeline definition has multiple nodes with the same name"},
      {"node named request", pipelineJson("p", R"("in")", d("request", "double"), src("o", "request", "in")),
       StatusCode::PIPELINE_NODE_NAME_DUPLICATE, "Pipeline definition has multiple nodes with the same name"},
      {"cycle", pipelineJson("p", R"("in")", d("a", "double", "b", "y") + "," + d("b", "double", "a", "y"), src("o", "a", "y")),
       StatusCode::PIPELINE_CYCLE_FOUND, "Pipeline definition contains a cycle"},
      {"self loop", pipelineJson("p", R"("in")", d("a", "double", "a", "y"), src("o", "a", "y")),
       StatusCode::PIPELINE_CYCLE_FOUND, "Pipeline definition contains a cycle"},
      {"unconnected node", pipelineJson("p", R"("in")", d("a", "double") + "," + d("lonely", "double"), src("o", "a", "y")),
       StatusCode::PIPELINE_CONTAINS_UNCONNECTED_NODES, "Pipeline definition has unconnected nodes"},
      {"missing pipeline input", pipelineJson("p", R"("in")", d("a", "double", "request", "other"), src("o", "a", "y")),
       StatusCode::PIPELINE_NODE_REFERING_TO_MISSING_DATA_SOURCE, "Pipeline definition has reference to missing data source"},
      {"missing alias", pipelineJson("p", R"("in")", d("a", "double"), src("o", "a", "nothing")),
       StatusCode::PIPELINE_NODE_REFERING_TO_MISSING_DATA_SOURCE, "Pipeline definition has reference to missing data source"},
      {"missing model output",
       pipelineJson("p", R"("in")", dl("a", "double", src("x", "request", "in"), out("not_an_output", "y")), src("o", "a", "y")),
       StatusCode::PIPELINE_NODE_REFERING_TO_MISSING_MODEL_OUTPUT, "Pipeline definition has reference to missing model output"},
      {"missing model input",
       pipelineJson("p", R"("in")", dl("a", "double", src("x", "request", "in") + "," + src("zz", "request", "in"), out("y", "y")),
                    src("o", "a", "y")),
       StatusCode::PIPELINE_CONNECTION_TO_MISSING_MODEL_INPUT, "Pipeline definition has connection to non existing model input"},
      {"input not connected",
       pipelineJson("p", R"("in")", dl("a", "pair", src("a", "request", "in"), out("sum", "s")), src("o", "a", "s")),
       StatusCode::PIPELINE_NOT_ALL_INPUTS_CONNECTED,
       "Pipeline definition does not have connections for all inputs of underlying models"},
      {"input connected twice",
       pipelineJson("p", R"("in", "in2")",
                    dl("a", "pair", src("a", "request", "in") + "," + src("b", "request", "in") + "," + src("a", "request", "in2"),
                       out("sum", "s")),
                    src("o", "a", "s")),
       StatusCode::PIPELINE_MODEL_INPUT_CONNECTED_TO_MULTIPLE_DATA_SOURCES,
       "Pipeline definition has multiple connections to the same input of underlying model"},
      {"response as dependency", pipelineJson("p", R"("in")", d("a", "double", "response", "o"), src("o", "a", "y")),
       StatusCode::PIPELINE_EXIT_USED_AS_NODE_DEPENDENCY, "Pipeline definition has response node used as dependency node"},
      {"name of a model", pipelineJson("double", R"("in")", d("a", "double"), src("o", "a", "y")),
       StatusCode::PIPELINE_NAME_OCCUPIED, "Pipeline has the same name as model"},
      {"unknown library",
       pipelineJson("p", R"("in")", custom("c", "nolib", src("in", "request", "in"), out("out", "o")), src("o", "c", "o")),
       StatusCode::PIPELINE_DEFINITION_INVALID_NODE_LIBRARY, "Pipeline refers to incorrect library"},
      {"library initialize fails",
       pipelineJson("p", R"("in")",
                    custom("c", "test", src("in", "request", "in"), out("out", "o"), R"(, "params": {"mode": "init_fail"})"),
                    src("o", "c", "o")),
       StatusCode::NODE_LIBRARY_INITIALIZE_FAILED, "Failure during custom node library initialization"},
      {"shape mismatch", pipelineJson("p", R"("in")", d("a", "double") + "," + d("b", "fixed3", "a", "y"), src("o", "b", "y")),
       StatusCode::INVALID_SHAPE, "Invalid input shape"},
      {"precision mismatch", pipelineJson("p", R"("in")", d("a", "double") + "," + d("b", "cast", "a", "y"), src("o", "b", "y")),
       StatusCode::INVALID_PRECISION, "Invalid input precision"},
      {"gather from missing node",
       pipelineJson("p", R"("in")", d("a", "double", "request", "in", R"(, "gather_from_node": "ghost")"), src("o", "a", "y")),
       StatusCode::PIPELINE_NODE_GATHER_FROM_NOT_EXISTING_NODE, "Gather node refers to not existing node"},
      {"gather from non-demultiplexer",
       pipelineJson("p", R"("in")", d("a", "double") + "," + d("b", "double", "a", "y", R"(, "gather_from_node": "a")"),
                    src("o", "b", "y")),
       StatusCode::PIPELINE_NODE_GATHER_FROM_NOT_DEMULTIPLEXER, "Gather node refers to node that isn't demultiplexer"},
      {"gather outside the demultiplexed branch",
       pipelineJson("p", R"("in")",
                    d("a", "triple3", "request", "in", R"(, "demultiply_count": 2)") + "," +
                        d("b", "triple3", "request", "in", R"(, "gather_from_node": "a")"),
                    src("o", "a", "y") + "," + src("o2", "b", "y")),
       StatusCode::PIPELINE_WRONG_DEMULTIPLEXER_GATHER_NODES_ORDER, "Demultiplexer and gather nodes are not in LIFO order"},
      {"demultiply a rank-2 output", pipelineJson("p", R"("in")", d("a", "double", "request", "in", R"(, "demultiply_count": 2)"),
                                                  src("o", "a", "y")),
       StatusCode::PIPELINE_NOT_ENOUGH_SHAPE_DIMENSIONS_TO_DEMULTIPLY, "Pipeline has not enough shape dimensions to demultiply"},
      {"demultiply count differs from dim 0",
       pipelineJson("p", R"("in")", d("a", "fixed3", "request", "in", R"(, "demultiply_count": 3)"), src("o", "a", "y")),
       StatusCode::PIPELINE_DEMULTIPLY_COUNT_DOES_NOT_MATCH_TENSOR_SHARD_COUNT,
       "Demultiplication count does not match tensor first dimension"},
      {"dynamic demultiplexer with another one",
       pipelineJson("p", R"("in")",
                    d("a", "triple3", "request", "in", R"(, "demultiply_count": -1)") + "," +
                        d("b", "triple3", "a", "y", R"(, "demultiply_count": 2)"),
                    src("o", "b", "y")),
       StatusCode::NOT_IMPLEMENTED, "Not implemented"},
      {"ambiguous pipeline input",
       pipelineJson("p", R"("in", "in2")",
                    d("a", "double") + "," + dl("b", "pair", src("a", "request", "in") + "," + src("b", "request", "in2"), out("sum", "s")),
                    src("o", "a", "y") + "," + src("o2", "b", "s")),
       StatusCode::PIPELINE_INPUTS_AMBIGUOUS_METADATA,
       "Multiple nodes connected to the same pipeline input require different tensor metadata"},
      {"model with auto batch",
       pipelineJson("p", R"("in")", d("a", "autob"), src("o", "a", "y")),
       StatusCode::FORBIDDEN_MODEL_DYNAMIC_PARAMETER, "Value of provided parameter is forbidden"},
  };
  std::string all;
  for (size_t i = 0; i < cases.size(); ++i) {
    // Every case under its own name (the model-name case keeps "double").
    std::string p = cases[i].pipeline;
    if (cases[i].expected != StatusCode::PIPELINE_NAME_OCCUPIED)
      p.replace(p.find(R"("name": "p")"), 11, R"("name": "p)" + std::to_string(i) + R"(")");
    all += (all.empty() ? "" : ",") + p;
  }
  std::string autob = R"(,{"config": {"name": "autob", "base_path": ")" + (dir_ / "double").string() + R"(", "batch_size": "auto"}})";
  writeConfig(all, autob);
  manager_ = std::make_unique<ModelManager>();
  ASSERT_TRUE(manager_->startFromConfigFile((dir_ / "config.json").string()).ok());
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string name = cases[i].expected == StatusCode::PIPELINE_NAME_OCCUPIED ? "double" : "p" + std::to_string(i);
    std::shared_ptr<PipelineDefinition> def;
    ASSERT_TRUE(manager_->findPipeline(name, &def).ok()) << cases[i].label;
    EXPECT_EQ(def->state(), PipelineState::LOADING) << cases[i].label;
    EXPECT_EQ(def->versionState(), VersionState::LOADING) << cases[i].label;
    EXPECT_EQ(def->versionError(), VersionError::FAILED_PRECONDITION) << cases[i].label;
    Status st = def->validationStatus();
    EXPECT_EQ(st.code(), cases[i].expected) << cases[i].label << ": " << st.message();
    EXPECT_EQ(st.message(), cases[i].text) << cases[i].label;
    std::shared_ptr<const Pipeline> plan;
    EXPECT_EQ(def->acquire(&plan).code(), StatusCode::PIPELINE_DEFINITION_NOT_LOADED_YET) << cases[i].label;
  }
  // The reload API reports the first pipeline error until the file changes.
  EXPECT_FALSE(manager_->reloadConfigFile().ok());
  // No custom node resources are left initialized by failed validations.
  void* h = dlopen(TEST_NODE_PATH, RTLD_NOW | RTLD_LOCAL);
  auto initialized = reinterpret_cast<long (*)()>(dlsym(h, "test_node_initialized"));
  ASSERT_NE(initialized, nullptr);
  EXPECT_EQ(initialized(), 0);
  EXPECT_EQ(liveTestNodeAllocations(), 0);
  dlclose(h);
}

TEST_F(PipelineTest, InvalidPipelineIsRetriedOnReload) {
  // References model "later", which the first config does not have.
  std::string p = pipelineJson("p", R"("in")", dl("a", "later", src("x", "request", "in"), out("y", "y")), src("o", "a", "y"));
  start(p);
  EXPECT_EQ(definition("p")->validationStatus().code(), StatusCode::PIPELINE_NODE_REFERING_TO_MISSING_MODEL);
  std::string later = R"(,{"config": {"name": "later", "base_path": ")" + (dir_ / "double").string() + R"("}})";
  writeConfig(p, later);
  Status st = manager_->reloadConfigFile();
  EXPECT_EQ(st.code(), StatusCode::OK_RELOADED) << st.message();
  EXPECT_EQ(definition("p")->state(), PipelineState::AVAILABLE);
}

TEST_F(PipelineTest, RemovedPipelineIsRetired) {
  start(chainPipeline());
  writeConfig("");
  ASSERT_EQ(manager_->reloadConfigFile().code(), StatusCode::OK_RELOADED);
  auto def = definition("chain");
  EXPECT_EQ(def->state(), PipelineState::RETIRED);
  EXPECT_EQ(def->versionState(), VersionState::END);
  EXPECT_EQ(def->versionError(), VersionError::OK);
  std::shared_ptr<const Pipeline> plan;
  Status st = def->acquire(&plan);
  EXPECT_EQ(st.code(), StatusCode::PIPELINE_DEFINITION_NOT_LOADED_ANYMORE);
  EXPECT_EQ(st.message(), "Pipeline is retired");
  std::shared_ptr<PipelineDefinition> none;
  EXPECT_EQ(manager_->findPipeline("nope", &none).code(), StatusCode::PIPELINE_DEFINITION_NAME_MISSING);
}

TEST_F(PipelineTest, ModelCannotTakeThePipelineName) {
  start(chainPipeline("taken"));
  std::string model = R"(,{"config": {"name": "taken", "base_path": ")" + (dir_ / "double").string() + R"("}})";
  writeConfig(chainPipeline("taken"), model);
  EXPECT_EQ(manager_->reloadConfigFile().code(), StatusCode::MODEL_NAME_OCCUPIED);
  std::shared_ptr<Model> m;
  EXPECT_FALSE(manager_->findModel("taken", &m).ok());
  EXPECT_EQ(definition("taken")->state(), PipelineState::AVAILABLE);
}

TEST_F(PipelineTest, RevalidatedWhenItsModelChangesShape) {
  shapes_test::writeModelDir(dir_ / "second", shapes_test::mulModel({std::string("n"), int64_t{4}}, 2.0f));
  std::string second = R"(,{"config": {"name": "second", "base_path": ")" + (dir_ / "second").string() + R"("}})";
  std::string p = pipelineJson("p", R"("in")",
                               dl("a", "double", src("x", "request", "in"), out("y", "y")) + "," +
                                   dl("b", "second", src("x", "a", "y"), out("y", "y")),
                               src("o", "b", "y"));
  start(p, second);
  ASSERT_EQ(definition("p")->state(), PipelineState::AVAILABLE);
  // Version 2 of "second" takes [n, 2]: a's [n, 4] output no longer fits.
  shapes_test::writeModelDir(dir_ / "second", shapes_test::mulModel({std::string("n"), int64_t{2}}, 2.0f), 2);
  manager_->reloadVersions();
  EXPECT_EQ(definition("p")->state(), PipelineState::LOADING);
  EXPECT_EQ(definition("p")->validationStatus().code(), StatusCode::INVALID_SHAPE);
  std::shared_ptr<const Pipeline> plan;
  EXPECT_EQ(definition("p")->acquire(&plan).code(), StatusCode::PIPELINE_DEFINITION_NOT_LOADED_YET);
  fs::remove_all(dir_ / "second" / "2");
  manager_->reloadVersions();
  EXPECT_EQ(definition("p")->state(), PipelineState::AVAILABLE) << definition("p")->validationStatus().message();
}

TEST_F(PipelineTest, ReloadUnderLoadFailsNoRequest) {
  start(chainPipeline("chain", "1"));
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::string first_failure;
  std::mutex failure_mutex;
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t)
    clients.emplace_back([&] {
      std::vector<float> data{1, 2, 3, 4};
      while (!stop) {
        InferenceResponse resp;
        Status st = infer("chain", request("in", data, {1, 4}), &resp);
        if (st.ok()) {
          // Either the old (add 1) or the new (add 2) plan answered, never a mix.
          auto v = shapes_test::floats(resp.outputs[0].tensor);
          bool old_plan = v[0] == 30.0f, new_plan = v[0] == 40.0f;
          if (old_plan || new_plan) {
            ++ok;
            continue;
          }
        }
        ++failed;
        std::lock_guard lock(failure_mutex);
        if (first_failure.empty()) first_failure = st.message();
      }
    });
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // Alternate the custom node's params, and reload the model underneath too.
    writeConfig(chainPipeline("chain", i % 2 ? "1" : "2"));
    EXPECT_TRUE(manager_->reloadConfigFile().ok());
    shapes_test::writeModelDir(dir_ / "double", shapes_test::mulModel({std::string("n"), int64_t{4}}, 2.0f), 2 + i);
    manager_->reloadVersions();
  }
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_EQ(failed.load(), 0) << first_failure;
  EXPECT_GT(ok.load(), 0);
  EXPECT_EQ(definition("chain")->state(), PipelineState::AVAILABLE);
}

}  // namespace

namespace {

TEST(PipelineConfigParse, ListsDefaultsAndDuplicates) {
  rapidjson::Document doc;
  doc.Parse(R"({
    "custom_node_library_config_list": [
      {"name": "lib", "base_path": "libs/node.so"},
      {"name": "lib", "base_path": "/other.so"},
      {"name": "abs", "base_path": "/opt/node.so"}],
    "pipeline_config_list": [
      {"name": "p", "inputs": ["in"], "demultiply_count": 0,
       "nodes": [{"name": "n", "type": "custom", "library_name": "lib", "params": {"k": "v"},
                  "inputs": [{"x": {"node_name": "request", "data_item": "in"}}],
                  "outputs": [{"data_item": "y", "alias": "why"}], "demultiply_count": 0, "gather_from_node": "g"},
                 {"name": "m", "type": "DL model", "model_name": "model", "version": 3,
                  "inputs": [{"x": {"node_name": "n", "data_item": "why"}}], "outputs": []}],
       "outputs": [{"out": {"node_name": "m", "data_item": "y"}}]},
      {"name": "p", "inputs": [], "nodes": [], "outputs": []}]
  })");
  ASSERT_FALSE(doc.HasParseError());
  std::vector<PipelineConfig> pipelines;
  std::vector<CustomNodeLibraryConfig> libraries;
  parsePipelineSection(doc, "/etc/ovms", &pipelines, &libraries);
  ASSERT_EQ(libraries.size(), 2u);  // the duplicate keeps the first definition
  EXPECT_EQ(libraries[0].base_path, "/etc/ovms/libs/node.so");  // relative to the config directory
  EXPECT_EQ(libraries[1].base_path, "/opt/node.so");
  ASSERT_EQ(pipelines.size(), 1u);
  const auto& p = pipelines[0];
  EXPECT_EQ(p.demultiply_count, -1);  // 0 is read as dynamic
  ASSERT_EQ(p.nodes.size(), 2u);
  EXPECT_EQ(p.nodes[0].kind, NodeConfig::Kind::CUSTOM);
  EXPECT_EQ(p.nodes[0].demultiply_count, -1);
  EXPECT_EQ(p.nodes[0].gather_from_node, "g");
  EXPECT_EQ(p.nodes[0].params.at("k"), "v");
  EXPECT_EQ(p.nodes[0].outputs[0], (std::pair<std::string, std::string>{"why", "y"}));
  EXPECT_EQ(p.nodes[1].kind, NodeConfig::Kind::DL_MODEL);
  EXPECT_EQ(p.nodes[1].version, 3);
  EXPECT_EQ(p.nodes[1].inputs[0], (Connection{"x", "n", "why"}));
  EXPECT_EQ(p.outputs[0], (Connection{"out", "m", "y"}));
}

TEST(PipelineConfigParse, ConfigFileHandsPipelinesToTheManager) {
  ConfigFileContent content;
  Status st = parseConfigFile(R"({"model_config_list": [], "pipeline_config_list": [
      {"name": "p", "inputs": ["a"], "nodes": [], "outputs": [{"o": {"node_name": "request", "data_item": "a"}}]}],
      "custom_node_library_config_list": [{"name": "l", "base_path": "/x.so"}]})",
                              "/tmp", &content);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(content.pipeline_configs.size(), 1u);
  EXPECT_EQ(content.pipeline_configs[0].name, "p");
  ASSERT_EQ(content.node_libraries.size(), 1u);
  // An unknown node type is a schema error, as in OVMS.
  st = parseConfigFile(R"({"model_config_list": [], "pipeline_config_list": [
      {"name": "p", "inputs": ["a"], "outputs": [],
       "nodes": [{"name": "n", "type": "Demultiplexer", "model_name": "m", "inputs": [], "outputs": []}]}]})",
                       "/tmp", &content);
  EXPECT_EQ(st.code(), StatusCode::JSON_INVALID);
}

TEST_F(PipelineTest, PipelineWithOnlyRequestToResponse) {
  start(pipelineJson("identity", R"("in")", "", src("out", "request", "in")));
  auto def = definition("identity");
  ASSERT_EQ(def->state(), PipelineState::AVAILABLE) << def->validationStatus().message();
  std::vector<float> data{1, 2};
  InferenceResponse resp;
  ASSERT_TRUE(infer("identity", request("in", data, {1, 2}), &resp).ok());
  EXPECT_EQ(resp.outputs[0].tensor.data, static_cast<const void*>(data.data()));
}

}  // namespace
