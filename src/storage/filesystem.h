#pragma once
// Model repositories behind one interface. Local disk now; s3://, gs://, azure:// will implement
// the same calls (downloading a version folder to a local directory).
#include <memory>
#include <string>
#include <vector>

namespace ovms::storage {

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  virtual bool isDirectory(const std::string& path) const = 0;
  // Names of the immediate subdirectories of `path`; false if it cannot be listed.
  virtual bool listDirectories(const std::string& path, std::vector<std::string>* names) const = 0;
  virtual bool readFile(const std::string& path, std::string* content) const = 0;
  // A local directory holding the files of `path` (the path itself for local storage).
  virtual bool localCopy(const std::string& path, std::string* local_dir) const = 0;
  virtual std::string join(const std::string& a, const std::string& b) const = 0;
};

// The file system that serves `path` (by its scheme); nullptr for an unsupported scheme.
std::shared_ptr<FileSystem> fileSystemFor(const std::string& path);

}  // namespace ovms::storage
