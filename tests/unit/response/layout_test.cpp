// The layout scanners behind the byte splice: the fast pass must accept only what Boost.JSON
// accepts, find the same layout as the checked pass, and leave everything else to it.
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "esgate/response/layout.hpp"

namespace response = esgate::response;

namespace {

bool boost_accepts(const std::string& text) {
  boost::json::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = 1000;
  boost::json::parse(text, ec, {}, opts);
  return !ec;
}

std::string nested(int depth) {
  std::string s = "{\"items\":[";
  for (int i = 0; i < depth; ++i) s += "[";
  for (int i = 0; i < depth; ++i) s += "]";
  return s + "]}";
}

}  // namespace

TEST_CASE("layout: the fast pass finds what the checked pass finds") {
  const std::vector<std::string> texts = {
      R"({"errors":false,"took":7,"items":[{"create":{"_index":"a","status":201}},{"x":1}]})",
      R"( { "took" : 1 , "items" : [ ] , "errors" : true } )",
      R"({"items":[1,-0.5e+3,0,"s",true,false,null,[],{},[{"a":[1,{"b":null}]}]]})",
      R"({"items":[1],"items":[2,3]})",  // the last occurrence counts
      R"({"items":[1],"errors":1,"errors":false})",
      R"({"a":{"items":[9]},"items":[{"items":[1]}]})",  // only the root's member
      "{\"items\":[\"a string longer than sixteen bytes, to take the wide path\",\"x\"]}\n",
      nested(62),
  };
  for (const auto& t : texts) {
    INFO(t);
    auto fast = response::scan_layout_fast(t, "items");
    auto checked = response::scan_layout_checked(t, "items");
    REQUIRE(fast);
    REQUIRE(checked);
    CHECK(*fast == *checked);
  }
  auto l = response::scan_layout_fast(texts[0], "items");
  REQUIRE(l->elements.size() == 2);
  CHECK(texts[0].substr(l->elements[1].begin, l->elements[1].end - l->elements[1].begin) ==
        R"({"x":1})");
  REQUIRE(l->errors_value);
  CHECK(texts[0].substr(l->errors_value->begin, 5) == "false");
  CHECK(response::scan_layout_fast(texts[3], "items")->elements.size() == 2);
}

TEST_CASE("layout: the fast pass leaves valid JSON it does not handle to the checked pass") {
  const std::vector<std::string> texts = {
      R"({"items":["caf\u00e9"]})",                        // escapes
      "{\"items\":[\"caf\xc3\xa9\"]}",                     // non-ASCII
      R"({"it\u0065ms":[1]})",                             // an escaped key
      R"({"items":[123456789012345678901234567890123]})",  // a 33-character number
      nested(64),                                          // deeper than 64
  };
  for (const auto& t : texts) {
    INFO(t);
    CHECK_FALSE(response::scan_layout_fast(t, "items"));
    CHECK(response::scan_layout(t, "items"));
  }
  CHECK(response::scan_layout(texts[2], "items")->elements.size() == 1);
}

TEST_CASE("layout: invalid texts get no layout from either pass") {
  const std::vector<std::string> texts = {
      "",
      "[]",
      R"({"took":1})",               // no array
      R"({"items":{}})",             // not an array
      R"({"items":[1],"items":2})",  // the last occurrence is not an array
      R"({"items":[1,]})",
      R"({"items":[,1]})",
      R"({"items":[1 2]})",
      R"({"items":[01]})",
      R"({"items":[1.]})",
      R"({"items":[.5]})",
      R"({"items":[1e]})",
      R"({"items":[-]})",
      R"({"items":[+1]})",
      R"({"items":[tru]})",
      R"({"items":[nul]})",
      R"({"items":[True]})",
      R"({"items":["open]})",
      "{\"items\":[\"tab\there\"]}",
      R"({"items":[1]]})",
      R"({"items":[1}})",
      R"({"items":[1])",
      R"({"items":[1]} x)",
      R"({"items":[1]}{})",
      R"({"items" [1]})",
      R"({items:[1]})",
      R"({"items":[1],})",
      "{\"items\":[\"a string longer than sixteen bytes that never ends",
      std::string("{\"items\":[1]}\0", 14),
      nested(1001),
  };
  for (const auto& t : texts) {
    INFO(t);
    CHECK_FALSE(response::scan_layout_fast(t, "items"));
    CHECK_FALSE(response::scan_layout_checked(t, "items"));
  }
}

TEST_CASE("layout: every prefix of a valid answer is refused, whole it is accepted") {
  const std::string t =
      R"({"took":3,"errors":false,"items":[{"index":{"_id":"1","status":201,"n":-1.5E-2}},)"
      R"({"delete":{"_id":"two words here, long enough","found":true,"x":null}}]})";
  for (std::size_t n = 0; n < t.size(); ++n) {
    const std::string prefix = t.substr(0, n);
    INFO(prefix);
    CHECK_FALSE(response::scan_layout_fast(prefix, "items"));
    CHECK(boost_accepts(prefix) == response::scan_layout_checked(prefix, "items").has_value());
  }
  CHECK(response::scan_layout_fast(t, "items"));
}
