// `esgate keys ...` (see esgate/cli/keys.hpp).
#include "esgate/cli/keys.hpp"

#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "esgate/auth/base64.hpp"
#include "esgate/cli/table.hpp"
#include "http_client.hpp"

namespace esgate::cli {

namespace json = boost::json;

struct keys_command::state {
  CLI::App* keys = nullptr;
  CLI::App *create = nullptr, *list = nullptr, *get = nullptr, *invalidate = nullptr,
           *update = nullptr;
  // connection
  std::string url, user, password, api_key, cacert;
  bool password_stdin = false, insecure = false, as_json = false;
  // create / update
  std::string name, expiration, role_descriptors, metadata;
  // list / get / invalidate
  std::string owner_user, username;
  bool owner = false, active_only = false;
  std::vector<std::string> ids;
};

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

struct usage_error {
  std::string message;
};

// A password from the terminal with echo off; never on the command line (ps, shell history).
std::string prompt_password(const std::string& user) {
  std::cerr << "password for " << user << ": " << std::flush;
  termios old{};
  const bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::cerr << "\n";
  return line;
}

std::string read_line_stdin() {
  std::string line;
  std::getline(std::cin, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// `--role-descriptors` and `--metadata`: inline JSON (starts with `{`) or a file holding it.
json::object json_arg(const std::string& flag, const std::string& value) {
  std::string text = value;
  const auto first = value.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || value[first] != '{') {
    std::ifstream in(value);
    if (!in)
      throw usage_error{flag + ": [" + value + "] is neither a JSON object nor a readable file"};
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object())
    throw usage_error{flag + ": not a JSON object (" + (ec ? ec.message() : "wrong type") + ")"};
  return std::move(v.as_object());
}

const json::value* field(const json::object& o, std::string_view k) {
  auto it = o.find(k);
  return it == o.end() ? nullptr : &it->value();
}

// `error: <type>: <reason>` from an Elasticsearch-shaped error body (or its string form).
std::string error_text(const http_reply& r) {
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (!ec && v.is_object()) {
    const auto* e = field(v.as_object(), "error");
    if (e && e->is_object()) {
      const auto& eo = e->as_object();
      return "error: " + cell(field(eo, "type")) + ": " + cell(field(eo, "reason"));
    }
    if (e && e->is_string()) return "error: " + std::string(e->get_string());
  }
  std::string body = r.body.substr(0, 300);
  return "error: HTTP " + std::to_string(r.status) + (body.empty() ? "" : ": " + body);
}

class runner {
 public:
  explicit runner(keys_command::state& s) : s_(s) {}

  int run() {
    try {
      to_.url = !s_.url.empty() ? s_.url : env("ESGATE_URL");
      if (to_.url.empty()) to_.url = "http://127.0.0.1:9243";
      to_.cacert = s_.cacert;
      to_.insecure = s_.insecure;
      auth_ = authorization();
      if (*s_.create) return create();
      if (*s_.list) return list();
      if (*s_.get) return get();
      if (*s_.invalidate) return invalidate();
      if (*s_.update) return update();
      throw usage_error{"keys: a subcommand is required (create, list, get, invalidate, update)"};
    } catch (const usage_error& e) {
      std::cerr << "esgate keys: " << e.message << "\n";
      return 2;
    }
  }

 private:
  std::string authorization() {
    std::string key = !s_.api_key.empty() ? s_.api_key : env("ESGATE_API_KEY");
    std::string user = !s_.user.empty() ? s_.user : env("ESGATE_USER");
    if (!s_.api_key.empty() && !s_.user.empty())
      throw usage_error{"--api-key and --user exclude each other"};
    if (!user.empty() && (s_.api_key.empty() || !s_.user.empty())) {
      std::string pw = s_.password;
      if (pw.empty() && s_.password_stdin) pw = read_line_stdin();
      if (pw.empty()) pw = env("ESGATE_PASSWORD");
      if (pw.empty() && isatty(STDIN_FILENO)) pw = prompt_password(user);
      if (pw.empty())
        throw usage_error{"no password for [" + user +
                          "]: set ESGATE_PASSWORD, pass --password-stdin, or run on a terminal"};
      return "Basic " + auth::base64_encode(user + ":" + pw);
    }
    if (!key.empty()) return "ApiKey " + key;
    throw usage_error{
        "no credentials: give --user (ESGATE_USER) with a password, or --api-key (ESGATE_API_KEY)"};
  }

  // One call; nullopt after printing the error (the caller exits 1).
  std::optional<json::value> call(std::string_view method, const std::string& target,
                                  const json::object* body, bool allow_404 = false) {
    const std::string text = body ? json::serialize(*body) : std::string();
    auto r = http_send(to_, method, target, {{"Authorization", auth_}}, text);
    if (!r) {
      std::cerr << "error: " << r.error() << "\n";
      return std::nullopt;
    }
    last_ = r->body;
    if (r->status >= 300 && !(allow_404 && r->status == 404)) {
      std::cerr << error_text(*r) << "\n";
      return std::nullopt;
    }
    boost::system::error_code ec;
    auto v = json::parse(r->body, ec);
    if (ec) {
      std::cerr << "error: the gateway's answer is not JSON: " << r->body.substr(0, 200) << "\n";
      return std::nullopt;
    }
    return v;
  }

  bool raw() {
    if (!s_.as_json) return false;
    std::cout << last_;
    if (last_.empty() || last_.back() != '\n') std::cout << "\n";
    return true;
  }

  int create() {
    json::object body{{"name", s_.name}};
    if (!s_.expiration.empty()) body["expiration"] = s_.expiration;
    if (!s_.role_descriptors.empty())
      body["role_descriptors"] = json_arg("--role-descriptors", s_.role_descriptors);
    if (!s_.metadata.empty()) body["metadata"] = json_arg("--metadata", s_.metadata);
    auto v = call("POST", "/_security/api_key", &body);
    if (!v) return 1;
    if (raw()) return 0;
    const auto& o = v->as_object();
    std::vector<std::pair<std::string, std::string>> f{{"id", cell(field(o, "id"))},
                                                       {"name", cell(field(o, "name"))}};
    if (field(o, "expiration")) f.emplace_back("expiration", iso_time(field(o, "expiration")));
    f.emplace_back("encoded", cell(field(o, "encoded")));
    std::cout << render_fields(f);
    std::cerr << "The encoded key is shown only now: clients send it as "
                 "`Authorization: ApiKey <encoded>`.\n";
    return 0;
  }

  static table key_table(const json::value& v) {
    table t{{"id", "name", "owner", "realm", "created", "expires", "invalidated", "last_used"}, {}};
    const auto* keys = v.is_object() ? field(v.as_object(), "api_keys") : nullptr;
    if (keys && keys->is_array()) {
      for (const auto& k : keys->as_array()) {
        if (!k.is_object()) continue;
        const auto& o = k.as_object();
        const auto* inv = field(o, "invalidated");
        t.rows.push_back({cell(field(o, "id")), cell(field(o, "name")), cell(field(o, "username")),
                          cell(field(o, "realm")), iso_time(field(o, "creation")),
                          iso_time(field(o, "expiration")),
                          inv && inv->is_bool() && inv->get_bool() ? "yes" : "no",
                          iso_time(field(o, "last_used"))});
      }
    }
    return t;
  }

  int list() {
    std::string q;
    auto add = [&](std::string_view k, const std::string& val) {
      q += (q.empty() ? "?" : "&") + std::string(k) + "=" + url_encode(val);
    };
    if (!s_.name.empty()) add("name", s_.name);
    if (s_.owner) add("owner", "true");
    if (!s_.username.empty()) add("username", s_.username);
    if (s_.active_only) add("active_only", "true");
    auto v = call("GET", "/_security/api_key" + q, nullptr);
    if (!v) return 1;
    if (raw()) return 0;
    std::cout << render(key_table(*v));
    return 0;
  }

  int get() {
    auto v = call("GET", "/_security/api_key?id=" + url_encode(s_.ids.front()), nullptr, true);
    if (!v) return 1;
    const auto* keys = v->is_object() ? field(v->as_object(), "api_keys") : nullptr;
    const bool none = !keys || !keys->is_array() || keys->as_array().empty();
    if (s_.as_json) {
      raw();
      return none ? 1 : 0;
    }
    if (none) {
      std::cerr << "error: resource_not_found_exception: no API key with id [" << s_.ids.front()
                << "]\n";
      return 1;
    }
    const auto& o = keys->as_array().front().as_object();
    std::vector<std::pair<std::string, std::string>> f;
    for (const auto& [k, val] : o) {
      const std::string key(k);
      const bool time =
          key == "creation" || key == "expiration" || key == "invalidation" || key == "last_used";
      f.emplace_back(key, time ? iso_time(&val) + " (" + cell(&val) + ")" : cell(&val));
    }
    std::cout << render_fields(f);
    return 0;
  }

  int invalidate() {
    json::object body;
    if (!s_.ids.empty()) {
      json::array ids;
      for (const auto& id : s_.ids) ids.emplace_back(id);
      body["ids"] = std::move(ids);
    }
    if (!s_.name.empty()) body["name"] = s_.name;
    if (s_.owner) body["owner"] = true;
    if (!s_.username.empty()) body["username"] = s_.username;
    if (body.empty()) throw usage_error{"invalidate: give --id, --name, --owner or --username"};
    auto v = call("DELETE", "/_security/api_key", &body);
    if (!v) return 1;
    if (raw()) return 0;
    const auto& o = v->as_object();
    table t{{"id", "result"}, {}};
    auto rows = [&](std::string_view k, const char* what) {
      const auto* a = field(o, k);
      if (a && a->is_array())
        for (const auto& id : a->as_array()) t.rows.push_back({cell(&id), what});
    };
    rows("invalidated_api_keys", "invalidated");
    rows("previously_invalidated_api_keys", "already invalidated");
    std::cout << render(t);
    const auto* errors = field(o, "error_count");
    if (errors && errors->is_number() && errors->to_number<std::int64_t>() > 0) {
      std::cerr << "error: " << cell(errors)
                << " key(s) could not be invalidated: " << cell(field(o, "error_details")) << "\n";
      return 1;
    }
    return 0;
  }

  int update() {
    json::object body;
    if (!s_.role_descriptors.empty())
      body["role_descriptors"] = json_arg("--role-descriptors", s_.role_descriptors);
    if (!s_.metadata.empty()) body["metadata"] = json_arg("--metadata", s_.metadata);
    if (!s_.expiration.empty()) body["expiration"] = s_.expiration;
    auto v = call("PUT", "/_security/api_key/" + url_encode(s_.ids.front()), &body);
    if (!v) return 1;
    if (raw()) return 0;
    const auto* u = v->is_object() ? field(v->as_object(), "updated") : nullptr;
    const bool updated = u && u->is_bool() && u->get_bool();
    std::cout << s_.ids.front() << ": " << (updated ? "updated" : "unchanged (noop)") << "\n";
    return 0;
  }

  keys_command::state& s_;
  http_endpoint to_;
  std::string auth_;
  std::string last_;
};

void connection_options(CLI::App* c, keys_command::state& s) {
  c->add_option("--url", s.url, "gateway URL (env ESGATE_URL, default http://127.0.0.1:9243)");
  c->add_option("--user", s.user, "admin user for HTTP Basic (env ESGATE_USER)");
  c->add_option("--password", s.password,
                "password (prefer ESGATE_PASSWORD, --password-stdin or the prompt)");
  c->add_flag("--password-stdin", s.password_stdin, "read the password from stdin (one line)");
  c->add_option("--api-key", s.api_key, "encoded API key instead of a user (env ESGATE_API_KEY)");
  c->add_option("--cacert", s.cacert, "PEM CA bundle to verify an https gateway");
  c->add_flag("--insecure", s.insecure, "do not verify an https gateway's certificate");
  c->add_flag("--json", s.as_json, "print the gateway's JSON answer as is");
}

}  // namespace

keys_command::keys_command(CLI::App& parent) : s_(std::make_unique<state>()) {
  auto& s = *s_;
  s.keys = parent.add_subcommand("keys", "manage API keys on a running gateway");
  s.keys->require_subcommand(1);
  connection_options(s.keys, s);
  s.keys->fallthrough();
  s.create = s.keys->add_subcommand("create", "create a key; prints its encoded form once");
  s.create->add_option("--name", s.name, "key name")->required();
  s.create->add_option("--expiration", s.expiration, "lifetime, e.g. 30d (default: never)");
  s.create->add_option("--role-descriptors", s.role_descriptors, "JSON object or FILE");
  s.create->add_option("--metadata", s.metadata, "JSON object or FILE");
  s.list = s.keys->add_subcommand("list", "list keys");
  s.list->add_option("--name", s.name, "key name (trailing * = prefix)");
  s.list->add_flag("--owner", s.owner, "only the caller's own keys");
  s.list->add_option("--username", s.username, "keys of this owner");
  s.list->add_flag("--active-only", s.active_only, "skip expired and invalidated keys");
  s.get = s.keys->add_subcommand("get", "show one key");
  s.get->add_option("--id", s.ids, "key id")->required()->expected(1);
  s.invalidate = s.keys->add_subcommand("invalidate", "invalidate keys");
  s.invalidate->add_option("--id", s.ids, "key id (repeatable)");
  s.invalidate->add_option("--name", s.name, "keys with this name");
  s.invalidate->add_flag("--owner", s.owner, "the caller's own keys");
  s.invalidate->add_option("--username", s.username, "keys of this owner");
  s.update = s.keys->add_subcommand("update", "change a key's role descriptors, metadata, expiry");
  s.update->add_option("--id", s.ids, "key id")->required()->expected(1);
  s.update->add_option("--role-descriptors", s.role_descriptors, "JSON object or FILE");
  s.update->add_option("--metadata", s.metadata, "JSON object or FILE");
  s.update->add_option("--expiration", s.expiration, "new lifetime from now, e.g. 7d");
  for (CLI::App* c : {s.create, s.list, s.get, s.invalidate, s.update}) c->fallthrough();
}

keys_command::~keys_command() = default;

bool keys_command::selected() const { return s_->keys->parsed(); }

int keys_command::run() { return runner(*s_).run(); }

}  // namespace esgate::cli
