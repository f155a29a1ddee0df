// _authenticate and _has_privileges (es-security-reference.md §1.11, §1.12): always allowed for
// the caller itself (RBAC same-user rule).
#include "esgate/policy/privileges.hpp"
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

struct index_check {
  std::vector<std::string> names;
  std::vector<std::string> privileges;
  bool allow_restricted = false;
};

struct application_check {
  std::string application;
  std::vector<std::string> privileges;
  std::vector<std::string> resources;
};

struct privileges_check {
  std::vector<std::string> cluster;
  std::vector<index_check> index;
  std::vector<application_check> application;
};

api_error check_parse_error(const std::string& user, std::string detail) {
  return bad_request("parse_exception",
                     "failed to parse privileges check [" + user + "]. " + std::move(detail));
}

std::optional<api_error> strings(const json::value& v, const std::string& user,
                                 std::string_view field, bool allow_single,
                                 std::vector<std::string>& out) {
  if (allow_single && v.is_string()) {
    out.emplace_back(v.get_string());
    return std::nullopt;
  }
  if (!v.is_array())
    return check_parse_error(user, "expected field [" + std::string(field) +
                                       "] value to be an array of strings, but found [" +
                                       token_name(v) + "] instead");
  for (const auto& e : v.get_array()) {
    if (!e.is_string())
      return check_parse_error(user, "expected field [" + std::string(field) +
                                         "] value to be an array of strings, but found [" +
                                         token_name(e) + "] in the array instead");
    out.emplace_back(e.get_string());
  }
  return std::nullopt;
}

std::variant<privileges_check, api_error> parse_check(const json::value& doc,
                                                      const std::string& user) {
  privileges_check c;
  if (!doc.is_object())
    return check_parse_error(user,
                             "expected an object but found [" + token_name(doc) + "] instead");
  for (const auto& kv : doc.get_object()) {
    const std::string k(kv.key());
    const json::value& v = kv.value();
    if (k == "cluster") {
      if (auto e = strings(v, user, k, false, c.cluster)) return *e;
    } else if (k == "index" || k == "indices") {
      if (!v.is_array())
        return check_parse_error(user, "expected field [" + k +
                                           "] value to be an array, but found [" + token_name(v) +
                                           "] instead");
      for (const auto& entry : v.get_array()) {
        if (!entry.is_object())
          return check_parse_error(user,
                                   "expected field [" + k + "] value to be an array of objects");
        index_check ic;
        bool have_names = false, have_privileges = false;
        for (const auto& f : entry.get_object()) {
          const std::string fk(f.key());
          if (fk == "names") {
            have_names = true;
            if (auto e = strings(f.value(), user, fk, true, ic.names)) return *e;
          } else if (fk == "privileges") {
            have_privileges = true;
            if (auto e = strings(f.value(), user, fk, false, ic.privileges)) return *e;
          } else if (fk == "allow_restricted_indices") {
            if (!f.value().is_bool())
              return check_parse_error(user,
                                       "expected field [allow_restricted_indices] value to be a "
                                       "boolean, but found [" +
                                           token_name(f.value()) + "] instead");
            ic.allow_restricted = f.value().get_bool();
          } else {
            return check_parse_error(user, "unexpected field [" + fk + "]");
          }
        }
        if (!have_names) return check_parse_error(user, "missing required [names] field");
        if (!have_privileges) return check_parse_error(user, "missing required [privileges] field");
        c.index.push_back(std::move(ic));
      }
    } else if (k == "application") {
      if (!v.is_array())
        return check_parse_error(user,
                                 "expected field [application] value to be an array, but "
                                 "found [" +
                                     token_name(v) + "] instead");
      for (const auto& entry : v.get_array()) {
        if (!entry.is_object())
          return check_parse_error(user,
                                   "expected field [application] value to be an array of "
                                   "objects");
        application_check ac;
        for (const auto& f : entry.get_object()) {
          const std::string fk(f.key());
          if (fk == "application") {
            if (!f.value().is_string())
              return check_parse_error(user, "expected field [application] to be a string");
            ac.application = std::string(f.value().get_string());
          } else if (fk == "privileges") {
            if (auto e = strings(f.value(), user, fk, false, ac.privileges)) return *e;
          } else if (fk == "resources") {
            if (auto e = strings(f.value(), user, fk, false, ac.resources)) return *e;
          } else {
            return check_parse_error(user, "unexpected field [" + fk + "]");
          }
        }
        c.application.push_back(std::move(ac));
      }
    } else {
      return check_parse_error(user, "unexpected field [" + k + "]");
    }
  }
  return c;
}

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
  auto body = read_body(req, true);
  if (auto* e = std::get_if<api_error>(&body)) return error_response(*e);
  auto parsed = parse_check(*std::get<std::optional<json::value>>(body), caller.username);
  if (auto* e = std::get_if<api_error>(&parsed)) return error_response(*e);
  const auto& check = std::get<privileges_check>(parsed);
  if (check.cluster.empty() && check.index.empty() && check.application.empty())
    return error_response(validation_failed({"must specify at least one privilege"}));

  for (const auto& c : check.cluster)
    if (!policy::is_valid_cluster_privilege(c))
      return error_response(illegal_argument(policy::unknown_cluster_privilege_message(c)));
  for (const auto& ic : check.index)
    for (const auto& pr : ic.privileges)
      if (!policy::is_valid_index_privilege(pr))
        return error_response(illegal_argument(policy::unknown_index_privilege_message(pr)));

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
