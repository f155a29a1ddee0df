#pragma once
// Who is making a request, as established by authentication. A plain value handed down the
// request chain (never a global).
#include <string>
#include <vector>

namespace esgate::app {

enum class authentication_type { realm, api_key };

struct identity {
  authentication_type type = authentication_type::realm;
  std::string username;
  std::string realm = "default_file";
  std::string realm_type = "file";
  std::vector<std::string> roles;
  std::string api_key_id;    // when type == api_key
  std::string api_key_name;  // when type == api_key
  bool superuser = false;    // effective permission is superuser-equivalent
};

}  // namespace esgate::app
