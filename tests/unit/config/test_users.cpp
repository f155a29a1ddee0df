// users.yml: the file realm. Bad entries are reported with line:col; hashes never echoed.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "esgate/config/users.hpp"
#include "fixtures.hpp"

using namespace esgate::config;

namespace {

const std::string hash_b = "$2b$12$PVzw3H2vwGgcpAUveemzeujLr9/ZqgepY48Cty6CQjjNm63YbT8xm";

users_load_result parse(const std::string& yaml) { return parse_users(yaml, "users.yml"); }

std::string dump(const users_load_result& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

}  // namespace

TEST_CASE("users.yml: valid files", "[config][users]") {
  SECTION("empty file, empty map, null users") {
    for (const char* yaml : {"", "# nothing yet\n", "users:\n", "users: {}\n"}) {
      CAPTURE(yaml);
      auto r = parse(yaml);
      INFO(dump(r));
      CHECK(r.ok());
      CHECK(r.value.users.empty());
    }
  }
  SECTION("every field") {
    auto r = parse("users:\n  admin:\n    password_hash: \"" + hash_b +
                   "\"\n    roles: [superuser]\n  alice:\n    password_hash: '" + hash_b +
                   "'\n    roles: [books-read-only, logs-writer, books-read-only]\n"
                   "    full_name: Alice Example\n    email: alice@example.com\n"
                   "    metadata: {team: library, level: 3}\n  bob:\n    password_hash: \"" +
                   hash_b + "\"\n");
    INFO(dump(r));
    REQUIRE(r.ok());
    REQUIRE(r.value.users.size() == 3);
    const user& admin = r.value.users.at("admin");
    CHECK(admin.username == "admin");
    CHECK(admin.password_hash == hash_b);
    CHECK(admin.roles == std::vector<std::string>{"superuser"});
    const user& alice = r.value.users.at("alice");
    CHECK(alice.roles == std::vector<std::string>{"books-read-only", "logs-writer"});
    CHECK(alice.full_name == "Alice Example");
    CHECK(alice.email == "alice@example.com");
    CHECK(r.value.users.at("bob").roles.empty());  // roles may be absent or empty
  }
  SECTION("bcrypt variants and unusual but valid names") {
    const std::string hashes[] = {
        "$2a$04$" + hash_b.substr(7),
        "$2y$31$" + hash_b.substr(7),
        "$2b$10$" + std::string(53, '.'),
    };
    for (const auto& h : hashes) {
      CAPTURE(h);
      auto r = parse("users:\n  \"john.doe@example.com\":\n    password_hash: \"" + h +
                     "\"\n    roles: []\n  \"x y\":\n    password_hash: \"" + h + "\"\n  " +
                     std::string(507, 'a') + ":\n    password_hash: \"" + h + "\"\n");
      INFO(dump(r));
      CHECK(r.ok());
      CHECK(r.value.users.size() == 3);
    }
  }
}

TEST_CASE("users.yml: problems at line:col", "[config][users]") {
  struct row {
    std::string yaml;
    int line;
    int column;
    std::string message;
  };
  const std::string h = "\"" + hash_b + "\"";
  const row rows[] = {
      {"users:\n  alice:\n    password_hash: \"nope\"\n", 3, 20,
       "users.alice.password_hash: expected a bcrypt hash"},
      {"users:\n  alice:\n    password_hash: \"$2b$03$" + hash_b.substr(7) + "\"\n", 3, 20,
       "expected a bcrypt hash"},  // cost below 4
      {"users:\n  alice:\n    password_hash: \"$2b$32$" + hash_b.substr(7) + "\"\n", 3, 20,
       "expected a bcrypt hash"},  // cost above 31
      {"users:\n  alice:\n    password_hash: \"$2x$12$" + hash_b.substr(7) + "\"\n", 3, 20,
       "expected a bcrypt hash"},
      {"users:\n  alice:\n    password_hash: \"" + hash_b.substr(0, 59) + "\"\n", 3, 20,
       "expected a bcrypt hash"},
      {"users:\n  alice:\n    password_hash: \"" + hash_b.substr(0, 59) + "!\"\n", 3, 20,
       "expected a bcrypt hash"},
      {"users:\n  alice:\n    password_hash: \"{SSHA256}abc\"\n", 3, 20, "expected a bcrypt hash"},
      {"users:\n  alice:\n    password_hash: [" + h + "]\n", 3, 20,
       "users.alice.password_hash: expected a string, got a list"},
      {"users:\n  alice:\n    roles: []\n", 2, 3, "users.alice: password_hash is required"},
      {"users:\n  alice:\n", 2, 3, "users.alice: password_hash is required"},
      {"users:\n  alice: admin\n", 2, 10, "users.alice: expected a mapping of keys, got a value"},
      {"users:\n  alice:\n    password_hash: " + h + "\n    roles: admin\n", 4, 12,
       "users.alice.roles: expected a list, got a value"},
      {"users:\n  alice:\n    password_hash: " + h + "\n    roles: [a, {b: c}]\n", 4, 16,
       "users.alice.roles[1]: expected a string, got a mapping"},
      {"users:\n  alice:\n    password_hash: " + h + "\n    roles: [\"\"]\n", 4, 13,
       "users.alice.roles[0]: must not be empty"},
      {"users:\n  alice:\n    password_hash: " + h + "\n    roles: [\" admin\"]\n", 4, 13,
       "invalid role name [ admin]"},
      {"users:\n  alice:\n    password_hash: " + h + "\n    passwd: x\n", 4, 5,
       "unknown key [users.alice.passwd]"},
      {"users:\n  alice:\n    password_hash: " + h + "\n    role: [a]\n", 4, 5,
       "unknown key [users.alice.role] (did you mean [roles]?)"},
      {"users:\n  alice:\n    password_hash: " + h + "\n    metadata: x\n", 4, 15,
       "users.alice.metadata: expected a mapping"},
      {"users:\n  alice:\n    password_hash: " + h + "\n    email: [a]\n", 4, 12,
       "users.alice.email: expected a string, got a list"},
      {"users:\n  alice:\n    password_hash: " + h + "\n    full_name: \"A\\nB\"\n", 4, 16,
       "users.alice.full_name: must not contain control characters"},
      {"users:\n  bob:\n    password_hash: " + h + "\n  bob:\n    password_hash: " + h + "\n", 4, 3,
       "duplicate key [users.bob]"},
      {"users:\n  \"a:b\":\n    password_hash: " + h + "\n", 2, 3,
       "invalid user name [a:b]: ':' is not allowed"},
      {"users:\n  \" alice\":\n    password_hash: " + h + "\n", 2, 3, "invalid user name [ alice]"},
      {"users:\n  \"al\\tice\":\n    password_hash: " + h + "\n", 2, 3,
       "invalid user name [al?ice]"},
      {"users:\n  \"\":\n    password_hash: " + h + "\n", 2, 3, "invalid user name []"},
      {"users:\n  " + std::string(508, 'a') + ":\n    password_hash: " + h + "\n", 2, 3,
       "invalid user name"},
      {"users:\n  \"j\xc3\xa9r\xc3\xb4me\":\n    password_hash: " + h + "\n", 2, 3,
       "invalid user name"},
      {"users:\n  [a]:\n    password_hash: " + h + "\n", 2, 3, "users: keys must be plain strings"},
      {"users: [alice]\n", 1, 8, "users: expected a mapping, got a list"},
      {"user:\n  alice: {}\n", 1, 1, "unknown key [user] (did you mean [users]?)"},
      {"alice:\n  password_hash: " + h + "\n", 1, 1, "unknown key [alice]"},
      {"users:\n  alice: {password_hash: " + h + ", roles: [a]\n", 3, 1, "invalid YAML"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.yaml);
    auto result = parse(r.yaml);
    INFO(dump(result));
    REQUIRE(result.errors.size() == 1);
    const auto& e = result.errors[0];
    CHECK(e.file == "users.yml");
    CHECK(e.line == r.line);
    CHECK(e.column == r.column);
    CHECK_THAT(e.message, Catch::Contains(r.message));
    // A password hash can be attacked offline: it must never be echoed.
    CHECK_THAT(e.message, !Catch::Contains(hash_b.substr(7, 20)));
    CHECK_THAT(e.message, !Catch::Contains("nope"));
    CHECK(result.value.users.count("alice") == 0);
  }
}

TEST_CASE("users.yml: several problems at once, valid users still listed", "[config][users]") {
  auto r = parse("users:\n  ok:\n    password_hash: \"" + hash_b +
                 "\"\n  bad1:\n    roles: []\n  bad2:\n    password_hash: x\n    extra: 1\n");
  REQUIRE(r.errors.size() == 3);
  CHECK(r.errors[0].to_string() == "users.yml:4:3: users.bad1: password_hash is required");
  CHECK(r.errors[1].line == 7);
  CHECK(r.errors[2].to_string() == "users.yml:8:5: unknown key [users.bad2.extra]");
  CHECK(r.value.users.count("ok") == 1);
  CHECK(r.value.users.count("bad1") == 0);
  CHECK(r.value.users.count("bad2") == 0);
}

TEST_CASE("load_users", "[config][users]") {
  namespace fs = std::filesystem;
  const fs::path dir = esgate::config::test::scratch_dir();
  SECTION("a missing file means no users yet") {
    auto r = load_users((dir / "no-users.yml").string());
    CHECK(r.ok());
    CHECK(r.value.users.empty());
  }
  SECTION("a folder is an error") {
    auto r = load_users((dir / "certs").string());
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].to_string() == (dir / "certs").string() + ": not a regular file");
  }
  SECTION("a real file") {
    esgate::config::test::write_file(
        dir / "users.yml",
        "users:\n  admin:\n    password_hash: \"" + hash_b + "\"\n    roles: [superuser]\n");
    auto r = load_users((dir / "users.yml").string());
    INFO(dump(r));
    REQUIRE(r.ok());
    CHECK(r.value.users.at("admin").roles.front() == "superuser");
  }
}
