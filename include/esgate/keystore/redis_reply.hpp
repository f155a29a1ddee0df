#pragma once
// RESP2 replies as owned values, and the pure decoding of what hiredis hands the client (no I/O:
// the Redis client only moves bytes; tests and tests/fuzz/fuzz_redis_reply.cpp build the same
// redisReply trees with hiredis's own reader and call these directly).
#include "esgate/keystore/error.hpp"

#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>
#include <vector>

struct redisReply;  // hiredis

namespace esgate::keystore {

// An owned copy of a RESP2 reply (hiredis frees its own tree as soon as the callback returns).
struct redis_reply {
  enum class kind { nil, integer, status, error, string, array };
  kind type = kind::nil;
  long long integer = 0;              // kind::integer
  std::string str;                    // kind::status, kind::error, kind::string (binary-safe)
  std::vector<redis_reply> elements;  // kind::array

  bool is_nil() const noexcept { return type == kind::nil; }
  bool is_error() const noexcept { return type == kind::error; }
  bool is_string() const noexcept { return type == kind::string; }
  bool is_array() const noexcept { return type == kind::array; }
  bool is_integer() const noexcept { return type == kind::integer; }
  bool is_status(std::string_view s) const noexcept { return type == kind::status && str == s; }
};

// Outcome of one command. `ec` is empty on success; errc::server_error when Redis answered with a
// top-level error reply, whose text is then in reply.str; timeout / disconnected / closed /
// operation_aborted (per-operation cancellation) otherwise. Errors nested inside an array (EXEC)
// are left in the tree.
struct redis_response {
  boost::system::error_code ec;
  redis_reply reply;
  bool ok() const noexcept { return !ec; }
};

// The copy of a hiredis tree (its depth is bounded by hiredis's reader: 8 nested arrays). Types
// hiredis 0.14 does not produce from RESP2 read as nil.
redis_reply to_reply(const redisReply& r);
// The response to one command from its reply: errc::server_error for a top-level error reply.
redis_response to_response(const redisReply& r);

// One reply on the subscriber's connection (RESP2 pub/sub pushes are arrays
// ["subscribe", channel, count] and ["message", channel, payload]); anything else is ignored.
struct subscriber_event {
  enum class kind { ignored, subscribed, message };
  kind k = kind::ignored;
  std::string payload;  // kind::message: the published bytes
};
subscriber_event decode_subscriber_reply(const redisReply& r);

// What went wrong with the answer to an AUTH or SELECT of the connection handshake, or "" when
// it is the +OK both answer on success (anything else fails the attempt: fail closed).
std::string handshake_error(const redisReply& r);

}  // namespace esgate::keystore
