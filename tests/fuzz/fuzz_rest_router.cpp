// REST front end from the wire up to the model: URL routing, TF-Serving row/column JSON bodies,
// KServe JSON bodies and the KServe binary extension, through api::RestRouter::handle.
// Input: <method byte><path>\n<Inference-Header-Content-Length or empty>\n<body>
#include <memory>

#include "api/rest_router.h"
#include "serving/inference_path.h"
#include "fuzz_common.h"
#include "serving/model_manager.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ovms::serving::InferencePath inference(*ovms::fuzz::demoManager());
  static ovms::api::RestRouter router(*ovms::fuzz::demoManager(), inference, ovms::api::CorsSettings{});
  if (size < 1) return 0;
  static const char* const kMethods[] = {"GET", "POST", "OPTIONS", "HEAD", "PUT", "DELETE"};
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto [path, rest] = ovms::fuzz::splitOnce(in, '\n');
  auto [ihcl, body] = ovms::fuzz::splitOnce(rest, '\n');
  ovms::http::HttpRequest req;
  req.method = kMethods[data[0] % 6];
  auto q = path.find('?');
  req.path = std::string(path.substr(0, q));
  if (q != std::string_view::npos) req.query = std::string(path.substr(q + 1));
  req.headers.emplace_back("content-type", "application/json");
  if (!ihcl.empty()) req.headers.emplace_back("inference-header-content-length", std::string(ihcl));
  req.body = std::string(body);
  ovms::http::HttpResponse resp;
  router.handle(req, resp);
  if (resp.status < 100 || resp.status > 599) abort();
  return 0;
}
