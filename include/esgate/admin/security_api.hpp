#pragma once
// The Elasticsearch security API served by the gateway itself (interface.md §5, §4;
// es-security-reference.md §1.1, §1.4-§1.8, §1.11, §1.12). Never forwarded upstream.
//
//   POST|PUT  /_security/api_key                   create (`refresh` accepted and ignored)
//   GET       /_security/api_key                   get: id, name (`pre*`, `*`), username,
//                                                  realm_name, owner, active_only, with_limited_by
//   GET|POST  /_security/_query/api_key            query (bool, term(s), prefix, wildcard, range,
//                                                  exists, match_all, ids, match), from/size, sort,
//                                                  search_after
//   DELETE    /_security/api_key                   invalidate: ids | id | name | owner | username
//                                                  | realm_name
//   PUT       /_security/api_key/{id}              update role_descriptors / metadata / expiration
//   POST      /_security/api_key/_bulk_update      bulk update
//   GET       /_security/_authenticate             who am I
//   GET|POST  /_security/user[/{user}]/_has_privileges
//
// Other paths under /_security/api_key (grant, clone, _clear_cache) and cross-cluster keys are
// claimed too and refused with 400, so they are never forwarded to Elasticsearch.
//
// Privileges come from caller.effective: an unconditional grant of the transport action
// (manage_api_key, manage_security, all; read_security for get/query) reaches every key;
// manage_own_api_key only the caller's own keys and only in the self-scoped request forms of
// Elasticsearch (owner=true, username+realm_name equal to the caller, an API key naming its own
// id). The secret of a new key appears in the create response and nowhere else.
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "esgate/config/settings.hpp"
#include "esgate/http/response.hpp"
#include "esgate/keystore/key_store.hpp"
#include "esgate/policy/identity.hpp"
#include "esgate/policy/permission.hpp"
#include "esgate/policy/role_descriptor.hpp"

namespace esgate::admin {

struct security_api_context {
  keystore::key_store& store;
  config::key_hashing hashing;
  // Runs a slow hash (PBKDF2) off the I/O thread; the gateway passes one that hops to its crypto
  // pool. When empty, PBKDF2 runs inline.
  std::function<boost::asio::awaitable<std::string>(std::string secret)> hash_secret;
  const std::map<std::string, policy::role_descriptor, std::less<>>& roles;  // current roles.yml
  std::function<bool(std::string_view username)> user_exists;
  // owner's current roles as a layer (for with_limited_by output); may return nullptr
  std::function<std::shared_ptr<const policy::role_permission>(std::string_view username)> roles_of;
  // Called after keys were created/invalidated/updated (ids) so the gateway drops them from its
  // caches on every instance (the gateway publishes on Redis; this module just calls it).
  std::function<void(const std::vector<std::string>& ids)> on_keys_changed;
};

struct security_api_request {
  std::string_view method;                   // "GET", "POST", "PUT", "DELETE"
  const std::vector<std::string>& segments;  // decoded path segments, e.g. {"_security","api_key"}
  const std::vector<std::pair<std::string, std::string>>& query;
  std::string_view body;  // raw JSON body (may be empty)
  const policy::identity& caller;
  std::int64_t now_ms;
};

// True for every path served here (whatever the method; a wrong method gets ES's 405).
bool is_security_api(const std::vector<std::string>& segments);

// Never throws for client input; key-store outages become 503
// (esgate_key_store_unavailable_exception).
boost::asio::awaitable<http::gateway_response> handle_security_api(security_api_context& ctx,
                                                                   const security_api_request& req);

}  // namespace esgate::admin
