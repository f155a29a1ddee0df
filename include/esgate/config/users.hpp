#pragma once
// users.yml (interface.md §3): the file realm "default_file" for HTTP Basic logins.
//
//   users:
//     admin:
//       password_hash: "$2b$12$..."   # bcrypt, from `esgate hash-password`
//       roles: ["superuser"]
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "esgate/config/settings.hpp"

namespace esgate::config {

struct user {
  std::string username;
  std::string password_hash;  // bcrypt $2a$/$2b$/$2y$
  std::vector<std::string> roles;
  std::string full_name;  // optional, as in Elasticsearch's user documents
  std::string email;      // optional
};

struct users_file {
  std::map<std::string, user, std::less<>> users;
};

struct users_load_result {
  users_file value;
  std::vector<diagnostic> errors;
  bool ok() const { return errors.empty(); }
};

// Missing file => ok with no users (the first start creates it). Unknown keys, a user without
// password_hash, a hash that is not bcrypt, a non-list roles value => diagnostics with line:col.
users_load_result load_users(const std::string& path);
users_load_result parse_users(const std::string& yaml_text, const std::string& path_for_messages);

}  // namespace esgate::config
