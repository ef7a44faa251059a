#include "api/rest_routes.h"

namespace ovms::api {
namespace {

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Longest prefix of s made of characters not in stop (at least min_len of them).
bool takeSegment(std::string_view* s, std::string_view stop, size_t min_len, std::string_view* out) {
  size_t n = s->find_first_of(stop);
  if (n == std::string_view::npos) n = s->size();
  if (n < min_len) return false;
  *out = s->substr(0, n);
  s->remove_prefix(n);
  return true;
}

bool takeDigits(std::string_view* s, std::string_view* out) {
  size_t n = 0;
  while (n < s->size() && (*s)[n] >= '0' && (*s)[n] <= '9') ++n;
  if (n == 0) return false;
  *out = s->substr(0, n);
  s->remove_prefix(n);
  return true;
}

// (?:/versions/(\d+)|/labels/([^/:]+))? ; the label form only for /v1.
void takeVersionOrLabel(std::string_view* s, bool labels, RestRoute* route) {
  std::string_view rest = *s;
  if (startsWith(rest, "/versions/")) {
    rest.remove_prefix(10);
    if (takeDigits(&rest, &route->version)) *s = rest;
    return;
  }
  if (labels && startsWith(rest, "/labels/")) {
    rest.remove_prefix(8);
    if (takeSegment(&rest, "/:", 1, &route->label)) *s = rest;
  }
}

RestRoute parseV1(std::string_view rest) {
  RestRoute route;
  // POST form: "/{name}...:{action}"
  if (startsWith(rest, "/")) {
    std::string_view s = rest.substr(1);
    RestRoute r;
    if (takeSegment(&s, "/:", 1, &r.name)) {
      takeVersionOrLabel(&s, true, &r);
      if (startsWith(s, ":")) {
        s.remove_prefix(1);
        if (s == "predict" || s == "classify" || s == "regress") {
          r.kind = RestRoute::Kind::V1_ACTION;
          r.action = s;
          return r;
        }
      }
    }
  }
  // GET form, with the optional name tried first as the expression's backtracking does.
  auto getForm = [](std::string_view s, RestRoute r) {
    takeVersionOrLabel(&s, true, &r);
    if (s.empty()) {
      r.kind = RestRoute::Kind::V1_STATUS;
    } else if (s == "/metadata") {
      r.kind = RestRoute::Kind::V1_METADATA;
    }
    return r;
  };
  if (startsWith(rest, "/")) {
    std::string_view s = rest.substr(1);
    RestRoute r;
    takeSegment(&s, "/:", 0, &r.name);
    r = getForm(s, r);
    if (r.kind != RestRoute::Kind::NONE) return r;
  }
  return getForm(rest, RestRoute{});
}

RestRoute parseV2(std::string_view rest) {
  RestRoute r;
  if (!startsWith(rest, "/")) return r;
  rest.remove_prefix(1);
  if (!takeSegment(&rest, "/", 1, &r.name)) return r;
  takeVersionOrLabel(&rest, false, &r);
  if (rest == "/infer") {
    r.kind = RestRoute::Kind::V2_INFER;
  } else if (rest == "/ready") {
    r.kind = RestRoute::Kind::V2_READY;
  } else if (rest.empty() || rest == "/") {
    r.kind = RestRoute::Kind::V2_METADATA;
  }
  return r;
}

}  // namespace

RestRoute parseRestRoute(std::string_view path) {
  if (path.size() > kMaxRestPathBytes) return {};
  if (startsWith(path, "/v1/models")) return parseV1(path.substr(10));
  if (startsWith(path, "/v2/models")) return parseV2(path.substr(10));
  return {};
}

}  // namespace ovms::api
