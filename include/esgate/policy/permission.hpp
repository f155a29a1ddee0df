#pragma once
// Compiled permissions (es-security-reference.md §4.2, §6, §7.1; interface.md §5, §6).
//
// role_permission: one immutable layer, the union of some role descriptors, compiled once (index
// name matchers, privilege bitmasks, raw action patterns) so that request-time checks do no
// allocation and do not re-parse anything.
//
// permission: the intersection of one or more layers. For an API key: its own role_descriptors
// (omitted when empty = no restriction) ∩ its owner's current roles ∩ the role descriptors of the
// key that created it, if any. An action is allowed only when every layer allows it; a permission
// without layers allows nothing.
//
// Invalid privileges or index patterns in a descriptor are ignored by compile() (they grant
// nothing: fail closed); validate descriptors with the parsers in role_descriptor.hpp first.
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "esgate/policy/role_descriptor.hpp"

namespace esgate::policy {

class role_permission {
 public:
  ~role_permission();
  role_permission(const role_permission&) = delete;
  role_permission& operator=(const role_permission&) = delete;

  // Unconditional cluster grant. manage_own_api_key alone does NOT make api_key actions pass here.
  bool allows_cluster(std::string_view action) const;
  // An api_key action on the caller's own keys: allows_cluster() or manage_own_api_key.
  bool allows_own_api_key_action(std::string_view action) const;
  bool allows_index(std::string_view action, std::string_view index) const;
  // Name-only check (RBAC shouldAuthorizeIndexActionNameOnly): granted on some index pattern.
  bool allows_index_action_somewhere(std::string_view action) const;
  bool is_superuser() const;
  // has_index_privilege("read", "*", true), computed once when the roles are compiled: searches
  // ask it on every request (may the query body read other indices?), and the answer costs ~6,000
  // instructions to work out (bench/instructions.sh).
  bool reads_everything() const;
  // Does the role hold every action of cluster privilege `name` (named or raw pattern)? `all`
  // covers everything, `manage` covers `monitor` but not `manage_security`.
  bool has_cluster_privilege(std::string_view name) const;
  // _has_privileges helper: is index privilege `privilege` (named or raw) granted on every name
  // `index_or_pattern` can match (restricted names only when allow_restricted)? Conservative: a
  // wildcard/regex is granted only when one set of role entries provably covers all its names.
  bool has_index_privilege(std::string_view privilege, std::string_view index_or_pattern,
                           bool allow_restricted = false) const;

  const std::vector<role_descriptor>& descriptors() const;

  struct data;  // implementation detail (permission.cpp)
  explicit role_permission(std::unique_ptr<data> d);
  const data& internals() const { return *d_; }

 private:
  std::unique_ptr<data> d_;
};

// The union of `roles` as one layer.
std::shared_ptr<const role_permission> compile(const std::vector<role_descriptor>& roles);
// The built-in superuser (shared instance).
std::shared_ptr<const role_permission> superuser_permission();
// Resolves a user's role names against roles.yml (and the built-in `superuser`). Names not found
// are appended to *missing (when given) and grant nothing.
std::shared_ptr<const role_permission> compile_roles(
    const std::vector<std::string>& role_names,
    const std::map<std::string, role_descriptor, std::less<>>& roles,
    std::vector<std::string>* missing = nullptr);

class permission {
 public:
  permission() = default;  // no layer: allows nothing
  explicit permission(std::shared_ptr<const role_permission> layer);
  explicit permission(std::vector<std::shared_ptr<const role_permission>> layers);

  // This permission further limited by `layer`.
  permission limited_by(std::shared_ptr<const role_permission> layer) const;

  bool allows_cluster(std::string_view action) const;
  bool allows_own_api_key_action(std::string_view action) const;
  bool allows_index(std::string_view action, std::string_view index) const;
  bool allows_index_action_somewhere(std::string_view action) const;
  bool is_superuser() const;
  bool reads_everything() const;  // every layer's
  bool has_cluster_privilege(std::string_view name) const;
  bool has_index_privilege(std::string_view privilege, std::string_view index_or_pattern,
                           bool allow_restricted = false) const;

  const std::vector<std::shared_ptr<const role_permission>>& layers() const { return layers_; }

 private:
  std::vector<std::shared_ptr<const role_permission>> layers_;
};

// An API key's permission: its role descriptors (none = no restriction, the layer is omitted)
// limited by each of `limited_by` (owner's current roles, creating key's descriptors...).
permission api_key_permission(const std::vector<role_descriptor>& key_descriptors,
                              std::vector<std::shared_ptr<const role_permission>> limited_by);

// Would a key with `requested` role descriptors stay within `holder`? Used to refuse creating a
// key wider than its creator (CVE-2020-7009). Conservative: false when it cannot prove it.
// manage_own_api_key is ownership-scoped and never counts as covering manage_api_key.
bool is_subset_of(const std::vector<role_descriptor>& requested, const permission& holder);

}  // namespace esgate::policy
