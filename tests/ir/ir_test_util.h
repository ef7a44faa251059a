#pragma once
#include <gtest/gtest.h>
#include <onnxruntime_cxx_api.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "engine/ir/custom_ops.h"
#include "engine/ir/ir_model.h"

namespace irtest {

inline std::string fixturesDir() { return IR_FIXTURES_DIR; }
inline bool haveFixtures() { return std::filesystem::is_directory(fixturesDir()); }
// CI must test the real models: there a missing fixtures folder fails the test instead of skipping it.
inline bool inCi() {
  const char* ci = std::getenv("CI");
  return ci && *ci && std::string(ci) != "0" && std::string(ci) != "false";
}
#define IR_REQUIRE_FIXTURES()                                                                                       \
  if (irtest::haveFixtures()) {                                                                                     \
  } else if (irtest::inCi())                                                                                        \
    FAIL() << "CI is set and the fixtures folder is absent: " << irtest::fixturesDir();                          \
  else                                                                                                              \
    GTEST_SKIP() << "fixtures folder absent: " << irtest::fixturesDir()

inline std::string readFile(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct Tensor {
  ONNXTensorElementDataType type = ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
  std::vector<int64_t> shape;
  std::string data;  // raw bytes
  template <typename T>
  static Tensor make(ONNXTensorElementDataType t, std::vector<int64_t> shape, const std::vector<T>& v) {
    Tensor r;
    r.type = t;
    r.shape = std::move(shape);
    r.data.assign(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
    return r;
  }
  static Tensor f32(std::vector<int64_t> shape, const std::vector<float>& v) { return make(ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, std::move(shape), v); }
  static Tensor i64(std::vector<int64_t> shape, const std::vector<int64_t>& v) { return make(ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, std::move(shape), v); }
  template <typename T>
  std::vector<T> as() const {
    std::vector<T> v(data.size() / sizeof(T));
    if (!v.empty()) std::memcpy(v.data(), data.data(), v.size() * sizeof(T));
    return v;
  }
  int64_t numel() const {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

inline Ort::Env& env() {
  static Ort::Env e(ORT_LOGGING_LEVEL_ERROR, "ir_tests");
  return e;
}

inline size_t elemSize(ONNXTensorElementDataType t) {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64: return 8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32: return 4;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16: case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16: return 2;
    default: return 1;
  }
}

class Runner {
 public:
  explicit Runner(const std::string& model_bytes) {
    Ort::SessionOptions so;
    so.SetIntraOpNumThreads(1);
    so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    ovms::engine::ir::registerIrCustomOps(so);
    session_ = std::make_unique<Ort::Session>(env(), model_bytes.data(), model_bytes.size(), so);
  }
  std::vector<Tensor> run(const std::vector<std::pair<std::string, Tensor>>& inputs) {
    auto mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    std::vector<Ort::Value> vals;
    std::vector<const char*> names;
    std::vector<std::string> keep;
    for (const auto& [n, t] : inputs) {
      keep.push_back(n);
      vals.push_back(Ort::Value::CreateTensor(mem, const_cast<char*>(t.data.data()), t.data.size(), t.shape.data(), t.shape.size(), t.type));
    }
    for (const auto& k : keep) names.push_back(k.c_str());
    Ort::AllocatorWithDefaultOptions alloc;
    std::vector<std::string> onames;
    for (size_t i = 0; i < session_->GetOutputCount(); ++i) onames.push_back(session_->GetOutputNameAllocated(i, alloc).get());
    std::vector<const char*> on;
    for (auto& s : onames) on.push_back(s.c_str());
    auto outs = session_->Run(Ort::RunOptions{nullptr}, names.data(), vals.data(), vals.size(), on.data(), on.size());
    std::vector<Tensor> r;
    for (auto& o : outs) {
      Tensor t;
      auto info = o.GetTensorTypeAndShapeInfo();
      t.type = info.GetElementType();
      t.shape = info.GetShape();
      size_t n = info.GetElementCount() * elemSize(t.type);
      t.data.assign(static_cast<const char*>(o.GetTensorRawData()), n);
      r.push_back(std::move(t));
    }
    return r;
  }
  Ort::Session& session() { return *session_; }

 private:
  std::unique_ptr<Ort::Session> session_;
};

// Builds small IR XML documents for op tests.
class IrBuilder {
 public:
  explicit IrBuilder(int version = 11) : version_(version) {}
  struct Out {
    int id;
    int port;
  };
  Out param(const std::string& name, const std::string& type, const std::vector<int64_t>& dims) {
    int id = next_++;
    layers_ << "<layer id=\"" << id << "\" name=\"" << name << "\" type=\"Parameter\" version=\"opset1\"><data shape=\"" << join(dims)
            << "\" element_type=\"" << type << "\"/><output><port id=\"0\" precision=\"" << prec(type) << "\" names=\"" << name << "\">"
            << dimsXml(dims) << "</port></output></layer>\n";
    return {id, 0};
  }
  template <typename T>
  Out constant(const std::string& type, const std::vector<int64_t>& dims, const std::vector<T>& values) {
    int id = next_++;
    size_t off = bin_.size();
    bin_.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
    layers_ << "<layer id=\"" << id << "\" name=\"c" << id << "\" type=\"Const\" version=\"opset1\"><data element_type=\"" << type
            << "\" shape=\"" << join(dims) << "\" offset=\"" << off << "\" size=\"" << values.size() * sizeof(T)
            << "\"/><output><port id=\"0\" precision=\"" << prec(type) << "\">" << dimsXml(dims) << "</port></output></layer>\n";
    return {id, 0};
  }
  Out f32(const std::vector<int64_t>& dims, const std::vector<float>& v) { return constant("f32", dims, v); }
  Out i64(const std::vector<int64_t>& dims, const std::vector<int64_t>& v) { return constant("i64", dims, v); }
  // Adds an op; returns the first output. Output ports are numbered after the inputs.
  Out op(const std::string& type, const std::string& version, const std::map<std::string, std::string>& attrs, const std::vector<Out>& ins,
         const std::vector<std::vector<int64_t>>& out_dims, const std::string& out_type = "f32", std::vector<std::string> out_types = {}) {
    int id = next_++;
    layers_ << "<layer id=\"" << id << "\" name=\"" << type << id << "\" type=\"" << type << "\" version=\"" << version << "\"><data";
    for (const auto& [k, v] : attrs) layers_ << " " << k << "=\"" << v << "\"";
    layers_ << "/><input>";
    for (size_t k = 0; k < ins.size(); ++k) {
      layers_ << "<port id=\"" << k << "\"/>";
      edges_ << "<edge from-layer=\"" << ins[k].id << "\" from-port=\"" << ins[k].port << "\" to-layer=\"" << id << "\" to-port=\"" << k << "\"/>\n";
    }
    layers_ << "</input><output>";
    for (size_t k = 0; k < out_dims.size(); ++k) {
      std::string t = k < out_types.size() ? out_types[k] : out_type;
      layers_ << "<port id=\"" << ins.size() + k << "\" precision=\"" << prec(t) << "\" names=\"" << type << id << "_" << k << "\">" << dimsXml(out_dims[k]) << "</port>";
    }
    layers_ << "</output></layer>\n";
    return {id, static_cast<int>(ins.size())};
  }
  void result(Out o) {
    int id = next_++;
    layers_ << "<layer id=\"" << id << "\" name=\"r" << id << "\" type=\"Result\" version=\"opset1\"><input><port id=\"0\"/></input></layer>\n";
    edges_ << "<edge from-layer=\"" << o.id << "\" from-port=\"" << o.port << "\" to-layer=\"" << id << "\" to-port=\"0\"/>\n";
  }
  std::string xml() const {
    return "<?xml version=\"1.0\"?>\n<net name=\"t\" version=\"" + std::to_string(version_) + "\"><layers>\n" + layers_.str() + "</layers><edges>\n" +
           edges_.str() + "</edges></net>\n";
  }
  const std::string& bin() const { return bin_; }
  ovms::engine::ir::IrTranslation translate() const { return ovms::engine::ir::translateIrToOnnx(std::string_view(xml()), std::string_view(bin_)); }

  static std::string join(const std::vector<int64_t>& d) {
    std::string s;
    for (size_t k = 0; k < d.size(); ++k) s += (k ? "," : "") + (d[k] < 0 ? std::string("?") : std::to_string(d[k]));
    return s;
  }

 private:
  static std::string dimsXml(const std::vector<int64_t>& d) {
    std::string s;
    for (auto x : d) s += "<dim>" + std::to_string(x) + "</dim>";
    return s;
  }
  static std::string prec(const std::string& t) {
    static const std::map<std::string, std::string> m = {{"f32", "FP32"}, {"f16", "FP16"}, {"f64", "FP64"}, {"i64", "I64"}, {"i32", "I32"},
                                                         {"i8", "I8"},    {"u8", "U8"},     {"boolean", "BOOL"}};
    auto it = m.find(t);
    return it == m.end() ? "FP32" : it->second;
  }
  int version_;
  int next_ = 0;
  std::ostringstream layers_, edges_;
  std::string bin_;
};

}  // namespace irtest
