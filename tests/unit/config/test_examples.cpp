// The committed configuration files must load cleanly: they are what `scripts/run` starts with
// and what operators copy.
#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "esgate/config/settings.hpp"
#include "esgate/config/users.hpp"
#include "fixtures.hpp"

using namespace esgate::config;

namespace {

const std::filesystem::path config_dir = esgate::config::test::source_dir() / "config";

std::string dump(const std::vector<diagnostic>& errors) {
  std::string out;
  for (const auto& e : errors) out += e.to_string() + "\n";
  return out;
}

}  // namespace

TEST_CASE("config/esgate.yaml loads with the documented values", "[config][examples]") {
  auto r = load_settings((config_dir / "esgate.yaml").string());
  INFO(dump(r.errors));
  REQUIRE(r.ok());
  const settings& s = r.value;
  CHECK(s.listen.address == "127.0.0.1");
  CHECK(s.listen.port == 9243);
  CHECK_FALSE(s.listen.tls.has_value());
  REQUIRE(s.upstream.nodes.size() == 1);
  CHECK(s.upstream.nodes[0].url == "http://127.0.0.1:9200");
  CHECK(s.redis.host == "127.0.0.1");
  CHECK(s.redis.port == 6379);
  CHECK(s.redis.db == 0);
  CHECK(s.security.roles_file == (config_dir / "roles.yml").string());
  CHECK(s.security.users_file == (config_dir / "users.yml").string());
  CHECK(s.config_dir == config_dir.string());
}

TEST_CASE("config/esgate.example-full.yaml loads and states the defaults", "[config][examples]") {
  auto full = load_settings((config_dir / "esgate.example-full.yaml").string());
  INFO(dump(full.errors));
  REQUIRE(full.ok());
  auto defaults = parse_settings("", "empty.yaml", config_dir.string());
  REQUIRE(defaults.ok());
  const settings& a = full.value;
  const settings& b = defaults.value;
  CHECK(a.threads == b.threads);
  CHECK(a.listen.address == b.listen.address);
  CHECK(a.listen.port == b.listen.port);
  CHECK(a.listen.tls.has_value() == b.listen.tls.has_value());
  REQUIRE(a.upstream.nodes.size() == b.upstream.nodes.size());
  CHECK(a.upstream.nodes[0].url == b.upstream.nodes[0].url);
  CHECK(a.upstream.tls_verify == b.upstream.tls_verify);
  CHECK(a.upstream.connect_timeout == b.upstream.connect_timeout);
  CHECK(a.upstream.request_timeout == b.upstream.request_timeout);
  CHECK(a.upstream.max_connections_per_node == b.upstream.max_connections_per_node);
  CHECK(a.upstream.max_pending_per_node == b.upstream.max_pending_per_node);
  CHECK(a.upstream.probe_interval == b.upstream.probe_interval);
  CHECK(a.upstream.outlier.consecutive_failures == b.upstream.outlier.consecutive_failures);
  CHECK(a.upstream.outlier.base_ejection_time == b.upstream.outlier.base_ejection_time);
  CHECK(a.upstream.outlier.max_ejection_time == b.upstream.outlier.max_ejection_time);
  CHECK(a.redis.url == b.redis.url);
  CHECK(a.redis.prefix == b.redis.prefix);
  CHECK(a.security.roles_file == b.security.roles_file);
  CHECK(a.security.users_file == b.security.users_file);
  CHECK(a.security.api_key.hashing == b.security.api_key.hashing);
  CHECK(a.security.api_key.cache_ttl == b.security.api_key.cache_ttl);
  CHECK(a.security.api_key.cache_max_keys == b.security.api_key.cache_max_keys);
  CHECK(a.security.api_key.stale_if_error == b.security.api_key.stale_if_error);
  CHECK(a.limits.max_header_bytes == b.limits.max_header_bytes);
  CHECK(a.limits.max_body_bytes == b.limits.max_body_bytes);
  CHECK(a.limits.body_lookahead == b.limits.body_lookahead);
  CHECK(a.limits.body_buffer_budget == b.limits.body_buffer_budget);
  CHECK(a.limits.header_timeout == b.limits.header_timeout);
  CHECK(a.limits.idle_timeout == b.limits.idle_timeout);
  CHECK(a.limits.max_connections == b.limits.max_connections);
  CHECK(a.limits.shutdown_grace == b.limits.shutdown_grace);
  CHECK(a.security.shadow_roles_file == b.security.shadow_roles_file);
  CHECK(a.logging.level == "info");
  CHECK(b.logging.level.empty());  // ESGATE_LOG_LEVEL or info
  CHECK(a.logging.format == b.logging.format);
  CHECK(a.logging.access_log == b.logging.access_log);
  CHECK(a.audit.enabled == b.audit.enabled);
  CHECK(a.audit.file == b.audit.file);
  CHECK(a.audit.events_set == b.audit.events_set);
  CHECK(a.audit.queue_size == b.audit.queue_size);
}

TEST_CASE("the commented-out parts of the full example are valid too", "[config][examples]") {
  // Uncomment the optional tls/auth/ca lines and resolve them in a folder where the certificate
  // files exist.
  std::ifstream in(config_dir / "esgate.example-full.yaml");
  std::string line;
  std::string out;
  while (std::getline(in, line)) {
    const std::pair<std::string_view, std::string_view> uncomment[] = {{"  # tls:", "  tls:"},
                                                                       {"  #   ", "    "},
                                                                       {"  # auth:", "  auth:"},
                                                                       {"    # ca:", "    ca:"}};
    for (const auto& [commented, plain] : uncomment) {
      if (line.rfind(commented, 0) == 0) {
        line = std::string(plain) + line.substr(commented.size());
        break;
      }
    }
    // Only one auth method may be set: drop the api_key alternative.
    if (line.find("api_key: \"<encoded") != std::string::npos) continue;
    out += line + "\n";
  }
  auto r = parse_settings(out, "full-uncommented.yaml", esgate::config::test::scratch_dir());
  INFO(out);
  INFO(dump(r.errors));
  REQUIRE(r.ok());
  CHECK(r.value.listen.tls.has_value());
  CHECK_FALSE(r.value.listen.tls->client_ca.empty());
  CHECK(r.value.upstream.basic.has_value());
  CHECK_FALSE(r.value.upstream.tls_ca.empty());
}

TEST_CASE("config/users.example.yml loads", "[config][examples]") {
  auto r = load_users((config_dir / "users.example.yml").string());
  INFO(dump(r.errors));
  REQUIRE(r.ok());
  CHECK(r.value.users.size() == 2);
  CHECK(r.value.users.at("admin").roles == std::vector<std::string>{"superuser"});
  CHECK(r.value.users.at("alice").roles == std::vector<std::string>{"books-read-only"});
}

TEST_CASE("config/roles.yml defines the documented example roles", "[config][examples]") {
  YAML::Node roles = YAML::LoadFile((config_dir / "roles.yml").string());
  REQUIRE(roles.IsMap());
  CHECK(roles.size() == 2);
  CHECK(roles["books-read-only"]["indices"][0]["names"][0].as<std::string>() == "books");
  CHECK(roles["books-read-only"]["indices"][0]["privileges"][0].as<std::string>() == "read");
  CHECK(roles["logs-writer"]["cluster"][0].as<std::string>() == "monitor");
  CHECK(roles["logs-writer"]["indices"][0]["names"][1].as<std::string>() == "/metrics-[0-9]+/");
  CHECK_FALSE(roles["superuser"].IsDefined());
}
