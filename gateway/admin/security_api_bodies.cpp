#include "security_api_bodies.hpp"

#include <algorithm>

#include "esgate/policy/privileges.hpp"

namespace esgate::admin::detail {

namespace json = boost::json;

namespace {

constexpr std::string_view reserved_metadata = "API key metadata keys may not start with [_]";

bool has_reserved_key(const json::object& o) {
  return std::any_of(o.begin(), o.end(),
                     [](const auto& kv) { return !kv.key().empty() && kv.key().front() == '_'; });
}

// Shared by create, update and bulk update, in Elasticsearch's order: structural problems first
// (x_content_parse_exception), then every validation message at once.
struct field_rules {
  std::string_view parser;
  bool allow_name = false;
  bool allow_ids = false;
};

std::variant<key_fields, api_error> parse_key_fields(const json::value& doc, const field_rules& r,
                                                     std::vector<std::string>& validation,
                                                     std::optional<api_error>& role_error) {
  if (!doc.is_object())
    return bad_request(
        "x_content_parse_exception",
        "[" + std::string(r.parser) + "] Expected START_OBJECT but was: " + token_name(doc));
  key_fields f;
  for (const auto& kv : doc.get_object()) {
    const std::string k(kv.key());
    const json::value& v = kv.value();
    if (k == "name" && r.allow_name) {
      if (v.is_null()) continue;
      if (!v.is_string()) return wrong_type(r.parser, k, v);
      f.name = std::string(v.get_string());
    } else if (k == "expiration") {
      if (v.is_null()) continue;
      if (!v.is_string()) return wrong_type(r.parser, k, v);
      auto t = parse_time_value_ms(v.get_string(), "expiration");
      if (auto* msg = std::get_if<std::string>(&t)) return illegal_argument(*msg);
      f.expiration_ms = std::get<std::int64_t>(t);
    } else if (k == "metadata") {
      if (v.is_null()) continue;
      if (!v.is_object()) return wrong_type(r.parser, k, v);
      f.metadata = v.get_object();
    } else if (k == "role_descriptors") {
      auto parsed = policy::parse_role_descriptors_json(v);
      if (!parsed.ok()) {
        if (parsed.error->type == "x_content_parse_exception")
          return bad_request(parsed.error->type, parsed.error->reason);
        if (parsed.error->type == "action_request_validation_exception") {
          for (auto& m : split_validation_reason(parsed.error->reason))
            validation.push_back(std::move(m));
        } else {
          role_error = bad_request(parsed.error->type, parsed.error->reason);
        }
        f.role_descriptors.emplace();
        continue;
      }
      f.role_descriptors = std::move(parsed.roles);
    } else if (k == "ids" && r.allow_ids) {
      f.ids.emplace();
      if (v.is_string()) {
        f.ids->emplace_back(v.get_string());
      } else if (v.is_array()) {
        for (const auto& e : v.get_array()) {
          if (!e.is_string()) return wrong_type(r.parser, k, e);
          f.ids->emplace_back(e.get_string());
        }
      } else {
        return wrong_type(r.parser, k, v);
      }
    } else {
      return unknown_field(r.parser, k);
    }
  }
  if (f.metadata && has_reserved_key(*f.metadata)) validation.emplace_back(reserved_metadata);
  return f;
}

std::optional<api_error> first_error(std::vector<std::string>& validation,
                                     std::optional<api_error>& role_error) {
  if (!validation.empty()) return validation_failed(validation);
  if (role_error) return role_error;
  return std::nullopt;
}

// AbstractCreateApiKeyRequest.validate() for the name.
void validate_name(const std::optional<std::string>& name, std::vector<std::string>& out) {
  if (!name || name->empty()) {
    out.insert(out.begin(), "api key name is required");
    return;
  }
  std::vector<std::string> mine;
  if (utf16_length(*name) > 256)
    mine.emplace_back("api key name may not be more than 256 characters long");
  if (has_java_whitespace_edges(*name))
    mine.emplace_back("api key name may not begin or end with whitespace");
  if (name->front() == '_') mine.emplace_back("api key name may not begin with an underscore");
  out.insert(out.begin(), mine.begin(), mine.end());
}

std::variant<key_fields, api_error> key_fields_body(std::string_view body, bool required,
                                                    const field_rules& rules) {
  auto doc = read_json_body(body, required);
  if (auto* e = std::get_if<api_error>(&doc)) return *e;
  const auto& v = std::get<std::optional<json::value>>(doc);
  key_fields f;
  std::vector<std::string> validation;
  std::optional<api_error> role_error;
  if (v) {
    auto parsed = parse_key_fields(*v, rules, validation, role_error);
    if (auto* e = std::get_if<api_error>(&parsed)) return *e;
    f = std::move(std::get<key_fields>(parsed));
  }
  if (rules.allow_name) validate_name(f.name, validation);
  if (rules.allow_ids && (!f.ids || f.ids->empty()))
    validation.insert(validation.begin(), "Field [ids] cannot be empty");
  if (auto e = first_error(validation, role_error)) return *e;
  return f;
}

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

std::variant<privileges_check, api_error> parse_check_doc(const json::value& doc,
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

}  // namespace

std::variant<key_fields, api_error> parse_create_body(std::string_view body) {
  return key_fields_body(body, true, {"api_key_request", true, false});
}

std::variant<key_fields, api_error> parse_update_body(std::string_view body) {
  return key_fields_body(body, false, {"update_api_key_request_payload", false, false});
}

std::variant<key_fields, api_error> parse_bulk_update_body(std::string_view body) {
  return key_fields_body(body, true, {"bulk_update_api_key_request", false, true});
}

std::variant<invalidate_body, api_error> parse_invalidate_body(std::string_view body) {
  constexpr std::string_view parser = "invalidate_api_key_request";
  auto parsed = read_json_body(body, true);
  if (auto* e = std::get_if<api_error>(&parsed)) return *e;
  const json::value& doc = *std::get<std::optional<json::value>>(parsed);
  if (!doc.is_object())
    return bad_request(
        "x_content_parse_exception",
        "[" + std::string(parser) + "] Expected START_OBJECT but was: " + token_name(doc));

  std::optional<std::vector<std::string>> ids;
  std::optional<std::string> single_id;
  std::string name, username, realm;
  bool owner = false;
  for (const auto& kv : doc.get_object()) {
    const std::string k(kv.key());
    const json::value& v = kv.value();
    auto text = [&](std::string& dest) -> std::optional<api_error> {
      if (v.is_null()) return std::nullopt;
      if (!v.is_string()) return wrong_type(parser, k, v);
      dest = std::string(v.get_string());
      return std::nullopt;
    };
    std::optional<api_error> err;
    if (k == "ids") {
      if (v.is_null()) continue;
      ids.emplace();
      if (v.is_string()) {
        ids->emplace_back(v.get_string());
      } else if (v.is_array()) {
        for (const auto& e : v.get_array()) {
          if (!e.is_string()) {
            err = wrong_type(parser, k, e);
            break;
          }
          ids->emplace_back(e.get_string());
        }
      } else {
        err = wrong_type(parser, k, v);
      }
    } else if (k == "id") {
      std::string s;
      err = text(s);
      if (!v.is_null()) single_id = s;
    } else if (k == "name") {
      err = text(name);
    } else if (k == "username") {
      err = text(username);
    } else if (k == "realm_name") {
      err = text(realm);
    } else if (k == "owner") {
      if (v.is_bool())
        owner = v.get_bool();
      else if (!v.is_null())
        err = wrong_type(parser, k, v);
    } else {
      err = unknown_field(parser, k);
    }
    if (err) return *err;
  }
  if (single_id && ids)
    return illegal_argument("Must use either [id] or [ids], not both at the same time");
  if (single_id) ids = std::vector<std::string>{*single_id};

  // InvalidateApiKeyRequest.validate()
  std::vector<std::string> v;
  if (!!is_blank(realm) && !!is_blank(username) && !ids && !!is_blank(name) && !owner)
    v.emplace_back(
        "One of [api key id(s), api key name, username, realm name] must be specified if [owner] "
        "flag is false");
  if ((ids || !is_blank(name)) && (!is_blank(realm) || !is_blank(username)))
    v.emplace_back(
        "username or realm name must not be specified when the api key id(s) or api key name are "
        "specified");
  if (owner && (!is_blank(realm) || !is_blank(username)))
    v.emplace_back(
        "neither username nor realm-name may be specified when invalidating owned API keys");
  if (ids && !is_blank(name))
    v.emplace_back("only one of [api key id(s), api key name] can be specified");
  if (ids) {
    if (ids->empty()) {
      v.emplace_back("Field [ids] cannot be an empty array");
    } else {
      std::vector<std::size_t> blanks;
      for (std::size_t i = 0; i < ids->size(); ++i)
        if (!!is_blank((*ids)[i])) blanks.push_back(i);
      if (!blanks.empty()) {
        std::string m = "Field [ids] must not contain blank id, but got blank ";
        m += blanks.size() == 1 ? "id at index position: [" : "ids at index positions: [";
        for (std::size_t i = 0; i < blanks.size(); ++i)
          m += (i ? ", " : "") + std::to_string(blanks[i]);
        v.emplace_back(m + "]");
      }
    }
  }
  if (!v.empty()) return validation_failed(v);
  return invalidate_body{std::move(ids), std::move(name), std::move(username), std::move(realm),
                         owner};
}

std::variant<query_request, api_error> parse_query_body(std::string_view body,
                                                        std::int64_t now_ms) {
  auto doc = read_json_body(body, false);
  if (auto* e = std::get_if<api_error>(&doc)) return *e;
  const auto& v = std::get<std::optional<json::value>>(doc);
  return parse_query_request(v ? &*v : nullptr, now_ms);
}

std::variant<privileges_check, api_error> parse_has_privileges_body(std::string_view body,
                                                                    const std::string& user) {
  auto doc = read_json_body(body, true);
  if (auto* e = std::get_if<api_error>(&doc)) return *e;
  auto parsed = parse_check_doc(*std::get<std::optional<json::value>>(doc), user);
  if (auto* e = std::get_if<api_error>(&parsed)) return *e;
  auto& check = std::get<privileges_check>(parsed);
  if (check.cluster.empty() && check.index.empty() && check.application.empty())
    return validation_failed({"must specify at least one privilege"});
  for (const auto& c : check.cluster)
    if (!policy::is_valid_cluster_privilege(c))
      return illegal_argument(policy::unknown_cluster_privilege_message(c));
  for (const auto& ic : check.index)
    for (const auto& pr : ic.privileges)
      if (!policy::is_valid_index_privilege(pr))
        return illegal_argument(policy::unknown_index_privilege_message(pr));
  return std::move(check);
}

}  // namespace esgate::admin::detail
