#pragma once
// The identity of a verified API key (shared by the request path and `esgate explain`).
#include <memory>

#include "esgate/keystore/key_record.hpp"
#include "esgate/policy/identity.hpp"
#include "security_state.hpp"

namespace esgate::app {

// Builds the identity of a verified key from the current policy snapshot: the key's descriptors
// limited by its owner's CURRENT roles (interface.md §5, stricter than ES's creation snapshot)
// and by the creating key's descriptors. nullptr when the owner no longer exists.
std::shared_ptr<const policy::identity> build_identity(const keystore::key_record& rec,
                                                       const security_state& sec);

}  // namespace esgate::app
