// The REST route parser: the same paths as OVMS's route expressions, in linear time.
#include "api/rest_routes.h"

#include <gtest/gtest.h>

#include <string>

using ovms::api::parseRestRoute;
using Kind = ovms::api::RestRoute::Kind;

TEST(RestRoutes, V1ModelRoutes) {
  auto r = parseRestRoute("/v1/models/resnet");
  EXPECT_EQ(r.kind, Kind::V1_STATUS);
  EXPECT_EQ(r.name, "resnet");
  EXPECT_EQ(r.version, "");
  r = parseRestRoute("/v1/models/resnet/versions/12/metadata");
  EXPECT_EQ(r.kind, Kind::V1_METADATA);
  EXPECT_EQ(r.name, "resnet");
  EXPECT_EQ(r.version, "12");
  r = parseRestRoute("/v1/models/resnet/labels/stable");
  EXPECT_EQ(r.kind, Kind::V1_STATUS);
  EXPECT_EQ(r.label, "stable");
  r = parseRestRoute("/v1/models");
  EXPECT_EQ(r.kind, Kind::V1_STATUS);
  EXPECT_EQ(r.name, "");
  r = parseRestRoute("/v1/models/");
  EXPECT_EQ(r.kind, Kind::V1_STATUS);
  EXPECT_EQ(r.name, "");
  // The expression's optional name backtracks: "versions" is then a version route with no name.
  r = parseRestRoute("/v1/models/versions/3");
  EXPECT_EQ(r.kind, Kind::V1_STATUS);
  EXPECT_EQ(r.name, "");
  EXPECT_EQ(r.version, "3");
}

TEST(RestRoutes, V1Actions) {
  auto r = parseRestRoute("/v1/models/m%20x/versions/2:predict");
  EXPECT_EQ(r.kind, Kind::V1_ACTION);
  EXPECT_EQ(r.name, "m%20x");
  EXPECT_EQ(r.version, "2");
  EXPECT_EQ(r.action, "predict");
  EXPECT_EQ(parseRestRoute("/v1/models/m:classify").action, "classify");
  EXPECT_EQ(parseRestRoute("/v1/models/m/labels/l:regress").label, "l");
  EXPECT_EQ(parseRestRoute("/v1/models/m:explain").kind, Kind::NONE);
  EXPECT_EQ(parseRestRoute("/v1/models/:predict").kind, Kind::NONE);
}

TEST(RestRoutes, V1Rejects) {
  for (const char* p : {"/v1/models/m/versions/x", "/v1/models/m/versions/", "/v1/models/m/metadata/x",
                        "/v1/models/a:b", "/v1/models/m/extra", "/v1/modelsX", "/v1/models/m/labels/"})
    EXPECT_EQ(parseRestRoute(p).kind, Kind::NONE) << p;
}

TEST(RestRoutes, V2Routes) {
  auto r = parseRestRoute("/v2/models/a:b/versions/7/infer");
  EXPECT_EQ(r.kind, Kind::V2_INFER);
  EXPECT_EQ(r.name, "a:b");
  EXPECT_EQ(r.version, "7");
  EXPECT_EQ(parseRestRoute("/v2/models/m/ready").kind, Kind::V2_READY);
  EXPECT_EQ(parseRestRoute("/v2/models/m").kind, Kind::V2_METADATA);
  EXPECT_EQ(parseRestRoute("/v2/models/m/").kind, Kind::V2_METADATA);
  EXPECT_EQ(parseRestRoute("/v2/models/m/versions/1/").kind, Kind::V2_METADATA);
  for (const char* p : {"/v2/models/", "/v2/models//infer", "/v2/models/m/versions/x/infer", "/v2/models/m/infer/",
                        "/v2/models/m/labels/l/infer"})
    EXPECT_EQ(parseRestRoute(p).kind, Kind::NONE) << p;
}

TEST(RestRoutes, HugePathsAreRejectedWithoutRecursion) {
  const std::string name(1 << 20, 'A');
  EXPECT_EQ(parseRestRoute("/v1/models/" + name).kind, Kind::NONE);
  EXPECT_EQ(parseRestRoute("/v2/models/" + name + "/infer").kind, Kind::NONE);
  const std::string long_ok(ovms::api::kMaxRestPathBytes - 20, 'B');
  EXPECT_EQ(parseRestRoute("/v1/models/" + long_ok).kind, Kind::V1_STATUS);
}
