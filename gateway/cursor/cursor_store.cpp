#include "esgate/cursor/cursor_store.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "esgate/keystore/redis_client.hpp"

namespace esgate::cursor {

namespace asio = boost::asio;
using keystore::redis_client;

namespace {

// Bindings outlive the context by a minute, so a continuation arriving just as ES's keep-alive
// runs out still finds its owner (ES then answers 404 itself).
constexpr std::int64_t ttl_margin_seconds = 60;
constexpr std::int64_t max_ttl_seconds = std::int64_t{1} << 40;

std::string ttl_arg(std::chrono::seconds ttl) {
  const std::int64_t s = std::clamp<std::int64_t>(ttl.count(), 1, max_ttl_seconds);
  return std::to_string(s + ttl_margin_seconds);
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");  // OpenSSL broken: an invariant, not input
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 0xf];
  }
  return out;
}

}  // namespace

cursor_store::cursor_store(keystore::redis_client& redis, std::string prefix)
    : redis_(redis), prefix_(std::move(prefix)) {}

std::string cursor_store::redis_key(const context_ref& ref) const {
  return prefix_ + "ctx:" + std::string(to_string(ref.k)) + ":" + sha256_hex(ref.id);
}

asio::awaitable<bool> cursor_store::bind(const context_ref& ref, std::string_view owner,
                                         std::chrono::seconds ttl) {
  // (Arguments are built before co_await: g++ 12 miscompiles initializer lists inside it.)
  redis_client::command_args cmd{"SET", redis_key(ref), std::string(owner), "EX", ttl_arg(ttl)};
  auto r = co_await redis_.command(std::move(cmd));
  co_return bind_outcome(r);
}

asio::awaitable<cursor_store::lookup> cursor_store::owner_of(const context_ref& ref) {
  redis_client::command_args cmd{"GET", redis_key(ref)};
  auto r = co_await redis_.command(std::move(cmd));
  co_return lookup_outcome(std::move(r));
}

asio::awaitable<bool> cursor_store::extend(const context_ref& ref, std::chrono::seconds ttl) {
  // EXPIRE touches only an existing key: an expired binding is not revived.
  redis_client::command_args cmd{"EXPIRE", redis_key(ref), ttl_arg(ttl)};
  auto r = co_await redis_.command(std::move(cmd));
  co_return extend_outcome(r);
}

asio::awaitable<bool> cursor_store::forget(const context_ref& ref) {
  redis_client::command_args cmd{"DEL", redis_key(ref)};
  auto r = co_await redis_.command(std::move(cmd));
  co_return forget_outcome(r);
}

bool cursor_store::bind_outcome(const keystore::redis_response& r) {
  return r.ok() && r.reply.is_status("OK");
}

cursor_store::lookup cursor_store::lookup_outcome(keystore::redis_response r) {
  lookup out;
  if (!r.ok()) return out;
  if (r.reply.is_nil()) {
    out.ok = true;
  } else if (r.reply.is_string()) {
    out.ok = true;
    out.owner = std::move(r.reply.str);
  }
  return out;  // any other reply type: ok stays false (fail closed)
}

bool cursor_store::extend_outcome(const keystore::redis_response& r) {
  return r.ok() && r.reply.is_integer() && r.reply.integer == 1;
}

bool cursor_store::forget_outcome(const keystore::redis_response& r) {
  return r.ok() && r.reply.is_integer();
}

}  // namespace esgate::cursor
