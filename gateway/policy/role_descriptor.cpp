#include "esgate/policy/role_descriptor.hpp"

#include "esgate/policy/index_pattern.hpp"
#include "esgate/policy/privileges.hpp"
#include "role_checks.hpp"

namespace esgate::policy {

namespace detail {

std::optional<std::string> check_cluster_privilege(std::string_view name) {
  if (is_valid_cluster_privilege(name)) return std::nullopt;
  return unknown_cluster_privilege_message(name);
}

std::optional<std::string> check_index_privilege(std::string_view name) {
  if (is_valid_index_privilege(name)) return std::nullopt;
  return unknown_index_privilege_message(name);
}

std::optional<std::string> check_index_name(std::string_view pattern) {
  auto p = index_pattern::compile(pattern);
  if (auto* e = std::get_if<pattern_error>(&p)) return e->message;
  return std::nullopt;
}

// ES Validation.Roles.validateRoleName: 1..507 printable Basic Latin characters, no leading or
// trailing whitespace.
std::optional<std::string> check_role_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 507 && name.front() != ' ' && name.back() != ' ';
  for (char c : name)
    if (c < 0x20 || c > 0x7E) ok = false;
  if (ok) return std::nullopt;
  return "invalid role name [" + std::string(name) +
         "]: Role names must be at least 1 and no more than 507 characters. They can contain "
         "alphanumeric characters (a-z, A-Z, 0-9), spaces, punctuation, and printable symbols in "
         "the Basic Latin (ASCII) block. Leading or trailing whitespace is not allowed.";
}

std::string not_supported_message(std::string_view field, std::string_view role) {
  return "[" + std::string(field) + "] in role [" + std::string(role) + "] is not supported yet";
}

}  // namespace detail

role_descriptor superuser_descriptor() {
  role_descriptor r;
  r.name = std::string(superuser_role_name);
  r.cluster = {"all"};
  r.indices.push_back({{"*"}, {"all"}, true});
  r.metadata["_reserved"] = true;
  return r;
}

boost::json::object to_json(const role_descriptor& r) {
  boost::json::object o;
  boost::json::array cluster;
  for (const auto& c : r.cluster) cluster.emplace_back(c);
  o["cluster"] = std::move(cluster);
  boost::json::array indices;
  for (const auto& e : r.indices) {
    boost::json::object io;
    boost::json::array names, privs;
    for (const auto& n : e.names) names.emplace_back(n);
    for (const auto& p : e.privileges) privs.emplace_back(p);
    io["names"] = std::move(names);
    io["privileges"] = std::move(privs);
    io["allow_restricted_indices"] = e.allow_restricted_indices;
    indices.emplace_back(std::move(io));
  }
  o["indices"] = std::move(indices);
  o["applications"] = boost::json::array();
  o["run_as"] = boost::json::array();
  o["metadata"] = r.metadata;
  o["transient_metadata"] = boost::json::object{{"enabled", true}};
  if (!r.description.empty()) o["description"] = r.description;
  return o;
}

boost::json::object to_json(const std::vector<role_descriptor>& roles) {
  boost::json::object o;
  for (const auto& r : roles) o[r.name] = to_json(r);
  return o;
}

}  // namespace esgate::policy
