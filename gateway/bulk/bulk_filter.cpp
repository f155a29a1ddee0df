// The `_bulk` filter (see bulk_filter.hpp): lines found with memchr, action lines parsed by
// detail::action_parser, sources only delimited, one verdict per (action, index) pair.
#include "esgate/bulk/bulk_filter.hpp"

#include <boost/json.hpp>
#include <cstring>
#include <random>
#include <unordered_map>

#include "action_line.hpp"

namespace esgate::bulk {
namespace {

constexpr std::string_view k_no_newline = "The bulk request must be terminated by a newline [\\n]";

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r") == std::string_view::npos; }

// A 20-character URL-safe id, as ES assigns to auto-id items on the coordinating node.
std::string random_id() {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id(20, 'A');
  for (auto& c : id) c = alphabet[rng() % 64];
  return id;
}

}  // namespace

std::string_view to_string(bulk_op op) {
  switch (op) {
    case bulk_op::index:
      return "index";
    case bulk_op::create:
      return "create";
    case bulk_op::update:
      return "update";
    case bulk_op::del:
      return "delete";
  }
  return "index";
}

std::string_view bulk_item_action(bulk_op op, std::string_view op_type) {
  switch (op) {
    case bulk_op::index:
      return op_type == "create" ? "indices:data/write/index:op_type/create"
                                 : "indices:data/write/index:op_type/index";
    case bulk_op::create:
      return "indices:data/write/index:op_type/create";
    case bulk_op::update:
      return "indices:data/write/update";
    case bulk_op::del:
      return "indices:data/write/delete";
  }
  return "indices:data/write/index:op_type/index";
}

boost::json::value denied_item_json(const denied_item& item) {
  boost::json::object body;
  body["_index"] = item.index;
  body["_id"] = item.id.empty() ? random_id() : item.id;
  body["status"] = item.status;
  body["error"] = boost::json::object{{"type", item.type}, {"reason", item.reason}};
  boost::json::object out;
  out[to_string(item.op)] = std::move(body);
  return out;
}

struct bulk_filter_state {
  detail::action_parser parser;
  // Verdicts per (action, index): real bulks repeat a handful of targets thousands of times.
  std::unordered_map<std::string, target_verdict> verdicts;
  std::string key;
};

bulk_filter::bulk_filter(bulk_defaults defaults, target_authorizer authorize)
    : defaults_(std::move(defaults)), authorize_(std::move(authorize)) {}

std::optional<bulk_filter::output> bulk_filter::feed(std::string_view input, bool last) {
  if (!state_) state_ = std::make_shared<bulk_filter_state>();
  auto& s = *state_;
  output out;
  const auto fail = [&](std::string type, std::string reason) -> std::optional<output> {
    body_error e;
    e.type = std::move(type);
    e.reason = std::move(reason);
    error_ = std::move(e);
    return std::nullopt;
  };
  if (error_) return std::nullopt;
  std::size_t pos = 0;
  std::size_t line = line_;
  detail::action_line al;
  body::body_error perr;
  const auto line_end = [&](std::size_t from) -> std::size_t {
    const void* nl = std::memchr(input.data() + from, '\n', input.size() - from);
    return nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - input.data())
              : std::string_view::npos;
  };
  while (pos < input.size()) {
    const std::size_t end = line_end(pos);
    if (end == std::string_view::npos) break;  // incomplete line
    const std::string_view text = input.substr(pos, end - pos);
    const std::size_t item_begin = pos;
    const std::size_t action_no = line + 1;
    const auto r = s.parser.parse(text, action_no, al, perr);
    if (r == detail::action_parser::result::blank) {
      ++line;
      pos = end + 1;
      out.consumed = pos;
      line_ = line;
      continue;
    }
    if (r == detail::action_parser::result::error) return fail(perr.type, perr.reason);
    std::size_t item_end = end + 1;
    if (al.op != bulk_op::del) {
      const std::size_t src_end = item_end < input.size() ? line_end(item_end)
                                                          : std::string_view::npos;
      if (src_end == std::string_view::npos) {
        if (!last) break;  // the source line has not arrived yet
        if (item_end < input.size()) return fail("illegal_argument_exception", std::string(k_no_newline));
        return fail("illegal_argument_exception",
                    "Validation Failed: 1: the [" + std::string(to_string(al.op)) +
                        "] action on line [" + std::to_string(action_no) +
                        "] has no source line;");
      }
      item_end = src_end + 1;
      line += 2;
    } else {
      line += 1;
    }
    const std::string& index = al.has_index ? al.index : defaults_.index;
    if (index.empty())
      return fail("action_request_validation_exception", "Validation Failed: 1: index is missing;");
    const auto action = bulk_item_action(al.op, al.op_type_create ? "create" : "");
    s.key.assign(action);
    s.key.push_back('\0');
    s.key.append(index);
    auto it = s.verdicts.find(s.key);
    if (it == s.verdicts.end()) {
      if (s.verdicts.size() > 4096) s.verdicts.clear();
      it = s.verdicts.emplace(s.key, authorize_(action, index, true)).first;
    }
    const auto& v = it->second;
    if (v.k == target_verdict::kind::allow) {
      if (!out.forward.empty() && out.forward.back().second == item_begin)
        out.forward.back().second = item_end;
      else
        out.forward.emplace_back(item_begin, item_end);
    } else {
      denied_item d;
      d.position = items_;
      d.op = al.op;
      d.index = index;
      d.id = al.has_id ? al.id : std::string();
      d.status = v.k == target_verdict::kind::deny ? 403 : 400;
      d.type = v.type;
      d.reason = v.reason;
      denied_.push_back(std::move(d));
    }
    ++items_;
    pos = item_end;
    out.consumed = pos;
    line_ = line;
  }
  if (last) {
    if (!blank(input.substr(out.consumed)))
      return fail("illegal_argument_exception", std::string(k_no_newline));
    out.consumed = input.size();
    done_ = true;
  }
  return out;
}

}  // namespace esgate::bulk
