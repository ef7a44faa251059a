#include "serving/warmup.h"

#include <algorithm>
#include <chrono>
#include <tuple>

#include "common/logging.h"
#include "serving/inference_request.h"
#include "serving/stateful.h"
#include "serving/servable.h"

namespace ovms::serving {

Status warmupServable(const Servable& servable, uint32_t iterations, const std::string& model_name, int64_t version) {
  if (iterations == 0) return StatusCode::OK;
  const auto& infos = servable.inputs();
  const auto& dims = servable.inputDims();
  InferenceRequest request;
  request.model_name = model_name;
  request.model_version = version;
  request.inputs.reserve(infos.size());
  for (size_t i = 0; i < infos.size(); ++i) {
    InferenceInput input;
    input.name = infos[i].name;
    engine::Shape shape;
    if (i < dims.size()) {
      for (const auto& d : dims[i]) {
        if (d.isStatic()) shape.push_back(d.min);
        else if (d.isRange()) shape.push_back(std::max<int64_t>(d.min, std::min<int64_t>(1, d.max)));
        else shape.push_back(1);
      }
    } else {
      for (int64_t d : infos[i].shape) shape.push_back(d < 0 ? 1 : d);
    }
    const int64_t count = std::max<int64_t>(engine::elementCount(shape), 0);
    input.storage.precision = infos[i].precision;
    input.storage.shape = shape;
    // STRING elements in the packed layout: a 4-byte zero length each (empty strings).
    const size_t element_bytes = infos[i].precision == engine::Precision::STRING ? 4 : engine::elementSize(infos[i].precision);
    input.storage.bytes.assign(static_cast<size_t>(count) * element_bytes, 0);
    input.tensor = input.storage.view();
    request.inputs.push_back(std::move(input));
  }
  // A stateful model warms up in one sequence of its own (started by the first inference, ended by
  // one more), so no warmup state is left behind; clients cannot reach the version yet.
  uint64_t sequence_id = UINT64_MAX;
  uint32_t control = kSequenceStart;
  if (servable.stateful()) {
    for (auto [name, p, data, size] :
         {std::tuple{kSequenceIdInput, engine::Precision::U64, static_cast<const void*>(&sequence_id), sizeof(uint64_t)},
          std::tuple{kSequenceControlInput, engine::Precision::U32, static_cast<const void*>(&control), sizeof(uint32_t)}}) {
      InferenceInput special;
      special.name = name;
      special.tensor = engine::TensorView{p, {1}, data, size, nullptr};
      request.inputs.push_back(std::move(special));
    }
    ++iterations;
  }
  const auto start = std::chrono::steady_clock::now();
  for (uint32_t n = 1; n <= iterations; ++n) {
    InferenceResponse response;
    if (servable.stateful()) control = n == 1 ? kSequenceStart : (n == iterations ? kSequenceEnd : kNoControlInput);
    Status st = servable.infer(request, &response);
    if (!st.ok())
      return Status(st.code(), "warmup inference " + std::to_string(n) + " of " + std::to_string(iterations) +
                                   " failed for model " + model_name + " version " + std::to_string(version) +
                                   (st.details().empty() ? std::string() : ": " + st.details()));
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  MODEL_LOG(info, "Warmup of model {} version {}: {} inferences on generated inputs in {} ms", model_name, version,
            iterations, ms);
  return StatusCode::OK;
}

}  // namespace ovms::serving
