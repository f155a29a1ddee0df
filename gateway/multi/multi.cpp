// Multi-target bodies: msearch, mget/mtermvectors, reindex and query bodies (see multi.hpp).
// The parsers follow Elasticsearch 8's (MultiSearchRequest.readMultiLineFormat,
// MultiGetRequest.add, ReindexRequest.fromXContent, the query builders); where Elasticsearch
// would read an index through a quirk the gateway cannot mirror exactly, the request is refused.
#include "esgate/multi/multi.hpp"

#include <array>
#include <boost/json.hpp>
#include <initializer_list>
#include <utility>

namespace esgate::multi {
namespace {

namespace json = boost::json;

constexpr std::string_view k_empty_expression = "*,-*";  // ES's "no indices"
constexpr std::string_view k_get_action = "indices:data/read/get";
constexpr std::string_view k_search_action = "indices:data/read/search";
constexpr std::string_view k_delete_action = "indices:data/write/delete";
constexpr std::string_view k_default_shape_index = "shapes";  // AbstractGeometryQueryBuilder
constexpr std::size_t k_max_depth = 1000;  // Jackson's nesting limit (StreamReadConstraints)

body_error bad(std::string reason, std::string type = "illegal_argument_exception") {
  body_error e;
  e.reason = std::move(reason);
  e.type = std::move(type);
  return e;
}

body_error parse_error(std::string reason) {
  return bad(std::move(reason), "x_content_parse_exception");
}

body_error forbidden(std::string reason) {
  body_error e;
  e.status = 403;
  e.type = "security_exception";
  e.reason = std::move(reason);
  return e;
}

body_error error_of(const target_verdict& v) {
  if (v.k == target_verdict::kind::deny) return forbidden(v.reason);
  return bad(v.reason, v.type);
}

// "Validation Failed: 1: a;2: b;" (ActionRequestValidationException.getMessage).
body_error validation_failed(const std::vector<std::string>& errors) {
  std::string s = "Validation Failed: ";
  for (std::size_t i = 0; i < errors.size(); ++i)
    s += std::to_string(i + 1) + ": " + errors[i] + ";";
  return bad(std::move(s), "action_request_validation_exception");
}

// ElasticsearchException.generateFailureXContent: {"root_cause":[{type,reason}],type,reason}.
json::object failure(std::string_view type, std::string_view reason) {
  json::object cause{{"type", type}, {"reason", reason}};
  return json::object{{"root_cause", json::array{cause}}, {"type", type}, {"reason", reason}};
}

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) (s += s.empty() ? "" : ",") += n;
  return s;
}

std::string narrowed_expression(const target_verdict& v) {
  return v.names.empty() ? std::string(k_empty_expression) : join(v.names);
}

// ES's JSON parser (JsonXContent) accepts comments; Jackson limits nesting to 1000.
json::parse_options es_options() {
  json::parse_options opt;
  opt.allow_comments = true;
  opt.max_depth = k_max_depth;
  return opt;
}

std::optional<json::value> parse_whole(std::string_view text) {
  json::error_code ec;
  auto v = json::parse(text, ec, {}, es_options());
  if (ec) return std::nullopt;
  return v;
}

// Jackson's token names, as ES puts them in parsing errors.
std::string_view token_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::object:
      return "START_OBJECT";
    case json::kind::array:
      return "START_ARRAY";
    case json::kind::string:
      return "VALUE_STRING";
    case json::kind::bool_:
      return "VALUE_BOOLEAN";
    case json::kind::null:
      return "VALUE_NULL";
    default:
      return "VALUE_NUMBER";
  }
}

// parser.text() of a scalar token; nullopt for null, doubles (Jackson keeps the lexeme, which
// Boost.JSON does not) and containers.
std::optional<std::string> scalar_text(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      return std::string(v.get_string());
    case json::kind::int64:
      return std::to_string(v.get_int64());
    case json::kind::uint64:
      return std::to_string(v.get_uint64());
    case json::kind::bool_:
      return std::string(v.get_bool() ? "true" : "false");
    default:
      return std::nullopt;
  }
}

// An index field as XContentMapValues.nodeStringArrayValue reads it: "a,b" or ["a","b"] → the
// comma expression. Elements ES would turn into odd strings (null, objects) are refused.
std::optional<std::string> expression_of(const json::value& v) {
  if (!v.is_array()) return scalar_text(v);
  std::string s;
  bool first = true;
  for (const auto& e : v.get_array()) {
    auto t = scalar_text(e);
    if (!t) return std::nullopt;
    if (!first) s += ',';
    s += *t;
    first = false;
  }
  return s;
}

// `obj` with its index key(s) replaced by one `"index": expr`, where the last of them was (the
// one ES reads), other keys kept in order; appended when there was none.
json::object with_index(const json::object& obj, std::string expr,
                        std::initializer_list<std::string_view> keys) {
  const auto is_index = [&](std::string_view k) {
    for (const auto key : keys)
      if (k == key) return true;
    return false;
  };
  std::size_t last = obj.size();
  std::size_t i = 0;
  for (const auto& [k, v] : obj) {
    if (is_index(k)) last = i;
    ++i;
  }
  json::object out;
  i = 0;
  for (const auto& [k, v] : obj) {
    if (i == last)
      out.emplace("index", expr);
    else if (!is_index(k))
      out.emplace(k, v);
    ++i;
  }
  if (last == obj.size()) out.emplace("index", std::move(expr));
  return out;
}

// ---- indices a query reads besides the request's own targets ----------------------------

void collect_query_refs(const json::value& v, std::vector<std::string>& out);

void collect_underscore_index(const json::value& v, std::vector<std::string>& out) {
  // more_like_this like/unlike items: `{"_index": .., "_id": ..}` (MoreLikeThisQueryBuilder.Item).
  if (v.is_array()) {
    for (const auto& e : v.get_array()) collect_underscore_index(e, out);
  } else if (v.is_object()) {
    for (const auto& [k, e] : v.get_object()) {
      if (k == "_index" && e.is_string()) out.emplace_back(e.get_string());
      collect_underscore_index(e, out);
    }
  }
}

void collect_index_key(const json::value& v, std::vector<std::string>& out) {
  if (!v.is_object()) return;
  if (const auto* i = v.get_object().if_contains("index"); i && i->is_string())
    out.emplace_back(i->get_string());
}

void collect_key(std::string_view key, const json::value& value, std::vector<std::string>& out) {
  if (key == "terms" && value.is_object()) {  // terms lookup: {"terms":{"f":{"index":..}}}
    for (const auto& [field, spec] : value.get_object()) collect_index_key(spec, out);
  } else if (key == "percolate") {
    collect_index_key(value, out);
  } else if (key == "indexed_shape" && value.is_object()) {
    const auto* i = value.get_object().if_contains("index");
    if (i == nullptr)
      out.emplace_back(k_default_shape_index);
    else if (i->is_string())
      out.emplace_back(i->get_string());
  } else if (key == "more_like_this" && value.is_object()) {
    for (const auto& [k, items] : value.get_object())
      if (k == "like" || k == "unlike") collect_underscore_index(items, out);
  }
}

void collect_query_refs(const json::value& v, std::vector<std::string>& out) {
  if (v.is_array()) {
    for (const auto& e : v.get_array()) collect_query_refs(e, out);
  } else if (v.is_object()) {
    for (const auto& [key, value] : v.get_object()) {
      collect_key(key, value, out);
      collect_query_refs(value, out);
    }
  }
}

std::optional<body_error> authorize_refs(const std::vector<std::string>& refs,
                                         const target_authorizer& authorize) {
  for (const auto& index : refs) {
    const auto r = authorize(k_get_action, index, true);
    if (r.k != target_verdict::kind::allow) return error_of(r);
  }
  return std::nullopt;
}

// Bodies that cannot name an index skip the parse. `\u` escapes could spell a key.
bool may_name_index(std::string_view body) {
  return body.find("\"index\"") != std::string_view::npos ||
         body.find("\"_index\"") != std::string_view::npos ||
         body.find("indexed_shape") != std::string_view::npos ||
         body.find("\\u") != std::string_view::npos;
}

// The first JSON value of `body` (ES's parsers stop after it). nullopt when there is none;
// a body nested deeper than Jackson allows is refused rather than left unchecked.
boost::system::result<std::optional<json::value>, body_error> parse_first(std::string_view body) {
  json::parser p({}, es_options());
  json::error_code ec;
  p.write_some(body.data(), body.size(), ec);
  if (ec == json::error::too_deep)
    return bad("The nesting depth of the request body exceeds the maximum of " +
                   std::to_string(k_max_depth),
               "x_content_parse_exception");
  if (ec) return std::optional<json::value>{};
  return std::optional<json::value>{p.release()};
}

// ---- msearch --------------------------------------------------------------------------

// The header keys MultiSearchRequest.readMultiLineFormat accepts besides index/indices.
constexpr std::array<std::string_view, 17> k_header_keys = {"search_type",
                                                            "searchType",
                                                            "ccs_minimize_roundtrips",
                                                            "ccsMinimizeRoundtrips",
                                                            "request_cache",
                                                            "requestCache",
                                                            "preference",
                                                            "routing",
                                                            "allow_partial_search_results",
                                                            "expand_wildcards",
                                                            "expandWildcards",
                                                            "ignore_unavailable",
                                                            "ignoreUnavailable",
                                                            "allow_no_indices",
                                                            "allowNoIndices",
                                                            "ignore_throttled",
                                                            "ignoreThrottled"};

bool known_header_key(std::string_view key) {
  for (const auto k : k_header_keys)
    if (k == key) return true;
  return false;
}

struct msearch_header {
  json::object obj;                 // the parsed header ({} for an empty line)
  std::optional<std::string> expr;  // its index expression, when it names one
};

constexpr std::string_view k_newline_required =
    "The msearch request must be terminated by a newline [\n]";

boost::system::result<msearch_header, body_error> parse_header(std::string_view line) {
  msearch_header h;
  // ES skips an empty line's parse, and parser.map() reads only whitespace as an empty map.
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return h;
  auto v = parse_whole(line);
  if (!v) return parse_error("Failed to parse an msearch header line as a JSON object");
  // parser.map() reads a scalar as an empty map, an array leaves tokens behind.
  if (v->is_array()) return parse_error("Unexpected token after end of object");
  if (!v->is_object()) return h;
  h.obj = std::move(v->get_object());
  for (const auto& [key, value] : h.obj) {
    if (key == "index" || key == "indices") {
      auto e = expression_of(value);
      if (!e)
        return bad("The msearch header [" + std::string(key) +
                   "] must be a string or an "
                   "array of strings");
      h.expr = std::move(*e);  // the last one wins, as in ES's loop
    } else if (!known_header_key(key)) {
      return bad("key [" + std::string(key) + "] is not supported in the metadata section");
    }
  }
  return h;
}

std::string rewritten_header(const json::object& obj, const target_verdict& v) {
  return json::serialize(with_index(obj, narrowed_expression(v), {"index", "indices"}));
}

json::object msearch_failure(std::string_view type, std::string_view reason, int status) {
  return json::object{{"error", failure(type, reason)}, {"status", status}};
}

struct line_reader {
  std::string_view body;
  std::size_t pos = 0;
  bool at_end() const { return pos == body.size(); }
  // The next `\n`-terminated line; false when the rest has no `\n` (ES refuses it).
  bool next(std::string_view& line) {
    const auto nl = body.find('\n', pos);
    if (nl == std::string_view::npos) return false;
    line = body.substr(pos, nl - pos);
    pos = nl + 1;
    return true;
  }
};

// One header/body pair: forwarded (appended to `out`) or refused (a spliced item).
void plan_pair(const msearch_header& h, std::string_view header_line, std::string_view source,
               std::string_view path_index, std::string_view action,
               const target_authorizer& authorize, multi_plan& plan, std::string& out) {
  const std::size_t position = plan.total++;
  const std::string expr = h.expr ? *h.expr : std::string(path_index);
  const auto v = authorize(action, expr, false);
  if (v.k != target_verdict::kind::allow) {
    const int status = v.k == target_verdict::kind::deny ? 403 : 400;
    plan.denied.push_back({position, msearch_failure(v.type, v.reason, status)});
    return;
  }
  // The search body may read other indices itself (terms lookup, ...).
  if (auto e = check_query_body(source, authorize)) {
    plan.denied.push_back({position, msearch_failure(e->type, e->reason, e->status)});
    return;
  }
  ++plan.forwarded;
  if (v.rewritten) out += rewritten_header(h.obj, v);
  // Dropping pairs must not leave an empty first line (the REST compatibility ambiguity).
  else if (out.empty() && header_line.empty())
    out += "{}";
  else
    out += header_line;
  out += '\n';
  out += source;
  out += '\n';
}

// ---- mget / mtermvectors ----------------------------------------------------------------

struct doc_ref {
  std::optional<std::string> index;
  json::value id;  // the id as ES prints it in a failure (string or null)
  bool has_id = false;
};

// MultiGetRequest.parseDocuments leaves an object under an unknown key unparsed and goes on
// reading its fields as the doc's own, so a nested `_index` could pick the index: refused.
bool nested_underscore_index(const json::value& v) {
  if (v.is_array()) {
    for (const auto& e : v.get_array())
      if (nested_underscore_index(e)) return true;
  } else if (v.is_object()) {
    for (const auto& [k, e] : v.get_object())
      if (k == "_index" || nested_underscore_index(e)) return true;
  }
  return false;
}

boost::system::result<doc_ref, body_error> parse_doc(const json::value& doc,
                                                     std::string_view path_index) {
  if (!doc.is_object()) return bad("docs array element should include an object");
  doc_ref r;
  if (!path_index.empty()) r.index = std::string(path_index);
  for (const auto& [key, value] : doc.get_object()) {
    if (key == "_index") {
      if (value.is_null()) continue;  // VALUE_NULL is not a value token: the default stays
      if (!value.is_string()) return bad("[_index] must be a string in a docs array element");
      r.index = std::string(value.get_string());
    } else if (key == "_id") {
      if (auto t = scalar_text(value)) r.id = std::move(*t);
      r.has_id = r.has_id || !value.is_null();
    } else if (key == "doc") {
      r.has_id = true;  // an artificial document (mtermvectors) needs no id
    } else if (nested_underscore_index(value)) {
      return bad(
          "failed to parse multi get request. [_index] is only accepted at the top "
          "level of a docs array element",
          "parse_exception");
    }
  }
  return r;
}

boost::system::result<doc_ref, body_error> parse_id(const json::value& id,
                                                    std::string_view path_index) {
  auto t = scalar_text(id);
  if (!t) return bad("ids array element should only contain ids");
  doc_ref r;
  if (!path_index.empty()) r.index = std::string(path_index);
  r.id = std::move(*t);
  r.has_id = true;
  return r;
}

// Items in body order (`docs` and `ids` may both appear), with their array and element index.
struct doc_item {
  doc_ref ref;
  std::string_view array_key;
  std::size_t element = 0;
};

boost::system::result<std::vector<doc_item>, body_error> parse_docs_body(
    const json::value& doc, std::string_view path_index) {
  if (!doc.is_object())
    return bad("unexpected token [" + std::string(token_name(doc)) + "], expected [START_OBJECT]",
               "parsing_exception");
  std::vector<doc_item> items;
  for (const auto& [key, value] : doc.get_object()) {
    if (!value.is_array())
      return bad("unexpected token [" + std::string(token_name(value)) +
                     "], expected [FIELD_NAME] or [START_ARRAY]",
                 "parsing_exception");
    if (key != "docs" && key != "ids")
      return bad("unknown key [" + std::string(key) +
                     "] for a START_ARRAY, expected [docs] or "
                     "[ids]",
                 "parsing_exception");
    const auto& arr = value.get_array();
    for (std::size_t i = 0; i < arr.size(); ++i) {
      auto r = key == "docs" ? parse_doc(arr[i], path_index) : parse_id(arr[i], path_index);
      if (!r) return r.error();
      items.push_back({std::move(*r), key == "docs" ? "docs" : "ids", i});
    }
  }
  return items;
}

std::optional<body_error> validate_docs(const std::vector<doc_item>& items) {
  if (items.empty()) return validation_failed({"no documents to get"});
  std::vector<std::string> errors;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!items[i].ref.index || items[i].ref.index->empty())
      errors.push_back("index is missing for doc " + std::to_string(i));
    if (!items[i].ref.has_id) errors.push_back("id is missing for doc " + std::to_string(i));
  }
  if (errors.empty()) return std::nullopt;
  return validation_failed(errors);
}

// The body without the denied elements (each array filtered, other keys kept).
std::string without_denied(json::value doc, const std::vector<doc_item>& items,
                           const std::vector<bool>& keep) {
  auto& o = doc.get_object();
  for (const auto* key : {"docs", "ids"}) {
    auto* arr = o.if_contains(key);
    if (arr == nullptr) continue;
    json::array kept;
    for (std::size_t i = 0; i < items.size(); ++i)
      if (keep[i] && items[i].array_key == key) kept.push_back(arr->get_array()[items[i].element]);
    *arr = std::move(kept);
  }
  return json::serialize(doc);
}

// ---- reindex ----------------------------------------------------------------------------

struct reindex_parts {
  json::object* source = nullptr;
  std::string source_expr;
  bool remote = false;
  std::string dest_index;
  std::string_view write_action;
};

std::optional<std::string_view> write_action_of(const json::object& dest) {
  const auto* ot = dest.if_contains("op_type");
  if (ot == nullptr) return "indices:data/write/index:op_type/index";
  if (!ot->is_string()) return std::nullopt;
  std::string op(ot->get_string());
  for (auto& c : op) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (op == "create") return "indices:data/write/index:op_type/create";
  if (op == "index") return "indices:data/write/index:op_type/index";
  return std::nullopt;
}

boost::system::result<reindex_parts, body_error> parse_reindex(json::value& doc) {
  if (!doc.is_object())
    return parse_error("[reindex] Expected START_OBJECT but was: " + std::string(token_name(doc)));
  auto& o = doc.get_object();
  reindex_parts p;
  std::vector<std::string> invalid;
  if (auto* s = o.if_contains("source")) {
    if (!s->is_object())
      return parse_error("[reindex] source doesn't support values of type: " +
                         std::string(token_name(*s)));
    p.source = &s->get_object();
    p.remote = p.source->if_contains("remote") != nullptr;
    if (const auto* i = p.source->if_contains("index")) {
      auto e = expression_of(*i);
      if (!e || i->is_number() || i->is_bool())
        return bad("Expected [index] to be a list of a string but was [" + json::serialize(*i) +
                   "]");
      p.source_expr = std::move(*e);
    }
  }
  // "" and [] are no indices at all (Strings.splitStringByCommaToArray).
  if (p.source_expr.empty())
    invalid.emplace_back(
        "use _all if you really want to copy from all "
        "existing indexes");
  const json::object* dest = nullptr;
  if (auto* d = o.if_contains("dest")) {
    if (!d->is_object())
      return parse_error("[reindex] dest doesn't support values of type: " +
                         std::string(token_name(*d)));
    dest = &d->get_object();
  }
  const json::value* di = dest ? dest->if_contains("index") : nullptr;
  if (di != nullptr && !di->is_string())
    return parse_error("[dest] index doesn't support values of type: " +
                       std::string(token_name(*di)));
  if (di == nullptr) invalid.emplace_back("index must be specified");
  if (!invalid.empty()) return validation_failed(invalid);
  p.dest_index = std::string(di->get_string());
  const auto w = write_action_of(*dest);
  if (!w) {
    const auto* ot = dest->if_contains("op_type");
    return bad("opType must be 'create' or 'index', found: [" +
               (ot->is_string() ? std::string(ot->get_string()) : json::serialize(*ot)) + "]");
  }
  p.write_action = *w;
  return p;
}

// A script may set ctx._index (any index) and ctx.op = "delete": both must be allowed everywhere.
std::optional<body_error> check_script_writes(std::string_view write_action,
                                              const target_authorizer& authorize) {
  for (const auto action : {write_action, k_delete_action}) {
    const auto v = authorize(action, "*", false);
    if (v.k != target_verdict::kind::allow || v.rewritten)
      return forbidden("action [" + std::string(action) +
                       "] with a [script] may write to any "
                       "index: esgate allows it only for identities granted it on every index");
  }
  return std::nullopt;
}

}  // namespace

boost::system::result<multi_plan, body_error> plan_msearch(std::string_view body,
                                                           std::string_view path_index,
                                                           std::string_view action,
                                                           const target_authorizer& authorize) {
  // With REST API compatibility 7 ES skips an empty first line; in 8 it is an empty header.
  // The pairing would differ, so the gateway refuses the ambiguity.
  if (!body.empty() && body.front() == '\n')
    return bad(
        "support for empty first line before any action metadata in msearch API is "
        "deprecated and will be removed in the next major version");
  multi_plan plan;
  std::string out;
  out.reserve(body.size());
  line_reader lines{body};
  while (!lines.at_end()) {
    std::string_view header_line;
    if (!lines.next(header_line)) return bad(std::string(k_newline_required));
    auto h = parse_header(header_line);
    if (!h) return h.error();
    if (lines.at_end()) break;  // a last header without a body: ES ignores it
    std::string_view source;
    if (!lines.next(source)) return bad(std::string(k_newline_required));
    plan_pair(*h, header_line, source, path_index, action, authorize, plan, out);
  }
  // Nothing to search: let Elasticsearch answer its own "no requests added".
  plan.forward_body = plan.total == 0 ? std::string(body) : std::move(out);
  return plan;
}

boost::system::result<multi_plan, body_error> plan_docs(std::string_view body,
                                                        std::string_view path_index,
                                                        std::string_view action,
                                                        const target_authorizer& authorize) {
  auto doc = parse_whole(body);
  if (!doc) return parse_error("Failed to parse the request body");
  auto items = parse_docs_body(*doc, path_index);
  if (!items) return items.error();
  if (auto e = validate_docs(*items)) return *e;
  multi_plan plan;
  std::vector<bool> keep(items->size(), true);
  for (std::size_t i = 0; i < items->size(); ++i) {
    const auto& ref = (*items)[i].ref;
    ++plan.total;
    const auto v = authorize(action, *ref.index, true);
    if (v.k == target_verdict::kind::allow) {
      ++plan.forwarded;
      continue;
    }
    keep[i] = false;
    json::object item{
        {"_index", *ref.index}, {"_id", ref.id}, {"error", failure(v.type, v.reason)}};
    plan.denied.push_back({i, std::move(item)});
  }
  plan.forward_body =
      plan.denied.empty() ? std::string(body) : without_denied(std::move(*doc), *items, keep);
  return plan;
}

boost::system::result<std::string, body_error> plan_reindex(std::string_view body,
                                                            bool may_use_remote,
                                                            const target_authorizer& authorize) {
  auto doc = parse_whole(body);
  if (!doc) return parse_error("Failed to parse the reindex request body");
  auto parts = parse_reindex(*doc);
  if (!parts) return parts.error();
  bool rewritten = false;
  if (parts->remote) {
    if (!may_use_remote)
      return forbidden(
          "reindex from a remote cluster ([source.remote]) is only allowed through "
          "esgate for identities holding the cluster privilege [all]");
  } else {
    const auto r = authorize(k_search_action, parts->source_expr, false);
    if (r.k != target_verdict::kind::allow) return error_of(r);
    // The source is a search body: its query may read other indices.
    std::vector<std::string> refs;
    collect_query_refs(json::value(*parts->source), refs);
    if (auto e = authorize_refs(refs, authorize)) return *e;
    if (r.rewritten) {
      *parts->source = with_index(*parts->source, narrowed_expression(r), {"index"});
      rewritten = true;
    }
  }
  const auto w = authorize(parts->write_action, parts->dest_index, true);
  if (w.k != target_verdict::kind::allow) return error_of(w);
  if (doc->get_object().if_contains("script") != nullptr)
    if (auto e = check_script_writes(parts->write_action, authorize)) return *e;
  if (!rewritten) return std::string(body);
  return json::serialize(*doc);
}

std::optional<body_error> check_query_body(std::string_view body,
                                           const target_authorizer& authorize) {
  if (!may_name_index(body)) return std::nullopt;
  auto v = parse_first(body);
  if (!v) return v.error();
  // Invalid JSON: Elasticsearch reports its own parse error and reads nothing.
  if (!*v) return std::nullopt;
  std::vector<std::string> refs;
  collect_query_refs(**v, refs);
  return authorize_refs(refs, authorize);
}

std::optional<std::string> pit_id_of(std::string_view body) {
  if (body.find("\"pit\"") == std::string_view::npos && body.find("\\u") == std::string_view::npos)
    return std::nullopt;
  auto v = parse_first(body);
  if (!v || !*v || !(*v)->is_object()) return std::nullopt;
  const auto* pit = (*v)->get_object().if_contains("pit");
  if (pit == nullptr || !pit->is_object()) return std::nullopt;
  const auto* id = pit->get_object().if_contains("id");
  if (id == nullptr || !id->is_string()) return std::nullopt;
  return std::string(id->get_string());
}

}  // namespace esgate::multi
