#pragma once
// The body stage of the request path: what authorization asked to inspect (authz_decision::
// inspect / check_query_body) applied to a whole, decoded and inflated body, sans-I/O. The
// session reads the body, calls inspect_body(), then forwards `forward_body` / `forward_ranges` or
// answers `answer`, and splices `inserts` into the upstream's response (response::splice_response).
// Bulks larger than the look-ahead are filtered as they stream (bulk::bulk_filter directly).
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "esgate/body/targets.hpp"
#include "esgate/es/authorize.hpp"
#include "esgate/es/body_authorize.hpp"
#include "esgate/http/response.hpp"
#include "esgate/response/es_json.hpp"

namespace esgate::app {

// How the upstream's answer must be rewritten for the client.
struct response_rewrite {
  std::string_view array_key;  // "items", "responses", "docs"
  std::vector<response::spliced_item> inserts;
  bool set_errors = false;  // bulk: `errors: true`
  std::string filter_path;  // the client's; applied by the gateway, not sent upstream
  bool pretty = false;
};

struct inspection {
  enum class kind { forward, answer };
  kind k = kind::forward;
  bool body_changed =
      false;  // forward `forward_body` (or `forward_ranges`) instead of the original
  std::string forward_body;
  // A bulk: the byte ranges [begin, end) of the original body to forward (its authorized items),
  // sent as one gather write rather than copied into `forward_body`.
  std::vector<std::pair<std::size_t, std::size_t>> forward_ranges;
  http::gateway_response answer;            // kind::answer: an error, or everything denied
  std::optional<response_rewrite> rewrite;  // set when something was denied
  std::size_t items = 0;                    // bulk / msearch / mget: how many items the body holds
};

// The authorizer over es::authorize_body_target for this request.
body::target_authorizer make_body_authorizer(const es::body_target_context& ctx);

// Which array a multi-item endpoint answers in, and the request's response-shaping parameters.
response_rewrite rewrite_for(es::body_targets inspect, const es::query_params& query);

inspection inspect_body(const es::authz_decision& d, const es::request_target& t,
                        std::string_view body, const es::body_target_context& ctx);
// The same with the item authorizer given (esgate explain wraps make_body_authorizer(ctx) to
// record what each item asked).
inspection inspect_body(const es::authz_decision& d, const es::request_target& t,
                        std::string_view body, const es::body_target_context& ctx,
                        const body::target_authorizer& authorize);

// The final answer when the gateway answers for a multi-item request itself (everything denied)
// or rewrites the upstream's answer; nullopt when `upstream_body` has not the expected shape.
std::optional<std::string> rewritten_body(response_rewrite rw, std::string_view upstream_body);

// An ES error response from a body_error.
http::gateway_response error_response(const body::body_error& e);

}  // namespace esgate::app
