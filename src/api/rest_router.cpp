#include "api/rest_router.h"

#include <algorithm>

#include <google/protobuf/util/json_util.h>


#include "api/common/version_string.h"
#include "api/kserve/kserve_rest.h"
#include "api/metrics/metrics.h"
#include "api/rest_routes.h"
#include "api/tfs/rest_predict_codec.h"
#include "api/tfs/tfs_api.h"
#include "common/logging.h"

namespace ovms::api {
namespace ts = tensorflow::serving;

std::string jsonEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

bool urlDecode(const std::string& in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      if (i + 2 >= in.size() || !isxdigit(static_cast<unsigned char>(in[i + 1])) ||
          !isxdigit(static_cast<unsigned char>(in[i + 2])))
        return false;
      *out += static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      *out += in[i];
    }
  }
  return true;
}

void RestRouter::setError(const Status& st, http::HttpResponse& response) {
  response.status = st.httpCode();
  response.content_type = "application/json";
  response.body = "{\"error\":\"" + jsonEscape(st.message()) + "\"}";
  // A refusal for overload says when to come back (RFC 9110 §10.2.3), as the body budget's 429 does.
  if (st.code() == StatusCode::INFER_QUEUE_FULL) response.headers.emplace_back("Retry-After", "1");
}

namespace {

std::string protoToJson(const google::protobuf::Message& m, bool snake_case) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = true;
  opts.always_print_primitive_fields = true;
  opts.preserve_proto_field_names = snake_case;
  std::string out;
  auto st = google::protobuf::util::MessageToJsonString(m, &out, opts);
  if (!st.ok()) return {};
  return out;
}

}  // namespace

void RestRouter::handle(const http::HttpRequest& request, http::HttpResponse& response) {
  dispatch(request, response);
  // CORS headers on every response, OPTIONS included (§5).
  response.headers.emplace_back("Access-Control-Allow-Origin", cors_.allowed_origins);
  response.headers.emplace_back("Access-Control-Allow-Methods", cors_.allowed_methods);
  response.headers.emplace_back("Access-Control-Allow-Headers", cors_.allowed_headers);
  if (cors_.allow_credentials) response.headers.emplace_back("Access-Control-Allow-Credentials", "true");
}

void RestRouter::dispatch(const http::HttpRequest& request, http::HttpResponse& response) {
  const std::string& m = request.method;
  if (m != "GET" && m != "POST" && m != "OPTIONS") return setError(StatusCode::REST_UNSUPPORTED_METHOD, response);
  if (m == "OPTIONS") {
    response.status = 200;
    return;
  }
  const std::string& path = request.path;
  if (path.find("..") != std::string::npos) return setError(StatusCode::PATH_INVALID, response);
  if (path == "/metrics") return metricsPage(request, response);  // the query string is ignored

  if (path.size() > kMaxRestPathBytes) return setError(StatusCode::REST_INVALID_URL, response);
  const RestRoute route = parseRestRoute(path);
  auto versionOf = [&](int64_t* v) {
    if (!parseVersionString(route.version, v)) {  // beyond int64: no such version can exist
      setError(StatusCode::MODEL_VERSION_MISSING, response);
      return false;
    }
    return true;
  };
  auto nameOf = [&](std::string* name) {
    if (!urlDecode(std::string(route.name), name)) {
      setError(StatusCode::REST_INVALID_URL, response);
      return false;
    }
    return true;
  };
  if (route.kind == RestRoute::Kind::V1_ACTION) {
    if (m != "POST") return setError(StatusCode::REST_UNSUPPORTED_METHOD, response);
    if (route.action != "predict") return setError(StatusCode::REST_NOT_FOUND, response);
    std::string name;
    int64_t v = 0;
    if (!nameOf(&name) || !versionOf(&v)) return;
    return tfsPredict(name, v, request.body, response);
  }
  if (route.kind == RestRoute::Kind::V1_STATUS || route.kind == RestRoute::Kind::V1_METADATA) {
    if (m != "GET") return setError(StatusCode::REST_UNSUPPORTED_METHOD, response);
    std::string name;
    int64_t v = 0;
    if (!nameOf(&name) || !versionOf(&v)) return;
    if (route.kind == RestRoute::Kind::V1_METADATA) return tfsMetadata(name, v, response);
    return tfsStatus(name, v, response);
  }
  if (path == "/v1/config") {
    if (m != "GET") return setError(StatusCode::REST_UNSUPPORTED_METHOD, response);
    return configStatus(response);
  }
  if (path == "/v1/config/reload") {
    if (m != "POST") return setError(StatusCode::REST_UNSUPPORTED_METHOD, response);
    return configReload(response);
  }
  if (kserve::handleRest(path_, request, response)) return;  // KServe v2 routes (§5.7)
  setError(StatusCode::REST_INVALID_URL, response);
}

void RestRouter::metricsPage(const http::HttpRequest& request, http::HttpResponse& response) {
  auto* m = metrics::instance();
  if (!m || !m->enabled()) return setError(StatusCode::REST_INVALID_URL, response);
  if (request.method != "GET") return setError(StatusCode::REST_UNSUPPORTED_METHOD, response);
  response.status = 200;
  response.content_type = "text/plain; version=0.0.4";
  response.body = m->render(manager_);
}

void RestRouter::tfsStatus(const std::string& name, int64_t version, http::HttpResponse& response) {
  metrics::RequestMetrics request_metrics(manager_, metrics::Api::TensorFlowServing, metrics::Interface::REST,
                                          metrics::Method::GetModelStatus, name, version);
  ts::GetModelStatusRequest req;
  req.mutable_model_spec()->set_name(name);
  if (version) req.mutable_model_spec()->mutable_version()->set_value(version);
  ts::GetModelStatusResponse resp;
  Status st = tfs::getModelStatus(manager_, req, &resp);
  request_metrics.done(st);
  if (!st.ok()) return setError(st, response);
  response.body = protoToJson(resp, true);
}

void RestRouter::tfsMetadata(const std::string& name, int64_t version, http::HttpResponse& response) {
  metrics::RequestMetrics request_metrics(manager_, metrics::Api::TensorFlowServing, metrics::Interface::REST,
                                          metrics::Method::GetModelMetadata, name, version);
  ts::GetModelMetadataRequest req;
  req.mutable_model_spec()->set_name(name);
  if (version) req.mutable_model_spec()->mutable_version()->set_value(version);
  req.add_metadata_field("signature_def");
  ts::GetModelMetadataResponse resp;
  Status st = tfs::getModelMetadata(manager_, req, &resp);
  request_metrics.done(st);
  if (!st.ok()) return setError(st, response);
  response.body = protoToJson(resp, false);
}

void RestRouter::tfsPredict(const std::string& name, int64_t version, const std::string& body,
                            http::HttpResponse& response) {
  serving::InferenceRequest request;
  request.model_name = name;
  request.model_version = version;
  request.origin = {serving::Api::TensorFlowServing, serving::Interface::REST, serving::Method::Predict};
  serving::InferenceResponse result;
  tfs::RestOrder order = tfs::RestOrder::COLUMN;
  Status st = path_.run(
      request,
      [&](const serving::InferenceTarget& target, serving::InferenceRequest* decoded) {
        // JSON numbers take the declared precision of the model input (§5.5): needs the signature.
        // OVMS takes the unnamed format (a bare list) for one-input models, never for DAGs (§9).
        const bool unnamed_allowed = dynamic_cast<const serving::pipeline::Pipeline*>(&target) == nullptr;
        return tfs::parsePredictRequest(body, target.inputs(), decoded, &order, unnamed_allowed, body.capacity());
      },
      &result, [&](const serving::InferenceResponse& result) {
        return tfs::makePredictResponse(result, order, &response.body);
      });
  if (!st.ok()) return setError(st, response);
}

void RestRouter::configStatus(http::HttpResponse& response) {
  // OVMS's layout: "{\n" then "name" : \n<status json> entries joined by ",\n", then "\n}".
  // Models and pipelines together, sorted by name (a pipeline cannot take a model's name).
  std::vector<std::string> names;
  for (const auto& model : manager_.models()) names.push_back(model->name());
  for (const auto& pipeline : manager_.pipelines()) names.push_back(pipeline->name());
  std::sort(names.begin(), names.end());
  std::string body;
  for (const auto& name : names) {
    ts::GetModelStatusRequest req;
    req.mutable_model_spec()->set_name(name);
    ts::GetModelStatusResponse resp;
    if (!tfs::getModelStatus(manager_, req, &resp).ok()) continue;
    std::string json = protoToJson(resp, true);
    if (!json.empty() && json.back() == '\n') json.pop_back();
    body += body.empty() ? "{\n" : ",\n";
    body += "\"" + jsonEscape(name) + "\" : \n" + json;
  }
  response.body = body.empty() ? "{}" : body + "\n}";
}

void RestRouter::configReload(http::HttpResponse& response) {
  // 1. config.json, when started with one and it changed (or its last load failed) (§5.6).
  Status st = manager_.reloadConfigFile();
  if (!st.ok()) {
    response.status = st.httpCode();
    response.body = st.code() == StatusCode::CONFIG_FILE_INVALID
                        ? "{\n\t\"error\": \"Config file not found or cannot open.\"\n}"
                        : "{\n\t\"error\": \"Reloading config file failed. Check server logs for more info.\"\n}";
    return;
  }
  // 2. Version folders of every model. Success is 200 (Drogon builds; 201 before 2025).
  st = manager_.reloadVersions();
  if (!st.ok()) {
    response.status = st.httpCode();
    response.body = "{\n\t\"error\": \"Reloading models versions failed. Check server logs for more info.\"\n}";
    return;
  }
  configStatus(response);
}

}  // namespace ovms::api
