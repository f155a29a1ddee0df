// Output as Jackson writes it for Elasticsearch: escapes, Java's Double.toString, the pretty
// printer ES installs; and how ES reads the `pretty` parameter.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <charconv>
#include <cstring>
#include <limits>
#include <string>

#include "esgate/response/es_json.hpp"

namespace response = esgate::response;
namespace json = boost::json;

TEST_CASE("doubles print as Java's Double.toString") {
  struct {
    double value;
    const char* expected;
  } const cases[] = {
      {1.0, "1.0"},
      {1.5, "1.5"},
      {0.5, "0.5"},
      {2.87, "2.87"},
      {1.2345678, "1.2345678"},
      {0.2876821, "0.2876821"},  // a float _score read back as a double
      {100.0, "100.0"},
      {-2.5, "-2.5"},
      {0.0, "0.0"},
      {-0.0, "-0.0"},
      {0.001, "0.001"},
      {0.00123, "0.00123"},
      {9.99e-4, "9.99E-4"},
      {1.0e-4, "1.0E-4"},
      {1.234e-5, "1.234E-5"},
      {9999999.0, "9999999.0"},
      {9999999.5, "9999999.5"},
      {1.0e7, "1.0E7"},
      {1.23456789e8, "1.23456789E8"},
      {1.0e21, "1.0E21"},
      {-1.5e300, "-1.5E300"},
      {0.1 + 0.2, "0.30000000000000004"},
      {std::numeric_limits<double>::max(), "1.7976931348623157E308"},
      {std::numeric_limits<double>::min(), "2.2250738585072014E-308"},
      {std::numeric_limits<double>::infinity(), "\"Infinity\""},
      {-std::numeric_limits<double>::infinity(), "\"-Infinity\""},
      {std::numeric_limits<double>::quiet_NaN(), "\"NaN\""},
  };
  for (const auto& c : cases) {
    INFO(c.expected);
    CHECK(response::serialize_es(json::value(c.value), false) == c.expected);
  }
}

TEST_CASE("integers stay integers") {
  CHECK(response::serialize_es(json::value(0), false) == "0");
  CHECK(response::serialize_es(json::value(-9223372036854775807LL - 1), false) ==
        "-9223372036854775808");
  CHECK(response::serialize_es(json::value(18446744073709551615ULL), false) ==
        "18446744073709551615");
  auto v = response::parse_es("[1,-1,18446744073709551615,1.0,1e2,1E-2,12345678901234567890123]");
  REQUIRE(v);
  CHECK(response::serialize_es(*v, false) ==
        "[1,-1,18446744073709551615,1.0,100.0,0.01,1.2345678901234568E22]");
}

TEST_CASE("parse_es rounds doubles correctly") {
  const char* texts[] = {"2.87", "0.3", "123.456", "1.2345678", "2.2250738585072014e-308",
                         "1.7976931348623157e308", "9007199254740993.0", "0.1e-300",
                         "4.9406564584124654e-324", "1.00000000000000011102230246251565404e0",
                         "123456789012345678901234567890.123456789"};
  for (const char* t : texts) {
    INFO(t);
    double expected = 0;
    std::from_chars(t, t + std::strlen(t), expected);
    auto v = response::parse_es(t);
    REQUIRE(v);
    REQUIRE(v->is_double());
    CHECK(v->get_double() == expected);
  }
  CHECK(response::serialize_es(*response::parse_es("[2.87,0.3,1.1]"), false) == "[2.87,0.3,1.1]");
}

TEST_CASE("parse_es rejects what is not one JSON value") {
  const char* bad[] = {"", " ", "{", "{}{}", "{} x", "[1,]", "{'a':1}", "nul", "\"\xC3\"",
                       "// c\n{}", "[1] [2]", "\"\\u12\""};
  for (const char* t : bad) {
    INFO(t);
    CHECK_FALSE(response::parse_es(t));
  }
  CHECK(response::parse_es(" {\"a\" : [ 1 , 2 ] } \n"));
  std::string deep(900, '[');
  deep += std::string(900, ']');
  CHECK(response::parse_es(deep));  // deeper than Boost's default limit of 32
}

TEST_CASE("strings are escaped as Jackson escapes them") {
  struct {
    const char* input;
    const char* expected;
  } const cases[] = {
      {"plain", "\"plain\""},
      {"q\"b\\", "\"q\\\"b\\\\\""},
      {"a/b", "\"a/b\""},
      {"\b\t\n\f\r", "\"\\b\\t\\n\\f\\r\""},
      {"\x01\x1f\x0b", "\"\\u0001\\u001F\\u000B\""},
      {"\x7f", "\"\x7f\""},
      {"caf\xC3\xA9 \xE2\x80\xA8 \xF0\x9F\x98\x80",
       "\"caf\xC3\xA9 \xE2\x80\xA8 \xF0\x9F\x98\x80\""},
      {"<script>&", "\"<script>&\""},
  };
  for (const auto& c : cases) {
    INFO(c.expected);
    CHECK(response::serialize_es(json::value(c.input), false) == c.expected);
  }
  std::string nul("a\0b", 3);
  CHECK(response::serialize_es(json::value(nul), false) == "\"a\\u0000b\"");
  json::object o;
  o["k\"\n"] = nullptr;
  CHECK(response::serialize_es(o, false) == "{\"k\\\"\\n\":null}");
  // Escapes in the input are decoded and written Jackson's way.
  CHECK(response::serialize_es(*response::parse_es("\"\\u00e9\\/\\u001f\""), false) ==
        "\"\xC3\xA9/\\u001F\"");
}

TEST_CASE("pretty output is Jackson's DefaultPrettyPrinter as Elasticsearch configures it") {
  auto v = response::parse_es(
      "{\"took\":5,\"errors\":false,\"items\":[{\"index\":{\"_id\":\"1\",\"status\":201,"
      "\"_shards\":{}}},[],[1,2.5,null,true]],\"empty\":{},\"s\":\"x\"}");
  REQUIRE(v);
  CHECK(response::serialize_es(*v, true) ==
        "{\n"
        "  \"took\" : 5,\n"
        "  \"errors\" : false,\n"
        "  \"items\" : [\n"
        "    {\n"
        "      \"index\" : {\n"
        "        \"_id\" : \"1\",\n"
        "        \"status\" : 201,\n"
        "        \"_shards\" : { }\n"
        "      }\n"
        "    },\n"
        "    [ ],\n"
        "    [\n"
        "      1,\n"
        "      2.5,\n"
        "      null,\n"
        "      true\n"
        "    ]\n"
        "  ],\n"
        "  \"empty\" : { },\n"
        "  \"s\" : \"x\"\n"
        "}\n");
  CHECK(response::serialize_es(json::object(), true) == "{ }\n");
  CHECK(response::serialize_es(json::array(), true) == "[ ]\n");
  CHECK(response::serialize_es(json::value(1), true) == "1\n");
  CHECK(response::serialize_es(*v, false) ==
        "{\"took\":5,\"errors\":false,\"items\":[{\"index\":{\"_id\":\"1\",\"status\":201,"
        "\"_shards\":{}}},[],[1,2.5,null,true]],\"empty\":{},\"s\":\"x\"}");
}

TEST_CASE("pretty and other booleans are read as RestRequest.paramAsBoolean reads them") {
  std::string empty, t = "true", f = "false", blank = " \t", yes = "yes", upper = "TRUE",
                     one = "1", padded = " true";
  CHECK_FALSE(response::pretty_requested(nullptr));
  CHECK(response::pretty_requested(&empty));
  CHECK(response::pretty_requested(&t));
  CHECK_FALSE(response::pretty_requested(&f));
  CHECK_FALSE(response::pretty_requested(&blank));
  CHECK_FALSE(response::pretty_requested(&yes));
  CHECK_FALSE(response::pretty_requested(&upper));

  CHECK(response::param_as_boolean(nullptr, true) == true);
  CHECK(response::param_as_boolean(nullptr, false) == false);
  CHECK(response::param_as_boolean(&empty, false) == true);
  CHECK(response::param_as_boolean(&blank, true) == true);
  CHECK(response::param_as_boolean(&blank, false) == false);
  CHECK(response::param_as_boolean(&t, false) == true);
  CHECK(response::param_as_boolean(&f, true) == false);
  CHECK(response::param_as_boolean(&yes, false) == std::nullopt);
  CHECK(response::param_as_boolean(&upper, false) == std::nullopt);
  CHECK(response::param_as_boolean(&one, false) == std::nullopt);
  CHECK(response::param_as_boolean(&padded, false) == std::nullopt);
}
