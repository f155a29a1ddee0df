// Elasticsearch's `filter_path`, as AbstractRestChannel.newBuilder, FilterPath.compile,
// FilterPathBasedFilter and Jackson's FilteringGeneratorDelegate (INCLUDE_ALL_AND_PATH, multiple
// matches) apply it to a response:
//  - the parameter is split on commas, tokens trimmed, empty ones dropped; a token starting with
//    `-` is an exclusion (the rest of it, trimmed again);
//  - a path is split on `.` (`\.` escapes one); `*` globs within a name, `**` spans one or more
//    levels; an array does not consume a level, its elements see the array's filter;
//  - inclusions run first, then exclusions over what the inclusions kept (two stacked
//    generators); the root object is always written, a container the filter is still deciding
//    on is dropped when nothing in it is kept (TokenFilter.includeEmptyObject/Array are false),
//    and a scalar reached by a partial path is dropped by an inclusion, kept by an exclusion.
// Field names with dots are not split (matchFieldNamesWithDots is false for responses).
#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "esgate/response/es_json.hpp"

namespace esgate::response {
namespace {

namespace json = boost::json;

struct path_node {
  bool final_node = false;
  bool double_wildcard = false;  // the segment is exactly `**`
  bool wildcard = false;         // the segment contains `*`
  std::map<std::string, path_node, std::less<>> children;
  std::vector<const path_node*> wildcards;  // children with a `*`, in name order
  std::string pattern;
};

// org.elasticsearch.core.Glob.globMatch: `*` matches any run (including none), nothing else is
// special. Greedy with one backtrack point: linear, whatever the pattern.
bool glob_match(std::string_view pattern, std::string_view str) {
  std::size_t p = 0, s = 0, star = std::string_view::npos, resume = 0;
  while (s < str.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = s;
    } else if (p < pattern.size() && pattern[p] == str[s]) {
      ++p;
      ++s;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      s = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// Java's regex `\\.` (FilterPath's replaceAll("\\\\.", ".")): a backslash and any one character
// except a line terminator become a dot. Only applied when the segment had a `\.`.
std::string unescape_segment(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out.push_back(s[i]);
      continue;
    }
    std::string_view rest = s.substr(i + 1);
    std::size_t len = 1;  // one code point of UTF-8
    auto lead = static_cast<unsigned char>(rest[0]);
    if (lead >= 0xF0) len = 4;
    else if (lead >= 0xE0) len = 3;
    else if (lead >= 0xC0) len = 2;
    len = std::min(len, rest.size());
    std::string_view ch = rest.substr(0, len);
    bool terminator = ch == "\n" || ch == "\r" || ch == "\xC2\x85" || ch == "\xE2\x80\xA8" ||
                      ch == "\xE2\x80\xA9";
    if (terminator) {
      out.push_back(s[i]);
      continue;
    }
    out.push_back('.');
    i += len;
  }
  return out;
}

// FilterPathBuilder.insertNode.
void insert(path_node& node, std::string_view filter) {
  std::size_t split = std::string_view::npos;
  bool escapes = false;
  for (std::size_t i = 0; i < filter.size(); ++i) {
    if (filter[i] == '.') {
      split = i;
      break;
    }
    if (filter[i] == '\\' && i + 1 < filter.size() && filter[i + 1] == '.') {
      ++i;
      escapes = true;
    }
  }
  if (split != std::string_view::npos && split > 0) {
    std::string_view raw = filter.substr(0, split);
    std::string field = escapes ? unescape_segment(raw) : std::string(raw);
    path_node& child = node.children[field];
    if (!child.final_node) insert(child, filter.substr(split + 1));
    return;
  }
  std::string field = escapes ? unescape_segment(filter) : std::string(filter);
  node.children[field] = path_node{};  // a final node replaces a partial one and its children
  node.children[field].final_node = true;
}

void finish(path_node& node, std::string_view pattern) {
  node.pattern = pattern;
  node.double_wildcard = pattern == "**";
  node.wildcard = pattern.find('*') != std::string_view::npos;
  for (auto& [name, child] : node.children) {
    finish(child, name);
    if (child.wildcard) node.wildcards.push_back(&child);
  }
}

// FilterPath.matches: true when `name` completes a path; otherwise adds the nodes that go on.
bool matches(const path_node& node, std::string_view name, std::vector<const path_node*>& next) {
  auto term = node.children.find(name);
  if (term != node.children.end() && !term->second.wildcard) {
    if (term->second.final_node) return true;
    next.push_back(&term->second);
  }
  for (const path_node* w : node.wildcards) {
    if (!glob_match(w->pattern, name)) continue;
    if (w->final_node) return true;
    next.push_back(w);
  }
  if (node.double_wildcard) next.push_back(&node);
  return false;
}

using filter_set = std::vector<const path_node*>;

enum class decision { include_all, exclude, descend };

class path_filter {
 public:
  path_filter(std::vector<std::string_view> paths, bool inclusive) : inclusive_(inclusive) {
    for (auto p : paths) insert(root_, p);
    finish(root_, "");
  }
  path_filter(const path_filter&) = delete;  // the nodes point into root_
  path_filter& operator=(const path_filter&) = delete;

  void apply_root(json::value& v) const {
    filter_set root{&root_};
    if (v.is_object()) {
      filter_members(v.get_object(), root);  // the root object itself is always written
    } else if (!filter_value(v, root)) {
      v = json::object(v.storage());
    }
  }

 private:
  // FilterPathBasedFilter.includeProperty.
  decision decide(std::string_view name, const filter_set& filters, filter_set& next) const {
    next.clear();
    for (const path_node* f : filters)
      if (matches(*f, name, next))
        return inclusive_ ? decision::include_all : decision::exclude;
    if (next.empty()) return inclusive_ ? decision::exclude : decision::include_all;
    // `**` nodes re-add themselves at every level; duplicates would only multiply the work.
    std::sort(next.begin(), next.end());
    next.erase(std::unique(next.begin(), next.end()), next.end());
    return decision::descend;
  }

  // Returns whether anything of `v` is written under `filters` (a partial match).
  bool filter_value(json::value& v, const filter_set& filters) const {
    if (auto* o = v.if_object()) return filter_members(*o, filters);
    if (auto* a = v.if_array()) {
      std::size_t kept = 0;
      for (std::size_t i = 0; i < a->size(); ++i) {
        if (!filter_value((*a)[i], filters)) continue;
        if (kept != i) (*a)[kept] = std::move((*a)[i]);
        ++kept;
      }
      a->resize(kept);
      return kept != 0;
    }
    return !inclusive_;  // FilterPathBasedFilter._includeScalar
  }

  bool filter_members(json::object& o, const filter_set& filters) const {
    // Rebuilt rather than erased: boost::json::object::erase moves the last member into the gap.
    json::object kept(o.storage());
    kept.reserve(o.size());
    filter_set next;
    for (auto& member : o) {
      decision d = decide(member.key(), filters, next);
      if (d == decision::exclude) continue;
      if (d == decision::descend && !filter_value(member.value(), next)) continue;
      kept.emplace(member.key(), std::move(member.value()));
    }
    o = std::move(kept);
    return !o.empty();
  }

  path_node root_;
  bool inclusive_;
};

// Java's String.trim: strips every char <= ' ' at both ends.
std::string_view java_trim(std::string_view s) {
  while (!s.empty() && static_cast<unsigned char>(s.front()) <= ' ') s.remove_prefix(1);
  while (!s.empty() && static_cast<unsigned char>(s.back()) <= ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

void apply_filter_path(boost::json::value& v, std::string_view filter_path) {
  std::vector<std::string_view> includes, excludes;
  bool has_excludes = false;
  std::size_t start = 0;
  while (start <= filter_path.size()) {
    std::size_t comma = filter_path.find(',', start);
    if (comma == std::string_view::npos) comma = filter_path.size();
    std::string_view token = java_trim(filter_path.substr(start, comma - start));
    start = comma + 1;
    if (token.empty()) continue;
    if (token.front() == '-') {
      has_excludes = true;  // even `-` alone installs a (match-nothing) exclusion filter
      std::string_view rest = java_trim(token.substr(1));
      if (!rest.empty()) excludes.push_back(rest);
    } else {
      includes.push_back(token);  // FilterPath.compile trims again: already trimmed
    }
  }
  // AbstractRestChannel: the include filter wraps the exclude filter, so it sees the writes first.
  if (!includes.empty()) path_filter(includes, true).apply_root(v);
  if (has_excludes && !excludes.empty()) path_filter(excludes, false).apply_root(v);
}

}  // namespace esgate::response
