#pragma once
// The security policy in force: users.yml and roles.yml, loaded and validated together into one
// immutable snapshot. Reload (SIGHUP) builds a new snapshot and swaps it in; a snapshot that fails
// validation is never installed.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "esgate/config/settings.hpp"
#include "esgate/config/users.hpp"

namespace esgate::app {

struct security_state {
  config::users_file users;
  std::vector<std::string> role_names;  // roles defined in roles.yml (+ built-in superuser)
  std::uint64_t generation = 0;

  const config::user* find_user(std::string_view name) const {
    auto it = users.users.find(name);
    return it == users.users.end() ? nullptr : &it->second;
  }
};

struct security_load_result {
  std::shared_ptr<const security_state> state;
  std::vector<config::diagnostic> errors;
};

security_load_result load_security_state(const config::settings& s, std::uint64_t generation);

}  // namespace esgate::app
