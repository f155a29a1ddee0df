#pragma once
// The request bodies of the security API, parsed and validated without I/O: the raw body bytes in,
// the fields an endpoint acts on or Elasticsearch's 400 out. Structural problems come first
// (x_content_parse_exception, parse_exception), then every validation message at once
// (action_request_validation_exception), as Elasticsearch's request objects do. The handlers only
// add what needs the caller or the store (privileges, ownership). Fuzzed with arbitrary bytes in
// tests/fuzz/fuzz_security_bodies.cpp.
#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "api_key_query.hpp"
#include "esgate/policy/role_descriptor.hpp"
#include "security_api_support.hpp"

namespace esgate::admin::detail {

// The mutable fields of create, update and bulk update.
struct key_fields {
  std::optional<std::string> name;  // create only
  std::optional<std::vector<policy::role_descriptor>> role_descriptors;
  std::optional<boost::json::object> metadata;
  std::optional<std::int64_t> expiration_ms;    // requested duration
  std::optional<std::vector<std::string>> ids;  // bulk update only
};

// POST|PUT /_security/api_key (body required; a name is).
std::variant<key_fields, api_error> parse_create_body(std::string_view body);
// PUT /_security/api_key/{id} (an empty body changes nothing).
std::variant<key_fields, api_error> parse_update_body(std::string_view body);
// POST /_security/api_key/_bulk_update (body required, non-empty ids).
std::variant<key_fields, api_error> parse_bulk_update_body(std::string_view body);

// DELETE /_security/api_key: `id` is folded into `ids`.
struct invalidate_body {
  std::optional<std::vector<std::string>> ids;
  std::string name, username, realm;
  bool owner = false;
};
std::variant<invalidate_body, api_error> parse_invalidate_body(std::string_view body);

// GET|POST /_security/_query/api_key (no body = match_all).
std::variant<query_request, api_error> parse_query_body(std::string_view body, std::int64_t now_ms);

// GET|POST /_security/user[/{user}]/_has_privileges. `user` appears in the error text as
// Elasticsearch prints it. Unknown cluster and index privileges are refused here too.
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
std::variant<privileges_check, api_error> parse_has_privileges_body(std::string_view body,
                                                                    const std::string& user);

}  // namespace esgate::admin::detail
