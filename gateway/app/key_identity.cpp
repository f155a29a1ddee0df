// See key_identity.hpp.
#include "key_identity.hpp"

namespace esgate::app {

// Builds the identity of a verified key from the current policy snapshot: the key's descriptors
// limited by its owner's CURRENT roles (interface.md §5, stricter than ES's creation snapshot)
// and by the creating key's descriptors. nullptr when the owner no longer exists.
std::shared_ptr<const policy::identity> build_identity(const keystore::key_record& rec,
                                                       const security_state& sec) {
  const config::user* owner = sec.find_user(rec.username);
  if (!owner) return nullptr;
  auto id = std::make_shared<policy::identity>();
  id->type = policy::identity::kind::api_key;
  id->username = rec.username;
  id->roles = owner->roles;
  id->api_key_id = rec.id;
  id->api_key_name = rec.name;
  id->api_key_metadata = rec.metadata;
  id->api_key_limited_by_key = rec.limited_by_key;
  id->owner_roles = sec.roles_of(rec.username);
  auto own = policy::parse_role_descriptors_json(rec.role_descriptors);
  if (!own.ok()) return nullptr;  // stored descriptors no longer valid: fail closed
  id->api_key_descriptors = own.roles;
  std::vector<std::shared_ptr<const policy::role_permission>> limits{id->owner_roles};
  if (rec.limited_by_key) {
    auto creator = policy::parse_role_descriptors_json(*rec.limited_by_key);
    if (!creator.ok()) return nullptr;
    // An empty descriptor set of the creating key means "no restriction beyond its owner".
    if (!creator.roles.empty()) limits.push_back(policy::compile(creator.roles));
  }
  id->effective = policy::api_key_permission(id->api_key_descriptors, std::move(limits));
  return id;
}

}  // namespace esgate::app
