#pragma once
// Warmup (not in OVMS): a freshly loaded version runs a few inferences on generated inputs before it
// becomes AVAILABLE, so the first client request does not pay for the engine's lazy initialisation
// (allocations, kernel selection, thread pools).
#include <cstdint>
#include <string>

#include "common/status.h"

namespace ovms::serving {

class Servable;

// Runs `iterations` inferences on zero-filled inputs shaped from the version's accepted dims
// (static dims as they are, dynamic ones 1, ranges their lower bound or 1). The first failure
// stops the warmup and is returned with a message naming the model, version and iteration.
Status warmupServable(const Servable& servable, uint32_t iterations, const std::string& model_name, int64_t version);

}  // namespace ovms::serving
