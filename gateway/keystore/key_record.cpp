#include "esgate/keystore/key_record.hpp"

#include "esgate/keystore/error.hpp"

#include <boost/json/parse.hpp>

#include <limits>

namespace esgate::keystore {

namespace json = boost::json;

boost::json::object to_json(const key_record& r) {
  json::object o;
  o["id"] = r.id;
  o["name"] = r.name;
  o["type"] = r.type;
  o["creation"] = r.creation;
  if (r.expiration) o["expiration"] = *r.expiration;
  o["invalidated"] = r.invalidated;
  if (r.invalidation) o["invalidation"] = *r.invalidation;
  o["username"] = r.username;
  o["realm"] = r.realm;
  o["realm_type"] = r.realm_type;
  o["metadata"] = r.metadata;
  o["role_descriptors"] = r.role_descriptors;
  if (r.limited_by_key) o["limited_by_key"] = *r.limited_by_key;
  o["api_key_hash"] = r.api_key_hash;
  if (r.last_used) o["last_used"] = *r.last_used;
  o["version"] = r.version;
  return o;
}

namespace {

// Field readers: absent (or null) leaves the default and succeeds; a wrong type fails.
struct reader {
  const json::object& o;
  bool ok = true;

  const json::value* find(std::string_view key) const {
    auto it = o.find(key);
    if (it == o.end() || it->value().is_null()) return nullptr;
    return &it->value();
  }

  bool has(std::string_view key) const { return find(key) != nullptr; }

  void str(std::string_view key, std::string& out) {
    if (auto* v = find(key)) {
      if (v->is_string())
        out.assign(v->get_string().data(), v->get_string().size());
      else
        ok = false;
    }
  }

  // Integers only: 1.5 or 1e3 in a timestamp means the record was not written by us.
  bool int64(const json::value& v, std::int64_t& out) {
    if (v.is_int64()) {
      out = v.get_int64();
      return true;
    }
    if (v.is_uint64() &&
        v.get_uint64() <= std::uint64_t(std::numeric_limits<std::int64_t>::max())) {
      out = static_cast<std::int64_t>(v.get_uint64());
      return true;
    }
    return false;
  }

  void i64(std::string_view key, std::int64_t& out) {
    if (auto* v = find(key); v && !int64(*v, out)) ok = false;
  }

  void opt_i64(std::string_view key, std::optional<std::int64_t>& out) {
    if (auto* v = find(key)) {
      std::int64_t x = 0;
      if (int64(*v, x))
        out = x;
      else
        ok = false;
    }
  }

  void u64(std::string_view key, std::uint64_t& out) {
    if (auto* v = find(key)) {
      if (v->is_uint64())
        out = v->get_uint64();
      else if (v->is_int64() && v->get_int64() >= 0)
        out = static_cast<std::uint64_t>(v->get_int64());
      else
        ok = false;
    }
  }

  void boolean(std::string_view key, bool& out) {
    if (auto* v = find(key)) {
      if (v->is_bool())
        out = v->get_bool();
      else
        ok = false;
    }
  }

  void obj(std::string_view key, json::object& out) {
    if (auto* v = find(key)) {
      if (v->is_object())
        out = v->get_object();
      else
        ok = false;
    }
  }

  void opt_obj(std::string_view key, std::optional<json::object>& out) {
    if (auto* v = find(key)) {
      if (v->is_object())
        out = v->get_object();
      else
        ok = false;
    }
  }
};

}  // namespace

boost::system::result<key_record> from_json(const boost::json::value& v) {
  if (!v.is_object()) return make_error_code(errc::corrupt_record);
  reader rd{v.get_object()};
  for (auto required : {"id", "username", "realm", "api_key_hash", "creation"})
    if (!rd.has(required)) return make_error_code(errc::corrupt_record);
  key_record r;
  rd.str("id", r.id);
  rd.str("name", r.name);
  rd.str("type", r.type);
  rd.i64("creation", r.creation);
  rd.opt_i64("expiration", r.expiration);
  rd.boolean("invalidated", r.invalidated);
  rd.opt_i64("invalidation", r.invalidation);
  rd.str("username", r.username);
  rd.str("realm", r.realm);
  rd.str("realm_type", r.realm_type);
  rd.obj("metadata", r.metadata);
  rd.obj("role_descriptors", r.role_descriptors);
  rd.opt_obj("limited_by_key", r.limited_by_key);
  rd.str("api_key_hash", r.api_key_hash);
  rd.opt_i64("last_used", r.last_used);
  rd.u64("version", r.version);
  if (!rd.ok || r.id.empty()) return make_error_code(errc::corrupt_record);
  return r;
}

boost::system::result<key_record> from_json_text(std::string_view text) {
  boost::system::error_code ec;
  json::parse_options opts;
  opts.max_depth = max_stored_depth;
  json::value v = json::parse(text, ec, {}, opts);
  if (ec) return make_error_code(errc::corrupt_record);
  return from_json(v);
}

}  // namespace esgate::keystore
