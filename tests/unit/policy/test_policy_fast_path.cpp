// The compiled fast paths (hash set of literals, one RE2::Set per matcher, role-wide group index)
// must give exactly the answers of the one-by-one evaluation.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "esgate/policy/index_pattern.hpp"
#include "esgate/policy/permission.hpp"

using namespace esgate::policy;

namespace {

// One by one, as the spec reads: a listed literal matches (restricted or not); otherwise a
// restricted name needs allow_restricted; then any wildcard or regex.
bool naive_matches(const std::vector<std::string>& names, bool allow, std::string_view index) {
  std::vector<index_pattern> ps;
  for (const auto& n : names) {
    auto p = index_pattern::compile(n);
    if (auto* ip = std::get_if<index_pattern>(&p)) ps.push_back(*ip);
  }
  for (const auto& p : ps)
    if (p.type() == index_pattern::kind::literal && p.matches(index)) return true;
  if (!allow && is_restricted_index(index)) return false;
  for (const auto& p : ps)
    if (p.type() != index_pattern::kind::literal && p.matches(index)) return true;
  return false;
}

// Pieces chosen to collide: dots (restricted), multi-byte units against `?`, invalid bytes,
// escapes, regex metacharacters that are literal in wildcards.
const std::vector<std::string> name_pieces = {
    "a", "b", "-", ".", "é", "\xff", "\xc3", "*", "?", "\\", "(", "+", "\n", std::string(1, '\0')};
const std::vector<std::string> pattern_pieces = {"a",  "b", "-", ".",  "é",    "*", "?",
                                                 "\\", "(", "+", "**", "\xff", "a*"};
const std::vector<std::string> regexes = {"/a.*/",    "/[ab]+/",  "/(a|b)c?/", "/\\..*/", "/.?é/",
                                          "/a{2,3}/", "/(a+)+b/", "/[^a]*/",   "/[/",     "/.*-b/"};

std::string random_text(std::mt19937& rng, const std::vector<std::string>& pieces,
                        std::size_t max_len) {
  std::string s;
  const std::size_t n = rng() % (max_len + 1);
  for (std::size_t i = 0; i < n; ++i) s += pieces[rng() % pieces.size()];
  return s;
}

std::string random_pattern(std::mt19937& rng) {
  if (rng() % 6 == 0) return regexes[rng() % regexes.size()];
  std::string p = random_text(rng, pattern_pieces, 4);
  return p.empty() ? "a" : p;
}

std::vector<std::string> random_names(std::mt19937& rng, std::size_t count) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < count; ++i) out.push_back(random_pattern(rng));
  return out;
}

std::string show(std::string_view s) {
  std::string o;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      o += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789abcdef";
      o += "\\x";
      o += hex[c >> 4];
      o += hex[c & 15];
    }
  }
  return o;
}

index_name_matcher must_compile(const std::vector<std::string>& names, bool allow) {
  auto m = index_name_matcher::compile(names, allow);
  REQUIRE(std::holds_alternative<index_name_matcher>(m));
  return std::get<index_name_matcher>(m);
}

}  // namespace

TEST_CASE("wildcard_to_re2 translation") {
  struct c {
    const char* in;
    const char* out;
  };
  const c cases[] = {
      {"logs-*", "(?s)logs\\-.*"}, {"a?b", "(?s)a.b"},   {"a**b", "(?s)a.*b"}, {"a\\*", "(?s)a\\*"},
      {"a\\?", "(?s)a\\?"},        {"a\\", "(?s)a\\\\"},  // trailing backslash is literal
      {"(x)+", "(?s)\\(x\\)\\+"},  {"é?", "(?s)é."},     {"", "(?s)"},
  };
  for (const auto& x : cases) {
    INFO(x.in);
    CHECK(wildcard_to_re2(x.in) == x.out);
  }
}

TEST_CASE("matcher with many patterns runs one automaton with the same answers") {
  std::vector<std::string> names;
  for (int i = 0; i < 1000; ++i) names.push_back("logs-" + std::to_string(i) + "-*");
  names.push_back("b?oks");
  names.push_back("/m[0-9]+/");
  names.push_back(".kibana");
  names.push_back("/(a+)+b/");
  names.push_back("u?");
  for (int i = 0; i < 100; ++i) names.push_back("lit-" + std::to_string(i));
  struct c {
    bool allow;
    std::string index;
    bool expected;
  };
  const std::vector<c> cases = {
      {false, "logs-7-x", true},
      {false, "logs-999-", true},
      {false, "logs-1000-x", false},
      {false, "logs-7", false},
      {false, "books", true},
      {false, "b\xc3\xa9oks", true},  // `?` is one code point
      {false, "b\xc3oks", true},      // ... or one invalid byte (one-by-one fallback)
      {false, "bxxoks", false},
      {false, "m42", true},
      {false, "m", false},
      {false, ".kibana", true},  // explicit literal: restricted but listed
      {false, ".kibana_1", false},
      {false, ".m4", false},
      {true, ".m4", false},
      {false, "lit-42", true},
      {false, "lit-420", false},
      {false, std::string(5000, 'a'), false},  // no blow-up on /(a+)+b/
      {false, std::string(5000, 'a') + "b", true},
      {false, "u\xff", true},
      {false, "u\xc3\xa9", true},
      {false, "u\xc3\xa9\xc3\xa9", false},
      {false, "", false},
      {false, std::string("logs-1-\0x", 9), true},
  };
  for (bool allow : {false, true}) {
    const auto m = must_compile(names, allow);
    CHECK(m.uses_automaton());
    for (const auto& x : cases) {
      INFO(show(x.index) << " allow " << allow);
      if (x.allow == allow) CHECK(m.matches(x.index) == x.expected);
      CHECK(m.matches(x.index) == naive_matches(names, allow, x.index));
    }
  }
  const auto restricted = must_compile({"*", ".sec*", "a", "b", "c", "d", "e"}, true);
  CHECK(restricted.matches(".security"));
  CHECK(restricted.matches("anything"));
}

TEST_CASE("few patterns keep the one-by-one scan") {
  CHECK_FALSE(must_compile({"logs-*", "books"}, false).uses_automaton());
  CHECK_FALSE(must_compile({"*", "a*", "b*", "c*", "d*", "e*"}, false).uses_automaton());
  CHECK(must_compile({"a*", "b*", "c*", "d*", "e*"}, false).uses_automaton());
}

TEST_CASE("matcher fast path equals naive evaluation over random patterns and names") {
  std::mt19937 rng(20240611);
  std::size_t automaton = 0;
  for (int round = 0; round < 400; ++round) {
    const auto names = random_names(rng, rng() % 30);
    const bool allow = rng() % 2;
    const auto m = index_name_matcher::compile_lenient(names, allow);
    if (m.uses_automaton()) ++automaton;
    for (int k = 0; k < 60; ++k) {
      std::string index = random_text(rng, name_pieces, 6);
      if (k % 3 == 0 && !names.empty()) index = names[rng() % names.size()];  // literal hits
      std::string all;
      for (const auto& n : names) all += show(n) + " ";
      INFO("patterns " << all << "allow " << allow << " index " << show(index));
      REQUIRE(m.matches(index) == naive_matches(names, allow, index));
    }
  }
  CHECK(automaton > 100);  // the rest: few non-literal patterns, or `*`
}

namespace {

const std::vector<std::string> privilege_pool = {"read",
                                                 "write",
                                                 "index",
                                                 "create_index",
                                                 "manage",
                                                 "all",
                                                 "monitor",
                                                 "delete",
                                                 "read_failure_store",
                                                 "manage_failure_store",
                                                 "view_index_metadata",
                                                 "indices:data/read/get*",
                                                 "indices:admin/*"};
const std::vector<std::string> actions = {"indices:data/read/search", "indices:data/write/index",
                                          "indices:admin/create",     "indices:data/read/get",
                                          "indices:monitor/stats",    "indices:admin/mapping/put",
                                          "indices:data/write/delete"};

}  // namespace

TEST_CASE("role-wide group index equals the union of single entries") {
  std::mt19937 rng(7);
  for (int round = 0; round < 60; ++round) {
    role_descriptor rd;
    rd.name = "r";
    const std::size_t entries = 1 + rng() % 40;  // often past the group-scan limit
    for (std::size_t i = 0; i < entries; ++i) {
      index_privileges_entry e;
      e.names = random_names(rng, 1 + rng() % 4);
      const std::size_t np = 1 + rng() % 3;
      for (std::size_t j = 0; j < np; ++j)
        e.privileges.push_back(privilege_pool[rng() % privilege_pool.size()]);
      e.allow_restricted_indices = rng() % 3 == 0;
      rd.indices.push_back(e);
    }
    const permission whole(compile({rd}));
    std::vector<permission> parts;
    for (const auto& e : rd.indices) {
      role_descriptor one;
      one.name = "one";
      one.indices = {e};
      parts.emplace_back(compile({one}));
    }
    for (int k = 0; k < 80; ++k) {
      std::string index = random_text(rng, name_pieces, 5);
      if (k % 3 == 0) {
        const auto& e = rd.indices[rng() % rd.indices.size()];
        index = e.names[rng() % e.names.size()];
      }
      if (k % 7 == 0) index += rng() % 2 ? "::failures" : "::data";
      const std::string& action = actions[rng() % actions.size()];
      bool expected = false;
      for (const auto& p : parts) expected = expected || p.allows_index(action, index);
      INFO("round " << round << " " << action << " on " << show(index));
      REQUIRE(whole.allows_index(action, index) == expected);
    }
  }
}

TEST_CASE("many distinct privilege sets: table") {
  role_descriptor rd;
  rd.name = "many";
  for (int i = 0; i < 40; ++i) {
    index_privileges_entry e;
    e.names = {"logs-" + std::to_string(i) + "-*"};
    e.privileges = {i % 2 ? "read" : "write", "indices:data/read/x" + std::to_string(i) + "*"};
    rd.indices.push_back(e);
  }
  auto entry = [](std::vector<std::string> names, std::vector<std::string> privs, bool allow) {
    index_privileges_entry e;
    e.names = std::move(names);
    e.privileges = std::move(privs);
    e.allow_restricted_indices = allow;
    return e;
  };
  rd.indices.push_back(entry({"books"}, {"read"}, false));
  rd.indices.push_back(entry({".secret"}, {"read"}, false));
  rd.indices.push_back(entry({".sys*"}, {"read"}, false));
  rd.indices.push_back(entry({".audit*"}, {"read"}, true));
  rd.indices.push_back(entry({"fs-*"}, {"read_failure_store"}, false));
  rd.indices.push_back(entry({"/m[0-9]+/"}, {"manage"}, false));
  const permission p(compile({rd}));
  struct c {
    const char* action;
    const char* index;
    bool expected;
  };
  const c cases[] = {
      {"indices:data/read/search", "books", true},
      {"indices:data/write/index", "books", false},
      {"indices:data/read/search", "secret", false},
      {"indices:data/read/search", "logs-1-a", true},
      {"indices:data/read/search", "logs-2-a", false},
      {"indices:data/write/index", "logs-2-a", true},
      {"indices:data/read/x2", "logs-2-a", true},  // raw action pattern of entry 2
      {"indices:data/read/x3", "logs-2-a", false},
      {"indices:data/read/search", ".secret", true},  // listed literal
      {"indices:data/read/search", ".system", false},
      {"indices:data/read/search", ".audit-1", true},
      {"indices:data/read/search", "fs-1::failures", true},
      {"indices:data/read/search", "fs-1", false},
      {"indices:data/read/search", "books::failures", false},
      {"indices:data/read/search", "books::data", true},
      {"indices:data/read/search", "books::bogus", false},
      {"indices:admin/mapping/put", "m12", true},
      {"indices:admin/mapping/put", ".m12", false},
      {"indices:data/read/search", "logs-1-\xff", true},  // invalid UTF-8: one-by-one scan
  };
  for (const auto& x : cases) {
    INFO(x.action << " on " << show(x.index));
    CHECK(p.allows_index(x.action, x.index) == x.expected);
  }
}
