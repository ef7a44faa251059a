#include <cstdio>
#include <iostream>

#include "api/server.h"
#include "engine/onnx_model.h"
#include "serving/cli.h"
#ifdef OVMS_HAVE_BUILD_INFO
#include "ovms_build_info.h"
#else
#define OVMS_BUILD_TYPE "unknown"
#define OVMS_GIT_COMMIT "unknown"
#endif

int main(int argc, char** argv) {
  ovms::serving::setVersionStrings(OVMS_VERSION, ovms::engine::engineVersion(),
                                   std::string("Build type: ") + OVMS_BUILD_TYPE + "\nGit commit: " + OVMS_GIT_COMMIT + "\n");
  auto outcome = ovms::serving::parseCommandLine(argc, argv);
  if (!outcome.run) {
    std::cout << outcome.out << std::flush;
    std::cerr << outcome.err << std::flush;
    return outcome.exit_code;
  }
  return ovms::api::runServer(outcome.settings);
}
