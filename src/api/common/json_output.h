#pragma once
// A rapidjson output stream that writes into a std::string (the response body) through a small
// block buffer: the finished JSON is not copied out of a StringBuffer, so a large response needs
// one buffer of its size, not two. rapidjson's PutReserve/PutUnsafe are specialised below.
#include <rapidjson/stream.h>

#include <algorithm>
#include <cstddef>
#include <string>

namespace ovms::api::json {

class StringOutput {
 public:
  using Ch = char;
  // Writes *out from its start; `expected` bytes are reserved up front (not initialised: growing
  // a std::string by resize() would zero-fill, and that memset cost as much as the copy it saves).
  StringOutput(std::string* out, size_t expected) : out_(out) {
    out_->clear();
    out_->reserve(expected);
  }
  // Bytes gather in a small buffer that stays in cache and go to the string in blocks.
  void Reserve(size_t) {}
  void PutUnsafe(char c) {
    if (used_ == sizeof(block_)) Flush();
    block_[used_++] = c;
  }
  void Put(char c) { PutUnsafe(c); }
  // Writes `n` bytes after everything put so far (the block first), for text made outside the writer.
  void Append(const char* text, size_t n) {
    Flush();
    out_->append(text, n);
  }
  void Flush() {
    out_->append(block_, used_);
    used_ = 0;
  }
  // Writes out the last block; returns the length of the string. Call once the writer is done.
  size_t Finish() {
    Flush();
    return out_->size();
  }

 private:
  std::string* out_;
  size_t used_ = 0;
  char block_[8192];
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
