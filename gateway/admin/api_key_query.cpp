#include "api_key_query.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <numeric>

namespace esgate::admin::detail {

namespace json = boost::json;
using keystore::key_record;

namespace {

constexpr std::string_view payload_name = "query_api_key_request_payload";

enum class field_kind { keyword, date, boolean, metadata_root, metadata_path };

struct field_ref {
  field_kind kind = field_kind::keyword;
  std::string name;  // canonical: username, realm_name, name, type, creation, ...
  std::string path;  // for metadata_path: the part after "metadata."
};

api_error not_allowed(std::string_view field) {
  return illegal_argument("Field [" + std::string(field) +
                          "] is not allowed for API Key query or aggregation");
}

std::variant<field_ref, api_error> resolve_field(std::string_view f) {
  if (f.find_first_of("*?") != std::string_view::npos)
    return illegal_argument("Field name pattern [" + std::string(f) +
                            "] is not allowed for API Key query or aggregation");
  if (f == "username" || f == "name" || f == "type")
    return field_ref{field_kind::keyword, std::string(f), {}};
  if (f == "realm_name" || f == "realm") return field_ref{field_kind::keyword, "realm_name", {}};
  if (f == "creation" || f == "expiration" || f == "invalidation")
    return field_ref{field_kind::date, std::string(f), {}};
  if (f == "invalidated") return field_ref{field_kind::boolean, "invalidated", {}};
  if (f == "metadata") return field_ref{field_kind::metadata_root, "metadata", {}};
  constexpr std::string_view meta = "metadata.";
  if (f.size() > meta.size() && f.substr(0, meta.size()) == meta)
    return field_ref{field_kind::metadata_path, std::string(f), std::string(f.substr(meta.size()))};
  return not_allowed(f);
}

bool is_keyword(const field_ref& f) {
  return f.kind == field_kind::keyword || f.kind == field_kind::metadata_root ||
         f.kind == field_kind::metadata_path;
}

// ---- record values --------------------------------------------------------------------------

std::string scalar_text(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      return std::string(v.get_string());
    case json::kind::bool_:
      return v.get_bool() ? "true" : "false";
    case json::kind::int64:
      return std::to_string(v.get_int64());
    case json::kind::uint64:
      return std::to_string(v.get_uint64());
    case json::kind::double_: {
      char buf[64];
      auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v.get_double());
      return ec == std::errc() ? std::string(buf, p) : std::string();
    }
    default:
      return {};
  }
}

// Flattened-field view of metadata: (dotted path, leaf text) pairs; arrays contribute each
// element under the array's own path, nulls nothing (ES flattened field semantics).
void flatten(const json::value& v, const std::string& path,
             std::vector<std::pair<std::string, std::string>>& out) {
  if (v.is_object()) {
    for (const auto& kv : v.get_object())
      flatten(kv.value(), path.empty() ? std::string(kv.key()) : path + "." + std::string(kv.key()),
              out);
  } else if (v.is_array()) {
    for (const auto& e : v.get_array()) flatten(e, path, out);
  } else if (!v.is_null()) {
    out.emplace_back(path, scalar_text(v));
  }
}

std::vector<std::string> keyword_values(const field_ref& f, const key_record& r) {
  if (f.kind == field_kind::keyword) {
    if (f.name == "username") return {r.username};
    if (f.name == "realm_name") return {r.realm};
    if (f.name == "name") return {r.name};
    if (f.name == "type") return {r.type.empty() ? std::string("rest") : r.type};
    return {};
  }
  std::vector<std::pair<std::string, std::string>> leaves;
  flatten(json::value(r.metadata), "", leaves);
  std::vector<std::string> out;
  for (auto& [p, v] : leaves)
    if (f.kind == field_kind::metadata_root || p == f.path) out.push_back(std::move(v));
  return out;
}

std::optional<std::int64_t> date_value(const field_ref& f, const key_record& r) {
  if (f.name == "creation") return r.creation;
  if (f.name == "expiration") return r.expiration;
  if (f.name == "invalidation") return r.invalidated ? r.invalidation : std::nullopt;
  return std::nullopt;
}

// ---- wildcard -------------------------------------------------------------------------------

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Lucene WildcardQuery: `*` any sequence, `?` one character, `\` escapes the next one.
bool wildcard_match(std::string_view pat, std::string_view s) {
  std::size_t p = 0, i = 0, star_p = std::string_view::npos, star_i = 0;
  while (i < s.size()) {
    if (p < pat.size() && pat[p] == '*') {
      star_p = ++p;
      star_i = i;
      continue;
    }
    if (p < pat.size()) {
      char want = pat[p];
      std::size_t step = 1;
      bool any = false;
      if (want == '\\' && p + 1 < pat.size()) {
        want = pat[p + 1];
        step = 2;
      } else if (want == '?') {
        any = true;
      }
      if (any || want == s[i]) {
        p += step;
        ++i;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    i = ++star_i;
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

}  // namespace

// ---- the query tree -------------------------------------------------------------------------

struct query_node {
  enum class kind { match_all, boolean, term, prefix, wildcard, range, exists, ids };
  kind k = kind::match_all;
  field_ref field;
  std::vector<std::string> strings;   // keyword values, prefix, pattern, ids
  std::vector<std::int64_t> numbers;  // date / boolean (0,1) values
  bool case_insensitive = false;
  struct bound {
    bool present = false;
    bool inclusive = false;
    std::string s;
    std::int64_t n = 0;
  };
  bound lower, upper;
  std::vector<query_node> must, filter, should, must_not;
  std::optional<std::string> minimum_should_match;
};

namespace {

api_error parsing(std::string reason) {
  return bad_request("parsing_exception", std::move(reason));
}

const std::vector<std::string_view>& known_query_types() {
  static const std::vector<std::string_view> k{"bool",   "match_all", "ids",   "term",   "terms",
                                               "prefix", "wildcard",  "range", "exists", "match"};
  return k;
}

struct node_parser {
  std::int64_t now_ms;

  std::variant<query_node, api_error> parse(const json::value& v) {
    if (!v.is_object()) return parsing("[_na] query malformed, must start with start_object");
    const auto& o = v.get_object();
    if (o.size() != 1) {
      if (o.empty()) return parsing("query malformed, empty clause found");
      auto it = o.begin();
      const std::string first(it->key());
      ++it;
      return parsing("[" + first +
                     "] malformed query, expected [END_OBJECT] but found [FIELD_NAME]");
    }
    const auto& [type, body] = *o.begin();
    const std::string t(type);
    if (std::find(known_query_types().begin(), known_query_types().end(), t) ==
        known_query_types().end())
      return illegal_argument("Query type [" + t + "] is not supported for API Key query");
    if (!body.is_object())
      return parsing("[" + t + "] query malformed, no start_object after query name");
    const auto& b = body.get_object();
    if (t == "match_all") return parse_match_all(b);
    if (t == "bool") return parse_bool(b);
    if (t == "ids") return parse_ids(b);
    if (t == "exists") return parse_exists(b);
    if (t == "terms") return parse_terms(b);
    if (t == "range") return parse_range(b);
    return parse_single_field(t, b);
  }

  std::variant<query_node, api_error> parse_match_all(const json::object& b) {
    for (const auto& kv : b)
      if (kv.key() != "boost" && kv.key() != "_name")
        return parsing("[match_all] query does not support [" + std::string(kv.key()) + "]");
    return query_node{};
  }

  std::variant<query_node, api_error> parse_bool(const json::object& b) {
    query_node n;
    n.k = query_node::kind::boolean;
    for (const auto& kv : b) {
      const std::string key(kv.key());
      std::vector<query_node>* dest = nullptr;
      if (key == "must")
        dest = &n.must;
      else if (key == "filter")
        dest = &n.filter;
      else if (key == "should")
        dest = &n.should;
      else if (key == "must_not" || key == "mustNot")
        dest = &n.must_not;
      if (dest) {
        auto add = [&](const json::value& c) -> std::optional<api_error> {
          auto r = parse(c);
          if (auto* e = std::get_if<api_error>(&r)) return *e;
          dest->push_back(std::move(std::get<query_node>(r)));
          return std::nullopt;
        };
        if (kv.value().is_array()) {
          for (const auto& c : kv.value().get_array())
            if (auto e = add(c)) return *e;
        } else if (auto e = add(kv.value())) {
          return *e;
        }
      } else if (key == "minimum_should_match") {
        const auto& m = kv.value();
        if (m.is_int64() || m.is_uint64())
          n.minimum_should_match = scalar_text(m);
        else if (m.is_string())
          n.minimum_should_match = std::string(m.get_string());
        else if (!m.is_null())
          return parsing("[bool] query does not support [minimum_should_match] of type " +
                         token_name(m));
      } else if (key == "boost" || key == "_name" || key == "adjust_pure_negative") {
        continue;
      } else {
        return parsing("[bool] query does not support [" + key + "]");
      }
    }
    if (n.minimum_should_match) {
      if (!resolve_msm(*n.minimum_should_match, n.should.size()))
        return illegal_argument("failed to parse [minimum_should_match] value [" +
                                *n.minimum_should_match + "]");
    }
    return n;
  }

  std::variant<query_node, api_error> parse_ids(const json::object& b) {
    query_node n;
    n.k = query_node::kind::ids;
    for (const auto& kv : b) {
      if (kv.key() == "values") {
        if (!kv.value().is_array()) return parsing("[ids] values must be an array");
        for (const auto& v : kv.value().get_array()) {
          if (!v.is_string()) return parsing("[ids] values must be strings");
          n.strings.emplace_back(v.get_string());
        }
      } else if (kv.key() != "boost" && kv.key() != "_name") {
        return parsing("[ids] query does not support [" + std::string(kv.key()) + "]");
      }
    }
    return n;
  }

  std::variant<query_node, api_error> parse_exists(const json::object& b) {
    query_node n;
    n.k = query_node::kind::exists;
    bool have = false;
    for (const auto& kv : b) {
      if (kv.key() == "field") {
        if (!kv.value().is_string()) return parsing("[exists] field must be a string");
        auto f = resolve_field(kv.value().get_string());
        if (auto* e = std::get_if<api_error>(&f)) return *e;
        n.field = std::get<field_ref>(f);
        have = true;
      } else if (kv.key() != "boost" && kv.key() != "_name") {
        return parsing("[exists] query does not support [" + std::string(kv.key()) + "]");
      }
    }
    if (!have) return parsing("[exists] must be provided with a [field]");
    return n;
  }

  // A query value normalised for the field: keyword text, date millis, boolean 0/1.
  std::optional<api_error> add_value(query_node& n, const json::value& v, std::string_view qname) {
    if (v.is_object() || v.is_array() || v.is_null())
      return parsing("[" + std::string(qname) + "] value must not be " + token_name(v));
    switch (n.field.kind) {
      case field_kind::date: {
        std::optional<std::int64_t> ms;
        if (v.is_int64())
          ms = v.get_int64();
        else if (v.is_uint64() && v.get_uint64() <= std::uint64_t(INT64_MAX))
          ms = static_cast<std::int64_t>(v.get_uint64());
        else if (v.is_string())
          ms = parse_date_millis(v.get_string(), now_ms);
        if (!ms)
          return bad_request("parse_exception", "failed to parse date field [" + scalar_text(v) +
                                                    "] with format " +
                                                    "[strict_date_optional_time||epoch_millis]");
        n.numbers.push_back(*ms);
        return std::nullopt;
      }
      case field_kind::boolean: {
        const std::string t = scalar_text(v);
        if (t != "true" && t != "false")
          return illegal_argument("Can't parse boolean value [" + t +
                                  "], expected [true] or [false]");
        n.numbers.push_back(t == "true" ? 1 : 0);
        return std::nullopt;
      }
      default:
        n.strings.push_back(scalar_text(v));
        return std::nullopt;
    }
  }

  std::variant<query_node, api_error> parse_terms(const json::object& b) {
    query_node n;
    n.k = query_node::kind::term;
    bool have = false;
    for (const auto& kv : b) {
      const std::string key(kv.key());
      if (key == "boost" || key == "_name") continue;
      if (have) return parsing("[terms] query does not support multiple fields");
      if (kv.value().is_object())
        return illegal_argument("terms query with terms lookup is not supported for API Key query");
      if (!kv.value().is_array()) return parsing("[terms] query does not support [" + key + "]");
      auto f = resolve_field(key);
      if (auto* e = std::get_if<api_error>(&f)) return *e;
      n.field = std::get<field_ref>(f);
      for (const auto& v : kv.value().get_array())
        if (auto e = add_value(n, v, "terms")) return *e;
      have = true;
    }
    if (!have) return parsing("[terms] query requires a field");
    return n;
  }

  std::variant<query_node, api_error> parse_single_field(const std::string& t,
                                                         const json::object& b) {
    query_node n;
    n.k = t == "prefix"     ? query_node::kind::prefix
          : t == "wildcard" ? query_node::kind::wildcard
                            : query_node::kind::term;  // term, match
    std::string field;
    for (const auto& kv : b) {
      const std::string key(kv.key());
      if ((key == "boost" || key == "_name") && !kv.value().is_object()) continue;
      if (!field.empty())
        return parsing("[" + t + "] query doesn't support multiple fields, found [" + field +
                       "] and [" + key + "]");
      field = key;
      auto f = resolve_field(key);
      if (auto* e = std::get_if<api_error>(&f)) return *e;
      n.field = std::get<field_ref>(f);
      const json::value* value = &kv.value();
      if (kv.value().is_object()) {
        value = nullptr;
        for (const auto& opt : kv.value().get_object()) {
          const std::string o(opt.key());
          if ((o == "value" && t != "match") || (o == "wildcard" && t == "wildcard") ||
              (o == "query" && t == "match")) {
            value = &opt.value();
          } else if (o == "case_insensitive" && t != "match") {
            if (!opt.value().is_bool())
              return parsing("[" + t + "] query does not support [case_insensitive] of type " +
                             token_name(opt.value()));
            n.case_insensitive = opt.value().get_bool();
          } else if (o == "boost" || o == "_name" || o == "rewrite" ||
                     (t == "match" &&
                      (o == "operator" || o == "analyzer" || o == "lenient" ||
                       o == "zero_terms_query" || o == "auto_generate_synonyms_phrase_query" ||
                       o == "fuzzy_transpositions" || o == "max_expansions" ||
                       o == "prefix_length"))) {
            continue;
          } else {
            return parsing("[" + t + "] query does not support [" + o + "]");
          }
        }
        if (!value) return parsing("[" + t + "] query requires a value for field [" + key + "]");
      }
      if ((n.k == query_node::kind::prefix || n.k == query_node::kind::wildcard) &&
          !is_keyword(n.field))
        return bad_request("query_shard_exception",
                           "Can only use " + t + " queries on keyword and text fields - not on [" +
                               n.field.name + "] which is of type [" +
                               (n.field.kind == field_kind::date ? "date" : "boolean") + "]");
      if (auto e = add_value(n, *value, t)) return *e;
    }
    if (field.empty()) return parsing("[" + t + "] query requires a field");
    if (n.case_insensitive)
      for (auto& s : n.strings) s = ascii_lower(s);
    return n;
  }

  std::variant<query_node, api_error> parse_range(const json::object& b) {
    query_node n;
    n.k = query_node::kind::range;
    std::string field;
    for (const auto& kv : b) {
      const std::string key(kv.key());
      if ((key == "boost" || key == "_name") && !kv.value().is_object()) continue;
      if (!field.empty())
        return parsing("[range] query doesn't support multiple fields, found [" + field +
                       "] and [" + key + "]");
      field = key;
      auto f = resolve_field(key);
      if (auto* e = std::get_if<api_error>(&f)) return *e;
      n.field = std::get<field_ref>(f);
      if (!kv.value().is_object())
        return parsing("[range] query malformed, no start_object after field name");
      bool include_lower = true, include_upper = true;
      const json::value *from = nullptr, *to = nullptr;
      for (const auto& opt : kv.value().get_object()) {
        const std::string o(opt.key());
        const json::value& v = opt.value();
        if (o == "gt" || o == "gte" || o == "from") {
          from = &v;
          include_lower = o != "gt";
        } else if (o == "lt" || o == "lte" || o == "to") {
          to = &v;
          include_upper = o != "lt";
        } else if (o == "include_lower" && v.is_bool()) {
          include_lower = v.get_bool();
        } else if (o == "include_upper" && v.is_bool()) {
          include_upper = v.get_bool();
        } else if (o == "relation") {
          return illegal_argument("range query with relation is not supported for API Key query");
        } else if (o == "format" || o == "time_zone" || o == "boost" || o == "_name") {
          continue;
        } else {
          return parsing("[range] query does not support [" + o + "]");
        }
      }
      auto set = [&](query_node::bound& bd, const json::value* v,
                     bool inclusive) -> std::optional<api_error> {
        if (!v || v->is_null()) return std::nullopt;
        query_node tmp;
        tmp.field = n.field;
        if (auto e = add_value(tmp, *v, "range")) return e;
        bd.present = true;
        bd.inclusive = inclusive;
        if (!tmp.numbers.empty()) bd.n = tmp.numbers.front();
        if (!tmp.strings.empty()) bd.s = tmp.strings.front();
        return std::nullopt;
      };
      if (auto e = set(n.lower, from, include_lower)) return *e;
      if (auto e = set(n.upper, to, include_upper)) return *e;
    }
    if (field.empty()) return parsing("[range] query requires a field");
    return n;
  }

  // minimum_should_match: N, -N, P%, -P% (Queries.calculateMinShouldMatch).
  static std::optional<std::int64_t> resolve_msm(std::string_view spec, std::size_t optional) {
    std::string s(spec);
    s.erase(std::remove_if(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); }),
            s.end());
    if (s.empty()) return std::nullopt;
    const bool percent = s.back() == '%';
    if (percent) s.pop_back();
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    const auto total = static_cast<std::int64_t>(optional);
    std::int64_t result;
    if (percent)
      result = v < 0 ? total + (total * v) / 100 : (total * v) / 100;
    else
      result = v < 0 ? total + v : v;
    return std::max<std::int64_t>(result, 0);
  }
};

int compare_numbers(std::int64_t a, std::int64_t b) { return a < b ? -1 : (a > b ? 1 : 0); }

bool in_range(const query_node& q, std::int64_t v) {
  if (q.lower.present) {
    int c = compare_numbers(v, q.lower.n);
    if (c < 0 || (c == 0 && !q.lower.inclusive)) return false;
  }
  if (q.upper.present) {
    int c = compare_numbers(v, q.upper.n);
    if (c > 0 || (c == 0 && !q.upper.inclusive)) return false;
  }
  return true;
}

bool in_range(const query_node& q, const std::string& v) {
  if (q.lower.present) {
    int c = v.compare(q.lower.s);
    if (c < 0 || (c == 0 && !q.lower.inclusive)) return false;
  }
  if (q.upper.present) {
    int c = v.compare(q.upper.s);
    if (c > 0 || (c == 0 && !q.upper.inclusive)) return false;
  }
  return true;
}

}  // namespace

std::variant<std::shared_ptr<const query_node>, api_error> parse_query(const json::value& q,
                                                                       std::int64_t now_ms) {
  node_parser p{now_ms};
  auto r = p.parse(q);
  if (auto* e = std::get_if<api_error>(&r)) return *e;
  return std::shared_ptr<const query_node>(
      std::make_shared<query_node>(std::move(std::get<query_node>(r))));
}

bool matches(const query_node& q, const key_record& rec) {
  using k = query_node::kind;
  switch (q.k) {
    case k::match_all:
      return true;
    case k::ids:
      return std::find(q.strings.begin(), q.strings.end(), rec.id) != q.strings.end();
    case k::boolean: {
      for (const auto& c : q.must)
        if (!matches(c, rec)) return false;
      for (const auto& c : q.filter)
        if (!matches(c, rec)) return false;
      for (const auto& c : q.must_not)
        if (matches(c, rec)) return false;
      if (q.should.empty()) return true;
      std::int64_t need = (q.must.empty() && q.filter.empty()) ? 1 : 0;
      if (q.minimum_should_match)
        need = node_parser::resolve_msm(*q.minimum_should_match, q.should.size()).value_or(0);
      std::int64_t got = 0;
      for (const auto& c : q.should) got += matches(c, rec) ? 1 : 0;
      return got >= need;
    }
    case k::exists:
      if (q.field.kind == field_kind::date) return date_value(q.field, rec).has_value();
      if (q.field.kind == field_kind::boolean) return true;
      return !keyword_values(q.field, rec).empty();
    case k::term:
    case k::prefix:
    case k::wildcard:
    case k::range:
      break;
  }
  if (q.field.kind == field_kind::date) {
    auto v = date_value(q.field, rec);
    if (!v) return false;
    if (q.k == k::range) return in_range(q, *v);
    return std::find(q.numbers.begin(), q.numbers.end(), *v) != q.numbers.end();
  }
  if (q.field.kind == field_kind::boolean) {
    const std::int64_t v = rec.invalidated ? 1 : 0;
    if (q.k == k::range) return in_range(q, v);
    return std::find(q.numbers.begin(), q.numbers.end(), v) != q.numbers.end();
  }
  for (std::string v : keyword_values(q.field, rec)) {
    if (q.k == k::range) {
      if (in_range(q, v)) return true;
      continue;
    }
    if (q.case_insensitive) v = ascii_lower(v);
    for (const auto& want : q.strings) {
      if (q.k == k::term && v == want) return true;
      if (q.k == k::prefix && v.compare(0, want.size(), want) == 0) return true;
      if (q.k == k::wildcard && wildcard_match(want, v)) return true;
    }
  }
  return false;
}

// ---- request body, sorting, paging ----------------------------------------------------------

namespace {

std::optional<std::int64_t> as_int(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= std::uint64_t(INT64_MAX))
    return static_cast<std::int64_t>(v.get_uint64());
  if (v.is_string()) {
    std::int64_t n = 0;
    const auto& s = v.get_string();
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc() && p == s.data() + s.size()) return n;
  }
  return std::nullopt;
}

std::variant<sort_spec, api_error> sort_field(std::string_view name) {
  sort_spec s;
  if (name == "_doc") {
    s.field = "_doc";
    return s;
  }
  auto f = resolve_field(name);
  if (auto* e = std::get_if<api_error>(&f)) return *e;
  s.field = std::get<field_ref>(f).name;
  return s;
}

std::optional<api_error> parse_sort_entry(const json::value& e, std::vector<sort_spec>& out) {
  if (e.is_string()) {
    auto s = sort_field(e.get_string());
    if (auto* err = std::get_if<api_error>(&s)) return *err;
    out.push_back(std::get<sort_spec>(s));
    return std::nullopt;
  }
  if (!e.is_object() || e.get_object().size() != 1)
    return parsing("[sort] malformed, expected a field name or {field:{order}}");
  const auto& [name, opts] = *e.get_object().begin();
  auto s = sort_field(name);
  if (auto* err = std::get_if<api_error>(&s)) return *err;
  sort_spec spec = std::get<sort_spec>(s);
  auto order = [&](const json::value& o) -> std::optional<api_error> {
    if (!o.is_string()) return parsing("[sort] order must be [asc] or [desc]");
    const auto& t = o.get_string();
    if (t == "asc")
      spec.descending = false;
    else if (t == "desc")
      spec.descending = true;
    else
      return illegal_argument("Unknown SortOrder [" + std::string(t) + "]");
    return std::nullopt;
  };
  if (opts.is_string()) {
    if (auto err = order(opts)) return err;
  } else if (opts.is_object()) {
    for (const auto& kv : opts.get_object()) {
      const std::string k(kv.key());
      if (k == "order") {
        if (auto err = order(kv.value())) return err;
      } else if (k == "missing") {
        const std::string m = kv.value().is_string() ? std::string(kv.value().get_string()) : "";
        if (m == "_first")
          spec.missing_first = true;
        else if (m == "_last")
          spec.missing_first = false;
        else
          return illegal_argument(
              "esgate supports only [_first] and [_last] for [missing] in "
              "API Key query sorts");
      } else if (k == "format") {
        spec.format_date = true;
      } else if (k == "nested" || k == "nested_path" || k == "nested_filter") {
        return illegal_argument("nested sorting is not supported for API Key query");
      } else if (k == "unmapped_type" || k == "mode" || k == "numeric_type") {
        continue;
      } else {
        return parsing("[field_sort] unknown field [" + k + "]");
      }
    }
  } else {
    return parsing("[sort] malformed, expected a field name or {field:{order}}");
  }
  out.push_back(std::move(spec));
  return std::nullopt;
}

}  // namespace

std::variant<query_request, api_error> parse_query_request(const json::value* body,
                                                           std::int64_t now_ms) {
  query_request req;
  if (!body) return req;
  if (!body->is_object())
    return bad_request(
        "x_content_parse_exception",
        "[" + std::string(payload_name) + "] Expected START_OBJECT but was: " + token_name(*body));
  const auto& o = body->get_object();
  if (o.contains("aggs") && o.contains("aggregations"))
    return illegal_argument("Duplicate 'aggs' or 'aggregations' field");
  for (const auto& kv : o) {
    const std::string k(kv.key());
    const json::value& v = kv.value();
    if (k == "query") {
      auto q = parse_query(v, now_ms);
      if (auto* e = std::get_if<api_error>(&q)) return *e;
      req.query = std::get<std::shared_ptr<const query_node>>(q);
    } else if (k == "from" || k == "size") {
      auto n = as_int(v);
      if (!n)
        return bad_request("x_content_parse_exception",
                           "[" + std::string(payload_name) + "] " + k +
                               " doesn't support values of type: " + token_name(v));
      if (*n < 0)
        return illegal_argument("[" + k + "] parameter cannot be negative but was [" +
                                std::to_string(*n) + "]");
      (k == "from" ? req.from : req.size) = *n;
    } else if (k == "sort") {
      if (v.is_array()) {
        for (const auto& e : v.get_array())
          if (auto err = parse_sort_entry(e, req.sort)) return *err;
      } else if (auto err = parse_sort_entry(v, req.sort)) {
        return *err;
      }
    } else if (k == "search_after") {
      if (!v.is_array())
        return bad_request("x_content_parse_exception",
                           "[" + std::string(payload_name) +
                               "] search_after doesn't support values of type: " + token_name(v));
      req.search_after = v.get_array();
    } else if (k == "aggs" || k == "aggregations") {
      return illegal_argument("aggregations are not supported by esgate for API Key query");
    } else {
      return bad_request("x_content_parse_exception",
                         "[" + std::string(payload_name) + "] unknown field [" + k + "]");
    }
  }
  // Both are non-negative int64s: their sum fits in uint64 (from = 2^63-1 must not overflow).
  const std::uint64_t window =
      static_cast<std::uint64_t>(req.from) + static_cast<std::uint64_t>(req.size);
  if (window > static_cast<std::uint64_t>(max_result_window))
    return illegal_argument(
        "Result window is too large, from + size must be less than or equal to: [" +
        std::to_string(max_result_window) + "] but was [" + std::to_string(window) +
        "]. See the scroll api for a more efficient way to request large data sets. This limit "
        "can be set by changing the [index.max_result_window] index level setting.");
  if (req.search_after) {
    if (req.from > 0)
      return illegal_argument("`from` parameter must be set to 0 when `search_after` is used.");
    if (req.search_after->size() != req.sort.size())
      return illegal_argument("search_after has " + std::to_string(req.search_after->size()) +
                              " value(s) but sort has " + std::to_string(req.sort.size()) + ".");
  }
  return req;
}

namespace {

struct key_part {
  bool missing = false;
  std::int64_t n = 0;
  std::string s;
};

bool numeric_sort(const std::string& field) {
  return field != "_doc" && field != "username" && field != "realm_name" && field != "name" &&
         field != "type" && field.rfind("metadata", 0) != 0;
}

key_part sort_key(const sort_spec& spec, const key_record& r, std::size_t doc) {
  key_part p;
  if (spec.field == "_doc") {
    p.n = static_cast<std::int64_t>(doc);
    return p;
  }
  auto f = std::get<field_ref>(resolve_field(spec.field));
  if (f.kind == field_kind::date) {
    auto v = date_value(f, r);
    if (v)
      p.n = *v;
    else
      p.missing = true;
  } else if (f.kind == field_kind::boolean) {
    p.n = r.invalidated ? 1 : 0;
  } else {
    auto vals = keyword_values(f, r);
    if (vals.empty()) {
      p.missing = true;
    } else {
      // Multi-valued (metadata arrays): min for ascending, max for descending (ES default mode).
      p.s = spec.descending ? *std::max_element(vals.begin(), vals.end())
                            : *std::min_element(vals.begin(), vals.end());
    }
  }
  return p;
}

json::value sort_value(const sort_spec& spec, const key_part& p) {
  if (spec.field == "_doc") return p.n;
  if (spec.field == "invalidated") return p.n != 0;
  if (numeric_sort(spec.field)) {
    if (p.missing) {
      if (spec.format_date) return nullptr;
      const bool high = spec.descending == spec.missing_first;
      return high ? std::numeric_limits<std::int64_t>::max()
                  : std::numeric_limits<std::int64_t>::min();
    }
    if (spec.format_date) return json::string(format_date_time(p.n));
    return p.n;
  }
  if (p.missing) return nullptr;
  return json::string(p.s);
}

std::variant<key_part, api_error> after_key(const sort_spec& spec, const json::value& v) {
  key_part p;
  if (v.is_null()) {
    p.missing = true;
    return p;
  }
  if (spec.field == "invalidated") {
    if (v.is_bool()) {
      p.n = v.get_bool() ? 1 : 0;
      return p;
    }
    if (auto n = as_int(v)) {
      p.n = *n != 0;
      return p;
    }
    if (v.is_string() && (v.get_string() == "true" || v.get_string() == "false")) {
      p.n = v.get_string() == "true";
      return p;
    }
  } else if (spec.field == "_doc" || numeric_sort(spec.field)) {
    if (auto n = as_int(v)) {
      if (spec.field != "_doc" && (*n == std::numeric_limits<std::int64_t>::max() ||
                                   *n == std::numeric_limits<std::int64_t>::min()))
        p.missing = true;
      p.n = *n;
      return p;
    }
    if (v.is_string() && spec.field != "_doc") {
      if (auto ms = parse_date_millis(v.get_string(), 0)) {
        p.n = *ms;
        return p;
      }
    }
  } else if (v.is_string() || v.is_number() || v.is_bool()) {
    p.s = scalar_text(v);
    return p;
  }
  return illegal_argument("Failed to parse search_after value for field [" + spec.field + "].");
}

int compare_keys(const std::vector<sort_spec>& specs, const std::vector<key_part>& a,
                 const std::vector<key_part>& b) {
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const auto& x = a[i];
    const auto& y = b[i];
    if (x.missing || y.missing) {
      if (x.missing && y.missing) continue;
      // Missing values sit at one end whatever the direction.
      const int c = x.missing ? 1 : -1;
      return specs[i].missing_first ? -c : c;
    }
    int c = 0;
    if (specs[i].field == "_doc" || numeric_sort(specs[i].field) || specs[i].field == "invalidated")
      c = compare_numbers(x.n, y.n);
    else
      c = x.s.compare(y.s) < 0 ? -1 : (x.s == y.s ? 0 : 1);
    if (c != 0) return specs[i].descending ? -c : c;
  }
  return 0;
}

}  // namespace

std::variant<query_result, api_error> run_query(const query_request& req,
                                                const std::vector<key_record>& candidates) {
  std::vector<key_part> after;
  if (req.search_after) {
    for (std::size_t i = 0; i < req.sort.size(); ++i) {
      auto k = after_key(req.sort[i], (*req.search_after)[i]);
      if (auto* e = std::get_if<api_error>(&k)) return *e;
      after.push_back(std::get<key_part>(k));
    }
  }
  struct row {
    std::size_t doc;
    std::vector<key_part> key;
  };
  std::vector<row> rows;
  query_result out;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (req.query && !matches(*req.query, candidates[i])) continue;
    ++out.total;
    row r{i, {}};
    for (const auto& s : req.sort) r.key.push_back(sort_key(s, candidates[i], i));
    if (req.search_after && compare_keys(req.sort, r.key, after) <= 0) continue;
    rows.push_back(std::move(r));
  }
  std::stable_sort(rows.begin(), rows.end(), [&](const row& a, const row& b) {
    const int c = compare_keys(req.sort, a.key, b.key);
    return c != 0 ? c < 0 : a.doc < b.doc;
  });
  const auto from = static_cast<std::size_t>(req.from);
  const auto size = static_cast<std::size_t>(req.size);
  for (std::size_t i = from; i < rows.size() && i < from + size; ++i) {
    query_hit h{&candidates[rows[i].doc], {}};
    for (std::size_t s = 0; s < req.sort.size(); ++s)
      h.sort_values.push_back(sort_value(req.sort[s], rows[i].key[s]));
    out.hits.push_back(std::move(h));
  }
  return out;
}

}  // namespace esgate::admin::detail
