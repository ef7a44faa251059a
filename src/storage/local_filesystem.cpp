#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "storage/cloud_stores.h"
#include "storage/filesystem.h"
#include "storage/remote_filesystem.h"

namespace ovms::storage {
namespace fs = std::filesystem;
namespace {

class LocalFileSystem : public FileSystem {
 public:
  bool isDirectory(const std::string& path) const override {
    std::error_code ec;
    return fs::is_directory(path, ec);
  }
  bool listDirectories(const std::string& path, std::vector<std::string>* names) const override {
    std::error_code ec;
    fs::directory_iterator it(path, ec);
    if (ec) return false;
    for (const auto& e : it) {
      std::error_code ec2;
      if (e.is_directory(ec2)) names->push_back(e.path().filename().string());
    }
    return true;
  }
  bool readFile(const std::string& path, std::string* content) const override {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::stringstream ss;
    ss << in.rdbuf();
    *content = ss.str();
    return true;
  }
  bool localCopy(const std::string& path, std::string* local_dir) const override {
    *local_dir = path;
    return isDirectory(path);
  }
  std::string join(const std::string& a, const std::string& b) const override { return (fs::path(a) / b).string(); }
};

}  // namespace

std::string schemeOf(const std::string& path) {
  // RFC 3986 scheme: a letter, then letters, digits, '+', '-' or '.', then "://".
  auto pos = path.find("://");
  if (pos == std::string::npos || pos == 0 || !std::isalpha(static_cast<unsigned char>(path[0]))) return "";
  for (size_t i = 1; i < pos; ++i) {
    unsigned char c = static_cast<unsigned char>(path[i]);
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return "";
  }
  return path.substr(0, pos);
}

bool isSupportedScheme(const std::string& scheme) {
  return scheme.empty() || scheme == "s3" || scheme == "gs" || scheme == "azure" || scheme == "az" || scheme == "azfs";
}

std::string unsupportedSchemeMessage(const std::string& path) {
  return "Unsupported model path scheme \"" + schemeOf(path) + "://\" in " + path +
         "; supported are local paths, s3://, gs://, azure:// (az://) and azfs://";
}

std::shared_ptr<FileSystem> fileSystemFor(const std::string& path) {
  std::string scheme = schemeOf(path);
  if (scheme.empty()) {
    static auto local = std::make_shared<LocalFileSystem>();
    return local;
  }
  if (scheme == "s3") {
    static auto s3 = std::make_shared<RemoteFileSystem>(makeS3Store());
    return s3;
  }
  if (scheme == "gs") {
    static auto gcs = std::make_shared<RemoteFileSystem>(makeGcsStore());
    return gcs;
  }
  if (scheme == "azure" || scheme == "az" || scheme == "azfs") {
    static auto azure = std::make_shared<RemoteFileSystem>(makeAzureStore());
    return azure;
  }
  return nullptr;
}

}  // namespace ovms::storage
