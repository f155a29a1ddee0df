#pragma once
// Which requests open a context (scroll, PIT, async search, SQL cursor, task) and which continue
// one, and the ids involved (threats.md A13). Sans-I/O: the session sniffs the ids of opening
// responses (cursor::id_sniffer), binds them in Redis (cursor::cursor_store) before the client
// sees the response, and checks the binding of every continuation before forwarding it.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "esgate/cursor/cursor.hpp"
#include "esgate/es/authorize.hpp"
#include "esgate/http/response.hpp"

namespace esgate::app {

// What an opening response hands out and for how long.
struct opening {
  std::optional<cursor::kind> id_kind;  // meaning of a top-level `id` / `pit_id`
  bool scroll = false;                  // `_scroll_id`
  bool task = false;                    // `task` (wait_for_completion=false)
  bool sql_cursor = false;              // `cursor`
  std::chrono::seconds ttl{0};
};

// nullopt when the request opens nothing.
std::optional<opening> opening_of(const es::authz_decision& d, const es::request_target& t);

cursor::kind cursor_kind_of(es::context_kind k);

// The ids a continuation names: from the path (`d.context_id`, comma lists for clear scroll),
// the query string (`scroll_id`) and the body (`scroll_id`, PIT `id`).
std::vector<cursor::context_ref> continuation_ids(const es::authz_decision& d,
                                                  const es::request_target& t,
                                                  std::string_view body);

// How long a continuation extends its context (`scroll=`, body `scroll`, `keep_alive`).
std::optional<std::chrono::seconds> extension_of(const es::authz_decision& d,
                                                 const es::request_target& t,
                                                 std::string_view body);

// Elasticsearch's answer for an id that does not exist, which is what another identity's id is.
http::gateway_response context_missing(cursor::kind k, std::string_view id);

}  // namespace esgate::app
