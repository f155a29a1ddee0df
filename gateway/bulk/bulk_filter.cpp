#include "esgate/bulk/bulk_filter.hpp"

#include <cstring>
#include <random>

#include <boost/json/object.hpp>

#include "action_line.hpp"

namespace esgate::bulk {

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
      // IndexRequest.create("create".equals(opType)): any other op_type is a plain index.
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

namespace {

// ES's auto ids are 20 URL-safe base64 characters (UUIDs.base64UUID()); a random one of the
// same shape stands in for the id ES would have assigned before authorizing the item.
std::string auto_id() {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id(20, 'A');
  std::uint64_t bits = 0;
  int left = 0;
  for (char& c : id) {
    if (left < 6) {
      bits = rng();
      left = 64;
    }
    c = alphabet[bits & 63];
    bits >>= 6;
    left -= 6;
  }
  return id;
}

}  // namespace

boost::json::value denied_item_json(const denied_item& item) {
  boost::json::object error;
  error["type"] = item.type;
  error["reason"] = item.reason;
  boost::json::object body;
  body["_index"] = item.index;
  body["_id"] = item.id.empty() ? auto_id() : item.id;
  body["status"] = item.status;
  body["error"] = std::move(error);
  boost::json::object outer;
  outer[to_string(item.op)] = std::move(body);
  return outer;
}

struct bulk_filter::cache_entry {
  std::string_view action;  // one of bulk_item_action()'s literals
  std::string index;
  target_verdict verdict;
};

namespace {
constexpr std::size_t cache_size = 8;
constexpr std::string_view terminated_reason =
    "The bulk request must be terminated by a newline [\\n]";
}  // namespace

bulk_filter::bulk_filter(bulk_defaults defaults, target_authorizer authorize)
    : defaults_(std::move(defaults)),
      authorize_(std::move(authorize)),
      parser_(std::make_unique<detail::action_parser>()),
      line_out_(std::make_unique<detail::action_line>()) {
  cache_.reserve(cache_size);
}

bulk_filter::~bulk_filter() = default;
bulk_filter::bulk_filter(bulk_filter&&) noexcept = default;
bulk_filter& bulk_filter::operator=(bulk_filter&&) noexcept = default;

bool bulk_filter::fail(body_error e) {
  error_ = std::move(e);
  done_ = true;
  return false;
}

void bulk_filter::add_validation_error(std::string_view message) {
  validation_ += std::to_string(++validation_errors_);
  validation_ += ": ";
  validation_ += message;
  validation_ += ";";
}

const target_verdict& bulk_filter::verdict_for(std::string_view action, std::string_view index) {
  for (const cache_entry& e : cache_) {
    // `action` literals are unique, so comparing their addresses is enough.
    if (e.action.data() == action.data() && e.index == index) return e.verdict;
  }
  target_verdict v = authorize_(action, index, /*single=*/true);
  if (cache_.size() < cache_size) {
    cache_.push_back(cache_entry{action, std::string(index), std::move(v)});
    return cache_.back().verdict;
  }
  cache_entry& e = cache_[cache_next_];
  cache_next_ = (cache_next_ + 1) % cache_size;
  e.action = action;
  e.index.assign(index);
  e.verdict = std::move(v);
  return e.verdict;
}

namespace {
void add_range(bulk_filter::output& out, std::size_t begin, std::size_t end) {
  if (!out.forward.empty() && out.forward.back().second == begin) {
    out.forward.back().second = end;
  } else {
    out.forward.emplace_back(begin, end);
  }
}
}  // namespace

void bulk_filter::handle_item(std::size_t begin, std::size_t end, output& out) {
  const detail::action_line& a = *line_out_;
  std::size_t position = items_++;
  const std::string* index = a.has_index ? &a.index : nullptr;
  if (!index && !defaults_.index.empty()) index = &defaults_.index;

  // BulkRequest.validate(): each item's own validate(), in ES's order.
  bool invalid = false;
  if (!index) {
    add_validation_error("index is missing");
    invalid = true;
  }
  if ((a.op == bulk_op::del || a.op == bulk_op::update) && a.id.empty()) {
    add_validation_error("id is missing");
    invalid = true;
  }
  if (invalid || validation_errors_ > 0) return;

  bulk_op effective = a.op == bulk_op::index && a.op_type_create ? bulk_op::create : a.op;
  auto deny = [&](int status, std::string type, std::string reason) {
    denied_.push_back(
        denied_item{position, effective, *index, a.id, status, std::move(type), std::move(reason)});
  };
  if (index->empty()) {
    // An empty expression means "all indices" to the authorizer; ES refuses the name itself.
    deny(400, "invalid_index_name_exception", "Invalid index name [], must not be empty");
    return;
  }
  std::string_view action = bulk_item_action(a.op, a.op_type_create ? "create" : "");
  const target_verdict& v = verdict_for(action, *index);
  switch (v.k) {
    case target_verdict::kind::allow:
      add_range(out, begin, end);
      return;
    case target_verdict::kind::bad_request:
      deny(400, v.type, v.reason);
      return;
    case target_verdict::kind::deny:
      deny(403, v.type.empty() ? "security_exception" : v.type, v.reason);
      return;
  }
}

std::optional<bulk_filter::output> bulk_filter::feed(std::string_view input, bool last) {
  if (error_) return std::nullopt;
  output out;
  if (done_) return out;
  const char* data = input.data();
  const std::size_t size = input.size();
  std::size_t pos = 0;  // start of the next item; everything before it is consumed
  std::size_t line = line_;
  body_error err;

  auto next_newline = [&](std::size_t from) -> std::size_t {
    if (from >= size) return std::string_view::npos;
    const void* p = std::memchr(data + from, '\n', size - from);
    return p ? static_cast<std::size_t>(static_cast<const char*>(p) - data)
             : std::string_view::npos;
  };

  while (true) {
    std::size_t nl = next_newline(pos);
    if (nl == std::string_view::npos) {
      if (last && pos != size) {
        fail(body_error{400, "illegal_argument_exception", std::string(terminated_reason)});
        return std::nullopt;
      }
      break;
    }
    std::size_t action_line_no = line + 1;
    auto r = parser_->parse(input.substr(pos, nl - pos), action_line_no, *line_out_, err);
    if (r == detail::action_parser::result::error) {
      fail(std::move(err));
      return std::nullopt;
    }
    if (r == detail::action_parser::result::blank) {
      // Harmless to ES and keeps an all-authorized body byte-identical.
      if (validation_errors_ == 0) add_range(out, pos, nl + 1);
      pos = nl + 1;
      line = action_line_no;
      line_ = line;
      continue;
    }
    std::size_t end = nl + 1;
    std::size_t lines = 1;
    if (line_out_->op != bulk_op::del) {
      std::size_t source_nl = next_newline(nl + 1);
      if (source_nl == std::string_view::npos) {
        if (!last) break;  // the source line is not here yet: keep the item for the next call
        if (nl + 1 != size) {
          fail(body_error{400, "illegal_argument_exception", std::string(terminated_reason)});
          return std::nullopt;
        }
        // ES stops at the missing marker and drops the pending request: not an item.
        pos = size;
        line_ = action_line_no;
        break;
      }
      end = source_nl + 1;
      lines = 2;
    }
    handle_item(pos, end, out);
    pos = end;
    line += lines;
    line_ = line;
  }

  out.consumed = pos;
  bytes_ += pos;
  if (last) {
    done_ = true;
    if (bytes_ == 0) {
      fail(body_error{400, "parse_exception", "request body is required"});
      return std::nullopt;
    }
    if (items_ == 0) add_validation_error("no requests added");
    if (validation_errors_ > 0) {
      fail(body_error{400, "action_request_validation_exception",
                      "Validation Failed: " + validation_});
      return std::nullopt;
    }
  }
  if (validation_errors_ > 0) out.forward.clear();
  return out;
}

}  // namespace esgate::bulk
