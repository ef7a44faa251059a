// Closed-loop gRPC load for tensorflow.serving.PredictionService/Predict (--api tfs, the default) or
// inference.GRPCInferenceService/ModelInfer (--api kserve: the input in raw_input_contents).
// `--concurrency` calls are kept in flight (each one re-issued as soon as it completes), spread over
// `--channels` TCP connections and `--threads` completion-queue threads, for `--seconds` or until
// `--max-requests` have completed, whichever comes first. The request (one FP32 input filled with
// x[i] = ((i * 7919) % 1000) / 1000 - 0.5, sent as tensor_content or raw_input_contents) is serialized once and sent as
// raw bytes through the generic stub, so the client's cost per call is small and the same for every
// server. The first response is parsed and checked; after that only the gRPC status is checked.
//
//   grpc_load --target 127.0.0.1:9178 --model demo --input features --shape 1,4 [--api tfs|kserve]
//             [--concurrency 8] [--channels 8] [--threads 1] [--seconds 10] [--warmup-seconds 1]
//             [--max-requests 10000000]
// Prints one JSON line: requests, errors, req_per_s, p50_ms, p90_ms, p99_ms, request/response bytes.
// "requests" are the calls that completed inside the measured window (after the warm-up); req_per_s
// is their count over the window and the percentiles are their latencies.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kserve/grpc_predict_v2.grpc.pb.h"
#include "tensorflow_serving/apis/prediction_service.grpc.pb.h"
#include "bench_flags.h"
#include "load_summary.h"

using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  std::string api = "tfs";  // tfs | kserve
  std::string target = "127.0.0.1:9178";
  std::string model = "demo";
  std::string input = "features";
  std::vector<int64_t> shape{1, 4};
  int concurrency = 8;
  int channels = -1;  // default: one per in-flight call, as independent clients would have
  int threads = 1;
  double seconds = 10;
  double warmup_seconds = 1;
  long max_requests = 10000000;
};

constexpr const char* kUsage =
    "grpc_load --target HOST:PORT --model NAME --input NAME --shape D0,D1,.. [--api tfs|kserve] [--concurrency N] "
    "[--channels N] [--threads N] [--seconds S] [--warmup-seconds S] [--max-requests N]";

Args parse(int argc, char** argv) {
  Args a;
  bench::parseFlags(argc, argv, kUsage, [&](const std::string& k, const std::string& v) {
    if (k == "--target") a.target = v;
    else if (k == "--api" && (v == "tfs" || v == "kserve")) a.api = v;
    else if (k == "--model") a.model = v;
    else if (k == "--input") a.input = v;
    else if (k == "--shape") {
      a.shape.clear();
      std::stringstream ss(v);
      for (std::string d; std::getline(ss, d, ',');) a.shape.push_back(std::atoll(d.c_str()));
    } else if (k == "--concurrency") a.concurrency = std::max(1, std::atoi(v.c_str()));
    else if (k == "--channels") a.channels = std::max(1, std::atoi(v.c_str()));
    else if (k == "--threads") a.threads = std::max(1, std::atoi(v.c_str()));
    else if (k == "--seconds") a.seconds = std::atof(v.c_str());
    else if (k == "--warmup-seconds") a.warmup_seconds = std::atof(v.c_str());
    else if (k == "--max-requests") a.max_requests = std::max(1L, std::atol(v.c_str()));
    else return false;
    return true;
  });
  if (a.channels < 0) a.channels = a.concurrency;
  a.threads = std::min(a.threads, a.concurrency);
  a.channels = std::min(a.channels, a.concurrency);
  return a;
}

const char* kTfsMethod = "/tensorflow.serving.PredictionService/Predict";
const char* kKserveMethod = "/inference.GRPCInferenceService/ModelInfer";

struct Call {
  grpc::ClientContext ctx;
  grpc::ByteBuffer response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<grpc::ByteBuffer>> reader;
  Clock::time_point start;
  grpc::GenericStub* stub = nullptr;
};

struct Shared {
  std::atomic<long> issued{0};
  std::atomic<bool> stop{false};
};

std::shared_ptr<grpc::Channel> makeChannel(const std::string& target, int id) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(1 << 30);
  args.SetMaxSendMessageSize(1 << 30);
  args.SetInt("ovms.bench.channel_id", id);  // distinct args: a separate connection per channel
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);

  int64_t n = 1;
  for (auto d : a.shape) n *= d;
  std::vector<float> x(static_cast<size_t>(n));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f - 0.5f;
  const std::string raw(reinterpret_cast<const char*>(x.data()), x.size() * sizeof(float));

  tensorflow::serving::PredictRequest tfs_req;
  inference::ModelInferRequest kserve_req;
  std::string wire;
  if (a.api == "tfs") {
    tfs_req.mutable_model_spec()->set_name(a.model);
    auto& t = (*tfs_req.mutable_inputs())[a.input];
    t.set_dtype(tensorflow::DT_FLOAT);
    for (auto d : a.shape) t.mutable_tensor_shape()->add_dim()->set_size(d);
    t.set_tensor_content(raw);
    wire = tfs_req.SerializeAsString();
  } else {
    kserve_req.set_model_name(a.model);
    auto* t = kserve_req.add_inputs();
    t->set_name(a.input);
    t->set_datatype("FP32");
    for (auto d : a.shape) t->add_shape(d);
    kserve_req.add_raw_input_contents(raw);
    wire = kserve_req.SerializeAsString();
  }
  const char* method = a.api == "tfs" ? kTfsMethod : kKserveMethod;
  grpc::Slice slice(wire);
  const grpc::ByteBuffer request_bytes(&slice, 1);

  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs;
  for (int c = 0; c < a.channels; ++c) {
    channels.push_back(makeChannel(a.target, c));
    stubs.push_back(std::make_unique<grpc::GenericStub>(channels.back()));
  }

  // One checked call first: the server must answer OK with at least one output.
  size_t response_bytes = 0;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Status st;
    bool has_outputs = false;
    if (a.api == "tfs") {
      tensorflow::serving::PredictionService::Stub stub(channels[0]);
      tensorflow::serving::PredictResponse resp;
      st = stub.Predict(&ctx, tfs_req, &resp);
      has_outputs = !resp.outputs().empty();
      response_bytes = resp.ByteSizeLong();
    } else {
      inference::GRPCInferenceService::Stub stub(channels[0]);
      inference::ModelInferResponse resp;
      st = stub.ModelInfer(&ctx, kserve_req, &resp);
      has_outputs = resp.outputs_size() > 0 && resp.raw_output_contents_size() == resp.outputs_size();
      response_bytes = resp.ByteSizeLong();
    }
    if (!st.ok() || !has_outputs) {
      std::fprintf(stderr, "grpc_load: check call to %s failed: %d %s\n", a.target.c_str(), st.error_code(),
                   st.ok() ? "no outputs" : st.error_message().c_str());
      return 2;
    }
  }

  Shared shared;
  const auto t_start = Clock::now();
  const auto t_measure = t_start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.warmup_seconds));
  const auto t_end = t_measure + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.seconds));
  const auto hard_deadline = t_end + std::chrono::seconds(60);  // in-flight calls never outlive this

  std::vector<bench::WorkerResult> results(a.threads);
  std::vector<std::thread> workers;
  for (int w = 0; w < a.threads; ++w) {
    workers.emplace_back([&, w] {
      grpc::CompletionQueue cq;
      bench::WorkerResult& r = results[w];
      r.latencies_ms.reserve(1 << 16);
      auto issue = [&](grpc::GenericStub* stub) -> bool {
        if (shared.stop.load(std::memory_order_relaxed) || Clock::now() >= t_end) return false;
        if (shared.issued.fetch_add(1, std::memory_order_relaxed) >= a.max_requests) return false;
        auto* call = new Call;
        call->stub = stub;
        call->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
        call->start = Clock::now();
        call->reader = stub->PrepareUnaryCall(&call->ctx, method, request_bytes, &cq);
        call->reader->StartCall();
        call->reader->Finish(&call->response, &call->status, call);
        return true;
      };
      int inflight = 0;
      for (int i = w; i < a.concurrency; i += a.threads)
        if (issue(stubs[i % a.channels].get())) ++inflight;
      while (inflight > 0) {
        void* tag = nullptr;
        bool ok = false;
        auto st = cq.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + std::chrono::seconds(1));
        if (st == grpc::CompletionQueue::TIMEOUT) {
          if (Clock::now() > hard_deadline) break;
          continue;
        }
        if (st == grpc::CompletionQueue::SHUTDOWN) break;
        auto* call = static_cast<Call*>(tag);
        --inflight;
        auto done = Clock::now();
        if (ok && call->status.ok()) {
          ++r.ok;
          // Calls that complete inside the measured window: their count over the window is the
          // throughput even when a call takes longer than the window (64 clients on a slow model).
          if (done >= t_measure && done <= t_end)
            r.latencies_ms.push_back(std::chrono::duration<double, std::milli>(done - call->start).count());
        } else {
          ++r.errors;
          if (r.first_error.empty()) r.first_error = call->status.error_message();
          if (r.errors > 100 && r.errors > r.ok) shared.stop = true;  // the server is failing: give up
        }
        auto* stub = call->stub;
        delete call;
        if (issue(stub)) ++inflight;
      }
      cq.Shutdown();
      void* tag;
      bool ok;
      while (cq.Next(&tag, &ok)) delete static_cast<Call*>(tag);
    });
  }
  for (auto& th : workers) th.join();
  const double measured_s =
      std::chrono::duration<double>(std::min(Clock::now(), t_end) - std::min(t_measure, Clock::now())).count();

  const bench::LoadSummary sum = bench::summarize(results, measured_s);
  std::printf(
      "{\"api\":\"%s\",\"target\":\"%s\",\"model\":\"%s\",\"request_bytes\":%zu,\"response_bytes\":%zu,\"concurrency\":%d,\"channels\":%d,\"threads\":%d,"
      "\"seconds\":%.2f,\"requests\":%zu,\"total_ok\":%ld,\"errors\":%ld,\"req_per_s\":%.1f,\"p50_ms\":%.3f,"
      "\"p90_ms\":%.3f,\"p99_ms\":%.3f}\n",
      a.api.c_str(), a.target.c_str(), a.model.c_str(), wire.size(), response_bytes, a.concurrency, a.channels, a.threads, measured_s, sum.requests, sum.ok,
      sum.errors, sum.req_per_s, sum.p50_ms, sum.p90_ms, sum.p99_ms);
  if (sum.errors) std::fprintf(stderr, "grpc_load: %ld errors, first: %s\n", sum.errors, sum.first_error.c_str());
  return sum.errors ? 1 : 0;
}
