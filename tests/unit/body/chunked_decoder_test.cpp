// The strict chunked decoder (threats.md: request smuggling). Every framing class is run whole,
// split in two at every byte boundary and byte by byte: the body, the verdict and the number of
// bytes consumed must not depend on how the bytes arrived.
#include "esgate/body/chunked_decoder.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace body = esgate::body;

namespace {

using namespace std::string_literals;

enum class outcome { done, failed, more };

struct result {
  std::string body;
  outcome verdict = outcome::more;
  std::size_t consumed = 0;
  std::string error;
};

// Feeds `pieces` in order as a caller would: each piece until it is used up, the decoder stops
// consuming, or the body ends.
result run(const std::vector<std::string_view>& pieces) {
  body::chunked_decoder d;
  result r;
  for (auto piece : pieces) {
    while (!piece.empty() && !d.done() && !d.failed()) {
      const auto s = d.next(piece);
      REQUIRE(s.consumed <= piece.size());
      if (!s.data.empty()) {  // zero-copy: a view into what was given
        REQUIRE(s.data.data() >= piece.data());
        REQUIRE(s.data.data() + s.data.size() <= piece.data() + s.consumed);
      }
      r.body.append(s.data);
      r.consumed += s.consumed;
      piece.remove_prefix(s.consumed);
      if (s.consumed == 0) REQUIRE((d.done() || d.failed()));  // progress on non-empty input
    }
  }
  r.verdict = d.done() ? outcome::done : d.failed() ? outcome::failed : outcome::more;
  r.error = d.error();
  CHECK(d.body_bytes() == r.body.size());
  CHECK(d.error().empty() == !d.failed());
  return r;
}

result run_whole(std::string_view in) { return run({in}); }

result run_bytes(std::string_view in) {
  std::vector<std::string_view> pieces;
  for (std::size_t i = 0; i < in.size(); ++i) pieces.push_back(in.substr(i, 1));
  return run(pieces);
}

void check_same(const result& a, const result& b) {
  CHECK(a.body == b.body);
  CHECK(a.verdict == b.verdict);
  CHECK(a.consumed == b.consumed);
  CHECK(a.error == b.error);
}

// Split points: all of them for small inputs, a sample (with both ends) for large ones.
std::vector<std::size_t> cuts(std::size_t n) {
  std::vector<std::size_t> out;
  const std::size_t stride = n <= 600 ? 1 : 61;
  for (std::size_t i = 0; i <= n; i += stride) out.push_back(i);
  for (std::size_t i = n > 40 ? n - 40 : 0; i <= n; ++i) out.push_back(i);
  return out;
}

struct framing_case {
  const char* name;
  std::string input;
  outcome verdict;
  std::string body;
  std::size_t consumed;  // for `failed`: the offset of the offending byte
  std::string error;     // substring of error()
};

constexpr std::size_t all = static_cast<std::size_t>(-1);

std::string hex16(std::string digits) { return std::string(16 - digits.size(), '0') + digits; }

std::vector<framing_case> cases() {
  const std::string ext4096 = "1;" + std::string(4095, 'a');    // 4096 bytes after the size
  const std::string ext4097 = "1;" + std::string(4096, 'a');    // one too many
  const std::string spaces = "1" + std::string(5000, ' ') + ";";  // BWS counts too
  // Trailer section of exactly 16384 bytes: "X: vvv\r\n" + final "\r\n".
  const std::string trailer_ok = "0\r\nX: " + std::string(16384 - 7, 'v') + "\r\n\r\n";
  const std::string trailer_big = "0\r\nX: " + std::string(16384 - 6, 'v') + "\r\n\r\n";
  return {
      // valid
      {"single chunk", "5\r\nhello\r\n0\r\n\r\n", outcome::done, "hello", all, ""},
      {"empty body", "0\r\n\r\n", outcome::done, "", all, ""},
      {"many chunks", "1\r\na\r\n2\r\nbc\r\n3\r\ndef\r\n0\r\n\r\n", outcome::done, "abcdef", all,
       ""},
      {"extensions", "5;name=value\r\nhello\r\n0;last\r\n\r\n", outcome::done, "hello", all, ""},
      {"extension with BWS, quotes, tab", "5 \t;a=\"b c\"\t; d\r\nhello\r\n0\r\n\r\n",
       outcome::done, "hello", all, ""},
      {"extension with obs-text", "2;x=\"\xc3\xa9\"\r\nhi\r\n0\r\n\r\n", outcome::done, "hi", all,
       ""},
      {"extension of 4096 bytes", ext4096 + "\r\nx\r\n0\r\n\r\n", outcome::done, "x", all, ""},
      {"trailers dropped", "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Empty:\r\n\r\n",
       outcome::done, "hello", all, ""},
      {"trailer section of 16384 bytes", trailer_ok, outcome::done, "", all, ""},
      {"uppercase hex", "A\r\n0123456789\r\n0\r\n\r\n", outcome::done, "0123456789", all, ""},
      {"lowercase hex", "a\r\n0123456789\r\n0\r\n\r\n", outcome::done, "0123456789", all, ""},
      {"mixed-case hex", "1b\r\n" + std::string(27, 'z') + "\r\n0\r\n\r\n", outcome::done,
       std::string(27, 'z'), all, ""},
      {"leading zeros, 16 digits", hex16("A") + "\r\n0123456789\r\n" + hex16("0") + "\r\n\r\n",
       outcome::done, "0123456789", all, ""},
      {"data holding CRLF and NUL", "4\r\n\r\n\0\n\r\n0\r\n\r\n"s, outcome::done, "\r\n\0\n"s,
       all, ""},
      {"pipelined request left alone", "0\r\n\r\nGET / HTTP/1.1\r\n\r\n", outcome::done, "", 5,
       ""},
      {"pipelined after trailers", "1\r\nx\r\n0\r\nA: b\r\n\r\n0\r\n\r\n", outcome::done, "x", 17,
       ""},
      // incomplete: need more input, everything consumed
      {"nothing yet", "", outcome::more, "", 0, ""},
      {"inside data", "5\r\nhel", outcome::more, "hel", all, ""},
      {"largest size", "FFFFFFFFFFFFFFFF\r\nabc", outcome::more, "abc", all, ""},
      {"before data CRLF", "5\r\nhello", outcome::more, "hello", all, ""},
      {"before next size", "5\r\nhello\r\n", outcome::more, "hello", all, ""},
      {"missing final CRLF", "5\r\nhello\r\n0\r\n", outcome::more, "hello", all, ""},
      {"missing final LF", "0\r\n\r", outcome::more, "", all, ""},
      {"after a trailer", "0\r\nX: v\r\n", outcome::more, "", all, ""},
      {"inside extension", "5;abc", outcome::more, "", all, ""},
      // invalid chunk size lines
      {"17 digits", "00000000000000001\r\nx\r\n0\r\n\r\n", outcome::failed, "", 16,
       "more than 16 hex digits"},
      {"overflow", "10000000000000000\r\n", outcome::failed, "", 16, "more than 16 hex digits"},
      {"0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", outcome::failed, "", 1, "0x prefix"},
      {"plus sign", "+5\r\nhello\r\n", outcome::failed, "", 0, "must start with a hex digit"},
      {"minus sign", "-5\r\nhello\r\n", outcome::failed, "", 0, "must start with a hex digit"},
      {"space before size", " 5\r\nhello\r\n", outcome::failed, "", 0,
       "must start with a hex digit"},
      {"empty size", "\r\nhello\r\n", outcome::failed, "", 0, "empty chunk size"},
      {"empty size before extension", ";a\r\nhello\r\n", outcome::failed, "", 0,
       "must start with a hex digit"},
      {"not hex", "g\r\n", outcome::failed, "", 0, "must start with a hex digit"},
      {"junk after size", "5z\r\n", outcome::failed, "", 1, "unexpected character"},
      {"trailing space", "5 \r\nhello\r\n", outcome::failed, "", 2, "not followed by ';'"},
      {"BWS then junk", "5 z\r\n", outcome::failed, "", 2, "unexpected character"},
      {"bare LF after size", "5\nhello\r\n0\r\n\r\n", outcome::failed, "", 1, "bare LF"},
      {"bare CR after size", "5\rhello\r\n0\r\n\r\n", outcome::failed, "", 2,
       "CR not followed by LF"},
      {"bare LF in extension", "5;a\nhello\r\n", outcome::failed, "", 3, "bare LF"},
      {"bare CR in extension", "5;a\rb\r\n", outcome::failed, "", 4, "CR not followed by LF"},
      {"NUL in extension", "5;a\0b\r\nhello\r\n0\r\n\r\n"s, outcome::failed, "", 3,
       "control character"},
      {"DEL in extension", "5;a\x7f\r\n", outcome::failed, "", 3, "control character"},
      {"control char in extension", "5;a=\x01\r\n", outcome::failed, "", 4, "control character"},
      {"extension of 4097 bytes", ext4097 + "\r\nx\r\n0\r\n\r\n", outcome::failed, "", 4097,
       "longer than 4096 bytes"},
      {"unbounded BWS", spaces + "\r\nx\r\n", outcome::failed, "", 4097, "longer than 4096 bytes"},
      // invalid chunk data
      {"LF after data", "5\r\nhello\n0\r\n\r\n", outcome::failed, "hello", 8, "bare LF"},
      {"CR without LF after data", "5\r\nhello\r0\r\n\r\n", outcome::failed, "hello", 9,
       "not followed by LF"},
      {"short data", "5\r\nhell\r\n0\r\n\r\n", outcome::failed, "hell\r", 8, "bare LF"},
      {"long data", "5\r\nhello!\r\n0\r\n\r\n", outcome::failed, "hello", 8, "longer than"},
      {"no CRLF after data", "5\r\nhello0\r\n\r\n", outcome::failed, "hello", 8, "longer than"},
      // invalid trailer sections
      {"trailer without colon", "0\r\nnocolon\r\n\r\n", outcome::failed, "", 10,
       "expected 'name: value'"},
      {"space before colon", "0\r\nX : v\r\n\r\n", outcome::failed, "", 4, "token followed by"},
      {"empty trailer name", "0\r\n: v\r\n\r\n", outcome::failed, "", 3, "must be a token"},
      {"folded trailer", "0\r\nX: a\r\n b\r\n\r\n", outcome::failed, "", 9, "line folding"},
      {"NUL in trailer value", "0\r\nX: a\0b\r\n\r\n"s, outcome::failed, "", 7,
       "control character"},
      {"bare LF in trailer", "0\r\nX: v\nY: w\r\n\r\n", outcome::failed, "", 7, "bare LF"},
      {"bare CR in trailer", "0\r\nX: v\rY\r\n\r\n", outcome::failed, "", 8,
       "CR not followed by LF"},
      {"bare LF as final line", "0\r\n\n", outcome::failed, "", 3, "bare LF"},
      {"bare CR as final line", "0\r\n\rX", outcome::failed, "", 4, "CR not followed by LF"},
      {"trailer section too big", trailer_big, outcome::failed, "", 3 + 16384,
       "larger than 16384 bytes"},
  };
}

}  // namespace

TEST_CASE("chunked framing: whole, split at every boundary, byte by byte", "[chunked]") {
  for (const auto& c : cases()) {
    INFO(c.name);
    const result whole = run_whole(c.input);
    CHECK(whole.verdict == c.verdict);
    CHECK(whole.body == c.body);
    CHECK(whole.consumed == (c.consumed == all ? c.input.size() : c.consumed));
    if (c.verdict == outcome::failed) {
      CHECK_THAT(whole.error, Catch::Contains(c.error));
      CHECK(whole.error.size() < 160);  // quotes at most 32 input bytes
    }
    {
      INFO("byte by byte");
      check_same(whole, run_bytes(c.input));
    }
    const std::string_view in = c.input;
    for (std::size_t cut : cuts(in.size())) {
      INFO("split at " << cut);
      check_same(whole, run({in.substr(0, cut), in.substr(cut)}));
    }
  }
}

TEST_CASE("chunked errors quote at most 32 bytes of the line, escaped", "[chunked]") {
  struct {
    std::string input;
    std::string error;
  } const table[] = {
      {"0x5\r\n", "invalid chunk size line [0x]: chunk size must be plain hex digits, without a "
                  "0x prefix"},
      {"5\n", "invalid chunk size line [5\\n]: bare LF (the line must end in CRLF)"},
      {"5;a\0"s, "invalid chunk size line [5;a\\x00]: control character in a chunk extension"},
      {"1;" + std::string(40, 'a') + "\x01",
       "invalid chunk size line [1;" + std::string(30, 'a') +
           "...]: control character in a chunk extension"},
      {"5\r\nhello!", "invalid chunk data: chunk data is longer than its chunk size (CRLF "
                      "expected)"},
      {"0\r\nX : v\r\n", "invalid trailer field [X ]: field name must be a token followed by ':'"},
      {"0\r\n" + std::string(16 * 1024 + 1, 'a'),
       "invalid trailer section [" + std::string(32, 'a') +
           "...]: trailer fields are larger than 16384 bytes"},
  };
  for (const auto& t : table) {
    INFO(t.input.substr(0, 40));
    CHECK(run_whole(t.input).error == t.error);
  }
}

TEST_CASE("bytes after the final CRLF belong to the next request", "[chunked]") {
  const std::string next = "POST /_bulk HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string wire = "3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n" + next;
  body::chunked_decoder d;
  std::string_view in = wire;
  std::string out;
  while (!d.done() && !d.failed()) {
    const auto s = d.next(in);
    out.append(s.data);
    in.remove_prefix(s.consumed);
    if (s.consumed == 0) break;
  }
  REQUIRE(d.done());
  CHECK(out == "abc");
  CHECK(in == next);
  // Once done, nothing more is taken.
  const auto again = d.next(in);
  CHECK(again.consumed == 0);
  CHECK(again.data.empty());
  CHECK(d.done());
}

TEST_CASE("a failed decoder stays failed and consumes nothing more", "[chunked]") {
  body::chunked_decoder d;
  const auto s = d.next("zz\r\n");
  CHECK(s.consumed == 0);
  REQUIRE(d.failed());
  const auto t = d.next("5\r\nhello\r\n0\r\n\r\n");
  CHECK(t.consumed == 0);
  CHECK(t.data.empty());
  CHECK(d.failed());
}

TEST_CASE("one step returns at most one run of data and never more than offered", "[chunked]") {
  const std::string wire = "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n";
  body::chunked_decoder d;
  auto s = d.next(wire);
  CHECK(s.data == "abc");
  CHECK(s.consumed == 6);
  s = d.next(std::string_view(wire).substr(6, 7));  // "\r\n4\r\nde"
  CHECK(s.data == "de");
  CHECK(s.consumed == 7);
  CHECK(d.body_bytes() == 5);
}
