#pragma once
// TLS certificate, key and client-CA files (--tls_cert_file, --tls_key_file, --tls_ca_file): read and
// checked with OpenSSL before any listener uses them, at start-up and on every change.
#include <string>

namespace ovms::api::security {

struct TlsFiles {
  std::string cert_file, key_file, ca_file;  // ca_file empty: no client certificates (no mTLS)
  bool enabled() const { return !cert_file.empty(); }
};

struct TlsMaterial {
  std::string cert_pem, key_pem, ca_pem;  // ca_pem empty: no mTLS
};

// Reads and checks the files: each readable, the certificate chain and the key parse, the key belongs
// to the certificate, the CA file holds at least one certificate. The error names the file at fault.
bool loadTlsMaterial(const TlsFiles& files, TlsMaterial* out, std::string* error);

// The files gRPC's FileWatcherCertificateProvider reads: a private directory (0700) whose `current`
// symlink is swapped atomically to a new generation, so the provider never sees a key of one
// generation with a certificate of another. Only checked material is published here.
class GrpcTlsStage {
 public:
  GrpcTlsStage() = default;
  ~GrpcTlsStage();  // removes the directory
  GrpcTlsStage(const GrpcTlsStage&) = delete;
  GrpcTlsStage& operator=(const GrpcTlsStage&) = delete;

  bool publish(const TlsMaterial& material, std::string* error);
  std::string keyPath() const { return dir_ + "/current/key.pem"; }
  std::string certPath() const { return dir_ + "/current/cert.pem"; }
  std::string caPath() const { return dir_ + "/current/ca.pem"; }

 private:
  std::string dir_;
  unsigned generation_ = 0;
};

}  // namespace ovms::api::security
