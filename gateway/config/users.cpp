// users.yml: the file realm "default_file" (interface.md §3).
#include "esgate/config/users.hpp"

#include <algorithm>

#include "yaml_check.hpp"

namespace esgate::config {
namespace {

using detail::entry;

constexpr std::size_t max_users_bytes = 16 * 1024 * 1024;

// Elasticsearch's rule for user and role names (Validation.isValidUserOrRoleName): 1..507
// printable Basic Latin characters, no leading or trailing space. ':' is also refused for users
// because HTTP Basic splits "user:password" at the first colon.
bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 507) return false;
  if (name.front() == ' ' || name.back() == ' ') return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// bcrypt modular crypt format: $2a$/$2b$/$2y$, two-digit cost 04..31, 22 salt + 31 hash chars
// in bcrypt's base64 alphabet.
bool is_bcrypt(std::string_view h) {
  if (h.size() != 60 || h[0] != '$' || h[1] != '2' || h[3] != '$' || h[6] != '$') return false;
  if (h[2] != 'a' && h[2] != 'b' && h[2] != 'y') return false;
  if (h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9') return false;
  int cost = (h[4] - '0') * 10 + (h[5] - '0');
  if (cost < 4 || cost > 31) return false;
  return std::all_of(h.begin() + 7, h.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '/';
  });
}

class users_parser {
 public:
  users_parser(users_load_result& result, const std::string& file)
      : out_(result.value), check_(file, result.errors) {}

  void run(const YAML::Node& root) {
    entry top{root, {1, 1}, ""};
    check_.visit_map(top, {{"users", [&](const entry& e) { users_section(e); }}});
  }

 private:
  void users_section(const entry& e) {
    check_.visit_dynamic_map(e, [&](const std::string& name, const entry& u) {
      bool ok = true;
      if (!valid_name(name)) {
        check_.error_at(u.key_at,
                        "invalid user name " + detail::quote(name) +
                            ": 1 to 507 printable ASCII characters, no leading or trailing space");
        ok = false;
      } else if (name.find(':') != std::string::npos) {
        check_.error_at(u.key_at, "invalid user name " + detail::quote(name) +
                                      ": ':' is not allowed (HTTP Basic separator)");
        ok = false;
      }
      if (auto parsed = user_entry(u); parsed && ok) {
        parsed->username = name;
        out_.users.emplace(name, std::move(*parsed));
      }
    });
  }

  std::optional<user> user_entry(const entry& e) {
    user u;
    bool have_hash = false;
    std::size_t errors_before = check_.error_count();
    bool is_map = check_.visit_map(
        e, {
               {"password_hash",
                [&](const entry& v) {
                  have_hash = true;
                  // The hash is never quoted in messages: it can be attacked offline.
                  auto s = check_.string(v, false, true);
                  if (!s) return;
                  if (!is_bcrypt(*s)) {
                    check_.error(v,
                                 "expected a bcrypt hash ($2a$, $2b$ or $2y$, cost 04-31, 60 "
                                 "characters) as printed by `esgate hash-password`");
                    return;
                  }
                  u.password_hash = *s;
                }},
               {"roles",
                [&](const entry& v) {
                  auto items = check_.sequence(v);
                  if (!items) return;
                  for (const auto& item : *items) {
                    auto r = check_.string(item);
                    if (!r) continue;
                    if (!valid_name(*r)) {
                      check_.error(item, "invalid role name " + detail::quote(*r));
                      continue;
                    }
                    if (std::find(u.roles.begin(), u.roles.end(), *r) == u.roles.end())
                      u.roles.push_back(*r);
                  }
                }},
               {"full_name", [&](const entry& v) { optional_text(v, u.full_name); }},
               {"email", [&](const entry& v) { optional_text(v, u.email); }},
               {"metadata",
                [&](const entry& v) {
                  // Accepted for compatibility with Elasticsearch user documents; not used yet.
                  if (!v.value.IsNull() && !v.value.IsMap()) check_.error(v, "expected a mapping");
                }},
           });
    if (!is_map) return std::nullopt;
    if (e.value.IsNull() || !have_hash) {
      check_.error_key(e, "password_hash is required");
      return std::nullopt;
    }
    if (check_.error_count() != errors_before) return std::nullopt;
    return u;
  }

  void optional_text(const entry& v, std::string& out) {
    if (v.value.IsNull()) return;
    auto s = check_.string(v, true);
    if (!s) return;
    if (detail::has_control_chars(*s)) {
      check_.error(v, "must not contain control characters");
      return;
    }
    out = *s;
  }

  users_file& out_;
  detail::checker check_;
};

}  // namespace

users_load_result parse_users(const std::string& yaml_text, const std::string& path_for_messages) {
  users_load_result result;
  detail::checker check(path_for_messages, result.errors);
  if (auto root = detail::parse_document(yaml_text, check)) {
    users_parser parser(result, path_for_messages);
    parser.run(*root);
  }
  detail::sort_diagnostics(result.errors);
  return result;
}

users_load_result load_users(const std::string& path) {
  std::string text, problem;
  switch (detail::read_text_file(path, max_users_bytes, text, problem)) {
    case detail::read_status::missing:
      return {};  // the first start creates it
    case detail::read_status::failed: {
      users_load_result result;
      result.errors.push_back(diagnostic{path, 0, 0, problem});
      return result;
    }
    case detail::read_status::ok:
      break;
  }
  return parse_users(text, path);
}

}  // namespace esgate::config
