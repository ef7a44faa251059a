#pragma once
// A rapidjson output stream that writes straight into a std::string (the response body): the
// finished JSON is not copied out of a StringBuffer, so a large response needs one buffer of its
// size, not two, and no copy. Writers use it like StringBuffer (rapidjson's PutReserve/PutUnsafe
// are specialised below, so numbers and strings are written without a capacity check per byte).
#include <rapidjson/stream.h>

#include <algorithm>
#include <cstddef>
#include <string>

namespace ovms::api::json {

class StringOutput {
 public:
  using Ch = char;
  // Writes *out from its start; `expected` bytes are allocated up front (it grows past them).
  StringOutput(std::string* out, size_t expected) : out_(out) {
    out_->resize(std::max<size_t>(expected, 64));
    p_ = out_->data();
    end_ = p_ + out_->size();
  }
  void Reserve(size_t n) {
    if (static_cast<size_t>(end_ - p_) >= n) return;
    size_t used = static_cast<size_t>(p_ - out_->data());
    out_->resize(std::max(out_->size() * 2, used + n));
    p_ = out_->data() + used;
    end_ = out_->data() + out_->size();
  }
  void PutUnsafe(char c) { *p_++ = c; }
  void Put(char c) {
    Reserve(1);
    *p_++ = c;
  }
  void Flush() {}
  // Cuts the string to what was written; call once, after the writer is done.
  size_t Finish() {
    size_t used = static_cast<size_t>(p_ - out_->data());
    out_->resize(used);
    return used;
  }

 private:
  std::string* out_;
  char* p_;
  char* end_;
};

}  // namespace ovms::api::json

namespace rapidjson {
template <>
inline void PutReserve(ovms::api::json::StringOutput& stream, size_t count) {
  stream.Reserve(count);
}
template <>
inline void PutUnsafe(ovms::api::json::StringOutput& stream, char c) {
  stream.PutUnsafe(c);
}
}  // namespace rapidjson
