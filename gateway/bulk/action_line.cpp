#include "action_line.hpp"

#include <algorithm>
#include <cstdio>

#include <boost/json/basic_parser_impl.hpp>

namespace esgate::bulk::detail {
namespace {

namespace json = boost::json;

// XContentParser.Token names, as ES prints them in its messages.
constexpr std::string_view tok_start_object = "START_OBJECT";
constexpr std::string_view tok_end_object = "END_OBJECT";
constexpr std::string_view tok_start_array = "START_ARRAY";
constexpr std::string_view tok_field_name = "FIELD_NAME";
constexpr std::string_view tok_string = "VALUE_STRING";
constexpr std::string_view tok_number = "VALUE_NUMBER";
constexpr std::string_view tok_boolean = "VALUE_BOOLEAN";
constexpr std::string_view tok_null = "VALUE_NULL";

enum class state : std::uint8_t {
  top,          // before the line's first token
  op_key,       // inside the outer object, expecting the op name
  op_value,     // after the op name, expecting its parameter object
  param_key,    // inside the parameter object
  param_value,  // after a parameter name
  nested,       // inside the object value of `_source` / `dynamic_templates`
  top_end,      // after the parameter object, expecting the outer `}`
  done,
};

// The item parameters BulkRequestParser accepts (9.x); anything else with a non-null value is
// "an unknown parameter". `_type` is refused in REST API v8+ with the same wording.
enum class param : std::uint8_t {
  index,
  id,
  op_type,
  version,
  version_type,
  require_data_stream,
  dynamic_templates,
  source,
  other_known,
  unknown,
};

param classify_param(std::string_view k) {
  if (k == "_index") return param::index;
  if (k == "_id") return param::id;
  if (k == "op_type") return param::op_type;
  if (k == "version") return param::version;
  if (k == "version_type") return param::version_type;
  if (k == "require_data_stream") return param::require_data_stream;
  if (k == "dynamic_templates") return param::dynamic_templates;
  if (k == "_source") return param::source;
  if (k == "routing" || k == "if_seq_no" || k == "if_primary_term" || k == "retry_on_conflict" ||
      k == "pipeline" || k == "require_alias" || k == "list_executed_pipelines") {
    return param::other_known;
  }
  return param::unknown;
}

std::string malformed(std::size_t line, std::string_view rest) {
  std::string s = "Malformed action/metadata line [";
  s += std::to_string(line);
  s += "], ";
  s += rest;
  return s;
}

struct handler {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  // Per line.
  std::size_t line = 0;
  action_line* out = nullptr;
  state st = state::top;
  std::size_t depth = 0;  // nesting inside state::nested
  param cur = param::unknown;
  bool in_dynamic_templates = false;

  // Reused buffers: keys of every open object (for duplicate detection), partial tokens.
  std::vector<std::string> keys;
  std::size_t nkeys = 0;
  std::vector<std::size_t> frames;  // index into keys where each open object's keys begin
  std::string cur_key;
  std::string key_buf;
  std::string val_buf;

  // Checks ES makes once the line is read.
  bool version_set = false;
  bool version_type_external = false;
  bool require_data_stream = false;
  bool dynamic_templates_nonempty = false;

  bool failed = false;
  bool duplicate = false;  // Jackson's duplicate-key error; its location is found afterwards
  body::body_error err;

  void reset(std::size_t line_no, action_line& o) {
    line = line_no;
    out = &o;
    o.has_index = false;
    o.has_id = false;
    o.op_type_create = false;
    o.index.clear();
    o.id.clear();
    st = state::top;
    depth = 0;
    in_dynamic_templates = false;
    nkeys = 0;
    frames.clear();
    key_buf.clear();
    val_buf.clear();
    version_set = version_type_external = require_data_stream = false;
    dynamic_templates_nonempty = false;
    failed = duplicate = false;
  }

  bool fail(std::string type, std::string reason, json::error_code& ec) {
    failed = true;
    err.status = 400;
    err.type = std::move(type);
    err.reason = std::move(reason);
    ec = json::error::extra_data;  // any code: it only stops the parser
    return false;
  }
  bool fail_arg(std::string reason, json::error_code& ec) {
    return fail("illegal_argument_exception", std::move(reason), ec);
  }

  // ES throws at the first token it does not expect; `tok` is that token's name.
  bool unexpected(std::string_view tok, json::error_code& ec) {
    std::string found = " but found [" + std::string(tok) + "]";
    switch (st) {
      case state::top:
        return fail_arg(malformed(line, "expected START_OBJECT" + found), ec);
      case state::op_key:
        return fail_arg(malformed(line, "expected FIELD_NAME" + found), ec);
      case state::op_value:
        return fail_arg(malformed(line, "expected START_OBJECT or END_OBJECT" + found), ec);
      case state::param_value:
        return fail_arg(
            malformed(line, "expected a simple value for field [" + cur_key + "]" + found), ec);
      default:
        return fail_arg(malformed(line, "expected END_OBJECT" + found), ec);
    }
  }

  static std::string_view joined(std::string& buf, json::string_view s) {
    if (buf.empty()) return {s.data(), s.size()};
    buf.append(s.data(), s.size());
    return buf;
  }

  bool add_key(std::string_view k) {
    std::size_t first = frames.empty() ? 0 : frames.back();
    for (std::size_t i = first; i < nkeys; ++i) {
      if (keys[i] == k) return false;
    }
    if (nkeys < keys.size()) {
      keys[nkeys].assign(k);
    } else {
      keys.emplace_back(k);
    }
    ++nkeys;
    return true;
  }

  void open_object() { frames.push_back(nkeys); }
  void close_object() {
    nkeys = frames.back();
    frames.pop_back();
  }

  // A scalar parameter value; `text` is what Jackson's text() gives (numbers as written).
  bool on_param_scalar(std::string_view tok, std::string_view text, bool is_null,
                       json::error_code& ec) {
    st = state::param_key;
    if (is_null) return true;  // ES skips null values, whatever the name
    switch (cur) {
      case param::index:
        out->has_index = true;
        out->index.assign(text);
        return true;
      case param::id:
        out->has_id = true;
        out->id.assign(text);
        return true;
      case param::op_type:
        out->op_type_create = text == "create";
        return true;
      case param::version:
        version_set = text != "-3";  // Versions.MATCH_ANY
        return true;
      case param::version_type:
        // VersionType.fromString
        if (text == "internal") return true;
        if (text == "external" || text == "external_gt" || text == "external_gte") {
          version_type_external = true;
          return true;
        }
        return fail_arg("No version type match [" + std::string(text) + "]", ec);
      case param::require_data_stream:
        require_data_stream = text == "true";
        return true;
      case param::source:
      case param::other_known:
        return true;
      case param::dynamic_templates:  // only an object is accepted for it
      case param::unknown:
        break;
    }
    (void)tok;
    return fail_arg("Action/metadata line [" + std::to_string(line) +
                        "] contains an unknown parameter [" + cur_key + "]",
                    ec);
  }

  bool scalar(std::string_view tok, std::string_view text, bool is_null, json::error_code& ec) {
    switch (st) {
      case state::param_value:
        return on_param_scalar(tok, text, is_null, ec);
      case state::nested:
        return true;
      default:
        return unexpected(tok, ec);
    }
  }

  // A partial string or number: ES has seen the token already.
  bool part(std::string_view tok, json::string_view s, json::error_code& ec) {
    switch (st) {
      case state::param_value:
        val_buf.append(s.data(), s.size());
        return true;
      case state::nested:
        return true;
      default:
        return unexpected(tok, ec);
    }
  }

  bool finish_scalar(std::string_view tok, json::string_view s, json::error_code& ec) {
    std::string_view text = st == state::param_value ? joined(val_buf, s) : std::string_view{};
    bool ok = scalar(tok, text, false, ec);
    val_buf.clear();
    return ok;
  }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }

  bool on_object_begin(json::error_code& ec) {
    switch (st) {
      case state::top:
        open_object();
        st = state::op_key;
        return true;
      case state::op_value:
        open_object();
        st = state::param_key;
        return true;
      case state::param_value:
        if (cur != param::source && cur != param::dynamic_templates) {
          return unexpected(tok_start_object, ec);
        }
        in_dynamic_templates = cur == param::dynamic_templates;
        open_object();
        st = state::nested;
        depth = 1;
        return true;
      case state::nested:
        open_object();
        ++depth;
        return true;
      default:
        return unexpected(tok_start_object, ec);
    }
  }

  bool on_object_end(std::size_t, json::error_code& ec) {
    switch (st) {
      case state::param_key:
        close_object();
        st = state::top_end;
        return true;
      case state::nested:
        close_object();
        if (--depth == 0) st = state::param_key;
        return true;
      case state::top_end:
        close_object();
        st = state::done;
        return true;
      default:
        return unexpected(tok_end_object, ec);
    }
  }

  bool on_array_begin(json::error_code& ec) {
    if (st != state::nested) return unexpected(tok_start_array, ec);
    ++depth;
    return true;
  }
  bool on_array_end(std::size_t, json::error_code&) {
    --depth;  // only reachable inside state::nested, where arrays never close the nesting
    return true;
  }

  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    key_buf.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code& ec) {
    std::string_view k = joined(key_buf, s);
    bool ok = on_full_key(k, ec);
    key_buf.clear();
    return ok;
  }

  bool on_full_key(std::string_view k, json::error_code& ec) {
    // Jackson's STRICT_DUPLICATE_DETECTION fires while reading the name, before ES sees it.
    if (!add_key(k)) {
      duplicate = true;
      return fail("x_content_parse_exception", "Duplicate field '" + std::string(k) + "'", ec);
    }
    switch (st) {
      case state::op_key:
        if (k == "index") {
          out->op = bulk_op::index;
        } else if (k == "create") {
          out->op = bulk_op::create;
        } else if (k == "update") {
          out->op = bulk_op::update;
        } else if (k == "delete") {
          out->op = bulk_op::del;
        } else {
          return fail_arg(malformed(line,
                                    "expected field [create], [delete], [index] or [update] "
                                    "but found [" +
                                        std::string(k) + "]"),
                          ec);
        }
        st = state::op_value;
        return true;
      case state::param_key:
        cur = classify_param(k);
        cur_key.assign(k);
        st = state::param_value;
        return true;
      case state::nested:
        if (depth == 1 && in_dynamic_templates) dynamic_templates_nonempty = true;
        return true;
      default:
        return unexpected(tok_field_name, ec);
    }
  }

  bool on_string_part(json::string_view s, std::size_t, json::error_code& ec) {
    return part(tok_string, s, ec);
  }
  bool on_string(json::string_view s, std::size_t, json::error_code& ec) {
    return finish_scalar(tok_string, s, ec);
  }
  bool on_number_part(json::string_view s, json::error_code& ec) { return part(tok_number, s, ec); }
  bool on_int64(std::int64_t, json::string_view s, json::error_code& ec) {
    return finish_scalar(tok_number, s, ec);
  }
  bool on_uint64(std::uint64_t, json::string_view s, json::error_code& ec) {
    return finish_scalar(tok_number, s, ec);
  }
  bool on_double(double, json::string_view s, json::error_code& ec) {
    return finish_scalar(tok_number, s, ec);
  }
  bool on_bool(bool b, json::error_code& ec) {
    return scalar(tok_boolean, b ? "true" : "false", false, ec);
  }
  bool on_null(json::error_code& ec) { return scalar(tok_null, {}, true, ec); }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

json::parse_options jackson_like_options() {
  json::parse_options o;
  o.allow_comments = true;  // ES's JsonXContent enables JsonParser.Feature.ALLOW_COMMENTS
  o.max_depth = 1000;       // Jackson's default nesting limit, not Boost's 32
  return o;
}

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// The first token ES sees when it is not an object (so no JSON is parsed at all).
std::string_view first_token(std::string_view s) {
  char c = s[0];
  if (c == '[') return tok_start_array;
  if (c == '"') return tok_string;
  if (c == '-' || (c >= '0' && c <= '9')) return tok_number;
  if (s.starts_with("true") || s.starts_with("false")) return tok_boolean;
  if (s.starts_with("null")) return tok_null;
  return {};
}

// Jackson's location for input offset `p`: it counts a lone `\r` as a line break.
std::string location(std::string_view text, std::size_t p) {
  std::size_t line = 1;
  std::size_t row_start = 0;
  for (std::size_t i = 0; i < p && i < text.size(); ++i) {
    if (text[i] == '\r') {
      ++line;
      row_start = i + 1;
    }
  }
  return "[" + std::to_string(line) + ":" + std::to_string(p - row_start + 1) + "] ";
}

std::string unexpected_char_message(unsigned char c) {
  char buf[160];
  if (c >= 0x80) {
    std::snprintf(buf, sizeof buf, "Invalid UTF-8 start byte 0x%02x", c);
  } else if (c < 0x20) {
    std::snprintf(buf, sizeof buf,
                  "Illegal character ((CTRL-CHAR, code %d)): only regular white space (\\r, "
                  "\\n, \\t) is allowed between tokens",
                  c);
  } else {
    std::snprintf(buf, sizeof buf, "Unexpected character ('%c' (code %d))", c, c);
  }
  return buf;
}

}  // namespace

struct action_parser::impl {
  json::basic_parser<handler> parser{jackson_like_options()};
  action_line scratch;

  handler& h() { return parser.handler(); }

  // Runs the parser over `text`; true when it stopped on an error (syntax or ours).
  bool run(std::string_view text, std::size_t line_no, action_line& out, bool more,
           std::size_t& consumed, json::error_code& ec) {
    parser.reset();
    h().reset(line_no, out);
    consumed = parser.write_some(more, text.data(), text.size(), ec);
    return h().failed || ec;
  }

  // Boost does not say where an error is; the shortest failing prefix does. Only on errors.
  std::size_t error_offset(std::string_view text, std::size_t line_no) {
    std::size_t lo = 1;
    std::size_t hi = text.size();
    while (lo < hi) {
      std::size_t mid = lo + (hi - lo) / 2;
      std::size_t n = 0;
      json::error_code ec;
      if (run(text.substr(0, mid), line_no, scratch, true, n, ec)) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;  // Jackson's read pointer: just past the offending character or key
  }

  result syntax_error(std::string_view text, std::size_t line_no, body::body_error& err) {
    std::size_t p = error_offset(text, line_no);
    err.status = 400;
    err.type = "x_content_parse_exception";
    err.reason =
        location(text, p) + unexpected_char_message(static_cast<unsigned char>(text[p - 1]));
    return result::error;
  }

  result post_checks(std::size_t line_no, const action_line& out, body::body_error& err) {
    const handler& hd = h();
    auto fail = [&](std::string reason) {
      err = body::body_error{400, "illegal_argument_exception", std::move(reason)};
      return result::error;
    };
    std::string at_line = "in line [" + std::to_string(line_no) + "]";
    if (out.op == bulk_op::del && hd.dynamic_templates_nonempty) {
      return fail("Delete request " + at_line + " does not accept dynamic_templates");
    }
    if (out.op == bulk_op::update) {
      if (hd.version_set || hd.version_type_external) {
        return fail(
            "Update requests do not support versioning. Please use `if_seq_no` and "
            "`if_primary_term` instead");
      }
      if (hd.require_data_stream) {
        return fail(
            "Update requests do not support the `require_data_stream` flag, as data streams do "
            "not support update operations");
      }
      if (hd.dynamic_templates_nonempty) {
        return fail("Update request " + at_line + " does not accept dynamic_templates");
      }
    }
    return result::ok;
  }

  result parse(std::string_view text, std::size_t line_no, action_line& out,
               body::body_error& err) {
    std::size_t p = 0;
    while (p < text.size() && is_ws(text[p])) ++p;
    if (p == text.size()) return result::blank;  // Jackson: no token at all; ES skips the line
    if (text[p] != '{' && text[p] != '/') {
      std::string_view tok = first_token(text.substr(p));
      if (!tok.empty()) {
        err = body::body_error{
            400, "illegal_argument_exception",
            malformed(line_no, "expected START_OBJECT but found [" + std::string(tok) + "]")};
        return result::error;
      }
    }
    std::size_t n = 0;
    json::error_code ec;
    if (run(text, line_no, out, false, n, ec)) {
      if (h().failed && !h().duplicate) {
        err = h().err;
        return result::error;
      }
      if (h().failed) {  // duplicate key: Jackson points just past the key
        std::string reason = h().err.reason;
        err = body::body_error{400, "x_content_parse_exception",
                               location(text, error_offset(text, line_no)) + reason};
        return result::error;
      }
      if (ec == json::error::incomplete) {
        if (h().st == state::top) return result::blank;  // only comments: no token either
        err = body::body_error{400, "x_content_e_o_f_exception",
                               location(text, text.size()) + "Unexpected end of file"};
        return result::error;
      }
      return syntax_error(text, line_no, err);
    }
    if (n < text.size()) {
      // checkBulkActionIsProperlyClosed (9.x): another token after the object is refused.
      if (!first_token(text.substr(n)).empty() || text[n] == '{') {
        err = body::body_error{400, "illegal_argument_exception",
                               malformed(line_no, "unexpected data after the closing brace")};
        return result::error;
      }
      err = body::body_error{
          400, "x_content_parse_exception",
          location(text, n + 1) + unexpected_char_message(static_cast<unsigned char>(text[n]))};
      return result::error;
    }
    return post_checks(line_no, out, err);
  }
};

action_parser::action_parser() : impl_(std::make_unique<impl>()) {}
action_parser::~action_parser() = default;

action_parser::result action_parser::parse(std::string_view text, std::size_t line_no,
                                           action_line& out, body::body_error& err) {
  return impl_->parse(text, line_no, out, err);
}

}  // namespace esgate::bulk::detail
