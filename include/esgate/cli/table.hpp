#pragma once
// Plain-text tables for the operator CLI: a header row, a rule, one row per record, columns
// padded to their widest cell (UTF-8 counted by code point). Pure, unit-tested.
#include <string>
#include <vector>

#include <boost/json/fwd.hpp>

namespace esgate::cli {

struct table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// Columns separated by two spaces; trailing spaces trimmed; "(none)" under the header when
// there are no rows.
std::string render(const table& t);

// `key  value` lines for one record (create's output, get's details), keys padded.
std::string render_fields(const std::vector<std::pair<std::string, std::string>>& fields);

// A JSON value as a table cell: strings as-is, null/absent as "-", the rest compact JSON.
std::string cell(const boost::json::value* v);

// Epoch milliseconds as "2026-12-07T11:25:00Z"; "-" when absent.
std::string iso_time(const boost::json::value* epoch_ms);

}  // namespace esgate::cli
