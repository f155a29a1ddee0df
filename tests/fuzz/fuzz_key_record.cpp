// esgate-fuzz-deps: Boost::json Boost::system esgate::asio
// esgate-fuzz-sources: keystore/key_record.cpp keystore/error.cpp
// Input: a stored API key record as Redis hands it back (bytes anyone with write access to Redis,
// or a corrupted dump, could have put there). The decoder must never crash or throw; a record it
// accepts must survive to_json -> from_json unchanged (what the gateway writes back on update).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "esgate/keystore/key_record.hpp"

namespace ks = esgate::keystore;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto rec = ks::from_json_text(text);
  if (!rec) return 0;
  auto again = ks::from_json(ks::to_json(*rec));
  if (!again) std::abort();  // what we write we must read back
  const auto& a = *rec;
  const auto& b = *again;
  if (a.id != b.id || a.name != b.name || a.type != b.type || a.creation != b.creation ||
      a.expiration != b.expiration || a.invalidated != b.invalidated ||
      a.invalidation != b.invalidation || a.username != b.username || a.realm != b.realm ||
      a.realm_type != b.realm_type || a.metadata != b.metadata ||
      a.role_descriptors != b.role_descriptors || a.limited_by_key != b.limited_by_key ||
      a.api_key_hash != b.api_key_hash || a.version != b.version)
    std::abort();
  return 0;
}
