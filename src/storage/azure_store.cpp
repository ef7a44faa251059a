// azure://container/prefix (also az://, azfs://) over the Azure Blob REST API (List Blobs + Get
// Blob), authorised with Shared Key, a SAS token, or anonymously (public containers).
#include <pugixml.hpp>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <map>

#include "common/logging.h"
#include "storage/cloud_stores.h"
#include "storage/crypto.h"
#include "storage/http_client.h"

namespace ovms::storage {
namespace {

const char* kApiVersion = "2021-08-06";
// The storage emulator's published development account (UseDevelopmentStorage=true).
const char* kDevAccount = "devstoreaccount1";
const char* kDevKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

std::string azureError(const HttpResponse& r) {
  if (!r.transport_error.empty()) return r.transport_error;
  std::string text = "HTTP " + std::to_string(r.status);
  pugi::xml_document doc;
  // Only Code and the first line of Message: AuthenticationErrorDetail echoes the string to sign.
  if (doc.load_string(r.body.c_str())) {
    auto e = doc.child("Error");
    std::string code = e.child_value("Code"), message = e.child_value("Message");
    message = message.substr(0, message.find('\n'));
    if (!code.empty()) text += " " + code;
    if (!message.empty()) text += ": " + message;
  }
  return text;
}

std::string httpDate() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
                months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

class AzureStore : public ObjectStore {
 public:
  AzureStore() {
    const char* cs = std::getenv("AZURE_STORAGE_CONNECTION_STRING");
    if (!cs || !*cs) {
      config_error_ = "AZURE_STORAGE_CONNECTION_STRING is not set";
      MODEL_LOG(warn, "Azure storage: {}", config_error_);
      return;
    }
    if (!parseAzureConnectionString(cs, &conn_, &config_error_)) {
      MODEL_LOG(err, "Azure storage: invalid AZURE_STORAGE_CONNECTION_STRING: {}", config_error_);
      return;
    }
    if (!conn_.key_base64.empty() && !base64Decode(conn_.key_base64, &key_)) {
      config_error_ = "AccountKey is not valid base64";
      MODEL_LOG(err, "Azure storage: invalid AZURE_STORAGE_CONNECTION_STRING: {}", config_error_);
      return;
    }
    MODEL_LOG(info, "Azure storage: endpoint {}, account {}, {}", conn_.blob_endpoint, conn_.account,
              !key_.empty() ? "Shared Key" : !conn_.sas.empty() ? "SAS token" : "anonymous");
  }
  std::string scheme() const override { return "azure"; }

  bool list(const std::string& container, const std::string& prefix, bool delimited, ObjectListing* out,
            std::string* error) override {
    if (!config_error_.empty()) {
      *error = config_error_;
      return false;
    }
    std::string marker;
    for (int page = 0; page < 100000; ++page) {
      std::vector<std::pair<std::string, std::string>> query{{"comp", "list"}, {"restype", "container"}};
      if (!prefix.empty()) query.emplace_back("prefix", prefix);
      if (delimited) query.emplace_back("delimiter", "/");
      if (!marker.empty()) query.emplace_back("marker", marker);
      HttpResponse r = send(container, "", query, nullptr, 120);
      if (!r.ok()) {
        *error = "listing container \"" + container + "\" prefix \"" + prefix + "\": " + azureError(r);
        return false;
      }
      pugi::xml_document doc;
      if (!doc.load_string(r.body.c_str())) {
        *error = "listing container \"" + container + "\": the response is not XML";
        return false;
      }
      auto root = doc.child("EnumerationResults");
      for (auto b : root.child("Blobs").children("Blob")) {
        ObjectInfo o;
        o.key = b.child_value("Name");
        auto props = b.child("Properties");
        o.size = std::strtoull(props.child_value("Content-Length"), nullptr, 10);
        o.etag = props.child_value("Etag");
        out->objects.push_back(std::move(o));
      }
      for (auto p : root.child("Blobs").children("BlobPrefix")) out->prefixes.push_back(p.child_value("Name"));
      marker = root.child_value("NextMarker");
      if (marker.empty()) return true;
    }
    *error = "listing container \"" + container + "\": too many pages";
    return false;
  }

  bool download(const std::string& container, const std::string& blob, uint64_t offset, uint64_t length, FILE* file,
                std::string* error) override {
    if (!config_error_.empty()) {
      *error = config_error_;
      return false;
    }
    HttpResponse r = send(container, blob, {}, file, 0, offset, length);
    if (!r.ok()) {
      *error = azureError(r);
      return false;
    }
    return true;
  }

 private:
  HttpResponse send(const std::string& container, const std::string& blob,
                    std::vector<std::pair<std::string, std::string>> query, FILE* sink, long total_timeout,
                    uint64_t offset = 0, uint64_t length = 0) {
    std::string endpoint_path;  // the path part of the endpoint ("/devstoreaccount1" for the emulator)
    auto scheme_end = conn_.blob_endpoint.find("://");
    auto path_start = conn_.blob_endpoint.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
    if (path_start != std::string::npos) endpoint_path = conn_.blob_endpoint.substr(path_start);
    std::string resource = "/" + uriEncode(container, false) + (blob.empty() ? "" : "/" + uriEncode(blob, true));
    std::string url_path = endpoint_path + resource;
    std::string query_text;
    for (const auto& [k, v] : query) query_text += (query_text.empty() ? "" : "&") + uriEncode(k, false) + "=" + uriEncode(v, false);
    if (!conn_.sas.empty() && key_.empty()) query_text += (query_text.empty() ? "" : "&") + conn_.sas;
    HttpRequest req;
    req.url = conn_.blob_endpoint + resource + (query_text.empty() ? "" : "?" + query_text);
    req.total_timeout_s = total_timeout;
    std::string date = httpDate();
    std::vector<std::pair<std::string, std::string>> ms{{"x-ms-date", date}, {"x-ms-version", kApiVersion}};
    if (length > 0) {
      // x-ms-range rather than Range: it is signed as an x-ms-* header.
      ms.emplace_back("x-ms-range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1));
      req.expect_partial = true;
    }
    for (const auto& [k, v] : ms) req.headers.push_back(k + ": " + v);
    if (!key_.empty()) {
      std::string sts = azureSharedKeyStringToSign("GET", conn_.account, url_path, ms, query);
      req.headers.push_back("Authorization: SharedKey " + conn_.account + ":" + base64Encode(hmacSha256(key_, sts)));
    }
    return httpPerform(req, sink);
  }

  AzureConnection conn_;
  std::string key_;
  std::string config_error_;
};

}  // namespace

bool parseAzureConnectionString(const std::string& text, AzureConnection* out, std::string* error) {
  std::map<std::string, std::string> kv;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(';', start);
    std::string part = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    auto eq = part.find('=');
    if (eq != std::string::npos) kv[part.substr(0, eq)] = part.substr(eq + 1);  // values may contain '='
    if (end == std::string::npos) break;
    start = end + 1;
  }
  AzureConnection c;
  if (kv["UseDevelopmentStorage"] == "true") {
    c.account = kDevAccount;
    c.key_base64 = kDevKey;
    std::string proxy = kv.count("DevelopmentStorageProxyUri") ? kv["DevelopmentStorageProxyUri"] : "http://127.0.0.1";
    c.blob_endpoint = proxy + ":10000/" + kDevAccount;
  }
  if (kv.count("AccountName")) c.account = kv["AccountName"];
  if (kv.count("AccountKey")) c.key_base64 = kv["AccountKey"];
  if (kv.count("SharedAccessSignature")) {
    c.sas = kv["SharedAccessSignature"];
    if (!c.sas.empty() && c.sas.front() == '?') c.sas.erase(0, 1);
  }
  if (kv.count("BlobEndpoint")) {
    c.blob_endpoint = kv["BlobEndpoint"];
  } else if (c.blob_endpoint.empty()) {
    if (c.account.empty()) {
      *error = "neither BlobEndpoint nor AccountName is given";
      return false;
    }
    std::string protocol = kv.count("DefaultEndpointsProtocol") ? kv["DefaultEndpointsProtocol"] : "https";
    std::string suffix = kv.count("EndpointSuffix") ? kv["EndpointSuffix"] : "core.windows.net";
    c.blob_endpoint = protocol + "://" + c.account + ".blob." + suffix;
  }
  while (!c.blob_endpoint.empty() && c.blob_endpoint.back() == '/') c.blob_endpoint.pop_back();
  if (!c.key_base64.empty() && c.account.empty()) {
    *error = "AccountKey is given without AccountName";
    return false;
  }
  *out = c;
  return true;
}

std::string azureSharedKeyStringToSign(const std::string& method, const std::string& account,
                                       const std::string& url_path,
                                       const std::vector<std::pair<std::string, std::string>>& x_ms_headers,
                                       const std::vector<std::pair<std::string, std::string>>& query) {
  // VERB, then Content-Encoding, Content-Language, Content-Length, Content-MD5, Content-Type, Date,
  // If-Modified-Since, If-Match, If-None-Match, If-Unmodified-Since, Range: all empty for a GET.
  std::string sts = method + "\n";
  for (int i = 0; i < 11; ++i) sts += "\n";
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [k, v] : x_ms_headers) {
    std::string name = k;
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    headers.emplace_back(name, v);
  }
  std::sort(headers.begin(), headers.end());
  for (const auto& [k, v] : headers) sts += k + ":" + v + "\n";
  sts += "/" + account + url_path;
  std::map<std::string, std::vector<std::string>> params;
  for (const auto& [k, v] : query) {
    std::string name = k;
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    params[name].push_back(v);
  }
  for (auto& [k, values] : params) {
    std::sort(values.begin(), values.end());
    sts += "\n" + k + ":";
    for (size_t i = 0; i < values.size(); ++i) sts += (i ? "," : "") + values[i];
  }
  return sts;
}

std::unique_ptr<ObjectStore> makeAzureStore() { return std::make_unique<AzureStore>(); }

}  // namespace ovms::storage
