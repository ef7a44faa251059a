#pragma once
// Maps REST routes (§5.2) onto the API handlers and OVMS status codes onto HTTP responses.
#include <string>

#include "api/http/http_server.h"
#include "common/status.h"
#include "serving/inference_path.h"
#include "serving/model_manager.h"

namespace ovms::api {

struct CorsSettings {
  bool allow_credentials = false;
  std::string allowed_origins = "*", allowed_methods = "*", allowed_headers = "*";
};

class RestRouter {
 public:
  RestRouter(serving::ModelManager& manager, const serving::InferencePath& path, CorsSettings cors)
      : manager_(manager), path_(path), cors_(std::move(cors)) {}
  void handle(const http::HttpRequest& request, http::HttpResponse& response);

  // {"error":"<message>"} with the status's HTTP code.
  static void setError(const Status& st, http::HttpResponse& response);

 private:
  void dispatch(const http::HttpRequest& request, http::HttpResponse& response);
  void tfsStatus(const std::string& name, int64_t version, http::HttpResponse& response);
  void tfsMetadata(const std::string& name, int64_t version, http::HttpResponse& response);
  void tfsPredict(const std::string& name, int64_t version, const std::string& body, http::HttpResponse& response);
  void metricsPage(const http::HttpRequest& request, http::HttpResponse& response);
  void configStatus(http::HttpResponse& response);
  void configReload(http::HttpResponse& response);

  serving::ModelManager& manager_;
  const serving::InferencePath& path_;
  CorsSettings cors_;
};

// JSON string escaping for hand-built bodies.
std::string jsonEscape(const std::string& s);
// %XX decoding of a path segment; false on malformed escapes.
bool urlDecode(const std::string& in, std::string* out);

}  // namespace ovms::api
