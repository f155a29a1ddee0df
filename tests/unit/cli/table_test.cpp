// The CLI's tables (esgate/cli/table.hpp), one line per case.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "esgate/cli/table.hpp"
#include "http_client.hpp"

using namespace esgate::cli;

TEST_CASE("tables pad columns to the widest cell and trim trailing spaces") {
  table t{{"id", "name"}, {{"abc", "books-reader"}, {"a", "x"}}};
  CHECK(render(t) ==
        "id   name\n"
        "---  ------------\n"
        "abc  books-reader\n"
        "a    x\n");
}

TEST_CASE("an empty table says so") {
  CHECK(render(table{{"id", "name"}, {}}) == "id  name\n--  ----\n(none)\n");
}

TEST_CASE("widths count code points, not bytes") {
  table t{{"n", "x"}, {{"é", "1"}, {"ab", "2"}}};
  CHECK(render(t) == "n   x\n--  -\né   1\nab  2\n");
}

TEST_CASE("fields are aligned key/value lines") {
  CHECK(render_fields({{"id", "X"}, {"encoded", "Y"}, {"name", ""}}) ==
        "id       X\nencoded  Y\nname\n");
}

TEST_CASE("cells and times") {
  const boost::json::value s = "a", n = nullptr, b = true, o = boost::json::object{{"k", 1}};
  CHECK(cell(&s) == "a");
  CHECK(cell(&n) == "-");
  CHECK(cell(nullptr) == "-");
  CHECK(cell(&b) == "true");
  CHECK(cell(&o) == R"({"k":1})");
  const boost::json::value ms = 1765106700000;  // 2025-12-07T11:25:00Z
  CHECK(iso_time(&ms) == "2025-12-07T11:25:00Z");
  CHECK(iso_time(nullptr) == "-");
}

TEST_CASE("query values are percent-encoded") {
  CHECK(url_encode("books reader*") == "books%20reader%2A");
  CHECK(url_encode("a-b_c.d~") == "a-b_c.d~");
  CHECK(url_encode("x&y=z") == "x%26y%3Dz");
}
