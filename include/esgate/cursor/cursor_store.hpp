#pragma once
// The Redis side of context binding: `<prefix>ctx:<kind>:<sha256(id) hex>` -> owner tag, with
// a TTL of the context's keep-alive plus a margin (1 minute), extended when a continuation
// extends the keep-alive as Elasticsearch does. Ids are hashed: a scroll id is a bearer secret
// for the upstream identity and never reaches Redis in the clear.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "esgate/cursor/cursor.hpp"
#include "esgate/keystore/redis_reply.hpp"

namespace esgate::keystore {
class redis_client;
}

namespace esgate::cursor {

class cursor_store {
 public:
  cursor_store(keystore::redis_client& redis, std::string prefix);

  // Remembers `owner` for the context. Errors are returned (the session answers 503 and the
  // context stays unusable through the gateway: fail closed).
  boost::asio::awaitable<bool> bind(const context_ref& ref, std::string_view owner,
                                    std::chrono::seconds ttl);
  // The owner, nullopt when unknown/expired; throws nothing: `ok` false on a Redis error.
  struct lookup {
    bool ok = false;
    std::optional<std::string> owner;
  };
  boost::asio::awaitable<lookup> owner_of(const context_ref& ref);
  // EXPIRE to `ttl` + margin: true when the binding existed and was extended; false when it is
  // unknown (never revived) or on a Redis error.
  boost::asio::awaitable<bool> extend(const context_ref& ref, std::chrono::seconds ttl);
  // DEL: true when Redis answered (whether or not the binding was there), false on an error.
  boost::asio::awaitable<bool> forget(const context_ref& ref);

  // `<prefix>ctx:<kind>:<lower-case hex sha256(id)>`.
  std::string redis_key(const context_ref& ref) const;

  // What each command's answer means (pure; fuzzed in tests/fuzz/fuzz_redis_reply.cpp). Any
  // other shape than the expected one is a failure: fail closed.
  static bool bind_outcome(const keystore::redis_response& r);    // SET … EX: +OK
  static lookup lookup_outcome(keystore::redis_response r);       // GET: nil or the owner
  static bool extend_outcome(const keystore::redis_response& r);  // EXPIRE: :1
  static bool forget_outcome(const keystore::redis_response& r);  // DEL: an integer

 private:
  keystore::redis_client& redis_;
  std::string prefix_;
};

}  // namespace esgate::cursor
