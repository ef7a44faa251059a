#include "api/security/tls_material.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace ovms::api::security {
namespace {

bool readFile(const std::string& path, const char* flag, std::string* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  if (in) ss << in.rdbuf();
  if (!in || in.bad()) {
    *error = std::string("Cannot read the file given by --") + flag + ": " + path;
    return false;
  }
  *out = ss.str();
  return true;
}

std::string opensslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "no PEM data found";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

BioPtr memBio(const std::string& s) { return BioPtr(BIO_new_mem_buf(s.data(), static_cast<int>(s.size())), BIO_free); }

bool writeFile(const std::filesystem::path& path, const std::string& content, mode_t mode) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) return false;
  return ::chmod(path.c_str(), mode) == 0;
}

}  // namespace

bool loadTlsMaterial(const TlsFiles& files, TlsMaterial* out, std::string* error) {
  TlsMaterial m;
  if (!readFile(files.cert_file, "tls_cert_file", &m.cert_pem, error)) return false;
  if (!readFile(files.key_file, "tls_key_file", &m.key_pem, error)) return false;
  if (!files.ca_file.empty() && !readFile(files.ca_file, "tls_ca_file", &m.ca_pem, error)) return false;
  ERR_clear_error();
  auto cert_bio = memBio(m.cert_pem);
  X509Ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert) {
    *error = "No PEM certificate in the file given by --tls_cert_file: " + files.cert_file + " (" + opensslError() + ")";
    return false;
  }
  auto key_bio = memBio(m.key_pem);
  KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) {
    *error = "No PEM private key (or an encrypted one) in the file given by --tls_key_file: " + files.key_file + " (" +
             opensslError() + ")";
    return false;
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    *error = "The private key in " + files.key_file + " (--tls_key_file) does not match the certificate in " +
             files.cert_file + " (--tls_cert_file)";
    return false;
  }
  if (!files.ca_file.empty()) {
    auto ca_bio = memBio(m.ca_pem);
    X509Ptr ca(PEM_read_bio_X509(ca_bio.get(), nullptr, nullptr, nullptr), X509_free);
    if (!ca) {
      *error = "No PEM certificate in the file given by --tls_ca_file: " + files.ca_file + " (" + opensslError() + ")";
      return false;
    }
  }
  *out = std::move(m);
  return true;
}

GrpcTlsStage::~GrpcTlsStage() {
  if (dir_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

bool GrpcTlsStage::publish(const TlsMaterial& material, std::string* error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (dir_.empty()) {
    std::string tmpl = (fs::temp_directory_path(ec) / "ovms-grpc-tls-XXXXXX").string();
    if (ec) tmpl = "/tmp/ovms-grpc-tls-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      *error = "Cannot create a private directory for the gRPC TLS files: " + tmpl;
      return false;
    }
    dir_ = tmpl;
  }
  const unsigned gen = ++generation_;
  const fs::path gen_dir = fs::path(dir_) / ("gen-" + std::to_string(gen));
  fs::create_directory(gen_dir, ec);
  if (ec || ::chmod(gen_dir.c_str(), 0700) != 0 || !writeFile(gen_dir / "key.pem", material.key_pem, 0600) ||
      !writeFile(gen_dir / "cert.pem", material.cert_pem, 0600) ||
      !writeFile(gen_dir / "ca.pem", material.ca_pem, 0600)) {
    *error = "Cannot write the gRPC TLS files under " + dir_;
    return false;
  }
  const fs::path link = fs::path(dir_) / "current";
  const fs::path tmp_link = fs::path(dir_) / ("current.tmp-" + std::to_string(gen));
  fs::create_directory_symlink(gen_dir.filename(), tmp_link, ec);
  if (!ec) fs::rename(tmp_link, link, ec);  // rename(2) replaces the old symlink atomically
  if (ec) {
    *error = "Cannot switch the gRPC TLS files under " + dir_ + ": " + ec.message();
    return false;
  }
  // Generations before the previous one are no longer read by anyone.
  if (gen > 2) fs::remove_all(fs::path(dir_) / ("gen-" + std::to_string(gen - 2)), ec);
  return true;
}

}  // namespace ovms::api::security
