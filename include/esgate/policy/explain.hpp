#pragma once
// Which role and which privilege grant a permission check, for `esgate explain` (the operators'
// dry run, issue 11). Management-time only: it compiles one single-privilege role per candidate
// and asks it the same question the request path asked, so the answer comes from the real
// matchers (role_permission) rather than from a second implementation of them. The request path
// never calls this.
#include <functional>
#include <string>
#include <vector>

#include "esgate/policy/permission.hpp"

namespace esgate::policy {

struct grant {
  std::string role;       // the role descriptor's name (roles.yml, or the key's own)
  std::string privilege;  // the cluster or index privilege that grants the check on its own
  std::vector<std::string> names;  // index privileges: the entry's index patterns
  bool cluster = false;            // a cluster privilege (else an index privilege)
};

// Every (role, privilege) of `layer` that alone satisfies `check`. A role that only satisfies
// the check as a whole (superuser-ness needs its cluster and index parts together) is reported
// with privilege "*".
std::vector<grant> granting_privileges(const role_permission& layer,
                                       const std::function<bool(const role_permission&)>& check);

}  // namespace esgate::policy
