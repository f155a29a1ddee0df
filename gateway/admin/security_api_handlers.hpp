#pragma once
// Handlers of the security API, one per endpoint, and what they share (privilege checks in
// Elasticsearch's wording, key-store failures, request parameters).
#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <boost/system/error_code.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "esgate/admin/security_api.hpp"
#include "security_api_support.hpp"

namespace esgate::admin::detail {

namespace action {
inline constexpr std::string_view create = "cluster:admin/xpack/security/api_key/create";
inline constexpr std::string_view get = "cluster:admin/xpack/security/api_key/get";
inline constexpr std::string_view query = "cluster:admin/xpack/security/api_key/query";
inline constexpr std::string_view invalidate = "cluster:admin/xpack/security/api_key/invalidate";
inline constexpr std::string_view update = "cluster:admin/xpack/security/api_key/update";
inline constexpr std::string_view bulk_update = "cluster:admin/xpack/security/api_key/bulk_update";
// ClearSecurityCacheAction (cache "api_key"): manage_security, not manage_api_key.
inline constexpr std::string_view clear_cache = "cluster:admin/xpack/security/cache/clear";
inline constexpr std::string_view has_privileges =
    "cluster:admin/xpack/security/user/has_privileges";
}  // namespace action

// How far the caller reaches for an api_key action: every key (an unconditional grant:
// manage_api_key, manage_security, all, read_security for reads), only its own
// (manage_own_api_key), or none.
enum class key_access { none, own, all };
key_access access_for(const policy::identity& caller, std::string_view action);

// 403 "action [A] is unauthorized for <subject>, this action is granted by the cluster privileges
// [...]"; manage_own_api_key is listed only when the request was a self-scoped one, as ES does.
http::gateway_response denied(const policy::identity& caller, std::string_view action,
                              bool own_keys_request);

// 503 when the store could not be asked, 500 otherwise (corrupt data, unexpected replies).
http::gateway_response store_failure(const boost::system::error_code& ec);
api_error store_error(const boost::system::error_code& ec);

// The owner realm of every key esgate creates (interface.md §3).
inline constexpr std::string_view owner_realm = "default_file";
bool owned_by(const keystore::key_record& rec, const policy::identity& caller);

// Query parameters: the last value of each name, after checking that every name is allowed
// (Elasticsearch answers 400 "request [/path] contains unrecognized parameter: [x]").
struct params {
  std::vector<std::pair<std::string, std::string>> values;
  const std::string* get(std::string_view name) const;
};
std::optional<api_error> check_params(const security_api_request& req,
                                      std::initializer_list<std::string_view> allowed, params& out);
// A boolean parameter, default false; 400 in ES words for anything but true/false/"".
std::optional<api_error> bool_param(const params& p, std::string_view name, bool& out);

std::string request_path(const security_api_request& req);
std::optional<api_error> refuse_body(const security_api_request& req);
// Keys sorted by creation then id: the listing order of GET and the `_doc` order of the query API.
void sort_by_creation(std::vector<keystore::key_record>& recs);

// `[ {owner's current roles}, {creating key's role descriptors}? ]` for with_limited_by.
boost::json::array limited_by_of(const security_api_context& ctx, const keystore::key_record& rec);

// Endpoint handlers.
boost::asio::awaitable<http::gateway_response> create_api_key(security_api_context& ctx,
                                                              const security_api_request& req);
boost::asio::awaitable<http::gateway_response> get_api_keys(security_api_context& ctx,
                                                            const security_api_request& req);
boost::asio::awaitable<http::gateway_response> query_api_keys(security_api_context& ctx,
                                                              const security_api_request& req);
boost::asio::awaitable<http::gateway_response> invalidate_api_keys(security_api_context& ctx,
                                                                   const security_api_request& req);
boost::asio::awaitable<http::gateway_response> update_api_key(security_api_context& ctx,
                                                              const security_api_request& req,
                                                              const std::string& id);
boost::asio::awaitable<http::gateway_response> bulk_update_api_keys(
    security_api_context& ctx, const security_api_request& req);
boost::asio::awaitable<http::gateway_response> clear_api_key_cache(security_api_context& ctx,
                                                                   const security_api_request& req,
                                                                   const std::string& ids);
http::gateway_response authenticate(const security_api_request& req);
http::gateway_response has_privileges(const security_api_request& req,
                                      const std::string* path_user);

}  // namespace esgate::admin::detail
