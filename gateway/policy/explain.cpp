// Attribution of a permission check to a role and a privilege (see policy/explain.hpp).
#include "esgate/policy/explain.hpp"

namespace esgate::policy {

std::vector<grant> granting_privileges(const role_permission& layer,
                                       const std::function<bool(const role_permission&)>& check) {
  std::vector<grant> out;
  for (const role_descriptor& r : layer.descriptors()) {
    const std::size_t before = out.size();
    for (const std::string& c : r.cluster) {
      role_descriptor one;
      one.name = r.name;
      one.cluster = {c};
      if (check(*compile({one}))) out.push_back(grant{r.name, c, {}, true});
    }
    for (const index_privileges_entry& e : r.indices) {
      for (const std::string& p : e.privileges) {
        role_descriptor one;
        one.name = r.name;
        index_privileges_entry entry = e;
        entry.privileges = {p};
        one.indices = {std::move(entry)};
        if (check(*compile({one}))) out.push_back(grant{r.name, p, e.names, false});
      }
    }
    if (out.size() == before && check(*compile({r}))) out.push_back(grant{r.name, "*", {}, false});
  }
  return out;
}

}  // namespace esgate::policy
