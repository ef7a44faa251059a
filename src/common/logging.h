#pragma once
// spdlog loggers named as OVMS names them, printing OVMS's line format:
// [YYYY-mm-dd HH:MM:SS.mmm][thread][logger][level][file:line] message
// Every message is written as one line: control bytes and invalid UTF-8 are escaped and overlong
// messages are cut, so a client-supplied string can neither forge lines nor flood the log.
#ifndef SPDLOG_ACTIVE_LEVEL
#define SPDLOG_ACTIVE_LEVEL SPDLOG_LEVEL_TRACE
#endif
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace ovms {

// Sets up all loggers. `path` empty = stdout. `level` is an OVMS level name (TRACE..ERROR).
void configureLogging(const std::string& level, const std::string& path);

std::shared_ptr<spdlog::logger>& servingLogger();
std::shared_ptr<spdlog::logger>& modelManagerLogger();

// Longest message written to the log; longer ones are cut and say how long they were.
constexpr std::size_t kMaxLogMessageBytes = 8192;

// `s` as one printable line: \n \r \t and other control bytes, DEL and bytes that are not valid
// UTF-8 become escapes (\n, \x00, ...); a backslash stays as it is. Cut at `max_bytes` of input with
// "...(<n> bytes)" appended. Use it for client-supplied strings (names, paths, headers).
std::string logSafe(std::string_view s, std::size_t max_bytes = 256);

// Lets `burst` events through per `window`; counts the rest. Thread-safe.
class LogRateLimiter {
 public:
  LogRateLimiter(unsigned burst, std::chrono::steady_clock::duration window) : burst_(burst), window_(window) {}
  // True when this event may be logged. *suppressed_before is set to the number of events dropped
  // since the last one let through (to be reported with it).
  bool allow(uint64_t* suppressed_before);

 private:
  std::mutex mu_;
  const unsigned burst_;
  const std::chrono::steady_clock::duration window_;
  std::chrono::steady_clock::time_point window_start_{};
  unsigned in_window_ = 0;
  uint64_t suppressed_ = 0;
};

// Sends libprotobuf's own log lines (e.g. "String field contains invalid UTF-8 data", which a
// client can trigger with every request) to the serving logger, escaped and rate-limited,
// instead of raw to stderr. Idempotent.
void routeProtobufLogs();

}  // namespace ovms

#define SERVING_LOG(lvl, ...) SPDLOG_LOGGER_CALL(::ovms::servingLogger(), spdlog::level::lvl, __VA_ARGS__)
#define MODEL_LOG(lvl, ...) SPDLOG_LOGGER_CALL(::ovms::modelManagerLogger(), spdlog::level::lvl, __VA_ARGS__)
