// The worked example of docs/pipelines.md, run through the executor: face-detection-retail-0004 ->
// image_crop custom node (dynamic demultiplexer) -> age-gender-recognition-retail-0013 per face,
// gathered at the response. Uses the OMZ IR fixtures and messi5.jpg from ../shared/fixtures.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "api/image/image_decoder.h"
#include "serving/model_manager.h"
#include "serving/pipeline/pipeline.h"

namespace fs = std::filesystem;
using namespace ovms;
using namespace ovms::serving;
using namespace ovms::serving::pipeline;

namespace {

// Canonical: model base paths must not contain "..".
const fs::path kFixtures = fs::weakly_canonical(fs::path(SHARED_FIXTURES_DIR));

bool fixturesPresent() {
  return fs::exists(kFixtures / "omz-ir" / "face-detection-retail-0004") &&
         fs::exists(kFixtures / "omz-ir" / "age-gender-recognition-retail-0013") &&
         fs::exists(kFixtures / "images" / "messi5.jpg");
}

#define REQUIRE_FIXTURES()                                                                              \
  do {                                                                                                  \
    if (!fixturesPresent()) {                                                                           \
      const char* ci = std::getenv("CI");                                                               \
      if (ci && std::string(ci) == "true") FAIL() << "../shared/fixtures missing: " << kFixtures;       \
      GTEST_SKIP() << "../shared/fixtures missing: " << kFixtures;                                      \
    }                                                                                                   \
  } while (0)

// The config of docs/pipelines.md (paths filled in). `nhwc`: the variant for JPEG clients, whose
// images arrive as NHWC (the docs' config); otherwise the pipeline takes NCHW tensors.
std::string faceConfig(bool nhwc) {
  std::ostringstream c;
  c << R"({
  "model_config_list": [
    {"config": {"name": "face_detection", "base_path": ")" << (kFixtures / "omz-ir" / "face-detection-retail-0004").string() << R"(")"
    << (nhwc ? R"(, "layout": {"data": "NHWC:NCHW"})" : "") << R"(}},
    {"config": {"name": "age_gender", "base_path": ")" << (kFixtures / "omz-ir" / "age-gender-recognition-retail-0013").string() << R"("}}
  ],
  "custom_node_library_config_list": [
    {"name": "image_crop", "base_path": ")" << CROP_NODE_PATH << R"("}
  ],
  "pipeline_config_list": [{
    "name": "find_face_age_gender",
    "inputs": ["image"],
    "nodes": [
      {"name": "face_detection_node", "type": "DL model", "model_name": "face_detection",
       "inputs": [{"data": {"node_name": "request", "data_item": "image"}}],
       "outputs": [{"data_item": "detection_out", "alias": "detection"}]},
      {"name": "crop_node", "type": "custom", "library_name": "image_crop",
       "inputs": [{"image": {"node_name": "request", "data_item": "image"}},
                  {"detection": {"node_name": "face_detection_node", "data_item": "detection"}}],
       "outputs": [{"data_item": "images", "alias": "face_images"},
                   {"data_item": "coordinates", "alias": "face_coordinates"},
                   {"data_item": "confidences", "alias": "confidence_levels"}],
       "params": {"target_image_width": "62", "target_image_height": "62",
                  "confidence_threshold": "0.7", "max_output_batch": "100",
                  "original_image_layout": ")" << (nhwc ? "NHWC" : "NCHW") << R"("},
       "demultiply_count": 0},
      {"name": "age_gender_node", "type": "DL model", "model_name": "age_gender",
       "inputs": [{"data": {"node_name": "crop_node", "data_item": "face_images"}}],
       "outputs": [{"data_item": "age_conv3", "alias": "age"}, {"data_item": "prob", "alias": "gender"}]}
    ],
    "outputs": [{"age": {"node_name": "age_gender_node", "data_item": "age"}},
                {"gender": {"node_name": "age_gender_node", "data_item": "gender"}},
                {"face_coordinates": {"node_name": "crop_node", "data_item": "face_coordinates"}},
                {"confidence_levels": {"node_name": "crop_node", "data_item": "confidence_levels"}}]
  }]
})";
  return c.str();
}

// JPEG -> BGR -> (optionally tiled `tiles` times side by side) -> 300x300 -> NCHW (or NHWC) FP32 0..255.
std::vector<float> loadImage(int tiles, bool nhwc = false) {
  std::ifstream f(kFixtures / "images" / "messi5.jpg", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  api::image::Image img;
  EXPECT_TRUE(api::image::decodeImage(bytes, &img));
  EXPECT_EQ(img.channels, 3);
  api::image::Image tiled = img;
  tiled.cols = img.cols * tiles;
  tiled.data.assign(static_cast<size_t>(tiled.rows) * tiled.cols * 3, 0);
  for (int r = 0; r < img.rows; ++r)
    for (int t = 0; t < tiles; ++t)
      std::copy_n(&img.data[static_cast<size_t>(r) * img.cols * 3], static_cast<size_t>(img.cols) * 3,
                  &tiled.data[(static_cast<size_t>(r) * tiled.cols + static_cast<size_t>(t) * img.cols) * 3]);
  api::image::Image small;
  EXPECT_TRUE(api::image::resizeImage(tiled, 300, 300, &small));
  std::vector<float> nchw(3 * 300 * 300);
  if (nhwc) return std::vector<float>(small.data.begin(), small.data.end());
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 300; ++y)
      for (int x = 0; x < 300; ++x) nchw[(c * 300 + y) * 300 + x] = small.data[(y * 300 + x) * 3 + c];
  return nchw;
}

class FacePipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("face_pipeline_" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    manager_.reset();
    fs::remove_all(dir_);
  }
  void start(bool nhwc = false) {
    std::ofstream(dir_ / "config.json") << faceConfig(nhwc);
    manager_ = std::make_unique<ModelManager>();
    ASSERT_TRUE(manager_->startFromConfigFile((dir_ / "config.json").string()).ok());
    ASSERT_TRUE(manager_->findPipeline("find_face_age_gender", &def_).ok());
    ASSERT_EQ(def_->state(), PipelineState::AVAILABLE) << def_->validationStatus().message();
    ASSERT_TRUE(def_->acquire(&plan_).ok());
  }
  Status run(const std::vector<float>& image, InferenceResponse* resp, bool nhwc = false) {
    InferenceRequest req;
    InferenceInput in;
    in.name = "image";
    in.tensor.precision = engine::Precision::FP32;
    in.tensor.shape = nhwc ? engine::Shape{1, 300, 300, 3} : engine::Shape{1, 3, 300, 300};
    in.tensor.data = image.data();
    in.tensor.bytes = image.size() * sizeof(float);
    req.inputs.push_back(std::move(in));
    return plan_->infer(req, resp);
  }
  static const engine::TensorView& output(const InferenceResponse& r, const std::string& name) {
    for (const auto& o : r.outputs)
      if (o.name == name) return o.tensor;
    throw std::runtime_error("no output " + name);
  }

  fs::path dir_;
  std::unique_ptr<ModelManager> manager_;
  std::shared_ptr<PipelineDefinition> def_;
  std::shared_ptr<const Pipeline> plan_;
};

TEST_F(FacePipelineTest, SignatureOfTheExample) {
  REQUIRE_FIXTURES();
  start();
  ASSERT_EQ(plan_->inputs().size(), 1u);
  EXPECT_EQ(plan_->inputs()[0].name, "image");
  EXPECT_EQ(plan_->inputs()[0].shape, (engine::Shape{1, 3, 300, 300}));
  ASSERT_EQ(plan_->outputs().size(), 4u);
  EXPECT_EQ(plan_->outputs()[0].name, "age");
  EXPECT_EQ(plan_->outputs()[0].shape, (engine::Shape{-1, 1, 1, 1, 1}));
  EXPECT_EQ(plan_->outputs()[1].shape, (engine::Shape{-1, 1, 2, 1, 1}));
  EXPECT_EQ(plan_->outputs()[2].shape, (engine::Shape{-1, 1, 4}));
}

TEST_F(FacePipelineTest, MessiHasOneFaceWithPlausibleAgeAndGender) {
  REQUIRE_FIXTURES();
  start();
  auto image = loadImage(1);
  InferenceResponse resp;
  Status st = run(image, &resp);
  ASSERT_TRUE(st.ok()) << st.message();
  const auto& age = output(resp, "age");
  const auto& gender = output(resp, "gender");
  const auto& coords = output(resp, "face_coordinates");
  ASSERT_EQ(age.shape, (engine::Shape{1, 1, 1, 1, 1}));
  ASSERT_EQ(gender.shape, (engine::Shape{1, 1, 2, 1, 1}));
  ASSERT_EQ(coords.shape, (engine::Shape{1, 1, 4}));
  float years = static_cast<const float*>(age.data)[0] * 100.0f;
  const float* prob = static_cast<const float*>(gender.data);  // [female, male]
  std::cout << "messi5.jpg: age " << years << ", female " << prob[0] << ", male " << prob[1] << std::endl;
  EXPECT_GT(years, 15.0f);
  EXPECT_LT(years, 45.0f);
  EXPECT_GT(prob[1], 0.5f) << "female " << prob[0] << " male " << prob[1];
  const float* box = static_cast<const float*>(coords.data);
  EXPECT_LT(box[0], box[2]);
  EXPECT_LT(box[1], box[3]);
}

TEST_F(FacePipelineTest, SeveralFacesAreDemultiplexedAndGathered) {
  REQUIRE_FIXTURES();
  start();
  auto image = loadImage(2);  // the photo twice, side by side
  InferenceResponse resp;
  Status st = run(image, &resp);
  ASSERT_TRUE(st.ok()) << st.message();
  const auto& age = output(resp, "age");
  const auto& coords = output(resp, "face_coordinates");
  ASSERT_EQ(age.shape.size(), 5u);
  ASSERT_EQ(age.shape[0], 2) << "faces found";
  ASSERT_EQ(coords.shape, (engine::Shape{2, 1, 4}));
  const float* box = static_cast<const float*>(coords.data);
  // One face in each half of the picture.
  float c0 = (box[0] + box[2]) / 2, c1 = (box[4] + box[6]) / 2;
  EXPECT_TRUE((c0 < 0.5f) != (c1 < 0.5f)) << c0 << " " << c1;
  for (int f = 0; f < 2; ++f) {
    float years = static_cast<const float*>(age.data)[f] * 100.0f;
    EXPECT_GT(years, 15.0f);
    EXPECT_LT(years, 45.0f);
  }
}

TEST_F(FacePipelineTest, NhwcVariantForJpegClients) {
  REQUIRE_FIXTURES();
  start(true);
  ASSERT_EQ(plan_->inputs()[0].shape, (engine::Shape{1, 300, 300, 3}));
  ASSERT_EQ(plan_->inputLayouts()[0], "NHWC");
  InferenceResponse resp;
  Status st = run(loadImage(1, true), &resp, true);
  ASSERT_TRUE(st.ok()) << st.message();
  const auto& age = output(resp, "age");
  ASSERT_EQ(age.shape, (engine::Shape{1, 1, 1, 1, 1}));
  float years = static_cast<const float*>(age.data)[0] * 100.0f;
  const float* prob = static_cast<const float*>(output(resp, "gender").data);
  std::cout << "messi5.jpg (NHWC): age " << years << ", male " << prob[1] << std::endl;
  EXPECT_GT(years, 15.0f);
  EXPECT_LT(years, 45.0f);
  EXPECT_GT(prob[1], 0.5f);
}

TEST_F(FacePipelineTest, NoFaceAbortsWithNoContent) {
  REQUIRE_FIXTURES();
  start();
  std::vector<float> grey(3 * 300 * 300, 128.0f);
  InferenceResponse resp;
  Status st = run(grey, &resp);
  EXPECT_EQ(st.code(), StatusCode::PIPELINE_DEMULTIPLEXER_NO_RESULTS);
}

}  // namespace
