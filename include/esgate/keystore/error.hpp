#pragma once
// Error codes of the keystore module: the Redis client's transport outcomes and the key store's
// record-level outcomes share one category so callers can test either with `ec == errc::x`.
// Expected failures are values, never exceptions.
#include <boost/system/error_code.hpp>

#include <type_traits>

namespace esgate::keystore {

enum class errc {
  // redis_client / redis_subscriber
  timeout = 1,          // no reply within command_timeout (the reply, if any, is discarded)
  disconnected,         // not connected, or the connection dropped with the command in flight
  closed,               // close() was called (or the client was destroyed)
  server_error,         // Redis answered with an error reply; its text is in the reply
  unsupported_command,  // empty command, or one that would change the connection's mode
  // key_store
  key_exists,        // create(): the id is taken
  key_not_found,     // update(): no record with that id
  version_conflict,  // update(): the record changed since it was read
  invalid_record,    // the record cannot be stored (e.g. immutable field changed, bad realm)
  corrupt_record,    // the stored JSON is not a valid key record
  unexpected_reply,  // Redis answered with a reply of the wrong shape
};

const boost::system::error_category& keystore_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), keystore_category()};
}

// True for outcomes that mean "the key store could not be asked" (→ 503 unless cached), as
// opposed to an answer about a key.
bool is_unavailable(const boost::system::error_code& ec) noexcept;

}  // namespace esgate::keystore

template <>
struct boost::system::is_error_code_enum<esgate::keystore::errc> : std::true_type {};
