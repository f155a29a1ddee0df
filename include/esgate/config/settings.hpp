#pragma once
// Typed, validated settings of esgate.yaml (README "Configuration" and interface.md §2).
// Every field carries its documented default; load_settings() fills them from YAML.
//
// key                              default
// threads                          0 (= one I/O thread per core)
// listen.address / port            127.0.0.1 / 9243
// listen.tls.{certificate,key}     absent = plain HTTP
// listen.tls.client_ca             absent = no client certificates (mTLS off)
// listen.tls.min_version           "1.2"
// upstream.nodes                   ["http://127.0.0.1:9200"]
// upstream.tls.{ca,verify}         none / true
// upstream.auth.basic|api_key      none (password_file / api_key_file: the secret read from a file)
// upstream.connect_timeout         2s
// upstream.request_timeout         60s
// upstream.max_connections_per_node 1024 (requests in flight to one node, across all threads)
// upstream.max_pending_per_node    1024 (requests waiting for one of those; beyond → 503)
// upstream.probe_interval          2s
// upstream.outlier_detection.*     see struct outlier_detection below
// redis.url / prefix               redis://127.0.0.1:6379/0 / "esgate:"
// security.roles_file/users_file   roles.yml / users.yml (relative to the config file's folder)
// security.api_key.hashing         ssha256 (| pbkdf2)
// security.api_key.cache_ttl       5m
// security.api_key.cache_max_keys  100000
// security.api_key.stale_if_error  5m (0 = fail closed: API keys get 503 as soon as Redis is lost)
// security.shadow_roles_file       absent = no shadow policy (a second roles.yml evaluated on live
//                                  traffic, counted and audited, never enforced)
// limits.*                         see struct limits below
// metrics.listen                   absent = none; "127.0.0.1:9244": a plain-HTTP listener without
//                                  authentication serving GET /metrics and /_esgate/metrics
//                                  (keep it on loopback or a private network)
// logging.level                    info (ESGATE_LOG_LEVEL, when set, wins)
// logging.format                   text (| json: one JSON object per line)
// logging.access_log               false (true = stderr, or a file path)
// audit.enabled                    false
// audit.file                       absent or "-" = stderr
// audit.events.include / exclude   all but authentication_success, access_granted, shadow_granted
// audit.queue_size                 10000
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace esgate::config {

using duration = std::chrono::milliseconds;

struct tls_listen {
  std::string certificate;  // absolute path
  std::string key;          // absolute path
  std::string client_ca;    // absolute path, empty = mTLS off
  std::string min_version = "1.2";
};

struct listen {
  std::string address = "127.0.0.1";
  std::uint16_t port = 9243;
  std::optional<tls_listen> tls;
};

struct upstream_node {
  std::string scheme;  // "http" | "https"
  std::string host;
  std::uint16_t port = 9200;
  std::string url;  // as written, for messages
};

struct upstream_basic {
  std::string username;
  std::string password;
};

struct upstream {
  std::vector<upstream_node> nodes;  // default: one node http://127.0.0.1:9200
  std::string tls_ca;                // absolute path, empty = system default
  bool tls_verify = true;
  std::optional<upstream_basic> basic;
  std::string api_key;  // encoded form; empty = none
  duration connect_timeout{2000};
  duration request_timeout{60000};
  // Envoy's circuit-breaker defaults: a node gets at most this many requests at once, and at
  // most max_pending more wait (up to connect_timeout) for one of them to finish; beyond, 503.
  std::size_t max_connections_per_node = 1024;
  std::size_t max_pending_per_node = 1024;
  // How often every node is probed: a TCP connect for nodes in use, GET / with the upstream
  // credentials for an ejected node whose ejection time has passed.
  duration probe_interval{2000};
  // Envoy's outlier detection (consecutive_gateway_failure): after this many timeouts, failed
  // connections or 502/503/504 answers in a row a node is ejected for base_ejection_time ×
  // (times ejected), at most max_ejection_time, and re-admitted only when its probe answers 2xx.
  // The last usable node is never ejected. 0 = never eject.
  struct outlier_detection {
    unsigned consecutive_failures = 5;
    duration base_ejection_time{30000};
    duration max_ejection_time{300000};
  } outlier;
};

struct redis {
  // As configured but with any password masked ("redis://user:****@host:port/db"): safe to log.
  std::string url = "redis://127.0.0.1:6379/0";
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string password;  // from the URL's userinfo, empty = no AUTH
  std::string username;  // Redis 6 ACL user, empty = default user
  int db = 0;
  std::string prefix = "esgate:";
};

enum class key_hashing { ssha256, pbkdf2 };

struct api_key {
  key_hashing hashing = key_hashing::ssha256;
  duration cache_ttl{5 * 60 * 1000};
  std::size_t cache_max_keys = 100000;
  // Key-store outage: how long keys verified before it keep working from the local cache
  // (keystore/key_cache.hpp, README "Key-store outages"). 0 = today's fail-closed behaviour.
  duration stale_if_error{5 * 60 * 1000};
};

struct security {
  // Absolute paths (default <config dir>/roles.yml, users.yml). Empty only in a failed load whose
  // file could not be parsed or whose key was invalid: the file is then unknown.
  std::string roles_file;
  std::string users_file;
  // Absolute path of the shadow roles file, empty = none (README "Shadow policy").
  std::string shadow_roles_file;
  config::api_key api_key;  // qualified: g++ rejects a member that "changes meaning" of its type
};

struct limits {
  std::size_t max_header_bytes = 16 * 1024;
  std::uint64_t max_body_bytes = 100ull * 1024 * 1024;
  // Inspected bodies (_bulk, _msearch, _mget, _reindex...) up to this size are read and checked
  // whole before anything is forwarded; larger bulks are checked as they stream.
  std::uint64_t body_lookahead = 16ull * 1024 * 1024;
  // All request body bytes buffered at once across the process; over = 429 + Retry-After.
  std::uint64_t body_buffer_budget = 1024ull * 1024 * 1024;
  duration header_timeout{10000};
  duration idle_timeout{60000};
  std::size_t max_connections = 10000;
  // Connections open at once from one client address; beyond it new ones are closed at once.
  std::size_t max_connections_per_ip = 1000;
  duration shutdown_grace{30000};
};

// metrics.listen "ADDRESS:PORT" (IPv6 as "[::1]:9244"): Prometheus scrapes without credentials.
struct metrics_listen {
  std::string address;
  std::uint16_t port = 0;
};

struct metrics {
  std::optional<metrics_listen> listen;
};

struct logging {
  std::string level;            // empty = ESGATE_LOG_LEVEL or info
  std::string format = "text";  // "text" | "json"
  bool access_log = false;
  std::string access_log_file;  // empty = stderr (when access_log)
};

struct audit {
  bool enabled = false;
  std::string file;  // absolute path, empty = stderr
  // Event names (validated). include empty = every event; exclude is applied after it. When
  // neither is set, the default is every event except authentication_success, access_granted
  // and shadow_granted.
  std::vector<std::string> include, exclude;
  bool events_set = false;  // include or exclude was given
  std::size_t queue_size = 10000;
};

// The audit event names audit.events.* accept (observability/audit.hpp has the same list).
inline constexpr const char* audit_event_names[] = {
    "authentication_success", "authentication_failed",   "access_granted",
    "access_denied",          "anonymous_access_denied", "tampered_request",
    "security_config_change", "shadow_granted",          "shadow_denied"};

struct settings {
  std::string config_file;  // absolute path of the file these came from
  std::string config_dir;   // its folder; relative paths are resolved against it
  unsigned threads = 0;     // 0 = hardware concurrency
  config::listen listen;
  config::upstream upstream;
  config::redis redis;
  config::security security;
  config::limits limits;
  config::metrics metrics;
  config::logging logging;
  config::audit audit;
};

// One problem found while loading: "FILE:LINE:COL: message" when printed (1-based).
struct diagnostic {
  std::string file;
  int line = 0;  // 0 = unknown (file-level problem)
  int column = 0;
  std::string message;
  std::string to_string() const;
};

struct load_result {
  settings value;
  std::vector<diagnostic> errors;  // empty = valid
  bool ok() const { return errors.empty(); }
};

// Reads and validates esgate.yaml. Never throws for bad input: every problem becomes a diagnostic
// (unknown keys, wrong types, bad durations/sizes/URLs, missing files are reported all at once).
load_result load_settings(const std::string& path);
load_result parse_settings(const std::string& yaml_text, const std::string& path_for_messages,
                           const std::string& config_dir);

// "500ms", "10s", "5m", "1h", "7d" (also nanos/micros; ES TimeValue rules: integer + unit,
// lowercase m = minutes, no fractions). Returns nullopt when invalid.
std::optional<duration> parse_duration(std::string_view text);
// "512kb", "100mb", "1gb", "10b" (also plain integers = bytes). nullopt when invalid.
std::optional<std::uint64_t> parse_size(std::string_view text);

}  // namespace esgate::config
