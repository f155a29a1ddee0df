#include <catch2/catch.hpp>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "esgate/policy/role_descriptor.hpp"

using namespace esgate::policy;

namespace {

struct expected_diag {
  int line;
  int column;
  const char* contains;
};

void check_diags(const char* yaml, std::vector<expected_diag> expected) {
  const auto r = parse_roles_yaml(yaml, "roles.yml");
  INFO(yaml);
  std::string all;
  for (const auto& d : r.errors)
    all += "roles.yml:" + std::to_string(d.line) + ":" + std::to_string(d.column) + ": " +
           d.message + "\n";
  INFO("diagnostics:\n" << all);
  REQUIRE(r.errors.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CHECK(r.errors[i].file == "roles.yml");
    CHECK(r.errors[i].line == expected[i].line);
    CHECK(r.errors[i].column == expected[i].column);
    CHECK_THAT(r.errors[i].message, Catch::Contains(expected[i].contains));
  }
}

}  // namespace

TEST_CASE("the interface.md example roles.yml parses") {
  const char* yaml = R"(books-read-only:
  cluster: []
  indices:
    - names: ["books"]
      privileges: ["read"]
logs-writer:
  cluster: ["monitor"]
  indices:
    - names: ["logs-*", "/metrics-[0-9]+/"]
      privileges: ["create_doc", "create_index"]
)";
  const auto r = parse_roles_yaml(yaml, "roles.yml");
  REQUIRE(r.ok());
  REQUIRE(r.roles.size() == 2);
  const auto& w = r.roles.at("logs-writer");
  CHECK(w.name == "logs-writer");
  CHECK(w.cluster == std::vector<std::string>{"monitor"});
  REQUIRE(w.indices.size() == 1);
  CHECK(w.indices[0].names == std::vector<std::string>{"logs-*", "/metrics-[0-9]+/"});
  CHECK(w.indices[0].privileges == std::vector<std::string>{"create_doc", "create_index"});
  CHECK_FALSE(w.indices[0].allow_restricted_indices);
  CHECK(r.roles.at("books-read-only").cluster.empty());
}

TEST_CASE("accepted forms: names as a string, `index` alias, metadata, empty extras") {
  const char* yaml = R"(r1:
  index:
    - names: logs-*
      privileges: [read]
      allow_restricted_indices: true
  applications: []
  run_as: []
  metadata:
    version: 1
    owner: "team a"
    tags: [x, y]
    ratio: 0.5
    on: true
    nothing: ~
  description: "Reads logs"
  transient_metadata:
    enabled: true
r2: {}
)";
  const auto r = parse_roles_yaml(yaml, "roles.yml");
  REQUIRE(r.ok());
  const auto& r1 = r.roles.at("r1");
  REQUIRE(r1.indices.size() == 1);
  CHECK(r1.indices[0].names == std::vector<std::string>{"logs-*"});
  CHECK(r1.indices[0].allow_restricted_indices);
  CHECK(r1.description == "Reads logs");
  CHECK(r1.metadata.at("version").as_int64() == 1);
  CHECK(r1.metadata.at("owner").as_string() == "team a");
  CHECK(r1.metadata.at("tags").as_array().size() == 2);
  CHECK(r1.metadata.at("ratio").as_double() == 0.5);
  CHECK(r1.metadata.at("on").as_bool());
  CHECK(r1.metadata.at("nothing").is_null());
  CHECK(r.roles.at("r2").indices.empty());
}

TEST_CASE("empty and comment-only files define no roles") {
  CHECK(parse_roles_yaml("", "roles.yml").ok());
  CHECK(parse_roles_yaml("# nothing\n", "roles.yml").roles.empty());
}

TEST_CASE("roles.yml diagnostics carry the exact 1-based line:column") {
  check_diags("r:\n  clustr: [monitor]\n", {{2, 3, "unexpected field [clustr]"}});
  check_diags("r:\n  cluster: [monitor, nope]\n", {{2, 22, "unknown cluster privilege [nope]"}});
  check_diags("r:\n  cluster:\n    - monitor\n    - manage_apikey\n",
              {{4, 7, "unknown cluster privilege [manage_apikey]"}});
  check_diags("r:\n  indices:\n    - names: [a]\n      privileges: [reed]\n",
              {{4, 20, "unknown index privilege [reed]"}});
  check_diags("r:\n  indices:\n    - names: [a, \"/b\"]\n      privileges: [read]\n",
              {{3, 18, "patterns starting with '/'"}});
  check_diags("r:\n  indices:\n    - names: [\"/~x/\"]\n      privileges: [read]\n",
              {{3, 15, "complement '~'"}});
  check_diags("superuser:\n  cluster: [all]\n", {{1, 1, "built in"}});
  check_diags("r:\n  indices:\n    - names: [a]\n      privileges: [read]\n      query: '{}'\n",
              {{5, 7, "document level security ([query]) in role [r] is not supported yet"}});
  check_diags(
      "r:\n  indices:\n    - names: [a]\n      privileges: [read]\n      field_security:\n"
      "        grant: [a]\n",
      {{5, 7, "field level security ([field_security]) in role [r] is not supported yet"}});
  check_diags("r:\n  run_as: [bob]\n", {{2, 3, "[run_as] in role [r] is not supported yet"}});
  check_diags("r:\n  applications:\n    - application: kibana\n",
              {{2, 3, "[applications] in role [r] is not supported yet"}});
  check_diags("r:\n  remote_indices: [{clusters: [a], names: [b], privileges: [read]}]\n",
              {{2, 3, "[remote_indices] in role [r] is not supported yet"}});
  check_diags("r:\n  indices:\n    - names: [a]\n      privileges: [read]\n      colour: red\n",
              {{5, 7, "unexpected field [colour]"}});
  check_diags("r:\n  indices:\n    - privileges: [read]\n",
              {{3, 7, "missing required [names] field"}});
  check_diags("r:\n  indices:\n    - names: [a]\n",
              {{3, 7, "missing required [privileges] field"}});
  check_diags("r:\n  indices:\n    - names: []\n      privileges: [read]\n",
              {{3, 14, "at least one index name"}});
  check_diags("r:\n  indices:\n    - names: [a]\n      privileges: []\n",
              {{4, 19, "at least one privilege"}});
  check_diags(
      "r:\n  indices:\n    - names: [a]\n      privileges: [read]\n"
      "      allow_restricted_indices: maybe\n",
      {{5, 33, "to be a boolean"}});
  check_diags("r:\n  metadata:\n    _reserved: true\n", {{3, 5, "may not start with '_'"}});
  check_diags("r:\n  cluster: monitor\n", {{2, 12, "must be a list of strings"}});
  check_diags("r:\n  cluster: [[monitor]]\n", {{2, 13, "must be a list of strings"}});
  check_diags("r:\n  indices: {names: [a]}\n", {{2, 12, "expected a list"}});
  check_diags("r:\n  indices:\n    - just-a-string\n", {{3, 7, "expected a map"}});
  check_diags("r: [monitor]\n", {{1, 4, "expected a map"}});
  check_diags("r:\n", {{1, 1, "expected a map"}});
  check_diags("- a\n- b\n", {{1, 1, "must be a map of role names"}});
  check_diags("r:\n  cluster: [monitor]\nr:\n  cluster: [all]\n", {{3, 1, "duplicate role [r]"}});
  check_diags("r:\n  cluster: [monitor]\n  cluster: [all]\n",
              {{3, 3, "duplicate field [cluster]"}});
  check_diags("\"bad role \":\n  cluster: []\n", {{1, 1, "invalid role name"}});
  check_diags("r:\n  cluster: [monitor\n", {{3, 1, ""}});  // YAML syntax error, with position
}

TEST_CASE("all problems are reported, in file order, and bad roles are left out") {
  const char* yaml = R"(good:
  cluster: [monitor]
bad:
  cluster: [nope]
  indices:
    - names: ["/x"]
      privileges: [reed, read]
      query: '{"term":{}}'
  extra: 1
superuser:
  cluster: [all]
)";
  const auto r = parse_roles_yaml(yaml, "/etc/esgate/roles.yml");
  REQUIRE(r.errors.size() == 6);
  CHECK(r.errors[0].line == 4);
  CHECK(r.errors[1].line == 6);
  CHECK(r.errors[2].line == 7);
  CHECK(r.errors[3].line == 8);
  CHECK(r.errors[4].line == 9);
  CHECK(r.errors[5].line == 10);
  CHECK(r.errors[0].file == "/etc/esgate/roles.yml");
  CHECK(r.roles.size() == 1);
  CHECK(r.roles.count("good") == 1);
}

TEST_CASE("load_roles_file reads a file and reports a missing one") {
  const auto missing = load_roles_file("/nonexistent/dir/roles.yml");
  REQUIRE(missing.errors.size() == 1);
  CHECK(missing.errors[0].line == 0);
  CHECK(missing.errors[0].file == "/nonexistent/dir/roles.yml");
  CHECK_THAT(missing.errors[0].message, Catch::Contains("cannot read roles file"));

  const auto path = std::filesystem::temp_directory_path() /
                    ("esgate-policy-roles-" + std::to_string(::getpid()) + ".yml");
  {
    std::ofstream out(path);
    out << "r:\n  cluster: [monitor]\n  oops: 1\n";
  }
  const auto r = load_roles_file(path.string());
  std::filesystem::remove(path);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].line == 3);
  CHECK(r.errors[0].column == 3);
  CHECK(r.errors[0].file == path.string());
}
