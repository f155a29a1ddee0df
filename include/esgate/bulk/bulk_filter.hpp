#pragma once
// `_bulk` bodies: framed exactly like Elasticsearch's BulkRequestParser and authorized per item
// (es-security-reference.md §9), sans-I/O and incremental.
//
// Framing (ES's): lines are split on `\n`; an action line is one JSON object with one key, the
// op (`index`, `create`, `update`, `delete`), whose value is an object of item parameters;
// `index`/`create`/`update` are followed by one source line, `delete` is not. A trailing `\r`
// is part of the line (JSON whitespace). Blank lines between items are skipped as ES does. The
// body must end in `\n` (ES: "The bulk request must be terminated by a newline [\\n]").
// Action lines are parsed with Boost.JSON's basic_parser (no DOM); document sources are never
// parsed, only delimited.
//
// Refused as a whole (body_error, 400 in ES's shape and wording, nothing forwarded), exactly
// where BulkRequestParser (9.x) throws: an action line that is not one JSON object, has an
// unknown op, a duplicate key (Jackson's strict detection), an unknown item parameter, an
// array/object where a simple value belongs, data after its closing brace; a body not ending
// in `\n`. Then BulkRequest.validate(): an item with no `_index` and no path index ("index is
// missing"), a delete/update without `_id` ("id is missing"), no items at all ("no requests
// added"); ES reports those after parsing everything, so they come with the last piece. An
// empty body is ES's parse_exception "request body is required".
// As in ES, a final index/create/update whose source line is missing (body ends right after
// the action line) is silently not an item; `_index` given as a number or boolean is its text.
//
// Each item is authorized on its own target: the item's `_index` (with `\u` escapes decoded)
// or else the path's index, with the op's implied action:
//   index  -> indices:data/write/index:op_type/index   (op_type "create" -> .../op_type/create)
//   create -> indices:data/write/index:op_type/create  (create_doc suffices)
//   update -> indices:data/write/update
//   delete -> indices:data/write/delete
// The callback resolves date math / aliases / auto-create as on the path. Denied items are
// dropped from what is forwarded and reported with their position, so the session can splice
// an ES-shaped 403 into the upstream's `items` at that position (denied_item_json() +
// response::splice_response()).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "esgate/body/targets.hpp"

namespace esgate::bulk {

using body::body_error;
using body::target_authorizer;
using body::target_verdict;

namespace detail {
class action_parser;
struct action_line;
}  // namespace detail

enum class bulk_op : std::uint8_t { index, create, update, del };

std::string_view to_string(bulk_op op);  // "index", "create", "update", "delete"

// The transport action an item implies (`op_type` is the item's `op_type` parameter, if any).
std::string_view bulk_item_action(bulk_op op, std::string_view op_type = {});

// One item that was refused: where it was, and what to report there.
struct denied_item {
  std::size_t position = 0;     // 0-based index among all items of the request
  bulk_op op = bulk_op::index;  // as ES reports it: an `index` with op_type create is `create`
  std::string index;            // the target as named (item `_index` or the path's)
  std::string id;               // the item's `_id`, or empty (auto id)
  int status = 403;
  std::string type = "security_exception";
  std::string reason;
};

// ES's item failure for a denied item (BulkItemResponse.toXContent):
//   {"<op>":{"_index":..,"_id":..,"status":403,"error":{"type":..,"reason":..}}}
// An item without `_id` (auto id) gets a fresh 20-character id, as ES assigns one on the
// coordinating node before authorizing.
boost::json::value denied_item_json(const denied_item& item);

// Request-level defaults that items inherit (from the path and query string).
struct bulk_defaults {
  std::string index;  // `/{index}/_bulk`, empty when none
  bool require_alias = false;
};

struct bulk_filter_state;

// The incremental filter. Feed it the body (decoded and inflated) in pieces it can see
// whole lines of; it tells which byte ranges of what it consumed to forward.
class bulk_filter {
 public:
  bulk_filter(bulk_defaults defaults, target_authorizer authorize);
  ~bulk_filter();
  bulk_filter(bulk_filter&&) noexcept;
  bulk_filter& operator=(bulk_filter&&) noexcept;

  struct output {
    // Byte ranges [begin, end) of the input given to this feed() call, to forward in order
    // (original bytes of every authorized item: action line and source line with their `\n`).
    // Adjacent ranges are merged, so an all-authorized chunk is one range.
    std::vector<std::pair<std::size_t, std::size_t>> forward;
    // Bytes of the input consumed: every complete item in it. The caller keeps the rest
    // (an incomplete item) and passes it again, followed by more bytes.
    std::size_t consumed = 0;
  };

  // `input` starts at the first byte not consumed so far. `last`: the body ends with `input`.
  // On a framing/parse error returns nullopt and error() is set; nothing of the current call
  // is to be forwarded.
  std::optional<output> feed(std::string_view input, bool last);

  const std::optional<body_error>& error() const { return error_; }
  const std::vector<denied_item>& denied() const { return denied_; }
  std::size_t items() const { return items_; }  // items seen so far (authorized + denied)
  std::size_t forwarded_items() const { return items_ - denied_.size(); }
  bool done() const { return done_; }

 private:
  struct cache_entry;
  bool fail(body_error e);
  void handle_item(std::size_t begin, std::size_t end, output& out);
  const target_verdict& verdict_for(std::string_view action, std::string_view index);
  void add_validation_error(std::string_view message);

  bulk_defaults defaults_;
  target_authorizer authorize_;
  std::optional<body_error> error_;
  std::vector<denied_item> denied_;
  std::size_t items_ = 0;
  std::size_t line_ = 0;   // lines consumed so far (ES numbers lines from 1, blank ones too)
  std::size_t bytes_ = 0;  // bytes consumed so far
  bool done_ = false;
  // BulkRequest.validate() failures ("index is missing", ...): ES refuses the whole request,
  // but only after parsing all of it, so a later parse error still wins. Nothing is forwarded
  // once one is seen.
  std::size_t validation_errors_ = 0;
  std::string validation_;
  // Hot-path state reused across items: the action-line parser and its output, and a small
  // verdict cache (the same action and index repeat throughout a bulk).
  std::unique_ptr<detail::action_parser> parser_;
  std::unique_ptr<detail::action_line> line_out_;
  std::vector<cache_entry> cache_;
  std::size_t cache_next_ = 0;
};

}  // namespace esgate::bulk
