// API key `role_descriptors` parsing with ES's error types and wording (RoleDescriptor.parse,
// RoleDescriptorRequestValidator).
#include "esgate/policy/role_descriptor.hpp"
#include "role_checks.hpp"

namespace esgate::policy {

std::string json_token_name(const boost::json::value& v) {
  namespace json = boost::json;
  switch (v.kind()) {
    case json::kind::object:
      return "START_OBJECT";
    case json::kind::array:
      return "START_ARRAY";
    case json::kind::string:
      return "VALUE_STRING";
    case json::kind::bool_:
      return "VALUE_BOOLEAN";
    case json::kind::null:
      return "VALUE_NULL";
    default:
      return "VALUE_NUMBER";
  }
}

namespace {

namespace json = boost::json;

bool is_empty(const json::value& v) {
  return v.is_null() || (v.is_array() && v.as_array().empty()) ||
         (v.is_object() && v.as_object().empty());
}

class json_roles_parser {
 public:
  role_descriptors_result run(const json::value& v) {
    role_descriptors_result r;
    if (v.is_null()) return r;
    if (!v.is_object()) {
      r.error =
          es_error{"x_content_parse_exception",
                   "failed to parse field [role_descriptors]. expected an object but found [" +
                       json_token_name(v) + "] instead"};
      return r;
    }
    for (const auto& [name, body] : v.as_object()) {
      role_descriptor d;
      d.name = std::string(name);
      if (!parse_role(d, body)) {
        r.error = es_error{"x_content_parse_exception", parse_error_};
        return r;
      }
      r.roles.push_back(std::move(d));
    }
    if (!unsupported_.empty()) {
      r.roles.clear();
      r.error = es_error{"illegal_argument_exception", unsupported_};
      return r;
    }
    if (!validation_.empty()) {
      std::string reason = "Validation Failed: ";
      int i = 0;
      for (const auto& e : validation_) reason += std::to_string(++i) + ": " + e + ";";
      r.roles.clear();
      r.error = es_error{"action_request_validation_exception", std::move(reason)};
    }
    return r;
  }

 private:
  bool fail(std::string m) {
    parse_error_ = std::move(m);
    return false;
  }
  void unsupported(std::string m) {
    if (unsupported_.empty()) unsupported_ = std::move(m);
  }

  // A JSON array of strings (null = empty); false after recording a parse error otherwise.
  bool string_array(const json::value& v, std::string_view field, std::string_view prefix,
                    std::vector<std::string>& out) {
    if (v.is_null()) return true;
    if (!v.is_array())
      return fail(std::string(prefix) + "could not parse [" + std::string(field) +
                  "] field. expected a string array but found [" + json_token_name(v) +
                  "] value instead");
    for (const auto& item : v.as_array()) {
      if (!item.is_string())
        return fail(std::string(prefix) + "could not parse [" + std::string(field) +
                    "] field. expected a string array but one of the value in the array is [" +
                    json_token_name(item) + "]");
      out.emplace_back(item.as_string());
    }
    return true;
  }

  bool parse_role(role_descriptor& d, const json::value& body) {
    const std::string prefix = "failed to parse role [" + d.name + "]. ";
    if (!body.is_object())
      return fail(prefix + "expected an object but found [" + json_token_name(body) + "] instead");
    for (const auto& [key, value] : body.as_object()) {
      const std::string field(key);
      if (field == "cluster") {
        if (!string_array(value, field, prefix, d.cluster)) return false;
        for (const auto& c : d.cluster)
          if (auto e = detail::check_cluster_privilege(c)) validation_.push_back(*e);
      } else if (field == "indices" || field == "index") {
        if (value.is_null()) continue;
        const std::string ip = "failed to parse indices privileges for role [" + d.name + "]. ";
        if (!value.is_array())
          return fail(ip + "expected field [" + field + "] value to be an array, but found [" +
                      json_token_name(value) + "] instead");
        for (const auto& entry : value.as_array())
          if (!parse_index_entry(d, entry, field, ip)) return false;
      } else if (field == "applications" || field == "application" || field == "run_as" ||
                 field == "global" || field == "remote_indices" || field == "remote_cluster" ||
                 field == "restriction") {
        if (!is_empty(value)) unsupported(detail::not_supported_message(field, d.name));
      } else if (field == "metadata") {
        if (value.is_null()) continue;
        if (!value.is_object())
          return fail(prefix + "expected field [metadata] value to be an object, but found [" +
                      json_token_name(value) + "] instead");
        for (const auto& [mk, mv] : value.as_object()) {
          (void)mv;
          if (!mk.empty() && mk.front() == '_')
            validation_.emplace_back(detail::reserved_metadata_message);
        }
        d.metadata = value.as_object();
      } else if (field == "transient_metadata") {
        if (!value.is_null() && !value.is_object())
          return fail(prefix + "expected field [transient_metadata] to be an object, but found [" +
                      json_token_name(value) + "] instead");
      } else {
        // Includes `description`: ES does not allow it in API key role descriptors.
        return fail(prefix + "unexpected field [" + field + "]");
      }
    }
    return true;
  }

  bool parse_index_entry(role_descriptor& d, const json::value& v, const std::string& field,
                         const std::string& prefix) {
    if (!v.is_object())
      return fail(prefix + "expected field [" + field +
                  "] value to be an array of objects, but found an array element of type [" +
                  json_token_name(v) + "]");
    index_privileges_entry e;
    bool have_names = false, have_privileges = false;
    for (const auto& [key, value] : v.as_object()) {
      const std::string f(key);
      if (f == "names") {
        have_names = true;
        if (value.is_string()) {
          e.names.emplace_back(value.as_string());
        } else if (value.is_array()) {
          for (const auto& n : value.as_array()) {
            if (!n.is_string())
              return fail(prefix +
                          "expected field [names] value to be a string or an array of "
                          "strings, but found [" +
                          json_token_name(n) + "] in the array instead");
            e.names.emplace_back(n.as_string());
          }
        } else {
          return fail(prefix +
                      "expected field [names] value to be a string or an array of "
                      "strings, but found [" +
                      json_token_name(value) + "] instead");
        }
      } else if (f == "privileges") {
        have_privileges = true;
        if (!string_array(value, f, prefix, e.privileges)) return false;
      } else if (f == "allow_restricted_indices") {
        if (value.is_bool())
          e.allow_restricted_indices = value.as_bool();
        else if (!value.is_null())
          return fail(
              prefix +
              "expected field [allow_restricted_indices] value to be a boolean, but found [" +
              json_token_name(value) + "] instead");
      } else if (f == "field_security" || f == "query") {
        if (!is_empty(value))
          unsupported(std::string(f == "query" ? "document level security ([query])"
                                               : "field level security ([field_security])") +
                      " in role [" + d.name + "] is not supported yet");
      } else {
        return fail(prefix + "unexpected field [" + f + "]");
      }
    }
    if (!have_names) return fail(prefix + "missing required [names] field");
    if (!have_privileges) return fail(prefix + "missing required [privileges] field");
    if (e.names.empty()) validation_.emplace_back(detail::empty_names_message);
    if (e.privileges.empty()) validation_.emplace_back(detail::empty_privileges_message);
    for (const auto& p : e.privileges)
      if (auto err = detail::check_index_privilege(p)) validation_.push_back(*err);
    for (const auto& n : e.names)
      if (auto err = detail::check_index_name(n)) validation_.push_back(*err);
    d.indices.push_back(std::move(e));
    return true;
  }

  std::string parse_error_;
  std::string unsupported_;
  std::vector<std::string> validation_;
};

}  // namespace

role_descriptors_result parse_role_descriptors_json(const boost::json::value& v) {
  return json_roles_parser().run(v);
}

}  // namespace esgate::policy
