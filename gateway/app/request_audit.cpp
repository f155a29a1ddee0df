#include "request_audit.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "esgate/policy/permission.hpp"
#include "esgate/policy/role_descriptor.hpp"

namespace esgate::app {

namespace obs = observability;

obs::audit_record base_record(obs::audit_event e, const request_facts& f) {
  obs::audit_record r;
  r.event = e;
  r.request_id = f.request_id;
  r.opaque_id = f.opaque_id;
  r.origin_address = f.client_ip;
  r.method = f.method;
  r.url_path = f.path;
  return r;
}

void set_identity(obs::audit_record& r, const policy::identity& who) {
  r.authentication_type = who.is_api_key() ? "API_KEY" : "REALM";
  r.user = who.username;
  r.realm = who.realm();
  r.roles = who.roles;
  if (who.is_api_key()) {
    r.api_key_id = who.api_key_id;
    r.api_key_name = who.api_key_name;
  }
}

void audit_tampered(obs::audit_log& log, const request_facts& f, std::string_view reason,
                    int status) {
  if (!log.wants(obs::audit_event::tampered_request)) return;
  auto r = base_record(obs::audit_event::tampered_request, f);
  r.reason = reason;
  r.status = status;
  log.record(r);
}

void audit_authentication_failure(obs::audit_log& log, const request_facts& f,
                                  const auth::credentials& creds, std::string_view reason,
                                  int status) {
  const bool anonymous = std::holds_alternative<auth::no_credentials>(creds);
  const auto e = anonymous ? obs::audit_event::anonymous_access_denied
                           : obs::audit_event::authentication_failed;
  if (!log.wants(e)) return;
  auto r = base_record(e, f);
  if (auto* b = std::get_if<auth::basic_credentials>(&creds)) {
    r.authentication_type = "REALM";
    r.user = b->username;  // the name tried (ES logs it too); never the password
    r.realm = policy::file_realm_name;
  } else if (auto* k = std::get_if<auth::api_key_credentials>(&creds)) {
    r.authentication_type = "API_KEY";
    r.api_key_id = k->id;  // the id part only, never the secret or the encoded key
    r.realm = policy::api_key_realm_name;
  } else if (anonymous) {
    r.authentication_type = "ANONYMOUS";
  }
  r.reason = reason;
  r.status = status;
  log.record(r);
}

void audit_authentication_success(obs::audit_log& log, const request_facts& f,
                                  const policy::identity& who) {
  if (!log.wants(obs::audit_event::authentication_success)) return;
  auto r = base_record(obs::audit_event::authentication_success, f);
  set_identity(r, who);
  log.record(r);
}

void audit_access(obs::audit_log& log, const request_facts& f, const policy::identity& who,
                  bool granted, std::string_view action, std::span<const std::string> indices,
                  std::string_view reason, int status) {
  const auto e = granted ? obs::audit_event::access_granted : obs::audit_event::access_denied;
  if (!log.wants(e)) return;
  auto r = base_record(e, f);
  set_identity(r, who);
  r.action = action;
  r.indices = indices;
  r.decision = granted ? "allow" : "deny";
  r.reason = reason;
  r.status = status;
  log.record(r);
}

std::vector<std::string> requested_indices(const es::authz_decision& d,
                                           const es::request_target& t) {
  std::vector<std::string> out;
  if (d.ep == nullptr || d.ep->index_param.empty()) return out;
  const std::string wanted = "{" + std::string(d.ep->index_param) + "}";
  for (std::size_t i = 0; i < d.ep->segments.size() && i < t.segments.size(); ++i) {
    if (d.ep->segments[i] != wanted) continue;
    std::string_view expr = t.segments[i];
    while (!expr.empty()) {
      const auto comma = expr.find(',');
      auto name = expr.substr(0, comma);
      if (!name.empty()) out.emplace_back(name);
      if (comma == std::string_view::npos) break;
      expr.remove_prefix(comma + 1);
    }
    break;
  }
  return out;
}

std::string_view security_api_action(std::string_view method, const std::vector<std::string>& s) {
  if (s.size() >= 2 && s[1] == "_authenticate")
    return "cluster:admin/xpack/security/user/authenticate";
  if (s.size() >= 2 && s[1] == "user") return "cluster:admin/xpack/security/user/has_privileges";
  if (s.size() >= 2 && s[1] == "_query") return "cluster:admin/xpack/security/api_key/query";
  if (s.size() == 2) {
    if (method == "GET") return "cluster:admin/xpack/security/api_key/get";
    if (method == "DELETE") return "cluster:admin/xpack/security/api_key/invalidate";
    return "cluster:admin/xpack/security/api_key/create";
  }
  if (s.size() == 3 && s[2] == "_bulk_update")
    return "cluster:admin/xpack/security/api_key/bulk_update";
  if (s.size() == 3) return "cluster:admin/xpack/security/api_key/update";
  return "cluster:admin/xpack/security/api_key/other";
}

namespace {

std::vector<std::string> string_list(const boost::json::value* v) {
  std::vector<std::string> out;
  if (v == nullptr || !v->is_array()) return out;
  for (const auto& item : v->get_array())
    if (item.is_string()) out.emplace_back(item.get_string());
  return out;
}

}  // namespace

void audit_key_change(obs::audit_log& log, const request_facts& f, const policy::identity& who,
                      std::string_view method, const std::vector<std::string>& s,
                      const http::gateway_response& resp) {
  if (!log.wants(obs::audit_event::security_config_change) || resp.status / 100 != 2) return;
  if (s.size() < 2 || s[0] != "_security" || s[1] != "api_key" || method == "GET") return;
  std::string_view change;
  std::vector<std::string> ids;
  std::string name;
  boost::system::error_code ec;
  const auto body = boost::json::parse(resp.body, ec);
  const auto* obj = !ec && body.is_object() ? &body.get_object() : nullptr;
  if (s.size() == 2 && method == "DELETE") {
    change = "invalidate_apikeys";
    if (obj) ids = string_list(obj->if_contains("invalidated_api_keys"));
  } else if (s.size() == 2) {
    change = "create_apikey";
    // Only `id` and `name`: the response also holds `api_key` and `encoded`, the secret.
    if (obj) {
      if (const auto* id = obj->if_contains("id"); id && id->is_string())
        ids.emplace_back(id->get_string());
      if (const auto* n = obj->if_contains("name"); n && n->is_string()) name = n->get_string();
    }
  } else if (s.size() == 3 && s[2] == "_bulk_update") {
    change = "change_apikeys";
    if (obj) ids = string_list(obj->if_contains("updated"));
  } else if (s.size() == 3 && method == "PUT") {
    change = "change_apikey";
    ids.push_back(s[2]);
  } else {
    return;
  }
  auto r = base_record(obs::audit_event::security_config_change, f);
  set_identity(r, who);
  r.change = change;
  r.outcome = "success";
  r.api_key_ids = ids;
  r.changed_key_name = name;
  r.status = resp.status;
  log.record(r);
}

void audit_policy_reload(obs::audit_log& log, bool ok, std::string_view reason) {
  if (!log.wants(obs::audit_event::security_config_change)) return;
  obs::audit_record r;
  r.event = obs::audit_event::security_config_change;
  r.change = "reload_security_config";
  r.outcome = ok ? "success" : "failure";
  r.reason = reason;
  log.record(r);
}

std::optional<bool> shadow_allows(const security_state& sec, const policy::identity& who,
                                  const es::authz_request& live,
                                  const es::cluster_metadata* metadata) {
  std::shared_ptr<const policy::identity> shadow_user;
  std::optional<policy::identity> shadow_key;
  const policy::identity* shadow = nullptr;
  if (!who.is_api_key()) {
    shadow_user = sec.shadow_identity_of(who.username);
    shadow = shadow_user.get();
  } else {
    // The key's own descriptors stay; its owner's roles (the ceiling) come from the shadow file.
    std::vector<std::shared_ptr<const policy::role_permission>> limits{
        sec.shadow_roles_of(who.username)};
    if (who.api_key_limited_by_key) {
      auto creator = policy::parse_role_descriptors_json(*who.api_key_limited_by_key);
      if (!creator.ok()) return std::nullopt;
      if (!creator.roles.empty()) limits.push_back(policy::compile(creator.roles));
    }
    shadow_key.emplace(who);
    shadow_key->owner_roles = limits.front();
    shadow_key->effective = policy::api_key_permission(who.api_key_descriptors, std::move(limits));
    shadow = &*shadow_key;
  }
  if (shadow == nullptr) return false;  // a user unknown to the shadow snapshot: nothing granted
  es::authz_request r{live.method, live.target, *shadow, live.now, metadata};
  auto d = es::authorize(r);
  using K = es::authz_decision::kind;
  if (d.k == K::allow) return true;
  if (d.k == K::deny) return false;
  return std::nullopt;  // need_metadata without metadata, routing outcomes
}

}  // namespace esgate::app
