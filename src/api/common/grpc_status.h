#pragma once
// The one conversion of an OVMS status into a gRPC status (code and text per §6.1; the mapping
// itself lives with the codes in common/status.cpp).
#include <grpcpp/support/status.h>

#include "common/status.h"

namespace ovms::api {

inline grpc::Status toGrpc(const Status& st) {
  if (st.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(st.grpcCode()), st.grpcMessage());
}

}  // namespace ovms::api
