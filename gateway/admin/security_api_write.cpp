// Create, update and bulk update (es-security-reference.md §1.1, §1.7, §1.8; interface.md §5).
#include <algorithm>

#include "esgate/auth/credentials.hpp"
#include "esgate/auth/key_material.hpp"
#include "esgate/auth/secret_hash.hpp"
#include "esgate/http/es_error.hpp"
#include "esgate/keystore/error.hpp"
#include "security_api_bodies.hpp"
#include "security_api_handlers.hpp"

namespace esgate::admin::detail {

namespace json = boost::json;
namespace asio = boost::asio;
using keystore::key_record;

namespace {

std::string subject_reason(const policy::identity& caller, std::string_view act) {
  return "action [" + std::string(act) + "] is unauthorized for " + caller.subject();
}

}  // namespace

// ---- POST|PUT /_security/api_key ------------------------------------------------------------

asio::awaitable<http::gateway_response> create_api_key(security_api_context& ctx,
                                                       const security_api_request& req) {
  const auto& caller = req.caller;
  params p;
  if (auto e = check_params(req, {"refresh"}, p)) co_return error_response(*e);
  if (const std::string* refresh = p.get("refresh"); refresh && *refresh != "" &&
                                                     *refresh != "true" && *refresh != "false" &&
                                                     *refresh != "wait_for")
    co_return error_response(illegal_argument("Unknown value for refresh: [" + *refresh + "]."));
  auto parsed = parse_create_body(req.body);
  if (auto* e = std::get_if<api_error>(&parsed)) co_return error_response(*e);
  key_fields f = std::move(std::get<key_fields>(parsed));

  // A new key is always the caller's own: manage_own_api_key suffices (MOAK).
  if (access_for(caller, action::create) == key_access::none)
    co_return denied(caller, action::create, true);

  std::optional<std::int64_t> expiration;
  if (f.expiration_ms) {
    expiration = expiration_from(req.now_ms, *f.expiration_ms);
    if (!expiration)
      co_return error_response(illegal_argument("failed to parse [expiration]: out of range"));
  }

  const std::vector<policy::role_descriptor> requested =
      f.role_descriptors ? std::move(*f.role_descriptors) : std::vector<policy::role_descriptor>{};
  json::object role_descriptors = policy::to_json(requested);
  std::optional<json::object> limited_by_key;
  if (caller.is_api_key()) {
    // A key may mint keys, but never wider than itself (interface.md §5; CVE-2020-7009). ES
    // refuses any privilege here; esgate allows what it can prove to be a subset.
    if (!requested.empty() && !policy::is_subset_of(requested, caller.effective))
      co_return http::forbidden(
          subject_reason(caller, action::create) +
          ", the requested role descriptors exceed the privileges of the creating API key");
    // The new key is also limited by the creating key, recorded as limited_by_key. The creator
    // is itself its descriptors ∩ its own limited_by_key: carry whichever is provably narrower.
    const auto& own = caller.api_key_descriptors;
    std::vector<policy::role_descriptor> creator;
    if (caller.api_key_limited_by_key && !caller.api_key_limited_by_key->empty()) {
      auto c = policy::parse_role_descriptors_json(*caller.api_key_limited_by_key);
      if (!c.ok())  // fail closed: the creating key's own limit is unreadable
        co_return http::forbidden(subject_reason(caller, action::create) +
                                  ", the privileges of the creating API key cannot be verified");
      creator = std::move(c.roles);
    }
    if (creator.empty()) {
      limited_by_key = policy::to_json(own);
    } else if (own.empty()) {
      limited_by_key = policy::to_json(creator);
    } else if (policy::is_subset_of(own, policy::permission(policy::compile(creator)))) {
      limited_by_key = policy::to_json(own);
    } else if (policy::is_subset_of(creator, policy::permission(policy::compile(own)))) {
      limited_by_key = policy::to_json(creator);
    } else if (!requested.empty()) {
      // The requested descriptors were proven within the creator's effective permission, and
      // they bound the new key whatever its limited_by_key says.
      limited_by_key = policy::to_json(own);
    } else {
      // Inheriting from a key limited twice: keep both layers, one as the new key's own
      // descriptors, the other as its limited_by_key.
      role_descriptors = policy::to_json(own);
      limited_by_key = policy::to_json(creator);
    }
  }

  std::string secret = auth::generate_key_secret();
  std::string hash;
  // (No co_await inside ?: — g++ 12 destroys the temporary too early.)
  if (ctx.hashing != config::key_hashing::pbkdf2)
    hash = auth::hash_ssha256(secret);
  else if (ctx.hash_secret)
    hash = co_await ctx.hash_secret(secret);
  else
    hash = auth::hash_pbkdf2(secret);

  key_record rec;
  rec.name = *f.name;
  rec.type = "rest";
  rec.creation = req.now_ms;
  rec.expiration = expiration;
  rec.username = caller.username;
  rec.realm = std::string(owner_realm);
  rec.realm_type = std::string(policy::file_realm_type);
  rec.metadata = f.metadata ? std::move(*f.metadata) : json::object{};
  rec.role_descriptors = std::move(role_descriptors);
  rec.limited_by_key = std::move(limited_by_key);
  rec.api_key_hash = std::move(hash);
  boost::system::error_code failure;
  for (int attempt = 0; attempt < 3; ++attempt) {
    rec.id = auth::generate_key_id();
    auto r = co_await ctx.store.create(rec);
    failure = r ? boost::system::error_code{} : r.error();
    if (failure != keystore::errc::key_exists) break;
  }
  if (failure) co_return store_failure(failure);
  // Other instances may hold a negative cache entry for this id.
  if (ctx.on_keys_changed) ctx.on_keys_changed({rec.id});

  json::object out;
  out["id"] = rec.id;
  out["name"] = rec.name;
  if (rec.expiration) out["expiration"] = *rec.expiration;
  out["api_key"] = secret;
  out["encoded"] = auth::encode_api_key(rec.id, secret);
  std::fill(secret.begin(), secret.end(), '\0');
  co_return json_response(out);
}

// ---- updates --------------------------------------------------------------------------------

namespace {

struct update_outcome {
  enum class kind { updated, noop, failed } k = kind::failed;
  api_error error;
};

api_error not_owned(const std::string& id) {
  return api_error{404, "resource_not_found_exception",
                   "no API key owned by requesting user found for ID [" + id + "]"};
}

// One key, compare-and-set with a few retries (AKS updateApiKeys; noop detection as isNoop: no
// expiration sent and descriptors/metadata unchanged). The owner's roles are not snapshotted in
// esgate (keys follow the owner's current roles), and limited_by_key is kept as it is: an update
// by the owner never widens what the creating key allowed.
asio::awaitable<update_outcome> update_one(security_api_context& ctx,
                                           const policy::identity& caller, const std::string& id,
                                           const key_fields& f, std::int64_t now) {
  using k = update_outcome::kind;
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto got = co_await ctx.store.get(id);
    if (!got) co_return update_outcome{k::failed, store_error(got.error())};
    if (!*got || !owned_by(**got, caller)) co_return update_outcome{k::failed, not_owned(id)};
    key_record rec = std::move(**got);
    if (rec.invalidated)
      co_return update_outcome{k::failed,
                               illegal_argument("cannot update invalidated API key [" + id + "]")};
    if (rec.expiration && *rec.expiration <= now)
      co_return update_outcome{k::failed,
                               illegal_argument("cannot update expired API key [" + id + "]")};
    if (rec.type != "rest")
      co_return update_outcome{k::failed,
                               illegal_argument("cannot update API key of type [" + rec.type +
                                                "] while expected type is [rest]")};
    bool changed = false;
    if (f.role_descriptors) {
      json::object rd = policy::to_json(*f.role_descriptors);
      if (rd != rec.role_descriptors) {
        rec.role_descriptors = std::move(rd);
        changed = true;
      }
    }
    if (f.metadata && *f.metadata != rec.metadata) {
      rec.metadata = *f.metadata;
      changed = true;
    }
    if (f.expiration_ms) {
      auto exp = expiration_from(now, *f.expiration_ms);
      if (!exp)
        co_return update_outcome{k::failed,
                                 illegal_argument("failed to parse [expiration]: out of range")};
      rec.expiration = exp;
      changed = true;
    }
    if (!changed) co_return update_outcome{k::noop, {}};
    auto r = co_await ctx.store.update(rec);
    if (r) co_return update_outcome{k::updated, {}};
    if (r.error() == keystore::errc::version_conflict) continue;
    if (r.error() == keystore::errc::key_not_found)
      co_return update_outcome{k::failed, not_owned(id)};
    co_return update_outcome{k::failed, store_error(r.error())};
  }
  co_return update_outcome{
      k::failed, api_error{409, "version_conflict_engine_exception",
                           "[" + id + "]: version conflict, the API key changed concurrently"}};
}

std::optional<http::gateway_response> update_preflight(const security_api_request& req,
                                                       std::string_view act) {
  const auto& caller = req.caller;
  if (access_for(caller, act) == key_access::none) return denied(caller, act, true);
  if (caller.is_api_key())
    return error_response(illegal_argument(
        "authentication via API key not supported: only the owner user can update an API key"));
  return std::nullopt;
}

}  // namespace

asio::awaitable<http::gateway_response> update_api_key(security_api_context& ctx,
                                                       const security_api_request& req,
                                                       const std::string& id) {
  params p;
  if (auto e = check_params(req, {}, p)) co_return error_response(*e);
  auto parsed = parse_update_body(req.body);
  if (auto* e = std::get_if<api_error>(&parsed)) co_return error_response(*e);
  const key_fields& f = std::get<key_fields>(parsed);
  if (auto r = update_preflight(req, action::update)) co_return std::move(*r);

  auto outcome = co_await update_one(ctx, req.caller, id, f, req.now_ms);
  if (outcome.k == update_outcome::kind::failed) co_return error_response(outcome.error);
  const bool updated = outcome.k == update_outcome::kind::updated;
  if (updated && ctx.on_keys_changed) ctx.on_keys_changed({id});
  co_return json_response(json::object{{"updated", updated}});
}

asio::awaitable<http::gateway_response> bulk_update_api_keys(security_api_context& ctx,
                                                             const security_api_request& req) {
  params p;
  if (auto e = check_params(req, {}, p)) co_return error_response(*e);
  auto parsed = parse_bulk_update_body(req.body);
  if (auto* e = std::get_if<api_error>(&parsed)) co_return error_response(*e);
  const key_fields& f = std::get<key_fields>(parsed);
  if (auto r = update_preflight(req, action::bulk_update)) co_return std::move(*r);

  std::vector<std::string> ids;
  for (auto& id : *f.ids)
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  json::array updated, noops;
  json::object details;
  std::vector<std::string> changed;
  for (const auto& id : ids) {
    auto o = co_await update_one(ctx, req.caller, id, f, req.now_ms);
    switch (o.k) {
      case update_outcome::kind::updated:
        updated.emplace_back(id);
        changed.push_back(id);
        break;
      case update_outcome::kind::noop:
        noops.emplace_back(id);
        break;
      case update_outcome::kind::failed:
        if (o.error.status == 503) {
          if (!changed.empty() && ctx.on_keys_changed) ctx.on_keys_changed(changed);
          co_return error_response(o.error);
        }
        details[id] = json::object{{"type", o.error.type}, {"reason", o.error.reason}};
        break;
    }
  }
  if (!changed.empty() && ctx.on_keys_changed) ctx.on_keys_changed(changed);
  json::object out;
  out["updated"] = std::move(updated);
  out["noops"] = std::move(noops);
  if (!details.empty()) {
    const std::size_t count = details.size();
    out["errors"] = json::object{{"count", count}, {"details", std::move(details)}};
  }
  co_return json_response(out);
}

}  // namespace esgate::admin::detail
