// esgate.yaml: strict loading into esgate::config::settings (interface.md §2).
#include "esgate/config/settings.hpp"

#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <tuple>

#include "yaml_check.hpp"

namespace esgate::config {

std::string diagnostic::to_string() const {
  if (line <= 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

namespace {

namespace fs = std::filesystem;
namespace urls = boost::urls;
using detail::entry;
using detail::quote;

constexpr std::size_t max_config_bytes = 1024 * 1024;
constexpr std::size_t max_secret_file_bytes = 64 * 1024;
constexpr std::uint64_t kib = 1024;
constexpr std::uint64_t mib = 1024 * kib;
// Longer timeouts than a year are typos, and far larger ones overflow clock arithmetic.
constexpr duration max_duration{365LL * 24 * 3600 * 1000};

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

bool is_host_name(std::string_view s) {
  return !s.empty() && s.size() <= 253 && std::all_of(s.begin(), s.end(), is_host_char);
}

// Printable base64 (standard or URL-safe alphabet): what an encoded API key looks like. Rejecting
// anything else keeps CR/LF and "ApiKey " prefixes out of the header we send upstream.
bool is_base64(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/' || c == '-' || c == '_' || c == '=';
  });
}

std::optional<std::uint16_t> url_port(const urls::url_view& u, std::uint16_t default_port,
                                      std::string& problem) {
  if (!u.has_port()) return default_port;
  std::string_view p = u.port();
  if (p.empty() || p.size() > 5 ||
      !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    problem = "invalid port";
    return std::nullopt;
  }
  unsigned long v = std::stoul(std::string(p));
  if (v < 1 || v > 65535) {
    problem = "port must be between 1 and 65535";
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(v);
}

// Host of an http(s)/redis URL without brackets; empty + problem when unusable.
std::string url_host(const urls::url_view& u, std::string& problem) {
  switch (u.host_type()) {
    case urls::host_type::ipv4:
    case urls::host_type::ipv6:
      return std::string(u.host_address());
    case urls::host_type::name: {
      std::string h = u.host_address();
      if (h.empty()) {
        problem = "missing host";
        return {};
      }
      if (!is_host_name(h)) {
        problem = "invalid host name";
        return {};
      }
      return h;
    }
    case urls::host_type::ipvfuture:
      problem = "unsupported IP address literal";
      return {};
    default:
      problem = "missing host";
      return {};
  }
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return out;
}

class settings_parser {
 public:
  settings_parser(load_result& result, const std::string& file, std::string config_dir)
      : out_(result.value), check_(file, result.errors), dir_(std::move(config_dir)) {}

  void run(const YAML::Node& root) {
    entry top{root, {1, 1}, ""};
    check_.visit_map(top, {
                              {"threads", [&](const entry& e) { threads(e); }},
                              {"listen", [&](const entry& e) { listen_section(e); }},
                              {"upstream", [&](const entry& e) { upstream_section(e); }},
                              {"redis", [&](const entry& e) { redis_section(e); }},
                              {"security", [&](const entry& e) { security_section(e); }},
                              {"limits", [&](const entry& e) { limits_section(e); }},
                              {"metrics", [&](const entry& e) { metrics_section(e); }},
                              {"logging", [&](const entry& e) { logging_section(e); }},
                              {"audit", [&](const entry& e) { audit_section(e); }},
                          });
    if (out_.upstream.nodes.empty() && !nodes_seen_)
      out_.upstream.nodes.push_back({"http", "127.0.0.1", 9200, "http://127.0.0.1:9200"});
    // A broken roles_file/users_file key leaves its path empty rather than defaulted: the load
    // fails anyway, and check-config must not report problems of a file nobody configured.
    if (out_.security.roles_file.empty() && !roles_file_broken_)
      out_.security.roles_file = resolve("roles.yml");
    if (out_.security.users_file.empty() && !users_file_broken_)
      out_.security.users_file = resolve("users.yml");
  }

 private:
  std::string resolve(const std::string& p) const {
    fs::path path(p);
    if (!path.is_absolute()) path = fs::path(dir_) / path;
    return path.lexically_normal().string();
  }

  // A path value: resolved against the config folder; optionally the file must be readable now,
  // so a typo fails at startup rather than at the first TLS handshake.
  std::optional<std::string> path_value(const entry& e, bool must_exist) {
    auto s = check_.string(e);
    if (!s) return std::nullopt;
    if (s->find('\0') != std::string::npos) {
      check_.error(e, "path must not contain a NUL character");
      return std::nullopt;
    }
    std::string resolved = resolve(*s);
    if (must_exist) {
      std::error_code ec;
      if (!fs::exists(resolved, ec)) {
        check_.error(e, "file " + quote(resolved) + " does not exist");
        return std::nullopt;
      }
      if (!fs::is_regular_file(resolved, ec)) {
        check_.error(e, quote(resolved) + " is not a regular file");
        return std::nullopt;
      }
      if (!std::ifstream(resolved, std::ios::binary)) {
        check_.error(e, "file " + quote(resolved) + " is not readable");
        return std::nullopt;
      }
    }
    return resolved;
  }

  void threads(const entry& e) {
    if (auto v = check_.integer(e, 0, 1024)) out_.threads = static_cast<unsigned>(*v);
  }

  void listen_section(const entry& e) {
    check_.visit_map(e, {
                            {"address", [&](const entry& v) { listen_address(v); }},
                            {"port",
                             [&](const entry& v) {
                               if (auto p = check_.integer(v, 1, 65535))
                                 out_.listen.port = static_cast<std::uint16_t>(*p);
                             }},
                            {"tls", [&](const entry& v) { listen_tls(v); }},
                        });
  }

  void metrics_section(const entry& e) {
    check_.visit_map(e, {{"listen", [&](const entry& v) { metrics_listen_value(v); }}});
  }

  // "ADDRESS:PORT", the address an IP literal ("[::1]:9244" for IPv6): the listener has no
  // authentication, so where it binds is spelled out rather than resolved.
  void metrics_listen_value(const entry& e) {
    auto s = check_.string(e);
    if (!s) return;
    const auto colon = s->rfind(':');
    std::string host = colon == std::string::npos ? std::string() : s->substr(0, colon);
    const std::string port = colon == std::string::npos ? std::string() : s->substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
    const bool ip = urls::parse_ipv4_address(host).has_value() ||
                    (s->front() == '[' && urls::parse_ipv6_address(host).has_value());
    int p = 0;
    bool port_ok =
        !port.empty() && port.size() <= 5 &&
        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (port_ok) p = std::stoi(port);
    if (!ip || !port_ok || p < 1 || p > 65535) {
      check_.error(e,
                   "expected ADDRESS:PORT with an IP address (\"127.0.0.1:9244\", "
                   "\"[::1]:9244\"), got " +
                       quote(*s));
      return;
    }
    out_.metrics.listen = metrics_listen{host, static_cast<std::uint16_t>(p)};
  }

  void listen_address(const entry& e) {
    auto s = check_.string(e);
    if (!s) return;
    std::string a = *s;
    if (a.size() > 2 && a.front() == '[' && a.back() == ']') a = a.substr(1, a.size() - 2);
    if (urls::parse_ipv4_address(a) || urls::parse_ipv6_address(a) || is_host_name(a)) {
      out_.listen.address = a;
      return;
    }
    check_.error(e, "expected an IP address or host name, got " + quote(*s));
  }

  void listen_tls(const entry& e) {
    tls_listen tls;
    bool have_cert = false, have_key = false;
    bool ok = check_.visit_map(e, {
                                      {"certificate",
                                       [&](const entry& v) {
                                         have_cert = true;
                                         if (auto p = path_value(v, true)) tls.certificate = *p;
                                       }},
                                      {"key",
                                       [&](const entry& v) {
                                         have_key = true;
                                         if (auto p = path_value(v, true)) tls.key = *p;
                                       }},
                                      {"client_ca",
                                       [&](const entry& v) {
                                         if (auto p = path_value(v, true)) tls.client_ca = *p;
                                       }},
                                      {"min_version",
                                       [&](const entry& v) {
                                         auto s = check_.string(v);
                                         if (!s) return;
                                         if (*s == "1.2" || *s == "1.3")
                                           tls.min_version = *s;
                                         else
                                           check_.error(
                                               v, "expected \"1.2\" or \"1.3\", got " + quote(*s));
                                       }},
                                  });
    if (!ok) return;
    if (!have_cert) check_.error_key(e, "certificate is required when tls is set");
    if (!have_key) check_.error_key(e, "key is required when tls is set");
    out_.listen.tls = std::move(tls);
  }

  void upstream_section(const entry& e) {
    check_.visit_map(e, {
                            {"nodes", [&](const entry& v) { upstream_nodes(v); }},
                            {"tls", [&](const entry& v) { upstream_tls(v); }},
                            {"auth", [&](const entry& v) { upstream_auth(v); }},
                            {"connect_timeout",
                             [&](const entry& v) {
                               if (auto d = check_.duration_value(v, duration{1}, max_duration))
                                 out_.upstream.connect_timeout = *d;
                             }},
                            {"request_timeout",
                             [&](const entry& v) {
                               if (auto d = check_.duration_value(v, duration{1}, max_duration))
                                 out_.upstream.request_timeout = *d;
                             }},
                            {"max_connections_per_node",
                             [&](const entry& v) {
                               if (auto n = check_.integer(v, 1, 10'000'000))
                                 out_.upstream.max_connections_per_node = *n;
                             }},
                            {"max_pending_per_node",
                             [&](const entry& v) {
                               if (auto n = check_.integer(v, 0, 10'000'000))
                                 out_.upstream.max_pending_per_node = *n;
                             }},
                            {"probe_interval",
                             [&](const entry& v) {
                               if (auto d = check_.duration_value(v, duration{50}, max_duration))
                                 out_.upstream.probe_interval = *d;
                             }},
                            {"outlier_detection", [&](const entry& v) { outlier_section(v); }},
                        });
  }

  void outlier_section(const entry& e) {
    auto& o = out_.upstream.outlier;
    check_.visit_map(e, {
                            {"consecutive_failures",
                             [&](const entry& v) {
                               if (auto n = check_.integer(v, 0, 1'000'000))
                                 o.consecutive_failures = static_cast<unsigned>(*n);
                             }},
                            {"base_ejection_time",
                             [&](const entry& v) {
                               if (auto d = check_.duration_value(v, duration{1}, max_duration))
                                 o.base_ejection_time = *d;
                             }},
                            {"max_ejection_time",
                             [&](const entry& v) {
                               if (auto d = check_.duration_value(v, duration{1}, max_duration))
                                 o.max_ejection_time = *d;
                             }},
                        });
  }

  void upstream_nodes(const entry& e) {
    nodes_seen_ = true;
    auto items = check_.sequence(e);
    if (!items) return;
    if (items->empty()) {
      check_.error(e, "at least one node is required");
      return;
    }
    std::set<std::tuple<std::string, std::string, std::uint16_t>> seen;
    for (const auto& item : *items) {
      auto s = check_.string(item);
      if (!s) continue;
      auto node = parse_node(item, *s);
      if (!node) continue;
      if (!seen.emplace(node->scheme, node->host, node->port).second) {
        check_.error(item, "duplicate node " + quote(*s));
        continue;
      }
      out_.upstream.nodes.push_back(std::move(*node));
    }
  }

  std::optional<upstream_node> parse_node(const entry& e, const std::string& text) {
    // Credentials must never be echoed: only quote URLs without userinfo.
    std::string shown = text.find('@') == std::string::npos ? " " + quote(text) : "";
    auto parsed = urls::parse_uri(text);
    if (!parsed) {
      check_.error(e,
                   "invalid node URL" + shown + ": expected http://host:port or https://host:port");
      return std::nullopt;
    }
    const urls::url_view& u = *parsed;
    upstream_node node;
    node.scheme = lower(u.scheme());
    if (node.scheme != "http" && node.scheme != "https") {
      check_.error(e, "unsupported scheme in node URL" + shown + ": use http:// or https://");
      return std::nullopt;
    }
    if (u.has_userinfo()) {
      check_.error(e, "credentials are not allowed in node URLs: use upstream.auth");
      return std::nullopt;
    }
    std::string problem;
    node.host = url_host(u, problem);
    if (node.host.empty()) {
      check_.error(e, (problem.empty() ? "missing host" : problem) + " in node URL" + shown);
      return std::nullopt;
    }
    auto port = url_port(u, 9200, problem);
    if (!port) {
      check_.error(e, problem + " in node URL" + shown);
      return std::nullopt;
    }
    node.port = *port;
    if (!u.encoded_path().empty() && u.encoded_path() != "/") {
      check_.error(e, "node URL" + shown + " must not have a path");
      return std::nullopt;
    }
    if (u.has_query() || u.has_fragment()) {
      check_.error(e, "node URL" + shown + " must not have a query or fragment");
      return std::nullopt;
    }
    node.url = text;
    return node;
  }

  void upstream_tls(const entry& e) {
    check_.visit_map(e, {
                            {"ca",
                             [&](const entry& v) {
                               if (auto p = path_value(v, true)) out_.upstream.tls_ca = *p;
                             }},
                            {"verify",
                             [&](const entry& v) {
                               if (auto b = check_.boolean(v)) out_.upstream.tls_verify = *b;
                             }},
                        });
  }

  // A secret kept in a file of its own (Docker/Kubernetes secrets, systemd LoadCredential=), so
  // esgate.yaml can be shared or committed. The whole file is the secret, one trailing line break
  // dropped. Its content is never echoed; its name is.
  std::optional<std::string> secret_file(const entry& e) {
    auto path = path_value(e, false);
    if (!path) return std::nullopt;
    std::string text, problem;
    if (detail::read_text_file(*path, max_secret_file_bytes, text, problem) !=
        detail::read_status::ok) {
      check_.error(e, "cannot read " + quote(*path) + ": " + problem);
      return std::nullopt;
    }
    if (!text.empty() && text.back() == '\n') text.pop_back();
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.empty()) {
      check_.error(e, "file " + quote(*path) + " is empty");
      return std::nullopt;
    }
    if (detail::has_control_chars(text)) {
      check_.error(e, "file " + quote(*path) +
                          " must hold the secret alone on one line (it contains control "
                          "characters or several lines)");
      return std::nullopt;
    }
    return text;
  }

  void upstream_auth(const entry& e) {
    int methods = 0;  // basic, api_key, api_key_file
    bool ok = check_.visit_map(e, {
                                      {"basic",
                                       [&](const entry& v) {
                                         ++methods;
                                         basic_section(v);
                                       }},
                                      {"api_key",
                                       [&](const entry& v) {
                                         ++methods;
                                         if (auto s = check_.string(v, false, true))
                                           upstream_api_key(v, *s);
                                       }},
                                      {"api_key_file",
                                       [&](const entry& v) {
                                         ++methods;
                                         if (auto s = secret_file(v)) upstream_api_key(v, *s);
                                       }},
                                  });
    if (!ok) return;
    if (methods > 1)
      check_.error_key(e, "set only one of basic, api_key and api_key_file");
    else if (methods == 0)
      check_.error_key(e, "expected basic, api_key or api_key_file");
  }

  void upstream_api_key(const entry& v, const std::string& key) {
    if (!is_base64(key)) {
      check_.error(v, "expected the encoded API key (base64 of id:api_key)");
      return;
    }
    out_.upstream.api_key = key;
  }

  void basic_section(const entry& e) {
    upstream_basic basic;
    bool have_user = false, valid = true;
    int passwords = 0;  // password, password_file
    auto take_password = [&](std::optional<std::string> s) {
      ++passwords;
      if (s)
        basic.password = std::move(*s);
      else
        valid = false;
    };
    bool ok = check_.visit_map(
        e, {
               {"username",
                [&](const entry& v) {
                  have_user = true;
                  auto s = check_.string(v, false, true);
                  if (s && s->find(':') != std::string::npos) {
                    check_.error(v, "must not contain ':' (it separates user and password)");
                    s.reset();
                  }
                  if (s)
                    basic.username = *s;
                  else
                    valid = false;
                }},
               {"password", [&](const entry& v) { take_password(check_.string(v, false, true)); }},
               {"password_file", [&](const entry& v) { take_password(secret_file(v)); }},
           });
    if (!ok) return;
    if (!have_user) check_.error_key(e, "username is required");
    if (passwords == 0) check_.error_key(e, "password is required (or password_file)");
    if (passwords > 1) check_.error_key(e, "set either password or password_file, not both");
    if (have_user && passwords == 1 && valid) out_.upstream.basic = std::move(basic);
  }

  void redis_section(const entry& e) {
    check_.visit_map(e, {
                            {"url", [&](const entry& v) { redis_url(v); }},
                            {"prefix",
                             [&](const entry& v) {
                               auto s = check_.string(v, true);
                               if (!s) return;
                               if (detail::has_control_chars(*s)) {
                                 check_.error(v, "must not contain control characters");
                                 return;
                               }
                               out_.redis.prefix = *s;
                             }},
                        });
  }

  void redis_url(const entry& e) {
    // The URL may carry a password: messages here never quote it.
    auto s = check_.string(e, false, true);
    if (!s) return;
    auto parsed = urls::parse_uri(*s);
    if (!parsed) {
      check_.error(e, "invalid URL: expected redis://[[user]:password@]host[:port][/db]");
      return;
    }
    const urls::url_view& u = *parsed;
    std::string scheme = lower(u.scheme());
    if (scheme == "rediss") {
      check_.error(e, "TLS to Redis is not supported yet");
      return;
    }
    if (scheme != "redis") {
      check_.error(e, "only redis:// URLs are supported");
      return;
    }
    std::string problem;
    std::string host = url_host(u, problem);
    if (host.empty()) {
      check_.error(e, (problem.empty() ? std::string("missing host") : problem) + " in URL");
      return;
    }
    auto port = url_port(u, 6379, problem);
    if (!port) {
      check_.error(e, problem + " in URL");
      return;
    }
    std::string username, password;
    if (u.has_userinfo()) {
      username = u.user();  // percent-decoded
      if (u.has_password()) {
        password = u.password();
      } else if (!username.empty()) {
        check_.error(e, "a user name needs a password: redis://user:password@host");
        return;
      }
      if (detail::has_control_chars(username) || detail::has_control_chars(password)) {
        check_.error(e, "user name and password must not contain control characters");
        return;
      }
    }
    int db = 0;
    std::string_view path = u.encoded_path();
    if (!path.empty() && path != "/") {
      std::string_view digits = path.substr(1);
      bool ok =
          path.front() == '/' && !digits.empty() && digits.size() <= 2 &&
          std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
      db = ok ? std::stoi(std::string(digits)) : -1;
      if (db < 0 || db > 15) {
        check_.error(e, "database must be a number between 0 and 15");
        return;
      }
    }
    if (u.has_query() || u.has_fragment()) {
      check_.error(e, "URL must not have a query or fragment");
      return;
    }
    auto& r = out_.redis;
    r.host = host;
    r.port = *port;
    r.username = username;
    r.password = password;
    r.db = db;
    // The stored URL is what gets logged, so the password is masked in it.
    std::string auth = password.empty() ? "" : username + ":****@";
    std::string shown_host = u.host_type() == urls::host_type::ipv6 ? "[" + host + "]" : host;
    r.url =
        "redis://" + auth + shown_host + ":" + std::to_string(r.port) + "/" + std::to_string(db);
  }

  void security_section(const entry& e) {
    check_.visit_map(e, {
                            {"roles_file",
                             [&](const entry& v) {
                               if (auto p = path_value(v, false))
                                 out_.security.roles_file = *p;
                               else
                                 roles_file_broken_ = true;
                             }},
                            {"users_file",
                             [&](const entry& v) {
                               if (auto p = path_value(v, false))
                                 out_.security.users_file = *p;
                               else
                                 users_file_broken_ = true;
                             }},
                            {"shadow_roles_file",
                             [&](const entry& v) {
                               if (auto p = path_value(v, true))
                                 out_.security.shadow_roles_file = *p;
                             }},
                            {"api_key", [&](const entry& v) { security_api_key(v); }},
                        });
  }

  void logging_section(const entry& e) {
    auto& l = out_.logging;
    check_.visit_map(
        e,
        {
            {"level",
             [&](const entry& v) {
               auto s = check_.string(v);
               if (!s) return;
               const std::string lv = lower(*s);
               for (const char* ok : {"trace", "debug", "info", "warn", "error", "critical", "off"})
                 if (lv == ok) {
                   l.level = lv;
                   return;
                 }
               check_.error(v, "expected trace, debug, info, warn, error, critical or off, got " +
                                   quote(*s));
             }},
            {"format",
             [&](const entry& v) {
               auto s = check_.string(v);
               if (!s) return;
               if (*s == "text" || *s == "json")
                 l.format = *s;
               else
                 check_.error(v, "expected text or json, got " + quote(*s));
             }},
            {"access_log",
             [&](const entry& v) {
               // true | false | a file path ("-" = stderr)
               if (v.value.IsScalar()) {
                 const std::string t = lower(v.value.Scalar());
                 if (t == "true" || t == "false") {
                   l.access_log = t == "true";
                   return;
                 }
               }
               auto s = check_.string(v);
               if (!s) return;
               l.access_log = true;
               if (*s == "-") return;
               if (auto p = path_value(v, false)) l.access_log_file = *p;
             }},
        });
  }

  std::optional<std::vector<std::string>> event_names(const entry& e) {
    auto items = check_.sequence(e);
    if (!items) return std::nullopt;
    std::vector<std::string> names;
    for (const auto& item : *items) {
      auto s = check_.string(item);
      if (!s) continue;
      bool known = false;
      for (const char* n : audit_event_names) known = known || *s == n;
      if (!known) {
        std::string all;
        for (const char* n : audit_event_names) all += (all.empty() ? "" : ", ") + std::string(n);
        check_.error(item, "unknown audit event " + quote(*s) + ", expected one of: " + all);
        continue;
      }
      names.push_back(*s);
    }
    return names;
  }

  void audit_section(const entry& e) {
    auto& a = out_.audit;
    check_.visit_map(e, {
                            {"enabled",
                             [&](const entry& v) {
                               if (auto b = check_.boolean(v)) a.enabled = *b;
                             }},
                            {"file",
                             [&](const entry& v) {
                               auto s = check_.string(v);
                               if (!s || *s == "-") return;
                               if (auto p = path_value(v, false)) a.file = *p;
                             }},
                            {"events",
                             [&](const entry& v) {
                               check_.visit_map(v, {
                                                       {"include",
                                                        [&](const entry& x) {
                                                          a.events_set = true;
                                                          if (auto n = event_names(x))
                                                            a.include = *n;
                                                        }},
                                                       {"exclude",
                                                        [&](const entry& x) {
                                                          a.events_set = true;
                                                          if (auto n = event_names(x))
                                                            a.exclude = *n;
                                                        }},
                                                   });
                             }},
                            {"queue_size",
                             [&](const entry& v) {
                               if (auto n = check_.integer(v, 1, 10'000'000)) a.queue_size = *n;
                             }},
                        });
  }

  void security_api_key(const entry& e) {
    auto& k = out_.security.api_key;
    check_.visit_map(e, {
                            {"hashing",
                             [&](const entry& v) {
                               auto s = check_.string(v);
                               if (!s) return;
                               std::string h = lower(*s);
                               if (h == "ssha256")
                                 k.hashing = key_hashing::ssha256;
                               else if (h == "pbkdf2")
                                 k.hashing = key_hashing::pbkdf2;
                               else
                                 check_.error(v, "expected ssha256 or pbkdf2, got " + quote(*s));
                             }},
                            {"cache_ttl",
                             [&](const entry& v) {
                               if (auto d = check_.duration_value(v, duration{0}, max_duration))
                                 k.cache_ttl = *d;
                             }},
                            {"cache_max_keys",
                             [&](const entry& v) {
                               if (auto n = check_.integer(v, 1, 1'000'000'000))
                                 k.cache_max_keys = *n;
                             }},
                            {"stale_if_error",
                             [&](const entry& v) {
                               if (auto d = check_.duration_value(v, duration{0}, max_duration))
                                 k.stale_if_error = *d;
                             }},
                        });
  }

  void limits_section(const entry& e) {
    auto& l = out_.limits;
    check_.visit_map(
        e, {
               {"max_header_bytes",
                [&](const entry& v) {
                  if (auto n = check_.size_value(v, kib, mib)) l.max_header_bytes = *n;
                }},
               {"max_body_bytes",
                [&](const entry& v) {
                  if (auto n = check_.size_value(v, kib, std::numeric_limits<std::uint64_t>::max()))
                    l.max_body_bytes = *n;
                }},
               {"body_lookahead",
                [&](const entry& v) {
                  if (auto n = check_.size_value(v, kib, 1024 * mib)) l.body_lookahead = *n;
                }},
               {"body_buffer_budget",
                [&](const entry& v) {
                  if (auto n = check_.size_value(v, mib, std::numeric_limits<std::uint64_t>::max()))
                    l.body_buffer_budget = *n;
                }},
               {"header_timeout",
                [&](const entry& v) {
                  if (auto d = check_.duration_value(v, duration{1}, max_duration))
                    l.header_timeout = *d;
                }},
               {"idle_timeout",
                [&](const entry& v) {
                  if (auto d = check_.duration_value(v, duration{1}, max_duration))
                    l.idle_timeout = *d;
                }},
               {"max_connections",
                [&](const entry& v) {
                  if (auto n = check_.integer(v, 1, 10'000'000)) l.max_connections = *n;
                }},
               {"max_connections_per_ip",
                [&](const entry& v) {
                  if (auto n = check_.integer(v, 1, 10'000'000)) l.max_connections_per_ip = *n;
                }},
               {"shutdown_grace",
                [&](const entry& v) {
                  if (auto d = check_.duration_value(v, duration{0}, max_duration))
                    l.shutdown_grace = *d;
                }},
           });
  }

  settings& out_;
  detail::checker check_;
  std::string dir_;
  bool nodes_seen_ = false;
  bool roles_file_broken_ = false;
  bool users_file_broken_ = false;
};

std::string absolute_dir(const std::string& dir) {
  std::error_code ec;
  fs::path p = fs::absolute(dir.empty() ? fs::path(".") : fs::path(dir), ec);
  if (ec) return dir;
  return p.lexically_normal().string();
}

}  // namespace

load_result parse_settings(const std::string& yaml_text, const std::string& path_for_messages,
                           const std::string& config_dir) {
  load_result result;
  result.value.config_file = path_for_messages;
  result.value.config_dir = absolute_dir(config_dir);
  // A trailing separator from lexically_normal ("/etc/esgate/") is harmless but untidy.
  auto& dir = result.value.config_dir;
  if (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  detail::checker check(path_for_messages, result.errors);
  auto root = detail::parse_document(yaml_text, check);
  settings_parser parser(result, path_for_messages, dir);
  parser.run(root ? *root : YAML::Node(YAML::NodeType::Null));
  if (!root) {
    // Unparsable: which roles and users files it names is unknown (empty = not checked).
    result.value.security.roles_file.clear();
    result.value.security.users_file.clear();
  }
  detail::sort_diagnostics(result.errors);
  return result;
}

load_result load_settings(const std::string& path) {
  std::string text, problem;
  auto status = detail::read_text_file(path, max_config_bytes, text, problem);
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  if (ec) absolute = path;
  absolute = absolute.lexically_normal();
  if (status != detail::read_status::ok) {
    load_result result;
    result.value.config_file = absolute.string();
    result.value.config_dir = absolute.parent_path().string();
    result.errors.push_back(diagnostic{path, 0, 0, problem});
    return result;
  }
  load_result result = parse_settings(text, path, absolute.parent_path().string());
  result.value.config_file = absolute.string();
  return result;
}

}  // namespace esgate::config
