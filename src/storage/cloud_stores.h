#pragma once
// Factories of the object stores behind s3://, gs:// and azure:// (az://, azfs://) paths. Each reads
// its credentials and endpoint from the environment once, when first used.
#include <memory>

#include "storage/remote_filesystem.h"
#include "storage/sigv4.h"

namespace ovms::storage {

std::unique_ptr<ObjectStore> makeS3Store();
std::unique_ptr<ObjectStore> makeGcsStore();
std::unique_ptr<ObjectStore> makeAzureStore();

// AWS credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, else the
// AWS_PROFILE (default "default") section of AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials.
// False when there are none (anonymous requests).
bool awsCredentialsFromEnvironment(AwsCredentials* out, std::string* source);

// Azure connection-string fields (keys as written, e.g. AccountName, AccountKey, BlobEndpoint).
struct AzureConnection {
  std::string account, key_base64, sas, blob_endpoint;  // endpoint without trailing '/'
};
bool parseAzureConnectionString(const std::string& text, AzureConnection* out, std::string* error);
// The Shared Key string to sign for a Blob request (x-ms-* headers and query as given).
std::string azureSharedKeyStringToSign(const std::string& method, const std::string& account,
                                       const std::string& url_path,
                                       const std::vector<std::pair<std::string, std::string>>& x_ms_headers,
                                       const std::vector<std::pair<std::string, std::string>>& query);

// A signed RS256 JWT assertion for Google's OAuth2 token endpoint.
bool makeGoogleJwt(const std::string& client_email, const std::string& private_key_pem, const std::string& token_uri,
                   const std::string& scope, long now, std::string* jwt, std::string* error);

}  // namespace ovms::storage
