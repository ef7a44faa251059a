#pragma once
// Command lines of the bench programs: "--flag value" pairs only.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

namespace bench {

// Prints "usage: <usage>" and exits 64 (EX_USAGE).
[[noreturn]] inline void exitWithUsage(const char* usage) {
  std::fprintf(stderr, "usage: %s\n", usage);
  std::exit(64);
}

// Calls set(flag, value) for each pair; a flag without a value, or one set() refuses (returns false),
// ends the program with the usage text.
inline void parseFlags(int argc, char** argv, const char* usage,
                       const std::function<bool(const std::string& flag, const std::string& value)>& set) {
  for (int i = 1; i < argc; i += 2)
    if (i + 1 >= argc || !set(argv[i], argv[i + 1])) exitWithUsage(usage);
}

}  // namespace bench
