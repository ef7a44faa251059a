#pragma once
// gRPC side of the API key: every method except KServe ServerLive/ServerReady starts with this.
#include <grpcpp/grpcpp.h>

#include "api/security/api_key.h"

namespace ovms::api::security {

// OK when no key is set or the call's "authorization" metadata is "Bearer <key>"; else UNAUTHENTICATED.
inline grpc::Status checkGrpcApiKey(const grpc::ServerContext* context) {
  if (!apiKeys().enabled()) return grpc::Status::OK;
  std::string_view value;
  if (context) {
    const auto& md = context->client_metadata();
    auto it = md.find("authorization");
    if (it != md.end()) value = std::string_view(it->second.data(), it->second.size());
  }
  if (apiKeys().authorized(value)) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                      value.empty() ? "Missing API key: send metadata authorization: Bearer <key>"
                                    : "Invalid API key");
}

}  // namespace ovms::api::security
