#pragma once
// API key records in Redis, on top of redis_client.
//
// Redis schema (P = redis.prefix, default "esgate:"):
//
//   P key:<id>                       STRING  the whole record as one JSON object (to_json(), minus
//                                            last_used): id, name, type ("rest"), creation (epoch
//                                            ms), expiration (ms, absent = never), invalidated,
//                                            invalidation (ms), username, realm ("default_file" |
//                                            "_es_api_key"), realm_type, metadata {},
//                                            role_descriptors {}, limited_by_key {} (only for keys
//                                            created by a key), api_key_hash ("{SSHA256}…" or
//                                            "{PBKDF2}…" — never the secret), version (bumped by
//                                            every update). One string = one atomic read.
//   P idx:owner:<realm>:<username>   SET     ids of the keys that owner created
//   P idx:name:<name>                SET     ids of the keys with that exact name
//   P idx:all                        ZSET    every id, scored by creation ms (listing order)
//   P last_used                      ZSET    id → last use (epoch ms); kept apart from the record
//   so
//                                            the hot path's batched touches (ZADD GT) never race
//                                            with updates or need a read
//   P events                         channel PUBLISHed after every update/invalidation: the key id,
//                                            or "*" for "drop every cached key"
//
// Records are never deleted here (Elasticsearch also keeps invalidated keys for a while); the
// indexes therefore never point at a missing record except after manual edits, which readers
// tolerate (missing ids are skipped).
//
// Atomicity: create and update are Lua scripts (EVAL), so the record and its indexes change
// together and a concurrent writer on another gateway cannot interleave. WATCH/MULTI is not used
// because the connection is shared (pipelined) by every coroutine of the thread.
//
// Errors: transport failures come back as errc::timeout / disconnected / closed (is_unavailable()
// is true: answer 503 unless the key is cached); record outcomes as errc::key_exists,
// key_not_found, version_conflict, invalid_record, corrupt_record.
#include "esgate/keystore/key_record.hpp"
#include "esgate/keystore/redis_client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace esgate::keystore {

struct invalidate_result {
  std::vector<std::string> invalidated;             // newly invalidated by this call
  std::vector<std::string> previously_invalidated;  // already invalidated before
  std::vector<std::string> not_found;               // no such key
  std::vector<std::pair<std::string, boost::system::error_code>> errors;  // could not be done
};

class key_store {
 public:
  // `client` must outlive the store. `prefix` is redis.prefix.
  explicit key_store(redis_client& client, std::string prefix = "esgate:");

  const std::string& prefix() const noexcept { return prefix_; }
  std::string record_key(std::string_view id) const;
  std::string owner_index_key(std::string_view realm, std::string_view username) const;
  std::string name_index_key(std::string_view name) const;
  std::string all_index_key() const;
  std::string last_used_key() const;
  std::string events_channel() const;

  // Writes the record and its indexes atomically; errc::key_exists if the id is taken,
  // errc::invalid_record for an empty id or a realm containing ':' (it would make owner index keys
  // ambiguous). The stored version is rec.version (normally 0).
  boost::asio::awaitable<boost::system::result<void>> create(key_record rec);

  // nullopt = no such key; an error = could not tell (unavailable) or the record is corrupt.
  boost::asio::awaitable<boost::system::result<std::optional<key_record>>> get(std::string id);

  // Found records in the order of `ids`; missing and corrupt ones are skipped.
  boost::asio::awaitable<boost::system::result<std::vector<key_record>>> get_many(
      std::vector<std::string> ids);

  boost::asio::awaitable<boost::system::result<std::vector<std::string>>> list_ids_by_owner(
      std::string realm, std::string username);
  boost::asio::awaitable<boost::system::result<std::vector<std::string>>> list_ids_by_name(
      std::string name);
  // Every id, oldest first.
  boost::asio::awaitable<boost::system::result<std::vector<std::string>>> list_all_ids();

  // Compare-and-set: succeeds only if the stored version still equals rec.version, then stores the
  // record with version + 1 and publishes its id on events_channel(). id, name, username and realm
  // are immutable (errc::invalid_record); errc::key_not_found, errc::version_conflict otherwise.
  boost::asio::awaitable<boost::system::result<void>> update(key_record rec);

  // Marks the keys invalidated at now_ms (read, compare-and-set, retried on conflicts) and
  // publishes each newly invalidated id.
  boost::asio::awaitable<boost::system::result<invalidate_result>> invalidate(
      std::vector<std::string> ids, std::int64_t now_ms);

  // Records last use times in one pipelined batch; a time never moves backwards (ZADD GT).
  // Best effort: the hot path may ignore the outcome.
  boost::asio::awaitable<boost::system::error_code> touch_last_used(
      std::vector<std::pair<std::string, std::int64_t>> uses);

  // Publishes `payload` (an id, or "*") on events_channel().
  boost::asio::awaitable<boost::system::error_code> publish(std::string payload);

 private:
  redis_client& client_;
  std::string prefix_;
};

}  // namespace esgate::keystore
