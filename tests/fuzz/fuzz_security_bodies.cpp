// esgate-fuzz-deps: esgate::admin
// Input: one byte choosing the endpoint (create, update, bulk update, invalidate, query,
// has_privileges), then the request body as a client sends it. Parsing must never crash or
// throw; every refusal is a 400 in Elasticsearch's error shape whose body is valid JSON; and what
// a successful parse kept, written back as a body, parses again to the same fields (so nothing it
// acts on depends on how the client spelled it). Queries that parse also run over a few records.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include "admin/security_api_bodies.hpp"

namespace json = boost::json;
namespace admin = esgate::admin::detail;
namespace ks = esgate::keystore;

namespace {

constexpr std::int64_t now = 1764000000000;

void check(bool ok) {
  if (!ok) std::abort();
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

void check_error(const admin::api_error& e) {
  check(e.status == 400);
  check(ends_with(e.type, "_exception"));
  check(!e.reason.empty());
  const auto r = admin::error_response(e);
  check(r.status == 400);
  auto body = admin::parse_json_body(r.body);
  const auto* v = std::get_if<json::value>(&body);
  check(v != nullptr && v->is_object());
  const auto& o = v->get_object();
  check(o.contains("status") && o.at("status") == 400);
  const auto* err = o.if_contains("error");
  check(err && err->is_object() && err->get_object().contains("root_cause"));
  check(err->get_object().at("type") == e.type.c_str());
}

template <typename T>
const T* parsed_or_error(const std::variant<T, admin::api_error>&& r) = delete;
template <typename T>
const T* parsed_or_error(const std::variant<T, admin::api_error>& r) {
  if (const auto* e = std::get_if<admin::api_error>(&r)) {
    check_error(*e);
    return nullptr;
  }
  return &std::get<T>(r);
}

json::array strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

// ---- create / update / bulk update ------------------------------------------------------------

using key_parser = std::variant<admin::key_fields, admin::api_error> (*)(std::string_view);

// A duration that parses back to `ms`. ES takes -1 in any unit (`-01d` is TimeValue(-1, DAYS),
// -86,400,000 ms) but refuses other negative values, so those are written as -1 of their unit.
std::string duration(std::int64_t ms) {
  static constexpr std::pair<std::int64_t, const char*> minus_one[] = {
      {-86'400'000, "-1d"}, {-3'600'000, "-1h"}, {-60'000, "-1m"}, {-1000, "-1s"}};
  for (const auto& [value, text] : minus_one)
    if (ms == value) return text;
  return std::to_string(ms) + "ms";
}

std::string render(const admin::key_fields& f) {
  json::object o;
  if (f.name) o["name"] = *f.name;
  if (f.role_descriptors) o["role_descriptors"] = esgate::policy::to_json(*f.role_descriptors);
  if (f.metadata) o["metadata"] = *f.metadata;
  if (f.expiration_ms) o["expiration"] = duration(*f.expiration_ms);
  if (f.ids) o["ids"] = strings(*f.ids);
  return json::serialize(o);
}

void same(const admin::key_fields& a, const admin::key_fields& b) {
  check(a.name == b.name && a.metadata == b.metadata && a.expiration_ms == b.expiration_ms &&
        a.ids == b.ids && a.role_descriptors.has_value() == b.role_descriptors.has_value());
  if (a.role_descriptors)
    check(esgate::policy::to_json(*a.role_descriptors) ==
          esgate::policy::to_json(*b.role_descriptors));
}

void key_body(std::string_view body, key_parser parse) {
  const auto parsed = parse(body);
  const auto* f = parsed_or_error(parsed);
  if (!f) return;
  const auto again = parse(render(*f));
  const auto* g = std::get_if<admin::key_fields>(&again);
  check(g != nullptr);
  same(*f, *g);
}

// ---- invalidate -------------------------------------------------------------------------------

void invalidate(std::string_view body) {
  const auto parsed = admin::parse_invalidate_body(body);
  const auto* b = parsed_or_error(parsed);
  if (!b) return;
  json::object o;
  if (b->ids) o["ids"] = strings(*b->ids);
  if (!b->name.empty()) o["name"] = b->name;
  if (!b->username.empty()) o["username"] = b->username;
  if (!b->realm.empty()) o["realm_name"] = b->realm;
  if (b->owner) o["owner"] = true;
  const auto again = admin::parse_invalidate_body(json::serialize(o));
  const auto* c = std::get_if<admin::invalidate_body>(&again);
  check(c != nullptr);
  check(c->ids == b->ids && c->name == b->name && c->username == b->username &&
        c->realm == b->realm && c->owner == b->owner);
}

// ---- query ------------------------------------------------------------------------------------

const std::vector<ks::key_record>& records() {
  static const std::vector<ks::key_record> recs = [] {
    std::vector<ks::key_record> v(4);
    const char* names[] = {"ci", "deploy-prod", "ci-nightly", "_odd"};
    for (std::size_t i = 0; i < v.size(); ++i) {
      v[i].id = std::string(20, static_cast<char>('A' + i));
      v[i].name = names[i];
      v[i].creation = now - static_cast<std::int64_t>(i) * 86'400'000;
      v[i].username = i % 2 ? "bob" : "alice";
    }
    v[1].expiration = now + 3'600'000;
    v[2].invalidated = true;
    v[2].invalidation = now - 1000;
    v[0].metadata =
        json::parse(R"({"team":"red","tags":["a","b"],"n":{"x":1,"y":null}})").as_object();
    v[3].metadata = json::parse(R"({"team":"blue","n":{"x":2.5},"flag":true})").as_object();
    v[3].realm = "_es_api_key";
    return v;
  }();
  return recs;
}

void query(std::string_view body) {
  const auto parsed = admin::parse_query_body(body, now);
  const auto* q = parsed_or_error(parsed);
  if (!q) return;
  check(q->from >= 0 && q->size >= 0 && q->from + q->size <= admin::max_result_window);
  const auto& recs = records();
  const auto ran = admin::run_query(*q, recs);
  const auto* res = parsed_or_error(ran);
  if (!res) return;
  check(res->total <= recs.size());
  check(res->hits.size() <= static_cast<std::size_t>(q->size) && res->hits.size() <= res->total);
  for (const auto& h : res->hits) {
    check(h.record >= recs.data() && h.record < recs.data() + recs.size());
    check(h.sort_values.size() == q->sort.size());
    check(q->query == nullptr || admin::matches(*q->query, *h.record));
  }
}

// ---- has_privileges ---------------------------------------------------------------------------

void has_privileges(std::string_view body) {
  const std::string user = "alice";
  const auto parsed = admin::parse_has_privileges_body(body, user);
  const auto* c = parsed_or_error(parsed);
  if (!c) return;
  json::object o;
  if (!c->cluster.empty()) o["cluster"] = strings(c->cluster);
  json::array index;
  for (const auto& i : c->index)
    index.emplace_back(json::object{{"names", strings(i.names)},
                                    {"privileges", strings(i.privileges)},
                                    {"allow_restricted_indices", i.allow_restricted}});
  if (!index.empty()) o["index"] = std::move(index);
  json::array apps;
  for (const auto& a : c->application)
    apps.emplace_back(json::object{{"application", a.application},
                                   {"privileges", strings(a.privileges)},
                                   {"resources", strings(a.resources)}});
  if (!apps.empty()) o["application"] = std::move(apps);
  const auto again = admin::parse_has_privileges_body(json::serialize(o), user);
  const auto* d = std::get_if<admin::privileges_check>(&again);
  check(d != nullptr);
  check(d->cluster == c->cluster && d->index.size() == c->index.size() &&
        d->application.size() == c->application.size());
  for (std::size_t i = 0; i < c->index.size(); ++i)
    check(d->index[i].names == c->index[i].names &&
          d->index[i].privileges == c->index[i].privileges &&
          d->index[i].allow_restricted == c->index[i].allow_restricted);
  for (std::size_t i = 0; i < c->application.size(); ++i)
    check(d->application[i].application == c->application[i].application &&
          d->application[i].privileges == c->application[i].privileges &&
          d->application[i].resources == c->application[i].resources);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      key_body(body, &admin::parse_create_body);
      break;
    case 1:
      key_body(body, &admin::parse_update_body);
      break;
    case 2:
      key_body(body, &admin::parse_bulk_update_body);
      break;
    case 3:
      invalidate(body);
      break;
    case 4:
      query(body);
      break;
    case 5:
      has_privileges(body);
      break;
  }
  return 0;
}
