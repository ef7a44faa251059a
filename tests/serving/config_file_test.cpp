#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "serving/config_file.h"
#include "serving/model_config.h"

namespace ovms::serving {
namespace {

Status parse(const std::string& text, ConfigFileContent* out, const std::string& dir = "/cfg") {
  return parseConfigFile(text, dir, out);
}

Status parseOne(const std::string& model_json) {
  ConfigFileContent c;
  return parse(R"({"model_config_list": [{"config": )" + model_json + "}]}", &c);
}

TEST(ConfigFile, SpecExampleParses) {
  ConfigFileContent c;
  ASSERT_TRUE(parse(R"J({"model_config_list": [
     {"config": {"name": "resnet", "base_path": "/models/resnet", "batch_size": "auto",
                 "nireq": 4, "target_device": "CPU",
                 "model_version_policy": {"latest": {"num_versions": 2}},
                 "plugin_config": {"PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": 2, "X": true}}},
     {"config": {"name": "fd", "base_path": "fd", "shape": {"data": "(1, 3, 600, 600)"}}}
   ],
   "monitoring": {"metrics": {"enable": true, "metrics_list": ["ovms_requests_success"]}}})J",
                    &c)
                  .ok());
  ASSERT_EQ(c.models.size(), 2u);
  const auto& r = c.models[0];
  EXPECT_EQ(r.name, "resnet");
  EXPECT_EQ(r.base_path, "/models/resnet");
  EXPECT_EQ(r.batch_size, "auto");
  EXPECT_EQ(r.nireq, 4u);
  EXPECT_EQ(r.policy.kind, VersionPolicy::Kind::LATEST);
  EXPECT_EQ(r.policy.num_versions, 2);
  EXPECT_EQ(r.plugin_config.at("PERFORMANCE_HINT"), "THROUGHPUT");
  EXPECT_EQ(r.plugin_config.at("NUM_STREAMS"), "2");
  EXPECT_EQ(r.plugin_config.at("X"), "true");
  const auto& fd = c.models[1];
  EXPECT_EQ(fd.base_path, "/cfg/fd");  // relative to the config file's directory
  ASSERT_TRUE(fd.shape.has_value());
  EXPECT_NE(fd.shape->find("(1, 3, 600, 600)"), std::string::npos);
  EXPECT_TRUE(c.metrics.configured);
  EXPECT_TRUE(c.metrics.enable);
  EXPECT_EQ(c.metrics.metrics_list, std::vector<std::string>{"ovms_requests_success"});
  EXPECT_TRUE(c.first_error.ok());
}

TEST(ConfigFile, EmptyListAndDefaults) {
  ConfigFileContent c;
  ASSERT_TRUE(parse(R"({"model_config_list": []})", &c).ok());
  EXPECT_TRUE(c.models.empty());
  EXPECT_FALSE(c.metrics.configured);
  ASSERT_TRUE(parse(R"({"model_config_list": [{"config": {"name": "m", "base_path": "/m"}}]})", &c).ok());
  ASSERT_EQ(c.models.size(), 1u);
  EXPECT_EQ(c.models[0].policy.kind, VersionPolicy::Kind::LATEST);
  EXPECT_EQ(c.models[0].policy.num_versions, 1);
  EXPECT_EQ(c.models[0].target_device, "CPU");
  EXPECT_EQ(c.models[0].nireq, 0u);
}

TEST(ConfigFile, NotJson) {
  ConfigFileContent c;
  EXPECT_EQ(parse("{\"model_config_list\": [", &c).code(), StatusCode::JSON_INVALID);
  EXPECT_EQ(parse("", &c).code(), StatusCode::JSON_INVALID);
}

TEST(ConfigFile, SchemaRejectsTopLevel) {
  ConfigFileContent c;
  EXPECT_EQ(parse("{}", &c).code(), StatusCode::JSON_INVALID);                          // required list
  EXPECT_EQ(parse("[]", &c).code(), StatusCode::JSON_INVALID);
  EXPECT_EQ(parse(R"({"model_config_list": [], "unknown": 1})", &c).code(), StatusCode::JSON_INVALID);
  EXPECT_EQ(parse(R"({"model_config_list": {}})", &c).code(), StatusCode::JSON_INVALID);
  EXPECT_EQ(parse(R"({"model_config_list": [{"config": {"name": "a", "base_path": "/a"}, "x": 1}]})", &c).code(), StatusCode::JSON_INVALID);
  EXPECT_EQ(parse(R"({"model_config_list": [{"name": "a"}]})", &c).code(), StatusCode::JSON_INVALID);
}

TEST(ConfigFile, SchemaRejectsModelKeys) {
  EXPECT_EQ(parseOne(R"({"base_path": "/m"})").code(), StatusCode::JSON_INVALID);              // no name
  EXPECT_EQ(parseOne(R"({"name": 1, "base_path": "/m"})").code(), StatusCode::JSON_INVALID);
  EXPECT_EQ(parseOne(R"({"name": "m", "base_path": "/m", "bogus": 1})").code(), StatusCode::JSON_INVALID);
  EXPECT_EQ(parseOne(R"({"name": "m", "base_path": "/m", "mean": "[1,2,3]"})").code(), StatusCode::JSON_INVALID);  // not in schema
  EXPECT_EQ(parseOne(R"({"name": "m", "base_path": "/m", "nireq": -1})").code(), StatusCode::JSON_INVALID);
  EXPECT_EQ(parseOne(R"({"name": "m", "base_path": "/m", "nireq": "4"})").code(), StatusCode::JSON_INVALID);
  EXPECT_EQ(parseOne(R"({"name": "m", "base_path": "/m", "batch_size": -2})").code(), StatusCode::JSON_INVALID);
  EXPECT_EQ(parseOne(R"({"name": "m", "base_path": "/m", "plugin_config": {"A": [1]}})").code(), StatusCode::JSON_INVALID);
  EXPECT_EQ(parseOne(R"({"name": "m", "base_path": "/m", "plugin_config": "x"})").code(), StatusCode::JSON_INVALID);
  EXPECT_EQ(parseOne(R"({"name": "m", "base_path": "/m", "shape": {"in": [1, 3]}})").code(), StatusCode::JSON_INVALID);
  EXPECT_EQ(parseOne(R"({"name": "m", "base_path": "/m", "shape": 5})").code(), StatusCode::JSON_INVALID);
  EXPECT_EQ(parseOne(R"({"name": "m", "base_path": "/m", "target_device": 1})").code(), StatusCode::JSON_INVALID);
  // base_path is required, as in OVMS's 2021 schema (issue #13): a model without one rejects the file.
  EXPECT_EQ(parseOne(R"({"name": "m"})").code(), StatusCode::JSON_INVALID);
  EXPECT_TRUE(parseOne(R"({"name": "m", "base_path": "/m"})").ok());
  EXPECT_TRUE(parseOne(R"({"name": "m", "base_path": "/m", "batch_size": 8, "stateful": false, "allow_cache": true})").ok());
}

TEST(ConfigFile, VersionPolicyForms) {
  auto withPolicy = [](const std::string& p) { return parseOne(R"({"name": "m", "base_path": "/m", "model_version_policy": )" + p + "}"); };
  EXPECT_TRUE(withPolicy(R"({"all": {}})").ok());
  EXPECT_TRUE(withPolicy(R"({"latest": {"num_versions": 2}})").ok());
  EXPECT_TRUE(withPolicy(R"({"specific": {"versions": [1, 3]}})").ok());
  for (const char* bad : {R"({"all": {"x": 1}})", R"({"latest": {}})", R"({"latest": {"num_versions": 0}})",
                          R"({"latest": {"num_versions": "2"}})", R"({"specific": {"versions": [0]}})",
                          R"({"specific": {}})", R"({"specific": {"versions": [1], "x": 2}})",
                          R"({"all": {}, "latest": {"num_versions": 1}})", R"({"newest": {}})", R"({})", R"([])"})
    EXPECT_EQ(withPolicy(bad).code(), StatusCode::JSON_INVALID) << bad;

  ConfigFileContent c;
  ASSERT_TRUE(parse(R"({"model_config_list": [{"config": {"name": "m", "base_path": "/m", "model_version_policy": {"specific": {"versions": [3, 1]}}}}]})", &c).ok());
  EXPECT_EQ(c.models[0].policy.kind, VersionPolicy::Kind::SPECIFIC);
  EXPECT_EQ(c.models[0].policy.versions, (std::vector<int64_t>{3, 1}));
  ASSERT_TRUE(parse(R"({"model_config_list": [{"config": {"name": "m", "base_path": "/m", "model_version_policy": {"all": {}}}}]})", &c).ok());
  EXPECT_EQ(c.models[0].policy.kind, VersionPolicy::Kind::ALL);
}

TEST(ConfigFile, MonitoringSchema) {
  ConfigFileContent c;
  EXPECT_TRUE(parse(R"({"model_config_list": [], "monitoring": {"metrics": {"enable": false}}})", &c).ok());
  EXPECT_TRUE(c.metrics.configured);
  EXPECT_FALSE(c.metrics.enable);
  for (const char* bad : {R"({"metrics": {}})", R"({"metrics": {"enable": "yes"}})",
                          R"({"metrics": {"enable": true, "endpoint_path": "/m"}})", R"({})",
                          R"({"metrics": {"enable": true}, "x": 1})", R"({"metrics": {"enable": true, "metrics_list": "a"}})"})
    EXPECT_EQ(parse(std::string(R"({"model_config_list": [], "monitoring": )") + bad + "}", &c).code(),
              StatusCode::JSON_INVALID)
        << bad;
}

TEST(ConfigFile, OtherListsAccepted) {
  ConfigFileContent c;
  ASSERT_TRUE(parse(R"({"model_config_list": [],
    "pipeline_config_list": [{"name": "p", "inputs": ["in"], "nodes": [
        {"name": "n", "type": "DL model", "model_name": "m", "inputs": [{"x": {"node_name": "request", "data_item": "in"}}],
         "outputs": [{"data_item": "y", "alias": "out"}]}],
      "outputs": [{"o": {"node_name": "n", "data_item": "out"}}]}],
    "custom_node_library_config_list": [{"name": "lib", "base_path": "/lib.so"}],
    "custom_loader_config_list": [{"config": {"loader_name": "l", "library_path": "/l.so"}}],
    "mediapipe_config_list": [{"name": "g", "graph_path": "/g.pbtxt"}]})",
                    &c)
                  .ok());
  EXPECT_EQ(c.pipelines, 1u);
  EXPECT_EQ(c.custom_node_libraries, 1u);
  EXPECT_EQ(c.custom_loaders, 1u);
  EXPECT_EQ(c.mediapipe_graphs, 1u);
  // A pipeline without nodes fails the schema.
  EXPECT_EQ(parse(R"({"model_config_list": [], "pipeline_config_list": [{"name": "p", "inputs": [], "outputs": []}]})", &c).code(),
            StatusCode::JSON_INVALID);
  EXPECT_EQ(parse(R"({"model_config_list": [], "custom_node_library_config_list": [{"name": "lib"}]})", &c).code(),
            StatusCode::JSON_INVALID);
}

TEST(ConfigFile, PerModelErrorsSkipOnlyThatModel) {
  ConfigFileContent c;
  ASSERT_TRUE(parse(R"J({"model_config_list": [
      {"config": {"name": "a", "base_path": "/a"}},
      {"config": {"name": "bad_shape", "base_path": "/b", "shape": "(1,x)"}},
      {"config": {"name": "bad_layout", "base_path": "/b", "layout": "NC:HW:X"}},
      {"config": {"name": "a", "base_path": "/other"}},
      {"config": {"name": "c", "base_path": "/c", "shape": "(1,10)", "batch_size": 4}}]})J",
                    &c)
                  .ok());
  ASSERT_EQ(c.models.size(), 2u);
  EXPECT_EQ(c.models[0].name, "a");
  EXPECT_EQ(c.models[0].base_path, "/a");  // only the first definition of a duplicated name
  EXPECT_EQ(c.models[1].name, "c");
  EXPECT_FALSE(c.models[1].batch_size.has_value());  // shape wins over batch_size
  ASSERT_EQ(c.invalid_models.size(), 2u);
  EXPECT_EQ(c.invalid_models[0].name, "bad_shape");
  EXPECT_EQ(c.invalid_models[0].status.code(), StatusCode::MODEL_CONFIG_INVALID);
  EXPECT_EQ(c.invalid_models[1].name, "bad_layout");
  EXPECT_EQ(c.first_error.code(), StatusCode::MODEL_CONFIG_INVALID);
}

TEST(ConfigFile, RelativeAndRemotePaths) {
  ConfigFileContent c;
  ASSERT_TRUE(parse(R"({"model_config_list": [
      {"config": {"name": "rel", "base_path": "models/m"}},
      {"config": {"name": "abs", "base_path": "/models/m"}},
      {"config": {"name": "s3", "base_path": "s3://bucket/m"}}]})",
                    &c, "/etc/ovms")
                  .ok());
  EXPECT_EQ(c.models[0].base_path, "/etc/ovms/models/m");
  EXPECT_EQ(c.models[1].base_path, "/models/m");
  EXPECT_EQ(c.models[2].base_path, "s3://bucket/m");
}

TEST(ConfigFile, FilesAndDirectories) {
  auto dir = std::filesystem::temp_directory_path() / ("ovms_cfg_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  EXPECT_EQ(resolveConfigPath(dir.string()), (dir / "config.json").string());
  EXPECT_EQ(resolveConfigPath((dir / "x.json").string()), (dir / "x.json").string());
  std::string content;
  ConfigFileContent c;
  EXPECT_EQ(loadConfigFile((dir / "config.json").string(), &content, &c).code(), StatusCode::CONFIG_FILE_INVALID);
  std::ofstream(dir / "config.json") << R"({"model_config_list": [{"config": {"name": "m", "base_path": "m"}}]})";
  ASSERT_TRUE(loadConfigFile(resolveConfigPath(dir.string()), &content, &c).ok());
  ASSERT_EQ(c.models.size(), 1u);
  EXPECT_EQ(c.models[0].base_path, (dir / "m").string());
  EXPECT_EQ(contentHash(content), contentHash(std::string(content)));
  EXPECT_NE(contentHash(content), contentHash(content + " "));
  std::filesystem::remove_all(dir);
}

TEST(ConfigFile, MetricFamilies) {
  EXPECT_TRUE(isKnownMetricFamily("ovms_requests_success"));
  EXPECT_TRUE(isKnownMetricFamily("ovms_infer_req_active"));
  EXPECT_FALSE(isKnownMetricFamily("ovms_bogus"));
}

TEST(VersionPolicySelect, Latest) {
  VersionPolicy p;
  EXPECT_EQ(p.select({1, 2, 3}), (std::vector<int64_t>{3}));
  p.num_versions = 2;
  EXPECT_EQ(p.select({3, 1, 2}), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(p.select({5}), (std::vector<int64_t>{5}));
  EXPECT_TRUE(p.select({}).empty());
}

TEST(VersionPolicySelect, SpecificAndAll) {
  VersionPolicy p;
  ASSERT_TRUE(parseVersionPolicy(R"({"specific": {"versions": [1, 3, 7]}})", &p).ok());
  EXPECT_EQ(p.select({1, 2, 3, 4}), (std::vector<int64_t>{1, 3}));
  ASSERT_TRUE(parseVersionPolicy(R"({"all": {}})", &p).ok());
  EXPECT_EQ(p.select({4, 2, 2, 9}), (std::vector<int64_t>{2, 4, 9}));
  ASSERT_TRUE(parseVersionPolicy(R"({"latest": {"num_versions": 2}})", &p).ok());
  EXPECT_EQ(p.select({1, 2, 3}), (std::vector<int64_t>{2, 3}));
  EXPECT_FALSE(parseVersionPolicy(R"({"latest": {"num_versions": 0}})", &p).ok());
  EXPECT_FALSE(parseVersionPolicy(R"({"bogus": {}})", &p).ok());
}

TEST(ModelConfigCompare, ReloadRelevantFields) {
  ModelConfig a;
  a.name = "m";
  a.base_path = "/m";
  ModelConfig b = a;
  b.policy.kind = VersionPolicy::Kind::ALL;  // policy only starts/retires versions
  EXPECT_TRUE(a.sameLoadSettings(b));
  b = a;
  b.nireq = 2;
  EXPECT_FALSE(a.sameLoadSettings(b));
  b = a;
  b.plugin_config["NUM_STREAMS"] = "1";
  EXPECT_FALSE(a.sameLoadSettings(b));
  b = a;
  b.shape = "(1,10)";
  EXPECT_FALSE(a.sameLoadSettings(b));
}

}  // namespace
}  // namespace ovms::serving
