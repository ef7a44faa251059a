#pragma once
// Edits on a serialized ONNX model before a session is created from it: the model options of OVMS
// (shape, batch_size, layout) become changes of the graph's input dims and Transpose nodes.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovms::engine {

class GraphEditor {
 public:
  ~GraphEditor();
  // Parses a serialized ModelProto. Returns nullptr and sets *error when it is not one.
  static std::unique_ptr<GraphEditor> parse(std::string_view onnx_bytes, std::string* error);

  // Graph inputs that are not initializers, and graph outputs, in graph order.
  std::vector<std::string> inputNames() const;
  std::vector<std::string> outputNames() const;
  // Declared dims (-1 for symbolic or unknown); nullopt when the tensor has no shape or no such name.
  std::optional<std::vector<int64_t>> inputShape(const std::string& name) const;
  std::optional<std::vector<int64_t>> outputShape(const std::string& name) const;

  // Sets the declared dims of an input; -1 makes a dim dynamic. The rank must match.
  bool setInputShape(const std::string& name, const std::vector<int64_t>& dims, std::string* error);
  // Makes the client send the input in another layout: inserts Transpose(perm) between the new graph
  // input and the nodes that read it. perm[i] = position in the client tensor of model dim i.
  bool transposeInput(const std::string& name, const std::vector<int64_t>& perm, std::string* error);
  // Makes the client receive the output in another layout: perm[i] = position in the model output of
  // client dim i (Transpose semantics).
  bool transposeOutput(const std::string& name, const std::vector<int64_t>& perm, std::string* error);

  bool changed() const { return changed_; }
  // Recomputes intermediate and output shapes after edits (ONNX shape inference; outputs whose shape
  // cannot be inferred keep their rank with dynamic dims). Then serializes.
  std::string serialize();

 private:
  GraphEditor();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool changed_ = false;
};

}  // namespace ovms::engine
