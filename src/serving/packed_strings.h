#pragma once
// The one codec of the packed STRING / BYTES layout (KServe's binary BYTES layout): for every
// element, a 4-byte little-endian length followed by that many bytes, elements back to back.
// Every front end and the inference path use these; nothing else reads or writes the prefix.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace ovms::serving {

// Writes the 4-byte little-endian length prefix at `p`.
inline void putStringLength(uint8_t* p, uint32_t n) {
  p[0] = static_cast<uint8_t>(n);
  p[1] = static_cast<uint8_t>(n >> 8);
  p[2] = static_cast<uint8_t>(n >> 16);
  p[3] = static_cast<uint8_t>(n >> 24);
}
inline uint32_t getStringLength(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}

// Bytes `values` take once packed.
template <typename Strings>
size_t packedSize(const Strings& values) {
  size_t total = 0;
  for (const auto& s : values) total += 4 + s.size();
  return total;
}

// Packs `values` (anything with data()/size() elements) into `out` (resized to fit).
template <typename Strings>
void packStrings(const Strings& values, std::vector<uint8_t>* out) {
  out->resize(packedSize(values));
  uint8_t* p = out->data();
  for (const auto& s : values) {
    const uint32_t n = static_cast<uint32_t>(s.size());
    putStringLength(p, n);
    p += 4;
    if (n) std::memcpy(p, s.data(), n);
    p += n;
  }
}

// How a packed buffer is malformed (for OVMS's INVALID_CONTENT_SIZE details).
struct PackedStringsError {
  enum Kind { NONE, LENGTH_EXCEEDS_BUFFER, TRAILING_BYTES } kind = NONE;
  uint32_t length = 0;     // LENGTH_EXCEEDS_BUFFER: the element length that did not fit
  size_t processed = 0;    // TRAILING_BYTES: bytes of whole elements before the trailing ones
};

// Calls on_element(const char*, uint32_t) for every element; false (and *error) if malformed.
template <typename OnElement>
bool forEachPackedString(const void* data, size_t bytes, PackedStringsError* error, OnElement&& on_element) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  size_t pos = 0;
  while (bytes - pos >= 4) {
    uint32_t n = getStringLength(p + pos);
    if (bytes - pos - 4 < n) {
      if (error) *error = PackedStringsError{PackedStringsError::LENGTH_EXCEEDS_BUFFER, n, pos};
      return false;
    }
    on_element(reinterpret_cast<const char*>(p + pos + 4), n);
    pos += 4 + static_cast<size_t>(n);
  }
  if (pos != bytes) {
    if (error) *error = PackedStringsError{PackedStringsError::TRAILING_BYTES, 0, pos};
    return false;
  }
  return true;
}

// Views the elements of a packed buffer. Returns false (and *error, when given) if malformed.
inline bool unpackStrings(const void* data, size_t bytes, std::vector<std::string_view>* out,
                          PackedStringsError* error = nullptr) {
  out->clear();
  return forEachPackedString(data, bytes, error, [out](const char* s, uint32_t n) { out->emplace_back(s, n); });
}

// Counts the elements without viewing them.
inline bool countPackedStrings(const void* data, size_t bytes, int64_t* count, PackedStringsError* error = nullptr) {
  int64_t n = 0;
  if (!forEachPackedString(data, bytes, error, [&n](const char*, uint32_t) { ++n; })) return false;
  *count = n;
  return true;
}

}  // namespace ovms::serving
