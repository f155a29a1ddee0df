#pragma once
// Who is making a request, as established by authentication, with its effective permission.
// A plain value handed down the request chain (never a global).
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "esgate/policy/permission.hpp"
#include "esgate/policy/role_descriptor.hpp"

namespace esgate::policy {

// Realm names used by the key APIs' realm_name/username filters (interface.md §3).
inline constexpr std::string_view file_realm_name = "default_file";
inline constexpr std::string_view file_realm_type = "file";
inline constexpr std::string_view api_key_realm_name = "_es_api_key";
inline constexpr std::string_view api_key_realm_type = "_es_api_key";

struct identity {
  enum class kind { user, api_key };
  kind type = kind::user;

  // The principal: the user, or the owner of the API key.
  std::string username;
  std::vector<std::string> roles;  // the user's role names from users.yml (owner's, for a key)
  std::string full_name;
  std::string email;

  // Set when type == api_key.
  std::string api_key_id;
  std::string api_key_name;
  std::vector<role_descriptor>
      api_key_descriptors;  // the key's own role_descriptors (may be empty)
  std::optional<boost::json::object> api_key_limited_by_key;  // creating key's descriptors, if any
  boost::json::object api_key_metadata;

  // Effective permission: roles for a user; for a key, its descriptors ∩ owner's current roles ∩
  // creating key's descriptors.
  permission effective;
  // The owner's current roles as one layer (what a key created by this identity is limited by).
  std::shared_ptr<const role_permission> owner_roles;

  bool is_api_key() const { return type == kind::api_key; }
  std::string_view realm() const { return is_api_key() ? api_key_realm_name : file_realm_name; }
  std::string_view realm_type() const {
    return is_api_key() ? api_key_realm_type : file_realm_type;
  }

  // Denial-message subject in Elasticsearch's words (es-security-reference §8.2):
  //   API key id [ID] of user [USER]   |   user [alice] with effective roles [r1,r2]
  std::string subject() const {
    if (is_api_key()) return "API key id [" + api_key_id + "] of user [" + username + "]";
    std::string s = "user [" + username + "] with effective roles [";
    for (std::size_t i = 0; i < roles.size(); ++i) s += (i ? "," : "") + roles[i];
    return s + "]";
  }
};

}  // namespace esgate::policy
