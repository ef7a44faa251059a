#include <cstdio>
#include <iostream>

#include "api/server.h"
#include "engine/onnx_model.h"
#include "serving/cli.h"

int main(int argc, char** argv) {
  ovms::serving::setVersionStrings(OVMS_VERSION, ovms::engine::engineVersion());
  auto outcome = ovms::serving::parseCommandLine(argc, argv);
  if (!outcome.run) {
    std::cout << outcome.out << std::flush;
    std::cerr << outcome.err << std::flush;
    return outcome.exit_code;
  }
  return ovms::api::runServer(outcome.settings);
}
