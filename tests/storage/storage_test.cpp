#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "storage/cloud_stores.h"
#include "storage/crypto.h"
#include "storage/filesystem.h"
#include "storage/remote_filesystem.h"
#include "storage/sigv4.h"

namespace fs = std::filesystem;
using namespace ovms::storage;

namespace {
const char* kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
}

// --- SigV4: the AWS documentation's published examples -----------------------------------------

// AWS SigV4 test suite, "get-vanilla".
TEST(SigV4, AwsTestSuiteGetVanilla) {
  SigV4Request r{"GET", "example.amazonaws.com", "/", {}, {}, kEmpty};
  AwsCredentials c{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  auto s = sigV4Sign(r, c, "us-east-1", "service", "20150830T123600Z");
  EXPECT_EQ(s.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + std::string(kEmpty));
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

// AWS SigV4 test suite, "get-vanilla-query-order-key-case": parameters are sorted.
TEST(SigV4, AwsTestSuiteQueryOrder) {
  SigV4Request r{"GET", "example.amazonaws.com", "/", {{"Param2", "value2"}, {"Param1", "value1"}}, {}, kEmpty};
  AwsCredentials c{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  auto s = sigV4Sign(r, c, "us-east-1", "service", "20150830T123600Z");
  EXPECT_EQ(s.signature, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

// S3 API reference, "Signature Calculations for the Authorization Header": GET Object with Range.
TEST(SigV4, S3DocumentationGetObject) {
  SigV4Request r{"GET", "examplebucket.s3.amazonaws.com", "/test.txt", {},
                 {{"Range", "bytes=0-9"}, {"x-amz-content-sha256", kEmpty}}, kEmpty};
  AwsCredentials c{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  auto s = sigV4Sign(r, c, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_EQ(s.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

// Same page: GET Bucket (List Objects) with max-keys and prefix.
TEST(SigV4, S3DocumentationListObjects) {
  SigV4Request r{"GET", "examplebucket.s3.amazonaws.com", "/", {{"max-keys", "2"}, {"prefix", "J"}},
                 {{"x-amz-content-sha256", kEmpty}}, kEmpty};
  AwsCredentials c{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  auto s = sigV4Sign(r, c, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_EQ(s.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, CanonicalQueryEncodesReservedCharacters) {
  EXPECT_EQ(sigV4CanonicalQuery({{"prefix", "a b/c"}, {"list-type", "2"}, {"delimiter", "/"}}),
            "delimiter=%2F&list-type=2&prefix=a%20b%2Fc");
  EXPECT_EQ(sigV4CanonicalQuery({{"continuation-token", "x+y=="}}), "continuation-token=x%2By%3D%3D");
  EXPECT_EQ(sigV4CanonicalQuery({{"prefix", ""}}), "prefix=");
}

TEST(SigV4, AmzDateFormat) {
  std::string d = amzDateNow();
  ASSERT_EQ(d.size(), 16u);
  EXPECT_EQ(d[8], 'T');
  EXPECT_EQ(d.back(), 'Z');
}

// --- encodings ----------------------------------------------------------------------------------

TEST(Crypto, UriEncode) {
  EXPECT_EQ(uriEncode("a b+c/d~e_f.g-h", false), "a%20b%2Bc%2Fd~e_f.g-h");
  EXPECT_EQ(uriEncode("a b/c", true), "a%20b/c");
  EXPECT_EQ(uriEncode("\xc3\xa9", false), "%C3%A9");
}

TEST(Crypto, Base64RoundTripAndPadding) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    std::string decoded;
    ASSERT_TRUE(base64Decode(base64Encode(s), &decoded));
    EXPECT_EQ(decoded, s);
  }
  EXPECT_EQ(base64Encode("ab"), "YWI=");
  EXPECT_EQ(base64UrlEncode("\xfb\xff"), "-_8");
  std::string out;
  EXPECT_FALSE(base64Decode("abc", &out));
}

TEST(Crypto, Sha256AndHmac) {
  EXPECT_EQ(sha256Hex(""), kEmpty);
  // RFC 4231 test case 2.
  EXPECT_EQ(hexEncode(hmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// --- Azure Shared Key -----------------------------------------------------------------------------

TEST(Azure, ConnectionStrings) {
  AzureConnection c;
  std::string err;
  ASSERT_TRUE(parseAzureConnectionString(
      "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;EndpointSuffix=core.windows.net", &c, &err));
  EXPECT_EQ(c.account, "acct");
  EXPECT_EQ(c.key_base64, "a2V5");
  EXPECT_EQ(c.blob_endpoint, "https://acct.blob.core.windows.net");

  ASSERT_TRUE(parseAzureConnectionString("UseDevelopmentStorage=true", &c, &err));
  EXPECT_EQ(c.account, "devstoreaccount1");
  EXPECT_EQ(c.blob_endpoint, "http://127.0.0.1:10000/devstoreaccount1");

  ASSERT_TRUE(parseAzureConnectionString(
      "BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=sv=2021-08-06&sig=ab%3D", &c, &err));
  EXPECT_EQ(c.sas, "sv=2021-08-06&sig=ab%3D");
  EXPECT_TRUE(c.key_base64.empty());
  EXPECT_EQ(c.blob_endpoint, "https://acct.blob.core.windows.net");

  EXPECT_FALSE(parseAzureConnectionString("DefaultEndpointsProtocol=https", &c, &err));
  EXPECT_FALSE(err.empty());
}

// The string to sign of a List Blobs request, laid out as the Shared Key documentation (and the
// bash+openssl signer that Azurite accepted here) does: 11 empty standard headers, sorted x-ms-*
// headers, then /account/path and sorted lower-case query parameters.
TEST(Azure, SharedKeyStringToSign) {
  std::string sts = azureSharedKeyStringToSign(
      "GET", "devstoreaccount1", "/devstoreaccount1/models",
      {{"x-ms-version", "2021-08-06"}, {"x-ms-date", "Fri, 27 Nov 2026 10:00:00 GMT"}},
      {{"restype", "container"}, {"comp", "list"}, {"prefix", "m/1/"}, {"delimiter", "/"}});
  EXPECT_EQ(sts,
            "GET\n\n\n\n\n\n\n\n\n\n\n\n"
            "x-ms-date:Fri, 27 Nov 2026 10:00:00 GMT\nx-ms-version:2021-08-06\n"
            "/devstoreaccount1/devstoreaccount1/models\ncomp:list\ndelimiter:/\nprefix:m/1/\nrestype:container");
}

// --- GCS service-account JWT ----------------------------------------------------------------------

namespace {
std::string makeRsaKeyPem(EVP_PKEY** keep) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, len);
  BIO_free(bio);
  *keep = key;
  return pem;
}
std::string base64UrlDecode(std::string s) {
  for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4) s += '=';
  std::string out;
  base64Decode(s, &out);
  return out;
}
}  // namespace

TEST(Jwt, SignedAssertionVerifiesWithThePublicKey) {
  EVP_PKEY* key = nullptr;
  std::string pem = makeRsaKeyPem(&key);
  std::string jwt, err;
  ASSERT_TRUE(makeGoogleJwt("sa@proj.iam.gserviceaccount.com", pem, "http://127.0.0.1:1/token",
                            "https://www.googleapis.com/auth/devstorage.read_only", 1700000000, &jwt, &err))
      << err;
  auto d1 = jwt.find('.'), d2 = jwt.rfind('.');
  ASSERT_NE(d1, d2);
  std::string header = base64UrlDecode(jwt.substr(0, d1));
  std::string claims = base64UrlDecode(jwt.substr(d1 + 1, d2 - d1 - 1));
  EXPECT_NE(header.find("\"RS256\""), std::string::npos);
  EXPECT_NE(claims.find("\"iss\":\"sa@proj.iam.gserviceaccount.com\""), std::string::npos);
  EXPECT_NE(claims.find("\"aud\":\"http://127.0.0.1:1/token\""), std::string::npos);
  EXPECT_NE(claims.find("\"exp\":1700003600"), std::string::npos);
  std::string sig = base64UrlDecode(jwt.substr(d2 + 1));
  std::string input = jwt.substr(0, d2);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key), 1);
  EXPECT_EQ(EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  // A changed claim no longer verifies (the check can fail).
  std::string tampered = input;
  tampered[tampered.size() - 2] ^= 1;
  ASSERT_EQ(EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key), 1);
  EXPECT_NE(EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(tampered.data()), tampered.size()),
            1);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
}

TEST(Jwt, BadKeyIsAnErrorNotACrash) {
  std::string jwt, err;
  EXPECT_FALSE(makeGoogleJwt("a@b", "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n", "u", "s", 1,
                             &jwt, &err));
  EXPECT_FALSE(err.empty());
}

// --- schemes and paths ----------------------------------------------------------------------------

TEST(Schemes, Detection) {
  EXPECT_EQ(schemeOf("/models/a"), "");
  EXPECT_EQ(schemeOf("models/a"), "");
  EXPECT_EQ(schemeOf("s3://b/m"), "s3");
  EXPECT_EQ(schemeOf("gs://b/m"), "gs");
  EXPECT_EQ(schemeOf("foo://b/m"), "foo");
  EXPECT_EQ(schemeOf("/a/b://c"), "");
  EXPECT_TRUE(isSupportedScheme("azfs"));
  EXPECT_TRUE(isSupportedScheme("az"));
  EXPECT_FALSE(isSupportedScheme("foo"));
  EXPECT_EQ(fileSystemFor("foo://b/m"), nullptr);
  EXPECT_NE(fileSystemFor("/tmp"), nullptr);
  std::string msg = unsupportedSchemeMessage("foo://bucket/model");
  EXPECT_NE(msg.find("\"foo://\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("Unsupported"), std::string::npos) << msg;
}

TEST(Schemes, RemotePathParsing) {
  RemotePath p;
  ASSERT_TRUE(parseRemotePath("s3://bucket/a/b/", &p));
  EXPECT_EQ(p.scheme, "s3");
  EXPECT_EQ(p.bucket, "bucket");
  EXPECT_EQ(p.prefix, "a/b");
  ASSERT_TRUE(parseRemotePath("gs://bucket", &p));
  EXPECT_EQ(p.prefix, "");
  EXPECT_FALSE(parseRemotePath("s3:///x", &p));
}

// --- the download cache, against an in-memory object store ----------------------------------------

namespace {
// Stands in for a cloud API (the emulators are exercised by tests/e2e/test_cloud_*.py).
class MemoryStore : public ObjectStore {
 public:
  std::map<std::string, std::string> objects;  // "bucket/key" -> bytes
  std::string fail_key;                        // a key whose download fails halfway
  std::atomic<int> downloads{0};
  std::string scheme() const override { return "mem"; }
  bool list(const std::string& bucket, const std::string& prefix, bool delimited, ObjectListing* out,
            std::string* error) override {
    if (bucket == "missing") {
      *error = "HTTP 404 NoSuchBucket";
      return false;
    }
    std::set<std::string> prefixes;
    for (const auto& [full, data] : objects) {
      std::string key = full.substr(bucket.size() + 1);
      if (full.compare(0, bucket.size() + 1, bucket + "/") != 0 || key.compare(0, prefix.size(), prefix) != 0) continue;
      std::string rest = key.substr(prefix.size());
      if (delimited && rest.find('/') != std::string::npos) {
        prefixes.insert(prefix + rest.substr(0, rest.find('/') + 1));
        continue;
      }
      out->objects.push_back({key, data.size(), std::to_string(std::hash<std::string>()(data))});
    }
    out->prefixes.assign(prefixes.begin(), prefixes.end());
    return true;
  }
  std::atomic<int> in_flight{0}, max_in_flight{0};
  int delay_ms = 0;
  bool ranges = true;             // false: answers a ranged request as a server without Range support
  std::atomic<int> ranged_requests{0};
  bool download(const std::string& bucket, const std::string& key, uint64_t offset, uint64_t length, FILE* file,
                std::string* error) override {
    ++downloads;
    int now = ++in_flight;
    for (int seen = max_in_flight; now > seen && !max_in_flight.compare_exchange_weak(seen, now);) {
    }
    if (delay_ms) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    --in_flight;
    const std::string& data = objects.at(bucket + "/" + key);
    if (length > 0) {
      ++ranged_requests;
      if (!ranges) {
        *error = "the server ignored the Range header";
        return false;
      }
      fwrite(data.data() + offset, 1, length, file);
      return true;
    }
    if (key == fail_key) {
      fwrite(data.data(), 1, data.size() / 2, file);
      *error = "Failure when receiving data from the peer";
      return false;
    }
    fwrite(data.data(), 1, data.size(), file);
    return true;
  }
};

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

TEST(RemoteFileSystem, ListsVersionsAndDownloadsAFolderWhole) {
  auto* store = new MemoryStore;
  store->objects = {{"b/m/1/model.onnx", "one"},        {"b/m/1/sub/extra.bin", std::string(100000, 'x')},
                    {"b/m/2/model.onnx", "two"},        {"b/m/readme.txt", "r"},
                    {"b/other/1/model.onnx", "other"}};
  RemoteFileSystem rfs{std::unique_ptr<ObjectStore>(store)};
  std::vector<std::string> dirs;
  ASSERT_TRUE(rfs.listDirectories("mem://b/m", &dirs));
  std::sort(dirs.begin(), dirs.end());
  EXPECT_EQ(dirs, (std::vector<std::string>{"1", "2"}));
  EXPECT_TRUE(rfs.isDirectory("mem://b/m"));
  EXPECT_FALSE(rfs.isDirectory("mem://b/nothing"));
  EXPECT_FALSE(rfs.listDirectories("mem://missing/m", &dirs));
  EXPECT_NE(rfs.lastError("mem://missing/m").find("NoSuchBucket"), std::string::npos);

  std::string local;
  ASSERT_TRUE(rfs.localCopy(rfs.join("mem://b/m", "1"), &local));
  EXPECT_EQ(readAll(local + "/model.onnx"), "one");
  EXPECT_EQ(readAll(local + "/sub/extra.bin").size(), 100000u);
  EXPECT_FALSE(fs::exists(local + "/readme.txt"));
  int after_first = store->downloads;
  // Unchanged: the complete copy is reused without downloading again.
  std::string again;
  ASSERT_TRUE(rfs.localCopy("mem://b/m/1", &again));
  EXPECT_EQ(again, local);
  EXPECT_EQ(store->downloads, after_first);
  // Changed content: downloaded again into the same place.
  store->objects["b/m/1/model.onnx"] = "ONE!";
  ASSERT_TRUE(rfs.localCopy("mem://b/m/1", &again));
  EXPECT_EQ(readAll(again + "/model.onnx"), "ONE!");
}

TEST(RemoteFileSystem, AFailedDownloadLeavesNothingBehindAndBacksOff) {
  auto* store = new MemoryStore;
  store->objects = {{"b/m/3/model.onnx", std::string(5000, 'a')}, {"b/m/3/weights.bin", std::string(9000, 'w')}};
  store->fail_key = "m/3/weights.bin";
  RemoteFileSystem rfs{std::unique_ptr<ObjectStore>(store)};
  std::string local;
  EXPECT_FALSE(rfs.localCopy("mem://b/m/3", &local));
  EXPECT_NE(rfs.lastError("mem://b/m/3").find("weights.bin"), std::string::npos);
  // Neither a partial nor a final directory of this version exists in the cache.
  for (const auto& e : fs::directory_iterator(cacheRoot())) {
    std::string name = e.path().filename().string();
    EXPECT_EQ(name.find(".partial-"), std::string::npos) << name;
  }
  // Within the backoff window the next attempt does not even reach the store.
  store->fail_key.clear();
  int before = store->downloads;
  EXPECT_FALSE(rfs.localCopy("mem://b/m/3", &local));
  EXPECT_EQ(store->downloads, before);
}

TEST(RemoteFileSystem, KeysThatEscapeTheFolderAreRejected) {
  auto* store = new MemoryStore;
  store->objects = {{"b/m/4/../../evil", "x"}};
  RemoteFileSystem rfs{std::unique_ptr<ObjectStore>(store)};
  std::string local;
  EXPECT_FALSE(rfs.localCopy("mem://b/m/4", &local));
  EXPECT_NE(rfs.lastError("mem://b/m/4").find("does not name a file"), std::string::npos);
}

TEST(RemoteFileSystem, PrefetchDownloadsVersionsConcurrently) {
  auto* store = new MemoryStore;
  store->delay_ms = 200;
  store->objects = {{"b/p/1/model.onnx", "1"}, {"b/p/2/model.onnx", "2"}, {"b/p/3/model.onnx", "3"}};
  RemoteFileSystem rfs{std::unique_ptr<ObjectStore>(store)};
  rfs.prefetch({"mem://b/p/1", "mem://b/p/2", "mem://b/p/3"});
  EXPECT_EQ(store->downloads, 3);
  EXPECT_GE(store->max_in_flight, 2);  // one file per version: only concurrent versions overlap
  // The complete copies are there: localCopy finds them without downloading again.
  for (int v = 1; v <= 3; ++v) {
    std::string local;
    ASSERT_TRUE(rfs.localCopy("mem://b/p/" + std::to_string(v), &local));
    EXPECT_EQ(readAll(local + "/model.onnx"), std::to_string(v));
  }
  EXPECT_EQ(store->downloads, 3);
}

TEST(RemoteFileSystem, LargeFilesArriveInRangedParts) {
  auto* store = new MemoryStore;
  std::string big(65 * 1024 * 1024 + 7, '\0');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>(i / 4096);
  store->objects = {{"b/r/1/model.onnx", "small"}, {"b/r/1/weights.bin", big}};
  RemoteFileSystem rfs{std::unique_ptr<ObjectStore>(store)};
  std::string local;
  ASSERT_TRUE(rfs.localCopy("mem://b/r/1", &local));
  EXPECT_EQ(store->ranged_requests, 3);  // 32 + 32 + 1 MiB (+7 bytes)
  EXPECT_TRUE(readAll(local + "/weights.bin") == big);
  EXPECT_EQ(readAll(local + "/model.onnx"), "small");
}

TEST(RemoteFileSystem, AServerWithoutRangesGetsWholeFilesOnTheNextAttempt) {
  auto* store = new MemoryStore;
  store->ranges = false;
  std::string big(40 * 1024 * 1024, 'z');
  store->objects = {{"b/s/1/weights.bin", big}};
  RemoteFileSystem rfs{std::unique_ptr<ObjectStore>(store)};
  std::string local;
  EXPECT_FALSE(rfs.localCopy("mem://b/s/1", &local));
  EXPECT_NE(rfs.lastError("mem://b/s/1").find("Range"), std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the first backoff step
  ASSERT_TRUE(rfs.localCopy("mem://b/s/1", &local)) << rfs.lastError("mem://b/s/1");
  EXPECT_EQ(readAll(local + "/weights.bin").size(), big.size());
}

TEST(RemoteFileSystem, CopiesOfFoldersDeletedRemotelyAreRemoved) {
  auto* store = new MemoryStore;
  store->objects = {{"b/d/1/model.onnx", "1"}, {"b/d/2/model.onnx", "2"}};
  RemoteFileSystem rfs{std::unique_ptr<ObjectStore>(store)};
  std::string one, two;
  ASSERT_TRUE(rfs.localCopy(rfs.join("mem://b/d", "1"), &one));
  ASSERT_TRUE(rfs.localCopy(rfs.join("mem://b/d", "2"), &two));
  store->objects.erase("b/d/2/model.onnx");
  std::vector<std::string> dirs;
  ASSERT_TRUE(rfs.listDirectories("mem://b/d", &dirs));
  EXPECT_EQ(dirs, std::vector<std::string>{"1"});
  EXPECT_TRUE(fs::exists(one + "/model.onnx"));
  EXPECT_FALSE(fs::exists(two));
  // A listing that fails removes nothing.
  store->objects.clear();
  EXPECT_FALSE(rfs.listDirectories("mem://missing/d", &dirs));
  EXPECT_TRUE(fs::exists(one));
}
