// key_record <-> JSON: round trips, tolerance to missing optional fields, strictness on types.
#include "esgate/keystore/error.hpp"
#include "esgate/keystore/key_record.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

using namespace esgate::keystore;
namespace json = boost::json;

namespace {

key_record full_record() {
  key_record r;
  r.id = "VuaCfGcBCdbkQm-e5aOx";
  r.name = "my-api-key";
  r.creation = 1700000000123;
  r.expiration = 1800000000000;
  r.invalidated = true;
  r.invalidation = 1750000000000;
  r.username = "alice";
  r.realm = "default_file";
  r.realm_type = "file";
  r.metadata = json::parse(R"({"application":"x","tags":[],"nested":{"a":[1,2]}})").as_object();
  r.role_descriptors =
      json::parse(R"({"r1":{"cluster":[],"indices":[{"names":["books"],"privileges":["read"]}]}})")
          .as_object();
  r.limited_by_key = json::parse(R"({"parent":{"cluster":["manage_own_api_key"]}})").as_object();
  r.api_key_hash = "{SSHA256}c2FsdHNhbHQ=";
  r.last_used = 1760000000000;
  r.version = 7;
  return r;
}

bool same(const key_record& a, const key_record& b) {
  return a.id == b.id && a.name == b.name && a.type == b.type && a.creation == b.creation &&
         a.expiration == b.expiration && a.invalidated == b.invalidated &&
         a.invalidation == b.invalidation && a.username == b.username && a.realm == b.realm &&
         a.realm_type == b.realm_type && a.metadata == b.metadata &&
         a.role_descriptors == b.role_descriptors && a.limited_by_key == b.limited_by_key &&
         a.api_key_hash == b.api_key_hash && a.last_used == b.last_used && a.version == b.version;
}

const char* minimal =
    R"({"id":"abc","username":"bob","realm":"_es_api_key","api_key_hash":"{PBKDF2}x","creation":5})";

}  // namespace

TEST_CASE("key_record: full round trip through JSON text", "[keystore][record]") {
  const auto r = full_record();
  auto text = json::serialize(to_json(r));
  auto back = from_json_text(text);
  REQUIRE(back.has_value());
  CHECK(same(*back, r));
  CHECK(text.find("\"tags\":[]") != std::string::npos);  // empty arrays stay arrays
}

TEST_CASE("key_record: absent optionals are omitted and read back as absent",
          "[keystore][record]") {
  key_record r;
  r.id = "id1";
  r.username = "u";
  r.api_key_hash = "{SSHA256}x";
  auto o = to_json(r);
  for (auto key : {"expiration", "invalidation", "limited_by_key", "last_used"})
    CHECK_FALSE(o.contains(key));
  auto back = from_json(o);
  REQUIRE(back.has_value());
  CHECK(same(*back, r));
}

TEST_CASE("key_record: missing optional fields take defaults", "[keystore][record]") {
  auto r = from_json_text(minimal);
  REQUIRE(r.has_value());
  CHECK(r->id == "abc");
  CHECK(r->name.empty());
  CHECK(r->type == "rest");
  CHECK(r->creation == 5);
  CHECK_FALSE(r->expiration);
  CHECK_FALSE(r->invalidated);
  CHECK(r->realm == "_es_api_key");
  CHECK(r->realm_type == "file");
  CHECK(r->metadata.empty());
  CHECK(r->role_descriptors.empty());
  CHECK_FALSE(r->limited_by_key);
  CHECK(r->version == 0);
}

TEST_CASE("key_record: null optionals and unknown fields are tolerated", "[keystore][record]") {
  auto r = from_json_text(
      R"({"id":"abc","username":"bob","realm":"default_file","api_key_hash":"h","creation":5,
          "expiration":null,"invalidation":null,"limited_by_key":null,"metadata":null,
          "name":null,"future_field":{"x":[1]},"last_used":null})");
  REQUIRE(r.has_value());
  CHECK_FALSE(r->expiration);
  CHECK_FALSE(r->limited_by_key);
  CHECK(r->name.empty());
}

TEST_CASE("key_record: extreme but valid numbers", "[keystore][record]") {
  auto r = from_json_text(
      R"({"id":"a","username":"b","realm":"c","api_key_hash":"h","creation":-1,
          "expiration":9223372036854775807,"version":18446744073709551615})");
  REQUIRE(r.has_value());
  CHECK(r->creation == -1);
  CHECK(*r->expiration == INT64_MAX);
  CHECK(r->version == UINT64_MAX);
}

TEST_CASE("key_record: wrong types and malformed input are corrupt records", "[keystore][record]") {
  // Each row: one field replaced (or the whole document) with something we never write.
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"id", "1"},
      {"id", R"("")"},  // empty id
      {"name", "[]"},
      {"type", "1"},
      {"creation", R"("1700000000000")"},
      {"creation", "1.5"},
      {"creation", "1e3"},
      {"creation", "18446744073709551615"},  // above int64
      {"expiration", "true"},
      {"expiration", "2.0"},
      {"invalidated", R"("false")"},
      {"invalidated", "0"},
      {"invalidation", "{}"},
      {"username", "null"},  // required: null counts as missing
      {"username", "{}"},
      {"realm", "[]"},
      {"realm_type", "false"},
      {"metadata", "[]"},
      {"metadata", R"("{}")"},
      {"role_descriptors", "[]"},
      {"limited_by_key", "[]"},
      {"api_key_hash", "0"},
      {"last_used", R"("now")"},
      {"version", "-1"},
      {"version", "1.0"},
  };
  for (const auto& [field, value] : fields) {
    INFO(field << " = " << value);
    auto o = json::parse(minimal).as_object();
    o[field] = json::parse(value);
    auto r = from_json(o);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == errc::corrupt_record);
  }
  for (auto required : {"id", "username", "realm", "api_key_hash", "creation"}) {
    INFO("missing " << required);
    auto o = json::parse(minimal).as_object();
    o.erase(required);
    CHECK_FALSE(from_json(o).has_value());
  }
  const std::vector<std::string> documents = {
      "",
      "null",
      "[]",
      "\"x\"",
      "42",
      "{",
      "{\"id\":\"a\"",
      "{\"id\":\"a\",}",
      "\xff\xfe",
      std::string("{\"id\":\"a\0\"}", 11),
      std::string(100, '[') + std::string(100, ']'),  // deeper than we ever store
  };
  for (const auto& d : documents) {
    INFO(d);
    auto r = from_json_text(d);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == errc::corrupt_record);
  }
}

TEST_CASE("key_record: nesting up to max_stored_depth is readable", "[keystore][record]") {
  auto r = full_record();
  json::value deep = json::object{};
  for (std::size_t i = 0; i + 3 < max_stored_depth; ++i) deep = json::object{{"d", deep}};
  r.metadata = deep.as_object();
  auto back = from_json_text(json::serialize(to_json(r)));
  REQUIRE(back.has_value());
  CHECK(back->metadata == r.metadata);
}
