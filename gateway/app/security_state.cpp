#include "security_state.hpp"

#include <filesystem>

namespace esgate::app {

namespace {

// A missing roles file means "no roles beyond superuser", like a missing users file.
policy::roles_load_result load_roles(const std::string& path) {
  if (!std::filesystem::exists(path)) return {};
  return policy::load_roles_file(path);
}

}  // namespace

std::vector<config::diagnostic> policy_file_errors(const config::settings& s) {
  std::vector<config::diagnostic> out;
  if (!s.security.users_file.empty()) {
    auto users = config::load_users(s.security.users_file);
    out.insert(out.end(), users.errors.begin(), users.errors.end());
  }
  if (!s.security.roles_file.empty()) {
    auto roles = load_roles(s.security.roles_file);
    out.insert(out.end(), roles.errors.begin(), roles.errors.end());
  }
  if (!s.security.shadow_roles_file.empty()) {
    auto shadow = policy::load_roles_file(s.security.shadow_roles_file);
    out.insert(out.end(), shadow.errors.begin(), shadow.errors.end());
  }
  return out;
}

security_load_result load_security_state(const config::settings& s, std::uint64_t generation) {
  security_load_result out;
  auto users = config::load_users(s.security.users_file);
  auto roles = load_roles(s.security.roles_file);
  out.errors.insert(out.errors.end(), users.errors.begin(), users.errors.end());
  out.errors.insert(out.errors.end(), roles.errors.begin(), roles.errors.end());
  // The shadow file must exist when configured (a typo would silently trial nothing); a broken
  // one fails the load like roles.yml, so a reload keeps the previous snapshot.
  policy::roles_load_result shadow;
  if (!s.security.shadow_roles_file.empty()) {
    shadow = policy::load_roles_file(s.security.shadow_roles_file);
    out.errors.insert(out.errors.end(), shadow.errors.begin(), shadow.errors.end());
  }
  if (!out.errors.empty()) return out;
  auto st = std::make_shared<security_state>();
  st->users = std::move(users.value);
  st->roles = std::move(roles.roles);
  st->generation = generation;
  st->has_shadow = !s.security.shadow_roles_file.empty();
  st->shadow_roles = std::move(shadow.roles);
  for (auto& [name, u] : st->users.users) {
    std::vector<std::string> missing;
    auto layer = policy::compile_roles(u.roles, st->roles, &missing);
    st->user_roles[name] = layer;
    auto id = std::make_shared<policy::identity>();
    id->username = u.username;
    id->roles = u.roles;
    id->full_name = u.full_name;
    id->email = u.email;
    id->owner_roles = layer;
    id->effective = layer ? policy::permission(layer) : policy::permission();
    if (st->has_shadow) {
      std::vector<std::string> shadow_missing;
      auto shadow_layer = policy::compile_roles(u.roles, st->shadow_roles, &shadow_missing);
      st->shadow_user_roles[name] = shadow_layer;
      auto sid = std::make_shared<policy::identity>(*id);
      sid->owner_roles = shadow_layer;
      sid->effective = shadow_layer ? policy::permission(shadow_layer) : policy::permission();
      st->shadow_identities[name] = std::move(sid);
      for (auto& m : shadow_missing)
        out.warnings.push_back("user [" + name + "] has role [" + m +
                               "] which the shadow roles file does not define");
    }
    st->user_identities[name] = std::move(id);
    // As Elasticsearch: a missing role grants nothing and is reported, not fatal.
    for (auto& m : missing)
      out.warnings.push_back("user [" + name + "] has role [" + m +
                             "] which roles.yml does not define");
  }
  out.state = std::move(st);
  return out;
}

}  // namespace esgate::app
