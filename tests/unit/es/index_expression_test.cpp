#include "esgate/es/index_expression.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace std::chrono;
using esgate::es::expand_wildcards;
using esgate::es::index_item;
using esgate::es::item_kind;
using esgate::es::narrow;
using esgate::es::parse_index_expression;

// 2024-03-15T22:45:30Z
const auto now = sys_days{year{2024} / month{3} / day{15}} + hours{22} + minutes{45} + seconds{30};

constexpr auto lit = item_kind::literal;
constexpr auto wild = item_kind::wildcard;
constexpr auto excl = item_kind::exclusion;
constexpr auto all = item_kind::all;
constexpr auto dm = item_kind::date_math_resolved;

struct parse_ok {
  std::string expression;
  std::vector<index_item> items;
};

struct parse_err {
  std::string expression;
  std::string type;
  std::string reason_part;
};

const std::vector<parse_ok> parsed = {
    {"books", {{lit, "books"}}},
    {"books,secret", {{lit, "books"}, {lit, "secret"}}},
    {"_all", {{all, "_all"}}},
    {"*", {{wild, "*"}}},
    {"logs-*", {{wild, "logs-*"}}},
    {"*,-books", {{wild, "*"}, {excl, "books"}}},
    {"logs-*,-logs-old*", {{wild, "logs-*"}, {excl, "logs-old*"}}},
    {"logs-*,books,-books", {{wild, "logs-*"}, {lit, "books"}, {excl, "books"}}},
    {".kibana", {{lit, ".kibana"}}},  // reads of dot names are legal syntax
    {".security-*", {{wild, ".security-*"}}},
    {"<secret-{now/d}>", {{dm, "secret-2024.03.15"}}},
    {"<logs-{now/M{yyyy.MM}}>,books", {{dm, "logs-2024.03"}, {lit, "books"}}},
    {"<x-{now/d{yyyy.MM.dd|+12:00}}>", {{dm, "x-2024.03.16"}}},  // `:` inside date math is fine
    {"*,-<logs-{now/d}>", {{wild, "*"}, {excl, "logs-2024.03.15"}}},
    {"<logs-*-{now/d}>", {{wild, "logs-*-2024.03.15"}}},  // resolved `*` is a wildcard
    {"logs-*,-*", {{wild, "logs-*"}, {excl, "*"}}},
    {"a*b*c", {{wild, "a*b*c"}}},
    {"caf\xC3\xA9", {{lit, "caf\xC3\xA9"}}},
    {std::string(255, 'a'), {{lit, std::string(255, 'a')}}},
};

const std::vector<parse_err> parse_errors = {
    {"", "illegal_argument_exception", "must not be empty"},
    {"books,,secret", "illegal_argument_exception", "empty index name"},
    {",books", "illegal_argument_exception", "empty index name"},
    {"books,", "illegal_argument_exception", "empty index name"},
    {"*,-", "illegal_argument_exception", "empty exclusion"},
    // `-x` before any wildcard is the literal `-x`, which is not a valid name.
    {"-books", "invalid_index_name_exception", "Invalid index name [-books], must not start with"},
    {"-books,*", "invalid_index_name_exception", "must not start with '_', '-', or '+'"},
    {"_all,books", "invalid_index_name_exception", "Invalid index name [_all]"},
    {"books,_all", "invalid_index_name_exception", "Invalid index name [_all]"},
    {"*,-_all", "invalid_index_name_exception", "must not start with"},
    {"_secret", "invalid_index_name_exception", "must not start with"},
    {"+books", "invalid_index_name_exception", "must not start with"},
    {"+logs*", "invalid_index_name_exception", "must not start with"},
    {"Books", "invalid_index_name_exception", "Invalid index name [Books], must be lowercase"},
    {"books,SECRET", "invalid_index_name_exception", "must be lowercase"},
    {".", "invalid_index_name_exception", "must not be '.' or '..'"},
    {"..", "invalid_index_name_exception", "must not be '.' or '..'"},
    {"bo oks", "invalid_index_name_exception", "must not contain the following characters"},
    {"books?", "invalid_index_name_exception", "must not contain the following characters"},
    {"bo\\oks", "invalid_index_name_exception", "must not contain the following characters"},
    {"bo/oks", "invalid_index_name_exception", "must not contain the following characters"},
    {"bo\"oks", "invalid_index_name_exception", "must not contain the following characters"},
    {"bo|oks", "invalid_index_name_exception", "must not contain the following characters"},
    {"bo<oks", "invalid_index_name_exception", "must not contain the following characters"},
    {"books#1", "invalid_index_name_exception", "must not contain '#'"},
    {"logs-?", "invalid_index_name_exception", "must not contain the following characters"},
    {"logs-* ", "invalid_index_name_exception", "must not contain the following characters"},
    {"books\x01", "invalid_index_name_exception", "control characters"},
    {std::string("bo\0ks", 5), "invalid_index_name_exception", "control characters"},
    {"caf\xC3", "invalid_index_name_exception", "invalid UTF-8"},
    {"\xC0\xAF", "invalid_index_name_exception", "invalid UTF-8"},
    {std::string(256, 'a'), "invalid_index_name_exception", "index name is too long, (256 > 255)"},
    {"cluster:books", "illegal_argument_exception", "remote indices are not supported"},
    {"*:logs-*", "illegal_argument_exception", "remote indices are not supported"},
    {"books,cluster:secret", "illegal_argument_exception", "remote indices are not supported"},
    {"*,-cluster:secret", "illegal_argument_exception", "remote indices are not supported"},
    {"logs::failures", "illegal_argument_exception", "selectors"},
    {"logs-*::data", "illegal_argument_exception", "selectors"},
    {"<logs-{now/d}>::failures", "illegal_argument_exception", "selectors"},
    {"<logs-{now/d{HH:mm}}>", "invalid_index_name_exception", "must not contain ':'"},
    {"<Logs-{now/d}>", "invalid_index_name_exception", "must be lowercase"},
    {"<_x{now/d}>", "invalid_index_name_exception", "must not start with"},
    {"<logs-{now/q}>", "parse_exception", "unit [q] not supported"},
    {"<.mar}vel-{now/d}>", "parse_exception", "invalid dynamic name expression"},
    {"<logs-{now/d{YYYY}}>", "illegal_argument_exception", "unsupported pattern letters"},
};

}  // namespace

TEST_CASE("index expressions parse into ES items", "[index_expression]") {
  for (const auto& c : parsed) {
    INFO("expression: " << c.expression);
    auto r = parse_index_expression(c.expression, now);
    if (!r) FAIL("error: " << r.error().reason);
    CHECK(*r == c.items);
  }
}

TEST_CASE("invalid index expressions are refused", "[index_expression]") {
  for (const auto& c : parse_errors) {
    INFO("expression: " << c.expression);
    auto r = parse_index_expression(c.expression, now);
    if (r) {
      FAIL_CHECK("accepted, expected an error");
      continue;
    }
    CHECK(r.error().type == c.type);
    CHECK_THAT(r.error().reason, Catch::Matchers::Contains(c.reason_part));
  }
}

TEST_CASE("is_wildcard", "[index_expression]") {
  CHECK(esgate::es::is_wildcard({wild, "logs-*"}));
  CHECK(esgate::es::is_wildcard({excl, "logs-*"}));
  CHECK_FALSE(esgate::es::is_wildcard({excl, "logs"}));
  CHECK_FALSE(esgate::es::is_wildcard({lit, "logs"}));
  CHECK_FALSE(esgate::es::is_wildcard({dm, "logs-2024.03.15"}));
  CHECK_FALSE(esgate::es::is_wildcard({all, "_all"}));
}

TEST_CASE("simple_match is a `*`-only, case-sensitive, anchored glob", "[index_expression]") {
  struct match_case {
    std::string pattern;
    std::string name;
    bool expected;
  };
  const std::vector<match_case> cases = {
      {"*", "", true},
      {"*", "anything", true},
      {"**", "x", true},
      {"logs-*", "logs-a", true},
      {"logs-*", "logs-", true},
      {"logs-*", "logs", false},
      {"logs-*", "Logs-a", false},
      {"logs-*", "xlogs-a", false},
      {"*-old", "logs-old", true},
      {"*-old", "logs-older", false},
      {"a*b*c", "abc", true},
      {"a*b*c", "aXbYc", true},
      {"a*b*c", "acb", false},
      {"a*bc*bc", "abcbc", true},
      {"a*bc*bc", "abc", false},
      {"a*aa", "aa", false},  // prefix and suffix must not overlap
      {"a*aa", "aaa", true},
      {"*aab*", "aaaab", true},  // KMP restart after a partial match
      {"*abab*", "abaabab", true},
      {"books", "books", true},
      {"books", "book", false},
      {"logs-?", "logs-a", false},  // `?` is not a wildcard in index expressions
      {"", "", true},
      {"", "a", false},
  };
  for (const auto& c : cases) {
    INFO(c.pattern << " vs " << c.name);
    CHECK(esgate::es::simple_match(c.pattern, c.name) == c.expected);
  }
}

TEST_CASE("simple_match stays fast on adversarial input", "[index_expression]") {
  // Backtracking matchers go quadratic (or worse) here; a linear one finishes instantly.
  std::string pattern = "*";
  for (int i = 0; i < 2000; ++i) pattern += "a*";
  pattern += "b";
  const std::string name(200000, 'a');
  const auto start = steady_clock::now();
  CHECK_FALSE(esgate::es::simple_match(pattern, name));
  CHECK(esgate::es::simple_match(pattern, name + "b"));
  CHECK(steady_clock::now() - start < seconds{2});
}

TEST_CASE("expand_wildcards parameter", "[index_expression]") {
  struct ew_case {
    std::string value;
    bool ok, open, closed, hidden;
  };
  const std::vector<ew_case> cases = {
      {"", true, true, false, false},       {"open", true, true, false, false},
      {"closed", true, false, true, false}, {"open,hidden", true, true, false, true},
      {"all", true, true, true, true},      {"none", true, false, false, false},
      {"hidden", true, false, false, true}, {"open,bogus", false, false, false, false},
      {"OPEN", false, false, false, false}, {"open,", false, false, false, false},
  };
  for (const auto& c : cases) {
    INFO("expand_wildcards=" << c.value);
    auto r = esgate::es::parse_expand_wildcards(c.value);
    REQUIRE(r.has_value() == c.ok);
    if (!c.ok) continue;
    CHECK(r->open == c.open);
    CHECK(r->closed == c.closed);
    CHECK(r->hidden == c.hidden);
  }
}

TEST_CASE("narrow resolves wildcards against authorized names only", "[index_expression]") {
  const std::vector<std::string> known = {"books",     "secret",      "logs-a",
                                          "logs-b",    "logs-old-1",  "logs-old-2",
                                          ".kibana_1", ".security-7", "secret-logs"};
  const std::set<std::string> granted = {"books", "logs-a", "logs-old-1", ".kibana_1"};
  const esgate::es::name_predicate authorized = [&](std::string_view n) {
    return granted.count(std::string(n)) > 0;
  };
  const expand_wildcards open{};
  const expand_wildcards hidden{true, false, true};
  const expand_wildcards none{false, false, false};

  struct narrow_case {
    std::string expression;
    expand_wildcards ew;
    std::vector<std::string> expected;
  };
  const std::vector<narrow_case> cases = {
      {"*", open, {"books", "logs-a", "logs-old-1"}},
      {"_all", open, {"books", "logs-a", "logs-old-1"}},
      {"*", hidden, {"books", "logs-a", "logs-old-1", ".kibana_1"}},
      {"_all", hidden, {"books", "logs-a", "logs-old-1", ".kibana_1"}},
      {".*", open, {".kibana_1"}},  // a dot pattern matches dot names without `hidden`
      {".security*", open, {}},     // exists, but not authorized
      {"logs-*", open, {"logs-a", "logs-old-1"}},
      {"logs-*,-logs-old*", open, {"logs-a"}},
      {"*,-books", open, {"logs-a", "logs-old-1"}},
      {"*,-*", open, {}},
      {"*,-logs-a,logs-a", open, {"books", "logs-old-1", "logs-a"}},
      // Literals are kept even when unauthorized, so authorization can deny them (403).
      {"books,secret", open, {"books", "secret"}},
      {"secret", open, {"secret"}},
      {"logs-*,secret", open, {"logs-a", "logs-old-1", "secret"}},
      {"missing", open, {"missing"}},
      // A wildcard exclusion removes only authorized matches, like ES.
      {"secret,*,-secre*", open, {"secret", "books", "logs-a", "logs-old-1"}},
      {"secret,*,-secret", open, {"books", "logs-a", "logs-old-1"}},
      {"secr*", open, {}},
      {"<logs-{now/d}>", open, {"logs-2024.03.15"}},
      {"logs-*,-<logs-{now/d}>", open, {"logs-a", "logs-old-1"}},
      {"books,books,b*", open, {"books"}},  // deduplicated, first-seen order
      {"*", none, {}},
      {"books,*", none, {"books"}},
  };
  for (const auto& c : cases) {
    INFO("expression: " << c.expression);
    auto items = parse_index_expression(c.expression, now);
    REQUIRE(items.has_value());
    CHECK(narrow(*items, known, authorized, c.ew) == c.expected);
  }
  CHECK(narrow({}, known, authorized) == std::vector<std::string>{"books", "logs-a", "logs-old-1"});
}
