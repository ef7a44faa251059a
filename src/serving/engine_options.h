#pragma once
// What a model's config asks of the engine: plugin_config -> streams and threads per inference (as
// OVMS's CPU plugin would pick them), target_device -> the device the engine runs on.
#include <cstdint>
#include <map>
#include <string>

#include "common/status.h"

namespace ovms::serving {

// Hardware threads (at least 1): the default nireq and the THROUGHPUT stream count.
unsigned cores();

// Unknown keys -> PLUGIN_CONFIG_UNSUPPORTED_KEY; bad values -> PLUGIN_CONFIG_WRONG_FORMAT.
Status threadingFromPluginConfig(const std::map<std::string, std::string>& plugin_config, uint32_t* streams,
                                 int* threads);

// Checks that the devices of target_device exist and picks the one the engine runs on:
// "CPU"; "MULTI:a,b" (all must exist); "HETERO:a,b" / "AUTO:a,b" (the first present one); "AUTO"
// (the best present device: GPU before CPU). Else CANNOT_COMPILE_MODEL_INTO_TARGET_DEVICE.
Status checkDevice(const std::string& target, std::string* resolved);

}  // namespace ovms::serving
