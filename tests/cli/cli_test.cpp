#include "serving/cli.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

using ovms::serving::CliOutcome;
using ovms::serving::cpuCoreCount;
using ovms::serving::parseCommandLine;
using ovms::serving::setCpuCoreCountForTesting;
using ovms::serving::setVersionStrings;

namespace {

CliOutcome parse(std::vector<std::string> args) {
  args.insert(args.begin(), "ovms");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  return parseCommandLine(static_cast<int>(args.size()), argv.data());
}

// Single-model minimum so that rules 1/2 pass.
std::vector<std::string> model(std::initializer_list<std::string> extra = {}) {
  std::vector<std::string> v{"--model_name", "m", "--model_path", "/nonexistent/model/path"};
  v.insert(v.end(), extra.begin(), extra.end());
  return v;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setCpuCoreCountForTesting(4);
    getrlimit(RLIMIT_NOFILE, &savedLimit_);
  }
  void TearDown() override {
    setCpuCoreCountForTesting(0);
    setrlimit(RLIMIT_NOFILE, &savedLimit_);
    setVersionStrings("0.1.0", "unknown");
  }
  static void expectError(const CliOutcome& o, const std::string& message) {
    EXPECT_FALSE(o.run);
    EXPECT_EQ(o.exit_code, 64);
    EXPECT_EQ(o.err, message + "\n");
    EXPECT_TRUE(o.out.empty());
  }
  static void expectRun(const CliOutcome& o) {
    EXPECT_TRUE(o.run) << o.err;
    EXPECT_EQ(o.exit_code, 0);
    EXPECT_TRUE(o.err.empty()) << o.err;
  }
  // Lowers the soft open-files limit (restored in TearDown).
  static void setOpenFilesLimit(rlim_t soft) {
    struct rlimit rl {};
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < soft) GTEST_SKIP() << "hard limit too low";
    rl.rlim_cur = soft;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
  }
  struct rlimit savedLimit_ {};
};

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("ovms_cli_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  static inline int counter = 0;
};

const std::string kRule1 = "Use either config_path or model_path with model_name";
const std::string kRule2 = "Use config_path or model_path with model_name";
const std::string kRule3 = "Model parameters in CLI are exclusive with the config file";
const std::string kRule4 = "grpc_workers count should be from 1 to CPU core count : 4";
const std::string kRule5 = "rest_port setting is missing, metrics are enabled on rest port";
const std::string kRule6 = "metrics_enable setting is missing, required when metrics_list is provided";
const std::string kRule7 = "port and rest_port cannot both be unset";
const std::string kRule8 = "rest_workers count should be from 2 to 10000";
const std::string kRule9 = "rest_workers is set but rest_port is not set. rest_port is required to start rest servers";
const std::string kRule11Grpc = "port number out of range from 0 to 65535";
const std::string kRule11Rest = "rest_port number out of range from 0 to 65535";
const std::string kRule12Rest = "rest_bind_address has invalid format: proper hostname or IP address expected.";
const std::string kRule12Grpc = "grpc_bind_address has invalid format: proper hostname or IP address expected.";
const std::string kRule13 = "port and rest_port cannot have the same values";
const std::string kRule14Prefix = "File path provided as an --cpu_extension parameter does not exist in the filesystem: ";
const std::string kRule15 = "log_level should be one of: TRACE, DEBUG, INFO, WARNING, ERROR";
const std::string kRule16 =
    "Setting low_latency_transformation, max_sequence_number and idle_sequence_cleanup require setting stateful flag "
    "for the model.";

// ---------------------------------------------------------------------------------------------
// help / version / parse errors

TEST_F(CliTest, NoArgumentsPrintsHelp) {
  auto o = parse({});
  EXPECT_FALSE(o.run);
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_TRUE(o.err.empty());
  EXPECT_NE(o.out.find("Usage:"), std::string::npos);
  EXPECT_NE(o.out.find("OpenVINO Model Server"), std::string::npos);
  EXPECT_NE(o.out.find("--port"), std::string::npos);
  EXPECT_NE(o.out.find(" multi model options:"), std::string::npos);
  EXPECT_NE(o.out.find(" single model options:"), std::string::npos);
  // groups in OVMS order: general, multi model, single model
  EXPECT_LT(o.out.find("--rest_port"), o.out.find(" multi model options:"));
  EXPECT_LT(o.out.find("--config_path"), o.out.find(" single model options:"));
  EXPECT_GT(o.out.find("--model_name"), o.out.find(" single model options:"));
  EXPECT_EQ(o.out.back(), '\n');
}

TEST_F(CliTest, NullArgvPrintsHelp) {
  auto o = parseCommandLine(0, nullptr);
  EXPECT_FALSE(o.run);
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_NE(o.out.find("Usage:"), std::string::npos);
}

TEST_F(CliTest, HelpLongAndShort) {
  for (const char* flag : {"--help", "-h"}) {
    auto o = parse({flag});
    EXPECT_FALSE(o.run) << flag;
    EXPECT_EQ(o.exit_code, 0) << flag;
    EXPECT_TRUE(o.err.empty()) << flag;
    EXPECT_NE(o.out.find("--model_path"), std::string::npos) << flag;
  }
  // --help wins over validation errors
  auto o = parse({"--help", "--port", "0"});
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_FALSE(o.run);
}

TEST_F(CliTest, HelpListsAllFlags) {
  auto o = parse({"--help"});
  for (const char* f :
       {"port", "rest_port", "grpc_bind_address", "rest_bind_address", "grpc_workers", "grpc_max_threads",
        "grpc_memory_quota", "rest_workers", "log_level", "log_path", "grpc_channel_arguments",
        "file_system_poll_wait_seconds", "sequence_cleaner_poll_wait_minutes",
        "custom_node_resources_cleaner_interval_seconds", "cpu_extension", "cache_dir", "metrics_enable",
        "metrics_list", "allow_credentials", "allowed_origins", "allowed_methods", "allowed_headers", "config_path",
        "model_name", "model_path", "batch_size", "shape", "layout", "model_version_policy", "nireq", "target_device",
        "plugin_config", "stateful", "idle_sequence_cleanup", "low_latency_transformation", "max_sequence_number",
        "version", "help"}) {
    const std::string name = std::string("--") + f;
    EXPECT_TRUE(o.out.find(name + " ") != std::string::npos || o.out.find(name + "\n") != std::string::npos) << f;
  }
}

TEST_F(CliTest, VersionDefaultStrings) {
  auto o = parse({"--version"});
  EXPECT_FALSE(o.run);
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_TRUE(o.err.empty());
  EXPECT_EQ(o.out, "OpenVINO Model Server 0.1.0\nOpenVINO backend ONNX Runtime unknown\n");
}

TEST_F(CliTest, VersionSuppliedStrings) {
  setVersionStrings("1.2.3", "1.20.1");
  auto o = parse({"--version"});
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(o.out, "OpenVINO Model Server 1.2.3\nOpenVINO backend ONNX Runtime 1.20.1\n");
  // --version is handled before --help and before validation (as in OVMS)
  auto both = parse({"--help", "--version", "--port", "0"});
  EXPECT_EQ(both.exit_code, 0);
  EXPECT_EQ(both.out, o.out);
}

TEST_F(CliTest, UnknownOption) {
  expectError(parse({"--x"}), "error parsing options - unmatched arguments: --x, ");
  expectError(parse(model({"--x"})), "error parsing options - unmatched arguments: --x, ");
}

TEST_F(CliTest, SeveralUnmatchedArguments) {
  expectError(parse(model({"--foo", "--bar=1", "positional", "-z"})),
              "error parsing options - unmatched arguments: --foo, --bar=1, positional, -z, ");
}

TEST_F(CliTest, UnknownOptionBeforeHelpAndVersion) {
  expectError(parse({"--help", "--x"}), "error parsing options - unmatched arguments: --x, ");
  expectError(parse({"--version", "--x"}), "error parsing options - unmatched arguments: --x, ");
}

TEST_F(CliTest, BoolFollowedByWordLeavesItUnmatched) {
  // bools take their value only with '=': "--metrics_enable true" leaves "true" unmatched (cxxopts/OVMS)
  expectError(parse(model({"--rest_port", "8000", "--metrics_enable", "true"})),
              "error parsing options - unmatched arguments: true, ");
}

TEST_F(CliTest, BadNumericValues) {
  expectError(parse(model({"--port", "abc"})), "error parsing options - Argument 'abc' failed to parse");
  expectError(parse(model({"--port", "-1"})), "error parsing options - Argument '-1' failed to parse");
  expectError(parse(model({"--port=-1"})), "error parsing options - Argument '-1' failed to parse");
  expectError(parse(model({"--rest_port", "1.5"})), "error parsing options - Argument '1.5' failed to parse");
  expectError(parse(model({"--rest_workers", "4x"})), "error parsing options - Argument '4x' failed to parse");
  expectError(parse(model({"--nireq", ""})), "error parsing options - Argument '' failed to parse");
  expectError(parse(model({"--grpc_workers=two"})), "error parsing options - Argument 'two' failed to parse");
  expectError(parse(model({"--max_sequence_number", "x"})), "error parsing options - Argument 'x' failed to parse");
}

TEST_F(CliTest, NumericOverflowIsAParseError) {
  expectError(parse(model({"--port", "4294967296"})),
              "error parsing options - Argument '4294967296' failed to parse");
  expectError(parse(model({"--port", "5000000000"})),
              "error parsing options - Argument '5000000000' failed to parse");
  expectError(parse(model({"--grpc_memory_quota", "18446744073709551616"})),
              "error parsing options - Argument '18446744073709551616' failed to parse");
  auto ok = parse(model({"--grpc_memory_quota", "18446744073709551615"}));
  expectRun(ok);
  EXPECT_EQ(ok.settings.grpc_memory_quota, 18446744073709551615ull);
  auto max32 = parse(model({"--file_system_poll_wait_seconds", "4294967295"}));
  expectRun(max32);
  EXPECT_EQ(max32.settings.file_system_poll_wait_seconds, 4294967295u);
}

TEST_F(CliTest, HexNumbersAcceptedLikeCxxopts) {
  auto o = parse(model({"--rest_port", "0x1F40"}));
  expectRun(o);
  EXPECT_EQ(o.settings.rest_port, 8000u);
}

TEST_F(CliTest, BadValueBeatsUnmatchedAndHelp) {
  expectError(parse({"--x", "--port", "abc"}), "error parsing options - Argument 'abc' failed to parse");
  expectError(parse({"--help", "--port", "abc"}), "error parsing options - Argument 'abc' failed to parse");
}

TEST_F(CliTest, BadBoolValue) {
  auto o = parse(model({"--rest_port", "8000", "--metrics_enable=maybe"}));
  EXPECT_FALSE(o.run);
  EXPECT_EQ(o.exit_code, 64);
  EXPECT_EQ(o.err.rfind("error parsing options - ", 0), 0u) << o.err;
  EXPECT_NE(o.err.find("maybe"), std::string::npos) << o.err;
  EXPECT_EQ(o.err.back(), '\n');
}

TEST_F(CliTest, MissingValue) {
  auto o = parse(model({"--port"}));
  EXPECT_FALSE(o.run);
  EXPECT_EQ(o.exit_code, 64);
  EXPECT_EQ(o.err.rfind("error parsing options - ", 0), 0u) << o.err;
  EXPECT_NE(o.err.find("port"), std::string::npos) << o.err;
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1);
}

// ---------------------------------------------------------------------------------------------
// defaults and value forms

TEST_F(CliTest, Defaults) {
  auto o = parse(model());
  expectRun(o);
  EXPECT_TRUE(o.out.empty());
  const auto& s = o.settings;
  EXPECT_EQ(s.grpc_port, 9178u);
  EXPECT_EQ(s.rest_port, 0u);
  EXPECT_EQ(s.grpc_bind_address, "0.0.0.0");
  EXPECT_EQ(s.rest_bind_address, "0.0.0.0");
  EXPECT_EQ(s.grpc_workers, 1u);
  EXPECT_EQ(s.grpc_max_threads, 32u);  // 8 x 4 cores
  EXPECT_EQ(s.grpc_memory_quota, 2147483648ull);
  EXPECT_FALSE(s.rest_workers_set);
  EXPECT_EQ(s.log_level, "INFO");
  EXPECT_EQ(s.log_path, "");
  EXPECT_EQ(s.grpc_channel_arguments, "");
  EXPECT_EQ(s.file_system_poll_wait_seconds, 1u);
  EXPECT_EQ(s.sequence_cleaner_poll_wait_minutes, 5u);
  EXPECT_EQ(s.custom_node_resources_cleaner_interval_seconds, 300u);
  EXPECT_EQ(s.cpu_extension, "");
  EXPECT_EQ(s.cache_dir, "");
  EXPECT_FALSE(s.metrics_enable);
  EXPECT_EQ(s.metrics_list, "");
  EXPECT_FALSE(s.allow_credentials);
  EXPECT_EQ(s.allowed_origins, "*");
  EXPECT_EQ(s.allowed_methods, "*");
  EXPECT_EQ(s.allowed_headers, "*");
  EXPECT_EQ(s.config_path, "");
  EXPECT_EQ(s.model.model_name, "m");
  EXPECT_EQ(s.model.model_path, "/nonexistent/model/path");  // existence is not checked here
  EXPECT_FALSE(s.model.batch_size);
  EXPECT_FALSE(s.model.shape);
  EXPECT_FALSE(s.model.layout);
  EXPECT_FALSE(s.model.model_version_policy);
  EXPECT_FALSE(s.model.plugin_config);
  EXPECT_FALSE(s.model.target_device);
  EXPECT_FALSE(s.model.nireq);
}

TEST_F(CliTest, DefaultRestWorkersFollowsCoresAndOpenFilesLimit) {
  setOpenFilesLimit(1024);  // (1024-15)/7 = 144 > 4 cores
  auto o = parse(model());
  expectRun(o);
  EXPECT_EQ(o.settings.rest_workers, 4u);

  setOpenFilesLimit(50);  // (50-15)/7 = 5
  setCpuCoreCountForTesting(16);
  o = parse(model());
  expectRun(o);
  EXPECT_EQ(o.settings.rest_workers, 5u);
  EXPECT_EQ(o.settings.grpc_max_threads, 128u);

  setCpuCoreCountForTesting(1);  // floor of 2
  o = parse(model());
  expectRun(o);
  EXPECT_EQ(o.settings.rest_workers, 2u);
}

TEST_F(CliTest, AllValuesSpaceForm) {
  auto o = parse({"--model_name", "resnet", "--model_path", "/models/resnet", "--port", "9000", "--rest_port", "8000",
                  "--grpc_bind_address", "127.0.0.1", "--rest_bind_address", "localhost", "--grpc_workers", "2",
                  "--grpc_max_threads", "7", "--grpc_memory_quota", "0", "--rest_workers", "3", "--log_level", "DEBUG",
                  "--log_path", "/tmp/x.log", "--grpc_channel_arguments", "grpc.max_connection_age_ms=2000",
                  "--file_system_poll_wait_seconds", "0", "--sequence_cleaner_poll_wait_minutes", "7",
                  "--custom_node_resources_cleaner_interval_seconds", "11", "--cache_dir", "/tmp/cache",
                  "--metrics_enable", "--metrics_list", "ovms_requests_success", "--allow_credentials",
                  "--allowed_origins", "http://a", "--allowed_methods", "GET", "--allowed_headers", "X-A",
                  "--batch_size", "auto", "--shape", "(1,3,224,224)", "--layout", "NCHW", "--model_version_policy",
                  "{\"all\":{}}", "--nireq", "4", "--target_device", "CPU", "--plugin_config",
                  "{\"NUM_STREAMS\":\"1\"}"});
  expectRun(o);
  const auto& s = o.settings;
  EXPECT_EQ(s.grpc_port, 9000u);
  EXPECT_EQ(s.rest_port, 8000u);
  EXPECT_EQ(s.grpc_bind_address, "127.0.0.1");
  EXPECT_EQ(s.rest_bind_address, "localhost");
  EXPECT_EQ(s.grpc_workers, 2u);
  EXPECT_EQ(s.grpc_max_threads, 7u);
  EXPECT_EQ(s.grpc_memory_quota, 0u);
  EXPECT_EQ(s.rest_workers, 3u);
  EXPECT_TRUE(s.rest_workers_set);
  EXPECT_EQ(s.log_level, "DEBUG");
  EXPECT_EQ(s.log_path, "/tmp/x.log");
  EXPECT_EQ(s.grpc_channel_arguments, "grpc.max_connection_age_ms=2000");
  EXPECT_EQ(s.file_system_poll_wait_seconds, 0u);
  EXPECT_EQ(s.sequence_cleaner_poll_wait_minutes, 7u);
  EXPECT_EQ(s.custom_node_resources_cleaner_interval_seconds, 11u);
  EXPECT_EQ(s.cache_dir, "/tmp/cache");
  EXPECT_TRUE(s.metrics_enable);
  EXPECT_EQ(s.metrics_list, "ovms_requests_success");
  EXPECT_TRUE(s.allow_credentials);
  EXPECT_EQ(s.allowed_origins, "http://a");
  EXPECT_EQ(s.allowed_methods, "GET");
  EXPECT_EQ(s.allowed_headers, "X-A");
  EXPECT_EQ(s.model.model_name, "resnet");
  EXPECT_EQ(s.model.model_path, "/models/resnet");
  EXPECT_EQ(s.model.batch_size, "auto");
  EXPECT_EQ(s.model.shape, "(1,3,224,224)");
  EXPECT_EQ(s.model.layout, "NCHW");
  EXPECT_EQ(s.model.model_version_policy, "{\"all\":{}}");
  EXPECT_EQ(s.model.nireq, 4u);
  EXPECT_EQ(s.model.target_device, "CPU");
  EXPECT_EQ(s.model.plugin_config, "{\"NUM_STREAMS\":\"1\"}");
}

TEST_F(CliTest, EqualsForm) {
  auto o = parse({"--model_name=resnet", "--model_path=/models/resnet", "--port=9001", "--rest_port=8001",
                  "--grpc_workers=3", "--log_level=TRACE", "--batch_size=1:8", "--shape={\"in\":\"(1,3)\"}",
                  "--nireq=2", "--metrics_enable=true", "--allow_credentials=false", "--rest_workers=5"});
  expectRun(o);
  const auto& s = o.settings;
  EXPECT_EQ(s.model.model_name, "resnet");
  EXPECT_EQ(s.model.model_path, "/models/resnet");
  EXPECT_EQ(s.grpc_port, 9001u);
  EXPECT_EQ(s.rest_port, 8001u);
  EXPECT_EQ(s.grpc_workers, 3u);
  EXPECT_EQ(s.log_level, "TRACE");
  EXPECT_EQ(s.model.batch_size, "1:8");
  EXPECT_EQ(s.model.shape, "{\"in\":\"(1,3)\"}");
  EXPECT_EQ(s.model.nireq, 2u);
  EXPECT_TRUE(s.metrics_enable);
  EXPECT_FALSE(s.allow_credentials);
  EXPECT_EQ(s.rest_workers, 5u);
  EXPECT_TRUE(s.rest_workers_set);
}

TEST_F(CliTest, BareAndExplicitBool) {
  auto bare = parse(model({"--rest_port", "8000", "--metrics_enable", "--allow_credentials"}));
  expectRun(bare);
  EXPECT_TRUE(bare.settings.metrics_enable);
  EXPECT_TRUE(bare.settings.allow_credentials);

  auto off = parse(model({"--metrics_enable=false"}));
  expectRun(off);
  EXPECT_FALSE(off.settings.metrics_enable);
}

TEST_F(CliTest, LastValueWins) {
  auto o = parse(model({"--rest_port", "8000", "--rest_port", "8001"}));
  expectRun(o);
  EXPECT_EQ(o.settings.rest_port, 8001u);
}

// ---------------------------------------------------------------------------------------------
// config_path

TEST_F(CliTest, ConfigPathFileIsKept) {
  TempDir dir;
  auto file = (dir.path / "my.json").string();
  std::ofstream(file) << "{}";
  auto o = parse({"--config_path", file});
  expectRun(o);
  EXPECT_EQ(o.settings.config_path, file);
}

TEST_F(CliTest, ConfigPathMissingIsKept) {  // reading it is a runtime error, handled elsewhere
  auto o = parse({"--config_path", "/nonexistent/config.json"});
  expectRun(o);
  EXPECT_EQ(o.settings.config_path, "/nonexistent/config.json");
}

TEST_F(CliTest, ConfigPathDirectoryAppendsConfigJson) {
  TempDir dir;
  auto o = parse({"--config_path", dir.path.string()});
  expectRun(o);
  EXPECT_EQ(o.settings.config_path, dir.path.string() + "/config.json");

  auto slash = parse({"--config_path=" + dir.path.string() + "/"});
  expectRun(slash);
  EXPECT_EQ(slash.settings.config_path, dir.path.string() + "/config.json");
}

// ---------------------------------------------------------------------------------------------
// validation rules, one by one

TEST_F(CliTest, Rule1ConfigPathWithModel) {
  expectError(parse({"--config_path", "/c.json", "--model_name", "m"}), kRule1);
  expectError(parse({"--config_path", "/c.json", "--model_path", "/p"}), kRule1);
  expectError(parse({"--config_path", "/c.json", "--model_name", "m", "--model_path", "/p"}), kRule1);
  expectRun(parse({"--config_path", "/c.json"}));
}

TEST_F(CliTest, Rule2NeitherConfigNorModel) {
  expectError(parse({"--port", "9000"}), kRule2);
  expectError(parse({"--model_name", "m"}), kRule2);
  expectError(parse({"--model_path", "/p"}), kRule2);
  expectError(parse({"--model_name", "", "--model_path", "/p"}), kRule2);
  expectRun(parse({"--model_name", "m", "--model_path", "/p"}));
}

TEST_F(CliTest, Rule3ModelParametersExclusiveWithConfig) {
  for (auto [flag, value] : std::vector<std::pair<std::string, std::string>>{{"--batch_size", "1"},
                                                                              {"--shape", "auto"},
                                                                              {"--nireq", "3"},
                                                                              {"--model_version_policy", "{}"},
                                                                              {"--target_device", "CPU"},
                                                                              {"--plugin_config", "{}"}}) {
    SCOPED_TRACE(flag);
    expectError(parse({"--config_path", "/c.json", flag, value}), kRule3);
  }
  // not checked: layout, stateful flags; nireq 0 means "auto" (OVMS checks nireq != 0)
  expectRun(parse({"--config_path", "/c.json", "--layout", "NCHW"}));
  expectRun(parse({"--config_path", "/c.json", "--nireq", "0"}));
  // single-model mode accepts them
  expectRun(parse(model({"--batch_size", "1", "--shape", "auto", "--nireq", "3", "--model_version_policy", "{}",
                         "--target_device", "CPU", "--plugin_config", "{}"})));
}

TEST_F(CliTest, Rule4GrpcWorkers) {
  expectError(parse(model({"--grpc_workers", "0"})), kRule4);
  expectError(parse(model({"--grpc_workers", "5"})), kRule4);
  expectRun(parse(model({"--grpc_workers", "1"})));
  expectRun(parse(model({"--grpc_workers", "4"})));
}

TEST_F(CliTest, Rule4UsesCpuCoreCountOverride) {
  setCpuCoreCountForTesting(1);
  EXPECT_EQ(cpuCoreCount(), 1u);
  expectError(parse(model({"--grpc_workers", "2"})), "grpc_workers count should be from 1 to CPU core count : 1");
  setCpuCoreCountForTesting(16);
  EXPECT_EQ(cpuCoreCount(), 16u);
  expectRun(parse(model({"--grpc_workers", "16"})));
  expectError(parse(model({"--grpc_workers", "17"})), "grpc_workers count should be from 1 to CPU core count : 16");
}

TEST_F(CliTest, CpuCoreCountRealValue) {
  setCpuCoreCountForTesting(0);
  EXPECT_GE(cpuCoreCount(), 1u);
}

TEST_F(CliTest, Rule5MetricsNeedRestPort) {
  expectError(parse(model({"--metrics_enable"})), kRule5);
  expectRun(parse(model({"--metrics_enable", "--rest_port", "8000"})));
}

TEST_F(CliTest, Rule6MetricsListNeedsMetricsEnable) {
  expectError(parse(model({"--rest_port", "8000", "--metrics_list", "ovms_requests_success"})), kRule6);
  expectRun(parse(model({"--rest_port", "8000", "--metrics_enable", "--metrics_list", "ovms_requests_success"})));
}

TEST_F(CliTest, Rule7BothPortsUnset) {
  expectError(parse(model({"--port", "0"})), kRule7);
  auto restOnly = parse(model({"--port", "0", "--rest_port", "8000"}));
  expectRun(restOnly);
  EXPECT_EQ(restOnly.settings.grpc_port, 0u);
  expectRun(parse(model({"--rest_port", "0"})));  // gRPC default 9178
}

TEST_F(CliTest, Rule8RestWorkersRange) {
  expectError(parse(model({"--rest_port", "8000", "--rest_workers", "1"})), kRule8);
  expectError(parse(model({"--rest_port", "8000", "--rest_workers", "0"})), kRule8);
  expectError(parse(model({"--rest_port", "8000", "--rest_workers", "10001"})), kRule8);
  expectRun(parse(model({"--rest_port", "8000", "--rest_workers", "2"})));
  // 10000 is within the range; it may still exceed the open-files limit (rule 10)
  struct rlimit rl {};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= 60015) {
    setOpenFilesLimit(60015);
    expectRun(parse(model({"--rest_port", "8000", "--rest_workers", "10000"})));
  } else {
    auto o = parse(model({"--rest_port", "8000", "--rest_workers", "10000"}));
    EXPECT_NE(o.err, kRule8 + "\n");
    EXPECT_NE(o.err.find("open files limit"), std::string::npos) << o.err;
  }
}

TEST_F(CliTest, Rule9RestWorkersWithoutRestPort) {
  expectError(parse(model({"--rest_workers", "4"})), kRule9);
  expectRun(parse(model({"--rest_workers", "4", "--rest_port", "8000"})));
}

TEST_F(CliTest, Rule10RestWorkersVsOpenFilesLimit) {
  setOpenFilesLimit(100);  // (100-15)/6 = 14
  auto o = parse(model({"--rest_port", "8000", "--rest_workers", "15"}));
  EXPECT_FALSE(o.run);
  EXPECT_EQ(o.exit_code, 64);
  EXPECT_NE(o.err.find("rest_workers"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("open files limit"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("100"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("14"), std::string::npos) << o.err;
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1);
  EXPECT_EQ(o.err.back(), '\n');
  expectRun(parse(model({"--rest_port", "8000", "--rest_workers", "14"})));
  // the default value respects the limit
  expectRun(parse(model({"--rest_port", "8000"})));
}

TEST_F(CliTest, Rule11PortRange) {
  expectError(parse(model({"--port", "65536"})), kRule11Grpc);
  expectError(parse(model({"--rest_port", "70000"})), kRule11Rest);
  expectError(parse(model({"--port", "4294967295"})), kRule11Grpc);
  expectRun(parse(model({"--port", "65535", "--rest_port", "65534"})));
}

TEST_F(CliTest, Rule12BindAddressesValid) {
  for (const char* addr : {"0.0.0.0", "127.0.0.1", "255.255.255.255", "localhost", "my-host.example.com", "a",
                           "host1", "1host", "::", "::1", "[::1]", "fe80::1", "2001:db8::8a2e:370:7334",
                           "::ffff:192.168.0.1", "127.0.0.1,::1", "localhost,[::1],10.0.0.1", "xn--bcher-kva.example",
                           ""}) {
    SCOPED_TRACE(addr);
    expectRun(parse(model({"--rest_port", "8000", "--rest_bind_address", addr})));
    expectRun(parse(model({"--grpc_bind_address", addr})));
  }
}

TEST_F(CliTest, Rule12BindAddressesInvalid) {
  for (const char* addr : {"256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "-host", "host-", "ho_st", "ho st",
                           "a..b", ".a", "a.", "a,,b", "a,", ",a", "[::1", "::1]", "::g", "1:2:3:4:5:6:7:8:9",
                           "[127.0.0.1]", "host:8080", "a-b.-c", "*"}) {
    SCOPED_TRACE(addr);
    expectError(parse(model({"--rest_port", "8000", "--rest_bind_address", addr})), kRule12Rest);
    expectError(parse(model({"--grpc_bind_address", addr})), kRule12Grpc);
  }
  std::string longLabel(64, 'a');
  expectError(parse(model({"--grpc_bind_address", longLabel})), kRule12Grpc);
  expectRun(parse(model({"--grpc_bind_address", std::string(63, 'a')})));
  std::string longName;
  for (int i = 0; i < 64; ++i) longName += "abc.";
  longName += "d";  // 257 characters
  expectError(parse(model({"--grpc_bind_address", longName})), kRule12Grpc);
}

TEST_F(CliTest, Rule13SamePorts) {
  expectError(parse(model({"--port", "8000", "--rest_port", "8000"})), kRule13);
  expectError(parse(model({"--rest_port", "9178"})), kRule13);  // default gRPC port
  expectRun(parse(model({"--port", "8000", "--rest_port", "8001"})));
}

TEST_F(CliTest, Rule14CpuExtension) {
  expectError(parse(model({"--cpu_extension", "/nonexistent/libext.so"})), kRule14Prefix + "/nonexistent/libext.so");
  TempDir dir;
  auto lib = (dir.path / "libext.so").string();
  std::ofstream(lib) << "x";
  auto o = parse(model({"--cpu_extension", lib}));
  expectRun(o);
  EXPECT_EQ(o.settings.cpu_extension, lib);
}

TEST_F(CliTest, Rule15LogLevel) {
  for (const char* level : {"TRACE", "DEBUG", "INFO", "WARNING", "ERROR"}) {
    auto o = parse(model({"--log_level", level}));
    expectRun(o);
    EXPECT_EQ(o.settings.log_level, level);
  }
  for (const char* level : {"debug", "WARN", "CRITICAL", ""}) {
    SCOPED_TRACE(level);
    expectError(parse(model({"--log_level", level})), kRule15);
  }
}

TEST_F(CliTest, Rule16StatefulOptions) {
  expectError(parse(model({"--low_latency_transformation"})), kRule16);
  expectError(parse(model({"--max_sequence_number", "10"})), kRule16);
  expectError(parse(model({"--idle_sequence_cleanup=false"})), kRule16);
  expectError(parse(model({"--idle_sequence_cleanup"})), kRule16);
  expectError(parse(model({"--stateful=false", "--low_latency_transformation"})), kRule16);
  expectRun(parse(model({"--stateful"})));
  expectRun(parse(model({"--stateful", "--low_latency_transformation", "--max_sequence_number", "10",
                         "--idle_sequence_cleanup=false"})));
}

// ---------------------------------------------------------------------------------------------
// rule order: with two violations the earlier rule's message wins

TEST_F(CliTest, RuleOrder) {
  // 1 before 3, 4
  expectError(parse({"--config_path", "/c", "--model_name", "m", "--nireq", "2", "--grpc_workers", "0"}), kRule1);
  // 2 before 4 and 15
  expectError(parse({"--grpc_workers", "0", "--log_level", "x"}), kRule2);
  // 3 before 4
  expectError(parse({"--config_path", "/c", "--shape", "auto", "--grpc_workers", "0"}), kRule3);
  // 4 before 5
  expectError(parse(model({"--grpc_workers", "0", "--metrics_enable"})), kRule4);
  // 5 before 7
  expectError(parse(model({"--port", "0", "--metrics_enable"})), kRule5);
  // 6 before 7
  expectError(parse(model({"--port", "0", "--metrics_list", "a"})), kRule6);
  // 7 before 8, 9, 13
  expectError(parse(model({"--port", "0", "--rest_workers", "1"})), kRule7);
  // 8 before 9
  expectError(parse(model({"--rest_workers", "1"})), kRule8);
  // 9 before 11
  expectError(parse(model({"--rest_workers", "3", "--port", "70000"})), kRule9);
  // 11 (port) before 11 (rest_port) and 12
  expectError(parse(model({"--port", "70000", "--rest_port", "70001", "--rest_bind_address", "-x"})), kRule11Grpc);
  expectError(parse(model({"--rest_port", "70001", "--rest_bind_address", "-x"})), kRule11Rest);
  // 12 rest before 12 grpc, and before 13
  expectError(parse(model({"--rest_port", "9178", "--rest_bind_address", "-x", "--grpc_bind_address", "-y"})),
              kRule12Rest);
  expectError(parse(model({"--rest_port", "9178", "--grpc_bind_address", "-y"})), kRule12Grpc);
  // 13 before 14
  expectError(parse(model({"--rest_port", "9178", "--cpu_extension", "/nonexistent.so"})), kRule13);
  // 14 before 15
  expectError(parse(model({"--cpu_extension", "/nonexistent.so", "--log_level", "x"})),
              kRule14Prefix + "/nonexistent.so");
  // 15 before 16
  expectError(parse(model({"--log_level", "x", "--low_latency_transformation"})), kRule15);
}

TEST_F(CliTest, Rule10AfterRule9BeforeRule11) {
  setOpenFilesLimit(100);
  expectError(parse(model({"--rest_workers", "50"})), kRule9);
  auto o = parse(model({"--rest_port", "8000", "--rest_workers", "50", "--port", "70000"}));
  EXPECT_EQ(o.exit_code, 64);
  EXPECT_NE(o.err.find("open files limit"), std::string::npos) << o.err;
}

}  // namespace
