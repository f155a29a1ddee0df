#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "esgate/policy/permission.hpp"

using namespace esgate::policy;

namespace {

// Roles from inline YAML through the real loader (house style: Envoy-like fixtures).
std::vector<role_descriptor> roles(const char* yaml) {
  auto r = parse_roles_yaml(yaml, "test.yml");
  std::string all;
  for (const auto& d : r.errors)
    all += std::to_string(d.line) + ":" + std::to_string(d.column) + " " + d.message + "\n";
  INFO(all);
  REQUIRE(r.ok());
  std::vector<role_descriptor> out;
  for (auto& [name, d] : r.roles) out.push_back(d);
  return out;
}

std::shared_ptr<const role_permission> layer(const char* yaml) { return compile(roles(yaml)); }

struct index_case {
  const char* action;
  const char* index;
  bool expected;
};

void check_index(const permission& p, std::initializer_list<index_case> cases) {
  for (const auto& c : cases) {
    INFO(c.action << " on " << c.index);
    CHECK(p.allows_index(c.action, c.index) == c.expected);
  }
}

struct cluster_case {
  const char* action;
  bool expected;
};

void check_cluster(const permission& p, std::initializer_list<cluster_case> cases) {
  for (const auto& c : cases) {
    INFO(c.action);
    CHECK(p.allows_cluster(c.action) == c.expected);
  }
}

}  // namespace

TEST_CASE("index actions per privilege (ref §5.1 consequences)") {
  const permission p(layer(R"(
r:
  indices:
    - names: [readers-*]
      privileges: [read]
    - names: [writers-*]
      privileges: [write]
    - names: [docs-*]
      privileges: [create_doc]
    - names: [raw-*]
      privileges: ["indices:data/write/index:op_type/create", "indices:admin/aliases*"]
    - names: [managed]
      privileges: [manage]
)"));
  check_index(p, {
                     {"indices:data/read/search", "readers-1", true},
                     {"indices:data/read/get", "readers-1", true},
                     {"indices:data/read/esql", "readers-1", true},
                     {"indices:admin/resolve/index", "readers-1", true},
                     {"indices:data/write/index", "readers-1", false},
                     {"indices:data/read/search", "writers-1", false},
                     {"indices:data/write/index:op_type/index", "writers-1", true},
                     {"indices:data/write/update", "writers-1", true},
                     {"indices:data/write/delete", "writers-1", true},
                     {"indices:admin/mapping/auto_put", "writers-1", true},
                     {"indices:admin/mapping/put", "writers-1", false},  // write ≠ PUT _mapping
                     {"indices:admin/auto_create", "writers-1", false},  // nor auto-create
                     {"indices:data/write/index:op_type/create", "docs-1", true},
                     {"indices:data/write/index:op_type/index", "docs-1", false},
                     {"indices:data/write/bulk", "docs-1", true},
                     {"indices:data/write/update", "docs-1", false},
                     {"indices:data/write/index:op_type/create", "raw-1", true},
                     {"indices:data/write/index:op_type/index", "raw-1", false},
                     {"indices:admin/aliases/get", "raw-1", true},
                     {"indices:admin/mapping/put", "managed", true},
                     {"indices:admin/delete", "managed", true},
                     {"indices:data/read/search", "managed", false},
                     {"indices:data/read/field_caps", "managed", true},
                     {"indices:data/read/search", "nothing", false},
                 });
  CHECK(p.allows_index_action_somewhere("indices:data/write/bulk"));
  CHECK(p.allows_index_action_somewhere("indices:data/read/msearch"));
  CHECK_FALSE(p.allows_index_action_somewhere("indices:internal/admin/ccr/restore/session/put"));
  CHECK_FALSE(p.allows_cluster("cluster:monitor/health"));
  CHECK_FALSE(p.is_superuser());
}

TEST_CASE("cluster actions per privilege (ref §5.2)") {
  const permission manage(layer("r:\n  cluster: [manage]\n"));
  check_cluster(manage, {
                            {"cluster:monitor/health", true},
                            {"cluster:admin/settings/update", true},
                            {"indices:admin/template/put", true},
                            {"cluster:admin/xpack/security/api_key/create", false},
                            {"cluster:admin/xpack/security/user/authenticate", false},
                        });
  const permission monitor(layer("r:\n  cluster: [monitor]\n"));
  check_cluster(monitor, {
                             {"cluster:monitor/health", true},
                             {"cluster:monitor/main", true},
                             {"indices:admin/template/get", true},
                             {"indices:admin/template/put", false},
                             {"cluster:admin/settings/update", false},
                         });
  const permission raw(layer("r:\n  cluster: [\"cluster:monitor/nodes/*\", manage_api_key]\n"));
  check_cluster(raw, {
                         {"cluster:monitor/nodes/info", true},
                         {"cluster:monitor/health", false},
                         {"cluster:admin/xpack/security/api_key/invalidate", true},
                         {"cluster:admin/xpack/security/user/get", false},
                     });
  const permission all(layer("r:\n  cluster: [all]\n"));
  check_cluster(all, {{"cluster:admin/xpack/security/api_key/create", true},
                      {"indices:admin/index_template/put", true}});
}

TEST_CASE("manage_own_api_key is ownership-scoped") {
  const permission own(layer("r:\n  cluster: [manage_own_api_key]\n"));
  CHECK_FALSE(own.allows_cluster("cluster:admin/xpack/security/api_key/create"));
  CHECK(own.allows_own_api_key_action("cluster:admin/xpack/security/api_key/create"));
  CHECK(own.allows_own_api_key_action("cluster:admin/xpack/security/api_key/invalidate"));
  CHECK_FALSE(own.allows_own_api_key_action("cluster:admin/xpack/security/user/get"));
  const permission full(layer("r:\n  cluster: [manage_api_key]\n"));
  CHECK(full.allows_cluster("cluster:admin/xpack/security/api_key/get"));
  CHECK(full.allows_own_api_key_action("cluster:admin/xpack/security/api_key/get"));
}

TEST_CASE("has_cluster_privilege") {
  struct c {
    const char* role_yaml;
    const char* privilege;
    bool expected;
  };
  const c cases[] = {
      {"r:\n  cluster: [all]\n", "manage_security", true},
      {"r:\n  cluster: [all]\n", "manage_api_key", true},
      {"r:\n  cluster: [manage]\n", "monitor", true},
      {"r:\n  cluster: [manage]\n", "manage_ml", true},
      {"r:\n  cluster: [manage]\n", "manage_security", false},
      {"r:\n  cluster: [manage]\n", "manage_api_key", false},
      {"r:\n  cluster: [manage]\n", "all", false},
      {"r:\n  cluster: [manage, manage_security]\n", "all", true},  // the union covers it
      {"r:\n  cluster: [manage_security]\n", "manage_api_key", true},
      {"r:\n  cluster: [manage_security]\n", "manage_own_api_key", true},
      {"r:\n  cluster: [manage_api_key]\n", "manage_own_api_key", true},
      {"r:\n  cluster: [manage_own_api_key]\n", "manage_api_key", false},
      {"r:\n  cluster: [manage_own_api_key]\n", "manage_own_api_key", true},
      {"r:\n  cluster: [manage_api_key]\n", "grant_api_key", true},
      {"r:\n  cluster: [monitor]\n", "cluster:monitor/health", true},
      {"r:\n  cluster: [monitor]\n", "cluster:monitor/*", true},
      {"r:\n  cluster: [monitor]\n", "cluster:*", false},
      {"r:\n  cluster: [\"cluster:admin/xpack/security/api_key/*\"]\n", "manage_api_key", true},
      {"r:\n  cluster: [monitor]\n", "none", true},
      {"r:\n  cluster: [monitor]\n", "not_a_privilege", false},
      {"r:\n  cluster: []\n", "monitor", false},
  };
  for (const auto& x : cases) {
    INFO(x.role_yaml << " has " << x.privilege);
    CHECK(permission(layer(x.role_yaml)).has_cluster_privilege(x.privilege) == x.expected);
  }
}

TEST_CASE("superuser") {
  const permission su(superuser_permission());
  CHECK(su.is_superuser());
  CHECK(su.allows_cluster("cluster:admin/xpack/security/api_key/create"));
  CHECK(su.allows_index("indices:data/write/index", ".security"));
  CHECK(su.has_cluster_privilege("manage_security"));
  CHECK(su.has_index_privilege("all", "*", true));
  std::map<std::string, role_descriptor, std::less<>> file_roles;
  std::vector<std::string> missing;
  const permission via_name(compile_roles({"superuser", "ghost"}, file_roles, &missing));
  CHECK(via_name.is_superuser());
  CHECK(missing == std::vector<std::string>{"ghost"});
  const permission almost(
      layer("r:\n  cluster: [all]\n  indices:\n    - names: ['*']\n"
            "      privileges: [all]\n"));
  CHECK_FALSE(almost.is_superuser());  // no restricted indices
  CHECK_FALSE(almost.allows_index("indices:data/read/search", ".security"));
}

TEST_CASE("restricted indices in permissions") {
  const permission p(layer(R"(
r:
  indices:
    - names: ["*"]
      privileges: [read]
    - names: [".kibana"]
      privileges: [write]
    - names: [".ops-*"]
      privileges: [monitor]
      allow_restricted_indices: true
)"));
  check_index(p, {
                     {"indices:data/read/search", "logs", true},
                     {"indices:data/read/search", ".security", false},
                     {"indices:data/write/index", ".kibana", true},
                     {"indices:data/read/search", ".kibana", false},
                     {"indices:monitor/stats", ".ops-1", true},
                     {"indices:monitor/stats", ".security", false},
                 });
}

TEST_CASE("layers intersect (API key ∩ owner ∩ creating key)") {
  auto owner = layer(R"(
owner:
  cluster: [monitor, manage_own_api_key]
  indices:
    - names: ["logs-*", "books"]
      privileges: [read, write]
)");
  auto key = compile(roles(R"(
k:
  cluster: [all]
  indices:
    - names: ["logs-a*", "secret"]
      privileges: [read]
)"));
  const permission p = api_key_permission(key->descriptors(), {owner});
  REQUIRE(p.layers().size() == 2);
  check_index(p, {
                     {"indices:data/read/search", "logs-a1", true},
                     {"indices:data/read/search", "logs-b1", false},  // key does not grant
                     {"indices:data/write/index", "logs-a1", false},  // key grants read only
                     {"indices:data/read/search", "secret", false},   // owner does not grant
                     {"indices:data/read/search", "books", false},
                 });
  check_cluster(p, {{"cluster:monitor/health", true},            // both
                    {"cluster:admin/settings/update", false}});  // owner lacks it
  CHECK(p.allows_own_api_key_action("cluster:admin/xpack/security/api_key/create"));
  CHECK_FALSE(p.allows_cluster("cluster:admin/xpack/security/api_key/create"));

  // Empty key descriptors: no restriction beyond the owner.
  const permission unrestricted = api_key_permission({}, {owner});
  REQUIRE(unrestricted.layers().size() == 1);
  CHECK(unrestricted.allows_index("indices:data/write/index", "books"));

  // A key created by a key is further limited by the creating key's descriptors.
  const permission child = api_key_permission({}, {owner, key}).limited_by(layer(R"(
c:
  indices:
    - names: ["logs-*"]
      privileges: [all]
)"));
  CHECK(child.allows_index("indices:data/read/search", "logs-a2"));
  CHECK_FALSE(child.allows_index("indices:data/read/search", "secret"));
  CHECK_FALSE(child.allows_cluster("cluster:monitor/health"));

  // A descriptor with no privileges (ES's `{"noaccess": {}}`) denies everything.
  role_descriptor none;
  none.name = "noaccess";
  const permission derived = api_key_permission({none}, {owner});
  CHECK_FALSE(derived.allows_index("indices:data/read/search", "books"));
  CHECK_FALSE(derived.allows_cluster("cluster:monitor/health"));

  const permission nothing;
  CHECK_FALSE(nothing.allows_cluster("cluster:monitor/health"));
  CHECK_FALSE(nothing.is_superuser());
  CHECK_FALSE(nothing.allows_index_action_somewhere("indices:data/read/search"));
}

TEST_CASE("has_index_privilege for _has_privileges") {
  const permission p(layer(R"(
r:
  indices:
    - names: ["b*", "logs-2024"]
      privileges: [read]
    - names: ["*"]
      privileges: [monitor]
    - names: ["w-*"]
      privileges: [write, view_index_metadata]
    - names: ["/re[0-9]/"]
      privileges: [read]
    - names: [".hidden-*"]
      privileges: [read]
      allow_restricted_indices: true
)"));
  struct c {
    const char* privilege;
    const char* index;
    bool allow_restricted;
    bool expected;
  };
  const c cases[] = {
      {"read", "books", false, true},
      {"read", "books*", false, true},  // books* ⊆ b*
      {"read", "b*", false, true},
      {"read", "*", false, false},  // not every name
      {"read", "logs-2024", false, true},
      {"read", "logs-*", false, false},
      {"read", "bo?ks", false, true},
      {"indices:data/read/search", "books", false, true},
      {"indices:data/read/*", "books", false, true},
      {"indices:data/*", "books", false, false},
      {"write", "books", false, false},
      {"monitor", "*", false, true},
      {"monitor", "*", true, false},  // restricted names are not covered by `*`
      {"monitor", "anything", false, true},
      {"monitor", ".security", false, false},
      {"create_doc", "w-1", false, true},  // implied by write
      {"index", "w-*", false, true},
      {"delete", "w-x*", false, true},
      {"manage", "w-1", false, false},
      {"view_index_metadata", "w-1", false, true},
      {"read", "re5", false, true},         // literal against a regex entry
      {"read", "/re[0-9]/", false, true},   // identical regex
      {"read", "/re[0-5]/", false, false},  // unsure → false
      {"read", ".hidden-*", true, true},
      {"read", ".hidden-*", false, true},
      {"read", "/b.*/", false, false},  // regexes are widened to `*` for the check
      {"none", "anything", false, true},
      {"read_failure_store", "books", false, false},
      {"reed", "books", false, false},
      {"read", "/bad", false, false},
  };
  for (const auto& x : cases) {
    INFO(x.privilege << " on " << x.index << " restricted=" << x.allow_restricted);
    CHECK(p.has_index_privilege(x.privilege, x.index, x.allow_restricted) == x.expected);
  }
  const permission all(layer("r:\n  indices:\n    - names: ['*']\n      privileges: [all]\n"));
  CHECK(all.has_index_privilege("read_failure_store", "x"));
  CHECK(all.has_index_privilege("manage", "*"));
  CHECK_FALSE(all.has_index_privilege("manage", "*", true));
}

TEST_CASE("is_subset_of refuses keys wider than their creator (CVE-2020-7009)") {
  const permission holder(layer(R"(
h:
  cluster: [monitor, manage_own_api_key]
  indices:
    - names: ["logs-*", "books"]
      privileges: [read, view_index_metadata]
    - names: ["w-*"]
      privileges: [write]
)"));
  struct c {
    const char* requested_yaml;
    bool expected;
  };
  const c cases[] = {
      {"k: {}\n", true},
      {"k:\n  cluster: [monitor]\n", true},
      {"k:\n  cluster: [\"cluster:monitor/health\"]\n", true},
      {"k:\n  cluster: [manage]\n", false},
      {"k:\n  cluster: [manage_own_api_key]\n", true},
      {"k:\n  cluster: [manage_api_key]\n", false},  // ownership scope is not a wider grant
      {"k:\n  cluster: [all]\n", false},
      {"k:\n  indices:\n    - names: [logs-a]\n      privileges: [read]\n", true},
      {"k:\n  indices:\n    - names: [\"logs-a*\", books]\n      privileges: [read]\n", true},
      {"k:\n  indices:\n    - names: [\"logs-*\"]\n      privileges: "
       "[\"indices:data/read/search\"]\n",
       true},
      {"k:\n  indices:\n    - names: [\"l*\"]\n      privileges: [read]\n", false},
      {"k:\n  indices:\n    - names: [\"*\"]\n      privileges: [read]\n", false},
      {"k:\n  indices:\n    - names: [books]\n      privileges: [write]\n", false},
      {"k:\n  indices:\n    - names: [books]\n      privileges: [all]\n", false},
      {"k:\n  indices:\n    - names: [w-1]\n      privileges: [create_doc, index, delete]\n", true},
      {"k:\n  indices:\n    - names: [w-1]\n      privileges: [auto_configure]\n", false},
      {"k:\n  indices:\n    - names: [\"logs-*\"]\n      privileges: [read]\n"
       "      allow_restricted_indices: true\n",
       true},  // logs-* cannot match a dot-prefixed name anyway
      {"k:\n  indices:\n    - names: [\".logs-x\"]\n      privileges: [read]\n", false},
      {"k:\n  indices:\n    - names: [\"/logs-[0-9]+/\"]\n      privileges: [read]\n", false},
      {"a:\n  cluster: [monitor]\nb:\n  indices:\n    - names: [books]\n      privileges: [read]\n",
       true},
      {"a:\n  cluster: [monitor]\nb:\n  indices:\n    - names: [other]\n      privileges: [read]\n",
       false},
  };
  for (const auto& x : cases) {
    INFO(x.requested_yaml);
    CHECK(is_subset_of(roles(x.requested_yaml), holder) == x.expected);
  }
  CHECK(is_subset_of(roles("k:\n  cluster: [all]\n"), permission(superuser_permission())));
  const permission star(layer("h:\n  indices:\n    - names: ['*']\n      privileges: [read]\n"));
  CHECK(
      is_subset_of(roles("k:\n  indices:\n    - names: ['*']\n      privileges: [read]\n"), star));
  CHECK_FALSE(is_subset_of(roles("k:\n  indices:\n    - names: ['*']\n      privileges: [read]\n"
                                 "      allow_restricted_indices: true\n"),
                           star));
  CHECK_FALSE(is_subset_of(roles("k:\n  indices:\n    - names: ['.x*']\n      privileges: [read]\n"
                                 "      allow_restricted_indices: true\n"),
                           star));
  CHECK_FALSE(is_subset_of(roles("k:\n  cluster: [monitor]\n"), permission()));
  CHECK(is_subset_of({}, permission()));

  // Against an intersection: within every layer.
  const permission layered = holder.limited_by(layer(R"(
l:
  cluster: [monitor]
  indices:
    - names: ["logs-a*"]
      privileges: [read]
)"));
  CHECK(is_subset_of(roles("k:\n  indices:\n    - names: [logs-a1]\n      privileges: [read]\n"),
                     layered));
  CHECK_FALSE(is_subset_of(
      roles("k:\n  indices:\n    - names: [books]\n      privileges: [read]\n"), layered));
  CHECK_FALSE(is_subset_of(roles("k:\n  cluster: [manage_own_api_key]\n"), layered));
}

TEST_CASE("request-time checks stay cheap with many roles") {
  std::string yaml;
  for (int i = 0; i < 300; ++i)
    yaml += "r" + std::to_string(i) + ":\n  indices:\n    - names: [\"idx-" + std::to_string(i) +
            "\", \"pat-" + std::to_string(i) + "-*\"]\n      privileges: [read]\n";
  const permission p(layer(yaml.c_str()));
  const auto start = std::chrono::steady_clock::now();
  int allowed = 0;
  for (int i = 0; i < 2000; ++i) {
    allowed += p.allows_index("indices:data/read/search", "idx-" + std::to_string(i % 600));
    allowed += p.allows_index("indices:data/read/search", "pat-7-x");
  }
  CHECK(allowed == 1100 + 2000);  // idx-0..idx-299 exist: 3 * 300 + 200 hits
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("index selectors: ::data is the index, ::failures needs failure-store privileges") {
  const permission p(layer(R"(
r:
  indices:
    - names: ["logs-*"]
      privileges: [read]
    - names: ["fs-*"]
      privileges: [read_failure_store]
    - names: ["all-*"]
      privileges: [all]
    - names: ["m-*"]
      privileges: [manage_failure_store]
)"));
  check_index(p, {
                     {"indices:data/read/search", "logs-a::data", true},
                     {"indices:data/read/search", "logs-a::failures", false},
                     {"indices:data/read/search", "logs-a::other", false},
                     {"indices:data/read/search", "logs-a::", false},
                     {"indices:data/read/search", "fs-a::failures", true},
                     {"indices:data/read/search", "fs-a", false},
                     {"indices:data/write/index", "fs-a::failures", false},
                     {"indices:data/read/search", "all-a::failures", true},
                     {"indices:admin/rollover", "m-a::failures", true},
                     {"indices:data/read/search", "m-a::failures", false},
                 });
}

TEST_CASE("reads_everything is has_index_privilege(read, *, restricted) worked out in advance") {
  const char* cases[] = {
      "r:\n  indices:\n    - names: ['*']\n      privileges: [read]\n      "
      "allow_restricted_indices: true\n",
      "r:\n  indices:\n    - names: ['*']\n      privileges: [read]\n",  // restricted ones not
      "r:\n  indices:\n    - names: ['*']\n      privileges: [all]\n      "
      "allow_restricted_indices: true\n",
      "r:\n  indices:\n    - names: ['logs-*']\n      privileges: [read]\n      "
      "allow_restricted_indices: true\n",
      "r:\n  indices:\n    - names: ['/.*/']\n      privileges: [read]\n      "
      "allow_restricted_indices: true\n",
      "r:\n  indices:\n    - names: ['*']\n      privileges: [view_index_metadata]\n      "
      "allow_restricted_indices: true\n",
      "r:\n  cluster: [all]\n",
  };
  int reading = 0;
  for (const char* yaml : cases) {
    INFO(yaml);
    auto l = layer(yaml);
    CHECK(l->reads_everything() == l->has_index_privilege("read", "*", true));
    const permission p(l);
    CHECK(p.reads_everything() == p.has_index_privilege("read", "*", true));
    reading += l->reads_everything();
  }
  CHECK(reading >= 2);  // the table has both answers
  const permission su(superuser_permission());
  CHECK(su.reads_everything());
  // Layers: every one must read everything.
  const permission key_limited = permission(layer(cases[0])).limited_by(layer(cases[3]));
  CHECK_FALSE(key_limited.reads_everything());
  CHECK(permission(layer(cases[0])).limited_by(layer(cases[2])).reads_everything());
  CHECK_FALSE(permission().reads_everything());  // no layer allows nothing
}
