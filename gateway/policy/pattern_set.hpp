#pragma once
// One anchored RE2::Set over many index-name patterns: match time is linear in the name and
// independent of the number of patterns. Callers keep a one-by-one fallback for the cases the
// automaton cannot answer (name not valid UTF-8, DFA out of memory).
#include <re2/re2.h>
#include <re2/set.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace esgate::policy::detail {

class pattern_set {
 public:
  enum class answer { match, no_match, unknown };

  pattern_set();
  ~pattern_set();
  pattern_set(const pattern_set&) = delete;
  pattern_set& operator=(const pattern_set&) = delete;

  // Adds an RE2 pattern (full match); returns its id, or -1 when RE2 rejects it (the set is then
  // unusable: ok() is false).
  int add(const std::string& re2_pattern);
  // Must be called once after the last add().
  void compile();
  bool ok() const { return ok_ && compiled_; }
  std::size_t size() const { return size_; }

  // Does some pattern match? No allocation.
  answer matches(std::string_view name) const;
  // Fills `ids` with the ids of every matching pattern (unordered).
  answer matching_ids(std::string_view name, std::vector<int>& ids) const;

 private:
  std::unique_ptr<RE2::Set> set_;
  std::size_t size_ = 0;
  bool ok_ = true;
  bool compiled_ = false;
};

}  // namespace esgate::policy::detail
