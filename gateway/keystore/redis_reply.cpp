#include "esgate/keystore/redis_reply.hpp"

#include <hiredis/hiredis.h>

namespace esgate::keystore {

namespace {

std::string_view text_of(const redisReply& r) {
  return r.str != nullptr ? std::string_view(r.str, r.len) : std::string_view();
}

}  // namespace

redis_reply to_reply(const redisReply& r) {
  redis_reply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = redis_reply::kind::string;
      out.str = text_of(r);
      break;
    case REDIS_REPLY_STATUS:
      out.type = redis_reply::kind::status;
      out.str = text_of(r);
      break;
    case REDIS_REPLY_ERROR:
      out.type = redis_reply::kind::error;
      out.str = text_of(r);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = redis_reply::kind::integer;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = redis_reply::kind::array;
      out.elements.reserve(r.elements);
      for (std::size_t i = 0; i < r.elements; ++i)
        out.elements.push_back(r.element[i] != nullptr ? to_reply(*r.element[i]) : redis_reply{});
      break;
    default:  // REDIS_REPLY_NIL
      break;
  }
  return out;
}

redis_response to_response(const redisReply& r) {
  redis_response out;
  out.reply = to_reply(r);
  if (out.reply.is_error()) out.ec = errc::server_error;
  return out;
}

subscriber_event decode_subscriber_reply(const redisReply& r) {
  subscriber_event ev;
  if (r.type != REDIS_REPLY_ARRAY || r.elements < 3) return ev;
  const redisReply* kind = r.element[0];
  const redisReply* payload = r.element[2];
  if (kind == nullptr || kind->type != REDIS_REPLY_STRING) return ev;
  const std::string_view k = text_of(*kind);
  if (k == "subscribe") {
    ev.k = subscriber_event::kind::subscribed;
  } else if (k == "message" && payload != nullptr && payload->type == REDIS_REPLY_STRING) {
    ev.k = subscriber_event::kind::message;
    ev.payload = text_of(*payload);
  }
  return ev;
}

std::string handshake_error(const redisReply& r) {
  if (r.type == REDIS_REPLY_STATUS && text_of(r) == "OK") return {};
  // Redis's error text never echoes the password.
  if (r.type == REDIS_REPLY_ERROR && r.len > 0) return std::string(text_of(r));
  return "unexpected reply";
}

}  // namespace esgate::keystore
