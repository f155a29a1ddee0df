#include "esgate/keystore/key_store.hpp"

#include "store_replies.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
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

std::string storage_text(key_record rec) {
  rec.last_used.reset();  // lives in P last_used
  return boost::json::serialize(to_json(rec));
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
  co_return detail::create_outcome(r);
}

asio::awaitable<result<std::optional<key_record>>> key_store::get(std::string id) {
  std::vector<redis_client::command_args> cmds{{"GET", record_key(id)},
                                               {"ZSCORE", last_used_key(), id}};
  auto rs = co_await client_.pipeline(std::move(cmds));
  co_return detail::get_outcome(rs.at(0), rs.at(1), id);
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
  co_return detail::get_many_outcome(rs.at(0), rs.at(1), ids);
}

asio::awaitable<result<std::vector<std::string>>> key_store::list_ids_by_owner(
    std::string realm, std::string username) {
  redis_client::command_args cmd{"SMEMBERS", owner_index_key(realm, username)};
  auto r = co_await client_.command(std::move(cmd));
  auto ids = detail::string_array(r);
  if (ids) std::sort(ids->begin(), ids->end());  // SET order is arbitrary; be deterministic
  co_return ids;
}

asio::awaitable<result<std::vector<std::string>>> key_store::list_ids_by_name(std::string name) {
  redis_client::command_args cmd{"SMEMBERS", name_index_key(name)};
  auto r = co_await client_.command(std::move(cmd));
  auto ids = detail::string_array(r);
  if (ids) std::sort(ids->begin(), ids->end());
  co_return ids;
}

asio::awaitable<result<std::vector<std::string>>> key_store::list_all_ids() {
  redis_client::command_args cmd{"ZRANGE", all_index_key(), "0", "-1"};
  auto r = co_await client_.command(std::move(cmd));
  co_return detail::string_array(r);
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

}  // namespace

asio::awaitable<result<void>> key_store::update(key_record rec) {
  if (rec.id.empty()) co_return make_error_code(errc::invalid_record);
  auto cmd = update_command(*this, rec, update_script);
  auto r = co_await client_.command(std::move(cmd));
  if (auto ec = detail::update_outcome(r)) co_return ec;
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
    auto read = detail::invalidate_read(got, pending, now_ms, out);
    if (!read) co_return read.error();
    pending.clear();
    if (read->empty()) break;
    std::vector<redis_client::command_args> updates;
    for (const auto& rec : *read) updates.push_back(update_command(*this, rec, update_script));
    auto rs = co_await client_.pipeline(std::move(updates));
    pending = detail::invalidate_written(rs, *read, out);
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
  co_return detail::first_failure(rs);
}

asio::awaitable<error_code> key_store::publish(std::string payload) {
  redis_client::command_args cmd{"PUBLISH", events_channel(), std::move(payload)};
  auto r = co_await client_.command(std::move(cmd));
  co_return r.ok() ? error_code{} : r.ec;
}

}  // namespace esgate::keystore
