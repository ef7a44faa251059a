#include "api/tfs/rest_predict_codec.h"
#include "api/kserve/kserve_rest.h"

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "api/kserve/kserve_tensor.h"
#include "api/metrics/metrics.h"
#include "api/rest_router.h"
#include "api/rest_routes.h"
#include "common/logging.h"
#include "engine/half.h"

namespace ovms::api::kserve {

using engine::Precision;
using rapidjson::Value;

namespace {



// --------------------------------------------------------------------------------------------
// Request

// Calls f on every non-array value of a (possibly nested) array, depth first.
template <typename F>
bool forEachLeaf(const Value& v, F&& f) {
  if (v.IsArray()) {
    for (const auto& e : v.GetArray())
      if (!forEachLeaf(e, f)) return false;
    return true;
  }
  return f(v);
}

template <typename T>
void store(std::vector<uint8_t>& buf, size_t i, T v) {
  std::memcpy(buf.data() + i * sizeof(T), &v, sizeof(T));
}

// Writes JSON `data` (nested or flat) into `in`'s storage as elements of `p`.
Status parseJsonData(const Value& data, Precision p, serving::InferenceInput* in) {
  if (!data.IsArray()) return StatusCode::REST_COULD_NOT_PARSE_INPUT;
  auto accepts = [p](const Value& v) {
    switch (p) {
      case Precision::FP32:
      case Precision::FP64: return v.IsNumber();
      case Precision::I8:
      case Precision::I16:
      case Precision::I32: return v.IsInt();
      case Precision::I64: return v.IsInt64();
      case Precision::U8:
      case Precision::U16:
      case Precision::U32: return v.IsUint();
      case Precision::U64: return v.IsUint64();
      case Precision::BOOL: return v.IsBool();
      case Precision::STRING: return v.IsString();
      default: return false;
    }
  };
  switch (p) {
    case Precision::FP32: case Precision::FP64: case Precision::I8: case Precision::I16: case Precision::I32:
    case Precision::I64: case Precision::U8: case Precision::U16: case Precision::U32: case Precision::U64:
    case Precision::BOOL: case Precision::STRING:
      break;
    default:
      // FP16 and BF16 (and unknown datatypes) cannot be written in JSON: only as binary data.
      return StatusCode::REST_UNSUPPORTED_PRECISION;
  }
  // Pass 1: check every value and size the storage.
  size_t count = 0, string_bytes = 0;
  bool ok = forEachLeaf(data, [&](const Value& v) {
    if (!accepts(v)) return false;
    ++count;
    if (p == Precision::STRING) string_bytes += 4 + v.GetStringLength();
    return true;
  });
  if (!ok) return StatusCode::REST_COULD_NOT_PARSE_INPUT;
  auto& buf = in->storage.bytes;
  buf.resize(p == Precision::STRING ? string_bytes : count * engine::elementSize(p));
  // Pass 2: write.
  size_t i = 0, pos = 0;
  forEachLeaf(data, [&](const Value& v) {
    switch (p) {
      case Precision::FP32: store(buf, i, static_cast<float>(v.GetDouble())); break;
      case Precision::FP64: store(buf, i, v.GetDouble()); break;
      case Precision::I8: store(buf, i, static_cast<int8_t>(v.GetInt())); break;
      case Precision::I16: store(buf, i, static_cast<int16_t>(v.GetInt())); break;
      case Precision::I32: store(buf, i, static_cast<int32_t>(v.GetInt())); break;
      case Precision::I64: store(buf, i, static_cast<int64_t>(v.GetInt64())); break;
      case Precision::U8: store(buf, i, static_cast<uint8_t>(v.GetUint())); break;
      case Precision::U16: store(buf, i, static_cast<uint16_t>(v.GetUint())); break;
      case Precision::U32: store(buf, i, static_cast<uint32_t>(v.GetUint())); break;
      case Precision::U64: store(buf, i, static_cast<uint64_t>(v.GetUint64())); break;
      case Precision::BOOL: store(buf, i, static_cast<uint8_t>(v.GetBool() ? 1 : 0)); break;
      case Precision::STRING: {
        uint32_t n = v.GetStringLength();
        uint8_t* d = buf.data() + pos;
        d[0] = static_cast<uint8_t>(n);
        d[1] = static_cast<uint8_t>(n >> 8);
        d[2] = static_cast<uint8_t>(n >> 16);
        d[3] = static_cast<uint8_t>(n >> 24);
        if (n) std::memcpy(d + 4, v.GetString(), n);
        pos += 4 + n;
        break;
      }
      default: break;
    }
    ++i;
    return true;
  });
  in->tensor.data = buf.data();
  in->tensor.bytes = buf.size();
  in->typed_values = true;
  in->value_count = static_cast<int64_t>(count);
  return StatusCode::OK;
}

// Parameters objects: values must be strings, booleans or int64 (the InferParameter choices).
bool validParameters(const Value& params) {
  if (!params.IsObject()) return false;
  for (const auto& m : params.GetObject())
    if (!m.value.IsString() && !m.value.IsBool() && !m.value.IsInt64()) return false;
  return true;
}

Status parseHeaderLength(const std::string& value, size_t body_size, size_t* out) {
  size_t b = value.find_first_not_of(" \t"), e = value.find_last_not_of(" \t");
  if (b == std::string::npos) return StatusCode::REST_INFERENCE_HEADER_CONTENT_LENGTH_INVALID;
  uint64_t n = 0;
  auto res = std::from_chars(value.data() + b, value.data() + e + 1, n);
  if (res.ec != std::errc() || res.ptr != value.data() + e + 1)
    return StatusCode::REST_INFERENCE_HEADER_CONTENT_LENGTH_INVALID;
  if (n > body_size) return StatusCode::REST_INFERENCE_HEADER_CONTENT_LENGTH_EXCEEDED;
  *out = static_cast<size_t>(n);
  return StatusCode::OK;
}

// Binary input bytes [offset, offset + size) of the binary part, viewed in place.
Status takeBinary(std::string_view binary, size_t* offset, uint64_t size, const std::string& datatype,
                  serving::InferenceInput* in) {
  if (size > binary.size() - *offset) return StatusCode::REST_BINARY_BUFFER_EXCEEDED;
  in->tensor.data = binary.data() + *offset;
  in->tensor.bytes = static_cast<size_t>(size);
  *offset += static_cast<size_t>(size);
  if (datatype == "BYTES") {
    int64_t count = 0;
    Status st = countPackedElements(in->tensor.data, in->tensor.bytes, in->name, &count);
    if (!st.ok()) return st;
    in->typed_values = true;
    in->value_count = count;
  }
  return StatusCode::OK;
}

}  // namespace

Status parseInferRequest(std::string_view body, const std::string* header_length, RestInferRequest* out) {
  size_t json_length = body.size();
  if (header_length) {
    Status st = parseHeaderLength(*header_length, body.size(), &json_length);
    if (!st.ok()) return st;
  }
  std::string_view json = body.substr(0, json_length);
  std::string_view binary = body.substr(json_length);
  if (tfs::jsonNestingTooDeep(json)) return StatusCode::JSON_INVALID;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(json.data(), json.size());
  if (doc.HasParseError()) return StatusCode::JSON_INVALID;
  if (!doc.IsObject()) return StatusCode::REST_BODY_NOT_AN_OBJECT;

  if (auto it = doc.FindMember("id"); it != doc.MemberEnd()) {
    if (!it->value.IsString()) return StatusCode::REST_COULD_NOT_PARSE_INPUT;
    out->id.assign(it->value.GetString(), it->value.GetStringLength());
  }
  if (auto it = doc.FindMember("parameters"); it != doc.MemberEnd()) {
    if (!validParameters(it->value)) return StatusCode::REST_COULD_NOT_PARSE_PARAMETERS;
    auto b = it->value.FindMember("binary_data_output");
    out->binary_data_output = b != it->value.MemberEnd() && b->value.IsBool() && b->value.GetBool();
  }
  auto inputs = doc.FindMember("inputs");
  if (inputs == doc.MemberEnd()) return StatusCode::REST_NO_INPUTS_FOUND;
  if (!inputs->value.IsArray()) return StatusCode::REST_COULD_NOT_PARSE_INPUT;
  if (auto it = doc.FindMember("outputs"); it != doc.MemberEnd()) {
    if (!it->value.IsArray()) return StatusCode::REST_COULD_NOT_PARSE_OUTPUT;
    for (const auto& o : it->value.GetArray()) {
      if (!o.IsObject()) return StatusCode::REST_COULD_NOT_PARSE_OUTPUT;
      auto name = o.FindMember("name");
      if (name == o.MemberEnd() || !name->value.IsString()) return StatusCode::REST_COULD_NOT_PARSE_OUTPUT;
      RestRequestedOutput ro;
      ro.name.assign(name->value.GetString(), name->value.GetStringLength());
      if (auto params = o.FindMember("parameters"); params != o.MemberEnd()) {
        if (!validParameters(params->value)) return StatusCode::REST_COULD_NOT_PARSE_PARAMETERS;
        auto b = params->value.FindMember("binary_data");
        if (b != params->value.MemberEnd() && b->value.IsBool()) {
          ro.has_binary_data = true;
          ro.binary_data = b->value.GetBool();
        }
      }
      out->outputs.push_back(std::move(ro));
    }
  }

  const auto& list = inputs->value.GetArray();
  auto& decoded = out->decoded;
  decoded.request.inputs.resize(list.Size());
  decoded.datatypes.resize(list.Size());
  size_t offset = 0;  // into `binary`
  for (rapidjson::SizeType k = 0; k < list.Size(); ++k) {
    const Value& item = list[k];
    auto& in = decoded.request.inputs[k];
    if (!item.IsObject()) return StatusCode::REST_COULD_NOT_PARSE_INPUT;
    auto name = item.FindMember("name");
    auto shape = item.FindMember("shape");
    auto datatype = item.FindMember("datatype");
    if (name == item.MemberEnd() || !name->value.IsString() || shape == item.MemberEnd() ||
        !shape->value.IsArray() || datatype == item.MemberEnd() || !datatype->value.IsString())
      return StatusCode::REST_COULD_NOT_PARSE_INPUT;
    in.name.assign(name->value.GetString(), name->value.GetStringLength());
    for (const auto& d : shape->value.GetArray()) {
      if (!d.IsInt64()) return StatusCode::REST_COULD_NOT_PARSE_INPUT;
      in.tensor.shape.push_back(d.GetInt64());
    }
    std::string& dt = decoded.datatypes[k];
    dt.assign(datatype->value.GetString(), datatype->value.GetStringLength());
    auto p = engine::fromKserveDatatype(dt);
    in.tensor.precision = p ? *p : Precision::UNDEFINED;
    in.storage.precision = in.tensor.precision;
    in.storage.shape = in.tensor.shape;

    bool has_size = false;
    uint64_t size = 0;
    if (auto params = item.FindMember("parameters"); params != item.MemberEnd()) {
      if (!validParameters(params->value)) return StatusCode::REST_COULD_NOT_PARSE_PARAMETERS;
      auto s = params->value.FindMember("binary_data_size");
      if (s != params->value.MemberEnd()) {
        if (!s->value.IsInt64() || s->value.GetInt64() < 0) return StatusCode::REST_BINARY_DATA_SIZE_PARAMETER_INVALID;
        has_size = true;
        size = static_cast<uint64_t>(s->value.GetInt64());
      }
    }
    auto data = item.FindMember("data");
    const bool has_data = data != item.MemberEnd();
    if (has_size) {
      if (has_data) return StatusCode::REST_CONTENTS_FIELD_NOT_EMPTY;
      Status st = takeBinary(binary, &offset, size, dt, &in);
      if (!st.ok()) return st;
    } else if (has_data) {
      Status st = parseJsonData(data->value, in.tensor.precision, &in);
      if (!st.ok()) return st;
    } else if (dt == "BYTES") {
      // Without a size, only a lone BYTES input can claim the binary data: all of it.
      if (list.Size() != 1) return StatusCode::REST_COULD_NOT_PARSE_INPUT;
      Status st = takeBinary(binary, &offset, binary.size() - offset, dt, &in);
      if (!st.ok()) return st;
    } else {
      // The size follows from shape x datatype. Negative dims are left to validation (INVALID_SHAPE).
      bool negative = false;
      for (int64_t d : in.tensor.shape) negative |= d < 0;
      uint64_t bytes = 0;
      if (!negative) {
        if (!engine::denseByteSize(in.tensor.shape, in.tensor.precision, binary.size(), &bytes))
          return StatusCode::REST_BINARY_BUFFER_EXCEEDED;
        Status st = takeBinary(binary, &offset, bytes, dt, &in);
        if (!st.ok()) return st;
      }
    }
  }
  return StatusCode::OK;
}

// --------------------------------------------------------------------------------------------
// Response

namespace {

using PrettyWriter = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

// rapidjson's Double() (shortest round-trip form, "2.0" for integral values), with non-finite
// values written as NaN / Infinity / -Infinity (Debian's PrettyWriter cannot take kWriteNanAndInfFlag).
void writeDouble(PrettyWriter& w, double v) {
  if (std::isfinite(v)) {
    w.Double(v);
  } else if (std::isnan(v)) {
    w.RawValue("NaN", 3, rapidjson::kNumberType);
  } else if (v > 0) {
    w.RawValue("Infinity", 8, rapidjson::kNumberType);
  } else {
    w.RawValue("-Infinity", 9, rapidjson::kNumberType);
  }
}

template <typename T>
T at(const uint8_t* data, size_t i) {
  T v;
  std::memcpy(&v, data + i * sizeof(T), sizeof(T));
  return v;
}

Status writeData(PrettyWriter& w, const engine::TensorView& t) {
  const auto* data = static_cast<const uint8_t*>(t.data);
  w.StartArray();
  if (t.precision == Precision::STRING) {
    const uint8_t* p = data;
    size_t pos = 0;
    while (p && pos + 4 <= t.bytes) {
      uint32_t n = static_cast<uint32_t>(p[pos]) | (static_cast<uint32_t>(p[pos + 1]) << 8) |
                   (static_cast<uint32_t>(p[pos + 2]) << 16) | (static_cast<uint32_t>(p[pos + 3]) << 24);
      pos += 4;
      if (n > t.bytes - pos) return StatusCode::INTERNAL_ERROR;
      w.String(reinterpret_cast<const char*>(p + pos), n);
      pos += n;
    }
    w.EndArray();
    return StatusCode::OK;
  }
  size_t es = engine::elementSize(t.precision);
  if (es == 0) return Status(StatusCode::OV_UNSUPPORTED_SERIALIZATION_PRECISION, engine::precisionName(t.precision));
  size_t n = data ? t.bytes / es : 0;
  for (size_t i = 0; i < n; ++i) {
    switch (t.precision) {
      case Precision::FP32: writeDouble(w, static_cast<double>(at<float>(data, i))); break;
      case Precision::FP64: writeDouble(w, at<double>(data, i)); break;
      case Precision::FP16: writeDouble(w, static_cast<double>(engine::halfToFloat(at<uint16_t>(data, i)))); break;
      case Precision::BF16: writeDouble(w, static_cast<double>(engine::bf16ToFloat(at<uint16_t>(data, i)))); break;
      case Precision::I8: w.Int(at<int8_t>(data, i)); break;
      case Precision::I16: w.Int(at<int16_t>(data, i)); break;
      case Precision::I32: w.Int(at<int32_t>(data, i)); break;
      case Precision::I64: w.Int64(at<int64_t>(data, i)); break;
      case Precision::U8: w.Uint(at<uint8_t>(data, i)); break;
      case Precision::U16: w.Uint(at<uint16_t>(data, i)); break;
      case Precision::U32: w.Uint(at<uint32_t>(data, i)); break;
      case Precision::U64: w.Uint64(at<uint64_t>(data, i)); break;
      case Precision::BOOL: w.Bool(data[i] != 0); break;
      default: return Status(StatusCode::OV_UNSUPPORTED_SERIALIZATION_PRECISION, engine::precisionName(t.precision));
    }
  }
  w.EndArray();
  return StatusCode::OK;
}

void key(PrettyWriter& w, const char* k) { w.Key(k, static_cast<rapidjson::SizeType>(std::strlen(k))); }
void str(PrettyWriter& w, const std::string& s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

}  // namespace

Status makeInferResponse(const std::string& model_name, int64_t version, const RestInferRequest& request,
                         const serving::InferenceResponse& response, std::string* body, size_t* json_length,
                         bool* has_binary) {
  // Reserve about what the text will take (numbers up to ~24 bytes each) so the buffer does not
  // regrow and copy itself a dozen times for a large tensor.
  size_t estimate = 1024;
  for (const auto& out : response.outputs) {
    size_t es = engine::elementSize(out.tensor.precision);
    if (es) estimate += out.tensor.bytes / es * 24;
  }
  rapidjson::StringBuffer buffer(nullptr, std::min<size_t>(estimate, size_t{1} << 30));
  PrettyWriter w(buffer);
  w.SetIndent(' ', 4);
  w.SetFormatOptions(rapidjson::kFormatSingleLineArray);
  std::vector<const engine::TensorView*> binary_outputs;
  w.StartObject();
  key(w, "model_name");
  str(w, model_name);
  if (!request.id.empty()) {
    key(w, "id");
    str(w, request.id);
  }
  key(w, "model_version");
  str(w, std::to_string(version));
  key(w, "outputs");
  w.StartArray();
  for (const auto& out : response.outputs) {
    const auto& t = out.tensor;
    if (t.precision == Precision::UNDEFINED)
      return Status(StatusCode::OV_UNSUPPORTED_SERIALIZATION_PRECISION, "output name: " + out.name);
    bool binary = request.binary_data_output;
    for (const auto& ro : request.outputs)
      if (ro.name == out.name && ro.has_binary_data) binary = ro.binary_data;
    w.StartObject();
    key(w, "name");
    str(w, out.name);
    key(w, "shape");
    w.StartArray();
    for (int64_t d : t.shape) w.Int64(d);
    w.EndArray();
    key(w, "datatype");
    w.String(engine::kserveDatatype(t.precision));
    if (binary) {
      key(w, "parameters");
      w.StartObject();
      key(w, "binary_data_size");
      w.Uint64(t.data ? t.bytes : 0);
      w.EndObject();
      binary_outputs.push_back(&t);
    } else {
      key(w, "data");
      Status st = writeData(w, t);
      if (!st.ok()) return st;
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  *json_length = buffer.GetSize();
  *has_binary = !binary_outputs.empty();
  size_t total = buffer.GetSize();
  for (const auto* t : binary_outputs) total += t->data ? t->bytes : 0;
  body->clear();
  body->reserve(total);
  body->append(buffer.GetString(), buffer.GetSize());
  for (const auto* t : binary_outputs)
    if (t->data) body->append(static_cast<const char*>(t->data), t->bytes);
  if (!*has_binary) *json_length = 0;
  return StatusCode::OK;
}

std::string serverMetadataJson() {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("name");
  w.String(serverName());
  w.Key("version");
  w.String(serverVersion());
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string modelMetadataJson(const inference::ModelMetadataResponse& m,
                              const std::map<std::string, std::string>& model_info) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto s = [&w](const std::string& v) { w.String(v.data(), static_cast<rapidjson::SizeType>(v.size())); };
  auto tensors = [&](const char* k, const auto& list) {
    w.Key(k);
    w.StartArray();
    for (const auto& t : list) {
      w.StartObject();
      w.Key("name");
      s(t.name());
      w.Key("datatype");
      s(t.datatype());
      w.Key("shape");
      w.StartArray();
      for (int64_t d : t.shape()) w.Int64(d);
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
  };
  w.StartObject();
  w.Key("name");
  s(m.name());
  w.Key("versions");
  w.StartArray();
  for (const auto& v : m.versions()) s(v);
  w.EndArray();
  w.Key("platform");
  s(m.platform());
  tensors("inputs", m.inputs());
  tensors("outputs", m.outputs());
  if (!model_info.empty()) {
    w.Key("rt_info");
    w.StartObject();
    w.Key("model_info");
    w.StartObject();
    for (const auto& [k, v] : model_info) {
      s(k);
      s(v);
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// --------------------------------------------------------------------------------------------
// Routes

namespace {

// Digits only (the route regex guarantees it); beyond int64 no version can exist.
bool versionFromPath(std::string_view s, int64_t* v) {
  *v = 0;
  if (s.empty()) return true;
  auto res = std::from_chars(s.data(), s.data() + s.size(), *v);
  return res.ec == std::errc() && res.ptr == s.data() + s.size();
}

void restInfer(const serving::ModelManager& manager, const std::string& name, int64_t version,
               const http::HttpRequest& request, http::HttpResponse& response) {
  RestInferRequest parsed;
  Status st = parseInferRequest(request.body, request.header("inference-header-content-length"), &parsed);
  if (!st.ok()) return RestRouter::setError(st, response);
  std::shared_ptr<const serving::Servable> servable;
  int64_t resolved = 0;
  st = acquireForInfer(manager, name, version, &servable, &resolved);
  if (!st.ok()) return RestRouter::setError(st, response);
  serving::InferenceResponse result;
  st = inferDecoded(*servable, &parsed.decoded, &result);
  if (!st.ok()) return RestRouter::setError(st, response);
  // Requested outputs filter the response (OVMS ignores them; see docs/api.md "KServe outputs filtering").
  std::vector<std::string> requested;
  for (const auto& o : parsed.outputs) requested.push_back(o.name);
  st = selectOutputs(requested, &result);
  if (!st.ok()) return RestRouter::setError(st, response);
  size_t json_length = 0;
  bool has_binary = false;
  st = makeInferResponse(name, resolved, parsed, result, &response.body, &json_length, &has_binary);
  if (!st.ok()) {
    response.body.clear();
    return RestRouter::setError(st, response);
  }
  response.status = 200;
  if (has_binary) response.headers.emplace_back("inference-header-content-length", std::to_string(json_length));
}

}  // namespace

bool handleRest(const serving::ModelManager& manager, const http::HttpRequest& request, http::HttpResponse& response) {
  const std::string& path = request.path;
  if (path.compare(0, 3, "/v2") != 0) return false;
  const std::string& m = request.method;
  auto getOnly = [&]() {
    if (m == "GET") return true;
    RestRouter::setError(StatusCode::REST_UNSUPPORTED_METHOD, response);
    return false;
  };
  if (path == "/v2") {
    if (getOnly()) response.body = serverMetadataJson();
    return true;
  }
  if (path == "/v2/health/live") {
    // Answering at all means the HTTP module is up.
    if (getOnly()) response.body.clear();
    return true;
  }
  if (path == "/v2/health/ready") {
    if (!getOnly()) return true;
    if (!manager.ready()) return RestRouter::setError(StatusCode::SERVER_NOT_READY, response), true;
    response.body.clear();
    return true;
  }
  const RestRoute parsed = parseRestRoute(path);
  enum class Route { INFER, READY, METADATA } route;
  if (parsed.kind == RestRoute::Kind::V2_INFER)
    route = Route::INFER;
  else if (parsed.kind == RestRoute::Kind::V2_READY)
    route = Route::READY;
  else if (parsed.kind == RestRoute::Kind::V2_METADATA)
    route = Route::METADATA;
  else
    return false;
  if (route == Route::INFER ? m != "POST" : m != "GET") {
    RestRouter::setError(StatusCode::REST_UNSUPPORTED_METHOD, response);
    return true;
  }
  std::string name;
  if (!urlDecode(std::string(parsed.name), &name)) {
    RestRouter::setError(StatusCode::REST_INVALID_URL, response);
    return true;
  }
  int64_t version = 0;
  if (!versionFromPath(parsed.version, &version)) {
    RestRouter::setError(StatusCode::MODEL_VERSION_MISSING, response);
    return true;
  }
  // One metrics scope per request (§8); success = a 200 answer.
  metrics::RequestMetrics request_metrics(manager, metrics::Api::KServe, metrics::Interface::REST,
                                          route == Route::INFER   ? metrics::Method::ModelInfer
                                          : route == Route::READY ? metrics::Method::ModelReady
                                                                  : metrics::Method::ModelMetadata,
                                          name, version);
  struct Done {
    metrics::RequestMetrics& m;
    http::HttpResponse& r;
    ~Done() { m.done(r.status == 200 ? Status(StatusCode::OK) : Status(StatusCode::INTERNAL_ERROR)); }
  } done{request_metrics, response};
  switch (route) {
    case Route::INFER:
      restInfer(manager, name, version, request, response);
      break;
    case Route::READY: {
      bool ready = false;
      Status st = modelReady(manager, name, version, &ready);
      if (st.ok() && !ready) st = StatusCode::MODEL_VERSION_NOT_LOADED_YET;
      if (!st.ok()) return RestRouter::setError(st, response), true;
      response.body.clear();
      break;
    }
    case Route::METADATA: {
      inference::ModelMetadataResponse metadata;
      std::shared_ptr<const serving::Servable> servable;
      Status st = modelMetadata(manager, name, version, &metadata, &servable);
      if (!st.ok()) return RestRouter::setError(st, response), true;
      response.body = modelMetadataJson(metadata, servable->modelInfo());
      break;
    }
  }
  return true;
}

}  // namespace ovms::api::kserve
