#include "esgate/policy/index_pattern.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <functional>
#include <unordered_set>

#include "esgate/util/utf8.hpp"
#include "glob.hpp"
#include "pattern_set.hpp"

namespace esgate::policy {

namespace detail {

pattern_set::pattern_set() {
  RE2::Options o;
  o.set_log_errors(false);
  // Room for thousands of patterns (program) and their DFA cache; past it, matches() says
  // unknown and callers test one by one.
  o.set_max_mem(64 << 20);
  set_ = std::make_unique<RE2::Set>(o, RE2::ANCHOR_BOTH);
}
pattern_set::~pattern_set() = default;

int pattern_set::add(const std::string& re2_pattern) {
  const int id = set_->Add(re2_pattern, nullptr);
  if (id < 0)
    ok_ = false;
  else
    ++size_;
  return id;
}

void pattern_set::compile() {
  if (ok_ && size_ > 0) compiled_ = set_->Compile();
}

pattern_set::answer pattern_set::matches(std::string_view name) const {
  // The wildcard translation relies on `.` = one unit, true only for valid UTF-8 names.
  if (!ok() || !util::is_valid_utf8(name)) return answer::unknown;
  RE2::Set::ErrorInfo e{RE2::Set::kNoError};
  if (set_->Match(re2::StringPiece(name.data(), name.size()), nullptr, &e)) return answer::match;
  return e.kind == RE2::Set::kNoError ? answer::no_match : answer::unknown;
}

pattern_set::answer pattern_set::matching_ids(std::string_view name, std::vector<int>& ids) const {
  ids.clear();
  if (!ok() || !util::is_valid_utf8(name)) return answer::unknown;
  RE2::Set::ErrorInfo e{RE2::Set::kNoError};
  if (set_->Match(re2::StringPiece(name.data(), name.size()), &ids, &e)) return answer::match;
  return e.kind == RE2::Set::kNoError ? answer::no_match : answer::unknown;
}

}  // namespace detail

namespace {

// Up to this many wildcards/regexes, testing them one by one beats an RE2::Set call.
constexpr std::size_t max_scanned_patterns = 4;
// Up to this many literals, binary search on the sorted vector beats hashing.
constexpr std::size_t max_searched_literals = 8;

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

}  // namespace

struct index_name_matcher::compiled {
  std::unordered_set<std::string, string_hash, std::equal_to<>> literals;  // empty: use the vector
  detail::pattern_set patterns;
  bool use_patterns = false;
};

std::string wildcard_to_re2(std::string_view p) {
  std::string out = "(?s)";
  for (std::size_t i = 0; i < p.size();) {
    const char c = p[i];
    if (c == '*') {
      while (i < p.size() && p[i] == '*') ++i;
      out += ".*";
      continue;
    }
    if (c == '?') {
      ++i;
      out += '.';
      continue;
    }
    if (c == '\\' && i + 1 < p.size()) ++i;  // escaped: the next unit is literal
    const std::size_t n = detail::unit_length(p, i);
    out += RE2::QuoteMeta(re2::StringPiece(p.data() + i, n));
    i += n;
  }
  return out;
}

bool is_restricted_index(std::string_view name) { return !name.empty() && name.front() == '.'; }

struct index_pattern::regex_holder {
  explicit regex_holder(const std::string& pattern, const RE2::Options& o) : re(pattern, o) {}
  RE2 re;
};

index_pattern::~index_pattern() = default;
index_pattern::index_pattern(const index_pattern&) = default;
index_pattern::index_pattern(index_pattern&&) noexcept = default;
index_pattern& index_pattern::operator=(const index_pattern&) = default;
index_pattern& index_pattern::operator=(index_pattern&&) noexcept = default;

std::variant<index_pattern, pattern_error> index_pattern::compile(std::string_view text) {
  index_pattern p;
  p.text_ = std::string(text);
  if (text.starts_with('/')) {
    if (text.size() == 1 || !text.ends_with('/')) {
      // Automatons.buildAutomaton's wording.
      return pattern_error{"invalid pattern [" + std::string(text) +
                           "]. patterns starting with '/' indicate regular expression pattern and "
                           "therefore must also end with '/'. other patterns (those that do not "
                           "start with '/') will be treated as simple wildcard patterns"};
    }
    auto translated = lucene_regex_to_re2(text.substr(1, text.size() - 2));
    if (auto* e = std::get_if<pattern_error>(&translated))
      return pattern_error{"invalid regular expression [" + std::string(text) + "]: " + e->message};
    p.re2_pattern_ = std::move(std::get<std::string>(translated));
    RE2::Options o;
    o.set_log_errors(false);
    o.set_max_mem(8 << 20);
    auto holder = std::make_shared<regex_holder>(p.re2_pattern_, o);
    if (!holder->re.ok())
      return pattern_error{"invalid regular expression [" + std::string(text) +
                           "]: " + holder->re.error()};
    p.kind_ = kind::regex;
    p.regex_ = std::move(holder);
    return p;
  }
  if (!util::is_valid_utf8(text))
    return pattern_error{"invalid index name pattern: not valid UTF-8"};
  p.glob_ = std::make_shared<const detail::glob>(text);
  if (p.glob_->is_literal())
    p.kind_ = kind::literal;
  else if (p.glob_->is_match_all())
    p.kind_ = kind::match_all;
  else
    p.kind_ = kind::wildcard;
  return p;
}

bool index_pattern::matches(std::string_view name) const {
  if (kind_ == kind::regex)
    return RE2::FullMatch(re2::StringPiece(name.data(), name.size()), regex_->re);
  return glob_->matches(name);
}

void index_name_matcher::add(index_pattern p) {
  switch (p.type()) {
    case index_pattern::kind::literal:
      literals_.push_back(p.wildcard()->literal_value());
      break;
    case index_pattern::kind::match_all:
      match_all_ = true;
      break;
    case index_pattern::kind::wildcard:
      wildcards_.push_back(std::move(p));
      break;
    case index_pattern::kind::regex:
      regexes_.push_back(std::move(p));
      break;
  }
}

void index_name_matcher::finish() {
  std::sort(literals_.begin(), literals_.end());
  literals_.erase(std::unique(literals_.begin(), literals_.end()), literals_.end());
  if (match_all_) wildcards_.clear();  // subsumed
  auto c = std::make_shared<compiled>();
  if (literals_.size() > max_searched_literals)
    c->literals.insert(literals_.begin(), literals_.end());
  if (!match_all_ && wildcards_.size() + regexes_.size() > max_scanned_patterns) {
    for (const index_pattern& p : wildcards_) c->patterns.add(wildcard_to_re2(p.text()));
    for (const index_pattern& p : regexes_) c->patterns.add(p.re2_pattern());
    c->patterns.compile();
    c->use_patterns = c->patterns.ok();
  }
  fast_ = std::move(c);
}

bool index_name_matcher::uses_automaton() const { return fast_ && fast_->use_patterns; }

std::variant<index_name_matcher, pattern_error> index_name_matcher::compile(
    const std::vector<std::string>& names, bool allow_restricted) {
  index_name_matcher m;
  m.allow_restricted_ = allow_restricted;
  for (const std::string& n : names) {
    auto p = index_pattern::compile(n);
    if (auto* e = std::get_if<pattern_error>(&p)) return *e;
    m.add(std::move(std::get<index_pattern>(p)));
  }
  m.finish();
  return m;
}

index_name_matcher index_name_matcher::compile_lenient(const std::vector<std::string>& names,
                                                       bool allow_restricted) {
  index_name_matcher m;
  m.allow_restricted_ = allow_restricted;
  for (const std::string& n : names) {
    auto p = index_pattern::compile(n);
    if (auto* ip = std::get_if<index_pattern>(&p)) m.add(std::move(*ip));
  }
  m.finish();
  return m;
}

bool index_name_matcher::matches(std::string_view index) const {
  // An explicitly listed name matches even when restricted (es-security-reference.md §7.1).
  if (fast_ && !fast_->literals.empty()) {
    if (fast_->literals.contains(index)) return true;
  } else {
    auto it = std::lower_bound(literals_.begin(), literals_.end(), index,
                               [](const std::string& a, std::string_view b) { return a < b; });
    if (it != literals_.end() && *it == index) return true;
  }
  if (!allow_restricted_ && is_restricted_index(index)) return false;
  if (match_all_) return true;
  if (fast_ && fast_->use_patterns) {
    const auto a = fast_->patterns.matches(index);
    if (a != detail::pattern_set::answer::unknown) return a == detail::pattern_set::answer::match;
  }
  for (const index_pattern& p : wildcards_)
    if (p.matches(index)) return true;
  for (const index_pattern& p : regexes_)
    if (p.matches(index)) return true;
  return false;
}

}  // namespace esgate::policy
