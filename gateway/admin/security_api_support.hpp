#pragma once
// Pure helpers of the security API (no I/O): strict JSON bodies, Elasticsearch's TimeValue and
// request-validation wording, dates, and the ApiKey object as GET/query print it.
#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "esgate/http/response.hpp"
#include "esgate/keystore/key_record.hpp"

namespace esgate::admin::detail {

// An Elasticsearch error to answer with: status, exception type, reason.
struct api_error {
  int status = 400;
  std::string type;
  std::string reason;
};

api_error bad_request(std::string type, std::string reason);
api_error illegal_argument(std::string reason);
// 400 action_request_validation_exception "Validation Failed: 1: a;2: b;".
api_error validation_failed(const std::vector<std::string>& messages);
// The messages of a "Validation Failed: 1: a;2: b;" reason, so several validators can be merged
// and renumbered as Elasticsearch would print them.
std::vector<std::string> split_validation_reason(std::string_view reason);

http::gateway_response error_response(const api_error& e);
// 200 (or `status`) with the JSON body and the headers every gateway-made response carries.
http::gateway_response json_response(const boost::json::value& body, int status = 200);

// Request bodies are parsed strictly: valid UTF-8, at most `max_depth` levels, and duplicate keys
// refused (Elasticsearch's parser rejects them too; silently keeping one of two `names` would let
// what we check differ from what a client meant — threats.md A10). Errors are 400
// x_content_parse_exception with a [line:column] prefix as Elasticsearch prints them.
inline constexpr std::size_t max_body_depth = 64;  // = keystore::max_stored_depth
std::variant<boost::json::value, api_error> parse_json_body(std::string_view body,
                                                            std::size_t max_depth = max_body_depth);

// Only spaces, tabs, CR and LF (what Elasticsearch treats as "no body" / "no text").
bool is_blank(std::string_view s);
// A request body: 400 parse_exception "request body is required" when blank and `required`, an
// empty optional when blank and optional, parse_json_body otherwise.
std::variant<std::optional<boost::json::value>, api_error> read_json_body(std::string_view body,
                                                                          bool required);
// 400 x_content_parse_exception "[parser] field doesn't support values of type: TOKEN".
api_error wrong_type(std::string_view parser, std::string_view field, const boost::json::value& v);
// 400 x_content_parse_exception "[parser] unknown field [field]".
api_error unknown_field(std::string_view parser, std::string_view field);

// Jackson's token name of a value: START_OBJECT, START_ARRAY, VALUE_STRING, VALUE_NUMBER,
// VALUE_BOOLEAN, VALUE_NULL.
std::string token_name(const boost::json::value& v);

// Elasticsearch's TimeValue.parseTimeValue: integer + unit (nanos, micros, ms, s, m, h, d; case
// insensitive except `m`), `-1` and `0` without unit. Returns milliseconds (sub-millisecond
// values truncate) or ES's IllegalArgumentException text.
std::variant<std::int64_t, std::string> parse_time_value_ms(std::string_view text,
                                                            std::string_view setting);
// The stored expiration for a requested duration: now + whole seconds (AKS getApiKeyExpiration
// uses plusSeconds, so `500ms` gives an already expired key). nullopt on overflow.
std::optional<std::int64_t> expiration_from(std::int64_t now_ms, std::int64_t duration_ms);

// Length in UTF-16 code units (Java String.length()) of valid UTF-8.
std::size_t utf16_length(std::string_view utf8);
// Java String.trim() removes every char <= U+0020 at both ends.
bool has_java_whitespace_edges(std::string_view s);

// Elasticsearch's paramAsBoolean: "" (a bare flag) and "true" are true, "false" false.
std::optional<bool> parse_bool_param(std::string_view v);

// Dates as the query API accepts them: epoch millis (number or digits), ISO-8601
// (2024-05-01, 2024-05-01T10:00:00.123Z, ±hh:mm offsets) and date math (now-1d/d, <date>||+1h).
std::optional<std::int64_t> parse_date_millis(std::string_view text, std::int64_t now_ms);
// 2024-05-01T10:00:00.123Z (strict_date_optional_time / date_time output).
std::string format_date_time(std::int64_t ms);

// The ApiKey object of GET /_security/api_key and the query API, in Elasticsearch's field order
// (es-security-reference §1.4): id, name, type, creation, expiration?, invalidated,
// invalidation?, username, realm, realm_type, metadata, role_descriptors, limited_by?, last_used?
// (esgate extra). Never prints api_key_hash or limited_by_key.
boost::json::object render_api_key(const keystore::key_record& rec,
                                   const boost::json::array* limited_by = nullptr);

}  // namespace esgate::admin::detail
