#include "esgate/es/request_target.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace {

using esgate::es::build_upstream_target;
using esgate::es::parse_request_target;
using esgate::es::query_params;
using esgate::es::request_target;

struct accept_case {
  std::string target;
  std::vector<std::string> segments;
  query_params query;
};

struct reject_case {
  std::string target;
  std::string reason_part;  // a substring of the expected reason
};

const std::vector<accept_case> accepted = {
    {"/", {}, {}},
    {"/books/_search", {"books", "_search"}, {}},
    {"/books/_search/", {"books", "_search"}, {}},  // ES routes a trailing slash the same
    {"/_search", {"_search"}, {}},
    {"/_all/_search", {"_all", "_search"}, {}},
    {"/*,-books/_search", {"*,-books", "_search"}, {}},
    // An encoded comma is still a comma list: the caller authorizes both names.
    {"/books%2Csecret/_search", {"books,secret", "_search"}, {}},
    {"/books%2csecret/_search", {"books,secret", "_search"}, {}},
    // Decodes to `secret`, which is what must be authorized.
    {"/%73ecret/_search", {"secret", "_search"}, {}},
    {"/secret/%5Fdoc/1", {"secret", "_doc", "1"}, {}},
    // Date math must be encoded in paths; `/` is fine inside the braces.
    {"/%3Csecret-%7Bnow%2Fd%7D%3E/_search", {"<secret-{now/d}>", "_search"}, {}},
    {"/%3clogs-%7bnow%2fM%7byyyy.MM%7d%7d%3e/_search", {"<logs-{now/M{yyyy.MM}}>", "_search"}, {}},
    {"/books,%3Clogs-%7Bnow-1d%2Fd%7D%3E/_count", {"books,<logs-{now-1d/d}>", "_count"}, {}},
    {"/*,-%3Clogs-%7Bnow%2Fd%7D%3E/_search", {"*,-<logs-{now/d}>", "_search"}, {}},
    {"/Books/_search", {"Books", "_search"}, {}},  // uppercase is index-name validation's job
    {"/_BULK", {"_BULK"}, {}},
    {"/books/_doc/a+b", {"books", "_doc", "a+b"}, {}},  // `+` is literal in ES paths
    {"/books/_doc/a%2Bb", {"books", "_doc", "a+b"}, {}},
    {"/books/_doc/a%20b", {"books", "_doc", "a b"}, {}},
    {"/books/_doc/%3B1", {"books", "_doc", ";1"}, {}},
    {"/books/_doc/caf%C3%A9", {"books", "_doc", "caf\xC3\xA9"}, {}},
    {"/books/_doc/%E6%97%A5", {"books", "_doc", "\xE6\x97\xA5"}, {}},
    {"/books/_doc/%F0%9F%98%80", {"books", "_doc", "\xF0\x9F\x98\x80"}, {}},
    {"/books/_doc/100%25", {"books", "_doc", "100%"}, {}},
    {"/books/_doc/%25zz", {"books", "_doc", "%zz"}, {}},  // not an escape after decoding
    {"/.kibana/_search", {".kibana", "_search"}, {}},
    {"/...", {"..."}, {}},
    {"/books/_search?q=title:dune", {"books", "_search"}, {{"q", "title:dune"}}},
    {"/books/_search?q=a+b", {"books", "_search"}, {{"q", "a b"}}},  // `+` is space in queries
    {"/books/_search?q=a%2Bb", {"books", "_search"}, {{"q", "a+b"}}},
    {"/books/_search?pretty", {"books", "_search"}, {{"pretty", ""}}},
    {"/books/_search?pretty&size=1", {"books", "_search"}, {{"pretty", ""}, {"size", "1"}}},
    {"/books/_search?size=1;from=2", {"books", "_search"}, {{"size", "1"}, {"from", "2"}}},
    {"/books/_search?a=b=c", {"books", "_search"}, {{"a", "b=c"}}},
    {"/books/_search?a=", {"books", "_search"}, {{"a", ""}}},
    {"/books/_search?&&a=1&&", {"books", "_search"}, {{"a", "1"}}},
    {"/books/_search?", {"books", "_search"}, {}},
    {"/books/_search?=x", {"books", "_search"}, {{"x", ""}}},  // RestUtils quirk, kept
    {"/books/_search?source=%7B%22query%22%3A%7B%7D%7D&source_content_type=application/json",
     {"books", "_search"},
     {{"source", "{\"query\":{}}"}, {"source_content_type", "application/json"}}},
    {"/books/_search?source=%7B%0A%7D", {"books", "_search"}, {{"source", "{\n}"}}},
    {"/books/_search?q=50%2541", {"books", "_search"}, {{"q", "50%41"}}},  // values: not checked
    {"/books/_search?expand_wildcards=open,hidden",
     {"books", "_search"},
     {{"expand_wildcards", "open,hidden"}}},
    {"/books/_search?q=%E2%80%AE", {"books", "_search"}, {{"q", "\xE2\x80\xAE"}}},
};

const std::vector<reject_case> rejected = {
    {"", "empty"},
    {"*", "origin-form"},
    {"http://es:9200/books/_search", "origin-form"},
    {"es:9200", "origin-form"},
    {"books/_search", "origin-form"},
    {"/./secret/_search", "'.' or '..'"},
    {"//secret/_search", "empty segments"},
    {"/books//_search", "empty segments"},
    {"//", "empty segments"},
    {"/books/_search//", "empty segments"},
    {"/books/../secret/_search", "'.' or '..'"},
    {"/books/..", "'.' or '..'"},
    {"/books/./_search", "'.' or '..'"},
    {"/%2e%2e/x", "'.' or '..'"},
    {"/%2E/x", "'.' or '..'"},
    {"/.%2e/x", "'.' or '..'"},
    {"/books%2f..%2fsecret/_search", "%2F"},
    {"/books%2F..%2Fsecret/_search", "%2F"},
    {"/books%2fsecret/_search", "%2F"},
    {"/%3Clogs%2F%7Bnow%7D%3E/_search", "%2F"},  // slash outside the braces
    {"/logs-%7Bnow%2Fd%7D/_search", "%2F"},      // not a <...> item
    {"/%252e%252e/", "twice"},
    {"/%252e%252e/x", "twice"},
    {"/%252F/_search", "twice"},
    {"/books%255Csecret", "twice"},
    {"/books%00/_search", "control"},
    {"/books%0a/_search", "control"},
    {"/books%7F/_search", "control"},
    {"/books%C2%85/_search", "control"},  // U+0085 NEL (C1)
    {"/%C0%AF", "UTF-8"},                 // overlong '/'
    {"/%C0%AE%C0%AE/x", "UTF-8"},         // overlong '..'
    {"/%E0%80%AF", "UTF-8"},              // 3-byte overlong '/'
    {"/%ED%A0%80", "UTF-8"},              // surrogate
    {"/%F4%90%80%80", "UTF-8"},           // above U+10FFFF
    {"/%FF", "UTF-8"},
    {"/%C3", "UTF-8"},                                // truncated sequence
    {"/%E2%80%AE/_search", "look-alike"},             // RIGHT-TO-LEFT OVERRIDE
    {"/books%E2%80%8B/_search", "look-alike"},        // zero-width space
    {"/books%EF%BC%8Fsecret/_search", "look-alike"},  // fullwidth solidus U+FF0F
    {"/books%EF%BC%BCsecret/_search", "look-alike"},  // fullwidth reverse solidus
    {"/%EF%BC%8E%EF%BC%8E/x", "look-alike"},          // fullwidth full stops
    {"/books%E2%88%95secret", "look-alike"},          // division slash
    {"/%EF%BB%BFbooks", "look-alike"},                // BOM
    {"/books%5Csecret/_search", "'\\'"},
    {"/books%5csecret/_search", "'\\'"},
    {"/books\\secret/_search", "'\\'"},
    {"/books;x=1/_search", "';'"},
    {"/books/_search;jsessionid=1", "';'"},
    {"/books/_search#frag", "fragment"},
    {"/books/_search?q=a#b", "fragment"},
    {"/books%/_search", "two hex digits"},
    {"/books%2/_search", "two hex digits"},
    {"/books%zz/_search", "two hex digits"},
    {"/books%%32F/_search", "two hex digits"},  // ES would read `%%` as `%`
    {"/books/_search?q=%", "two hex digits"},
    {"/books/_search?q=%g1", "two hex digits"},
    {"/books /_search", "invalid character"},
    {"/books\t/_search", "invalid character"},
    {"/books\x01/_search", "invalid character"},
    {"/caf\xC3\xA9/_search", "invalid character"},  // raw non-ASCII
    {"/books/_search?q=\x7F", "invalid character"},
    {"/books/_search?q=%00", "control"},
    {"/books/_search?q=%1B", "control"},
    {"/books/_search?q=%C3%28", "UTF-8"},
    {"/books/_search?%252e=1", "parameter name"},
    {"/books/_search?a%00=1", "parameter name"},
    {"/books/_search?size=1&size=1000", "duplicate parameter [size]"},
    {"/books/_search?size=1;size=2", "duplicate parameter [size]"},
    {"/books/_search?a+b=1&a%20b=2", "duplicate parameter [a b]"},
};

std::string many_segments(std::size_t n) {
  std::string t;
  for (std::size_t i = 0; i < n; ++i) t += "/a";
  return t;
}

}  // namespace

TEST_CASE("request targets ES accepts are decoded exactly once", "[request_target]") {
  for (const auto& c : accepted) {
    INFO("target: " << c.target);
    auto r = parse_request_target(c.target);
    if (!r) FAIL("rejected: " << r.error().reason);
    CHECK(r->segments == c.segments);
    CHECK(r->query == c.query);
  }
}

TEST_CASE("ambiguous or malicious request targets are rejected", "[request_target]") {
  for (const auto& c : rejected) {
    INFO("target: " << c.target);
    auto r = parse_request_target(c.target);
    if (r) {
      FAIL_CHECK("accepted, expected an error");
      continue;
    }
    CHECK_THAT(r.error().reason, Catch::Matchers::Contains(c.reason_part));
  }
}

TEST_CASE("target length and segment count limits", "[request_target]") {
  CHECK(parse_request_target(many_segments(64)).has_value());
  CHECK(parse_request_target(many_segments(64) + "/").has_value());
  auto too_many = parse_request_target(many_segments(65));
  REQUIRE_FALSE(too_many.has_value());
  CHECK_THAT(too_many.error().reason, Catch::Matchers::Contains("segments"));

  const std::string at_limit = "/" + std::string(esgate::es::max_target_bytes - 1, 'a');
  CHECK(parse_request_target(at_limit).has_value());
  auto too_long = parse_request_target(at_limit + "a");
  REQUIRE_FALSE(too_long.has_value());
  CHECK_THAT(too_long.error().reason, Catch::Matchers::Contains("longer than 8192"));
}

TEST_CASE("upstream targets are rebuilt canonically", "[request_target]") {
  struct build_case {
    std::vector<std::string> segments;
    query_params query;
    std::string expected;
  };
  const std::vector<build_case> cases = {
      {{}, {}, "/"},
      {{"books", "_search"}, {}, "/books/_search"},
      {{"books,secret", "_search"}, {}, "/books,secret/_search"},
      {{"*,-books", "_search"}, {}, "/*,-books/_search"},
      {{"<logs-{now/d}>", "_search"}, {}, "/%3Clogs-%7Bnow%2Fd%7D%3E/_search"},
      {{"books", "_doc", "a+b c"}, {}, "/books/_doc/a%2Bb%20c"},
      {{"books", "_doc", ";x"}, {}, "/books/_doc/%3Bx"},
      {{"books", "_doc", ".."}, {}, "/books/_doc/%2E%2E"},
      {{"books", "_doc", "caf\xC3\xA9"}, {}, "/books/_doc/caf%C3%A9"},
      {{"_search"}, {{"q", "a b+c&d=e;f#g"}}, "/_search?q=a%20b%2Bc%26d%3De%3Bf%23g"},
      {{"_search"}, {{"pretty", ""}, {"size", "1"}}, "/_search?pretty=&size=1"},
      {{}, {{"x", "100%"}}, "/?x=100%25"},
  };
  for (const auto& c : cases) {
    CHECK(build_upstream_target(c.segments, c.query) == c.expected);
  }
}

TEST_CASE("parse(build(parse(x))) == parse(x)", "[request_target]") {
  std::vector<std::string> inputs;
  for (const auto& c : accepted) inputs.push_back(c.target);
  // Rebuilt segments that are not themselves valid paths must still round-trip.
  inputs.push_back("/a%3Bb/c%20d?x=%26%3D%3B%23&y=+");
  inputs.push_back("/books/_doc/%3F%23%5B%5D%40!$&'()*+,=:@");
  for (const auto& t : inputs) {
    INFO("target: " << t);
    auto first = parse_request_target(t);
    REQUIRE(first.has_value());
    const std::string rebuilt = build_upstream_target(*first);
    INFO("rebuilt: " << rebuilt);
    auto second = parse_request_target(rebuilt);
    REQUIRE(second.has_value());
    CHECK(*second == *first);
    CHECK(build_upstream_target(*second) == rebuilt);  // canonical form is a fixed point
  }
}

TEST_CASE("source query parameter is exposed to the caller", "[request_target]") {
  auto with =
      parse_request_target("/books/_search?source=%7B%7D&source_content_type=application/json");
  REQUIRE(with.has_value());
  CHECK(esgate::es::has_source_param(with->query));
  CHECK(esgate::es::find_query_param(with->query, "source") ==
        std::optional<std::string_view>("{}"));
  CHECK(esgate::es::find_query_param(with->query, "source_content_type") ==
        std::optional<std::string_view>("application/json"));

  auto without = parse_request_target("/books/_search?q=source");
  REQUIRE(without.has_value());
  CHECK_FALSE(esgate::es::has_source_param(without->query));
  CHECK_FALSE(esgate::es::find_query_param(without->query, "size").has_value());

  auto empty = parse_request_target("/books/_search?source");
  REQUIRE(empty.has_value());
  CHECK(esgate::es::has_source_param(empty->query));
}
