#include "api/kserve/kserve_rest.h"

#include <rapidjson/document.h>
#include <rapidjson/internal/dtoa.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "api/common/rapidjson_numbers.h"
#include "api/common/float_format.h"
#include "api/common/json_fast.h"
#include "api/common/json_numbers.h"
#include "api/common/json_output.h"
#include "api/common/json_nesting.h"
#include "api/common/version_string.h"
#include "api/kserve/kserve_tensor.h"
#include "serving/packed_strings.h"
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

// Writes JSON `data` (nested or flat) into `in`'s storage as elements of `p`, with the shared
// JSON number rules (api/common/json_numbers.h; KServe's strict typing, range checked).
template <typename T>
bool fillElements(const Value& data, size_t count, bool (*convert)(const Value&, T*), std::vector<uint8_t>* buf) {
  buf->resize(count * sizeof(T));
  T* out = reinterpret_cast<T*>(buf->data());
  return forEachLeaf(data, [&](const Value& v) { return convert(v, out++); });
}

Status parseJsonData(const Value& data, Precision p, serving::InferenceInput* in) {
  using json::Typing;
  if (!data.IsArray()) return StatusCode::REST_COULD_NOT_PARSE_INPUT;
  // Pass 1: count the values (and size the strings).
  size_t count = 0, string_bytes = 0;
  bool shape_ok = forEachLeaf(data, [&](const Value& v) {
    ++count;
    if (p == Precision::STRING) {
      if (!v.IsString()) return false;
      string_bytes += 4 + v.GetStringLength();
    }
    return true;
  });
  if (!shape_ok) return StatusCode::REST_COULD_NOT_PARSE_INPUT;
  auto& buf = in->storage.bytes;
  bool ok = true;
  switch (p) {
    case Precision::FP32: ok = fillElements<float>(data, count, json::toFp32, &buf); break;
    case Precision::FP64: ok = fillElements<double>(data, count, json::toFp64, &buf); break;
    case Precision::I8: ok = fillElements<int8_t>(data, count, json::toInteger<int8_t, Typing::kStrict>, &buf); break;
    case Precision::I16: ok = fillElements<int16_t>(data, count, json::toInteger<int16_t, Typing::kStrict>, &buf); break;
    case Precision::I32: ok = fillElements<int32_t>(data, count, json::toInteger<int32_t, Typing::kStrict>, &buf); break;
    case Precision::I64: ok = fillElements<int64_t>(data, count, json::toInteger<int64_t, Typing::kStrict>, &buf); break;
    case Precision::U8: ok = fillElements<uint8_t>(data, count, json::toInteger<uint8_t, Typing::kStrict>, &buf); break;
    case Precision::U16: ok = fillElements<uint16_t>(data, count, json::toInteger<uint16_t, Typing::kStrict>, &buf); break;
    case Precision::U32: ok = fillElements<uint32_t>(data, count, json::toInteger<uint32_t, Typing::kStrict>, &buf); break;
    case Precision::U64: ok = fillElements<uint64_t>(data, count, json::toInteger<uint64_t, Typing::kStrict>, &buf); break;
    case Precision::BOOL: ok = fillElements<uint8_t>(data, count, json::toBool<Typing::kStrict>, &buf); break;
    case Precision::STRING: {
      buf.resize(string_bytes);
      size_t pos = 0;
      forEachLeaf(data, [&](const Value& v) {
        uint32_t n = v.GetStringLength();
        serving::putStringLength(buf.data() + pos, n);
        if (n) std::memcpy(buf.data() + pos + 4, v.GetString(), n);
        pos += 4 + n;
        return true;
      });
      break;
    }
    default:
      // FP16 and BF16 (and unknown datatypes) cannot be written in JSON: only as binary data.
      return StatusCode::REST_UNSUPPORTED_PRECISION;
  }
  if (!ok) return StatusCode::REST_COULD_NOT_PARSE_INPUT;  // wrong JSON type, or out of the type's range
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


// --------------------------------------------------------------------------------------------
// Fast path (api/common/json_fast.h): JSON-only bodies with numeric `data`, from simdjson's DOM
// straight into the input buffers. Answers true (done) or false (not handled here: the rapidjson
// path below then decides, errors included); mirrors the rapidjson code check for check.
namespace fast {

using simdjson::dom::element;
using simdjson::dom::element_type;

bool string(element v, std::string* out) {
  std::string_view s;
  if (v.get_string().get(s)) return false;
  out->assign(s.data(), s.size());
  return true;
}

// Parameters: values must be strings, booleans or int64. `flag` (if not null) is the boolean
// parameter looked for; *flag_set tells whether it was given as a bool.
bool parameters(element params, std::string_view flag, bool* flag_set, bool* flag_value) {
  if (params.type() != element_type::OBJECT) return false;
  bool seen = false;
  for (auto m : json::asObject(params)) {
    element_type t = m.value.type();
    if (t != element_type::STRING && t != element_type::BOOL && t != element_type::INT64) return false;
    if (m.key == flag) {
      if (seen) return false;  // duplicate key
      seen = true;
      *flag_set = t == element_type::BOOL;
      *flag_value = t == element_type::BOOL && m.value.get_bool().value_unsafe();
    }
  }
  return true;
}

bool countLeaves(element v, size_t* count) {
  for (element e : json::asArray(v)) {
    if (e.type() == element_type::ARRAY) {
      if (!countLeaves(e, count)) return false;
    } else {
      ++*count;
    }
  }
  return true;
}

template <typename T, bool (*Conv)(element, T*)>
bool fillLeaves(element v, T*& out) {
  for (element e : json::asArray(v)) {
    if (e.type() == element_type::ARRAY) {
      if (!fillLeaves<T, Conv>(e, out)) return false;
    } else if (!Conv(e, out++)) {
      return false;
    }
  }
  return true;
}

template <typename T, bool (*Conv)(element, T*)>
bool fill(element data, size_t count, std::vector<uint8_t>* buf) {
  buf->resize(count * sizeof(T));
  T* out = reinterpret_cast<T*>(buf->data());
  return fillLeaves<T, Conv>(data, out);
}

bool jsonData(element data, Precision p, serving::InferenceInput* in) {
  using json::Typing;
  if (data.type() != element_type::ARRAY) return false;
  size_t count = 0;
  countLeaves(data, &count);
  auto& buf = in->storage.bytes;
  bool ok = false;
  switch (p) {
    case Precision::FP32: ok = fill<float, json::toFp32>(data, count, &buf); break;
    case Precision::FP64: ok = fill<double, json::toFp64>(data, count, &buf); break;
    case Precision::I8: ok = fill<int8_t, json::toInteger<int8_t, Typing::kStrict>>(data, count, &buf); break;
    case Precision::I16: ok = fill<int16_t, json::toInteger<int16_t, Typing::kStrict>>(data, count, &buf); break;
    case Precision::I32: ok = fill<int32_t, json::toInteger<int32_t, Typing::kStrict>>(data, count, &buf); break;
    case Precision::I64: ok = fill<int64_t, json::toInteger<int64_t, Typing::kStrict>>(data, count, &buf); break;
    case Precision::U8: ok = fill<uint8_t, json::toInteger<uint8_t, Typing::kStrict>>(data, count, &buf); break;
    case Precision::U16: ok = fill<uint16_t, json::toInteger<uint16_t, Typing::kStrict>>(data, count, &buf); break;
    case Precision::U32: ok = fill<uint32_t, json::toInteger<uint32_t, Typing::kStrict>>(data, count, &buf); break;
    case Precision::U64: ok = fill<uint64_t, json::toInteger<uint64_t, Typing::kStrict>>(data, count, &buf); break;
    case Precision::BOOL: ok = fill<uint8_t, json::toBool<Typing::kStrict>>(data, count, &buf); break;
    default: return false;  // BYTES, FP16/BF16 (binary only), unknown: the rapidjson path's
  }
  if (!ok) return false;
  in->typed_values = true;
  in->value_count = static_cast<int64_t>(count);
  return true;
}

bool input(element item, serving::InferenceInput* in) {
  if (item.type() != element_type::OBJECT) return false;
  element name, shape, datatype, data;
  int seen_name = 0, seen_shape = 0, seen_datatype = 0, seen_data = 0;
  for (auto m : json::asObject(item)) {
    if (m.key == "name") name = m.value, ++seen_name;
    else if (m.key == "shape") shape = m.value, ++seen_shape;
    else if (m.key == "datatype") datatype = m.value, ++seen_datatype;
    else if (m.key == "data") data = m.value, ++seen_data;
    else if (m.key == "parameters") return false;  // binary_data_size and friends
  }
  // Each exactly once (a duplicate key: the rapidjson path's); `data` present (else binary data).
  if (seen_name != 1 || seen_shape != 1 || seen_datatype != 1 || seen_data != 1) return false;
  if (!string(name, &in->name) || shape.type() != element_type::ARRAY || !string(datatype, &in->client_datatype))
    return false;
  for (element d : json::asArray(shape)) {
    if (d.type() != element_type::INT64) return false;
    in->tensor.shape.push_back(d.get_int64().value_unsafe());
  }
  auto p = engine::fromKserveDatatype(in->client_datatype);
  if (!p) return false;
  in->tensor.precision = *p;
  in->storage.precision = *p;
  in->storage.shape = in->tensor.shape;
  return jsonData(data, *p, in);
}

bool parse(std::string_view json, size_t capacity, RestInferRequest* out) {
  json::FastDocument doc;
  element root;
  if (!doc.parse(json, capacity, &root) || root.type() != element_type::OBJECT) return false;
  element id, params, inputs, outputs;
  int seen_id = 0, seen_params = 0, seen_inputs = 0, seen_outputs = 0;
  for (auto m : json::asObject(root)) {
    if (m.key == "id") id = m.value, ++seen_id;
    else if (m.key == "parameters") params = m.value, ++seen_params;
    else if (m.key == "inputs") inputs = m.value, ++seen_inputs;
    else if (m.key == "outputs") outputs = m.value, ++seen_outputs;
  }
  if (seen_id > 1 || seen_params > 1 || seen_inputs != 1 || seen_outputs > 1) return false;
  std::string request_id;
  if (seen_id && !string(id, &request_id)) return false;
  bool binary_set = false, binary_data_output = false;
  if (seen_params && !parameters(params, "binary_data_output", &binary_set, &binary_data_output)) return false;
  std::vector<RestRequestedOutput> requested;
  if (seen_outputs) {
    if (outputs.type() != element_type::ARRAY) return false;
    for (element o : json::asArray(outputs)) {
      if (o.type() != element_type::OBJECT) return false;
      RestRequestedOutput ro;
      int seen_name = 0, seen_oparams = 0;
      for (auto m : json::asObject(o)) {
        if (m.key == "name") {
          if (seen_name++ || !string(m.value, &ro.name)) return false;
        } else if (m.key == "parameters") {
          if (seen_oparams++ || !parameters(m.value, "binary_data", &ro.has_binary_data, &ro.binary_data)) return false;
        }
      }
      if (seen_name != 1) return false;
      requested.push_back(std::move(ro));
    }
  }
  if (inputs.type() != element_type::ARRAY) return false;
  std::vector<serving::InferenceInput> built;
  for (element item : json::asArray(inputs)) {
    built.emplace_back();
    if (!input(item, &built.back())) return false;
  }
  // Done: commit, as the rapidjson path leaves `out`.
  out->id = std::move(request_id);
  out->binary_data_output = binary_data_output;
  for (auto& ro : requested) {
    out->request.requested_outputs.push_back(ro.name);
    out->outputs.push_back(std::move(ro));
  }
  out->request.id = out->id;
  out->request.inputs = std::move(built);
  for (auto& in : out->request.inputs) {
    in.tensor.data = in.storage.bytes.data();
    in.tensor.bytes = in.storage.bytes.size();
  }
  return true;
}

}  // namespace fast

}  // namespace

Status parseInferRequest(std::string_view body, const std::string* header_length, RestInferRequest* out,
                         size_t body_capacity) {
  // Binary inputs (the header) take the rapidjson path: their JSON part is small.
  // The fast path checks nesting itself.
  if (!header_length && fast::parse(body, body_capacity, out)) return StatusCode::OK;
  return parseInferRequestReference(body, header_length, out);
}

Status parseInferRequestReference(std::string_view body, const std::string* header_length, RestInferRequest* out) {
  size_t json_length = body.size();
  if (header_length) {
    Status st = parseHeaderLength(*header_length, body.size(), &json_length);
    if (!st.ok()) return st;
  }
  std::string_view json = body.substr(0, json_length);
  std::string_view binary = body.substr(json_length);
  rapidjson::Document doc;
  if (!api::parseJsonWithRapidjson(json, &doc)) return StatusCode::JSON_INVALID;
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
      out->request.requested_outputs.push_back(ro.name);
      out->outputs.push_back(std::move(ro));
    }
  }

  out->request.id = out->id;
  const auto& list = inputs->value.GetArray();
  out->request.inputs.resize(list.Size());
  size_t offset = 0;  // into `binary`
  for (rapidjson::SizeType k = 0; k < list.Size(); ++k) {
    const Value& item = list[k];
    auto& in = out->request.inputs[k];
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
    std::string& dt = in.client_datatype;
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

using PrettyWriter = rapidjson::PrettyWriter<json::StringOutput>;  // written straight into the body

// rapidjson's Double() (shortest round-trip form, "2.0" for integral values), with non-finite
// values spelled as everywhere else (api/common/float_format.h; Debian's PrettyWriter cannot take
// kWriteNanAndInfFlag).
void writeDouble(PrettyWriter& w, double v) {
  if (std::isfinite(v)) {
    w.Double(v);
  } else {
    std::string_view s = nonFiniteJson(v);
    w.RawValue(s.data(), s.size(), rapidjson::kNumberType);
  }
}

template <typename T>
T at(const uint8_t* data, size_t i) {
  T v;
  std::memcpy(&v, data + i * sizeof(T), sizeof(T));
  return v;
}

Status writeDataWithWriter(PrettyWriter& w, const engine::TensorView& t);

// A numeric "data" array exactly as PrettyWriter with kFormatSingleLineArray writes it ("[a, b, c]":
// values as rapidjson's Double()/Int()/Uint()/Bool() spell them), made in blocks and appended to the
// body in one go: the writer's per-value bookkeeping and per-character output cost more than the
// number formatting for a large tensor. RawValue("") writes the member's prefix and keeps the
// writer's state as if it had written the array itself.
template <typename Format>
void writeNumberArray(PrettyWriter& w, json::StringOutput& out, size_t n, const Format& format) {
  w.RawValue("", 0, rapidjson::kArrayType);
  constexpr size_t kBlock = 16384;
  char block[kBlock + 64];
  size_t used = 0;
  block[used++] = '[';
  for (size_t i = 0; i < n; ++i) {
    if (i) {
      block[used++] = ',';
      block[used++] = ' ';
    }
    used += format(i, block + used);  // at most 48 bytes
    if (used >= kBlock) {
      out.Append(block, used);
      used = 0;
    }
  }
  block[used++] = ']';
  out.Append(block, used);
}

// rapidjson's Writer::Double() text (Grisu2, maxDecimalPlaces 324) or the non-finite spelling.
size_t formatDouble(double v, char* buf) {
  if (!std::isfinite(v)) {
    std::string_view s = nonFiniteJson(v);
    std::memcpy(buf, s.data(), s.size());
    return s.size();
  }
  return static_cast<size_t>(rapidjson::internal::dtoa(v, buf) - buf);
}

template <typename T>
size_t formatInteger(T v, char* buf) {
  return static_cast<size_t>(std::to_chars(buf, buf + 24, v).ptr - buf);
}

Status writeData(PrettyWriter& w, json::StringOutput& out, const engine::TensorView& t) {
  const auto* data = static_cast<const uint8_t*>(t.data);
  if (t.precision != Precision::STRING && data) {
    const size_t es = engine::elementSize(t.precision);
    const size_t n = es ? t.bytes / es : 0;
    if (n > 0) {
      switch (t.precision) {
        case Precision::FP32:
          writeNumberArray(w, out, n, [&](size_t i, char* b) { return formatDouble(at<float>(data, i), b); });
          return StatusCode::OK;
        case Precision::FP64:
          writeNumberArray(w, out, n, [&](size_t i, char* b) { return formatDouble(at<double>(data, i), b); });
          return StatusCode::OK;
        case Precision::FP16:
          writeNumberArray(w, out, n, [&](size_t i, char* b) {
            return formatDouble(engine::halfToFloat(at<uint16_t>(data, i)), b);
          });
          return StatusCode::OK;
        case Precision::BF16:
          writeNumberArray(w, out, n, [&](size_t i, char* b) {
            return formatDouble(engine::bf16ToFloat(at<uint16_t>(data, i)), b);
          });
          return StatusCode::OK;
        case Precision::I8: writeNumberArray(w, out, n, [&](size_t i, char* b) { return formatInteger<int>(at<int8_t>(data, i), b); }); return StatusCode::OK;
        case Precision::I16: writeNumberArray(w, out, n, [&](size_t i, char* b) { return formatInteger<int>(at<int16_t>(data, i), b); }); return StatusCode::OK;
        case Precision::I32: writeNumberArray(w, out, n, [&](size_t i, char* b) { return formatInteger(at<int32_t>(data, i), b); }); return StatusCode::OK;
        case Precision::I64: writeNumberArray(w, out, n, [&](size_t i, char* b) { return formatInteger(at<int64_t>(data, i), b); }); return StatusCode::OK;
        case Precision::U8: writeNumberArray(w, out, n, [&](size_t i, char* b) { return formatInteger<unsigned>(at<uint8_t>(data, i), b); }); return StatusCode::OK;
        case Precision::U16: writeNumberArray(w, out, n, [&](size_t i, char* b) { return formatInteger<unsigned>(at<uint16_t>(data, i), b); }); return StatusCode::OK;
        case Precision::U32: writeNumberArray(w, out, n, [&](size_t i, char* b) { return formatInteger(at<uint32_t>(data, i), b); }); return StatusCode::OK;
        case Precision::U64: writeNumberArray(w, out, n, [&](size_t i, char* b) { return formatInteger(at<uint64_t>(data, i), b); }); return StatusCode::OK;
        case Precision::BOOL:
          writeNumberArray(w, out, n, [&](size_t i, char* b) {
            const bool v = data[i] != 0;
            std::memcpy(b, v ? "true" : "false", v ? 4 : 5);
            return size_t{v ? 4u : 5u};
          });
          return StatusCode::OK;
        default: break;  // the writer below reports it
      }
    }
  }
  return writeDataWithWriter(w, t);
}

Status writeDataWithWriter(PrettyWriter& w, const engine::TensorView& t) {
  const auto* data = static_cast<const uint8_t*>(t.data);
  w.StartArray();
  if (t.precision == Precision::STRING) {
    std::vector<std::string_view> elements;
    if (data && !serving::unpackStrings(data, t.bytes, &elements)) return StatusCode::INTERNAL_ERROR;
    for (auto e : elements) w.String(e.data(), static_cast<rapidjson::SizeType>(e.size()));
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
  json::StringOutput buffer(body, std::min<size_t>(estimate, size_t{1} << 30));
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
      Status st = writeData(w, buffer, t);
      if (!st.ok()) return st;
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  *json_length = buffer.Finish();
  *has_binary = !binary_outputs.empty();
  size_t total = *json_length;
  for (const auto* t : binary_outputs) total += t->data ? t->bytes : 0;
  body->reserve(total);
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

void restInfer(const serving::InferencePath& path, const std::string& name, int64_t version,
               const http::HttpRequest& request, http::HttpResponse& response) {
  RestInferRequest parsed;
  parsed.request.model_name = name;
  parsed.request.model_version = version;
  parsed.request.origin = {serving::Api::KServe, serving::Interface::REST, serving::Method::ModelInfer};
  serving::InferenceResponse result;
  size_t json_length = 0;
  bool has_binary = false;
  Status st = path.run(
      parsed.request,
      [&](const serving::InferenceTarget&, serving::InferenceRequest*) {
        // Fills parsed.request (the request being run): inputs, id, requested outputs.
        return parseInferRequest(request.body, request.header("inference-header-content-length"), &parsed,
                                 request.body.capacity());
      },
      &result,
      [&](const serving::InferenceResponse& result) {
        return makeInferResponse(name, result.model_version, parsed, result, &response.body, &json_length, &has_binary);
      });
  if (!st.ok()) {
    response.body.clear();
    return RestRouter::setError(st, response);
  }
  response.status = 200;
  if (has_binary) response.headers.emplace_back("inference-header-content-length", std::to_string(json_length));
}

}  // namespace

bool handleRest(const serving::InferencePath& inference, const http::HttpRequest& request,
                http::HttpResponse& response) {
  const serving::ModelManager& manager = inference.models();
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
  if (!parseVersionString(parsed.version, &version)) {  // digits only (the route parser checks)
    RestRouter::setError(StatusCode::MODEL_VERSION_MISSING, response);
    return true;
  }
  // Inference: the path keeps the metrics scope.
  if (route == Route::INFER) return restInfer(inference, name, version, request, response), true;
  // One metrics scope per request (§8); success = a 200 answer.
  metrics::RequestMetrics request_metrics(manager, metrics::Api::KServe, metrics::Interface::REST,
                                          route == Route::READY ? metrics::Method::ModelReady
                                                                : metrics::Method::ModelMetadata,
                                          name, version);
  Status st = StatusCode::OK;
  if (route == Route::READY) {
    bool ready = false;
    st = modelReady(manager, name, version, &ready);
    if (st.ok() && !ready) st = StatusCode::MODEL_VERSION_NOT_LOADED_YET;
    if (st.ok()) response.body.clear();
  } else {
    inference::ModelMetadataResponse metadata;
    std::shared_ptr<const serving::Servable> servable;
    st = modelMetadata(manager, name, version, &metadata, &servable);
    static const std::map<std::string, std::string> kNoModelInfo;  // pipelines have no rt_info
    if (st.ok()) response.body = modelMetadataJson(metadata, servable ? servable->modelInfo() : kNoModelInfo);
  }
  request_metrics.done(st);  // success = a 200 answer
  if (!st.ok()) RestRouter::setError(st, response);
  return true;
}

}  // namespace ovms::api::kserve
