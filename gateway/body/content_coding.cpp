#include "esgate/body/content_coding.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

namespace esgate::body {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto x = static_cast<unsigned char>(a[i]);
    auto y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x | 0x20);
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y | 0x20);
    if (x != y) return false;
  }
  return true;
}

constexpr std::uint64_t ratio_floor = 1024 * 1024;  // ratio checked past 1 MiB of output
constexpr std::size_t out_chunk = 64 * 1024;
constexpr std::size_t max_zlib_in = std::size_t{1} << 30;  // zlib's avail_in is 32-bit

// RFC 1950 §2.2: CM = 8 (deflate), CINFO <= 7, and the 16-bit header is a multiple of 31.
bool looks_like_zlib_header(unsigned char cmf, unsigned char flg) {
  return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
}

}  // namespace

std::optional<coding> parse_content_coding(std::string_view value) {
  value = trim(value);
  if (value.empty() || iequals(value, "identity")) return coding::identity;
  if (iequals(value, "gzip") || iequals(value, "x-gzip")) return coding::gzip;
  if (iequals(value, "deflate")) return coding::deflate;
  return std::nullopt;
}

struct inflater::state {
  coding c;
  std::uint64_t max_output;
  std::uint32_t max_ratio;
  z_stream z{};
  bool initialised = false;
  bool at_end = false;       // a stream (gzip: member) ended and nothing of a next one was read
  bool done = false;
  bool failed = false;
  bool too_large = false;
  bool seen_input = false;
  std::string pending;       // deflate: first byte(s) held until the wrapper is known
  std::uint64_t total_in = 0;
  std::uint64_t total_out = 0;
  std::string error;
  std::array<unsigned char, out_chunk> buf{};

  state(coding cc, std::uint64_t mo, std::uint32_t mr) : c(cc), max_output(mo), max_ratio(mr) {}
  ~state() {
    if (initialised) inflateEnd(&z);
  }

  std::string_view name() const { return c == coding::gzip ? "gzip" : "deflate"; }

  bool fail(std::string_view why, bool big = false) {
    failed = true;
    too_large = big;
    error = "invalid ";
    error += name();
    error += " body: ";
    error += why;
    return false;
  }

  bool init(int window_bits) {
    if (inflateInit2(&z, window_bits) != Z_OK) return fail("cannot initialise zlib");
    initialised = true;
    return true;
  }

  bool inflate_some(std::string_view in, std::string& out);
  bool feed(std::string_view in, std::string& out, bool last);
};

bool inflater::state::inflate_some(std::string_view in, std::string& out) {
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  for (;;) {
    if (at_end && z.avail_in != 0) {
      // Only gzip allows another member; for deflate anything after the end is garbage that a
      // different parser might read as something else.
      if (c != coding::gzip) return fail("trailing data after the end of the compressed stream");
      if (inflateReset(&z) != Z_OK) return fail("cannot reset zlib");
      at_end = false;
    }
    z.next_out = buf.data();
    z.avail_out = static_cast<uInt>(buf.size());
    const uInt before_in = z.avail_in;
    const int ret = inflate(&z, Z_NO_FLUSH);
    const std::size_t produced = buf.size() - z.avail_out;
    total_in += before_in - z.avail_in;
    if (produced > max_output - total_out)  // never hold more than the cap
      return fail("inflated body is larger than the limit", true);
    out.append(reinterpret_cast<const char*>(buf.data()), produced);
    total_out += produced;
    if (max_ratio != 0 && total_out > ratio_floor && total_out / max_ratio > total_in)
      return fail("compression ratio is above the limit", true);
    switch (ret) {
      case Z_OK:
        break;
      case Z_STREAM_END:
        at_end = true;
        break;
      case Z_BUF_ERROR:  // no progress possible: needs more input
        return true;
      case Z_NEED_DICT:
        return fail("preset dictionaries are not supported");
      case Z_MEM_ERROR:
        return fail("out of memory");
      default:
        return fail(z.msg != nullptr ? z.msg : "corrupt stream");
    }
    if (z.avail_in == 0 && z.avail_out != 0) return true;
  }
}

bool inflater::state::feed(std::string_view in, std::string& out, bool last) {
  if (failed) return false;
  if (done) {
    if (!in.empty()) return fail("trailing data after the end of the compressed stream");
    return true;
  }
  if (!in.empty()) seen_input = true;
  if (!initialised) {
    if (c == coding::gzip) {
      if (!init(16 + MAX_WBITS)) return false;
    } else {
      // Decide zlib-wrapped vs raw from the first two bytes, which may arrive separately.
      if (pending.size() + in.size() < 2 && !last) {
        pending.append(in);
        return true;
      }
      std::string head = pending;
      head.append(in.substr(0, 2 - std::min<std::size_t>(2, pending.size())));
      const bool zlib = head.size() == 2 && looks_like_zlib_header(static_cast<unsigned char>(head[0]),
                                                                   static_cast<unsigned char>(head[1]));
      if (!init(zlib ? MAX_WBITS : -MAX_WBITS)) return false;
      if (!pending.empty()) {
        std::string p;
        p.swap(pending);
        if (!inflate_some(p, out)) return false;
      }
    }
  }
  while (!in.empty()) {
    const auto piece = in.substr(0, std::min(in.size(), max_zlib_in));
    if (!inflate_some(piece, out)) return false;
    in.remove_prefix(piece.size());
  }
  if (last) {
    // A request with Content-Encoding but no body at all inflates to nothing, as Netty does.
    if (!at_end && seen_input) return fail("unexpected end of the compressed stream");
    done = true;
  }
  return true;
}

inflater::inflater(coding c, std::uint64_t max_output, std::uint32_t max_ratio)
    : s_(std::make_unique<state>(c, max_output, max_ratio)) {
  if (c == coding::identity) s_->fail("identity is not a compressed coding");
}
inflater::~inflater() = default;
inflater::inflater(inflater&&) noexcept = default;
inflater& inflater::operator=(inflater&&) noexcept = default;

bool inflater::feed(std::string_view input, std::string& out, bool last) {
  return s_->feed(input, out, last);
}
bool inflater::done() const { return s_->done; }
bool inflater::failed() const { return s_->failed; }
bool inflater::too_large() const { return s_->too_large; }
const std::string& inflater::error() const { return s_->error; }
std::uint64_t inflater::total_out() const { return s_->total_out; }

std::string gzip_compress(std::string_view data) {
  z_stream z{};
  // Level 1, as nginx's gzip_comp_level default: the bodies are JSON and CPU is the cost.
  if (deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out;
  std::array<unsigned char, 16 * 1024> buf{};
  int flush = Z_NO_FLUSH;
  while (flush != Z_FINISH) {
    const auto piece = data.substr(0, std::min(data.size(), max_zlib_in));
    data.remove_prefix(piece.size());
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));
    z.avail_in = static_cast<uInt>(piece.size());
    flush = data.empty() ? Z_FINISH : Z_NO_FLUSH;
    do {
      z.next_out = buf.data();
      z.avail_out = static_cast<uInt>(buf.size());
      deflate(&z, flush);  // cannot fail: the stream is valid and output space is given
      out.append(reinterpret_cast<const char*>(buf.data()), buf.size() - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  return out;
}

bool accepts_gzip(std::string_view accept_encoding) {
  // RFC 9110 §12.5.3: an explicit gzip entry wins over `*`; q=0 means "not acceptable".
  bool explicit_seen = false;
  bool explicit_ok = false;
  bool star_seen = false;
  bool star_ok = false;
  std::string_view rest = accept_encoding;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const auto semi = item.find(';');
    const std::string_view name = trim(item.substr(0, semi));
    bool ok = true;
    std::string_view params = semi == std::string_view::npos ? std::string_view{}
                                                             : item.substr(semi + 1);
    while (!params.empty()) {
      const auto next = params.find(';');
      const std::string_view p = trim(params.substr(0, next));
      params = next == std::string_view::npos ? std::string_view{} : params.substr(next + 1);
      const auto eq = p.find('=');
      if (eq == std::string_view::npos || !iequals(trim(p.substr(0, eq)), "q")) continue;
      // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ); anything else: not usable.
      const std::string_view q = trim(p.substr(eq + 1));
      ok = false;
      if (!q.empty() && (q[0] == '0' || q[0] == '1') &&
          (q.size() == 1 || (q[1] == '.' && q.size() <= 5))) {
        bool digits_ok = true;
        bool nonzero = q[0] == '1';
        for (std::size_t i = 2; i < q.size(); ++i) {
          if (q[i] < '0' || q[i] > '9' || (q[0] == '1' && q[i] != '0')) digits_ok = false;
          if (q[i] != '0') nonzero = true;
        }
        ok = digits_ok && nonzero;
      }
    }
    if (iequals(name, "gzip") || iequals(name, "x-gzip")) {
      explicit_seen = true;
      explicit_ok = explicit_ok || ok;
    } else if (name == "*") {
      star_seen = true;
      star_ok = star_ok || ok;
    }
  }
  if (explicit_seen) return explicit_ok;
  return star_seen && star_ok;
}

}  // namespace esgate::body
