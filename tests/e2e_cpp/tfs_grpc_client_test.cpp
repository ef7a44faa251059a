// Starts the real ovms binary on the demo model and talks to it with C++ stubs from our protos.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "tensorflow_serving/apis/get_model_status.pb.h"
#include "tensorflow_serving/apis/model_service.grpc.pb.h"
#include "tensorflow_serving/apis/prediction_service.grpc.pb.h"

extern char** environ;
namespace ts = tensorflow::serving;

namespace {

int freePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

class Server {
 public:
  Server() : port_(freePort()) {
    std::vector<std::string> args{OVMS_BINARY, "--model_name", "demo", "--model_path", DEMO_MODEL_PATH,
                                  "--port", std::to_string(port_), "--log_level", "ERROR"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, OVMS_BINARY, nullptr, nullptr, argv.data(), environ) != 0) pid_ = -1;
  }
  ~Server() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      EXPECT_EQ(exit_code_, 0) << "ovms did not exit cleanly";
    }
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  bool started() const { return pid_ > 0; }

 private:
  int port_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

bool waitAvailable(ts::ModelService::Stub& stub) {
  for (int i = 0; i < 300; ++i) {
    ts::GetModelStatusRequest req;
    req.mutable_model_spec()->set_name("demo");
    ts::GetModelStatusResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    if (stub.GetModelStatus(&ctx, req, &resp).ok() && resp.model_version_status_size() == 1 &&
        resp.model_version_status(0).state() == ts::ModelVersionStatus::AVAILABLE)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

ts::PredictRequest demoRequest(const std::vector<float>& values, int64_t rows) {
  ts::PredictRequest req;
  req.mutable_model_spec()->set_name("demo");
  auto& t = (*req.mutable_inputs())["features"];
  t.set_dtype(tensorflow::DT_FLOAT);
  t.mutable_tensor_shape()->add_dim()->set_size(rows);
  t.mutable_tensor_shape()->add_dim()->set_size(4);
  t.set_tensor_content(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
  return req;
}

class TfsGrpcClient : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.started());
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
    channel_ = grpc::CreateCustomChannel(server_.address(), grpc::InsecureChannelCredentials(), args);
    predict_ = ts::PredictionService::NewStub(channel_);
    models_ = ts::ModelService::NewStub(channel_);
    ASSERT_TRUE(waitAvailable(*models_)) << "demo model did not become AVAILABLE";
  }
  Server server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ts::PredictionService::Stub> predict_;
  std::unique_ptr<ts::ModelService::Stub> models_;
};

TEST_F(TfsGrpcClient, PredictClassifiesTheThreeClusters) {
  std::vector<float> x{5.1f, 3.5f, 1.4f, 0.2f, 6.0f, 2.8f, 4.5f, 1.4f, 6.7f, 3.0f, 5.8f, 2.2f};
  ts::PredictResponse resp;
  grpc::ClientContext ctx;
  auto st = predict_->Predict(&ctx, demoRequest(x, 3), &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  const auto& out = resp.outputs().at("probabilities");
  ASSERT_EQ(out.dtype(), tensorflow::DT_FLOAT);
  ASSERT_EQ(out.tensor_shape().dim_size(), 2);
  EXPECT_EQ(out.tensor_shape().dim(0).size(), 3);
  EXPECT_EQ(out.tensor_shape().dim(1).size(), 3);
  ASSERT_EQ(out.tensor_content().size(), 9 * sizeof(float));
  const float* p = reinterpret_cast<const float*>(out.tensor_content().data());
  for (int row = 0; row < 3; ++row) {
    float sum = p[row * 3] + p[row * 3 + 1] + p[row * 3 + 2];
    EXPECT_NEAR(sum, 1.0f, 1e-5f);
    int best = 0;
    for (int c = 1; c < 3; ++c)
      if (p[row * 3 + c] > p[row * 3 + best]) best = c;
    EXPECT_EQ(best, row) << "row " << row;
    EXPECT_GT(p[row * 3 + best], 0.9f);
  }
}

TEST_F(TfsGrpcClient, WrongShapeIsInvalidArgumentAndServerKeepsServing) {
  std::vector<float> x(5, 1.0f);
  auto req = demoRequest(x, 1);
  (*req.mutable_inputs())["features"].mutable_tensor_shape()->mutable_dim(1)->set_size(5);
  ts::PredictResponse resp;
  grpc::ClientContext ctx;
  auto st = predict_->Predict(&ctx, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "Invalid input shape - Expected: (-1,4); Actual: (1,5); input name: features");
  grpc::ClientContext ctx2;
  std::vector<float> ok{5.1f, 3.5f, 1.4f, 0.2f};
  EXPECT_TRUE(predict_->Predict(&ctx2, demoRequest(ok, 1), &resp).ok());
}

TEST_F(TfsGrpcClient, UnknownModelIsNotFound) {
  auto req = demoRequest({1, 2, 3, 4}, 1);
  req.mutable_model_spec()->set_name("nope");
  ts::PredictResponse resp;
  grpc::ClientContext ctx;
  auto st = predict_->Predict(&ctx, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(), "Pipeline with requested name is not found");
}

TEST_F(TfsGrpcClient, ConcurrentClients) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        ts::PredictResponse resp;
        grpc::ClientContext ctx;
        if (!predict_->Predict(&ctx, demoRequest({6.7f, 3.0f, 5.8f, 2.2f}, 1), &resp).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
