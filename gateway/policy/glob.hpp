#pragma once
// Wildcard patterns over "units" (one UTF-8 code point, or one byte of invalid UTF-8) and an exact,
// budgeted subset test between unions of such patterns.
//
// Both index-name patterns (`logs-*`, `b?oks`) and transport-action patterns
// (`indices:data/read/*`) use this syntax, as Elasticsearch's Automatons.patterns() does: `*` any
// sequence, `?` one character, `\` escapes the next character (a trailing `\` is literal).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace esgate::policy::detail {

// Length in bytes of the unit starting at text[pos] (pos < text.size()).
std::size_t unit_length(std::string_view text, std::size_t pos);

class glob {
 public:
  glob() = default;
  // Never fails: every string is a valid wildcard pattern.
  explicit glob(std::string_view pattern);

  // Linear-ish matching: segments between stars are placed once, leftmost, never backtracked,
  // so the cost is O(|text| * longest segment) whatever the number of stars.
  bool matches(std::string_view text) const;

  const std::string& text() const { return text_; }
  bool is_literal() const { return star_count_ == 0 && !has_any_; }
  bool is_match_all() const;  // only stars
  // Literal bytes every matching string starts with (the leading literal units).
  const std::string& prefix() const { return prefix_; }
  // `<literal prefix>*`: matches exactly the strings starting with prefix().
  bool is_prefix_star() const { return prefix_star_; }
  const std::string& literal_value() const { return literal_; }  // valid when is_literal()

  enum class kind : std::uint8_t { lit, any1, star };
  struct token {
    kind k;
    std::uint64_t sym;  // packed unit bytes for kind::lit
  };
  const std::vector<token>& tokens() const { return tokens_; }

 private:
  struct segment {
    std::vector<token> toks;
    std::string bytes;  // concatenated literal bytes when `pure`
    bool pure = true;   // no `?`
  };
  bool match_segment_at(const segment& s, std::string_view text, std::size_t pos,
                        std::size_t& end) const;

  std::string text_;
  std::string literal_;
  std::string prefix_;
  bool prefix_star_ = false;
  std::vector<token> tokens_;
  std::vector<segment> segments_;  // star_count_ + 1 segments
  std::size_t star_count_ = 0;
  bool has_any_ = false;
};

// A language: the union of terms; a term is (union of include) minus (union of exclude).
struct lang_term {
  std::vector<const glob*> include;
  std::vector<const glob*> exclude;
};
using lang = std::vector<lang_term>;

bool lang_matches(const lang& l, std::string_view text);

enum class subset_answer { yes, no, unknown };
// Is every string of `a` also in `b`? Explores the product of the pattern automata over the
// alphabet of units that appear in any pattern plus one "other" symbol. Gives up (unknown) past
// `max_states` product states; callers treat unknown as "no" (conservative).
subset_answer lang_subset(const lang& a, const lang& b, std::size_t max_states = 20000);

// Static helpers shared by the permission code.
const glob& glob_match_all();     // "*"
const glob& glob_dot_prefixed();  // ".*": restricted (dot-prefixed) names

}  // namespace esgate::policy::detail
