// Routing of the security API and the read / invalidate endpoints
// (es-security-reference.md §1.4-§1.6, §1.10).
#include "esgate/admin/security_api.hpp"

#include <algorithm>
#include <set>

#include "api_key_query.hpp"
#include "esgate/http/es_error.hpp"
#include "esgate/keystore/error.hpp"
#include "esgate/policy/privileges.hpp"
#include "security_api_bodies.hpp"
#include "security_api_handlers.hpp"

namespace esgate::admin {

namespace json = boost::json;
namespace asio = boost::asio;
using keystore::key_record;

namespace detail {

// ---- shared helpers -------------------------------------------------------------------------

key_access access_for(const policy::identity& caller, std::string_view act) {
  if (caller.effective.allows_cluster(act)) return key_access::all;
  if (caller.effective.allows_own_api_key_action(act)) return key_access::own;
  return key_access::none;
}

http::gateway_response denied(const policy::identity& caller, std::string_view act,
                              bool own_keys_request) {
  std::string reason = "action [" + std::string(act) + "] is unauthorized for " + caller.subject();
  const auto privs = policy::cluster_privileges_granting(act, own_keys_request);
  if (!privs.empty()) {
    reason += ", this action is granted by the cluster privileges [";
    for (std::size_t i = 0; i < privs.size(); ++i) reason += (i ? "," : "") + privs[i];
    reason += "]";
  }
  return http::forbidden(reason);
}

api_error store_error(const boost::system::error_code& ec) {
  if (keystore::is_unavailable(ec))
    return api_error{503, "esgate_key_store_unavailable_exception",
                     "the API key store is unavailable"};
  return api_error{500, "exception", "API key store error: " + ec.message()};
}

http::gateway_response store_failure(const boost::system::error_code& ec) {
  return error_response(store_error(ec));
}

bool owned_by(const key_record& rec, const policy::identity& caller) {
  return rec.username == caller.username && rec.realm == owner_realm;
}

const std::string* params::get(std::string_view name) const {
  for (auto it = values.rbegin(); it != values.rend(); ++it)
    if (it->first == name) return &it->second;
  return nullptr;
}

std::string request_path(const security_api_request& req) {
  std::string p;
  for (const auto& s : req.segments) p += "/" + s;
  return p.empty() ? "/" : p;
}

std::optional<api_error> check_params(const security_api_request& req,
                                      std::initializer_list<std::string_view> allowed,
                                      params& out) {
  // Parameters every Elasticsearch endpoint accepts; esgate ignores them.
  static constexpr std::string_view global[] = {"pretty", "human", "error_trace", "filter_path"};
  std::vector<std::string> unknown;
  for (const auto& [k, v] : req.query) {
    const bool ok = std::find(allowed.begin(), allowed.end(), k) != allowed.end() ||
                    std::find(std::begin(global), std::end(global), k) != std::end(global);
    if (!ok) {
      if (std::find(unknown.begin(), unknown.end(), k) == unknown.end()) unknown.push_back(k);
      continue;
    }
    out.values.emplace_back(k, v);
  }
  if (unknown.empty()) return std::nullopt;
  std::string r = "request [" + request_path(req) + "] contains unrecognized parameter";
  r += unknown.size() == 1 ? ": " : "s: ";
  for (std::size_t i = 0; i < unknown.size(); ++i) r += (i ? ", [" : "[") + unknown[i] + "]";
  return illegal_argument(std::move(r));
}

std::optional<api_error> bool_param(const params& p, std::string_view name, bool& out) {
  out = false;
  const std::string* v = p.get(name);
  if (!v) return std::nullopt;
  auto b = parse_bool_param(*v);
  if (!b)
    return illegal_argument("Failed to parse value [" + *v +
                            "] as only [true] or [false] are allowed.");
  out = *b;
  return std::nullopt;
}

std::optional<api_error> refuse_body(const security_api_request& req) {
  if (is_blank(req.body)) return std::nullopt;
  return illegal_argument("request [" + std::string(req.method) + " " + request_path(req) +
                          "] does not support having a body");
}

void sort_by_creation(std::vector<key_record>& recs) {
  std::sort(recs.begin(), recs.end(), [](const key_record& a, const key_record& b) {
    return a.creation != b.creation ? a.creation < b.creation : a.id < b.id;
  });
}

json::array limited_by_of(const security_api_context& ctx, const key_record& rec) {
  json::array out;
  json::object owner;
  if (ctx.roles_of)
    if (auto layer = ctx.roles_of(rec.username)) owner = policy::to_json(layer->descriptors());
  out.emplace_back(std::move(owner));
  if (rec.limited_by_key && !rec.limited_by_key->empty()) out.emplace_back(*rec.limited_by_key);
  return out;
}

namespace {

// ---- candidate selection (name filters as AKS findApiKeysForUserRealmApiKeyIdAndName) --------

struct key_filter {
  std::vector<std::string> ids;  // empty = any
  std::string name;              // "" = any; "*" = any; "pre*" = prefix
  std::string username;
  std::string realm;
  bool owner_only = false;  // restricted to the caller's own keys
  bool active_only = false;
};

bool name_matches(std::string_view pattern, std::string_view name) {
  if (pattern.empty() || pattern == "*") return true;
  if (pattern.back() == '*') {
    pattern.remove_suffix(1);
    return name.substr(0, pattern.size()) == pattern;
  }
  return name == pattern;
}

bool keep(const key_filter& f, const key_record& r, const policy::identity& caller,
          std::int64_t now) {
  if (!f.ids.empty() && std::find(f.ids.begin(), f.ids.end(), r.id) == f.ids.end()) return false;
  if (!name_matches(f.name, r.name)) return false;
  if (!f.username.empty() && r.username != f.username) return false;
  if (!f.realm.empty() && r.realm != f.realm) return false;
  if (f.owner_only && !owned_by(r, caller)) return false;
  if (f.active_only && (r.invalidated || (r.expiration && *r.expiration <= now))) return false;
  return true;
}

asio::awaitable<boost::system::result<std::vector<key_record>>> find_keys(
    security_api_context& ctx, const key_filter& f, const policy::identity& caller,
    std::int64_t now) {
  using ids_result = boost::system::result<std::vector<std::string>>;
  ids_result ids = std::vector<std::string>{};
  if (!f.ids.empty()) {
    ids = f.ids;
  } else if (f.owner_only) {
    ids = co_await ctx.store.list_ids_by_owner(std::string(owner_realm), caller.username);
  } else if (!f.username.empty() && !f.realm.empty()) {
    ids = co_await ctx.store.list_ids_by_owner(f.realm, f.username);
  } else if (!f.name.empty() && f.name.back() != '*') {
    ids = co_await ctx.store.list_ids_by_name(f.name);
  } else {
    ids = co_await ctx.store.list_all_ids();
  }
  if (!ids) co_return ids.error();
  auto recs = co_await ctx.store.get_many(std::move(*ids));
  if (!recs) co_return recs.error();
  std::vector<key_record> out;
  for (auto& r : *recs)
    if (keep(f, r, caller, now)) out.push_back(std::move(r));
  sort_by_creation(out);
  co_return out;
}

std::string param_or_empty(const params& p, std::string_view name) {
  const std::string* v = p.get(name);
  return v ? *v : std::string();
}

bool has_text(std::string_view s) { return !is_blank(s); }

}  // namespace

// ---- GET /_security/api_key -----------------------------------------------------------------

asio::awaitable<http::gateway_response> get_api_keys(security_api_context& ctx,
                                                     const security_api_request& req) {
  const auto& caller = req.caller;
  params p;
  if (auto e = check_params(req,
                            {"id", "name", "username", "realm_name", "owner", "active_only",
                             "with_limited_by", "with_profile_uid"},
                            p))
    co_return error_response(*e);
  bool owner = false, active_only = false, with_limited_by = false, with_profile_uid = false;
  for (auto [name, dest] : {std::pair{"owner", &owner}, std::pair{"active_only", &active_only},
                            std::pair{"with_limited_by", &with_limited_by},
                            std::pair{"with_profile_uid", &with_profile_uid}})
    if (auto e = bool_param(p, name, *dest)) co_return error_response(*e);
  if (auto e = refuse_body(req)) co_return error_response(*e);
  const std::string id = param_or_empty(p, "id"), name = param_or_empty(p, "name"),
                    username = param_or_empty(p, "username"),
                    realm = param_or_empty(p, "realm_name");

  // GetApiKeyRequest.validate()
  std::vector<std::string> v;
  if ((has_text(id) || has_text(name)) && (has_text(realm) || has_text(username)))
    v.emplace_back(
        "username or realm name must not be specified when the api key id or api key name is "
        "specified");
  if (owner && (has_text(realm) || has_text(username)))
    v.emplace_back(
        "neither username nor realm-name may be specified when retrieving owned API keys");
  if (has_text(id) && has_text(name))
    v.emplace_back("only one of [api key id, api key name] can be specified");
  if (!v.empty()) co_return error_response(validation_failed(v));

  // ManageOwnApiKeyClusterPrivilege: the self-scoped forms; RBAC same-user rule: a key may read
  // itself by id without any privilege (but never with limited_by).
  const bool self_id = caller.is_api_key() && has_text(id) && id == caller.api_key_id;
  const bool self_scoped =
      owner || self_id ||
      (!caller.is_api_key() && username == caller.username && realm == owner_realm);
  const key_access access = access_for(caller, action::get);
  bool restrict_to_own = false;
  if (access != key_access::all) {
    const bool allowed = (self_scoped && access == key_access::own) || (self_id && !owner);
    if (!allowed || (caller.is_api_key() && with_limited_by))
      co_return denied(caller, action::get, self_scoped);
    restrict_to_own = true;
  }

  key_filter f;
  if (has_text(id)) f.ids = {id};
  f.name = name;
  f.username = owner ? caller.username : username;
  f.realm = owner ? std::string(owner_realm) : realm;
  f.owner_only = restrict_to_own || owner;
  f.active_only = active_only;
  auto found = co_await find_keys(ctx, f, caller, req.now_ms);
  if (!found) co_return store_failure(found.error());
  if (self_id && restrict_to_own)  // a key reading itself sees only itself
    std::erase_if(*found, [&](const key_record& r) { return r.id != caller.api_key_id; });

  json::array keys;
  for (const auto& r : *found) {
    json::array lb;
    if (with_limited_by) lb = limited_by_of(ctx, r);
    keys.emplace_back(render_api_key(r, with_limited_by ? &lb : nullptr));
  }
  const bool not_found = has_text(id) && keys.empty();
  json::object body;
  body["api_keys"] = std::move(keys);
  co_return json_response(body, not_found ? 404 : 200);
}

// ---- GET|POST /_security/_query/api_key -----------------------------------------------------

asio::awaitable<http::gateway_response> query_api_keys(security_api_context& ctx,
                                                       const security_api_request& req) {
  const auto& caller = req.caller;
  params p;
  if (auto e = check_params(req, {"with_limited_by", "with_profile_uid", "typed_keys"}, p))
    co_return error_response(*e);
  bool with_limited_by = false, ignored = false;
  if (auto e = bool_param(p, "with_limited_by", with_limited_by)) co_return error_response(*e);
  if (auto e = bool_param(p, "with_profile_uid", ignored)) co_return error_response(*e);
  if (auto e = bool_param(p, "typed_keys", ignored)) co_return error_response(*e);
  auto parsed = parse_query_body(req.body, req.now_ms);
  if (auto* e = std::get_if<api_error>(&parsed)) co_return error_response(*e);
  const auto& q = std::get<query_request>(parsed);

  // TransportQueryApiKeyAction: manage_own_api_key callers get an ownership filter (their own id
  // for an API key).
  const key_access access = access_for(caller, action::query);
  if (access == key_access::none) co_return denied(caller, action::query, true);
  if (access == key_access::own && caller.is_api_key() && with_limited_by)
    co_return denied(caller, action::query, false);

  boost::system::result<std::vector<std::string>> ids = std::vector<std::string>{};
  if (access == key_access::all)
    ids = co_await ctx.store.list_all_ids();
  else if (caller.is_api_key())
    ids = std::vector<std::string>{caller.api_key_id};
  else
    ids = co_await ctx.store.list_ids_by_owner(std::string(owner_realm), caller.username);
  if (!ids) co_return store_failure(ids.error());
  auto recs = co_await ctx.store.get_many(std::move(*ids));
  if (!recs) co_return store_failure(recs.error());
  if (access == key_access::own)
    std::erase_if(*recs, [&](const key_record& r) { return !owned_by(r, caller); });
  sort_by_creation(*recs);

  auto result = run_query(q, *recs);
  if (auto* e = std::get_if<api_error>(&result)) co_return error_response(*e);
  const auto& res = std::get<query_result>(result);
  json::array keys;
  for (const auto& hit : res.hits) {
    json::array lb;
    if (with_limited_by) lb = limited_by_of(ctx, *hit.record);
    json::object o = render_api_key(*hit.record, with_limited_by ? &lb : nullptr);
    if (!q.sort.empty()) o["_sort"] = hit.sort_values;
    keys.emplace_back(std::move(o));
  }
  json::object out;
  out["total"] = res.total;
  out["count"] = res.hits.size();
  out["api_keys"] = std::move(keys);
  co_return json_response(out);
}

// ---- DELETE /_security/api_key --------------------------------------------------------------

asio::awaitable<http::gateway_response> invalidate_api_keys(security_api_context& ctx,
                                                            const security_api_request& req) {
  const auto& caller = req.caller;
  params p;
  if (auto e = check_params(req, {}, p)) co_return error_response(*e);
  auto body = parse_invalidate_body(req.body);
  if (auto* e = std::get_if<api_error>(&body)) co_return error_response(*e);
  const invalidate_body& b = std::get<invalidate_body>(body);

  const bool self_ids = caller.is_api_key() && b.ids &&
                        std::all_of(b.ids->begin(), b.ids->end(),
                                    [&](const std::string& i) { return i == caller.api_key_id; });
  const bool self_scoped =
      b.owner || self_ids ||
      (!caller.is_api_key() && b.username == caller.username && b.realm == owner_realm);
  const key_access access = access_for(caller, action::invalidate);
  if (access == key_access::none || (access == key_access::own && !self_scoped))
    co_return denied(caller, action::invalidate, self_scoped);

  key_filter f;
  if (b.ids) f.ids = *b.ids;
  f.name = b.name;
  f.username = b.owner ? caller.username : b.username;
  f.realm = b.realm;
  if (b.owner) f.realm = owner_realm;
  f.owner_only = access != key_access::all || b.owner;
  // Already invalidated keys are matched too: the store reports them apart, and the response
  // lists them in previously_invalidated_api_keys (issue 10), so a client repeating an
  // invalidation learns the key is dead rather than getting an answer that says nothing matched.
  auto found = co_await find_keys(ctx, f, caller, req.now_ms);
  if (!found) co_return store_failure(found.error());

  std::vector<std::string> targets;
  for (const auto& r : *found) targets.push_back(r.id);
  keystore::invalidate_result res;
  if (!targets.empty()) {
    auto r = co_await ctx.store.invalidate(targets, req.now_ms);
    if (!r) co_return store_failure(r.error());
    res = std::move(*r);
    if (!res.invalidated.empty() && ctx.on_keys_changed) ctx.on_keys_changed(res.invalidated);
  }
  json::object out;
  out["invalidated_api_keys"] = json::value_from(res.invalidated);
  out["previously_invalidated_api_keys"] = json::value_from(res.previously_invalidated);
  out["error_count"] = res.errors.size();
  if (!res.errors.empty()) {
    json::array details;
    for (const auto& [id, ec] : res.errors)
      details.emplace_back(
          json::object{{"type", "exception"},
                       {"reason", "error invalidating API key [" + id + "]: " + ec.message()}});
    out["error_details"] = std::move(details);
  }
  co_return json_response(out);
}

// ---- POST /_security/api_key/{ids}/_clear_cache ---------------------------------------------

asio::awaitable<http::gateway_response> clear_api_key_cache(security_api_context& ctx,
                                                            const security_api_request& req,
                                                            const std::string& ids) {
  params p;
  if (auto e = check_params(req, {}, p)) co_return error_response(*e);
  if (!req.caller.effective.allows_cluster(action::clear_cache))
    co_return denied(req.caller, action::clear_cache, false);
  std::vector<std::string> list;
  std::size_t start = 0;
  while (start <= ids.size()) {
    std::size_t comma = ids.find(',', start);
    if (comma == std::string::npos) comma = ids.size();
    if (comma > start) list.push_back(ids.substr(start, comma - start));
    start = comma + 1;
  }
  if (std::find(list.begin(), list.end(), "*") != list.end()) list = {"*"};
  if (!list.empty() && ctx.on_keys_changed) ctx.on_keys_changed(list);
  json::object out;
  out["_nodes"] = json::object{{"total", 1}, {"successful", 1}, {"failed", 0}};
  out["cluster_name"] = "esgate";
  out["nodes"] = json::object{};
  co_return json_response(out);
}

}  // namespace detail

// ---- routing --------------------------------------------------------------------------------

namespace {

using detail::api_error;

enum class route {
  none,
  api_key,         // GET get, POST|PUT create, DELETE invalidate
  api_key_bulk,    // POST bulk update (PUT = update of a key with that id, as ES's trie)
  api_key_id,      // PUT update
  api_key_grant,   // POST|PUT (not supported)
  api_key_clone,   // POST|PUT (not supported)
  api_key_clear,   // POST clear cache
  query,           // GET|POST
  authenticate,    // GET
  has_privileges,  // GET|POST
  cross_cluster,   // POST|PUT (not supported)
};

route route_of(const std::vector<std::string>& s) {
  if (s.size() < 2 || s[0] != "_security") return route::none;
  if (s.size() == 2) {
    if (s[1] == "api_key") return route::api_key;
    if (s[1] == "_authenticate") return route::authenticate;
    return route::none;
  }
  if (s[1] == "api_key") {
    if (s.size() == 3) {
      if (s[2] == "_bulk_update") return route::api_key_bulk;
      if (s[2] == "grant") return route::api_key_grant;
      if (s[2] == "clone") return route::api_key_clone;
      return route::api_key_id;
    }
    if (s.size() == 4 && s[3] == "_clear_cache") return route::api_key_clear;
    return route::none;
  }
  if (s.size() == 3 && s[1] == "_query" && s[2] == "api_key") return route::query;
  if (s[1] == "user" && ((s.size() == 3 && s[2] == "_has_privileges") ||
                         (s.size() == 4 && s[3] == "_has_privileges")))
    return route::has_privileges;
  if (s[1] == "cross_cluster" && s.size() >= 3 && s.size() <= 4 && s[2] == "api_key")
    return route::cross_cluster;
  return route::none;
}

std::vector<std::string_view> methods_of(route r) {
  switch (r) {
    case route::api_key:
      return {"DELETE", "POST", "GET", "PUT"};
    case route::api_key_bulk:
      return {"POST", "PUT"};
    case route::api_key_id:
      return {"PUT"};
    case route::api_key_grant:
    case route::api_key_clone:
    case route::cross_cluster:
      return {"POST", "PUT"};
    case route::api_key_clear:
      return {"POST"};
    case route::query:
    case route::has_privileges:
      return {"POST", "GET"};
    case route::authenticate:
      return {"GET"};
    case route::none:
      break;
  }
  return {};
}

http::gateway_response method_not_allowed(const security_api_request& req,
                                          const std::vector<std::string_view>& allowed) {
  std::string uri = detail::request_path(req);
  for (std::size_t i = 0; i < req.query.size(); ++i)
    uri += (i ? "&" : "?") + req.query[i].first +
           (req.query[i].second.empty() ? "" : "=" + req.query[i].second);
  std::string list;
  for (std::size_t i = 0; i < allowed.size(); ++i)
    list += (i ? ", " : "") + std::string(allowed[i]);
  // RestController.handleUnsupportedHttpMethod: a bare {"error": "...", "status": 405}.
  json::object body;
  body["error"] = "Incorrect HTTP method for uri [" + uri + "] and method [" +
                  std::string(req.method) + "], allowed: [" + list + "]";
  body["status"] = 405;
  auto r = detail::json_response(body, 405);
  std::string allow;
  for (std::size_t i = 0; i < allowed.size(); ++i)
    allow += (i ? "," : "") + std::string(allowed[i]);
  r.headers.emplace_back("Allow", allow);
  return r;
}

http::gateway_response unsupported(std::string_view what) {
  return detail::error_response(
      detail::illegal_argument(std::string(what) + " is not supported by esgate"));
}

}  // namespace

bool is_security_api(const std::vector<std::string>& segments) {
  return route_of(segments) != route::none;
}

asio::awaitable<http::gateway_response> handle_security_api(security_api_context& ctx,
                                                            const security_api_request& req) {
  const route r = route_of(req.segments);
  if (r == route::none)
    co_return detail::error_response(api_error{400, "illegal_argument_exception",
                                               "no handler found for uri [" +
                                                   detail::request_path(req) + "] and method [" +
                                                   std::string(req.method) + "]"});
  const auto allowed = methods_of(r);
  const auto& m = req.method;
  if (m == "OPTIONS") {
    http::gateway_response o = detail::json_response(json::object{});
    o.body.clear();
    std::string allow;
    for (std::size_t i = 0; i < allowed.size(); ++i)
      allow += (i ? "," : "") + std::string(allowed[i]);
    o.headers.emplace_back("Allow", allow);
    co_return o;
  }
  if (std::find(allowed.begin(), allowed.end(), m) == allowed.end())
    co_return method_not_allowed(req, allowed);
  switch (r) {
    case route::api_key:
      if (m == "GET") co_return co_await detail::get_api_keys(ctx, req);
      if (m == "DELETE") co_return co_await detail::invalidate_api_keys(ctx, req);
      co_return co_await detail::create_api_key(ctx, req);
    case route::api_key_bulk:
      if (m == "POST") co_return co_await detail::bulk_update_api_keys(ctx, req);
      co_return co_await detail::update_api_key(ctx, req, req.segments[2]);
    case route::api_key_id:
      co_return co_await detail::update_api_key(ctx, req, req.segments[2]);
    case route::api_key_clear:
      co_return co_await detail::clear_api_key_cache(ctx, req, req.segments[2]);
    case route::query:
      co_return co_await detail::query_api_keys(ctx, req);
    case route::authenticate:
      co_return detail::authenticate(req);
    case route::has_privileges:
      co_return detail::has_privileges(req, req.segments.size() == 4 ? &req.segments[2] : nullptr);
    case route::api_key_grant:
      co_return unsupported("granting API keys");
    case route::api_key_clone:
      co_return unsupported("cloning API keys");
    case route::cross_cluster:
      co_return unsupported("cross-cluster API keys");
    case route::none:
      break;
  }
  co_return detail::error_response(api_error{500, "exception", "unrouted security API request"});
}

}  // namespace esgate::admin
