// storage_sigv4_tool METHOD HOST PATH AMZ_DATE KEY SECRET REGION SERVICE PAYLOAD_SHA256 [TOKEN] [-q NAME VALUE]... [-h NAME VALUE]...
// Prints the Authorization header our signer produces (PATH is sent as given, already encoded).
#include <cstring>
#include <iostream>

#include "storage/sigv4.h"

int main(int argc, char** argv) {
  if (argc < 10) {
    std::cerr << "usage: storage_sigv4_tool METHOD HOST PATH AMZ_DATE KEY SECRET REGION SERVICE PAYLOAD_SHA256 "
                 "[-t TOKEN] [-q NAME VALUE]... [-h NAME VALUE]...\n";
    return 2;
  }
  ovms::storage::SigV4Request r;
  r.method = argv[1];
  r.host = argv[2];
  r.path = argv[3];
  std::string date = argv[4];
  ovms::storage::AwsCredentials c{argv[5], argv[6], ""};
  std::string region = argv[7], service = argv[8];
  r.payload_sha256 = argv[9];
  for (int i = 10; i < argc; ++i) {
    if (!std::strcmp(argv[i], "-t") && i + 1 < argc) {
      c.session_token = argv[++i];
      r.headers.emplace_back("x-amz-security-token", c.session_token);
    } else if (!std::strcmp(argv[i], "-q") && i + 2 < argc) {
      r.query.emplace_back(argv[i + 1], argv[i + 2]);
      i += 2;
    } else if (!std::strcmp(argv[i], "-h") && i + 2 < argc) {
      r.headers.emplace_back(argv[i + 1], argv[i + 2]);
      i += 2;
    } else {
      std::cerr << "bad argument " << argv[i] << "\n";
      return 2;
    }
  }
  std::cout << ovms::storage::sigV4Sign(r, c, region, service, date).authorization << "\n";
  return 0;
}
