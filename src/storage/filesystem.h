#pragma once
// Model repositories behind one interface, chosen by the path's scheme: local disk, s3://, gs://,
// azure:// and azfs:// (Azure Blob). Remote implementations list "directories" as key prefixes and
// download a version folder whole into a local cache directory before it is loaded.
#include <memory>
#include <string>
#include <vector>

namespace ovms::storage {

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  virtual bool isDirectory(const std::string& path) const = 0;
  // Names of the immediate subdirectories of `path`; false if it cannot be listed (the reason is
  // logged by the storage layer).
  virtual bool listDirectories(const std::string& path, std::vector<std::string>* names) const = 0;
  virtual bool readFile(const std::string& path, std::string* content) const = 0;
  // A local directory holding every file under `path` (the path itself for local storage). A remote
  // folder is downloaded whole first; the directory returned is complete, never half-written.
  virtual bool localCopy(const std::string& path, std::string* local_dir) const = 0;
  virtual std::string join(const std::string& a, const std::string& b) const = 0;
  // Fetches folders that are about to be loaded, all at once (remote storage downloads them
  // concurrently; each later localCopy then finds its complete copy or its failure). Blocks until
  // done; a no-op for local storage.
  virtual void prefetch(const std::vector<std::string>& paths) const {}
  // Why the last listDirectories/localCopy/isDirectory of `path` failed ("" if it did not or it
  // is unknown). Never contains credentials.
  virtual std::string lastError(const std::string& path) const { return ""; }
};

// The scheme of `path` ("s3", "gs", "foo" for "foo://..."), "" for a local path.
std::string schemeOf(const std::string& path);
// True for "" (local) and the schemes implemented here.
bool isSupportedScheme(const std::string& scheme);
// The log/status text for a path whose scheme is not implemented.
std::string unsupportedSchemeMessage(const std::string& path);

// The file system that serves `path` (by its scheme); nullptr for an unsupported scheme.
std::shared_ptr<FileSystem> fileSystemFor(const std::string& path);

}  // namespace ovms::storage
