#include "api/common/json_fast.h"

namespace ovms::api::json {

namespace {
// Bodies up to this size (an image tensor as JSON is 1-3 MB) reuse one parser per thread: fresh
// buffers would cost page faults on every request; larger ones get their own parser.
constexpr size_t kThreadParserMaxBytes = 4 << 20;
}  // namespace

bool FastDocument::parse(std::string_view json, size_t capacity, simdjson::dom::element* root) {
  simdjson::dom::parser* parser;
  if (json.size() <= kThreadParserMaxBytes) {
    thread_local simdjson::dom::parser thread_parser;
    parser = &thread_parser;
  } else {
    own_ = std::make_unique<simdjson::dom::parser>();
    parser = own_.get();
  }
  const bool padded = capacity >= json.size() + simdjson::SIMDJSON_PADDING;
  return parser->parse(json.data(), json.size(), !padded).get(*root) == simdjson::SUCCESS;
}

}  // namespace ovms::api::json
