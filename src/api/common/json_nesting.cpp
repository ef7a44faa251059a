#include "api/common/json_nesting.h"

#include <cstdint>
#include <cstring>

namespace ovms::api {
namespace {

// True if any byte of the 8 at p is a quote or a bracket/brace (exact, no false negatives; a
// false positive only costs the bytewise scan of these 8 bytes).
inline bool mayHoldStructural(const char* p) {
  uint64_t x;
  std::memcpy(&x, p, 8);
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  auto hasByte = [x](unsigned char c) {
    uint64_t v = x ^ (kOnes * c);
    return ((v - kOnes) & ~v & kHigh) != 0;
  };
  return hasByte('"') | hasByte('[') | hasByte('{') | hasByte(']') | hasByte('}');
}

// Containers nested deeper than kMaxJsonDepth. A cheap scan that also keeps rapidjson's
// recursive parser away from pathological nesting.
bool nestingTooDeep(std::string_view s) {
  int depth = 0;
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    // Numbers, commas and whitespace make up almost all of a tensor body: skip them 8 bytes at a time.
    while (end - p >= 8 && !mayHoldStructural(p)) p += 8;
    if (p == end) break;
    char c = *p++;
    switch (c) {
      case '"':
        while (p < end) {
          char d = *p++;
          if (d == '\\') {
            ++p;
          } else if (d == '"') {
            break;
          }
        }
        break;
      case '[':
      case '{':
        if (++depth > kMaxJsonDepth) return true;
        break;
      case ']':
      case '}':
        --depth;
        break;
      default:
        break;
    }
  }
  return false;
}

}  // namespace

bool jsonNestingTooDeep(std::string_view json) { return nestingTooDeep(json); }

}  // namespace ovms::api
