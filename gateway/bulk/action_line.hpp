#pragma once
// One `_bulk` action/metadata line, parsed the way Elasticsearch's BulkRequestParser
// (IncrementalParser.parseActionLine, 9.x rules) reads it: token by token, failing at the first
// token it rejects, with Jackson's strict duplicate-key detection and comments allowed.
// Boost.JSON's SAX parser does the lexing; nothing is built but the few fields we need.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "esgate/body/targets.hpp"
#include "esgate/bulk/bulk_filter.hpp"

namespace esgate::bulk::detail {

// What authorization and validation need from an action line.
struct action_line {
  bulk_op op = bulk_op::index;
  bool has_index = false;  // `_index` given with a non-null value
  std::string index;       // decoded (`\u` escapes), numbers/booleans as their text (ES's text())
  bool has_id = false;
  std::string id;
  bool op_type_create = false;  // `"op_type":"create"` (only meaningful for `index`)
};

class action_parser {
 public:
  action_parser();
  ~action_parser();
  action_parser(const action_parser&) = delete;
  action_parser& operator=(const action_parser&) = delete;

  enum class result { blank, ok, error };
  // `text`: the line without its `\n` (a trailing `\r` stays: JSON whitespace to Jackson).
  // `line_no`: 1-based, for ES's wording. On error `err` holds ES's type and reason.
  result parse(std::string_view text, std::size_t line_no, action_line& out, body::body_error& err);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace esgate::bulk::detail
