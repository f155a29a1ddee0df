#pragma once
// Strict, incremental decoder of a chunked request body (RFC 9112 §7.1), sans-I/O: feed bytes,
// get runs of body data (views into the input) and a verdict. Used for every chunked request
// instead of Beast 1.81's lenient chunk parser, so the client's framing bytes (size lines,
// extensions, trailers) are never forwarded and two parsers can never disagree on where a body
// ends (threats.md: request smuggling).
//
// Rules (each violation -> failed(), with an ES-style reason for a 400):
//  - chunk size: 1-16 hex digits, no overflow past 2^64-1, no `0x`, sign, leading/trailing space;
//  - chunk extensions (`;name=value`) are skipped, bounded by `max_extension_bytes` in total per
//    line, and may not contain NUL, CR or LF; BWS before `;` is allowed (RFC 9112 §7.1.1);
//  - every line ends in CRLF; a bare LF or CR is an error;
//  - chunk data is exactly `size` bytes followed by CRLF;
//  - trailer fields after the last chunk are checked for shape, bounded by `max_trailer_bytes`
//    in total, and dropped (never forwarded);
//  - bytes after the final CRLF belong to the next request and are not consumed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace esgate::body {

class chunked_decoder {
 public:
  static constexpr std::size_t max_extension_bytes = 4096;
  static constexpr std::size_t max_trailer_bytes = 16 * 1024;

  // The result of one step: `consumed` input bytes were used; `data` (a view into the input,
  // possibly empty) is body data to pass on. Call again with the rest of the input while
  // consumed != 0 and neither done() nor failed().
  struct step {
    std::size_t consumed = 0;
    std::string_view data;
  };

  step next(std::string_view input);

  bool done() const { return state_ == state::done; }
  bool failed() const { return state_ == state::failed; }
  // Why it failed, e.g. "invalid chunk size [0x10]" (for a 400 illegal_argument_exception).
  const std::string& error() const { return error_; }
  // Decoded body bytes so far.
  std::uint64_t body_bytes() const { return body_bytes_; }

 private:
  enum class state {
    size,           // hex digits of the chunk size
    extension,      // BWS and `;ext` after the size, up to CR
    size_lf,        // LF of the size line
    data,           // `remaining_` bytes of chunk data
    data_cr,        // CR after the data
    data_lf,        // LF after the data
    trailer_start,  // first byte of a trailer line (CR: end of the trailer section)
    trailer_name,   // field name, up to `:`
    trailer_value,  // field value, up to CR
    trailer_lf,     // LF of a trailer line (or of the final empty line)
    done,
    failed,
  };
  // The first bytes of the current line, only to quote them in an error reason.
  static constexpr std::size_t quote_bytes = 32;

  bool consume_byte(char c);  // framing byte; false once failed
  void on_size(char c);
  void on_extension(char c);
  void on_trailer(char c);
  void fail(std::string_view where, std::string_view what);
  void start_line();

  state state_ = state::size;
  std::string error_;
  std::uint64_t body_bytes_ = 0;
  std::uint64_t remaining_ = 0;     // chunk size being read, then data bytes left
  std::size_t digits_ = 0;          // hex digits of the current size
  std::size_t line_bytes_ = 0;      // bytes after the size digits (BWS + extensions)
  std::size_t trailer_bytes_ = 0;   // bytes of the trailer section so far
  bool ext_seen_ = false;           // a `;` was seen on this size line
  bool empty_trailer_line_ = false; // the line whose LF is awaited was the final empty line
  std::size_t quoted_ = 0;
  char quote_[quote_bytes] = {};
};

}  // namespace esgate::body
