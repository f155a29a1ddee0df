// _authenticate and _has_privileges (es-security-reference.md §1.11, §1.12): always allowed for
// the caller itself (RBAC same-user rule).
#include "esgate/policy/privileges.hpp"
#include "security_api_bodies.hpp"
#include "security_api_handlers.hpp"

namespace esgate::admin::detail {

namespace json = boost::json;

namespace {

json::value text_or_null(const std::string& s) {
  if (s.empty()) return nullptr;
  return json::string(s);
}

json::object realm(std::string_view name, std::string_view type) {
  return json::object{{"name", name}, {"type", type}};
}

}  // namespace

http::gateway_response authenticate(const security_api_request& req) {
  params p;
  if (auto e = check_params(req, {}, p)) return error_response(*e);
  if (auto e = refuse_body(req)) return error_response(*e);
  const auto& c = req.caller;
  json::object o;
  o["username"] = c.username;
  json::array roles;
  // An API key's synthesized user has no role names (AKS validateApiKeyTypeAndExpiration).
  if (!c.is_api_key())
    for (const auto& r : c.roles) roles.emplace_back(r);
  o["roles"] = std::move(roles);
  o["full_name"] = text_or_null(c.full_name);
  o["email"] = text_or_null(c.email);
  o["metadata"] = json::object{};
  o["enabled"] = true;
  o["authentication_realm"] = realm(c.realm(), c.realm_type());
  o["lookup_realm"] = realm(c.realm(), c.realm_type());
  o["authentication_type"] = c.is_api_key() ? "api_key" : "realm";
  if (c.is_api_key()) {
    json::object key;
    key["id"] = c.api_key_id;
    if (!c.api_key_name.empty()) key["name"] = c.api_key_name;
    o["api_key"] = std::move(key);
  }
  return json_response(o);
}

namespace {

// Keeps insertion order; a repeated name is combined with AND, as ES's ResourcePrivilegesMap.
void set_flag(json::object& o, std::string_view key, bool value) {
  if (auto* existing = o.if_contains(key))
    *existing = existing->as_bool() && value;
  else
    o[key] = value;
}

}  // namespace

http::gateway_response has_privileges(const security_api_request& req,
                                      const std::string* path_user) {
  const auto& caller = req.caller;
  params p;
  if (auto e = check_params(req, {}, p)) return error_response(*e);
  // Only one's own privileges (TransportHasPrivilegesAction); others need the action first.
  if (path_user && *path_user != caller.username) {
    if (!caller.effective.allows_cluster(action::has_privileges))
      return denied(caller, action::has_privileges, false);
    return error_response(
        illegal_argument("users may only check the privileges of their own account"));
  }
  auto parsed = parse_has_privileges_body(req.body, caller.username);
  if (auto* e = std::get_if<api_error>(&parsed)) return error_response(*e);
  const auto& check = std::get<privileges_check>(parsed);

  bool all = true;
  json::object cluster;
  for (const auto& c : check.cluster) {
    const bool ok = caller.effective.has_cluster_privilege(c);
    all = all && ok;
    set_flag(cluster, c, ok);
  }
  json::object index;
  for (const auto& ic : check.index) {
    for (const auto& name : ic.names) {
      json::value& slot = index[name];
      if (!slot.is_object()) slot = json::object{};
      for (const auto& pr : ic.privileges) {
        const bool ok = caller.effective.has_index_privilege(pr, name, ic.allow_restricted);
        all = all && ok;
        set_flag(slot.as_object(), pr, ok);
      }
    }
  }
  // esgate has no application privileges: every requested one is false.
  json::object application;
  for (const auto& ac : check.application) {
    json::value& app = application[ac.application];
    if (!app.is_object()) app = json::object{};
    for (const auto& res : ac.resources) {
      json::value& r = app.as_object()[res];
      if (!r.is_object()) r = json::object{};
      for (const auto& pr : ac.privileges) {
        all = false;
        r.as_object()[pr] = false;
      }
    }
  }
  json::object o;
  o["username"] = caller.username;
  o["has_all_requested"] = all;
  o["cluster"] = std::move(cluster);
  o["index"] = std::move(index);
  o["application"] = std::move(application);
  return json_response(o);
}

}  // namespace esgate::admin::detail
