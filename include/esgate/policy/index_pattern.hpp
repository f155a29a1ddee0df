#pragma once
// Index-name patterns of role descriptors (`indices[].names`), es-security-reference.md §7.1:
//   - `/.../`  a Lucene regular expression (anchored, full match), run on RE2 so that matching is
//              linear-time whatever the pattern (`/(a+)+b/` cannot blow up);
//   - anything else: a simple wildcard, `*` any sequence, `?` one character, `\` escapes; `*`
//     alone matches every name; without wildcards it is a literal name.
// Matching is case-sensitive, on the full name.
//
// Restricted indices: this gateway treats every name starting with `.` as restricted. Wildcards and
// regular expressions never match a restricted name unless the entry has
// `allow_restricted_indices: true`; an explicit literal restricted name does match (ES only
// restricts its system indices such as `.security*`; dot-prefixed user indices need the flag here).
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace esgate::policy {

namespace detail {
class glob;
}

bool is_restricted_index(std::string_view name);

struct pattern_error {
  std::string message;
};

class index_pattern {
 public:
  enum class kind { literal, wildcard, match_all, regex };

  // Errors: a `/`-starting pattern not ending in `/` (ES's message), invalid UTF-8, unsupported
  // Lucene operators (`~`, `&`, `<...>`), malformed regular expressions.
  static std::variant<index_pattern, pattern_error> compile(std::string_view text);

  // Raw match, ignoring the restricted-index rule (see index_name_matcher for that).
  bool matches(std::string_view name) const;

  kind type() const { return kind_; }
  const std::string& text() const { return text_; }
  // The RE2 syntax a regex pattern was translated to (empty for others); for tests and logs.
  const std::string& re2_pattern() const { return re2_pattern_; }
  // The wildcard form (non-regex kinds); used by the subset checks.
  const detail::glob* wildcard() const { return glob_.get(); }

  ~index_pattern();
  index_pattern(const index_pattern&);
  index_pattern(index_pattern&&) noexcept;
  index_pattern& operator=(const index_pattern&);
  index_pattern& operator=(index_pattern&&) noexcept;

 private:
  index_pattern() = default;
  struct regex_holder;

  kind kind_ = kind::literal;
  std::string text_;
  std::string re2_pattern_;
  std::shared_ptr<const detail::glob> glob_;
  std::shared_ptr<const regex_holder> regex_;
};

// Translates a Lucene RegExp body (without the surrounding slashes) to an RE2 pattern meant for a
// full match, or explains why it cannot.
std::variant<std::string, pattern_error> lucene_regex_to_re2(std::string_view body);

// Translates a wildcard pattern to an RE2 pattern (UTF-8 mode, for a full match) with the same
// language over valid UTF-8 names: `*` → `.*`, `?` → one code point, the rest quoted.
std::string wildcard_to_re2(std::string_view pattern);

// Matcher for one `names` list with its `allow_restricted_indices` flag.
//
// Request-time cost does not grow with the number of names: literals are looked up in a hash set
// and, past a few patterns, all wildcards and regexes run as ONE anchored RE2::Set automaton
// (linear in the index name). Names that are not valid UTF-8, or an automaton that runs out of
// memory, fall back to testing the patterns one by one (same answers, just slower).
class index_name_matcher {
 public:
  // Fails on the first invalid pattern.
  static std::variant<index_name_matcher, pattern_error> compile(
      const std::vector<std::string>& names, bool allow_restricted);
  // Compiles what it can and skips invalid patterns (fail closed: they match nothing).
  static index_name_matcher compile_lenient(const std::vector<std::string>& names,
                                            bool allow_restricted);

  bool matches(std::string_view index) const;

  bool allow_restricted() const { return allow_restricted_; }
  bool matches_all_unrestricted() const { return match_all_; }            // has `*`
  const std::vector<std::string>& literals() const { return literals_; }  // sorted
  const std::vector<index_pattern>& wildcards() const { return wildcards_; }
  const std::vector<index_pattern>& regexes() const { return regexes_; }
  // True when the wildcards and regexes are compiled into one automaton (for tests).
  bool uses_automaton() const;

  struct compiled;  // implementation detail (index_pattern.cpp)

 private:
  index_name_matcher() = default;
  void add(index_pattern p);
  void finish();

  std::vector<std::string> literals_;
  std::vector<index_pattern> wildcards_;
  std::vector<index_pattern> regexes_;
  bool match_all_ = false;
  bool allow_restricted_ = false;
  std::shared_ptr<const compiled> fast_;  // immutable, shared by copies
};

}  // namespace esgate::policy
