#pragma once
// Request body content codings (Content-Encoding: gzip / deflate), inflated before inspection,
// and gzip for responses the gateway rewrites. zlib, streaming.
//
// Decompression bombs: the inflated size is capped (`max_output`) and so is the ratio of
// inflated to compressed bytes (`max_ratio`, checked once more than 1 MiB has been produced);
// either -> failed() with too_large() set (the session answers 413).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace esgate::body {

enum class coding { identity, gzip, deflate };

// Parses a Content-Encoding value: "" / "identity" -> identity, "gzip" / "x-gzip" -> gzip,
// "deflate" -> deflate (case-insensitive, surrounding spaces ignored); anything else (including
// lists like "gzip, br") -> nullopt (the session answers 415).
std::optional<coding> parse_content_coding(std::string_view value);

class inflater {
 public:
  // `deflate` accepts both zlib-wrapped (RFC 1950, what HTTP means) and raw deflate streams, as
  // browsers and Netty do. `gzip` accepts concatenated members.
  inflater(coding c, std::uint64_t max_output, std::uint32_t max_ratio = 100);
  ~inflater();
  inflater(inflater&&) noexcept;
  inflater& operator=(inflater&&) noexcept;

  // Appends the inflation of `input` to `out`. `last`: no more input follows; the stream must
  // then be complete. Returns false once failed().
  bool feed(std::string_view input, std::string& out, bool last);

  bool done() const;    // the compressed stream ended (and `last` was given)
  bool failed() const;
  bool too_large() const;  // failed because of max_output or max_ratio (413, not 400)
  const std::string& error() const;  // e.g. "invalid gzip body: incorrect header check"
  std::uint64_t total_out() const;

 private:
  struct state;
  std::unique_ptr<state> s_;
};

// gzip of a whole (small) response body the gateway built or rewrote.
std::string gzip_compress(std::string_view data);

// Whether an Accept-Encoding value admits gzip (`gzip`, `x-gzip`, `*`, with q > 0).
bool accepts_gzip(std::string_view accept_encoding);

}  // namespace esgate::body
