#include <filesystem>
#include <fstream>
#include <sstream>

#include "storage/filesystem.h"

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

std::shared_ptr<FileSystem> fileSystemFor(const std::string& path) {
  for (const char* scheme : {"s3://", "gs://", "azure://", "azfs://"})
    if (path.rfind(scheme, 0) == 0) return nullptr;
  static auto local = std::make_shared<LocalFileSystem>();
  return local;
}

}  // namespace ovms::storage
