#include "harness.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>

#include "esgate/auth/secret_hash.hpp"
#include "esgate/policy/permission.hpp"

namespace esgate::admin::test {

namespace asio = boost::asio;

const char* const roles_yaml = R"(
books-read:
  indices:
    - names: ["books"]
      privileges: ["read"]
own-keys:
  cluster: ["manage_own_api_key"]
  indices:
    - names: ["books", "logs-*"]
      privileges: ["read"]
key-admin:
  cluster: ["manage_api_key"]
  indices:
    - names: ["*"]
      privileges: ["all"]
sec-admin:
  cluster: ["manage_security"]
)";

redis_server& shared_redis() {
  static redis_server server;
  return server;
}

std::string reply::error_type() const {
  if (!body.is_object() || !body.as_object().contains("error")) return {};
  const auto& e = body.at("error");
  return e.is_object() ? std::string(e.at("type").as_string()) : std::string();
}

std::string reply::error_reason() const {
  if (!body.is_object() || !body.as_object().contains("error")) return {};
  const auto& e = body.at("error");
  return e.is_object() ? std::string(e.at("reason").as_string()) : std::string(e.as_string());
}

namespace {
std::atomic<int> harness_counter{0};
}

harness::harness(asio::io_context& ioc, config::key_hashing hashing) {
  auto loaded = policy::parse_roles_yaml(roles_yaml, "roles.yml");
  REQUIRE(loaded.ok());
  roles_ = std::move(loaded.roles);
  users_ = {{"admin", {"superuser"}}, {"alice", {"own-keys"}},  {"bob", {"own-keys"}},
            {"carol", {"key-admin"}}, {"dave", {"books-read"}}, {"erin", {"sec-admin"}}};
  prefix_ = "t" + std::to_string(++harness_counter) + "-" + std::to_string(::getpid()) + ":";
  keystore::redis_config cfg;
  cfg.port = shared_redis().port();
  cfg.command_timeout = std::chrono::seconds(3);
  client_ = std::make_unique<keystore::redis_client>(ioc.get_executor(), cfg);
  store_ = std::make_unique<keystore::key_store>(*client_, prefix_);
  ctx_ = std::make_unique<security_api_context>(security_api_context{
      *store_, hashing,
      [this](std::string secret) -> asio::awaitable<std::string> {
        ++slow_hashes;
        co_return auth::hash_pbkdf2(secret, auth::pbkdf2_min_iterations);
      },
      roles_, [this](std::string_view u) { return users_.count(std::string(u)) > 0; },
      [this](std::string_view u) -> std::shared_ptr<const policy::role_permission> {
        auto it = users_.find(std::string(u));
        if (it == users_.end()) return nullptr;
        return policy::compile_roles(it->second, roles_);
      },
      [this](const std::vector<std::string>& ids) { changed.push_back(ids); }});
}

harness::~harness() { client_->close(); }

policy::identity harness::user(const std::string& name) const {
  policy::identity id;
  id.type = policy::identity::kind::user;
  id.username = name;
  auto it = users_.find(name);
  if (it != users_.end()) id.roles = it->second;
  id.owner_roles = policy::compile_roles(id.roles, roles_);
  id.effective = policy::permission(id.owner_roles);
  return id;
}

asio::awaitable<policy::identity> harness::key(const std::string& key_id) {
  auto got = co_await store_->get(key_id);
  REQUIRE(got.has_value());
  REQUIRE(got->has_value());
  const keystore::key_record& rec = **got;
  policy::identity id;
  id.type = policy::identity::kind::api_key;
  id.username = rec.username;
  id.roles = users_.at(rec.username);
  id.api_key_id = rec.id;
  id.api_key_name = rec.name;
  id.api_key_metadata = rec.metadata;
  id.api_key_limited_by_key = rec.limited_by_key;
  id.owner_roles = policy::compile_roles(id.roles, roles_);
  auto own = policy::parse_role_descriptors_json(rec.role_descriptors);
  REQUIRE(own.ok());
  id.api_key_descriptors = own.roles;
  std::vector<std::shared_ptr<const policy::role_permission>> limits{id.owner_roles};
  if (rec.limited_by_key) {
    auto creator = policy::parse_role_descriptors_json(*rec.limited_by_key);
    REQUIRE(creator.ok());
    if (!creator.roles.empty()) limits.push_back(policy::compile(creator.roles));
  }
  id.effective = policy::api_key_permission(id.api_key_descriptors, std::move(limits));
  co_return id;
}

asio::awaitable<reply> harness::call(std::string method, std::string target, std::string body,
                                     const policy::identity& who) {
  std::string path = target, qs;
  if (auto q = target.find('?'); q != std::string::npos) {
    path = target.substr(0, q);
    qs = target.substr(q + 1);
  }
  std::vector<std::string> segments;
  for (std::size_t start = 1; start <= path.size();) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) segments.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  std::vector<std::pair<std::string, std::string>> query;
  for (std::size_t start = 0; start < qs.size();) {
    std::size_t amp = qs.find('&', start);
    if (amp == std::string::npos) amp = qs.size();
    std::string kv = qs.substr(start, amp - start);
    if (!kv.empty()) {
      auto eq = kv.find('=');
      if (eq == std::string::npos)
        query.emplace_back(kv, "");
      else
        query.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    start = amp + 1;
  }
  security_api_request req{method, segments, query, body, who, now};
  reply r;
  r.raw = co_await handle_security_api(*ctx_, req);
  r.status = r.raw.status;
  boost::system::error_code ec;
  if (!r.raw.body.empty()) r.body = json::parse(r.raw.body, ec);
  if (ec) r.body = nullptr;
  co_return r;
}

asio::awaitable<json::object> harness::create(const policy::identity& who, std::string body) {
  auto r = co_await call("POST", "/_security/api_key", std::move(body), who);
  INFO(r.raw.body);
  REQUIRE(r.status == 200);
  co_return r.obj();
}

std::vector<std::string> dump_redis(const std::string& prefix) {
  auto& s = shared_redis();
  std::vector<std::string> out;
  std::string keys = s.cli({"KEYS", prefix + "*"});
  REQUIRE(keys.size() >= 2);
  keys = keys.substr(1, keys.size() - 2);  // "[a,b,c]"
  std::size_t start = 0;
  while (start < keys.size()) {
    std::size_t comma = keys.find(',', start);
    if (comma == std::string::npos) comma = keys.size();
    const std::string k = keys.substr(start, comma - start);
    start = comma + 1;
    if (k.empty()) continue;
    out.push_back(k);
    const std::string type = s.cli({"TYPE", k});
    if (type == "string")
      out.push_back(s.cli({"GET", k}));
    else if (type == "set")
      out.push_back(s.cli({"SMEMBERS", k}));
    else if (type == "zset")
      out.push_back(s.cli({"ZRANGE", k, "0", "-1", "WITHSCORES"}));
    else
      out.push_back("unexpected type " + type);
  }
  return out;
}

}  // namespace esgate::admin::test
