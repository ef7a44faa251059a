#pragma once
// Hashes, MACs, encodings and RS256 signing (OpenSSL 3) used by the cloud storage clients.
#include <string>

namespace ovms::storage {

std::string sha256Hex(const std::string& data);
std::string hmacSha256(const std::string& key, const std::string& data);  // raw bytes
std::string hexEncode(const std::string& bytes);
std::string base64Encode(const std::string& bytes);
bool base64Decode(const std::string& text, std::string* bytes);
std::string base64UrlEncode(const std::string& bytes);  // unpadded, '-' and '_' (JWT)
// RFC 3986 percent-encoding: unreserved characters (A-Z a-z 0-9 - _ . ~) stay, every other byte is
// %XX (upper-case hex); '/' stays too when `keep_slash`.
std::string uriEncode(const std::string& s, bool keep_slash);
// RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signature of `data` with a PEM private key.
bool rsaSha256Sign(const std::string& pem_private_key, const std::string& data, std::string* signature,
                   std::string* error);

}  // namespace ovms::storage
