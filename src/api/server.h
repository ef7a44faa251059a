#pragma once
// Wires the model manager to the gRPC and REST front ends and runs them until shutdown.
#include <memory>
#include <string>

#include "serving/cli.h"

namespace ovms::api {

// Runs the server described by `settings` until SIGINT/SIGTERM. Returns the process exit code.
int runServer(const serving::ServerSettings& settings);

}  // namespace ovms::api
