// roles.yml parsing with exact line:column diagnostics. Every problem is reported, not just the
// first, so `esgate check-config` can list them all (interface.md §1).
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "esgate/policy/role_descriptor.hpp"
#include "role_checks.hpp"

namespace esgate::policy {

namespace {

constexpr int max_metadata_depth = 64;

class yaml_roles_parser {
 public:
  explicit yaml_roles_parser(const std::string& path) : path_(path) {}

  roles_load_result run(std::string_view text) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
      error(e.mark, e.msg);
      return std::move(result_);
    }
    if (!root || root.IsNull()) return std::move(result_);
    if (!root.IsMap()) {
      error(root.Mark(), "the roles file must be a map of role names to role definitions");
      return std::move(result_);
    }
    std::set<std::string> seen;
    for (auto it = root.begin(); it != root.end(); ++it) {
      const YAML::Node key = it->first;
      if (!key.IsScalar()) {
        error(key.Mark(), "a role name must be a string");
        continue;
      }
      const std::string& name = key.Scalar();
      if (!seen.insert(name).second) {
        error(key.Mark(), "duplicate role [" + name + "]");
        continue;
      }
      if (name == superuser_role_name) {
        error(key.Mark(), "role [superuser] is built in and may not be defined in the roles file");
        continue;
      }
      const std::size_t before = result_.errors.size();
      if (auto e = detail::check_role_name(name)) error(key.Mark(), *e);
      role_descriptor r = parse_role(name, key, it->second);
      if (result_.errors.size() == before) result_.roles.emplace(name, std::move(r));
    }
    return std::move(result_);
  }

 private:
  void error(const YAML::Mark& m, std::string message) {
    config::diagnostic d;
    d.file = path_;
    if (m.line >= 0) {  // yaml-cpp marks are 0-based; diagnostics are 1-based
      d.line = m.line + 1;
      d.column = m.column + 1;
    }
    d.message = std::move(message);
    result_.errors.push_back(std::move(d));
  }

  // A value's mark, or its key's when the value is absent (`names:` has no position of its own).
  static YAML::Mark mark_of(const YAML::Node& value, const YAML::Node& key) {
    const YAML::Mark m = value.Mark();
    return m.line >= 0 && !value.IsNull() ? m : key.Mark();
  }

  static bool is_empty(const YAML::Node& n) {
    return !n || n.IsNull() || ((n.IsSequence() || n.IsMap()) && n.size() == 0);
  }

  static std::string kind_name(const YAML::Node& n) {
    if (n.IsNull()) return "null";
    if (n.IsScalar()) return "a string";
    if (n.IsSequence()) return "a list";
    if (n.IsMap()) return "a map";
    return "an undefined value";
  }

  // A list of strings; nullopt (after reporting) when `value` is something else. Null = empty.
  std::optional<std::vector<std::pair<std::string, YAML::Mark>>> string_list(
      const YAML::Node& key, const YAML::Node& value, const std::string& what,
      bool scalar_allowed) {
    std::vector<std::pair<std::string, YAML::Mark>> out;
    if (value.IsNull()) return out;
    if (value.IsScalar() && scalar_allowed) {
      out.emplace_back(value.Scalar(), value.Mark());
      return out;
    }
    if (!value.IsSequence()) {
      error(mark_of(value, key), what + " must be a list of strings, found " + kind_name(value));
      return std::nullopt;
    }
    bool ok = true;
    for (const YAML::Node& item : value) {
      if (!item.IsScalar()) {
        error(item.Mark(),
              what + " must be a list of strings, found " + kind_name(item) + " in the list");
        ok = false;
        continue;
      }
      out.emplace_back(item.Scalar(), item.Mark());
    }
    if (!ok) return std::nullopt;
    return out;
  }

  bool check_duplicate(std::set<std::string>& seen, const YAML::Node& key,
                       const std::string& where) {
    if (seen.insert(key.Scalar()).second) return true;
    error(key.Mark(), "duplicate field [" + key.Scalar() + "] in " + where);
    return false;
  }

  role_descriptor parse_role(const std::string& name, const YAML::Node& role_key,
                             const YAML::Node& node) {
    role_descriptor r;
    r.name = name;
    if (!node.IsMap()) {
      error(mark_of(node, role_key),
            "failed to parse role [" + name + "]. expected a map but found " + kind_name(node));
      return r;
    }
    std::set<std::string> seen;
    const std::string where = "role [" + name + "]";
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      if (!key.IsScalar()) {
        error(key.Mark(), "failed to parse role [" + name + "]. field names must be strings");
        continue;
      }
      if (!check_duplicate(seen, key, where)) continue;
      const std::string& field = key.Scalar();
      if (field == "cluster") {
        if (auto list = string_list(key, value, "[cluster] of role [" + name + "]", false))
          for (auto& [priv, mark] : *list) {
            if (auto e = detail::check_cluster_privilege(priv))
              error(mark, *e);
            else
              r.cluster.push_back(priv);
          }
      } else if (field == "indices" || field == "index") {
        if (value.IsNull()) continue;
        if (!value.IsSequence()) {
          error(mark_of(value, key), "failed to parse indices privileges for role [" + name +
                                         "]. expected a list but found " + kind_name(value));
          continue;
        }
        for (const YAML::Node& entry : value) parse_index_entry(r, entry);
      } else if (field == "applications" || field == "application" || field == "run_as" ||
                 field == "global" || field == "remote_indices" || field == "remote_cluster" ||
                 field == "restriction") {
        if (!is_empty(value)) error(key.Mark(), detail::not_supported_message(field, name));
      } else if (field == "metadata") {
        if (value.IsNull()) continue;
        if (!value.IsMap()) {
          error(mark_of(value, key),
                "[metadata] of role [" + name + "] must be a map, found " + kind_name(value));
          continue;
        }
        for (auto m = value.begin(); m != value.end(); ++m)
          if (m->first.IsScalar() && m->first.Scalar().starts_with('_'))
            error(m->first.Mark(), std::string(detail::reserved_metadata_message));
        auto j = to_json_value(value, 0);
        if (j.is_object()) r.metadata = std::move(j.as_object());
      } else if (field == "description") {
        if (value.IsNull()) continue;
        if (!value.IsScalar())
          error(mark_of(value, key), "[description] of role [" + name + "] must be a string");
        else
          r.description = value.Scalar();
      } else if (field == "transient_metadata") {
        if (!value.IsNull() && !value.IsMap())
          error(mark_of(value, key), "[transient_metadata] of role [" + name + "] must be a map");
      } else {
        error(key.Mark(), "failed to parse role [" + name + "]. unexpected field [" + field + "]");
      }
    }
    return r;
  }

  void parse_index_entry(role_descriptor& r, const YAML::Node& node) {
    const std::string prefix = "failed to parse indices privileges for role [" + r.name + "]. ";
    if (!node.IsMap()) {
      error(node.Mark(), prefix + "expected a map but found " + kind_name(node));
      return;
    }
    index_privileges_entry e;
    bool have_names = false, have_privileges = false;
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      if (!key.IsScalar()) {
        error(key.Mark(), prefix + "field names must be strings");
        continue;
      }
      if (!check_duplicate(seen, key, "an indices entry of role [" + r.name + "]")) continue;
      const std::string& field = key.Scalar();
      if (field == "names") {
        have_names = true;
        if (value.IsNull()) {
          error(key.Mark(), prefix +
                                "expected field [names] value to be a string or a list of "
                                "strings, but found null instead");
          continue;
        }
        auto list = string_list(key, value, prefix + "[names]", true);
        if (!list) continue;
        if (list->empty()) error(mark_of(value, key), std::string(detail::empty_names_message));
        for (auto& [n, mark] : *list) {
          if (auto err = detail::check_index_name(n))
            error(mark, *err);
          else
            e.names.push_back(n);
        }
      } else if (field == "privileges") {
        have_privileges = true;
        auto list = string_list(key, value, prefix + "[privileges]", false);
        if (!list) continue;
        if (list->empty())
          error(mark_of(value, key), std::string(detail::empty_privileges_message));
        for (auto& [p, mark] : *list) {
          if (auto err = detail::check_index_privilege(p))
            error(mark, *err);
          else
            e.privileges.push_back(p);
        }
      } else if (field == "allow_restricted_indices") {
        if (value.IsNull()) continue;
        const std::string s = value.IsScalar() ? value.Scalar() : "";
        const bool plain = value.IsScalar() && value.Tag() == "?";
        if (plain && (s == "true" || s == "True" || s == "TRUE"))
          e.allow_restricted_indices = true;
        else if (plain && (s == "false" || s == "False" || s == "FALSE"))
          e.allow_restricted_indices = false;
        else
          error(mark_of(value, key),
                prefix + "expected field [allow_restricted_indices] value to be a boolean");
      } else if (field == "field_security" || field == "query") {
        if (!is_empty(value))
          error(key.Mark(),
                std::string(field == "query" ? "document level security ([query])"
                                             : "field level security ([field_security])") +
                    " in role [" + r.name + "] is not supported yet");
      } else {
        error(key.Mark(), prefix + "unexpected field [" + field + "]");
      }
    }
    if (!have_names) error(node.Mark(), prefix + "missing required [names] field");
    if (!have_privileges) error(node.Mark(), prefix + "missing required [privileges] field");
    r.indices.push_back(std::move(e));
  }

  boost::json::value to_json_value(const YAML::Node& n, int depth) {
    if (depth > max_metadata_depth) {
      error(n.Mark(), "metadata is nested too deeply");
      return nullptr;
    }
    if (!n || n.IsNull()) return nullptr;
    if (n.IsSequence()) {
      boost::json::array a;
      for (const YAML::Node& item : n) a.push_back(to_json_value(item, depth + 1));
      return a;
    }
    if (n.IsMap()) {
      boost::json::object o;
      for (auto it = n.begin(); it != n.end(); ++it)
        o[it->first.IsScalar() ? it->first.Scalar() : std::string("?")] =
            to_json_value(it->second, depth + 1);
      return o;
    }
    const std::string& s = n.Scalar();
    if (n.Tag() != "?") return boost::json::string(s);  // quoted or explicitly tagged
    if (s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    static const std::regex int_re("[-+]?[0-9]+");
    static const std::regex float_re("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
    if (s.size() < 24 && std::regex_match(s, int_re)) {
      errno = 0;
      const long long v = std::strtoll(s.c_str(), nullptr, 10);
      if (errno == 0) return v;
    }
    if (s.size() < 64 && std::regex_match(s, float_re)) {
      errno = 0;
      const double d = std::strtod(s.c_str(), nullptr);
      if (errno == 0) return d;
    }
    return boost::json::string(s);
  }

  std::string path_;
  roles_load_result result_;
};

}  // namespace

roles_load_result parse_roles_yaml(std::string_view text, const std::string& path) {
  return yaml_roles_parser(path).run(text);
}

roles_load_result load_roles_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    roles_load_result r;
    r.errors.push_back({path, 0, 0, std::string("cannot read roles file: ") + std::strerror(err)});
    return r;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_roles_yaml(ss.str(), path);
}

}  // namespace esgate::policy
