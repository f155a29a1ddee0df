// esgate-fuzz-deps: esgate::keystore esgate::cursor PkgConfig::HIREDIS
// Input: RESP2 bytes as a Redis server (or anything answering on its port) could send them.
// hiredis's own reader — the one inside the client's context — turns them into replies; each
// one goes through every piece of the gateway's reply handling: the owned copy (which must be
// faithful), the subscriber's push decoding, the handshake check, and what the key store and the
// cursor store make of it as the answer to each of their commands. Nothing may crash, and every
// interpretation must fail closed: a success only from the exact shape its command answers with.
#include <hiredis/hiredis.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "esgate/cursor/cursor_store.hpp"
#include "esgate/keystore/redis_reply.hpp"
#include "keystore/store_replies.hpp"

namespace ks = esgate::keystore;
using esgate::cursor::cursor_store;
using kind = ks::redis_reply::kind;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// hiredis 0.14 callocs an array's element table as soon as it reads "*<n>" (n up to 2^31): the
// server is trusted with that, the fuzzer's memory limit is not. Bigger arrays are refused here
// (a reader error, as for any protocol error); everything else is hiredis's default.
redisReplyObjectFunctions wrapped;
const redisReplyObjectFunctions* defaults = nullptr;
void* create_array(const redisReadTask* task, int elements) {
  if (elements > 1024) return nullptr;
  return defaults->createArray(task, elements);
}

std::string_view text(const redisReply& r) { return {r.str, r.len}; }

// to_reply is a faithful copy of the tree.
void same_tree(const redisReply& raw, const ks::redis_reply& copy) {
  switch (raw.type) {
    case REDIS_REPLY_STRING:
      check(copy.type == kind::string && copy.str == text(raw));
      break;
    case REDIS_REPLY_STATUS:
      check(copy.type == kind::status && copy.str == text(raw));
      break;
    case REDIS_REPLY_ERROR:
      check(copy.type == kind::error && copy.str == text(raw));
      break;
    case REDIS_REPLY_INTEGER:
      check(copy.type == kind::integer && copy.integer == raw.integer);
      break;
    case REDIS_REPLY_NIL:
      check(copy.type == kind::nil);
      break;
    case REDIS_REPLY_ARRAY:
      check(copy.type == kind::array && copy.elements.size() == raw.elements);
      for (std::size_t i = 0; i < raw.elements; ++i) same_tree(*raw.element[i], copy.elements[i]);
      break;
    default:
      std::abort();  // hiredis 0.14 makes nothing else from RESP2
  }
}

const std::string id = "AAAAAAAAAAAAAAAAAAAA";

void one_reply(const redisReply& raw, const ks::redis_response& prev) {
  const auto resp = ks::to_response(raw);
  same_tree(raw, resp.reply);
  check((resp.ec == ks::errc::server_error) == (raw.type == REDIS_REPLY_ERROR));

  // The subscriber: a message's payload is exactly the third element's bytes.
  auto ev = ks::decode_subscriber_reply(raw);
  if (ev.k != ks::subscriber_event::kind::ignored) {
    check(raw.type == REDIS_REPLY_ARRAY && raw.elements >= 3 &&
          raw.element[0]->type == REDIS_REPLY_STRING);
    if (ev.k == ks::subscriber_event::kind::message)
      check(text(*raw.element[0]) == "message" && raw.element[2]->type == REDIS_REPLY_STRING &&
            ev.payload == text(*raw.element[2]));
    else
      check(text(*raw.element[0]) == "subscribe" && ev.payload.empty());
  }
  if (ks::handshake_error(raw).empty()) check(raw.type == REDIS_REPLY_STATUS && text(raw) == "OK");

  // The key store, with this reply as the answer to each of its commands.
  if (auto score = ks::detail::parse_score(resp.reply)) {
    check(resp.reply.is_string());
    check(*score >= -(std::int64_t{1} << 53) && *score <= (std::int64_t{1} << 53));
  }
  if (ks::detail::create_outcome(resp)) check(resp.reply.is_integer() && resp.reply.integer == 1);
  if (!ks::detail::update_outcome(resp)) check(resp.reply.is_integer() && resp.reply.integer == 1);
  if (auto ids = ks::detail::string_array(resp)) {
    check(resp.ok() && resp.reply.is_array() && ids->size() == resp.reply.elements.size());
  } else if (!resp.ok()) {
    check(ids.error() == resp.ec);
  }
  check(!ks::detail::first_failure({prev, resp}) == (prev.ok() && resp.ok()));

  // GET + ZSCORE (this reply and the previous one, both ways round).
  for (const auto* pair : {&resp, &prev}) {
    const auto& record = *pair;
    const auto& score = pair == &resp ? prev : resp;
    auto got = ks::detail::get_outcome(record, score, id);
    if (got && *got) {
      check(record.ok() && record.reply.is_string() && (*got)->id == id);
      if ((*got)->last_used) check(score.ok());
    } else if (got) {
      check(record.ok() && record.reply.is_nil());
    } else if (!record.ok()) {
      check(got.error() == record.ec);
    }
  }

  // MGET + ZMSCORE and invalidate's MGET, for as many ids as the array has (and one more: that
  // must fail).
  const std::size_t n = resp.reply.is_array() ? resp.reply.elements.size() : 1;
  for (std::size_t count : {n, n + 1}) {
    std::vector<std::string> ids(count, id);
    auto many = ks::detail::get_many_outcome(resp, prev, ids);
    if (many) {
      check(resp.ok() && resp.reply.is_array() && resp.reply.elements.size() == count);
      check(many->size() <= count);
      for (const auto& r : *many) check(r.id == id);
    }
    ks::invalidate_result out;
    auto read = ks::detail::invalidate_read(resp, ids, 1700000000000, out);
    if (!read) continue;
    check(resp.reply.is_array() && resp.reply.elements.size() == count);
    check(read->size() + out.not_found.size() + out.previously_invalidated.size() +
              out.errors.size() ==
          count);
    check(out.invalidated.empty());
    for (const auto& r : *read)
      check(r.id == id && r.invalidated && r.invalidation == 1700000000000);
    // The scripts' answers: this array's elements, one per record written.
    std::vector<ks::redis_response> rs;
    for (const auto& e : resp.reply.elements) {
      ks::redis_response x;
      x.reply = e;
      if (e.is_error()) x.ec = ks::errc::server_error;
      rs.push_back(std::move(x));
    }
    ks::invalidate_result w;
    auto again = ks::detail::invalidate_written(rs, *read, w);
    check(again.size() + w.invalidated.size() + w.not_found.size() + w.errors.size() ==
          read->size());
  }

  // The cursor store.
  if (cursor_store::bind_outcome(resp)) check(resp.reply.is_status("OK"));
  auto l = cursor_store::lookup_outcome(resp);
  if (l.ok) check(resp.reply.is_nil() || (resp.reply.is_string() && l.owner == resp.reply.str));
  if (!l.ok) check(!l.owner);
  if (cursor_store::extend_outcome(resp)) check(resp.reply.is_integer() && resp.reply.integer == 1);
  if (cursor_store::forget_outcome(resp)) check(resp.reply.is_integer());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  redisReader* reader = redisReaderCreate();
  if (defaults == nullptr) {
    defaults = reader->fn;
    wrapped = *defaults;
    wrapped.createArray = &create_array;
  }
  reader->fn = &wrapped;
  // Fed in two parts, as replies arrive over a socket.
  const std::size_t cut = size / 2;
  redisReaderFeed(reader, reinterpret_cast<const char*>(data), cut);
  bool second = false;
  ks::redis_response prev;  // the previous reply (nil before the first)
  for (int replies = 0; replies < 64;) {
    void* r = nullptr;
    if (redisReaderGetReply(reader, &r) != REDIS_OK) break;  // protocol error: connection dropped
    if (r == nullptr) {
      if (second) break;
      redisReaderFeed(reader, reinterpret_cast<const char*>(data) + cut, size - cut);
      second = true;
      continue;
    }
    auto* raw = static_cast<redisReply*>(r);
    one_reply(*raw, prev);
    prev = ks::to_response(*raw);
    freeReplyObject(raw);
    ++replies;
  }
  redisReaderFree(reader);
  return 0;
}
