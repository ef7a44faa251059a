// The floor cost of gRPC + protobuf for tensorflow.serving.PredictionService/Predict: a server that
// parses the PredictRequest and returns every input tensor unchanged as an output of the same name.
// It is built like ovms's gRPC server (src/api/server.cpp): synchronous service, same message size
// limits, GRPC_ARG_MAX_CONCURRENT_STREAMS = cores, ResourceQuota max threads = 8 x cores, 2 GiB quota.
//
//   grpc_echo_server --port 9501 [--address 127.0.0.1]      (SIGINT/SIGTERM stops it)
#include <grpcpp/grpcpp.h>
#include <grpcpp/resource_quota.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "tensorflow_serving/apis/prediction_service.grpc.pb.h"

namespace {

class EchoPrediction final : public tensorflow::serving::PredictionService::Service {
 public:
  grpc::Status Predict(grpc::ServerContext*, const tensorflow::serving::PredictRequest* request,
                       tensorflow::serving::PredictResponse* response) override {
    *response->mutable_model_spec() = request->model_spec();
    for (const auto& [name, tensor] : request->inputs()) (*response->mutable_outputs())[name] = tensor;
    return grpc::Status::OK;
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string address = "127.0.0.1";
  int port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--port") port = std::atoi(argv[i + 1]);
    else if (k == "--address") address = argv[i + 1];
  }
  if (port <= 0) {
    std::fprintf(stderr, "usage: grpc_echo_server --port N [--address 127.0.0.1]\n");
    return 64;
  }
  // Block the stop signals in every thread (gRPC's threads inherit the mask); main waits for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);

  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  EchoPrediction service;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address + ":" + std::to_string(port), grpc::InsecureServerCredentials());
  builder.SetMaxReceiveMessageSize(1 << 30);
  builder.SetMaxSendMessageSize(1 << 30);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, static_cast<int>(cores));
  grpc::ResourceQuota quota("echo");
  quota.SetMaxThreads(static_cast<int>(std::max(2u, 8 * cores)));
  quota.Resize(2147483648ull);
  builder.SetResourceQuota(quota);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (!server) {
    std::fprintf(stderr, "grpc_echo_server: cannot listen on %s:%d\n", address.c_str(), port);
    return 1;
  }
  std::printf("grpc_echo_server listening on %s:%d\n", address.c_str(), port);
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  // A benchmark helper must never outlive its script: exit even if a graceful shutdown hangs.
  std::thread([] {
    std::this_thread::sleep_for(std::chrono::seconds(8));
    std::_Exit(0);
  }).detach();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  std::_Exit(0);
}
