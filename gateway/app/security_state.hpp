#pragma once
// The security policy in force: users.yml and roles.yml, loaded and validated together into one
// immutable snapshot with every user's roles compiled. Reload (SIGHUP) builds a new snapshot and
// swaps it in; a snapshot that fails validation is never installed.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "esgate/config/settings.hpp"
#include "esgate/config/users.hpp"
#include "esgate/policy/identity.hpp"
#include "esgate/policy/permission.hpp"
#include "esgate/policy/role_descriptor.hpp"

namespace esgate::app {

struct security_state {
  config::users_file users;
  std::map<std::string, policy::role_descriptor, std::less<>> roles;  // roles.yml
  // Each user's current roles compiled into one layer (built once per snapshot).
  std::map<std::string, std::shared_ptr<const policy::role_permission>, std::less<>> user_roles;
  // Each user's identity for HTTP Basic, built once per snapshot (not per request).
  std::map<std::string, std::shared_ptr<const policy::identity>, std::less<>> user_identities;
  std::uint64_t generation = 0;

  // The shadow policy (security.shadow_roles_file): a second roles file evaluated beside the live
  // one on live traffic, counted and audited but never enforced (README "Shadow policy").
  bool has_shadow = false;
  std::map<std::string, policy::role_descriptor, std::less<>> shadow_roles;
  // Each user's roles compiled from the shadow roles file, and the identity carrying them.
  std::map<std::string, std::shared_ptr<const policy::role_permission>, std::less<>>
      shadow_user_roles;
  std::map<std::string, std::shared_ptr<const policy::identity>, std::less<>> shadow_identities;

  const config::user* find_user(std::string_view name) const {
    auto it = users.users.find(name);
    return it == users.users.end() ? nullptr : &it->second;
  }
  std::shared_ptr<const policy::identity> identity_of(std::string_view name) const {
    auto it = user_identities.find(name);
    return it == user_identities.end() ? nullptr : it->second;
  }
  std::shared_ptr<const policy::role_permission> roles_of(std::string_view name) const {
    auto it = user_roles.find(name);
    return it == user_roles.end() ? nullptr : it->second;
  }
  std::shared_ptr<const policy::identity> shadow_identity_of(std::string_view name) const {
    auto it = shadow_identities.find(name);
    return it == shadow_identities.end() ? nullptr : it->second;
  }
  std::shared_ptr<const policy::role_permission> shadow_roles_of(std::string_view name) const {
    auto it = shadow_user_roles.find(name);
    return it == shadow_user_roles.end() ? nullptr : it->second;
  }
};

struct security_load_result {
  std::shared_ptr<const security_state> state;
  std::vector<config::diagnostic> errors;
  std::vector<std::string> warnings;  // e.g. a user names a role that roles.yml does not define
};

security_load_result load_security_state(const config::settings& s, std::uint64_t generation);

// Every problem of the users and roles files named by `s` (an empty path is skipped: esgate.yaml
// could not say which file it is). For check-config when esgate.yaml itself has problems.
std::vector<config::diagnostic> policy_file_errors(const config::settings& s);

}  // namespace esgate::app
