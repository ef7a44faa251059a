#include "storage/remote_filesystem.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "common/logging.h"
#include "storage/crypto.h"
#include "storage/http_client.h"

namespace ovms::storage {
namespace fs = std::filesystem;
namespace {

constexpr int kMaxParallelFiles = 4;
constexpr int kMaxBackoffSeconds = 30;
// Files larger than this are fetched as several ranged requests at once (emulators and many
// servers stream one connection slower than the disk and the loopback allow).
constexpr uint64_t kPartBytes = 32ull << 20;

std::string randomSuffix() {
  static thread_local std::mt19937_64 rng(std::random_device{}() ^ static_cast<uint64_t>(getpid()));
  return hexEncode(std::to_string(rng())).substr(0, 16);
}

// Removes the cache at exit: the copies are only needed while a version loads.
struct CacheDir {
  std::string path;
  CacheDir() {
    const char* parent = std::getenv("OVMS_STORAGE_CACHE_DIR");
    std::error_code ec;
    fs::path base = (parent && *parent) ? fs::path(parent) : fs::temp_directory_path(ec);
    if (ec) base = "/tmp";
    path = (base / ("ovms-remote-" + std::to_string(getpid()))).string();
  }
  ~CacheDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// A relative path inside the version folder for `key`, or "" when the key could escape it.
std::string relativeFileFor(const std::string& key, const std::string& prefix) {
  std::string rel = key.substr(prefix.size());
  std::string out;
  std::stringstream ss(rel);
  std::string part;
  while (std::getline(ss, part, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") return "";
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

std::string manifestOf(const std::vector<ObjectInfo>& objects) {
  std::vector<std::string> lines;
  for (const auto& o : objects) lines.push_back(o.key + "\t" + std::to_string(o.size) + "\t" + o.etag);
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace

std::string cacheRoot() {
  static CacheDir dir;
  return dir.path;
}

bool parseRemotePath(const std::string& path, RemotePath* out) {
  auto pos = path.find("://");
  if (pos == std::string::npos) return false;
  out->scheme = path.substr(0, pos);
  std::string rest = path.substr(pos + 3);
  auto slash = rest.find('/');
  out->bucket = rest.substr(0, slash);
  out->prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
  while (!out->prefix.empty() && out->prefix.back() == '/') out->prefix.pop_back();
  while (!out->prefix.empty() && out->prefix.front() == '/') out->prefix.erase(0, 1);
  return !out->bucket.empty();
}

RemoteFileSystem::RemoteFileSystem(std::unique_ptr<ObjectStore> store) : store_(std::move(store)) {}

std::string RemoteFileSystem::join(const std::string& a, const std::string& b) const {
  std::string base = a;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/" + b;
}

std::string RemoteFileSystem::lastError(const std::string& path) const {
  std::lock_guard lock(mutex_);
  auto it = failures_.find(path);
  return it == failures_.end() ? "" : it->second.error;
}

void RemoteFileSystem::fail(const std::string& path, const std::string& what, const std::string& error,
                            bool backoff) const {
  std::lock_guard lock(mutex_);
  Failure& f = failures_[path];
  bool repeated = f.error == error;
  f.error = error;
  if (backoff) {
    ++f.count;
    int seconds = std::min(kMaxBackoffSeconds, 1 << std::min(f.count - 1, 5));
    f.retry_at = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    if (repeated)
      MODEL_LOG(debug, "{} {} failed again: {}; next attempt in {} s", what, path, error, seconds);
    else
      MODEL_LOG(err, "{} {} failed: {}; next attempt in {} s", what, path, error, seconds);
  } else if (repeated) {
    MODEL_LOG(debug, "{} {} failed again: {}", what, path, error);
  } else {
    MODEL_LOG(err, "{} {} failed: {}", what, path, error);
  }
}

void RemoteFileSystem::succeed(const std::string& path) const {
  std::lock_guard lock(mutex_);
  auto it = failures_.find(path);
  if (it == failures_.end()) return;
  if (!it->second.error.empty()) MODEL_LOG(info, "Storage access to {} works again", path);
  failures_.erase(it);
}

bool RemoteFileSystem::isDirectory(const std::string& path) const {
  RemotePath rp;
  if (!parseRemotePath(path, &rp)) {
    fail(path, "Parsing", "the path has no bucket/container name", false);
    return false;
  }
  ObjectListing listing;
  std::string error;
  std::string prefix = rp.prefix.empty() ? "" : rp.prefix + "/";
  if (!store_->list(rp.bucket, prefix, true, &listing, &error)) {
    fail(path, "Listing", error, false);
    return false;
  }
  if (listing.objects.empty() && listing.prefixes.empty()) {
    fail(path, "Listing", "no object exists under this prefix", false);
    return false;
  }
  succeed(path);
  return true;
}

bool RemoteFileSystem::listDirectories(const std::string& path, std::vector<std::string>* names) const {
  RemotePath rp;
  if (!parseRemotePath(path, &rp)) {
    fail(path, "Parsing", "the path has no bucket/container name", false);
    return false;
  }
  ObjectListing listing;
  std::string error;
  std::string prefix = rp.prefix.empty() ? "" : rp.prefix + "/";
  if (!store_->list(rp.bucket, prefix, true, &listing, &error)) {
    fail(path, "Listing", error, false);
    return false;
  }
  std::vector<std::string> found;
  for (const auto& p : listing.prefixes) {
    if (p.size() <= prefix.size() || p.compare(0, prefix.size(), prefix) != 0) continue;
    std::string name = p.substr(prefix.size());
    while (!name.empty() && name.back() == '/') name.pop_back();
    if (!name.empty()) found.push_back(name);
  }
  names->insert(names->end(), found.begin(), found.end());
  succeed(path);
  dropDeleted(path, found);
  return true;
}

bool RemoteFileSystem::readFile(const std::string& path, std::string* content) const {
  RemotePath rp;
  if (!parseRemotePath(path, &rp) || rp.prefix.empty()) return false;
  std::string tmp = cacheRoot() + "/.read-" + randomSuffix();
  std::error_code ec;
  fs::create_directories(cacheRoot(), ec);
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return false;
  std::string error;
  bool ok = store_->download(rp.bucket, rp.prefix, 0, 0, f, &error);
  ok = (std::fclose(f) == 0) && ok;
  if (ok) {
    std::ifstream in(tmp, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    *content = ss.str();
  } else {
    fail(path, "Reading", error, false);
  }
  fs::remove(tmp, ec);
  return ok;
}

bool RemoteFileSystem::localCopy(const std::string& path, std::string* local_dir) const {
  {
    std::lock_guard lock(mutex_);
    auto it = failures_.find(path);
    if (it != failures_.end() && it->second.count > 0 && std::chrono::steady_clock::now() < it->second.retry_at) {
      MODEL_LOG(debug, "Download of {} postponed (backoff after: {})", path, it->second.error);
      return false;
    }
  }
  RemotePath rp;
  if (!parseRemotePath(path, &rp)) {
    fail(path, "Downloading", "the path has no bucket/container name", true);
    return false;
  }
  std::lock_guard download_lock(*pathLock(path));
  std::string error;
  if (!download(rp, path, local_dir, &error)) {
    fail(path, "Downloading", error, true);
    return false;
  }
  succeed(path);
  std::lock_guard lock(mutex_);
  cached_[path] = *local_dir;
  return true;
}

std::mutex* RemoteFileSystem::pathLock(const std::string& path) const {
  std::lock_guard lock(mutex_);
  auto& slot = path_locks_[path];
  if (!slot) slot = std::make_unique<std::mutex>();
  return slot.get();
}

void RemoteFileSystem::dropDeleted(const std::string& parent, const std::vector<std::string>& names) const {
  std::vector<std::pair<std::string, std::string>> gone;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [path, dir] : cached_) {
      std::string base = join(parent, "");
      if (path.size() <= base.size() || path.compare(0, base.size(), base) != 0) continue;
      std::string child = path.substr(base.size());
      if (child.find('/') != std::string::npos) continue;
      if (std::find(names.begin(), names.end(), child) == names.end()) gone.emplace_back(path, dir);
    }
  }
  for (const auto& [path, dir] : gone) {
    // A loaded version no longer needs its files (loading reads them), so the copy can go.
    std::lock_guard download_lock(*pathLock(path));
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::remove(dir + ".manifest", ec);
    MODEL_LOG(debug, "Removed the cached copy of {} (deleted remotely)", path);
    std::lock_guard lock(mutex_);
    cached_.erase(path);
  }
}

void RemoteFileSystem::prefetch(const std::vector<std::string>& paths) const {
  if (paths.size() < 2) return;  // a single folder is downloaded by localCopy itself
  std::vector<std::thread> threads;
  for (const auto& p : paths)
    threads.emplace_back([this, p] {
      std::string ignored;
      localCopy(p, &ignored);
    });
  for (auto& t : threads) t.join();
}

bool RemoteFileSystem::download(const RemotePath& rp, const std::string& path, std::string* local_dir,
                                std::string* error) const {
  auto started = std::chrono::steady_clock::now();
  std::string prefix = rp.prefix.empty() ? "" : rp.prefix + "/";
  ObjectListing listing;
  if (!store_->list(rp.bucket, prefix, false, &listing, error)) return false;
  struct Item {
    std::string key, rel;
    uint64_t size;
  };
  std::vector<Item> items;
  std::vector<ObjectInfo> files;
  for (const auto& o : listing.objects) {
    if (o.key.size() < prefix.size() || o.key.compare(0, prefix.size(), prefix) != 0) continue;
    if (!o.key.empty() && o.key.back() == '/') continue;  // a "folder" marker object
    std::string rel = relativeFileFor(o.key, prefix);
    if (rel.empty()) {
      *error = "object key \"" + o.key + "\" does not name a file inside the folder";
      return false;
    }
    items.push_back({o.key, rel, o.size});
    files.push_back(o);
  }
  if (items.empty()) {
    *error = "the folder has no files";
    return false;
  }
  std::string manifest = manifestOf(files);
  std::string root = cacheRoot();
  std::string id = sha256Hex(path).substr(0, 16);
  std::string final_dir = root + "/" + id;
  std::string manifest_path = final_dir + ".manifest";
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) {
    *error = "cannot create the download cache " + root + ": " + ec.message();
    return false;
  }
  // Unchanged since the last complete download (same keys, sizes and etags): reuse it.
  if (fs::is_directory(final_dir, ec)) {
    std::ifstream in(manifest_path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (in && ss.str() == manifest) {
      *local_dir = final_dir;
      MODEL_LOG(debug, "Using the cached copy of {} in {}", path, final_dir);
      return true;
    }
  }
  std::string partial = root + "/.partial-" + id + "-" + randomSuffix();
  fs::create_directories(partial, ec);
  if (ec) {
    *error = "cannot create " + partial + ": " + ec.message();
    return false;
  }
  uint64_t total_bytes = 0;
  for (const auto& it : items) total_bytes += it.size;
  MODEL_LOG(info, "Downloading {} ({} files, {} bytes)", path, items.size(), total_bytes);

  // Work units: whole small files, and parts of large ones written in place into a pre-sized file.
  struct Part {
    size_t item;
    uint64_t offset, length;  // length 0 = the whole file
  };
  std::vector<Part> parts;
  bool ranged = ranges_supported_.load();
  for (size_t i = 0; i < items.size(); ++i) {
    fs::path dest = fs::path(partial) / items[i].rel;
    fs::create_directories(dest.parent_path(), ec);
    FILE* f = std::fopen(dest.c_str(), "wb");
    if (!f) {
      *error = "cannot create " + dest.string();
      fs::remove_all(partial, ec);
      return false;
    }
    bool split = ranged && items[i].size > kPartBytes;
    if (split && ftruncate(fileno(f), static_cast<off_t>(items[i].size)) != 0) split = false;
    std::fclose(f);
    if (!split) {
      parts.push_back({i, 0, 0});
      continue;
    }
    for (uint64_t off = 0; off < items[i].size; off += kPartBytes)
      parts.push_back({i, off, std::min(kPartBytes, items[i].size - off)});
  }

  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::string first_error;
  auto worker = [&] {
    for (;;) {
      if (failed.load()) return;
      size_t n = next.fetch_add(1);
      if (n >= parts.size()) return;
      const Part& part = parts[n];
      const Item& item = items[part.item];
      fs::path dest = fs::path(partial) / item.rel;
      std::error_code dec;
      FILE* f = std::fopen(dest.c_str(), part.length ? "r+b" : "wb");
      std::string err;
      bool ok = f != nullptr;
      if (!ok) err = "cannot open " + dest.string();
      if (ok && part.length && fseeko(f, static_cast<off_t>(part.offset), SEEK_SET) != 0) {
        ok = false;
        err = "cannot seek in " + dest.string();
      }
      if (ok) {
        ok = store_->download(rp.bucket, item.key, part.offset, part.length, f, &err);
        if (ok && part.length) {
          std::fflush(f);
          off_t end = ftello(f);
          if (end < 0 || static_cast<uint64_t>(end) != part.offset + part.length) {
            ok = false;
            err = "bytes " + std::to_string(part.offset) + "+" + std::to_string(part.length) + ": got " +
                  std::to_string(end < 0 ? 0 : static_cast<uint64_t>(end) - part.offset);
          }
        }
        if (std::fclose(f) != 0 && ok) {
          ok = false;
          err = "writing " + dest.string() + " failed";
        }
      }
      if (ok && !part.length) {
        auto got = fs::file_size(dest, dec);
        if (dec || got != item.size) {
          ok = false;
          err = "got " + std::to_string(dec ? 0 : got) + " of " + std::to_string(item.size) + " bytes";
        }
      }
      if (!ok) {
        if (err == kRangeIgnored) ranges_supported_ = false;  // the next attempt fetches whole files
        std::lock_guard lock(error_mutex);
        if (first_error.empty()) first_error = "downloading " + item.key + ": " + err;
        failed = true;
        return;
      }
    }
  };
  int threads = static_cast<int>(std::min<size_t>(kMaxParallelFiles, parts.size()));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (failed) {
    fs::remove_all(partial, ec);
    *error = first_error;
    return false;
  }
  // Swap the complete copy into place; the previous copy (if any) is no longer in use once a
  // version has loaded, since loading reads the files into memory.
  std::string old = root + "/.old-" + id + "-" + randomSuffix();
  fs::remove(manifest_path, ec);
  if (fs::exists(final_dir, ec)) fs::rename(final_dir, old, ec);
  fs::rename(partial, final_dir, ec);
  if (ec) {
    *error = "cannot move the download into place: " + ec.message();
    fs::remove_all(partial, ec);
    return false;
  }
  fs::remove_all(old, ec);
  {
    std::ofstream out(manifest_path, std::ios::binary);
    out << manifest;
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  MODEL_LOG(info, "Downloaded {} to {} ({} bytes in {} ms)", path, final_dir, total_bytes, ms);
  *local_dir = final_dir;
  return true;
}

}  // namespace ovms::storage
