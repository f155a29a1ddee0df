#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "esgate/policy/index_pattern.hpp"
#include "glob.hpp"

using namespace esgate::policy;

namespace {

index_pattern must_compile(std::string_view text) {
  auto r = index_pattern::compile(text);
  if (auto* e = std::get_if<pattern_error>(&r)) FAIL("compile failed: " << e->message);
  return std::get<index_pattern>(r);
}

std::string compile_error(std::string_view text) {
  auto r = index_pattern::compile(text);
  if (auto* e = std::get_if<pattern_error>(&r)) return e->message;
  return "";
}

struct match_case {
  const char* pattern;
  const char* name;
  bool expected;
};

void check_matches(const match_case& c) {
  INFO("pattern " << c.pattern << " name " << c.name);
  CHECK(must_compile(c.pattern).matches(c.name) == c.expected);
}

// Reference wildcard matcher (exponential in the worst case; only for short random inputs).
bool reference_match(std::string_view p, std::string_view s) {
  if (p.empty()) return s.empty();
  if (p[0] == '*')
    return reference_match(p.substr(1), s) || (!s.empty() && reference_match(p, s.substr(1)));
  if (s.empty()) return false;
  if (p[0] == '?') return reference_match(p.substr(1), s.substr(1));
  if (p[0] == '\\' && p.size() > 1)
    return p[1] == s[0] && reference_match(p.substr(2), s.substr(1));
  return p[0] == s[0] && reference_match(p.substr(1), s.substr(1));
}

}  // namespace

TEST_CASE("wildcard and literal index patterns") {
  const match_case cases[] = {
      {"books", "books", true},
      {"books", "books2", false},
      {"books", "Books", false},  // case-sensitive
      {"books", "book", false},
      {"*", "anything", true},
      {"*", "", true},
      {"logs-*", "logs-2024", true},
      {"logs-*", "logs-", true},
      {"logs-*", "logs", false},
      {"logs-*", "xlogs-1", false},
      {"*-prod", "app-prod", true},
      {"*-prod", "app-prod-2", false},
      {"a*b*c", "abc", true},
      {"a*b*c", "aXbYc", true},
      {"a*b*c", "aXcYb", false},
      {"a*b*c", "abcbc", true},
      {"a*b*c", "abcb", false},
      {"b?oks", "books", true},
      {"b?oks", "bks", false},
      {"b?oks", "bo0oks", false},
      {"caf?", "café", true},  // `?` is one character, not one byte
      {"caf??", "café", false},
      {"x*??", "x€", false},
      {"x*??", "x€y", true},
      {"a\\*b", "a*b", true},  // escaped star is literal
      {"a\\*b", "axb", false},
      {"a\\?", "a?", true},
      {"a\\?", "ab", false},
      {"trailing\\", "trailing\\", true},
      {"**", "x", true},
      {"a**b", "ab", true},
      {"*?*", "", false},
      {"*?*", "z", true},
      {"?*x?", "axb", true},
      {"?*x?", "xb", false},
      {"", "", true},
      {"", "a", false},
  };
  for (const auto& c : cases) check_matches(c);
}

TEST_CASE("pattern kinds") {
  CHECK(must_compile("books").type() == index_pattern::kind::literal);
  CHECK(must_compile("a\\*b").type() == index_pattern::kind::literal);
  CHECK(must_compile("*").type() == index_pattern::kind::match_all);
  CHECK(must_compile("***").type() == index_pattern::kind::match_all);
  CHECK(must_compile("logs-*").type() == index_pattern::kind::wildcard);
  CHECK(must_compile("b?").type() == index_pattern::kind::wildcard);
  CHECK(must_compile("/logs/").type() == index_pattern::kind::regex);
}

TEST_CASE("Lucene regular expressions") {
  const match_case cases[] = {
      {"/metrics-[0-9]+/", "metrics-42", true},
      {"/metrics-[0-9]+/", "metrics-", false},
      {"/metrics-[0-9]+/", "metrics-42x", false},  // anchored full match
      {"/metrics-[0-9]+/", "xmetrics-42", false},
      {"/logs-.*/", "logs-a", true},
      {"/logs-.*/", "logs-a\nb", true},  // `.` matches any character in Lucene
      {"/a.c/", "abc", true},
      {"/a.c/", "ac", false},
      {"/ab?c/", "ac", true},
      {"/ab?c/", "abbc", false},
      {"/ab{2,3}c/", "abbc", true},
      {"/ab{2,3}c/", "abbbbc", false},
      {"/ab{2}c/", "abbc", true},
      {"/ab{2,}c/", "abbbbbc", true},
      {"/(foo|bar)-[a-c]/", "bar-b", true},
      {"/(foo|bar)-[a-c]/", "baz-b", false},
      {"/[^a-c]x/", "dx", true},
      {"/[^a-c]x/", "ax", false},
      {"/@/", "anything at all", true},
      {"/logs-@/", "logs-1", true},
      {"/\"a.b\"/", "a.b", true},  // quoted literal
      {"/\"a.b\"/", "axb", false},
      {"/a\\.b/", "a.b", true},
      {"/a\\.b/", "axb", false},
      {"/*abc/", "*abc", true},  // a leading `*` is a literal in Lucene
      {"/a()b/", "ab", true},
      {"/a#/", "a", false},  // `#` is the empty language
      {"/\\d+/", "123", true},
      {"/\\d+/", "12a", false},
      {"/a^b$/", "a^b$", true},  // no anchors in Lucene syntax
      {"/café/", "café", true},
      {"/caf./", "café", true},
      {"//", "", true},
  };
  for (const auto& c : cases) check_matches(c);
}

TEST_CASE("regex translation is RE2 syntax with the same language") {
  CHECK(must_compile("/a+/").re2_pattern() == "(?s)(?:a)+");
  CHECK(must_compile("/a*?/").re2_pattern() == "(?s)(?:(?:a)*)?");  // `*?` is not lazy in Lucene
  CHECK(must_compile("/a**/").matches("aaa"));
}

TEST_CASE("invalid patterns are rejected with a reason") {
  CHECK(compile_error("/abc") ==
        "invalid pattern [/abc]. patterns starting with '/' indicate regular expression pattern "
        "and therefore must also end with '/'. other patterns (those that do not start with '/') "
        "will be treated as simple wildcard patterns");
  CHECK(compile_error("/").rfind("invalid pattern [/].", 0) == 0);
  struct c {
    const char* pattern;
    const char* contains;
  };
  const c cases[] = {
      {"/~a/", "complement '~'"},
      {"/a&b/", "intersection '&'"},
      {"/<1-10>/", "'<...>'"},
      {"/<name>/", "not supported"},
      {"/(ab/", "expected ')'"},
      {"/ab)/", "end-of-string expected"},
      {"/[ab/", "expected ']'"},
      {"/a{/", "integer expected"},
      {"/a{2/", "expected '}'"},
      {"/a{3,2}/", "invalid repetition"},
      {"/a{99999}/", "too large"},
      {"/a|/", "empty"},
      {"/|a/", "empty"},
      {"/[z-a]/", "invalid character range"},
      {"/\"abc/", "expected '\"'"},
      {"/((a{1000}){1000}){1000}/", "invalid regular expression"},
      {"bad\xff", "UTF-8"},
      {"/bad\xff/", "UTF-8"},
  };
  for (const auto& x : cases) {
    INFO(x.pattern);
    const std::string e = compile_error(x.pattern);
    CHECK_THAT(e, Catch::Contains(x.contains));
  }
}

TEST_CASE("ReDoS-shaped inputs match in linear time") {
  const std::string as(100000, 'a');
  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(must_compile("/(a+)+b/").matches(as));
  CHECK_FALSE(must_compile("/(a|a)*b/").matches(as));
  CHECK_FALSE(must_compile("/(a*)*b/").matches(as));
  CHECK(must_compile("/(a+)+/").matches(as));
  CHECK_FALSE(must_compile("*a*a*a*a*a*a*a*a*a*b").matches(as));
  CHECK_FALSE(must_compile("a*a*a*a*a*a*a*a*a*a?b").matches(as));
  CHECK(must_compile("*a*a*a*a*a*a*a*a*a*a").matches(as));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed < std::chrono::seconds(5));  // generous for sanitizer builds; exponential = hours
}

TEST_CASE("wildcard matcher agrees with a reference matcher on random inputs") {
  std::mt19937 rng(12345);
  const char alphabet[] = {'a', 'b', '*', '?', '\\'};
  const char text_alpha[] = {'a', 'b', '*'};
  for (int i = 0; i < 3000; ++i) {
    std::string p, s;
    const int pl = static_cast<int>(rng() % 7), sl = static_cast<int>(rng() % 8);
    for (int k = 0; k < pl; ++k) p += alphabet[rng() % 5];
    for (int k = 0; k < sl; ++k) s += text_alpha[rng() % 3];
    if (p.starts_with('/')) continue;
    INFO("pattern [" << p << "] text [" << s << "]");
    const esgate::policy::detail::glob g(p);
    // The reference treats a trailing lone backslash as literal too.
    REQUIRE(g.matches(s) == reference_match(p, s));
  }
}

TEST_CASE("restricted indices need allow_restricted_indices, except literal names") {
  struct c {
    std::vector<std::string> names;
    bool allow;
    const char* index;
    bool expected;
  };
  const c cases[] = {
      {{"*"}, false, "logs", true},
      {{"*"}, false, ".security", false},
      {{"*"}, true, ".security", true},
      {{".sec*"}, false, ".security", false},
      {{".sec*"}, true, ".security", true},
      {{"/\\..*/"}, false, ".security", false},
      {{"/\\..*/"}, true, ".security", true},
      {{".kibana"}, false, ".kibana", true},  // explicit literal name
      {{".kibana"}, false, ".kibana_1", false},
      {{"logs-*", "books"}, false, "books", true},
      {{"logs-*", "books"}, false, "logs-x", true},
      {{"logs-*", "books"}, false, "metrics", false},
      {{"logs-*", "/m[0-9]/"}, false, "m7", true},
      {{}, false, "x", false},
  };
  for (const auto& x : cases) {
    INFO(x.index);
    auto m = index_name_matcher::compile(x.names, x.allow);
    REQUIRE(std::holds_alternative<index_name_matcher>(m));
    CHECK(std::get<index_name_matcher>(m).matches(x.index) == x.expected);
  }
  CHECK(is_restricted_index(".x"));
  CHECK_FALSE(is_restricted_index("x."));
  CHECK_FALSE(is_restricted_index(""));
}

TEST_CASE("matcher compile fails on the first bad pattern; lenient compile skips it") {
  auto m = index_name_matcher::compile({"ok", "/bad"}, false);
  CHECK(std::holds_alternative<pattern_error>(m));
  auto l = index_name_matcher::compile_lenient({"ok", "/bad", "/bad/"}, false);
  CHECK(l.matches("ok"));
  CHECK_FALSE(l.matches("/bad"));
  CHECK(l.matches("bad"));
}

TEST_CASE("glob subset engine") {
  using esgate::policy::detail::glob;
  using esgate::policy::detail::lang;
  using esgate::policy::detail::lang_subset;
  using esgate::policy::detail::lang_term;
  using esgate::policy::detail::subset_answer;
  struct c {
    const char* a;
    std::vector<const char*> b;
    subset_answer expected;
  };
  const c cases[] = {
      {"books*", {"b*"}, subset_answer::yes},
      {"b*", {"*"}, subset_answer::yes},
      {"b*", {"books*"}, subset_answer::no},
      {"a*", {"a", "a?*"}, subset_answer::yes},  // only the union covers it
      {"a?c", {"a*c"}, subset_answer::yes},
      {"a*c", {"a?c"}, subset_answer::no},
      {"*x*", {"*x", "x*", "*x?*"}, subset_answer::yes},
      {"logs-2024", {"logs-*"}, subset_answer::yes},
      {"logs-*", {"logs-2024"}, subset_answer::no},
      {"a\\*", {"a?"}, subset_answer::yes},
      {"a?", {"a\\*"}, subset_answer::no},
  };
  for (const auto& x : cases) {
    INFO(x.a);
    std::vector<glob> bs;
    for (const char* s : x.b) bs.emplace_back(s);
    const glob ga(x.a);
    lang la{lang_term{{&ga}, {}}};
    lang lb;
    for (const glob& g : bs) lb.push_back(lang_term{{&g}, {}});
    CHECK(lang_subset(la, lb) == x.expected);
  }
  // Exclusions: manage = cluster:* minus security.
  const glob all("cluster:*"), sec("cluster:admin/xpack/security/*"), mon("cluster:monitor/*"),
      key("cluster:admin/xpack/security/api_key/*");
  const lang manage{lang_term{{&all}, {&sec}}};
  CHECK(lang_subset(lang{lang_term{{&mon}, {}}}, manage) == subset_answer::yes);
  CHECK(lang_subset(lang{lang_term{{&key}, {}}}, manage) == subset_answer::no);
  CHECK(lang_subset(lang{lang_term{{&all}, {}}},
                    lang{lang_term{{&all}, {&sec}}, lang_term{{&sec}, {}}}) == subset_answer::yes);
}
