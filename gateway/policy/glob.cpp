#include "glob.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace esgate::policy::detail {

namespace {

std::uint8_t byte_at(std::string_view t, std::size_t i) { return static_cast<std::uint8_t>(t[i]); }

std::uint64_t pack(std::string_view t, std::size_t pos, std::size_t len) {
  std::uint64_t v = len;
  for (std::size_t i = 0; i < len; ++i) v = (v << 8) | byte_at(t, pos + i);
  return v;
}

// Never equal to a packed unit (those carry their length, 1..4, in the top byte used).
constexpr std::uint64_t other_symbol = ~std::uint64_t{0};

}  // namespace

std::size_t unit_length(std::string_view t, std::size_t pos) {
  const std::uint8_t b0 = byte_at(t, pos);
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF)
    n = 2;
  else if (b0 >= 0xE0 && b0 <= 0xEF)
    n = 3;
  else if (b0 >= 0xF0 && b0 <= 0xF4)
    n = 4;
  else
    return 1;
  if (pos + n > t.size()) return 1;
  for (std::size_t i = 1; i < n; ++i)
    if ((byte_at(t, pos + i) & 0xC0) != 0x80) return 1;
  const std::uint8_t b1 = byte_at(t, pos + 1);
  // Overlong forms and UTF-16 surrogates are not code points.
  if ((b0 == 0xE0 && b1 < 0xA0) || (b0 == 0xED && b1 >= 0xA0) || (b0 == 0xF0 && b1 < 0x90) ||
      (b0 == 0xF4 && b1 >= 0x90))
    return 1;
  return n;
}

glob::glob(std::string_view p) : text_(p) {
  segments_.emplace_back();
  bool leading = true;  // no wildcard seen yet
  for (std::size_t i = 0; i < p.size();) {
    const char c = p[i];
    if (c == '*') {
      ++i;
      leading = false;
      if (!tokens_.empty() && tokens_.back().k == kind::star) continue;  // `**` == `*`
      tokens_.push_back({kind::star, 0});
      ++star_count_;
      segments_.emplace_back();
      continue;
    }
    if (c == '?') {
      ++i;
      leading = false;
      tokens_.push_back({kind::any1, 0});
      segments_.back().toks.push_back({kind::any1, 0});
      segments_.back().pure = false;
      has_any_ = true;
      continue;
    }
    if (c == '\\' && i + 1 < p.size()) ++i;  // escaped: the next unit is literal
    const std::size_t n = unit_length(p, i);
    const token t{kind::lit, pack(p, i, n)};
    tokens_.push_back(t);
    segments_.back().toks.push_back(t);
    segments_.back().bytes.append(p.substr(i, n));
    literal_.append(p.substr(i, n));
    if (leading) prefix_.append(p.substr(i, n));
    i += n;
  }
  std::size_t k = 0;  // leading literal tokens
  while (k < tokens_.size() && tokens_[k].k == kind::lit) ++k;
  prefix_star_ = star_count_ == 1 && k + 1 == tokens_.size() && tokens_.back().k == kind::star;
}

bool glob::is_match_all() const {
  return !tokens_.empty() && std::all_of(tokens_.begin(), tokens_.end(),
                                         [](const token& t) { return t.k == kind::star; });
}

bool glob::match_segment_at(const segment& s, std::string_view text, std::size_t pos,
                            std::size_t& end) const {
  if (s.pure) {
    if (text.size() - pos < s.bytes.size()) return false;
    if (text.compare(pos, s.bytes.size(), s.bytes) != 0) return false;
    end = pos + s.bytes.size();
    return true;
  }
  for (const token& t : s.toks) {
    if (pos >= text.size()) return false;
    const std::size_t n = unit_length(text, pos);
    if (t.k == kind::lit && pack(text, pos, n) != t.sym) return false;
    pos += n;
  }
  end = pos;
  return true;
}

bool glob::matches(std::string_view text) const {
  std::size_t p = 0;
  std::size_t e = 0;
  if (!match_segment_at(segments_.front(), text, 0, p)) return false;
  if (star_count_ == 0) return p == text.size();
  // Middle segments: leftmost placement is optimal for `*` patterns, so no backtracking.
  for (std::size_t i = 1; i + 1 < segments_.size(); ++i) {
    const segment& s = segments_[i];
    if (s.toks.empty()) continue;
    if (s.pure) {
      const std::size_t f = text.find(s.bytes, p);
      if (f == std::string_view::npos) return false;
      p = f + s.bytes.size();
      continue;
    }
    bool found = false;
    for (std::size_t at = p; at < text.size(); at += unit_length(text, at)) {
      if (match_segment_at(s, text, at, e)) {
        p = e;
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  const segment& last = segments_.back();
  if (last.toks.empty()) return true;
  if (last.pure) {
    return text.size() - p >= last.bytes.size() &&
           text.compare(text.size() - last.bytes.size(), last.bytes.size(), last.bytes) == 0;
  }
  for (std::size_t at = p; at < text.size(); at += unit_length(text, at))
    if (match_segment_at(last, text, at, e) && e == text.size()) return true;
  return false;
}

bool lang_matches(const lang& l, std::string_view text) {
  for (const lang_term& t : l) {
    bool in = false;
    for (const glob* g : t.include)
      if (g->matches(text)) {
        in = true;
        break;
      }
    if (!in) continue;
    bool out = false;
    for (const glob* g : t.exclude)
      if (g->matches(text)) {
        out = true;
        break;
      }
    if (!out) return true;
  }
  return false;
}

namespace {

struct indexed_term {
  std::vector<std::size_t> include;
  std::vector<std::size_t> exclude;
};

class product {
 public:
  product(const lang& a, const lang& b) {
    for (const lang_term& t : a) terms_a_.push_back(index_term(t));
    for (const lang_term& t : b) terms_b_.push_back(index_term(t));
    std::set<std::uint64_t> syms;
    for (const glob* g : globs_) {
      offsets_.push_back(bits_);
      bits_ += g->tokens().size() + 1;
      for (const auto& t : g->tokens())
        if (t.k == glob::kind::lit) syms.insert(t.sym);
    }
    alphabet_.assign(syms.begin(), syms.end());
    alphabet_.push_back(other_symbol);
    for (const indexed_term& t : terms_a_)
      a_includes_.insert(a_includes_.end(), t.include.begin(), t.include.end());
  }

  using state = std::vector<std::uint64_t>;

  state initial() const {
    state s(words(), 0);
    for (std::size_t g = 0; g < globs_.size(); ++g) {
      set(s, g, 0);
      close(s, g);
    }
    return s;
  }

  state step(const state& s, std::uint64_t sym) const {
    state n(words(), 0);
    for (std::size_t g = 0; g < globs_.size(); ++g) {
      const auto& toks = globs_[g]->tokens();
      for (std::size_t i = 0; i < toks.size(); ++i) {
        if (!test(s, g, i)) continue;
        switch (toks[i].k) {
          case glob::kind::lit:
            if (toks[i].sym == sym) set(n, g, i + 1);
            break;
          case glob::kind::any1:
            set(n, g, i + 1);
            break;
          case glob::kind::star:
            set(n, g, i);
            break;
        }
      }
      close(n, g);
    }
    return n;
  }

  bool accepts_a(const state& s) const { return accepts(s, terms_a_); }
  bool accepts_b(const state& s) const { return accepts(s, terms_b_); }
  bool a_alive(const state& s) const {
    for (std::size_t g : a_includes_)
      for (std::size_t i = 0; i <= globs_[g]->tokens().size(); ++i)
        if (test(s, g, i)) return true;
    return false;
  }
  const std::vector<std::uint64_t>& alphabet() const { return alphabet_; }

 private:
  indexed_term index_term(const lang_term& t) {
    indexed_term r;
    for (const glob* g : t.include) r.include.push_back(index_of(g));
    for (const glob* g : t.exclude) r.exclude.push_back(index_of(g));
    return r;
  }
  std::size_t index_of(const glob* g) {
    auto [it, inserted] = ids_.try_emplace(g, globs_.size());
    if (inserted) globs_.push_back(g);
    return it->second;
  }
  std::size_t words() const { return (bits_ + 63) / 64; }
  bool test(const state& s, std::size_t g, std::size_t i) const {
    const std::size_t b = offsets_[g] + i;
    return (s[b / 64] >> (b % 64)) & 1u;
  }
  void set(state& s, std::size_t g, std::size_t i) const {
    const std::size_t b = offsets_[g] + i;
    s[b / 64] |= std::uint64_t{1} << (b % 64);
  }
  void close(state& s, std::size_t g) const {  // a star may match nothing
    const auto& toks = globs_[g]->tokens();
    for (std::size_t i = 0; i < toks.size(); ++i)
      if (toks[i].k == glob::kind::star && test(s, g, i)) set(s, g, i + 1);
  }
  bool accepting(const state& s, std::size_t g) const {
    return test(s, g, globs_[g]->tokens().size());
  }
  bool accepts(const state& s, const std::vector<indexed_term>& terms) const {
    for (const indexed_term& t : terms) {
      bool in = false;
      for (std::size_t g : t.include) in = in || accepting(s, g);
      if (!in) continue;
      bool out = false;
      for (std::size_t g : t.exclude) out = out || accepting(s, g);
      if (!out) return true;
    }
    return false;
  }

  std::vector<const glob*> globs_;
  std::unordered_map<const glob*, std::size_t> ids_;
  std::vector<std::size_t> offsets_;
  std::size_t bits_ = 0;
  std::vector<indexed_term> terms_a_, terms_b_;
  std::vector<std::size_t> a_includes_;
  std::vector<std::uint64_t> alphabet_;
};

std::string key_of(const product::state& s) {
  std::string k(s.size() * sizeof(std::uint64_t), '\0');
  if (!s.empty()) std::memcpy(k.data(), s.data(), k.size());
  return k;
}

}  // namespace

namespace {

subset_answer explore(const lang& a, const lang& b, std::size_t max_states) {
  product p(a, b);
  std::unordered_set<std::string> seen;
  std::deque<product::state> todo;
  auto s0 = p.initial();
  seen.insert(key_of(s0));
  todo.push_back(std::move(s0));
  while (!todo.empty()) {
    product::state s = std::move(todo.front());
    todo.pop_front();
    if (p.accepts_a(s) && !p.accepts_b(s)) return subset_answer::no;
    if (!p.a_alive(s)) continue;
    for (std::uint64_t sym : p.alphabet()) {
      product::state n = p.step(s, sym);
      if (seen.insert(key_of(n)).second) {
        if (seen.size() > max_states) return subset_answer::unknown;
        todo.push_back(std::move(n));
      }
    }
  }
  return subset_answer::yes;
}

// Strings of `x` all start with x.prefix(); a glob whose prefix is incompatible with it can match
// none of them and is irrelevant to questions about x.
bool compatible(const glob& x, const glob& y) {
  return x.prefix().starts_with(y.prefix()) || y.prefix().starts_with(x.prefix());
}

// y ⊇ x for certain, judged from prefixes alone.
bool surely_covers(const glob& y, const glob& x) {
  return y.is_prefix_star() && x.prefix().starts_with(y.prefix());
}

// A string of x: wildcards replaced by `fill` (stars may also be empty).
std::string witness(const glob& x, std::string_view star_fill) {
  std::string w;
  for (const auto& t : x.tokens()) {
    if (t.k == glob::kind::star) {
      w += star_fill;
    } else if (t.k == glob::kind::any1) {
      w += '\x01';
    } else {
      std::size_t len = 1;
      while (len < 4 && (t.sym >> (8 * len)) != len) ++len;
      for (std::size_t i = len; i-- > 0;) w += static_cast<char>((t.sym >> (8 * i)) & 0xFF);
    }
  }
  return w;
}

}  // namespace

subset_answer lang_subset(const lang& a, const lang& b, std::size_t max_states) {
  // a ⊆ b iff every (include pattern − excludes) of a is; each such question only involves the
  // patterns of b that can overlap it, which keeps the product automata tiny.
  for (const lang_term& term : a) {
    for (const glob* x : term.include) {
      bool excluded = false;
      lang_term ax{{x}, {}};
      for (const glob* e : term.exclude) {
        if (!compatible(*x, *e)) continue;
        if (surely_covers(*e, *x)) excluded = true;
        ax.exclude.push_back(e);
      }
      if (excluded) continue;
      if (x->is_literal()) {
        const std::string& s = x->literal_value();
        if (lang_matches(lang{ax}, s) && !lang_matches(b, s)) return subset_answer::no;
        continue;
      }
      lang bx;
      bool covered = false;
      for (const lang_term& t : b) {
        lang_term bt;
        for (const glob* y : t.include)
          if (compatible(*x, *y)) bt.include.push_back(y);
        if (bt.include.empty()) continue;
        for (const glob* e : t.exclude)
          if (compatible(*x, *e)) bt.exclude.push_back(e);
        if (bt.exclude.empty())
          for (const glob* y : bt.include)
            if (surely_covers(*y, *x)) covered = true;
        bx.push_back(std::move(bt));
      }
      if (covered) continue;
      if (bx.empty() && ax.exclude.empty()) return subset_answer::no;  // x matches something
      // Cheap counterexamples before exploring the automata.
      for (std::string_view fill : {std::string_view(), std::string_view("\x01")}) {
        const std::string w = witness(*x, fill);
        if (lang_matches(lang{ax}, w) && !lang_matches(bx, w)) return subset_answer::no;
      }
      const subset_answer r = explore(lang{ax}, bx, max_states);
      if (r != subset_answer::yes) return r;
    }
  }
  return subset_answer::yes;
}

const glob& glob_match_all() {
  static const glob g("*");
  return g;
}

const glob& glob_dot_prefixed() {
  static const glob g(".*");
  return g;
}

}  // namespace esgate::policy::detail
