#include "esgate/body/chunked_decoder.hpp"

#include <algorithm>

namespace esgate::body {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 9110 §5.6.2 tchar.
bool is_tchar(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= '0' && u <= '9') return true;
  if ((u | 0x20) >= 'a' && (u | 0x20) <= 'z') return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// Control characters other than HTAB: never valid in an extension or a field value, and NUL,
// CR and LF are exactly what makes two parsers split a message differently.
bool is_forbidden_ctl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && u != '\t') || u == 0x7f;
}

void append_escaped(std::string& out, char c) {
  static constexpr char hex[] = "0123456789abcdef";
  const auto u = static_cast<unsigned char>(c);
  if (c == '\r') {
    out += "\\r";
  } else if (c == '\n') {
    out += "\\n";
  } else if (u < 0x20 || u >= 0x7f) {
    out += "\\x";
    out += hex[u >> 4];
    out += hex[u & 0xf];
  } else {
    out += c;
  }
}

}  // namespace

chunked_decoder::step chunked_decoder::next(std::string_view input) {
  step s;
  std::size_t i = 0;
  while (i < input.size()) {
    if (state_ == state::done || state_ == state::failed) break;
    if (state_ == state::data) {
      const auto n = static_cast<std::size_t>(
          std::min<std::uint64_t>(remaining_, static_cast<std::uint64_t>(input.size() - i)));
      s.data = input.substr(i, n);
      i += n;
      remaining_ -= n;
      body_bytes_ += n;
      if (remaining_ == 0) state_ = state::data_cr;
      break;  // one run of data per step
    }
    if (!consume_byte(input[i])) break;  // the offending byte is not consumed
    ++i;
  }
  s.consumed = i;
  return s;
}

void chunked_decoder::start_line() {
  quoted_ = 0;
  line_bytes_ = 0;
}

void chunked_decoder::fail(std::string_view where, std::string_view what) {
  error_.assign(where);
  if (quoted_ != 0) {
    error_ += " [";
    for (std::size_t i = 0; i < std::min(quoted_, quote_bytes); ++i)
      append_escaped(error_, quote_[i]);
    if (quoted_ > quote_bytes) error_ += "...";
    error_ += ']';
  }
  error_ += ": ";
  error_ += what;
  state_ = state::failed;
}

bool chunked_decoder::consume_byte(char c) {
  const bool in_line = state_ != state::data_cr && state_ != state::data_lf;
  if (in_line) {
    if (quoted_ < quote_bytes) quote_[quoted_] = c;
    ++quoted_;
  }
  switch (state_) {
    case state::size:
      on_size(c);
      break;
    case state::extension:
      on_extension(c);
      break;
    case state::size_lf:
      if (c != '\n') {
        fail("invalid chunk size line", "CR not followed by LF");
        break;
      }
      state_ = remaining_ == 0 ? state::trailer_start : state::data;
      start_line();
      break;
    case state::data_cr:
      if (c == '\n')
        fail("invalid chunk data", "bare LF after chunk data (CRLF required)");
      else if (c != '\r')
        fail("invalid chunk data", "chunk data is longer than its chunk size (CRLF expected)");
      else
        state_ = state::data_lf;
      break;
    case state::data_lf:
      if (c != '\n') {
        fail("invalid chunk data", "CR after chunk data not followed by LF");
        break;
      }
      state_ = state::size;
      digits_ = 0;
      remaining_ = 0;
      ext_seen_ = false;
      start_line();
      break;
    case state::trailer_start:
    case state::trailer_name:
    case state::trailer_value:
    case state::trailer_lf:
      on_trailer(c);
      break;
    case state::data:
    case state::done:
    case state::failed:
      break;  // not reached: next() handles these
  }
  return state_ != state::failed;
}

void chunked_decoder::on_size(char c) {
  static constexpr std::string_view where = "invalid chunk size line";
  const int v = hex_value(c);
  if (v >= 0) {
    // 16 hex digits hold any 64-bit size, so the digit limit also rules out overflow.
    if (digits_ == 16) return fail(where, "chunk size has more than 16 hex digits");
    ++digits_;
    remaining_ = remaining_ << 4 | static_cast<std::uint64_t>(v);
    return;
  }
  if (digits_ == 0) {
    if (c == '\r' || c == '\n') return fail(where, "empty chunk size");
    return fail(where, "chunk size must start with a hex digit");
  }
  switch (c) {
    case ';':
      ext_seen_ = true;
      state_ = state::extension;
      ++line_bytes_;
      return;
    case ' ':
    case '\t':
      state_ = state::extension;
      ++line_bytes_;
      return;
    case '\r':
      state_ = state::size_lf;
      return;
    case '\n':
      return fail(where, "bare LF (the line must end in CRLF)");
    case 'x':
    case 'X':
      return fail(where, "chunk size must be plain hex digits, without a 0x prefix");
    default:
      return fail(where, "unexpected character after the chunk size");
  }
}

void chunked_decoder::on_extension(char c) {
  static constexpr std::string_view where = "invalid chunk size line";
  if (c == '\r') {
    // BWS is only allowed before a `;` (RFC 9112 §7.1.1), never as trailing space.
    if (!ext_seen_) return fail(where, "whitespace after the chunk size is not followed by ';'");
    state_ = state::size_lf;
    return;
  }
  if (c == '\n') return fail(where, "bare LF (the line must end in CRLF)");
  if (++line_bytes_ > max_extension_bytes)
    return fail(where, "chunk extensions are longer than 4096 bytes");
  if (!ext_seen_) {
    if (c == ';') {
      ext_seen_ = true;
    } else if (c != ' ' && c != '\t') {
      fail(where, "unexpected character after the chunk size");
    }
    return;
  }
  if (is_forbidden_ctl(c)) fail(where, "control character in a chunk extension");
}

void chunked_decoder::on_trailer(char c) {
  static constexpr std::string_view where = "invalid trailer field";
  if (++trailer_bytes_ > max_trailer_bytes)
    return fail("invalid trailer section", "trailer fields are larger than 16384 bytes");
  switch (state_) {
    case state::trailer_start:
      if (c == '\r') {
        empty_trailer_line_ = true;
        state_ = state::trailer_lf;
      } else if (c == '\n') {
        fail("invalid chunked body", "bare LF after the last chunk (CRLF required)");
      } else if (c == ' ' || c == '\t') {
        fail(where, "obsolete line folding is not allowed");
      } else if (!is_tchar(c)) {
        fail(where, "field name must be a token");
      } else {
        state_ = state::trailer_name;
      }
      return;
    case state::trailer_name:
      if (c == ':') {
        state_ = state::trailer_value;
      } else if (c == '\r' || c == '\n') {
        fail(where, "expected 'name: value'");
      } else if (!is_tchar(c)) {
        fail(where, "field name must be a token followed by ':'");
      }
      return;
    case state::trailer_value:
      if (c == '\r') {
        empty_trailer_line_ = false;
        state_ = state::trailer_lf;
      } else if (c == '\n') {
        fail(where, "bare LF (the line must end in CRLF)");
      } else if (is_forbidden_ctl(c)) {
        fail(where, "control character in a field value");
      }
      return;
    case state::trailer_lf:
      if (c != '\n') {
        fail(empty_trailer_line_ ? "invalid chunked body" : where, "CR not followed by LF");
      } else if (empty_trailer_line_) {
        state_ = state::done;
      } else {
        state_ = state::trailer_start;
        start_line();
      }
      return;
    default:
      return;
  }
}

}  // namespace esgate::body
