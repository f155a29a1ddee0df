#pragma once
// An API key as stored in Redis (see key_store.hpp for the schema). Pure: no I/O.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace esgate::keystore {

struct key_record {
  std::string id;  // 20 chars, URL-safe base64 alphabet
  std::string name;
  std::string type = "rest";
  std::int64_t creation = 0;               // epoch ms
  std::optional<std::int64_t> expiration;  // epoch ms; absent = never expires
  bool invalidated = false;
  std::optional<std::int64_t> invalidation;  // epoch ms, set when invalidated
  std::string username;                      // owner
  std::string realm = "default_file";        // owner's realm: "default_file" | "_es_api_key"
  std::string realm_type = "file";           // "file" | "_es_api_key"
  boost::json::object metadata;
  boost::json::object role_descriptors;  // empty = no restriction beyond the owner's roles
  // The creating key's role_descriptors when a key created this one (it can never exceed its
  // creator, interface.md §5); absent when a user created it.
  std::optional<boost::json::object> limited_by_key;
  std::string api_key_hash;               // "{SSHA256}…" / "{PBKDF2}…"; never the secret
  std::optional<std::int64_t> last_used;  // epoch ms; kept outside the JSON (see key_store)
  std::uint64_t version = 0;              // bumped by every update (optimistic concurrency)
};

// The storage form: every field above, api_key_hash included — never send it to a client as is.
// Absent optionals are omitted.
boost::json::object to_json(const key_record& r);

// Tolerant to missing optional fields (and to `null` for them) and to unknown fields (written by a
// newer gateway); strict on types: a present field of the wrong type, a non-integral or
// out-of-range number, or a missing id / username / realm / api_key_hash / creation is an error
// (errc::corrupt_record). Never throws.
boost::system::result<key_record> from_json(const boost::json::value& v);
// Parses with a nesting limit of max_stored_depth (Boost.JSON's default is 32); whoever accepts
// metadata/role_descriptors from clients should refuse deeper documents so they stay readable.
inline constexpr std::size_t max_stored_depth = 64;
boost::system::result<key_record> from_json_text(std::string_view text);

}  // namespace esgate::keystore
