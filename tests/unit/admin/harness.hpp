#pragma once
// Drives handle_security_api against a real redis-server: one server per test binary, a fresh
// key prefix per harness, roles/users from inline YAML through the real roles loader.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "esgate/admin/security_api.hpp"
#include "esgate/keystore/key_store.hpp"
#include "esgate/keystore/redis_client.hpp"
#include "esgate/policy/identity.hpp"
#include "redis_server.hpp"

namespace esgate::admin::test {

using namespace esgate::test_support;  // redis_server, run_async, ... (tests/support)

namespace json = boost::json;

// books-read:   read on books (no key privileges)
// own-keys:     manage_own_api_key, read on books and logs-*
// key-admin:    manage_api_key, all on *
// sec-admin:    manage_security
// Users: admin [superuser], alice/bob [own-keys], carol [key-admin], dave [books-read],
//        erin [sec-admin].
extern const char* const roles_yaml;

redis_server& shared_redis();

struct reply {
  int status = 0;
  json::value body;  // null when the body is empty or not JSON
  http::gateway_response raw;
  const json::object& obj() const { return body.as_object(); }
  std::string error_type() const;
  std::string error_reason() const;
};

class harness {
 public:
  explicit harness(boost::asio::io_context& ioc,
                   config::key_hashing hashing = config::key_hashing::ssha256);
  ~harness();
  harness(const harness&) = delete;
  harness& operator=(const harness&) = delete;

  policy::identity user(const std::string& name) const;
  // The identity the gateway would build for a stored key (as app/api_key_auth.cpp does).
  boost::asio::awaitable<policy::identity> key(const std::string& id);

  // target = path with an optional query string, e.g. "/_security/api_key?owner=true".
  boost::asio::awaitable<reply> call(std::string method, std::string target, std::string body,
                                     const policy::identity& who);
  // POST /_security/api_key, REQUIREs 200; returns the response object.
  boost::asio::awaitable<json::object> create(const policy::identity& who, std::string body);

  keystore::key_store& store() { return *store_; }
  keystore::redis_client& client() { return *client_; }
  const std::string& prefix() const { return prefix_; }
  void close() { client_->close(); }

  std::int64_t now = 1'700'000'000'000;
  std::vector<std::vector<std::string>> changed;  // on_keys_changed calls
  int slow_hashes = 0;                            // hash_secret calls

 private:
  std::map<std::string, policy::role_descriptor, std::less<>> roles_;
  std::map<std::string, std::vector<std::string>> users_;
  std::string prefix_;
  std::unique_ptr<keystore::redis_client> client_;
  std::unique_ptr<keystore::key_store> store_;
  std::unique_ptr<security_api_context> ctx_;
};

// Every string stored under `prefix` in Redis (keys, values, set members, zset members).
std::vector<std::string> dump_redis(const std::string& prefix);

// Runs `f(h)` in a fresh harness on its own io_context (30 s limit).
template <class F>
void with_harness(F f, config::key_hashing hashing = config::key_hashing::ssha256) {
  using namespace std::chrono_literals;
  run_async(
      [&](boost::asio::io_context& ioc) -> boost::asio::awaitable<void> {
        harness h(ioc, hashing);
        co_await f(h);
      },
      30s);
}

// The ids in a get/query reply's "api_keys", in order.
inline std::vector<std::string> ids_of(const reply& r) {
  std::vector<std::string> out;
  for (const auto& k : r.obj().at("api_keys").as_array()) out.emplace_back(k.at("id").as_string());
  return out;
}

inline std::string id_of(const json::object& o) { return std::string(o.at("id").as_string()); }

using list = std::vector<std::string>;

}  // namespace esgate::admin::test
