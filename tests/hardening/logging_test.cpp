// Client-supplied strings in logs: escaped to one line, bounded; protobuf's log rate-limited.
#include <gtest/gtest.h>

#include <google/protobuf/wrappers.pb.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/logging.h"

using ovms::logSafe;

TEST(LogSafe, EscapesControlBytesAndKeepsUtf8) {
  EXPECT_EQ(logSafe("plain name-1.2"), "plain name-1.2");
  EXPECT_EQ(logSafe("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(logSafe(std::string("x\0y", 3)), "x\\x00y");
  EXPECT_EQ(logSafe("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(logSafe("\x7f"), "\\x7f");
  EXPECT_EQ(logSafe("zażółć 模型"), "zażółć 模型");       // valid UTF-8 stays readable
  EXPECT_EQ(logSafe("\xff\xfe" "a"), "\\xff\\xfea");        // invalid bytes are escaped
  EXPECT_EQ(logSafe("\xc3"), "\\xc3");                      // truncated sequence
  EXPECT_EQ(logSafe("\xed\xa0\x80"), "\\xed\\xa0\\x80");    // surrogate
}

TEST(LogSafe, Truncates) {
  std::string big(1 << 20, 'A');
  std::string out = logSafe(big, 100);
  EXPECT_EQ(out, std::string(100, 'A') + "...(1048576 bytes)");
  EXPECT_EQ(logSafe("abc", 3), "abc");
  // A multi-byte character cut by the bound is escaped, not split into invalid UTF-8.
  EXPECT_EQ(logSafe("ab\xc5\xbc", 3), "ab\\xc5...(4 bytes)");
}

TEST(LogRateLimiter, LetsABurstThroughThenCounts) {
  ovms::LogRateLimiter limiter(3, std::chrono::milliseconds(300));
  uint64_t suppressed = 99;
  int allowed = 0;
  for (int i = 0; i < 100; ++i)
    if (limiter.allow(&suppressed)) ++allowed;
  EXPECT_EQ(allowed, 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  ASSERT_TRUE(limiter.allow(&suppressed));
  EXPECT_EQ(suppressed, 97u);
}

namespace {

std::vector<std::string> readLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string tempLogPath(const char* name) {
  auto p = std::filesystem::temp_directory_path() / (std::string(name) + "_" + std::to_string(getpid()) + ".log");
  std::filesystem::remove(p);
  return p.string();
}

}  // namespace

TEST(Logging, EveryMessageIsOneEscapedBoundedLine) {
  const std::string path = tempLogPath("ovms_logging_test");
  ovms::configureLogging("DEBUG", path);
  const std::string forged = "m\n[2026-01-01 00:00:00.000][1][serving][error][x:1] forged";
  SERVING_LOG(debug, "Predict on model {} failed", forged);
  MODEL_LOG(info, "name {}", std::string("nul\0byte", 8));
  SERVING_LOG(debug, "huge {}", std::string(1 << 20, 'N'));
  spdlog::default_logger()->warn("from the default logger: {}", "a\r\nb");  // the HTTP server's logger
  ovms::servingLogger()->flush();
  ovms::modelManagerLogger()->flush();
  auto lines = readLines(path);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_NE(lines[0].find("Predict on model m\\n[2026-01-01 00:00:00.000][1][serving][error][x:1] forged failed"),
            std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("name nul\\x00byte"), std::string::npos) << lines[1];
  EXPECT_LT(lines[2].size(), ovms::kMaxLogMessageBytes + 200);
  EXPECT_NE(lines[2].find("...(1048581 bytes)"), std::string::npos);
  EXPECT_NE(lines[3].find("[serving][warning]"), std::string::npos) << lines[3];
  EXPECT_NE(lines[3].find("a\\r\\nb"), std::string::npos) << lines[3];
  std::filesystem::remove(path);
}

TEST(Logging, ProtobufErrorsGoThroughOurLogRateLimited) {
  const std::string path = tempLogPath("ovms_protobuf_log_test");
  ovms::configureLogging("INFO", path);
  // A proto3 string field with invalid UTF-8: libprotobuf logs an ERROR on every parse.
  google::protobuf::StringValue v;
  std::string wire = std::string("\x0a\x02\xff\xfe", 4);
  for (int i = 0; i < 200; ++i) v.ParseFromString(wire);
  ovms::servingLogger()->flush();
  auto lines = readLines(path);
  ASSERT_GE(lines.size(), 1u);
  EXPECT_LE(lines.size(), 5u);  // 5 per 10 s window
  EXPECT_NE(lines[0].find("libprotobuf: "), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("UTF-8"), std::string::npos) << lines[0];
  std::filesystem::remove(path);
}
