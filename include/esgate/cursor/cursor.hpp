#pragma once
// Contexts bound to their creator (interface.md §6, threats.md A13): scroll ids, point-in-time
// ids, async search / EQL / ES|QL / SQL async ids, SQL cursors and task ids. Elasticsearch binds a
// context to the identity that created it, which behind the gateway is always the gateway's
// upstream identity, so the gateway remembers who opened each one and lets only that identity
// continue, read or delete it.
//
// Sans-I/O parts: which requests open / continue a context, and extracting ids from responses
// (an incremental sniffer over the streamed response body) and from requests (path, query
// string, body). The Redis store is in cursor_store.hpp.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace esgate::cursor {

enum class kind : std::uint8_t { scroll, pit, async_search, eql_async, esql_async, sql, task };

std::string_view to_string(kind k);

// An id found in a response or a request.
struct context_ref {
  kind k;
  std::string id;
};

// Incremental sniffer of top-level string fields of a JSON response body, fed as the body
// streams by (Boost.JSON basic_parser, nothing buffered but the field values). Looks for
// `_scroll_id` (scroll), `pit_id` / `id` (PIT or async ids, per `id_kind`), `cursor` (SQL),
// `task` (wait_for_completion=false). Bodies that are not JSON are ignored (no ids).
class id_sniffer {
 public:
  // `id_kind`: what a top-level `id` means for this response (PIT open, async submit...), or
  // nullopt when `id` is not a context id here. `want_scroll`: the request asked for a scroll.
  id_sniffer(std::optional<kind> id_kind, bool want_scroll, bool want_task, bool want_cursor);
  ~id_sniffer();
  id_sniffer(id_sniffer&&) noexcept;
  void feed(std::string_view bytes);
  // Ids found so far (complete string values only), in body order. A value over 64 KiB is
  // dropped. Parsing stops for good at the end of the document or at the first syntax error.
  // Feeding is cheap: nested content passes through the parser without being stored.
  std::vector<context_ref> found() const;

 private:
  struct state;
  std::unique_ptr<state> s_;
};

// How long a context lives per Elasticsearch's `keep_alive` / `scroll` value (`1m`, `5m`, `30s`,
// `1d`...); nullopt when absent or unparseable. The store keeps bindings a little longer.
// ES's TimeValue.parseTimeValue rules: units nanos, micros, ms, s, m, h, d (case-insensitive but
// for `m`: `1M` is months and rejected), an optionally signed integer, no fractions; `-1` (no
// keep-alive) and negatives give nullopt, `0` / `0s` give the minimum. Rounded up to whole
// seconds, at least 1 s, at most 3650 days.
std::optional<std::chrono::seconds> parse_keep_alive(std::string_view value);

// Scroll ids of a clear-scroll or scroll-continuation body: `{"scroll_id": "x" | ["x","y"]}`
// (or the whole body being the id, ES's legacy plain-text form). Empty when none.
// As ClearScrollRequest.fromXContent reads them: top-level `scroll_id` only, a string or an
// array; values are not split on commas (only the path parameter is); scalars other than
// strings are returned as their JSON text; every occurrence of a repeated key is returned. A
// body that is not JSON (or an unfinished one) is returned whole, trimmed, as one id: it is bound
// to nobody, so the owner check denies it (fail closed). JSON that is not an object and empty
// bodies give no ids (ES rejects the former itself).
std::vector<std::string> scroll_ids_in_body(std::string_view body);

// The owner tag of an identity, as stored: `api_key:<id>` or `user:<realm>:<username>`. In the
// realm name `%` and `:` are written `%25` and `%3A`, so no (realm, username) pair can produce
// another pair's tag.
std::string owner_tag(bool is_api_key, std::string_view api_key_id, std::string_view realm,
                      std::string_view username);

}  // namespace esgate::cursor
