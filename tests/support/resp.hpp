#pragma once
// Replies as hiredis builds them, from RESP2 bytes: the same reader the Redis client's context
// uses, so tables of nasty replies test the real trees (wrong types, nil, huge integers, nested
// arrays, error replies, truncated records) without a server.
#include "esgate/keystore/redis_reply.hpp"

#include <hiredis/hiredis.h>

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace esgate::test_support {

struct reply_deleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

// Every complete reply in `bytes`; `error` gets the reader's protocol error, if any.
inline std::vector<reply_ptr> read_replies(std::string_view bytes, std::string* error = nullptr) {
  std::vector<reply_ptr> out;
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, bytes.data(), bytes.size());
  for (;;) {
    void* r = nullptr;
    if (redisReaderGetReply(reader, &r) != REDIS_OK) {
      if (error) *error = reader->errstr;
      break;
    }
    if (r == nullptr) break;  // incomplete
    out.emplace_back(static_cast<redisReply*>(r));
  }
  redisReaderFree(reader);
  return out;
}

// The single complete reply of `bytes` (test failure otherwise).
inline reply_ptr raw_reply(std::string_view bytes) {
  std::string error;
  auto all = read_replies(bytes, &error);
  INFO("RESP: " << bytes << " reader error: " << error);
  REQUIRE(all.size() == 1);
  return std::move(all.front());
}

inline keystore::redis_response response(std::string_view bytes) {
  return keystore::to_response(*raw_reply(bytes));
}

// A bulk string reply carrying `s`.
inline std::string bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}

}  // namespace esgate::test_support
