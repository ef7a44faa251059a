#include "api/common/json_fast.h"

#include "api/common/json_nesting.h"

namespace ovms::api::json {

namespace {
// Bodies up to this size (an image tensor as JSON is 1-3 MB) reuse one parser per thread: fresh
// buffers would cost page faults on every request; larger ones get their own parser.
constexpr size_t kThreadParserMaxBytes = 4 << 20;
// simdjson stops at our nesting limit itself, so the fast path needs no pre-scan: a body it
// refuses for depth goes to the rapidjson path, whose pre-scan answers JSON_INVALID.
void limitDepth(simdjson::dom::parser& parser) {
  if (parser.allocate(simdjson::dom::MINIMAL_DOCUMENT_CAPACITY, kMaxJsonDepth) != simdjson::SUCCESS) {
    // Out of memory: parse() then fails and the caller takes the rapidjson path.
  }
}

}  // namespace

bool FastDocument::parse(std::string_view json, size_t capacity, simdjson::dom::element* root) {
  simdjson::dom::parser* parser;
  if (json.size() <= kThreadParserMaxBytes) {
    thread_local simdjson::dom::parser thread_parser;
    thread_local bool depth_limited = false;
    if (!depth_limited) limitDepth(thread_parser), depth_limited = true;
    parser = &thread_parser;
  } else {
    own_ = std::make_unique<simdjson::dom::parser>();
    limitDepth(*own_);
    parser = own_.get();
  }
  if (parser->max_depth() != static_cast<size_t>(kMaxJsonDepth)) return false;
  const bool padded = capacity >= json.size() + simdjson::SIMDJSON_PADDING;
  return parser->parse(json.data(), json.size(), !padded).get(*root) == simdjson::SUCCESS;
}

}  // namespace ovms::api::json
