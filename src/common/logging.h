#pragma once
// spdlog loggers named as OVMS names them, printing OVMS's line format:
// [YYYY-mm-dd HH:MM:SS.mmm][thread][logger][level][file:line] message
#ifndef SPDLOG_ACTIVE_LEVEL
#define SPDLOG_ACTIVE_LEVEL SPDLOG_LEVEL_TRACE
#endif
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace ovms {

// Sets up all loggers. `path` empty = stdout. `level` is an OVMS level name (TRACE..ERROR).
void configureLogging(const std::string& level, const std::string& path);

std::shared_ptr<spdlog::logger>& servingLogger();
std::shared_ptr<spdlog::logger>& modelManagerLogger();

}  // namespace ovms

#define SERVING_LOG(lvl, ...) SPDLOG_LOGGER_CALL(::ovms::servingLogger(), spdlog::level::lvl, __VA_ARGS__)
#define MODEL_LOG(lvl, ...) SPDLOG_LOGGER_CALL(::ovms::modelManagerLogger(), spdlog::level::lvl, __VA_ARGS__)
