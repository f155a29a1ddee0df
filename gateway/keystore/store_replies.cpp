#include "store_replies.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace esgate::keystore::detail {

using boost::system::error_code;
using boost::system::result;

error_code failure(const redis_response& r) {
  return r.ec ? r.ec : error_code(make_error_code(errc::unexpected_reply));
}

std::optional<std::int64_t> parse_score(const redis_reply& r) {
  // Beyond 2^53 a double's text no longer names one integer; such a score is not one of ours.
  constexpr std::int64_t max_exact = std::int64_t{1} << 53;
  if (!r.is_string() || r.str.empty()) return std::nullopt;
  const char* begin = r.str.data();
  const char* end = begin + r.str.size();
  std::int64_t v = 0;
  if (auto [p, ec] = std::from_chars(begin, end, v); ec == std::errc() && p == end)
    return v >= -max_exact && v <= max_exact ? std::optional<std::int64_t>(v) : std::nullopt;
  double d = 0;
  auto [p, ec] = std::from_chars(begin, end, d);
  if (ec != std::errc() || p != end || !std::isfinite(d) || std::fabs(d) > double(max_exact))
    return std::nullopt;
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

result<void> create_outcome(const redis_response& r) {
  if (!r.ok() || !r.reply.is_integer()) return failure(r);
  if (r.reply.integer == 0) return make_error_code(errc::key_exists);
  // Only the script's 1 means written: any other number is not an answer it gives.
  if (r.reply.integer != 1) return make_error_code(errc::unexpected_reply);
  return {};
}

result<std::optional<key_record>> get_outcome(const redis_response& record,
                                              const redis_response& score, std::string_view id) {
  if (!record.ok()) return record.ec;
  if (record.reply.is_nil()) return std::optional<key_record>{};
  if (!record.reply.is_string()) return make_error_code(errc::unexpected_reply);
  auto parsed = from_json_text(record.reply.str);
  if (!parsed) return parsed.error();
  if (parsed->id != id) return make_error_code(errc::corrupt_record);
  if (score.ok()) parsed->last_used = parse_score(score.reply);
  return std::optional<key_record>(std::move(*parsed));
}

result<std::vector<key_record>> get_many_outcome(const redis_response& records,
                                                 const redis_response& scores,
                                                 const std::vector<std::string>& ids) {
  if (!records.ok() || !records.reply.is_array() || records.reply.elements.size() != ids.size())
    return failure(records);
  const bool have_scores =
      scores.ok() && scores.reply.is_array() && scores.reply.elements.size() == ids.size();
  std::vector<key_record> out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto& e = records.reply.elements[i];
    if (!e.is_string()) continue;  // nil: missing
    auto parsed = from_json_text(e.str);
    if (!parsed || parsed->id != ids[i]) continue;  // corrupt: skipped (documented)
    if (have_scores) parsed->last_used = parse_score(scores.reply.elements[i]);
    out.push_back(std::move(*parsed));
  }
  return out;
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

result<std::vector<key_record>> invalidate_read(const redis_response& mget,
                                                const std::vector<std::string>& pending,
                                                std::int64_t now_ms, invalidate_result& out) {
  if (!mget.ok() || !mget.reply.is_array() || mget.reply.elements.size() != pending.size())
    return failure(mget);
  std::vector<key_record> updates;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    const auto& e = mget.reply.elements[i];
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
    updates.push_back(std::move(*rec));
  }
  return updates;
}

std::vector<std::string> invalidate_written(const std::vector<redis_response>& rs,
                                            const std::vector<key_record>& written,
                                            invalidate_result& out) {
  std::vector<std::string> again;
  for (std::size_t i = 0; i < written.size(); ++i) {
    const std::string& id = written[i].id;
    if (i >= rs.size()) {
      out.errors.emplace_back(id, make_error_code(errc::unexpected_reply));
      continue;
    }
    auto ec = update_outcome(rs[i]);
    if (!ec)
      out.invalidated.push_back(id);
    else if (ec == errc::version_conflict)
      again.push_back(id);  // changed under us: read again
    else if (ec == errc::key_not_found)
      out.not_found.push_back(id);
    else
      out.errors.emplace_back(id, ec);
  }
  return again;
}

error_code first_failure(const std::vector<redis_response>& rs) {
  for (const auto& r : rs)
    if (!r.ok()) return r.ec;
  return {};
}

}  // namespace esgate::keystore::detail
