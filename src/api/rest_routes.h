#pragma once
// Parses REST request paths (§5.2, §5.7) into a route. A linear scan, no regular expressions:
// std::regex recurses once per character and a long attacker-supplied path overflowed the stack.
#include <cstddef>
#include <string_view>

namespace ovms::api {

// Paths longer than this are answered with REST_INVALID_URL before any parsing.
inline constexpr size_t kMaxRestPathBytes = 8192;

struct RestRoute {
  enum class Kind {
    NONE,            // no model route matched
    V1_STATUS,       // GET /v1/models[/{name}][/versions/{v}|/labels/{l}]
    V1_METADATA,     // GET .../metadata
    V1_ACTION,       // POST /v1/models/{name}[/versions/{v}|/labels/{l}]:{predict|classify|regress}
    V2_INFER,        // POST /v2/models/{name}[/versions/{v}]/infer
    V2_READY,        // GET  /v2/models/{name}[/versions/{v}]/ready
    V2_METADATA,     // GET  /v2/models/{name}[/versions/{v}][/]
  };
  Kind kind = Kind::NONE;
  std::string_view name;     // still URL-encoded; empty for "/v1/models"
  std::string_view version;  // digits, or empty
  std::string_view label;    // /labels/{l}, or empty
  std::string_view action;   // "predict", "classify" or "regress" for V1_ACTION
};

// Matches the same paths as OVMS's route expressions:
//   /v1/models/([^/:]+)(?:/versions/(\d+)|/labels/([^/:]+))?:(predict|classify|regress)
//   /v1/models(?:/([^/:]*))?(?:/versions/(\d+)|/labels/([^/:]+))?(/metadata)?
//   /v2/models/([^/]+)(?:/versions/(\d+))?/(infer|ready)   and   ...(?:/versions/(\d+))?/?
RestRoute parseRestRoute(std::string_view path);

}  // namespace ovms::api
