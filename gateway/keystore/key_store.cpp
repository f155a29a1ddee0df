#include "esgate/keystore/key_store.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <unordered_set>

namespace esgate::keystore {

namespace asio = boost::asio;
using boost::system::error_code;
using boost::system::result;

namespace {

// KEYS: record, owner index, name index, all index. ARGV: json, id, creation.
// Returns 1 when created, 0 when the id exists.
constexpr std::string_view create_script = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
return 1
)lua";

// KEYS: record. ARGV: new json, expected version, name, username, realm, channel, id.
// Returns 1 updated, 0 not found, -1 version conflict, -2 immutable field changed, -3 corrupt.
// Only reads the stored JSON (cjson would turn [] into {} if it re-encoded it).
constexpr std::string_view update_script = R"lua(
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local ok, d = pcall(cjson.decode, cur)
if not ok or type(d) ~= 'table' then return -3 end
local v = d['version']
if type(v) ~= 'number' then v = 0 end
if v ~= tonumber(ARGV[2]) then return -1 end
if d['name'] ~= ARGV[3] or d['username'] ~= ARGV[4] or d['realm'] ~= ARGV[5] then return -2 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[6], ARGV[7])
return 1
)lua";

constexpr std::size_t touch_batch = 512;  // pairs per ZADD: bounded command size
constexpr int invalidate_rounds = 5;      // compare-and-set retries under contention

error_code failure(const redis_response& r) {
  return r.ec ? r.ec : error_code(make_error_code(errc::unexpected_reply));
}

std::string storage_text(key_record rec) {
  rec.last_used.reset();  // lives in P last_used
  return boost::json::serialize(to_json(rec));
}

// ZSCORE/ZMSCORE answer with a double's text; our scores are integral ms below 2^53.
std::optional<std::int64_t> parse_score(const redis_reply& r) {
  if (!r.is_string()) return std::nullopt;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(r.str.data(), r.str.data() + r.str.size(), v);
  if (ec == std::errc() && p == r.str.data() + r.str.size()) return v;
  char* end = nullptr;
  double d = std::strtod(r.str.c_str(), &end);
  if (end == r.str.c_str() || !std::isfinite(d)) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(d));
}

result<std::vector<std::string>> string_array(const redis_response& r) {
  if (!r.ok() || !r.reply.is_array()) return failure(r);
  std::vector<std::string> out;
  out.reserve(r.reply.elements.size());
  for (const auto& e : r.reply.elements) {
    if (!e.is_string()) return make_error_code(errc::unexpected_reply);
    out.push_back(e.str);
  }
  return out;
}

}  // namespace

key_store::key_store(redis_client& client, std::string prefix)
    : client_(client), prefix_(std::move(prefix)) {}

std::string key_store::record_key(std::string_view id) const {
  return prefix_ + "key:" + std::string(id);
}
std::string key_store::owner_index_key(std::string_view realm, std::string_view username) const {
  return prefix_ + "idx:owner:" + std::string(realm) + ":" + std::string(username);
}
std::string key_store::name_index_key(std::string_view name) const {
  return prefix_ + "idx:name:" + std::string(name);
}
std::string key_store::all_index_key() const { return prefix_ + "idx:all"; }
std::string key_store::last_used_key() const { return prefix_ + "last_used"; }
std::string key_store::events_channel() const { return prefix_ + "events"; }

asio::awaitable<result<void>> key_store::create(key_record rec) {
  if (rec.id.empty() || rec.realm.find(':') != std::string::npos)
    co_return make_error_code(errc::invalid_record);
  // (Arguments are built before co_await: g++ 12 miscompiles initializer lists inside it.)
  redis_client::command_args cmd{"EVAL",
                                 std::string(create_script),
                                 "4",
                                 record_key(rec.id),
                                 owner_index_key(rec.realm, rec.username),
                                 name_index_key(rec.name),
                                 all_index_key(),
                                 storage_text(rec),
                                 rec.id,
                                 std::to_string(rec.creation)};
  auto r = co_await client_.command(std::move(cmd));
  if (!r.ok() || !r.reply.is_integer()) co_return failure(r);
  if (r.reply.integer == 0) co_return make_error_code(errc::key_exists);
  co_return result<void>{};
}

asio::awaitable<result<std::optional<key_record>>> key_store::get(std::string id) {
  std::vector<redis_client::command_args> cmds{{"GET", record_key(id)},
                                               {"ZSCORE", last_used_key(), id}};
  auto rs = co_await client_.pipeline(std::move(cmds));
  const auto& rec = rs.at(0);
  if (!rec.ok()) co_return rec.ec;
  if (rec.reply.is_nil()) co_return std::optional<key_record>{};
  if (!rec.reply.is_string()) co_return make_error_code(errc::unexpected_reply);
  auto parsed = from_json_text(rec.reply.str);
  if (!parsed) co_return parsed.error();
  if (parsed->id != id) co_return make_error_code(errc::corrupt_record);
  if (rs.at(1).ok()) parsed->last_used = parse_score(rs[1].reply);
  co_return std::optional<key_record>(std::move(*parsed));
}

asio::awaitable<result<std::vector<key_record>>> key_store::get_many(std::vector<std::string> ids) {
  std::vector<key_record> out;
  if (ids.empty()) co_return out;
  redis_client::command_args mget{"MGET"}, scores{"ZMSCORE", last_used_key()};
  for (const auto& id : ids) {
    mget.push_back(record_key(id));
    scores.push_back(id);
  }
  std::vector<redis_client::command_args> cmds;
  cmds.push_back(std::move(mget));
  cmds.push_back(std::move(scores));
  auto rs = co_await client_.pipeline(std::move(cmds));
  const auto& recs = rs.at(0);
  if (!recs.ok() || !recs.reply.is_array() || recs.reply.elements.size() != ids.size())
    co_return failure(recs);
  const bool have_scores =
      rs.at(1).ok() && rs[1].reply.is_array() && rs[1].reply.elements.size() == ids.size();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto& e = recs.reply.elements[i];
    if (!e.is_string()) continue;  // nil: missing
    auto parsed = from_json_text(e.str);
    if (!parsed || parsed->id != ids[i]) continue;  // corrupt: skipped (documented)
    if (have_scores) parsed->last_used = parse_score(rs[1].reply.elements[i]);
    out.push_back(std::move(*parsed));
  }
  co_return out;
}

asio::awaitable<result<std::vector<std::string>>> key_store::list_ids_by_owner(
    std::string realm, std::string username) {
  redis_client::command_args cmd{"SMEMBERS", owner_index_key(realm, username)};
  auto r = co_await client_.command(std::move(cmd));
  auto ids = string_array(r);
  if (ids) std::sort(ids->begin(), ids->end());  // SET order is arbitrary; be deterministic
  co_return ids;
}

asio::awaitable<result<std::vector<std::string>>> key_store::list_ids_by_name(std::string name) {
  redis_client::command_args cmd{"SMEMBERS", name_index_key(name)};
  auto r = co_await client_.command(std::move(cmd));
  auto ids = string_array(r);
  if (ids) std::sort(ids->begin(), ids->end());
  co_return ids;
}

asio::awaitable<result<std::vector<std::string>>> key_store::list_all_ids() {
  redis_client::command_args cmd{"ZRANGE", all_index_key(), "0", "-1"};
  auto r = co_await client_.command(std::move(cmd));
  co_return string_array(r);
}

namespace {

redis_client::command_args update_command(const key_store& ks, const key_record& rec,
                                          std::string_view script) {
  key_record next = rec;
  next.version = rec.version + 1;
  return {"EVAL",
          std::string(script),
          "1",
          ks.record_key(rec.id),
          storage_text(next),
          std::to_string(rec.version),
          rec.name,
          rec.username,
          rec.realm,
          ks.events_channel(),
          rec.id};
}

error_code update_outcome(const redis_response& r) {
  if (!r.ok() || !r.reply.is_integer()) return failure(r);
  switch (r.reply.integer) {
    case 1:
      return {};
    case 0:
      return errc::key_not_found;
    case -1:
      return errc::version_conflict;
    case -2:
      return errc::invalid_record;
    case -3:
      return errc::corrupt_record;
    default:
      return errc::unexpected_reply;
  }
}

}  // namespace

asio::awaitable<result<void>> key_store::update(key_record rec) {
  if (rec.id.empty()) co_return make_error_code(errc::invalid_record);
  auto cmd = update_command(*this, rec, update_script);
  auto r = co_await client_.command(std::move(cmd));
  if (auto ec = update_outcome(r)) co_return ec;
  co_return result<void>{};
}

asio::awaitable<result<invalidate_result>> key_store::invalidate(std::vector<std::string> ids,
                                                                 std::int64_t now_ms) {
  invalidate_result out;
  std::vector<std::string> pending;
  {
    std::unordered_set<std::string> seen;
    for (auto& id : ids)
      if (seen.insert(id).second) pending.push_back(std::move(id));
  }
  for (int round = 0; round < invalidate_rounds && !pending.empty(); ++round) {
    redis_client::command_args mget{"MGET"};
    for (const auto& id : pending) mget.push_back(record_key(id));
    auto got = co_await client_.command(std::move(mget));
    if (!got.ok() || !got.reply.is_array() || got.reply.elements.size() != pending.size())
      co_return failure(got);

    std::vector<redis_client::command_args> updates;
    std::vector<std::string> updating;
    for (std::size_t i = 0; i < pending.size(); ++i) {
      const auto& e = got.reply.elements[i];
      if (e.is_nil()) {
        out.not_found.push_back(pending[i]);
        continue;
      }
      auto rec = e.is_string() ? from_json_text(e.str)
                               : result<key_record>(make_error_code(errc::unexpected_reply));
      if (!rec || rec->id != pending[i]) {
        out.errors.emplace_back(pending[i], make_error_code(errc::corrupt_record));
        continue;
      }
      if (rec->invalidated) {
        out.previously_invalidated.push_back(pending[i]);
        continue;
      }
      rec->invalidated = true;
      rec->invalidation = now_ms;
      updates.push_back(update_command(*this, *rec, update_script));
      updating.push_back(pending[i]);
    }
    pending.clear();
    if (updates.empty()) break;
    auto rs = co_await client_.pipeline(std::move(updates));
    for (std::size_t i = 0; i < rs.size(); ++i) {
      auto ec = update_outcome(rs[i]);
      if (!ec)
        out.invalidated.push_back(updating[i]);
      else if (ec == errc::version_conflict)
        pending.push_back(updating[i]);  // changed under us: read again
      else if (ec == errc::key_not_found)
        out.not_found.push_back(updating[i]);
      else
        out.errors.emplace_back(updating[i], ec);
    }
  }
  for (auto& id : pending) out.errors.emplace_back(std::move(id), errc::version_conflict);
  co_return out;
}

asio::awaitable<error_code> key_store::touch_last_used(
    std::vector<std::pair<std::string, std::int64_t>> uses) {
  if (uses.empty()) co_return error_code{};
  std::vector<redis_client::command_args> cmds;
  for (std::size_t i = 0; i < uses.size(); i += touch_batch) {
    redis_client::command_args zadd{"ZADD", last_used_key(), "GT"};
    for (std::size_t j = i; j < std::min(uses.size(), i + touch_batch); ++j) {
      zadd.push_back(std::to_string(uses[j].second));
      zadd.push_back(std::move(uses[j].first));
    }
    cmds.push_back(std::move(zadd));
  }
  auto rs = co_await client_.pipeline(std::move(cmds));
  for (const auto& r : rs)
    if (!r.ok()) co_return r.ec;
  co_return error_code{};
}

asio::awaitable<error_code> key_store::publish(std::string payload) {
  redis_client::command_args cmd{"PUBLISH", events_channel(), std::move(payload)};
  auto r = co_await client_.command(std::move(cmd));
  co_return r.ok() ? error_code{} : r.ec;
}

}  // namespace esgate::keystore
