#include "esgate/es/index_expression.hpp"

#include "esgate/util/utf8.hpp"

#include <algorithm>
#include <unordered_set>

#include "esgate/es/date_math.hpp"

namespace esgate::es {
namespace {

expression_error invalid_name(std::string_view name, std::string_view why) {
  return expression_error{"invalid_index_name_exception",
                          "Invalid index name [" + std::string(name) + "], " + std::string(why)};
}

expression_error illegal_argument(std::string reason) {
  return expression_error{"illegal_argument_exception", std::move(reason)};
}

// Strings.INVALID_FILENAME_CHARS, printed as Elasticsearch prints the set.
constexpr std::string_view invalid_filename_chars = R"([ , ", *, \, <, |, ,, >, /, ?])";

bool is_invalid_filename_char(char c) {
  switch (c) {
    case '\\':
    case '/':
    case '*':
    case '?':
    case '"':
    case '<':
    case '>':
    case '|':
    case ' ':
    case ',':
      return true;
    default:
      return false;
  }
}

// Control characters and malformed UTF-8 have no business in a name; they are refused before
// the ES rules so no downstream log or matcher ever sees them.
bool has_control_or_bad_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto cp = util::next_code_point(s, i);
    if (!cp || *cp < 0x20 || *cp == 0x7f || (*cp >= 0x80 && *cp <= 0x9f)) return true;  // + C1
  }
  return false;
}

std::optional<expression_error> validate_pattern(std::string_view pattern) {
  if (has_control_or_bad_utf8(pattern)) {
    return invalid_name(pattern, "must not contain control characters or invalid UTF-8");
  }
  for (char c : pattern) {
    if (c != '*' && (is_invalid_filename_char(c) || c == '#')) {
      return invalid_name(pattern, std::string("must not contain the following characters ") +
                                       std::string(invalid_filename_chars));
    }
  }
  // Old Elasticsearch versions read a leading `+` as "include"; refuse rather than guess.
  if (pattern.front() == '+') return invalid_name(pattern, "must not start with '_', '-', or '+'");
  return std::nullopt;
}

// Knuth-Morris-Pratt search of `needle` in `hay` from `from`; returns the end of the first match.
// Used so that wildcard matching stays linear whatever the input (no backtracking blow-up).
std::size_t kmp_find_end(std::string_view hay, std::size_t from, std::string_view needle,
                         std::vector<std::size_t>& fail) {
  if (needle.empty()) return from;
  fail.assign(needle.size(), 0);
  for (std::size_t i = 1, k = 0; i < needle.size(); ++i) {
    while (k > 0 && needle[i] != needle[k]) k = fail[k - 1];
    if (needle[i] == needle[k]) ++k;
    fail[i] = k;
  }
  for (std::size_t i = from, k = 0; i < hay.size(); ++i) {
    while (k > 0 && hay[i] != needle[k]) k = fail[k - 1];
    if (hay[i] == needle[k]) ++k;
    if (k == needle.size()) return i + 1;
  }
  return std::string_view::npos;
}

bool visible(std::string_view pattern, std::string_view name, const expand_wildcards& ew) {
  if (!ew.open && !ew.closed) return false;
  if (!name.empty() && name.front() == '.') {
    return ew.hidden || (!pattern.empty() && pattern.front() == '.');
  }
  return true;
}

}  // namespace

std::optional<expression_error> validate_index_name(std::string_view name) {
  if (has_control_or_bad_utf8(name)) {
    return invalid_name(name, "must not contain control characters or invalid UTF-8");
  }
  for (char c : name) {
    if (is_invalid_filename_char(c)) {
      return invalid_name(name, std::string("must not contain the following characters ") +
                                    std::string(invalid_filename_chars));
    }
  }
  if (name.empty()) return invalid_name(name, "must not be empty");
  if (name.find('#') != std::string_view::npos) return invalid_name(name, "must not contain '#'");
  if (name.find(':') != std::string_view::npos) return invalid_name(name, "must not contain ':'");
  if (name.front() == '_' || name.front() == '-' || name.front() == '+') {
    return invalid_name(name, "must not start with '_', '-', or '+'");
  }
  if (name.size() > max_index_name_bytes) {
    return invalid_name(name, "index name is too long, (" + std::to_string(name.size()) + " > " +
                                  std::to_string(max_index_name_bytes) + ")");
  }
  if (name == "." || name == "..") return invalid_name(name, "must not be '.' or '..'");
  if (std::any_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return invalid_name(name, "must be lowercase");
  }
  return std::nullopt;
}

bool is_wildcard(const index_item& item) noexcept {
  if (item.kind == item_kind::wildcard) return true;
  if (item.kind == item_kind::exclusion) return item.text.find('*') != std::string::npos;
  return false;
}

bool simple_match(std::string_view pattern, std::string_view name) noexcept {
  const auto first_star = pattern.find('*');
  if (first_star == std::string_view::npos) return pattern == name;
  // Anchored prefix and suffix, then each middle piece found leftmost (greedy leftmost is exact
  // for `*`-only globs), each search resuming where the last ended: O(|pattern| + |name|).
  const std::string_view prefix = pattern.substr(0, first_star);
  const auto last_star = pattern.rfind('*');
  const std::string_view suffix = pattern.substr(last_star + 1);
  if (name.size() < prefix.size() + suffix.size()) return false;
  if (name.substr(0, prefix.size()) != prefix) return false;
  if (name.substr(name.size() - suffix.size()) != suffix) return false;
  const std::string_view middle_hay =
      name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  std::string_view middle = pattern.substr(first_star + 1, last_star - first_star);
  std::vector<std::size_t> fail;
  std::size_t pos = 0;
  while (!middle.empty()) {
    const auto star = middle.find('*');
    const std::string_view piece = middle.substr(0, star);
    middle = star == std::string_view::npos ? std::string_view{} : middle.substr(star + 1);
    if (piece.empty()) continue;
    try {
      pos = kmp_find_end(middle_hay, pos, piece, fail);
    } catch (...) {  // allocation failure: fail closed
      return false;
    }
    if (pos == std::string_view::npos) return false;
  }
  return true;
}

boost::system::result<std::vector<index_item>, expression_error> parse_index_expression(
    std::string_view expression, std::chrono::system_clock::time_point now) {
  if (expression.empty()) return illegal_argument("index expression must not be empty");
  if (expression == "_all") return std::vector<index_item>{{item_kind::all, "_all"}};

  std::vector<index_item> items;
  bool wildcard_seen = false;
  std::size_t start = 0;
  while (start <= expression.size()) {
    auto comma = expression.find(',', start);
    if (comma == std::string_view::npos) comma = expression.size();
    std::string_view raw = expression.substr(start, comma - start);
    start = comma + 1;
    if (raw.empty()) {
      return illegal_argument("index expression [" + std::string(expression) +
                              "] contains an empty index name");
    }

    const bool exclusion = raw.front() == '-' && wildcard_seen;
    std::string_view body = exclusion ? raw.substr(1) : raw;
    if (body.empty()) {
      return illegal_argument("index expression [" + std::string(expression) +
                              "] contains an empty exclusion");
    }

    std::string text;
    bool from_date_math = false;
    if (is_date_math(body)) {
      auto resolved = resolve_date_math(body, now);
      if (!resolved) return expression_error{resolved.error().type, resolved.error().reason};
      text = std::move(*resolved);
      from_date_math = true;
    } else {
      if (body.find("::") != std::string_view::npos) {
        return illegal_argument(
            "index component selectors (::data, ::failures) are not "
            "supported: [" +
            std::string(raw) + "]");
      }
      if (body.find(':') != std::string_view::npos) {
        return illegal_argument("remote indices are not supported: [" + std::string(raw) + "]");
      }
      text = std::string(body);
    }

    const bool wildcard = text.find('*') != std::string::npos;
    if (wildcard) {
      if (auto err = validate_pattern(text)) return *std::move(err);
      wildcard_seen = true;
    } else if (auto err = validate_index_name(text)) {
      return *std::move(err);
    }

    item_kind kind = item_kind::literal;
    if (exclusion) {
      kind = item_kind::exclusion;
    } else if (wildcard) {
      kind = item_kind::wildcard;
    } else if (from_date_math) {
      kind = item_kind::date_math_resolved;
    }
    items.push_back({kind, std::move(text)});
  }
  return items;
}

boost::system::result<expand_wildcards, expression_error> parse_expand_wildcards(
    std::string_view value) {
  expand_wildcards ew;
  if (value.empty()) return ew;
  ew.open = false;
  std::size_t start = 0;
  while (start <= value.size()) {
    auto comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    const std::string_view v = value.substr(start, comma - start);
    start = comma + 1;
    if (v == "open") {
      ew.open = true;
    } else if (v == "closed") {
      ew.closed = true;
    } else if (v == "hidden") {
      ew.hidden = true;
    } else if (v == "all") {
      ew = {true, true, true};
    } else if (v == "none") {
      ew = {false, false, false};
    } else {
      return illegal_argument("No valid expand wildcard value [" + std::string(v) + "]");
    }
  }
  return ew;
}

std::vector<std::string> narrow(const std::vector<index_item>& expression,
                                const std::vector<std::string>& known_names,
                                const name_predicate& authorized, expand_wildcards expand) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  const auto add = [&](const std::string& name) {
    if (seen.insert(name).second) out.push_back(name);
  };
  const auto remove = [&](const std::string& name) {
    if (seen.erase(name) > 0) out.erase(std::find(out.begin(), out.end(), name));
  };
  const auto matches = [&](std::string_view pattern) {
    std::vector<const std::string*> hits;
    for (const auto& name : known_names) {
      if (simple_match(pattern, name) && visible(pattern, name, expand) && authorized(name)) {
        hits.push_back(&name);
      }
    }
    return hits;
  };

  // An empty expression is `_all` in Elasticsearch.
  if (expression.empty()) {
    for (const auto* name : matches("*")) add(*name);
    return out;
  }
  for (const auto& item : expression) {
    switch (item.kind) {
      case item_kind::all:
        for (const auto* name : matches("*")) add(*name);
        break;
      case item_kind::wildcard:
        for (const auto* name : matches(item.text)) add(*name);
        break;
      case item_kind::exclusion:
        if (is_wildcard(item)) {
          for (const auto* name : matches(item.text)) remove(*name);
        } else {
          remove(item.text);
        }
        break;
      case item_kind::literal:
      case item_kind::date_math_resolved:
        add(item.text);
        break;
    }
  }
  return out;
}

}  // namespace esgate::es
