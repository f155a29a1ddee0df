#pragma once
// What key_store makes of Redis's answers, without I/O: every reply shape a command can get back
// (wrong types, nil, error replies, short arrays, corrupt records) maps to a value or an errc
// here, so it is tested as tables (tests/unit/keystore/test_store_replies.cpp) and fuzzed with
// replies hiredis's reader built from arbitrary bytes (tests/fuzz/fuzz_redis_reply.cpp).
// Anything unexpected is an error, never a success: fail closed.
#include "esgate/keystore/key_record.hpp"
#include "esgate/keystore/key_store.hpp"
#include "esgate/keystore/redis_reply.hpp"

#include <boost/system/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace esgate::keystore::detail {

// The error of a response that is not what the command expects: its transport/server error, or
// errc::unexpected_reply when Redis answered with the wrong shape.
boost::system::error_code failure(const redis_response& r);

// A ZSCORE / ZMSCORE element: the score's text. Our scores are integral epoch ms below 2^53; a
// fractional score is rounded, anything else (nil, non-numbers, inf/nan, beyond ±2^53) is nullopt.
std::optional<std::int64_t> parse_score(const redis_reply& r);

// SMEMBERS / ZRANGE: an array of strings.
boost::system::result<std::vector<std::string>> string_array(const redis_response& r);

// The create script answers 1 (created) or 0 (the id exists).
boost::system::result<void> create_outcome(const redis_response& r);

// GET of the record and ZSCORE of its last use: nullopt = no such key; a record whose id is not
// `id` is corrupt. A failed ZSCORE only leaves last_used unset.
boost::system::result<std::optional<key_record>> get_outcome(const redis_response& record,
                                                             const redis_response& score,
                                                             std::string_view id);

// MGET of the records and ZMSCORE of their last uses, one element per id: the records found, in
// the order of `ids` (nil, non-string, corrupt or foreign elements are skipped).
boost::system::result<std::vector<key_record>> get_many_outcome(
    const redis_response& records, const redis_response& scores,
    const std::vector<std::string>& ids);

// The update script answers 1 updated, 0 not found, -1 version conflict, -2 immutable field
// changed, -3 corrupt stored record.
boost::system::error_code update_outcome(const redis_response& r);

// One round of invalidate(): the MGET of `pending`. Each id lands in exactly one place: out's
// not_found / previously_invalidated / errors, or the returned records (marked invalidated at
// now_ms) to write back with the update script. An MGET that failed or has the wrong shape is
// the error of the whole call.
boost::system::result<std::vector<key_record>> invalidate_read(
    const redis_response& mget, const std::vector<std::string>& pending, std::int64_t now_ms,
    invalidate_result& out);
// The update scripts' answers for `written` (the records invalidate_read returned, in order):
// out's invalidated / not_found / errors, or the ids to read again (changed under us). A
// response missing from `rs` is an error for its id.
std::vector<std::string> invalidate_written(const std::vector<redis_response>& rs,
                                            const std::vector<key_record>& written,
                                            invalidate_result& out);

// The first failure of a pipeline whose replies are otherwise not looked at (ZADD, PUBLISH).
boost::system::error_code first_failure(const std::vector<redis_response>& rs);

}  // namespace esgate::keystore::detail
