// Keep-alive values (ES TimeValue rules), scroll ids in request bodies (ES ClearScrollRequest /
// SearchScrollRequest parsing) and owner tags.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "esgate/cursor/cursor.hpp"

using namespace esgate::cursor;
using std::chrono::seconds;

TEST_CASE("parse_keep_alive: table", "[cursor][keep_alive]") {
  struct row {
    std::string in;
    std::optional<long long> secs;
  };
  const std::vector<row> rows = {
      {"1m", 60},
      {"5m", 300},
      {"30s", 30},
      {"1h", 3600},
      {"5d", 432000},
      {"1d", 86400},
      {"1000ms", 1},
      {"1001ms", 2},
      {"1500ms", 2},
      {"1ms", 1},
      {"0ms", 1},
      {"0s", 1},
      {"0", 1},
      {"000", 1},
      {"2000000micros", 2},
      {"2000001micros", 3},
      {"1nanos", 1},
      {"3000000000nanos", 3},
      {"30S", 30},  // units other than minutes are case-insensitive
      {"2H", 7200},
      {"1D", 86400},
      {"10MS", 1},
      {"1M", std::nullopt},  // months, not minutes: ES rejects it
      {" 1m", 60},           // trimmed
      {"1 m", 60},
      {"1m ", std::nullopt},  // ES matches minutes on the untrimmed value
      {" 30s ", 30},
      {"+5s", 5},
      {"-1", std::nullopt},  // no keep-alive
      {"-01", std::nullopt},
      {"-1m", std::nullopt},
      {"-2s", std::nullopt},  // negative durations are not supported
      {"-0s", 1},
      {"1.5m", std::nullopt},  // fractional time values are not supported
      {"m", std::nullopt},
      {"s", std::nullopt},
      {"", std::nullopt},
      {"5", std::nullopt},  // unit missing
      {"5y", std::nullopt},
      {"5 minutes", std::nullopt},
      {"++5s", std::nullopt},
      {"+-5s", std::nullopt},
      {"5s5s", std::nullopt},
      {"0x10s", std::nullopt},
      {"99999999999999999999s", std::nullopt},       // beyond Long: ES rejects it too
      {"9223372036854775807d", 3650LL * 86400},      // capped
      {"9223372036854775807nanos", 3650LL * 86400},  // 292 years, capped
      {"86400000000000nanos", 86400},
      {std::string("1\0m", 3), 60},  // Java trims control chars around the number too
  };
  for (const auto& r : rows) {
    INFO("'" << r.in << "'");
    auto got = parse_keep_alive(r.in);
    if (r.secs) {
      REQUIRE(got.has_value());
      CHECK(got->count() == *r.secs);
    } else {
      CHECK_FALSE(got.has_value());
    }
  }
}

TEST_CASE("scroll_ids_in_body: table", "[cursor][scroll_body]") {
  using ids = std::vector<std::string>;
  struct row {
    std::string body;
    ids expect;
  };
  const std::vector<row> rows = {
      {R"({"scroll_id":"x"})", {"x"}},
      {R"({"scroll_id":["x","y"]})", {"x", "y"}},
      // Body values are not split on commas (only the path parameter is).
      {R"({"scroll_id":"x,y"})", {"x,y"}},
      {R"({"scroll":"1m",)"
       R"("scroll_id":"DXF1ZXJ5QW5kRmV0Y2gBAAAAAAAAAD4WYm9laVYtZndUQlNsdDcwakFMNjU1QQ=="})",
       {"DXF1ZXJ5QW5kRmV0Y2gBAAAAAAAAAD4WYm9laVYtZndUQlNsdDcwakFMNjU1QQ=="}},
      {R"({"scroll_id":"\u0041\/B"})", {"A/B"}},
      {R"({"scroll_id":[]})", {}},
      {R"({})", {}},
      {R"({"scroll":"1m"})", {}},
      // ClearScrollRequest reads any scalar as its text; keep them all so none slips past.
      {R"({"scroll_id":[1,"a",true,2.50,-3e2]})", {"1", "a", "true", "2.50", "-3e2"}},
      {R"({"scroll_id":7})", {"7"}},
      {R"({"scroll_id":null})", {}},
      // A repeated key (ES rejects duplicates, but never let one hide another).
      {R"({"scroll_id":"a","scroll_id":["b"]})", {"a", "b"}},
      // Nested look-alikes are not ids.
      {R"({"x":{"scroll_id":"n"},"scroll_id":"top"})", {"top"}},
      {R"({"scroll_id":[["n"],{"scroll_id":"m"},"ok"]})", {"ok"}},
      {R"({"scroll_id":{"scroll_id":"n"},"y":"z"})", {}},
      {R"({"scroll_id_x":"n","Scroll_id":"m"})", {}},
      {"{/* c */ \"scroll_id\" : // c\n \"x\" }", {"x"}},
      {" \n{\"scroll_id\":\"x\"}\n ", {"x"}},
      // ES reads the first object only.
      {R"({"scroll_id":"a"} {"scroll_id":"b"})", {"a"}},
      // JSON but not an object: ES rejects it.
      {R"(["x"])", {}},
      {R"("x")", {}},
      // Empty body: no ids.
      {"", {}},
      {" \r\n\t", {}},
      // Not JSON (the legacy plain-text id, YAML, broken JSON): the whole body, trimmed, as
      // one id, which nobody owns.
      {"DXF1ZXJ5QW5kRmV0Y2gBAAAAAAAAAD4WYm9laVYtZndUQlNsdDcwakFMNjU1QQ==",
       {"DXF1ZXJ5QW5kRmV0Y2gBAAAAAAAAAD4WYm9laVYtZndUQlNsdDcwakFMNjU1QQ=="}},
      {"  abc\n", {"abc"}},
      {"scroll_id: x\n", {"scroll_id: x"}},
      {R"({"scroll_id":"x")", {R"({"scroll_id":"x")"}},
      {R"({"scroll_id":"x",})", {R"({"scroll_id":"x",})"}},
      {R"({"scroll_id":'x'})", {R"({"scroll_id":'x'})"}},
  };
  for (const auto& r : rows) {
    INFO(r.body);
    CHECK(scroll_ids_in_body(r.body) == r.expect);
  }
}

TEST_CASE("owner_tag and kind names", "[cursor]") {
  CHECK(owner_tag(true, "VuaCfGcBCdbkQm-e5aOx", "ignored", "ignored") ==
        "api_key:VuaCfGcBCdbkQm-e5aOx");
  CHECK(owner_tag(false, "", "default_file", "alice") == "user:default_file:alice");
  CHECK(owner_tag(false, "", "ldap1", "cn=a:b") == "user:ldap1:cn=a:b");
  // Realm names are escaped, so no (realm, user) pair can forge another's tag.
  CHECK(owner_tag(false, "", "a:b", "c") == "user:a%3Ab:c");
  CHECK(owner_tag(false, "", "a", "b:c") == "user:a:b:c");
  CHECK(owner_tag(false, "", "a%3Ab", "c") == "user:a%253Ab:c");
  CHECK(owner_tag(true, "x", "", "") != owner_tag(false, "", "api_key", "x"));

  CHECK(to_string(kind::scroll) == "scroll");
  CHECK(to_string(kind::pit) == "pit");
  CHECK(to_string(kind::async_search) == "async_search");
  CHECK(to_string(kind::eql_async) == "eql_async");
  CHECK(to_string(kind::esql_async) == "esql_async");
  CHECK(to_string(kind::sql) == "sql");
  CHECK(to_string(kind::task) == "task");
}
