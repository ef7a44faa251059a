#include "api/tfs/rest_predict_codec.h"
#include "api/tfs/tfs_serializable.h"

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "api/common/rapidjson_numbers.h"
#include "api/common/base64.h"
#include "api/common/float_format.h"
#include "api/common/json_fast.h"
#include "api/common/json_nesting.h"
#include "api/common/json_numbers.h"
#include "api/common/json_output.h"
#include "engine/half.h"
#include "serving/packed_strings.h"

namespace ovms::api::tfs {

using engine::Precision;
using engine::Shape;
using rapidjson::Value;

namespace {

// A request body is at most 1 GB, so no tensor parsed from it can come near this.
constexpr uint64_t kMaxTensorBytes = 1ULL << 36;

// Result of converting one JSON leaf.
enum Res : int { kResOk = 0, kResBad = 1 };

bool isB64Object(const Value& v) {
  if (!v.IsObject() || v.MemberCount() != 1) return false;
  const auto& m = *v.MemberBegin();
  return m.name.GetStringLength() == 3 && std::memcmp(m.name.GetString(), "b64", 3) == 0 && m.value.IsString();
}

// Leaf that carries string / binary data.
bool isStringLeaf(const Value& v) { return v.IsString() || isB64Object(v); }

// Leaf converters: the shared JSON number rules with TF-Serving's lenient typing
// (api/common/json_numbers.h). A string among numbers is a parse error (400), like a ragged array.
template <typename T>
Res convInt(const Value& v, T* out) {
  return json::toInteger<T, json::Typing::kLenient>(v, out) ? kResOk : kResBad;
}
Res convF32(const Value& v, float* out) { return json::toFp32(v, out) ? kResOk : kResBad; }
Res convF64(const Value& v, double* out) { return json::toFp64(v, out) ? kResOk : kResBad; }
Res convF16(const Value& v, uint16_t* out) { return json::toFp16(v, out) ? kResOk : kResBad; }
Res convBF16(const Value& v, uint16_t* out) { return json::toBf16(v, out) ? kResOk : kResBad; }
Res convBool(const Value& v, uint8_t* out) { return json::toBool<json::Typing::kLenient>(v, out) ? kResOk : kResBad; }

// Walks one dense JSON ndarray of the given shape (starting at `level`), feeding every leaf to
// `sink`. Every list must have exactly the expected size and leaves must sit at the last level.
template <typename Sink>
Res walk(const Value& v, const Shape& shape, size_t level, Sink& sink) {
  if (level == shape.size()) {
    if (v.IsArray()) return kResBad;
    return sink(v);
  }
  if (!v.IsArray() || static_cast<int64_t>(v.Size()) != shape[level]) return kResBad;
  if (level + 1 == shape.size()) {
    for (auto it = v.Begin(), e = v.End(); it != e; ++it) {
      if (it->IsArray()) return kResBad;
      Res r = sink(*it);
      if (r != kResOk) return r;
    }
    return kResOk;
  }
  for (auto it = v.Begin(), e = v.End(); it != e; ++it) {
    Res r = walk(*it, shape, level + 1, sink);
    if (r != kResOk) return r;
  }
  return kResOk;
}

template <typename T, Res (*Conv)(const Value&, T*)>
Res fillTyped(const std::vector<const Value*>& pieces, const Shape& inner, std::vector<uint8_t>* bytes) {
  T* out = reinterpret_cast<T*>(bytes->data());
  auto sink = [&out](const Value& v) -> Res { return Conv(v, out++); };
  for (const Value* p : pieces) {
    Res r = walk(*p, inner, 0, sink);
    if (r != kResOk) return r;
  }
  return kResOk;
}

Res fillStrings(const std::vector<const Value*>& pieces, const Shape& inner, std::vector<std::string>* out) {
  auto sink = [out](const Value& v) -> Res {
    if (v.IsString()) {
      out->emplace_back(v.GetString(), v.GetStringLength());
      return kResOk;
    }
    if (isB64Object(v)) {
      const Value& s = v.MemberBegin()->value;
      std::string decoded;
      if (!decodeBase64(std::string_view(s.GetString(), s.GetStringLength()), &decoded)) return kResBad;
      out->push_back(std::move(decoded));
      return kResOk;
    }
    return kResBad;
  };
  for (const Value* p : pieces) {
    Res r = walk(*p, inner, 0, sink);
    if (r != kResOk) return r;
  }
  return kResOk;
}

struct PendingInput {
  std::string name;
  std::vector<const Value*> pieces;
};

// Builds one input from its JSON pieces. `batched`: each piece is one batch element (row format,
// named); otherwise there is exactly one piece holding the whole tensor.
Status buildInput(PendingInput& pending, bool batched, const engine::TensorInfo* info, StatusCode parse_error,
                  serving::InferenceInput* out) {
  Shape inner;
  const Value* leaf = pending.pieces.front();
  while (leaf->IsArray()) {
    if (leaf->Empty()) return parse_error;
    inner.push_back(static_cast<int64_t>(leaf->Size()));
    leaf = &(*leaf)[0];
  }
  Precision precision;
  if (info && !isStringLeaf(*leaf)) {
    precision = info->precision;
  } else if (info) {
    // Strings and {"b64": ...} stay strings: the API layer decodes them as images for image inputs;
    // for any other input, validation reports the precision mismatch.
    precision = Precision::STRING;
  } else if (leaf->IsInt()) {
    precision = Precision::I32;
  } else if (leaf->IsNumber()) {
    precision = Precision::FP32;
  } else if (isStringLeaf(*leaf)) {
    precision = Precision::STRING;
  } else {
    return parse_error;
  }
  Shape shape;
  shape.reserve(inner.size() + 1);
  if (batched) shape.push_back(static_cast<int64_t>(pending.pieces.size()));
  shape.insert(shape.end(), inner.begin(), inner.end());

  out->name = std::move(pending.name);
  out->storage.precision = precision;
  // Strings arrive as JSON values, so they are counted in elements (their packed bytes have no fixed size).
  out->typed_values = precision == Precision::STRING;
  auto& bytes = out->storage.bytes;
  Res r = kResOk;
  if (precision == Precision::STRING) {
    std::vector<std::string> values;
    r = fillStrings(pending.pieces, inner, &values);
    if (r == kResOk) packStrings(values, &bytes);
  } else {
    if (engine::elementSize(precision) == 0) return StatusCode::REST_UNSUPPORTED_PRECISION;
    uint64_t size = 0;
    if (!engine::denseByteSize(shape, precision, kMaxTensorBytes, &size)) return StatusCode::REST_ALLOCATION_ERROR;
    bytes.resize(size);
    const auto& pcs = pending.pieces;
    switch (precision) {
      case Precision::FP32: r = fillTyped<float, convF32>(pcs, inner, &bytes); break;
      case Precision::FP64: r = fillTyped<double, convF64>(pcs, inner, &bytes); break;
      case Precision::FP16: r = fillTyped<uint16_t, convF16>(pcs, inner, &bytes); break;
      case Precision::BF16: r = fillTyped<uint16_t, convBF16>(pcs, inner, &bytes); break;
      case Precision::I8: r = fillTyped<int8_t, convInt<int8_t>>(pcs, inner, &bytes); break;
      case Precision::U8: r = fillTyped<uint8_t, convInt<uint8_t>>(pcs, inner, &bytes); break;
      case Precision::I16: r = fillTyped<int16_t, convInt<int16_t>>(pcs, inner, &bytes); break;
      case Precision::U16: r = fillTyped<uint16_t, convInt<uint16_t>>(pcs, inner, &bytes); break;
      case Precision::I32: r = fillTyped<int32_t, convInt<int32_t>>(pcs, inner, &bytes); break;
      case Precision::I64: r = fillTyped<int64_t, convInt<int64_t>>(pcs, inner, &bytes); break;
      case Precision::U32: r = fillTyped<uint32_t, convInt<uint32_t>>(pcs, inner, &bytes); break;
      case Precision::U64: r = fillTyped<uint64_t, convInt<uint64_t>>(pcs, inner, &bytes); break;
      case Precision::BOOL: r = fillTyped<uint8_t, convBool>(pcs, inner, &bytes); break;
      default: return StatusCode::REST_UNSUPPORTED_PRECISION;
    }
  }
  if (r != kResOk) return parse_error;
  out->value_count = engine::elementCount(shape);
  out->storage.shape = std::move(shape);
  return StatusCode::OK;
}

const engine::TensorInfo* findInfo(const std::vector<engine::TensorInfo>& infos, const std::string& name) {
  for (const auto& i : infos)
    if (i.name == name) return &i;
  // Stateful models' special inputs are not in the signature; OVMS parses them as uint64 / uint32.
  static const engine::TensorInfo kSequenceId{"sequence_id", Precision::U64, {1}};
  static const engine::TensorInfo kSequenceControl{"sequence_control_input", Precision::U32, {1}};
  if (name == kSequenceId.name) return &kSequenceId;
  if (name == kSequenceControl.name) return &kSequenceControl;
  return nullptr;
}

Status buildAll(std::vector<PendingInput>& pending, bool batched, const std::vector<engine::TensorInfo>& model_inputs,
                StatusCode parse_error, std::vector<serving::InferenceInput>* built) {
  built->resize(pending.size());
  for (size_t i = 0; i < pending.size(); ++i) {
    const engine::TensorInfo* info = findInfo(model_inputs, pending[i].name);
    Status s = buildInput(pending[i], batched, info, parse_error, &(*built)[i]);
    if (!s.ok()) return s;
  }
  return StatusCode::OK;
}

Status parseRow(const Value& node, const std::vector<engine::TensorInfo>& model_inputs, bool unnamed_allowed,
                std::vector<serving::InferenceInput>* built) {
  if (!node.IsArray()) return StatusCode::REST_INSTANCES_NOT_AN_ARRAY;
  if (node.Empty()) return StatusCode::REST_NO_INSTANCES_FOUND;
  const Value& first = node[0];
  if (first.IsObject() && !isB64Object(first)) {
    // named: [{"in1": v, "in2": v}, ...]
    std::vector<PendingInput> pending;
    std::unordered_map<std::string, size_t> index;
    for (auto it = node.Begin(); it != node.End(); ++it) {
      if (!it->IsObject()) return StatusCode::REST_NAMED_INSTANCE_NOT_AN_OBJECT;
      if (it->MemberCount() == 0) return StatusCode::REST_COULD_NOT_PARSE_INSTANCE;
      for (auto m = it->MemberBegin(); m != it->MemberEnd(); ++m) {
        std::string name(m->name.GetString(), m->name.GetStringLength());
        auto [pos, inserted] = index.emplace(name, pending.size());
        if (inserted) pending.push_back(PendingInput{std::move(name), {}});
        pending[pos->second].pieces.push_back(&m->value);
      }
    }
    std::vector<size_t> batch;
    for (const auto& p : pending) batch.push_back(p.pieces.size());
    Status s = buildAll(pending, true, model_inputs, StatusCode::REST_COULD_NOT_PARSE_INSTANCE, built);
    if (!s.ok()) return s;
    for (size_t b : batch)
      if (b != batch.front()) return StatusCode::REST_INSTANCES_BATCH_SIZE_DIFFER;
    return StatusCode::OK;
  }
  if (first.IsArray() || first.IsNumber() || first.IsBool() || isStringLeaf(first)) {
    // nonamed: the whole list is the tensor of the only input
    if (!unnamed_allowed || model_inputs.size() != 1) return StatusCode::INVALID_INPUT_FORMAT;
    std::vector<PendingInput> pending{PendingInput{model_inputs[0].name, {&node}}};
    return buildAll(pending, false, model_inputs, StatusCode::REST_COULD_NOT_PARSE_INSTANCE, built);
  }
  return StatusCode::REST_INSTANCES_NOT_NAMED_OR_NONAMED;
}

Status parseColumn(const Value& node, const std::vector<engine::TensorInfo>& model_inputs, bool unnamed_allowed,
                   std::vector<serving::InferenceInput>* built) {
  if (node.IsObject()) {
    if (node.MemberCount() == 0) return StatusCode::REST_NO_INPUTS_FOUND;
    std::vector<PendingInput> pending;
    for (auto m = node.MemberBegin(); m != node.MemberEnd(); ++m) {
      std::string name(m->name.GetString(), m->name.GetStringLength());
      for (const auto& p : pending)
        if (p.name == name) return StatusCode::REST_COULD_NOT_PARSE_INPUT;  // duplicate key
      pending.push_back(PendingInput{std::move(name), {&m->value}});
    }
    return buildAll(pending, false, model_inputs, StatusCode::REST_COULD_NOT_PARSE_INPUT, built);
  }
  if (node.IsArray() || node.IsNumber() || node.IsBool() || node.IsString()) {
    if (!unnamed_allowed || model_inputs.size() != 1) return StatusCode::INVALID_INPUT_FORMAT;
    std::vector<PendingInput> pending{PendingInput{model_inputs[0].name, {&node}}};
    return buildAll(pending, false, model_inputs, StatusCode::REST_COULD_NOT_PARSE_INPUT, built);
  }
  return StatusCode::REST_INPUTS_NOT_AN_OBJECT;
}


// ---------------------------------------------------------------------------------------------
// Fast path (api/common/json_fast.h): numeric tensors of the model's own inputs, from simdjson's
// DOM straight into the tensor buffers. Every function answers true (done) or false (not handled
// here: the rapidjson path above then decides, errors included), and mirrors its rapidjson
// counterpart above check for check.
namespace fast {

using simdjson::dom::element;
using simdjson::dom::element_type;

// simdjson saturates array sizes at this value.
constexpr size_t kSaturatedSize = 0xFFFFFF;

template <typename T, bool (*Conv)(element, T*)>
bool walk(element v, const Shape& shape, size_t level, T*& out) {
  if (level == shape.size()) return v.type() != element_type::ARRAY && Conv(v, out++);
  if (v.type() != element_type::ARRAY) return false;
  simdjson::dom::array a = json::asArray(v);
  if (a.size() != static_cast<size_t>(shape[level])) return false;
  if (level + 1 == shape.size()) {
    for (element e : a)
      if (!Conv(e, out++)) return false;  // an array is not a number: Conv rejects it
    return true;
  }
  for (element e : a)
    if (!walk<T, Conv>(e, shape, level + 1, out)) return false;
  return true;
}

template <typename T, bool (*Conv)(element, T*)>
bool fillTyped(const std::vector<element>& pieces, const Shape& inner, std::vector<uint8_t>* bytes) {
  T* out = reinterpret_cast<T*>(bytes->data());
  for (element p : pieces)
    if (!walk<T, Conv>(p, inner, 0, out)) return false;
  return true;
}

struct Pending {
  std::string name;
  std::vector<element> pieces;
};

bool buildInput(Pending& pending, bool batched, const engine::TensorInfo* info, serving::InferenceInput* out) {
  if (!info) return false;  // precision inferred from the data: the rapidjson path's
  Shape inner;
  element leaf = pending.pieces.front();
  while (leaf.type() == element_type::ARRAY) {
    simdjson::dom::array a = json::asArray(leaf);
    size_t n = a.size();
    if (n == 0 || n >= kSaturatedSize) return false;
    inner.push_back(static_cast<int64_t>(n));
    leaf = *a.begin();
  }
  switch (leaf.type()) {  // strings, {"b64": ...}, null: the rapidjson path's
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
    case element_type::BOOL:
      break;
    default:
      return false;
  }
  const Precision precision = info->precision;
  Shape shape;
  shape.reserve(inner.size() + 1);
  if (batched) shape.push_back(static_cast<int64_t>(pending.pieces.size()));
  shape.insert(shape.end(), inner.begin(), inner.end());
  if (engine::elementSize(precision) == 0) return false;
  uint64_t size = 0;
  if (!engine::denseByteSize(shape, precision, kMaxTensorBytes, &size)) return false;
  auto& bytes = out->storage.bytes;
  bytes.resize(size);
  const auto& pcs = pending.pieces;
  bool ok = false;
  using json::Typing;
  switch (precision) {
    case Precision::FP32: ok = fillTyped<float, json::toFp32>(pcs, inner, &bytes); break;
    case Precision::FP64: ok = fillTyped<double, json::toFp64>(pcs, inner, &bytes); break;
    case Precision::FP16: ok = fillTyped<uint16_t, json::toFp16>(pcs, inner, &bytes); break;
    case Precision::BF16: ok = fillTyped<uint16_t, json::toBf16>(pcs, inner, &bytes); break;
    case Precision::I8: ok = fillTyped<int8_t, json::toInteger<int8_t, Typing::kLenient>>(pcs, inner, &bytes); break;
    case Precision::U8: ok = fillTyped<uint8_t, json::toInteger<uint8_t, Typing::kLenient>>(pcs, inner, &bytes); break;
    case Precision::I16: ok = fillTyped<int16_t, json::toInteger<int16_t, Typing::kLenient>>(pcs, inner, &bytes); break;
    case Precision::U16: ok = fillTyped<uint16_t, json::toInteger<uint16_t, Typing::kLenient>>(pcs, inner, &bytes); break;
    case Precision::I32: ok = fillTyped<int32_t, json::toInteger<int32_t, Typing::kLenient>>(pcs, inner, &bytes); break;
    case Precision::I64: ok = fillTyped<int64_t, json::toInteger<int64_t, Typing::kLenient>>(pcs, inner, &bytes); break;
    case Precision::U32: ok = fillTyped<uint32_t, json::toInteger<uint32_t, Typing::kLenient>>(pcs, inner, &bytes); break;
    case Precision::U64: ok = fillTyped<uint64_t, json::toInteger<uint64_t, Typing::kLenient>>(pcs, inner, &bytes); break;
    case Precision::BOOL: ok = fillTyped<uint8_t, json::toBool<Typing::kLenient>>(pcs, inner, &bytes); break;
    default: return false;
  }
  if (!ok) return false;
  out->name = std::move(pending.name);
  out->storage.precision = precision;
  out->typed_values = false;
  out->value_count = engine::elementCount(shape);
  out->storage.shape = std::move(shape);
  return true;
}

bool buildAll(std::vector<Pending>& pending, bool batched, const std::vector<engine::TensorInfo>& model_inputs,
              std::vector<serving::InferenceInput>* built) {
  built->resize(pending.size());
  for (size_t i = 0; i < pending.size(); ++i)
    if (!buildInput(pending[i], batched, findInfo(model_inputs, pending[i].name), &(*built)[i])) return false;
  return true;
}

bool isScalarOrArray(element v) {
  switch (v.type()) {
    case element_type::ARRAY:
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
    case element_type::BOOL:
      return true;
    default:
      return false;
  }
}

bool parseRow(element node, const std::vector<engine::TensorInfo>& model_inputs, bool unnamed_allowed,
              std::vector<serving::InferenceInput>* built) {
  if (node.type() != element_type::ARRAY) return false;
  simdjson::dom::array list = json::asArray(node);
  if (list.size() == 0 || list.size() >= kSaturatedSize) return false;
  element first = *list.begin();
  if (first.type() == element_type::OBJECT) {
    // named: every instance names the same inputs in the same order
    std::vector<Pending> pending;
    bool first_instance = true;
    for (element instance : list) {
      if (instance.type() != element_type::OBJECT) return false;
      size_t k = 0;
      for (auto member : json::asObject(instance)) {
        if (first_instance) {
          if (member.key == "b64") return false;  // maybe a {"b64": ...} leaf
          for (const auto& p : pending)
            if (p.name == member.key) return false;  // duplicate key
          pending.push_back(Pending{std::string(member.key), {}});
        } else if (k >= pending.size() || pending[k].name != member.key) {
          return false;
        }
        pending[k++].pieces.push_back(member.value);
      }
      if (k == 0 || k != pending.size()) return false;
      first_instance = false;
    }
    return buildAll(pending, true, model_inputs, built);
  }
  if (!isScalarOrArray(first) || !unnamed_allowed || model_inputs.size() != 1) return false;
  std::vector<Pending> pending{Pending{model_inputs[0].name, {node}}};
  return buildAll(pending, false, model_inputs, built);
}

bool parseColumn(element node, const std::vector<engine::TensorInfo>& model_inputs, bool unnamed_allowed,
                 std::vector<serving::InferenceInput>* built) {
  if (node.type() == element_type::OBJECT) {
    std::vector<Pending> pending;
    for (auto member : json::asObject(node)) {
      for (const auto& p : pending)
        if (p.name == member.key) return false;  // duplicate key
      pending.push_back(Pending{std::string(member.key), {member.value}});
    }
    if (pending.empty()) return false;
    return buildAll(pending, false, model_inputs, built);
  }
  if (!isScalarOrArray(node) || !unnamed_allowed || model_inputs.size() != 1) return false;
  std::vector<Pending> pending{Pending{model_inputs[0].name, {node}}};
  return buildAll(pending, false, model_inputs, built);
}

// True when the fast path built every input of the body into `built`.
bool parse(std::string_view body, size_t capacity, const std::vector<engine::TensorInfo>& model_inputs,
           bool unnamed_allowed, std::vector<serving::InferenceInput>* built, RestOrder* order) {
  json::FastDocument doc;
  element root;
  if (!doc.parse(body, capacity, &root) || root.type() != element_type::OBJECT) return false;
  element instances, inputs;
  bool has_instances = false, has_inputs = false;
  for (auto member : json::asObject(root)) {
    if (member.key == "instances") {
      if (has_instances) return false;  // duplicate key
      has_instances = true;
      instances = member.value;
    } else if (member.key == "inputs") {
      if (has_inputs) return false;
      has_inputs = true;
      inputs = member.value;
    }
  }
  if (has_instances == has_inputs) return false;
  if (has_instances ? !parseRow(instances, model_inputs, unnamed_allowed, built)
                    : !parseColumn(inputs, model_inputs, unnamed_allowed, built))
    return false;
  *order = has_instances ? RestOrder::ROW : RestOrder::COLUMN;
  return true;
}

}  // namespace fast

// ---------------------------------------------------------------------------------------------
// Response

using Writer = rapidjson::PrettyWriter<json::StringOutput>;  // written straight into the body

struct OutputCursor {
  const serving::InferenceOutput* out = nullptr;
  Precision precision = Precision::UNDEFINED;
  const uint8_t* data = nullptr;
  std::vector<std::string_view> strings;
  bool strings_as_b64 = false;
  size_t offset = 0;  // element index
};

template <typename T>
T load(const uint8_t* data, size_t i) {
  T v;
  std::memcpy(&v, data + i * sizeof(T), sizeof(T));
  return v;
}

void writeSingle(Writer* w, OutputCursor* c) {
  size_t i = c->offset++;
  char buf[48];
  switch (c->precision) {
    case Precision::FP32: {
      size_t n = formatTfsDecimal(load<float>(c->data, i), buf);
      w->RawValue(buf, n, rapidjson::kNumberType);
      break;
    }
    case Precision::FP64: {
      size_t n = formatTfsDecimal(load<double>(c->data, i), buf);
      w->RawValue(buf, n, rapidjson::kNumberType);
      break;
    }
    case Precision::I8: w->Int(load<int8_t>(c->data, i)); break;
    case Precision::U8: w->Int(load<uint8_t>(c->data, i)); break;
    case Precision::I16: w->Int(load<int16_t>(c->data, i)); break;
    case Precision::I32: w->Int(load<int32_t>(c->data, i)); break;
    case Precision::I64: w->Int64(load<int64_t>(c->data, i)); break;
    case Precision::U32: w->Uint(load<uint32_t>(c->data, i)); break;
    case Precision::U64: w->Uint64(load<uint64_t>(c->data, i)); break;
    case Precision::STRING: {
      std::string_view s = c->strings[i];
      if (c->strings_as_b64) {
        std::string b64 = encodeBase64(s);
        w->StartObject();
        w->Key("b64", 3);
        w->String(b64.data(), static_cast<rapidjson::SizeType>(b64.size()));
        w->EndObject();
      } else {
        w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
      }
      break;
    }
    default: break;  // rejected before writing
  }
}

// Like TF Serving's AddTensorValues: dims from `dim` on, scalars written bare.
void writeValues(Writer* w, OutputCursor* c, size_t dim) {
  const Shape& shape = c->out->tensor.shape;
  if (dim >= shape.size()) {
    writeSingle(w, c);
    return;
  }
  w->StartArray();
  if (dim + 1 == shape.size()) {
    for (int64_t i = 0; i < shape[dim]; ++i) writeSingle(w, c);
  } else {
    for (int64_t i = 0; i < shape[dim]; ++i) writeValues(w, c, dim + 1);
  }
  w->EndArray();
}

bool endsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Status prepareOutput(const serving::InferenceOutput& out, OutputCursor* c) {
  const auto& t = out.tensor;
  c->out = &out;
  c->precision = t.precision;
  c->data = static_cast<const uint8_t*>(t.data);
  switch (t.precision) {
    case Precision::FP32:
    case Precision::FP64:
    case Precision::I8:
    case Precision::U8:
    case Precision::I16:
    case Precision::I32:
    case Precision::I64:
    case Precision::U32:
    case Precision::U64:
    case Precision::STRING:
      break;
    case Precision::U16:  // accepted by OVMS's TFS serializer, but its JSON writer has no uint16 case
      return StatusCode::REST_UNSUPPORTED_PRECISION;
    default:
      return Status(StatusCode::OV_UNSUPPORTED_SERIALIZATION_PRECISION,
                    std::string("Actual: ") + engine::precisionName(t.precision));
  }
  int64_t count = engine::elementCount(t.shape);
  if (count < 0) return StatusCode::INTERNAL_ERROR;
  if (count == 0) return StatusCode::REST_SERIALIZE_NO_DATA;  // OVMS: no tensor_content and no *_val
  if (t.precision == Precision::STRING) {
    if (!unpackStrings(t.data, t.bytes, &c->strings) || c->strings.size() != static_cast<uint64_t>(count))
      return StatusCode::INTERNAL_ERROR;
    c->strings_as_b64 = endsWith(out.name, "_bytes");
  } else {
    uint64_t expected = 0;
    if (!engine::denseByteSize(t.shape, t.precision, UINT64_MAX, &expected) || expected != t.bytes || !t.data)
      return StatusCode::INTERNAL_ERROR;
  }
  return StatusCode::OK;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

namespace {

Status appendInputs(std::vector<serving::InferenceInput>& built, serving::InferenceRequest* request) {
  size_t first_new = request->inputs.size();
  for (auto& in : built) request->inputs.push_back(std::move(in));
  for (size_t i = first_new; i < request->inputs.size(); ++i) {
    auto& in = request->inputs[i];
    in.tensor = in.storage.view();
  }
  return StatusCode::OK;
}

}  // namespace

Status parsePredictRequest(std::string_view body, const std::vector<engine::TensorInfo>& model_inputs,
                           serving::InferenceRequest* request, RestOrder* order, bool unnamed_allowed,
                           size_t body_capacity) {
  std::vector<serving::InferenceInput> built;  // the fast path checks nesting itself
  RestOrder fast_order = RestOrder::COLUMN;
  if (fast::parse(body, body_capacity, model_inputs, unnamed_allowed, &built, &fast_order)) {
    if (order) *order = fast_order;
    return appendInputs(built, request);
  }
  return parsePredictRequestReference(body, model_inputs, request, order, unnamed_allowed);
}

Status parsePredictRequestReference(std::string_view body, const std::vector<engine::TensorInfo>& model_inputs,
                                    serving::InferenceRequest* request, RestOrder* order, bool unnamed_allowed) {
  std::vector<serving::InferenceInput> built;
  rapidjson::Document doc;
  if (!api::parseJsonWithRapidjson(body, &doc)) return StatusCode::JSON_INVALID;
  if (!doc.IsObject()) return StatusCode::REST_BODY_NOT_AN_OBJECT;
  auto instances = doc.FindMember("instances");
  auto inputs = doc.FindMember("inputs");
  bool has_instances = instances != doc.MemberEnd();
  bool has_inputs = inputs != doc.MemberEnd();
  if (has_instances == has_inputs) return StatusCode::REST_PREDICT_UNKNOWN_ORDER;

  Status status;
  if (has_instances) {
    if (order) *order = RestOrder::ROW;
    status = parseRow(instances->value, model_inputs, unnamed_allowed, &built);
  } else {
    if (order) *order = RestOrder::COLUMN;
    status = parseColumn(inputs->value, model_inputs, unnamed_allowed, &built);
  }
  if (!status.ok()) return status;
  return appendInputs(built, request);
}

Status makePredictResponse(const serving::InferenceResponse& response, RestOrder order, std::string* body) {
  if (response.outputs.empty()) return StatusCode::REST_PROTO_TO_STRING_ERROR;
  // OVMS builds the TensorProto response first (no case for BOOL, U32, U64), then its JSON.
  for (const auto& out : response.outputs)
    if (!out.sequence_id && !tfsSerializable(out.tensor.precision))
      return StatusCode::OV_UNSUPPORTED_SERIALIZATION_PRECISION;
  std::vector<OutputCursor> cursors(response.outputs.size());
  for (size_t i = 0; i < response.outputs.size(); ++i) {
    Status s = prepareOutput(response.outputs[i], &cursors[i]);
    if (!s.ok()) return s;
  }
  // Reserve about what the text will take (pretty-printed numbers, ~10-14 bytes each) so the
  // buffer does not regrow and copy itself a dozen times for a large tensor.
  size_t estimate = 256;
  for (const auto& c : cursors) estimate += 16 * static_cast<size_t>(engine::elementCount(c.out->tensor.shape));
  json::StringOutput buffer(body, std::min<size_t>(estimate, size_t{1} << 30));
  Writer writer(buffer);
  const bool elements_are_objects = cursors.size() > 1;
  writer.StartObject();
  if (order == RestOrder::ROW) {
    int64_t batch = -1;
    for (const auto& c : cursors) {
      const Shape& shape = c.out->tensor.shape;
      if (shape.empty() || (batch >= 0 && shape[0] != batch)) {  // no shape information / inconsistent batch
        body->clear();
        return StatusCode::REST_PROTO_TO_STRING_ERROR;
      }
      batch = shape[0];
    }
    writer.Key("predictions", 11);
    writer.StartArray();
    for (int64_t item = 0; item < batch; ++item) {
      if (elements_are_objects) writer.StartObject();
      writer.SetFormatOptions(rapidjson::kFormatSingleLineArray);
      for (auto& c : cursors) {
        if (elements_are_objects)
          writer.Key(c.out->name.data(), static_cast<rapidjson::SizeType>(c.out->name.size()));
        writeValues(&writer, &c, 1);
      }
      writer.SetFormatOptions(rapidjson::kFormatDefault);
      if (elements_are_objects) writer.EndObject();
    }
    writer.EndArray();
  } else {
    writer.Key("outputs", 7);
    if (elements_are_objects) writer.StartObject();
    for (auto& c : cursors) {
      if (elements_are_objects) writer.Key(c.out->name.data(), static_cast<rapidjson::SizeType>(c.out->name.size()));
      writeValues(&writer, &c, 0);
    }
    if (elements_are_objects) writer.EndObject();
  }
  writer.EndObject();
  buffer.Finish();
  return StatusCode::OK;
}

// ---------------------------------------------------------------------------------------------

std::string formatFloat(float v) {
  char buf[48];
  return std::string(buf, formatTfsDecimal(v, buf));
}

std::string formatDouble(double v) {
  char buf[48];
  return std::string(buf, formatTfsDecimal(v, buf));
}



}  // namespace ovms::api::tfs
