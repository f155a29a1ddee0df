#pragma once
// Role descriptors: the roles of roles.yml (interface.md §3) and the `role_descriptors` of API keys
// (es-security-reference.md §4.1).
//
// roles.yml keys per role (ES format):
//   cluster: [privilege, ...]                         default []
//   indices: (alias `index`)                          default []
//     - names: "pattern" | ["pattern", ...]           required, non-empty
//       privileges: [privilege, ...]                  required, non-empty
//       allow_restricted_indices: false               default false
//       field_security / query                        rejected: "not supported yet"
//   applications: [], run_as: []                      accepted only when empty
//   global, remote_indices, remote_cluster, restriction   accepted only when empty
//   metadata: {...}  (keys may not start with `_`),  description: "...",  transient_metadata: {...}
// A role named `superuser` is built in and may not be defined.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "esgate/config/settings.hpp"

namespace esgate::policy {

struct index_privileges_entry {
  std::vector<std::string> names;
  std::vector<std::string> privileges;
  bool allow_restricted_indices = false;
};

struct role_descriptor {
  std::string name;
  std::vector<std::string> cluster;
  std::vector<index_privileges_entry> indices;
  boost::json::object metadata;
  std::string description;  // roles.yml only; API key descriptors may not carry one
};

inline constexpr std::string_view superuser_role_name = "superuser";

// ES's built-in superuser: cluster `all`, `all` on every index including restricted ones.
role_descriptor superuser_descriptor();

struct roles_load_result {
  std::map<std::string, role_descriptor, std::less<>> roles;
  std::vector<config::diagnostic> errors;  // every problem found, in file order; empty = valid
  bool ok() const { return errors.empty(); }
};

// Parses roles.yml text. Diagnostics carry `path` and the 1-based line:column of the offending key
// or value. Roles with errors are left out of `roles`.
roles_load_result parse_roles_yaml(std::string_view text, const std::string& path);
// Reads and parses a roles file; a missing or unreadable file is a file-level diagnostic (line 0).
roles_load_result load_roles_file(const std::string& path);

// An Elasticsearch-style error: the `type` and `reason` of an error body.
struct es_error {
  std::string type;  // x_content_parse_exception | illegal_argument_exception |
                     // action_request_validation_exception
  std::string reason;
};

struct role_descriptors_result {
  std::vector<role_descriptor> roles;  // in request order
  std::optional<es_error> error;
  bool ok() const { return !error.has_value(); }
};

// Parses an API key's `role_descriptors` object (role name → descriptor), as in
// POST /_security/api_key. `index` is accepted as an alias of `indices`, null means none.
// Structural problems → x_content_parse_exception, unsupported features (DLS/FLS, applications,
// run_as, remote privileges, restriction) → illegal_argument_exception, unknown privileges, bad
// index name patterns, reserved metadata keys → action_request_validation_exception
// ("Validation Failed: 1: ...;2: ...;").
role_descriptors_result parse_role_descriptors_json(const boost::json::value& v);

// The name Elasticsearch's JSON parser gives a value's first token (START_OBJECT, VALUE_STRING,
// ...), as its x_content_parse_exception messages print it.
std::string json_token_name(const boost::json::value& v);

// ES's full form, as GET /_security/api_key and GET /_security/role print it:
// {"cluster":[…],"indices":[{"names":[…],"privileges":[…],"allow_restricted_indices":false}],
//  "applications":[],"run_as":[],"metadata":{},"transient_metadata":{"enabled":true}}
boost::json::object to_json(const role_descriptor& r);
// {"<name>": to_json(r), ...} in the given order.
boost::json::object to_json(const std::vector<role_descriptor>& roles);

}  // namespace esgate::policy
