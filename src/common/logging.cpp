#include "common/logging.h"

#include <google/protobuf/stubs/logging.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace ovms {
namespace {

constexpr const char* kPattern = "[%Y-%m-%d %H:%M:%S.%e][%t][%n][%l][%s:%#] %*";

// Length of the valid UTF-8 sequence starting at s[i], or 0 when the byte does not start one.
std::size_t utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) {
    len = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    len = 3;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;  // no surrogates
  } else if (b >= 0xF0 && b <= 0xF4) {
    len = 4;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) return 0;
  }
  return len;
}

template <typename Out>
void appendEscaped(std::string_view s, std::size_t max_bytes, Out& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::size_t n = std::min(s.size(), max_bytes);
  auto put = [&out](std::string_view v) { out.append(v.data(), v.data() + v.size()); };
  std::size_t i = 0;
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F) {
      std::size_t j = i;
      while (j < n && static_cast<unsigned char>(s[j]) >= 0x20 && static_cast<unsigned char>(s[j]) < 0x7F) ++j;
      put(s.substr(i, j - i));
      i = j;
      continue;
    }
    if (c >= 0x80) {
      std::size_t len = utf8SequenceLength(s, i);
      if (len != 0 && i + len <= n) {
        put(s.substr(i, len));
        i += len;
        continue;
      }
    }
    switch (c) {
      case '\n': put("\\n"); break;
      case '\r': put("\\r"); break;
      case '\t': put("\\t"); break;
      default: {
        const char esc[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
        put(std::string_view(esc, 4));
      }
    }
    ++i;
  }
  if (s.size() > max_bytes) {
    put("...(");
    put(std::to_string(s.size()));
    put(" bytes)");
  }
}

// %* : the message as one escaped, bounded line.
class EscapedMessageFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    appendEscaped(std::string_view(msg.payload.data(), msg.payload.size()), kMaxLogMessageBytes, dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<EscapedMessageFlag>(); }
};

std::unique_ptr<spdlog::formatter> makeFormatter() {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<EscapedMessageFlag>('*').set_pattern(kPattern);
  return f;
}

std::shared_ptr<spdlog::logger> makeLogger(const std::string& name) {
  auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  auto l = std::make_shared<spdlog::logger>(name, sink);
  l->set_formatter(makeFormatter());
  return l;
}

spdlog::level::level_enum parseLevel(const std::string& level) {
  if (level == "TRACE") return spdlog::level::trace;
  if (level == "DEBUG") return spdlog::level::debug;
  if (level == "WARNING") return spdlog::level::warn;
  if (level == "ERROR") return spdlog::level::err;
  return spdlog::level::info;
}

void protobufLogHandler(google::protobuf::LogLevel level, const char* filename, int line, const std::string& message) {
  static LogRateLimiter limiter(5, std::chrono::seconds(10));
  uint64_t suppressed = 0;
  if (!limiter.allow(&suppressed)) return;
  spdlog::level::level_enum lvl = spdlog::level::info;
  switch (level) {
    case google::protobuf::LOGLEVEL_INFO: lvl = spdlog::level::debug; break;
    case google::protobuf::LOGLEVEL_WARNING: lvl = spdlog::level::warn; break;
    default: lvl = spdlog::level::err; break;
  }
  auto& l = servingLogger();
  if (suppressed)
    l->log(spdlog::source_loc{filename, line, ""}, lvl, "libprotobuf: {} ({} similar message(s) suppressed)", message,
           suppressed);
  else
    l->log(spdlog::source_loc{filename, line, ""}, lvl, "libprotobuf: {}", message);
}

}  // namespace

std::string logSafe(std::string_view s, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(s.size(), max_bytes) + 16);
  appendEscaped(s, max_bytes, out);
  return out;
}

bool LogRateLimiter::allow(uint64_t* suppressed_before) {
  std::lock_guard lk(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (window_start_ == std::chrono::steady_clock::time_point{} || now - window_start_ >= window_) {
    window_start_ = now;
    in_window_ = 0;
  }
  if (in_window_ >= burst_) {
    ++suppressed_;
    return false;
  }
  ++in_window_;
  *suppressed_before = suppressed_;
  suppressed_ = 0;
  return true;
}

void routeProtobufLogs() { google::protobuf::SetLogHandler(&protobufLogHandler); }

std::shared_ptr<spdlog::logger>& servingLogger() {
  static std::shared_ptr<spdlog::logger> l = makeLogger("serving");
  return l;
}

std::shared_ptr<spdlog::logger>& modelManagerLogger() {
  static std::shared_ptr<spdlog::logger> l = makeLogger("modelmanager");
  return l;
}

void configureLogging(const std::string& level, const std::string& path) {
  spdlog::sink_ptr sink;
  if (path.empty()) {
    sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  } else {
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false);
  }
  for (auto* l : {&servingLogger(), &modelManagerLogger()}) {
    auto name = (*l)->name();
    *l = std::make_shared<spdlog::logger>(name, sink);
    (*l)->set_formatter(makeFormatter());
    (*l)->set_level(parseLevel(level));
    (*l)->flush_on(spdlog::level::trace);
  }
  // Code that logs through spdlog's default logger (the HTTP server) gets the same sink and format.
  spdlog::set_default_logger(servingLogger());
  routeProtobufLogs();
}

}  // namespace ovms
