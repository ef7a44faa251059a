// Parsers of the shape, batch_size and layout options (§7.1).
#include <gtest/gtest.h>

#include "serving/shape_config.h"

using namespace ovms;
using namespace ovms::serving;

TEST(Dimension, Printing) {
  EXPECT_EQ(Dimension::any().toString(), "-1");
  EXPECT_EQ(Dimension::fixed(3).toString(), "3");
  EXPECT_EQ(Dimension::range(200, 500).toString(), "[200~500]");
  EXPECT_EQ(dimsToString({Dimension::fixed(1), Dimension::fixed(3), Dimension::any(), Dimension::range(200, 500)}),
            "(1,3,-1,[200~500])");
  EXPECT_EQ(dimsToString({}), "()");
}

TEST(Dimension, Accepts) {
  EXPECT_TRUE(Dimension::any().accepts(0));
  EXPECT_TRUE(Dimension::any().accepts(100000));
  EXPECT_TRUE(Dimension::fixed(4).accepts(4));
  EXPECT_FALSE(Dimension::fixed(4).accepts(3));
  EXPECT_TRUE(Dimension::range(2, 5).accepts(2));
  EXPECT_TRUE(Dimension::range(2, 5).accepts(5));
  EXPECT_FALSE(Dimension::range(2, 5).accepts(1));
  EXPECT_FALSE(Dimension::range(2, 5).accepts(6));
  EXPECT_EQ(Dimension::range(2, 5).graphValue(), -1);
  EXPECT_EQ(Dimension::fixed(7).graphValue(), 7);
}

TEST(Dimension, Parse) {
  Dimension d;
  ASSERT_TRUE(parseDimension("-1", &d).ok());
  EXPECT_TRUE(d.isAny());
  ASSERT_TRUE(parseDimension(" 7 ", &d).ok());
  EXPECT_EQ(d, Dimension::fixed(7));
  ASSERT_TRUE(parseDimension("0", &d).ok());
  EXPECT_EQ(d, Dimension::fixed(0));
  ASSERT_TRUE(parseDimension("0:8", &d).ok());
  EXPECT_EQ(d, Dimension::range(0, 8));
  for (const char* bad : {"", "x", "-2", "3:3", "5:2", "1:", ":4", "1:2:3", "1.5", "+3", "99999999999999999999", "-1:4"}) {
    Status st = parseDimension(bad, &d);
    EXPECT_EQ(st.code(), StatusCode::SHAPE_WRONG_FORMAT) << bad;
  }
  // Batch dims must be positive.
  EXPECT_FALSE(parseDimension("0:8", &d, true).ok());
  EXPECT_FALSE(parseDimension("0", &d, true).ok());
  EXPECT_TRUE(parseDimension("1:8", &d, true).ok());
}

TEST(ShapeTuple, Valid) {
  Dims d;
  ASSERT_TRUE(parseShapeTuple("(1,3,224,224)", &d).ok());
  EXPECT_EQ(dimsToString(d), "(1,3,224,224)");
  ASSERT_TRUE(parseShapeTuple(" ( 1 , 3 , -1 , 200:500 ) ", &d).ok());
  EXPECT_EQ(dimsToString(d), "(1,3,-1,[200~500])");
  ASSERT_TRUE(parseShapeTuple("()", &d).ok());
  EXPECT_TRUE(d.empty());
}

TEST(ShapeTuple, Invalid) {
  Dims d;
  for (const char* bad : {"1,3", "(1,3", "1,3)", "((1,3))", "(1,,3)", "(1,3,)", "(a)", "[1,3]", "(1)(2)", "(1,-2)",
                          "(3:1)"}) {
    Status st = parseShapeTuple(bad, &d);
    EXPECT_EQ(st.code(), StatusCode::SHAPE_WRONG_FORMAT) << bad;
    EXPECT_EQ(st.message().rfind("The provided shape is in wrong format", 0), 0u) << st.message();
  }
}

TEST(ShapeConfig, Forms) {
  ShapeConfig c;
  ASSERT_TRUE(parseShapeConfig("auto", &c).ok());
  ASSERT_TRUE(c.anonymous.has_value());
  EXPECT_TRUE(c.anonymous->is_auto);

  ASSERT_TRUE(parseShapeConfig("(1,10)", &c).ok());
  ASSERT_TRUE(c.anonymous.has_value());
  EXPECT_EQ(dimsToString(c.anonymous->dims), "(1,10)");
  EXPECT_TRUE(c.named.empty());

  ASSERT_TRUE(parseShapeConfig(R"j({"a": "(1,3:5)", "b": "auto", "c": [2, 4]})j", &c).ok());
  EXPECT_FALSE(c.anonymous.has_value());
  ASSERT_EQ(c.named.size(), 3u);
  EXPECT_EQ(dimsToString(c.named["a"].dims), "(1,[3~5])");
  EXPECT_TRUE(c.named["b"].is_auto);
  EXPECT_EQ(dimsToString(c.named["c"].dims), "(2,4)");

  // The internal anonymous name is dropped with a warning.
  ASSERT_TRUE(parseShapeConfig(R"j({"ANONYMOUS_INPUT_NAME": "(1,2)", "x": "(3)"})j", &c).ok());
  EXPECT_EQ(c.named.size(), 1u);
  EXPECT_EQ(c.named.count("x"), 1u);
}

TEST(ShapeConfig, Invalid) {
  ShapeConfig c;
  for (const char* bad : {"", "automatic", "{", "[1,2]", R"j({"a": 3})j", R"j({"a": "1,2"})j", R"j({"a": [1, -1]})j",
                          R"j({"a": "(1,x)"})j", "(1,2"}) {
    EXPECT_EQ(parseShapeConfig(bad, &c).code(), StatusCode::SHAPE_WRONG_FORMAT) << bad;
  }
}

TEST(BatchSize, Forms) {
  BatchConfig b;
  ASSERT_TRUE(parseBatchSize("4", &b).ok());
  EXPECT_EQ(b.dim, Dimension::fixed(4));
  EXPECT_FALSE(b.is_auto);
  ASSERT_TRUE(parseBatchSize("auto", &b).ok());
  EXPECT_TRUE(b.is_auto);
  ASSERT_TRUE(parseBatchSize("-1", &b).ok());
  EXPECT_TRUE(b.dim.isAny());
  ASSERT_TRUE(parseBatchSize("1:8", &b).ok());
  EXPECT_EQ(b.dim, Dimension::range(1, 8));
  ASSERT_TRUE(parseBatchSize("0", &b).ok());
  EXPECT_TRUE(b.unset);
  for (const char* bad : {"", "x", "-3", "8:1", "0:4", "AUTO", "(1)", "1.5"})
    EXPECT_EQ(parseBatchSize(bad, &b).code(), StatusCode::SHAPE_WRONG_FORMAT) << bad;
}

TEST(Layout, Strings) {
  std::string u;
  for (const char* ok : {"NCHW", "nhwc", "N...", "...", "NC...", "...C", "N?HWC", "NCDHW", "??"}) {
    EXPECT_TRUE(parseLayoutString(ok, &u).ok()) << ok;
  }
  ASSERT_TRUE(parseLayoutString("nhwc", &u).ok());
  EXPECT_EQ(u, "NHWC");
  for (const char* bad : {"", "NCHX", "NN", "N......", "N..", "N.C", "N C"}) {
    Status st = parseLayoutString(bad, &u);
    EXPECT_EQ(st.code(), StatusCode::LAYOUT_WRONG_FORMAT) << bad;
    EXPECT_EQ(st.message().rfind("The provided layout is in wrong format", 0), 0u);
  }
}

TEST(Layout, Values) {
  LayoutValue v;
  ASSERT_TRUE(parseLayoutValue("NHWC:NCHW", &v).ok());
  EXPECT_EQ(v.client, "NHWC");
  EXPECT_EQ(v.model, "NCHW");
  EXPECT_TRUE(v.needsTranspose());
  EXPECT_EQ(v.modelFromClientPerm(), (std::vector<int64_t>{0, 3, 1, 2}));
  EXPECT_EQ(v.batchIndex(4), 0u);

  ASSERT_TRUE(parseLayoutValue("nchw", &v).ok());
  EXPECT_FALSE(v.needsTranspose());
  EXPECT_EQ(v.model, "NCHW");

  ASSERT_TRUE(parseLayoutValue("CN", &v).ok());
  EXPECT_EQ(v.batchIndex(2), 1u);
  ASSERT_TRUE(parseLayoutValue("...N", &v).ok());
  EXPECT_EQ(v.batchIndex(3), 2u);
  ASSERT_TRUE(parseLayoutValue("N...", &v).ok());
  EXPECT_EQ(v.batchIndex(3), 0u);
  EXPECT_FALSE(v.batchIndex(0).has_value());
  ASSERT_TRUE(parseLayoutValue("HWC", &v).ok());
  EXPECT_FALSE(v.batchIndex(3).has_value());

  for (const char* bad : {"NHWC:NCH", "NHWC:NCHD", "N...:NC", "A:B", "NCHW:NCHW:NCHW", ":NCHW", "NCHW:"})
    EXPECT_EQ(parseLayoutValue(bad, &v).code(), StatusCode::LAYOUT_WRONG_FORMAT) << bad;
}

TEST(Layout, Config) {
  LayoutConfig c;
  ASSERT_TRUE(parseLayoutConfig("NHWC:NCHW", &c).ok());
  ASSERT_TRUE(c.anonymous.has_value());
  ASSERT_TRUE(parseLayoutConfig(R"j({"in": "nhwc:nchw", "out": "CN:NC"})j", &c).ok());
  EXPECT_FALSE(c.anonymous.has_value());
  EXPECT_EQ(c.named["in"].client, "NHWC");
  EXPECT_EQ(c.named["out"].model, "NC");
  for (const char* bad : {R"j({"in": 1})j", R"j({"in": "XY"})j", "{", "NCHWX"})
    EXPECT_EQ(parseLayoutConfig(bad, &c).code(), StatusCode::LAYOUT_WRONG_FORMAT) << bad;
}
