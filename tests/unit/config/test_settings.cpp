// esgate.yaml loading: every problem reported at once, each at the exact line:col of the
// offending key or value; defaults, path resolution, node and Redis URLs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "esgate/config/settings.hpp"
#include "fixtures.hpp"

using namespace esgate::config;
using esgate::config::test::scratch_dir;

namespace {

load_result parse(const std::string& yaml) { return parse_settings(yaml, "t.yaml", scratch_dir()); }

std::string dump(const load_result& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

struct error_case {
  std::string yaml;
  int line;
  int column;
  std::string message;      // the diagnostic's message must contain this
  std::string secret = {};  // ... and must not contain this
};

void check_single_error(const error_case& c) {
  CAPTURE(c.yaml);
  auto r = parse(c.yaml);
  INFO(dump(r));
  REQUIRE(r.errors.size() == 1);
  const auto& e = r.errors.front();
  CHECK(e.file == "t.yaml");
  CHECK(e.line == c.line);
  CHECK(e.column == c.column);
  CHECK_THAT(e.message, Catch::Contains(c.message));
  if (!c.secret.empty()) CHECK_THAT(e.to_string(), !Catch::Contains(c.secret));
}

}  // namespace

TEST_CASE("unknown and duplicate keys are reported at the key", "[config][settings]") {
  const error_case cases[] = {
      {"bogus: 1\n", 1, 1, "unknown key [bogus]"},
      {"lisen:\n  port: 1\n", 1, 1, "unknown key [lisen] (did you mean [listen]?)"},
      {"listen:\n  prot: 9243\n", 2, 3, "unknown key [listen.prot] (did you mean [port]?)"},
      {"listen:\n  port: 9243\n  adress: 0.0.0.0\n", 3, 3,
       "unknown key [listen.adress] (did you mean [address]?)"},
      {"listen:\n  tls:\n    certificate: certs/gateway.crt\n    key: certs/gateway.key\n"
       "    cipher: x\n",
       5, 5, "unknown key [listen.tls.cipher]"},
      {"upstream:\n  auth:\n    basic: {username: u, password: p, realm: x}\n", 3, 39,
       "unknown key [upstream.auth.basic.realm]"},
      {"upstream:\n  auth:\n    bearer: tok\n    api_key: \"abc=\"\n", 3, 5,
       "unknown key [upstream.auth.bearer]"},
      {"security:\n  api_key:\n    hashing: pbkdf2\n    ttl: 5m\n", 4, 5,
       "unknown key [security.api_key.ttl]"},
      {"limits:\n  max_body_size: 1mb\n", 2, 3,
       "unknown key [limits.max_body_size] (did you mean [max_body_bytes]?)"},
      {"redis:\n  url: redis://h\n  password: hunter2\n", 3, 3, "unknown key [redis.password]",
       "hunter2"},
      {"listen:\n  port: 1\n  port: 2\n", 3, 3, "duplicate key [listen.port]"},
      {"threads: 1\nthreads: 2\n", 2, 1, "duplicate key [threads]"},
      {"listen:\n  [a]: 1\n", 2, 3, "listen: keys must be plain strings"},
  };
  for (const auto& c : cases) check_single_error(c);
}

TEST_CASE("unknown key message names nothing else", "[config][settings]") {
  auto r = parse("bogus: 1\n");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].to_string() == "t.yaml:1:1: unknown key [bogus]");
}

TEST_CASE("wrong types and bad values are reported at the value", "[config][settings]") {
  const error_case cases[] = {
      // threads
      {"threads: abc\n", 1, 10, "threads: expected an integer between 0 and 1024, got [abc]"},
      {"threads: -1\n", 1, 10, "threads: expected an integer between 0 and 1024, got [-1]"},
      {"threads: 1025\n", 1, 10, "got [1025]"},
      {"threads: 1.5\n", 1, 10, "got [1.5]"},
      {"threads: 0x10\n", 1, 10, "got [0x10]"},
      {"threads: 99999999999999999999999\n", 1, 10, "expected an integer"},
      {"threads: [1]\n", 1, 10, "threads: expected an integer between 0 and 1024, got a list"},
      // listen
      {"listen: 5\n", 1, 9, "listen: expected a mapping of keys, got a value"},
      {"listen:\n  port: abc\n", 2, 9,
       "listen.port: expected an integer between 1 and 65535, got [abc]"},
      {"listen:\n  port: 0\n", 2, 9, "got [0]"},
      {"listen:\n  port: 65536\n", 2, 9, "got [65536]"},
      {"listen:\n  port: -9243\n", 2, 9, "got [-9243]"},
      // An empty value is blamed on its key: yaml-cpp would point at the next line.
      {"listen:\n  port:\nthreads: 1\n", 2, 3,
       "listen.port: expected an integer between 1 and "
       "65535, got nothing"},
      {"listen:\n  address: \"not an address!\"\n", 2, 12,
       "listen.address: expected an IP address or host name"},
      {"listen:\n  address: \"\"\n", 2, 12, "listen.address: must not be empty"},
      {"listen:\n  tls:\n    certificate: certs/gateway.crt\n    key: certs/gateway.key\n"
       "    min_version: \"1.1\"\n",
       5, 18, "listen.tls.min_version: expected \"1.2\" or \"1.3\", got [1.1]"},
      {"listen:\n  tls:\n    certificate: certs/missing.crt\n    key: certs/gateway.key\n", 3, 18,
       "listen.tls.certificate: file ["},
      {"listen:\n  tls:\n    certificate: certs/gateway.crt\n    key: certs/dir.crt\n", 4, 10,
       "is not a regular file"},
      {"listen:\n  tls:\n    certificate: certs/gateway.crt\n    key: certs/gateway.key\n"
       "    client_ca: /nonexistent/ca.crt\n",
       5, 16, "listen.tls.client_ca: file [/nonexistent/ca.crt] does not exist"},
      {"listen:\n  tls:\n    certificate: certs/gateway.crt\n", 2, 3,
       "listen.tls: key is required when tls is set"},
      {"listen:\n  tls:\n    key: certs/gateway.key\n", 2, 3,
       "listen.tls: certificate is required when tls is set"},
      {"listen:\n  tls: [certs/gateway.crt]\n", 2, 8, "listen.tls: expected a mapping of keys"},
      // upstream
      {"upstream:\n  nodes: \"http://x:9200\"\n", 2, 10,
       "upstream.nodes: expected a list, got a value"},
      {"upstream:\n  nodes: []\n", 2, 10, "upstream.nodes: at least one node is required"},
      {"upstream:\n  nodes:\n", 2, 3, "upstream.nodes: at least one node is required"},
      {"upstream:\n  nodes: [\"ftp://h:21\"]\n", 2, 11,
       "upstream.nodes[0]: unsupported scheme in node URL [ftp://h:21]"},
      {"upstream:\n  nodes: [\"localhost:9200\"]\n", 2, 11, "unsupported scheme"},
      {"upstream:\n  nodes: [\"127.0.0.1:9200\"]\n", 2, 11, "invalid node URL [127.0.0.1:9200]"},
      {"upstream:\n  nodes:\n    - http://a:9200\n    - http://b:9200/es\n", 4, 7,
       "upstream.nodes[1]: node URL [http://b:9200/es] must not have a path"},
      {"upstream:\n  nodes: [\"http://u:secret@h:9200\"]\n", 2, 11,
       "credentials are not allowed in node URLs", "secret"},
      {"upstream:\n  nodes: [\"http://u:s3cr3t@@h:9200\"]\n", 2, 11, "upstream.nodes[0]", "s3cr3t"},
      {"upstream:\n  nodes: [\"http://h:9200?x=1\"]\n", 2, 11, "must not have a query"},
      {"upstream:\n  nodes: [\"http://h:9200#top\"]\n", 2, 11, "must not have a query or fragment"},
      {"upstream:\n  nodes: [\"http://h:0\"]\n", 2, 11, "port must be between 1 and 65535"},
      {"upstream:\n  nodes: [\"http://h:70000\"]\n", 2, 11, "port must be between 1 and 65535"},
      {"upstream:\n  nodes: [\"http://h:\"]\n", 2, 11, "invalid port"},
      {"upstream:\n  nodes: [\"http://:9200\"]\n", 2, 11, "missing host"},
      {"upstream:\n  nodes: [\"http://[v1.x]:9200\"]\n", 2, 11, "unsupported IP address literal"},
      {"upstream:\n  nodes: [\"http://a:9200\", \"HTTP://a:9200/\"]\n", 2, 28, "duplicate node"},
      {"upstream:\n  nodes: [{url: \"http://a\"}]\n", 2, 11,
       "upstream.nodes[0]: expected a string, got a mapping"},
      {"upstream:\n  connect_timeout: 10\n", 2, 20,
       "upstream.connect_timeout: expected a duration such as 500ms, 10s, 5m, 1h or 7d, got [10]"},
      {"upstream:\n  connect_timeout: 0s\n", 2, 20,
       "[0s] is out of range: must be between 1ms and 365d"},
      {"upstream:\n  request_timeout: -1\n", 2, 20,
       "upstream.request_timeout: expected a duration"},
      {"upstream:\n  request_timeout: 400d\n", 2, 20, "out of range"},
      {"upstream:\n  max_connections_per_node: 0\n", 2, 29, "expected an integer between 1 and"},
      {"upstream:\n  probe_interval: 1ms\n", 2, 19, "out of range"},
      {"upstream:\n  outlier_detection: {consecutive: 3}\n", 2, 23,
       "unknown key [upstream.outlier_detection.consecutive]"},
      {"upstream:\n  tls: {verify: yes}\n", 2, 17,
       "upstream.tls.verify: expected true or false, got [yes]"},
      {"upstream:\n  tls:\n    ca: certs/nope.crt\n", 3, 9, "upstream.tls.ca: file ["},
      {"upstream:\n  auth:\n    basic: {username: u, password: p}\n    api_key: \"abc=\"\n", 2, 3,
       "upstream.auth: set only one of basic, api_key and api_key_file"},
      {"upstream:\n  auth: {}\n", 2, 3, "upstream.auth: expected basic, api_key or api_key_file"},
      {"upstream:\n  auth:\n    basic: {username: u}\n", 3, 5,
       "upstream.auth.basic: password is required"},
      {"upstream:\n  auth:\n    basic: {password: hunter2}\n", 3, 5,
       "upstream.auth.basic: username is required", "hunter2"},
      {"upstream:\n  auth:\n    basic: {username: \"a:b\", password: p}\n", 3, 23,
       "upstream.auth.basic.username: must not contain ':'"},
      {"upstream:\n  auth:\n    basic: {username: u, password: \"hun\\r\\nter2\"}\n", 3, 36,
       "upstream.auth.basic.password: must not contain control characters", "hun"},
      {"upstream:\n  auth:\n    basic: {username: u, password: [hunter2]}\n", 3, 36,
       "upstream.auth.basic.password: expected a string, got a list", "hunter2"},
      {"upstream:\n  auth:\n    api_key: \"ApiKey dG9wc2VjcmV0\"\n", 3, 14,
       "upstream.auth.api_key: expected the encoded API key", "dG9wc2VjcmV0"},
      {"upstream:\n  auth:\n    api_key:\n", 3, 5, "upstream.auth.api_key: expected a string"},
      // redis: the URL may hold a password, so it is never echoed
      {"redis:\n  url: rediss://h:6379\n", 2, 8, "redis.url: TLS to Redis is not supported yet"},
      {"redis:\n  url: http://h:6379\n", 2, 8, "redis.url: only redis:// URLs are supported"},
      {"redis:\n  url: unix:///run/redis.sock\n", 2, 8, "only redis:// URLs are supported"},
      {"redis:\n  url: redis://:hunter2@h:6379/16\n", 2, 8,
       "redis.url: database must be a number between 0 and 15", "hunter2"},
      {"redis:\n  url: redis://h/x\n", 2, 8, "database must be a number between 0 and 15"},
      {"redis:\n  url: redis://h/0/1\n", 2, 8, "database must be a number between 0 and 15"},
      {"redis:\n  url: redis://:hunter2@h:99999\n", 2, 8, "port must be between 1 and 65535",
       "hunter2"},
      {"redis:\n  url: redis://hunter2@h\n", 2, 8, "a user name needs a password", "hunter2"},
      {"redis:\n  url: redis://:pw@h/0?db=1\n", 2, 8, "must not have a query", "pw@"},
      {"redis:\n  url: \"redis://:hunter 2@h\"\n", 2, 8, "invalid URL", "hunter"},
      {"redis:\n  url: redis://\n", 2, 8, "missing host"},
      {"redis:\n  prefix: \"a\\nb\"\n", 2, 11, "redis.prefix: must not contain control characters"},
      {"redis:\n  url: [redis://h]\n", 2, 8, "redis.url: expected a string, got a list"},
      // security
      {"security:\n  api_key:\n    hashing: md5\n", 3, 14,
       "security.api_key.hashing: expected ssha256 or pbkdf2, got [md5]"},
      {"security:\n  api_key:\n    cache_max_keys: 0\n", 3, 21,
       "security.api_key.cache_max_keys: expected an integer between 1 and 1000000000"},
      {"security:\n  api_key:\n    cache_ttl: 5\n", 3, 16, "expected a duration"},
      {"security:\n  api_key:\n    stale_if_error: 5\n", 3, 21, "expected a duration"},
      {"security:\n  api_key:\n    stale_if_error: -1s\n", 3, 21,
       "security.api_key.stale_if_error"},
      {"security:\n  roles_file: []\n", 2, 15,
       "security.roles_file: expected a string, got a list"},
      {"security:\n  users_file: \"\"\n", 2, 15, "security.users_file: must not be empty"},
      {"security: [roles.yml]\n", 1, 11, "security: expected a mapping of keys, got a list"},
      // limits
      {"limits:\n  max_header_bytes: 512b\n", 2, 21,
       "limits.max_header_bytes: [512b] is out of range: must be between 1kb and 1mb"},
      {"limits:\n  max_header_bytes: 2mb\n", 2, 21, "must be between 1kb and 1mb"},
      {"limits:\n  max_body_bytes: 100\n", 2, 19,
       "limits.max_body_bytes: [100] is out of range: must be at least 1kb"},
      {"limits:\n  max_body_bytes: lots\n", 2, 19,
       "expected a size such as 512kb, 100mb or 1gb, got [lots]"},
      {"limits:\n  max_body_bytes: -1\n", 2, 19, "expected a size"},
      {"limits:\n  max_connections: 0\n", 2, 20, "limits.max_connections: expected an integer"},
      {"limits:\n  header_timeout: 1.5s\n", 2, 19, "limits.header_timeout: expected a duration"},
      {"limits:\n  idle_timeout: 0\n", 2, 17, "out of range"},
      {"limits:\n  shutdown_grace: 10 minutes\n", 2, 19, "expected a duration"},
      // The document itself
      {"- a\n- b\n", 1, 1, "top level: expected a mapping of keys, got a list"},
      {"just a string\n", 1, 1, "top level: expected a mapping of keys, got a value"},
  };
  for (const auto& c : cases) check_single_error(c);
}

TEST_CASE("values that are fine", "[config][settings]") {
  const std::string ok_cases[] = {
      "",
      "# only a comment\n",
      "threads: 0\n",
      "threads: 1024\n",
      "threads: \"4\"\n",  // quoted numbers are accepted, as Elasticsearch does
      "listen: {port: 1}\n",
      "listen: {port: 65535, address: \"::\"}\n",
      "listen: {address: \"[::1]\"}\n",
      "listen: {address: 0.0.0.0}\n",
      "listen: {address: gateway.example.com}\n",
      "listen:\n",
      "upstream:\n  auth: {basic: {username: esgate, password: 12345}}\n",
      "upstream:\n  auth: {api_key: "
      "\"VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==\"}\n",
      "upstream:\n  tls: {verify: false}\n",
      "upstream:\n  tls:\n",
      "redis:\n  prefix: \"\"\n",
      "redis:\n  url: redis://h\n  prefix: \"other:\"\n",
      "security:\n  api_key: {hashing: PBKDF2, cache_ttl: 0, cache_max_keys: 1}\n",
      "security:\n  api_key: {stale_if_error: 0}\n",
      "security:\n  api_key: {stale_if_error: 1h}\n",
      "limits: {max_header_bytes: 1kb, max_body_bytes: 1.5gb, shutdown_grace: 0}\n",
      "limits: {max_header_bytes: 1mb, header_timeout: 1ms, idle_timeout: 365d}\n",
  };
  for (const auto& yaml : ok_cases) {
    CAPTURE(yaml);
    auto r = parse(yaml);
    INFO(dump(r));
    CHECK(r.ok());
  }
}

TEST_CASE("every problem is reported in one pass, in file order", "[config][settings]") {
  auto r = parse(R"(threads: many
listen:
  port: abc
  tls:
upstream:
  nodes: "x"
  auth:
    basic: {username: u}
redis:
  url: rediss://r
security:
  api_key:
    hashing: md5
limits:
  max_header_bytes: 4mb
  surprise: true
)");
  std::vector<std::string> got;
  for (const auto& e : r.errors) got.push_back(e.to_string());
  const std::vector<std::string> expected = {
      "t.yaml:1:10: threads: expected an integer between 0 and 1024, got [many]",
      "t.yaml:3:9: listen.port: expected an integer between 1 and 65535, got [abc]",
      "t.yaml:4:3: listen.tls: certificate is required when tls is set",
      "t.yaml:4:3: listen.tls: key is required when tls is set",
      "t.yaml:6:10: upstream.nodes: expected a list, got a value",
      "t.yaml:8:5: upstream.auth.basic: password is required (or password_file)",
      "t.yaml:10:8: redis.url: TLS to Redis is not supported yet",
      "t.yaml:13:14: security.api_key.hashing: expected ssha256 or pbkdf2, got [md5]",
      "t.yaml:15:21: limits.max_header_bytes: [4mb] is out of range: must be between 1kb and 1mb",
      "t.yaml:16:3: unknown key [limits.surprise]",
  };
  CHECK(got == expected);
}

TEST_CASE("YAML syntax errors become one diagnostic at yaml-cpp's position", "[config][settings]") {
  struct row {
    std::string yaml;
    int line;
    int column;
  };
  const row rows[] = {
      {"listen:\n  port: [1\nthreads: 2\n", 3, 8},
      {"a: 1\n\tb: 2\n", 2, 1},
      {"listen:\n  port: 1\n bad: 2\n", 3, 2},
      {"a: b: c\n", 1, 5},
      {"a: {b: 1\n", 2, 1},
      {"a: 1\n---\nb: 2\n", 2, 1},  // a second document is not silently ignored
      // yaml-cpp 0.7's LoadAll never returns on these (found by fuzzing).
      {",", 1, 1},
      {"threads: 1\n,\n", 2, 1},
      {std::string("a: 1\n,\0\0", 8), 2, 2},
      {std::string("threads: \0", 10), 1, 10},
      {"listen:\n  port: 1\x01\n", 2, 10},
      {"a: \x7f\n", 1, 4},
  };
  for (const auto& r : rows) {
    CAPTURE(r.yaml);
    auto result = parse(r.yaml);
    INFO(dump(result));
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].line == r.line);
    CHECK(result.errors[0].column == r.column);
    CHECK_FALSE(result.errors[0].message.empty());
  }
}

TEST_CASE("defaults match the documented table", "[config][settings]") {
  auto r = parse("");
  REQUIRE(r.ok());
  const settings& s = r.value;
  CHECK(s.threads == 0);
  CHECK(s.listen.address == "127.0.0.1");
  CHECK(s.listen.port == 9243);
  CHECK_FALSE(s.listen.tls.has_value());
  REQUIRE(s.upstream.nodes.size() == 1);
  CHECK(s.upstream.nodes[0].scheme == "http");
  CHECK(s.upstream.nodes[0].host == "127.0.0.1");
  CHECK(s.upstream.nodes[0].port == 9200);
  CHECK(s.upstream.tls_ca.empty());
  CHECK(s.upstream.tls_verify);
  CHECK_FALSE(s.upstream.basic.has_value());
  CHECK(s.upstream.api_key.empty());
  CHECK(s.upstream.connect_timeout == std::chrono::seconds(2));
  CHECK(s.upstream.request_timeout == std::chrono::seconds(60));
  CHECK(s.upstream.max_connections_per_node == 1024);
  CHECK(s.upstream.max_pending_per_node == 1024);
  CHECK(s.upstream.probe_interval == std::chrono::seconds(2));
  CHECK(s.upstream.outlier.consecutive_failures == 5);
  CHECK(s.upstream.outlier.base_ejection_time == std::chrono::seconds(30));
  CHECK(s.upstream.outlier.max_ejection_time == std::chrono::minutes(5));
  CHECK(s.redis.host == "127.0.0.1");
  CHECK(s.redis.port == 6379);
  CHECK(s.redis.db == 0);
  CHECK(s.redis.password.empty());
  CHECK(s.redis.prefix == "esgate:");
  CHECK(s.security.roles_file == scratch_dir() + "/roles.yml");
  CHECK(s.security.users_file == scratch_dir() + "/users.yml");
  CHECK(s.security.api_key.hashing == key_hashing::ssha256);
  CHECK(s.security.api_key.cache_ttl == std::chrono::minutes(5));
  CHECK(s.security.api_key.cache_max_keys == 100000);
  CHECK(s.security.api_key.stale_if_error == std::chrono::minutes(5));
  CHECK(s.limits.max_header_bytes == 16 * 1024);
  CHECK(s.limits.max_body_bytes == 100ull * 1024 * 1024);
  CHECK(s.limits.header_timeout == std::chrono::seconds(10));
  CHECK(s.limits.idle_timeout == std::chrono::seconds(60));
  CHECK(s.limits.max_connections == 10000);
  CHECK(s.limits.shutdown_grace == std::chrono::seconds(30));
  CHECK(s.config_dir == scratch_dir());
}

TEST_CASE("a full configuration is read into typed settings", "[config][settings]") {
  auto r = parse(R"(threads: 8
listen:
  address: "[::1]"
  port: 9443
  tls:
    certificate: certs/gateway.crt
    key: certs/gateway.key
    client_ca: certs/ca.crt
    min_version: 1.3
upstream:
  nodes: ["https://es1.example:9201", "https://[fd00::2]"]
  tls: { ca: certs/es-ca.crt, verify: false }
  auth:
    basic: { username: esgate, password: "p@ss: word" }
  connect_timeout: 500ms
  request_timeout: 2m
  max_connections_per_node: 64
  max_pending_per_node: 0
  probe_interval: 500ms
  outlier_detection: { consecutive_failures: 3, base_ejection_time: 10s, max_ejection_time: 1m }
redis:
  prefix: "gw1:"
  url: redis://default:s%40cret@redis.example:6380/2
security:
  roles_file: /etc/esgate/roles.yml
  users_file: ../shared/users.yml
  api_key:
    hashing: pbkdf2
    cache_ttl: 30s
    cache_max_keys: 5000
    stale_if_error: 90s
limits:
  max_header_bytes: 32kb
  max_body_bytes: 1gb
  header_timeout: 5s
  idle_timeout: 2m
  max_connections: 20
  shutdown_grace: 0
)");
  INFO(dump(r));
  REQUIRE(r.ok());
  const settings& s = r.value;
  const std::string dir = scratch_dir();
  CHECK(s.threads == 8);
  CHECK(s.listen.address == "::1");
  CHECK(s.listen.port == 9443);
  REQUIRE(s.listen.tls.has_value());
  CHECK(s.listen.tls->certificate == dir + "/certs/gateway.crt");
  CHECK(s.listen.tls->key == dir + "/certs/gateway.key");
  CHECK(s.listen.tls->client_ca == dir + "/certs/ca.crt");
  CHECK(s.listen.tls->min_version == "1.3");
  REQUIRE(s.upstream.nodes.size() == 2);
  CHECK(s.upstream.nodes[0].host == "es1.example");
  CHECK(s.upstream.nodes[0].port == 9201);
  CHECK(s.upstream.nodes[1].scheme == "https");
  CHECK(s.upstream.nodes[1].host == "fd00::2");
  CHECK(s.upstream.nodes[1].port == 9200);
  CHECK(s.upstream.nodes[1].url == "https://[fd00::2]");
  CHECK(s.upstream.tls_ca == dir + "/certs/es-ca.crt");
  CHECK_FALSE(s.upstream.tls_verify);
  REQUIRE(s.upstream.basic.has_value());
  CHECK(s.upstream.basic->username == "esgate");
  CHECK(s.upstream.basic->password == "p@ss: word");
  CHECK(s.upstream.connect_timeout == std::chrono::milliseconds(500));
  CHECK(s.upstream.request_timeout == std::chrono::minutes(2));
  CHECK(s.upstream.max_connections_per_node == 64);
  CHECK(s.upstream.max_pending_per_node == 0);
  CHECK(s.upstream.probe_interval == std::chrono::milliseconds(500));
  CHECK(s.upstream.outlier.consecutive_failures == 3);
  CHECK(s.upstream.outlier.base_ejection_time == std::chrono::seconds(10));
  CHECK(s.upstream.outlier.max_ejection_time == std::chrono::minutes(1));
  CHECK(s.redis.host == "redis.example");
  CHECK(s.redis.port == 6380);
  CHECK(s.redis.username == "default");
  CHECK(s.redis.password == "s@cret");
  CHECK(s.redis.db == 2);
  CHECK(s.redis.prefix == "gw1:");  // prefix written before url survives
  CHECK(s.redis.url == "redis://default:****@redis.example:6380/2");
  CHECK(s.security.roles_file == "/etc/esgate/roles.yml");
  CHECK(s.security.users_file ==
        (std::filesystem::path(dir).parent_path() / "shared/users.yml").string());
  CHECK(s.security.api_key.hashing == key_hashing::pbkdf2);
  CHECK(s.security.api_key.cache_ttl == std::chrono::seconds(30));
  CHECK(s.security.api_key.cache_max_keys == 5000);
  CHECK(s.security.api_key.stale_if_error == std::chrono::seconds(90));
  CHECK(s.limits.max_header_bytes == 32 * 1024);
  CHECK(s.limits.max_body_bytes == 1024ull * 1024 * 1024);
  CHECK(s.limits.header_timeout == std::chrono::seconds(5));
  CHECK(s.limits.idle_timeout == std::chrono::minutes(2));
  CHECK(s.limits.max_connections == 20);
  CHECK(s.limits.shutdown_grace == std::chrono::milliseconds(0));
}

TEST_CASE("upstream node URLs", "[config][settings]") {
  struct row {
    std::string url;
    std::string scheme;
    std::string host;
    int port;
  };
  const row rows[] = {
      {"http://127.0.0.1:9200", "http", "127.0.0.1", 9200},
      {"https://es.example.com", "https", "es.example.com", 9200},
      {"http://localhost", "http", "localhost", 9200},
      {"http://[::1]:9201", "http", "::1", 9201},
      {"https://[2001:db8::1]", "https", "2001:db8::1", 9200},
      {"HTTPS://Node-1.Example:443/", "https", "Node-1.Example", 443},
      {"http://10.0.0.1:1", "http", "10.0.0.1", 1},
      {"http://h:65535", "http", "h", 65535},
  };
  for (const auto& r : rows) {
    CAPTURE(r.url);
    auto result = parse("upstream:\n  nodes: [\"" + r.url + "\"]\n");
    INFO(dump(result));
    REQUIRE(result.ok());
    REQUIRE(result.value.upstream.nodes.size() == 1);
    const auto& n = result.value.upstream.nodes[0];
    CHECK(n.scheme == r.scheme);
    CHECK(n.host == r.host);
    CHECK(n.port == r.port);
    CHECK(n.url == r.url);
  }
}

TEST_CASE("redis URLs", "[config][settings]") {
  struct row {
    std::string url;
    std::string host;
    int port;
    std::string username;
    std::string password;
    int db;
    std::string shown;
  };
  const row rows[] = {
      {"redis://127.0.0.1:6379/0", "127.0.0.1", 6379, "", "", 0, "redis://127.0.0.1:6379/0"},
      {"redis://r.example", "r.example", 6379, "", "", 0, "redis://r.example:6379/0"},
      {"redis://r/", "r", 6379, "", "", 0, "redis://r:6379/0"},
      {"redis://r/15", "r", 6379, "", "", 15, "redis://r:6379/15"},
      {"redis://r:7000/07", "r", 7000, "", "", 7, "redis://r:7000/7"},
      {"redis://:p%40ss%3Aw@r:6380/3", "r", 6380, "", "p@ss:w", 3, "redis://:****@r:6380/3"},
      {"redis://app:pw@r", "r", 6379, "app", "pw", 0, "redis://app:****@r:6379/0"},
      {"redis://us%65r:pw@r", "r", 6379, "user", "pw", 0, "redis://user:****@r:6379/0"},
      {"redis://@r", "r", 6379, "", "", 0, "redis://r:6379/0"},
      {"redis://[::1]:7001/1", "::1", 7001, "", "", 1, "redis://[::1]:7001/1"},
      {"REDIS://R:1", "R", 1, "", "", 0, "redis://R:1/0"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.url);
    auto result = parse("redis:\n  url: \"" + r.url + "\"\n");
    INFO(dump(result));
    REQUIRE(result.ok());
    const auto& red = result.value.redis;
    CHECK(red.host == r.host);
    CHECK(red.port == r.port);
    CHECK(red.username == r.username);
    CHECK(red.password == r.password);
    CHECK(red.db == r.db);
    CHECK(red.url == r.shown);
    CHECK(red.prefix == "esgate:");
  }
}

TEST_CASE("relative paths resolve against the config folder", "[config][settings]") {
  struct row {
    std::string written;
    std::string expected;
  };
  const std::string dir = scratch_dir();
  const std::string parent = std::filesystem::path(dir).parent_path().string();
  const row rows[] = {
      {"roles.yml", dir + "/roles.yml"},
      {"policy/roles.yml", dir + "/policy/roles.yml"},
      {"./policy//roles.yml", dir + "/policy/roles.yml"},
      {"../roles.yml", parent + "/roles.yml"},
      {"/etc/esgate/roles.yml", "/etc/esgate/roles.yml"},
      {"/etc/esgate/../x.yml", "/etc/x.yml"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.written);
    auto result = parse("security:\n  roles_file: \"" + r.written + "\"\n  users_file: \"" +
                        r.written + "\"\n");
    INFO(dump(result));
    REQUIRE(result.ok());
    CHECK(result.value.security.roles_file == r.expected);
    CHECK(result.value.security.users_file == r.expected);
  }
}

TEST_CASE("TLS paths may be absolute", "[config][settings]") {
  const std::string dir = scratch_dir();
  auto r = parse("listen:\n  tls:\n    certificate: " + dir +
                 "/certs/gateway.crt\n    key: " + dir + "/certs/gateway.key\n");
  INFO(dump(r));
  REQUIRE(r.ok());
  CHECK(r.value.listen.tls->certificate == dir + "/certs/gateway.crt");
  CHECK(r.value.listen.tls->client_ca.empty());
  CHECK(r.value.listen.tls->min_version == "1.2");
}

TEST_CASE("an empty tls section still needs certificate and key", "[config][settings]") {
  auto r = parse("listen:\n  tls:\n");
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].to_string() ==
        "t.yaml:2:3: listen.tls: certificate is required when tls is set");
  CHECK(r.errors[1].to_string() == "t.yaml:2:3: listen.tls: key is required when tls is set");
}

TEST_CASE("diagnostic::to_string", "[config][settings]") {
  CHECK(diagnostic{"a.yaml", 3, 7, "bad"}.to_string() == "a.yaml:3:7: bad");
  CHECK(diagnostic{"/etc/esgate.yaml", 1, 1, "x y"}.to_string() == "/etc/esgate.yaml:1:1: x y");
  CHECK(diagnostic{"a.yaml", 0, 0, "file not found"}.to_string() == "a.yaml: file not found");
}

TEST_CASE("load_settings reads a file and resolves against its folder", "[config][settings]") {
  namespace fs = std::filesystem;
  const fs::path dir = scratch_dir();
  SECTION("missing file is one file-level diagnostic") {
    auto r = load_settings((dir / "absent.yaml").string());
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].line == 0);
    CHECK(r.errors[0].to_string() == (dir / "absent.yaml").string() + ": file not found");
  }
  SECTION("a folder is not a config file") {
    auto r = load_settings((dir / "certs").string());
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].message == "not a regular file");
  }
  SECTION("relative paths follow the file, not the working directory") {
    esgate::config::test::write_file(dir / "load.yaml",
                                     "listen:\n  tls:\n    certificate: certs/gateway.crt\n"
                                     "    key: certs/gateway.key\n");
    auto r = load_settings((dir / "load.yaml").string());
    INFO(dump(r));
    REQUIRE(r.ok());
    CHECK(r.value.config_file == (dir / "load.yaml").string());
    CHECK(r.value.config_dir == dir.string());
    CHECK(r.value.listen.tls->key == (dir / "certs/gateway.key").string());
    CHECK(r.value.security.users_file == (dir / "users.yml").string());
  }
  SECTION("errors name the file as given") {
    esgate::config::test::write_file(dir / "bad.yaml", "listen:\n  port: 99999\n");
    auto r = load_settings((dir / "bad.yaml").string());
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].to_string() ==
          (dir / "bad.yaml").string() +
              ":2:9: listen.port: expected an integer between 1 and 65535, got [99999]");
  }
}

TEST_CASE("control characters in echoed values are neutralised", "[config][settings]") {
  auto r = parse("threads: \"\\e[31mred\"\n");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].message.find('\x1b') == std::string::npos);
  CHECK_THAT(r.errors[0].message, Catch::Contains("[?[31mred]"));
}

// check-config checks the roles and users files even when esgate.yaml has problems (issue 10),
// so a failed load must still say which files those are, and must not name one it cannot know.
TEST_CASE("a failed load still names the roles and users files it can know", "[settings]") {
  auto other_error = parse("threads: many\nsecurity:\n  roles_file: r.yml\n");
  REQUIRE_FALSE(other_error.ok());
  CHECK(other_error.value.security.roles_file == scratch_dir() + "/r.yml");
  CHECK(other_error.value.security.users_file == scratch_dir() + "/users.yml");

  auto broken_key = parse("security:\n  roles_file: []\n  users_file: u.yml\n");
  REQUIRE_FALSE(broken_key.ok());
  CHECK(broken_key.value.security.roles_file.empty());
  CHECK(broken_key.value.security.users_file == scratch_dir() + "/u.yml");

  auto unparsable = parse("security: [\n");
  REQUIRE_FALSE(unparsable.ok());
  CHECK(unparsable.value.security.roles_file.empty());
  CHECK(unparsable.value.security.users_file.empty());
}

// upstream credentials kept in files of their own (Docker secrets, systemd LoadCredential=): the
// file's content is the secret, one trailing line break dropped, never echoed in a message.
TEST_CASE("upstream secrets read from files", "[config][settings]") {
  namespace fs = std::filesystem;
  using esgate::config::test::write_file;
  const fs::path dir = fs::path(scratch_dir()) / "secrets";
  const std::string key = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==";
  write_file(dir / "es-password", "s3cret pass\n");
  write_file(dir / "es-password-crlf", "crlf-pass\r\n");
  write_file(dir / "es-password-bare", "bare");
  write_file(dir / "es-api-key", key + "\n");
  write_file(dir / "empty", "\n");
  write_file(dir / "two-lines", "hunter2\nsecond\n");
  write_file(dir / "bad-key", "ApiKey hunter2\n");

  SECTION("password_file, relative to the config folder") {
    const std::pair<std::string, std::string> rows[] = {
        {"secrets/es-password", "s3cret pass"},
        {"secrets/es-password-crlf", "crlf-pass"},
        {"secrets/es-password-bare", "bare"},
        {(dir / "es-password").string(), "s3cret pass"},
    };
    for (const auto& [file, expected] : rows) {
      CAPTURE(file);
      auto r = parse("upstream:\n  auth:\n    basic: {username: esgate, password_file: \"" + file +
                     "\"}\n");
      INFO(dump(r));
      REQUIRE(r.ok());
      REQUIRE(r.value.upstream.basic.has_value());
      CHECK(r.value.upstream.basic->username == "esgate");
      CHECK(r.value.upstream.basic->password == expected);
    }
  }
  SECTION("api_key_file") {
    auto r = parse("upstream:\n  auth:\n    api_key_file: secrets/es-api-key\n");
    INFO(dump(r));
    REQUIRE(r.ok());
    CHECK(r.value.upstream.api_key == key);
    CHECK_FALSE(r.value.upstream.basic.has_value());
  }
  SECTION("unusable files fail the load without showing their content") {
    const std::string missing = (dir / "absent").string();
    const error_case cases[] = {
        {"upstream:\n  auth:\n    basic: {username: u, password_file: secrets/absent}\n", 3, 41,
         "upstream.auth.basic.password_file: cannot read [" + missing + "]: file not found"},
        {"upstream:\n  auth:\n    basic: {username: u, password_file: secrets}\n", 3, 41,
         "not a regular file"},
        {"upstream:\n  auth:\n    basic: {username: u, password_file: secrets/empty}\n", 3, 41,
         "upstream.auth.basic.password_file: file [" + (dir / "empty").string() + "] is empty"},
        {"upstream:\n  auth:\n    basic: {username: u, password_file: secrets/two-lines}\n", 3, 41,
         "must hold the secret alone on one line", "hunter2"},
        {"upstream:\n  auth:\n    api_key_file: secrets/bad-key\n", 3, 19,
         "upstream.auth.api_key_file: expected the encoded API key", "hunter2"},
        {"upstream:\n  auth:\n    api_key_file: secrets/two-lines\n", 3, 19,
         "must hold the secret alone on one line", "hunter2"},
        {"upstream:\n  auth:\n    basic: {username: u, password: p, password_file: "
         "secrets/es-password}\n",
         3, 5, "upstream.auth.basic: set either password or password_file, not both", "s3cret"},
        {"upstream:\n  auth:\n    api_key: \"abc=\"\n    api_key_file: secrets/es-api-key\n", 2, 3,
         "upstream.auth: set only one of basic, api_key and api_key_file"},
        {"upstream:\n  auth:\n    basic: {username: u, password_file: secrets/es-password}\n"
         "    api_key_file: secrets/es-api-key\n",
         2, 3, "upstream.auth: set only one of basic, api_key and api_key_file"},
    };
    for (const auto& c : cases) check_single_error(c);
  }
  SECTION("a broken file leaves no credentials behind") {
    auto r = parse("upstream:\n  auth:\n    basic: {username: u, password_file: secrets/empty}\n");
    CHECK_FALSE(r.ok());
    CHECK_FALSE(r.value.upstream.basic.has_value());
  }
}

TEST_CASE("metrics.listen: an IP address and a port, or absent", "[config][settings][metrics]") {
  CHECK_FALSE(parse("").value.metrics.listen.has_value());
  auto r = parse("metrics:\n  listen: \"127.0.0.1:9244\"\n");
  INFO(dump(r));
  REQUIRE(r.ok());
  REQUIRE(r.value.metrics.listen.has_value());
  CHECK(r.value.metrics.listen->address == "127.0.0.1");
  CHECK(r.value.metrics.listen->port == 9244);
  auto v6 = parse("metrics:\n  listen: \"[::1]:9244\"\n");
  INFO(dump(v6));
  REQUIRE(v6.ok());
  CHECK(v6.value.metrics.listen->address == "::1");
  const error_case cases[] = {
      {"metrics:\n  listen: localhost:9244\n", 2, 11, "metrics.listen: expected ADDRESS:PORT"},
      {"metrics:\n  listen: \"127.0.0.1\"\n", 2, 11, "expected ADDRESS:PORT"},
      {"metrics:\n  listen: \"127.0.0.1:0\"\n", 2, 11, "expected ADDRESS:PORT"},
      {"metrics:\n  listen: \"127.0.0.1:70000\"\n", 2, 11, "expected ADDRESS:PORT"},
      {"metrics:\n  listen: \"::1:9244\"\n", 2, 11, "expected ADDRESS:PORT"},
      {"metrics:\n  lisen: \"127.0.0.1:9244\"\n", 2, 3, "unknown key [metrics.lisen]"},
  };
  for (const auto& c : cases) check_single_error(c);
}
