#pragma once
// Canonical request targets (threats.md A6, A7, A8, B3).
//
// The gateway decodes the target once, exactly as Elasticsearch does (RestUtils.decodeComponent,
// PathTrie), refuses anything two parsers could read differently, authorizes the decoded
// segments and forwards `build_upstream_target(...)` — never the raw target.
//
// Decisions (each rejection becomes a 400 `illegal_argument_exception` with `reason`):
//  - origin-form only (`/...`); absolute-form, authority-form and `*` are refused;
//  - at most `max_target_bytes` bytes and `max_path_segments` segments;
//  - raw bytes: printable ASCII only; raw `\`, `#` (fragment) and, in the path, raw `;` are
//    refused. ES reads `;` in a path literally, but servlet-style intermediaries strip `;params`
//    (Envoy CVE-2019-9901 family), so a raw `;` is ambiguous; `%3B` is accepted and re-encoded;
//  - `%` must be followed by two hex digits (ES would read `%%` as `%`: we refuse it);
//  - decoded segments must be valid UTF-8 (no overlong forms, no surrogates), free of C0/C1
//    controls, bidi/zero-width format characters and slash/backslash/dot look-alikes (fullwidth
//    solidus U+FF0F, division slash U+2215, ...), which some normalizers fold into `/` or `.`;
//  - double encoding is refused: a decoded segment or parameter name that still contains
//    `%XX` (e.g. from `%252e`) is an error;
//  - `.`/`..` segments (raw or encoded) and empty segments (`//`) are refused; one trailing `/`
//    is dropped, since ES routes `/books/_search/` like `/books/_search`;
//  - a decoded segment may contain `/` (from `%2F`) only inside the `{...}` of a `<...>` date-math
//    item, where ES requires it to be encoded (`%3Clogs-%7Bnow%2Fd%7D%3E`); any other encoded
//    slash, and every `%5C`, is refused;
//  - in the path `+` is a literal `+` (ES default, `es.rest.url_plus_as_space=false`); in the
//    query `+` is a space, and both `&` and `;` separate parameters, as in
//    RestUtils.decodeQueryString;
//  - duplicate query parameter names are refused: which copy a reader uses is not something the
//    gateway and Elasticsearch should have to agree on;
//  - query values may contain TAB, LF and CR (JSON in `source=`) but no other control character.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/system/result.hpp>

namespace esgate::es {

inline constexpr std::size_t max_target_bytes = 8192;
inline constexpr std::size_t max_path_segments = 64;

using query_params = std::vector<std::pair<std::string, std::string>>;

struct request_target {
  std::vector<std::string> segments;  // decoded once; `/` yields no segments
  query_params query;                 // decoded, in request order, names unique

  friend bool operator==(const request_target&, const request_target&) = default;
};

// Rendered by the caller as 400 `illegal_argument_exception` with this reason.
struct target_error {
  std::string reason;
};

boost::system::result<request_target, target_error> parse_request_target(std::string_view target);

// Percent-encodes everything outside the unreserved set plus `,` and `*` (kept readable because
// index expressions use them; ES decodes either form to the same segment).
std::string encode_path_segment(std::string_view segment);
std::string encode_query_component(std::string_view component);

// `/seg1/seg2?name=value&...`, each part re-encoded so Elasticsearch decodes exactly `segments`
// and `query` back. `/` when there are no segments; no `?` when there is no query.
std::string build_upstream_target(const std::vector<std::string>& segments,
                                  const query_params& query);
std::string build_upstream_target(const request_target& target);

// The decoded value of parameter `name`, if present.
std::optional<std::string_view> find_query_param(const query_params& query,
                                                 std::string_view name) noexcept;

// ES accepts a request body as `source=<body>` plus `source_content_type=` (API conventions);
// the caller must treat it as the body (authorize it the same way) or refuse it.
bool has_source_param(const query_params& query) noexcept;

}  // namespace esgate::es
