#pragma once
// The part shared by every object store: a "directory" is a key prefix, a version folder is
// downloaded whole (several files at once, each streamed to disk) into a fresh directory of a local
// cache that is renamed into place only when every file arrived. Failures are logged once per
// distinct reason and further downloads of the same path back off (1 s doubling to 30 s).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/filesystem.h"

namespace ovms::storage {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;  // or generation / last-modified: anything that changes with the content
};

struct ObjectListing {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> prefixes;  // full prefixes ending with the delimiter
};

// One cloud API. `bucket` is the S3/GCS bucket or the Azure container.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  virtual std::string scheme() const = 0;
  // Every object under `prefix` (all pages); with `delimited`, keys below the next '/' are rolled up
  // into `prefixes`. A missing bucket is an error; an empty prefix is not.
  virtual bool list(const std::string& bucket, const std::string& prefix, bool delimited, ObjectListing* out,
                    std::string* error) = 0;
  // Streams one object, or `length` bytes of it from `offset` when length > 0, into `file` (opened
  // for writing and positioned by the caller).
  virtual bool download(const std::string& bucket, const std::string& key, uint64_t offset, uint64_t length,
                        FILE* file, std::string* error) = 0;
};

struct RemotePath {
  std::string scheme, bucket, prefix;  // prefix without leading/trailing '/'
};
bool parseRemotePath(const std::string& path, RemotePath* out);

class RemoteFileSystem : public FileSystem {
 public:
  explicit RemoteFileSystem(std::unique_ptr<ObjectStore> store);
  bool isDirectory(const std::string& path) const override;
  bool listDirectories(const std::string& path, std::vector<std::string>* names) const override;
  bool readFile(const std::string& path, std::string* content) const override;
  bool localCopy(const std::string& path, std::string* local_dir) const override;
  std::string join(const std::string& a, const std::string& b) const override;
  void prefetch(const std::vector<std::string>& paths) const override;
  std::string lastError(const std::string& path) const override;

 private:
  struct Failure {
    int count = 0;
    std::chrono::steady_clock::time_point retry_at;
    std::string error;
  };
  void fail(const std::string& path, const std::string& what, const std::string& error, bool backoff) const;
  void succeed(const std::string& path) const;
  bool download(const RemotePath& rp, const std::string& path, std::string* local_dir, std::string* error) const;
  // Removes the cached copies of folders under `parent` that are no longer listed.
  void dropDeleted(const std::string& parent, const std::vector<std::string>& names) const;
  std::mutex* pathLock(const std::string& path) const;

  std::unique_ptr<ObjectStore> store_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, Failure> failures_;
  mutable std::map<std::string, std::unique_ptr<std::mutex>> path_locks_;  // one download of a path at a time
  mutable std::atomic<bool> ranges_supported_{true};
  mutable std::map<std::string, std::string> cached_;  // remote folder -> its complete local copy  // large files are fetched in parts with Range
};

// The process's download cache root (created on first use, removed at exit). OVMS_STORAGE_CACHE_DIR
// chooses its parent directory (default: the system temp directory).
std::string cacheRoot();

}  // namespace ovms::storage
