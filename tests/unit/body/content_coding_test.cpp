// Content-Encoding handling: inflation of zlib-made gzip/deflate bodies however they are split,
// decompression bombs stopped by the output cap and the ratio cap with bounded memory, and
// corrupt, truncated or over-long streams refused.
#include "esgate/body/content_coding.hpp"

#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace body = esgate::body;

namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;

constexpr int gzip_bits = 16 + MAX_WBITS;
constexpr int zlib_bits = MAX_WBITS;
constexpr int raw_bits = -MAX_WBITS;

// Compresses with zlib itself (never with the code under test).
std::string zcompress(std::string_view data, int window_bits, int level = 6) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 16, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string zinflate_gzip(std::string_view data) {
  z_stream z{};
  REQUIRE(inflateInit2(&z, gzip_bits) == Z_OK);
  std::string out;
  char buf[4096];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  int ret = Z_OK;
  while (ret == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    ret = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  CHECK(ret == Z_STREAM_END);
  CHECK(z.avail_in == 0);
  inflateEnd(&z);
  return out;
}

// JSON-ish text that compresses about 4:1, well under any ratio cap.
std::string sample(std::size_t n, unsigned seed = 7) {
  std::mt19937 rng(seed);
  static const char* words[] = {"{\"index\":", "\"logs-", "2024.", "\"message\":", "error ",
                                "}\n",        "warn ",  "user_", "\"@timestamp\":"};
  std::string s;
  while (s.size() < n) {
    s += words[rng() % 9];
    s += std::to_string(rng() % 100000);
  }
  s.resize(n);
  return s;
}

struct outcome {
  std::string out;
  bool ok = false;
  bool done = false;
  bool failed = false;
  bool too_large = false;
  std::string error;
};

outcome inflate_pieces(body::coding c, const std::vector<std::string_view>& pieces,
                       std::uint64_t max_output = 64 * 1024 * 1024, std::uint32_t ratio = 100) {
  body::inflater inf(c, max_output, ratio);
  outcome r;
  r.ok = true;
  for (std::size_t i = 0; i < pieces.size() && r.ok; ++i)
    r.ok = inf.feed(pieces[i], r.out, i + 1 == pieces.size());
  if (pieces.empty()) r.ok = inf.feed({}, r.out, true);
  r.done = inf.done();
  r.failed = inf.failed();
  r.too_large = inf.too_large();
  r.error = inf.error();
  CHECK(r.ok == !r.failed);
  CHECK(inf.total_out() == r.out.size());
  return r;
}

outcome inflate_whole(body::coding c, std::string_view in, std::uint64_t max_output = 64 << 20,
                      std::uint32_t ratio = 100) {
  return inflate_pieces(c, {in}, max_output, ratio);
}

std::vector<std::string_view> bytes_of(std::string_view in) {
  std::vector<std::string_view> v;
  for (std::size_t i = 0; i < in.size(); ++i) v.push_back(in.substr(i, 1));
  return v;
}

void check_ok(const outcome& r, std::string_view expect) {
  CHECK(r.error == "");
  CHECK(r.ok);
  CHECK(r.done);
  CHECK_FALSE(r.too_large);
  CHECK(r.out.size() == expect.size());
  CHECK(r.out == expect);
}

void check_rejected(const outcome& r, bool too_large) {
  CHECK_FALSE(r.ok);
  CHECK(r.failed);
  CHECK_FALSE(r.done);
  CHECK(r.too_large == too_large);
  CHECK_FALSE(r.error.empty());
}

struct coded {
  const char* name;
  body::coding c;
  int bits;
};
const coded codings[] = {
    {"gzip", body::coding::gzip, gzip_bits},
    {"deflate (zlib-wrapped)", body::coding::deflate, zlib_bits},
    {"deflate (raw)", body::coding::deflate, raw_bits},
};

}  // namespace

TEST_CASE("parse_content_coding", "[coding]") {
  struct {
    std::string_view value;
    std::optional<body::coding> expect;
  } const table[] = {
      {"", body::coding::identity},          {"identity", body::coding::identity},
      {" Identity\t", body::coding::identity}, {"gzip", body::coding::gzip},
      {"GZIP", body::coding::gzip},          {"x-gzip", body::coding::gzip},
      {" X-Gzip ", body::coding::gzip},      {"deflate", body::coding::deflate},
      {"DeFlate", body::coding::deflate},    {"br", std::nullopt},
      {"gzip, br", std::nullopt},            {"gzip,gzip", std::nullopt},
      {"gzip;q=1", std::nullopt},            {"zstd", std::nullopt},
      {"compress", std::nullopt},            {"gzi", std::nullopt},
      {"gzip\0"sv, std::nullopt},            {"\"gzip\"", std::nullopt},
  };
  for (const auto& t : table) {
    INFO('[' << t.value << ']');
    CHECK(body::parse_content_coding(t.value) == t.expect);
  }
}

TEST_CASE("accepts_gzip honours q-values", "[coding]") {
  struct {
    std::string_view value;
    bool expect;
  } const table[] = {
      {"gzip", true},
      {"GZip", true},
      {"x-gzip", true},
      {"gzip, deflate, br", true},
      {"br;q=1.0, gzip;q=0.8, *;q=0.1", true},
      {" gzip ; q=0.001", true},
      {"gzip;Q=1", true},
      {"gzip;q=1.000", true},
      {"gzip;q=0", false},
      {"gzip;q=0.0", false},
      {"gzip;q=0.000", false},
      {"gzip; q=0 , deflate", false},
      {"*", true},
      {"*;q=0.5", true},
      {"*;q=0", false},
      {"gzip;q=0, *", false},  // the explicit entry wins over `*`
      {"*;q=0, gzip", true},
      {"identity", false},
      {"identity, deflate", false},
      {"", false},
      {"br", false},
      {"gzipper", false},
      {"gzip;q=2", false},     // not a qvalue: not usable
      {"gzip;q=1.5", false},
      {"gzip;q=0.0001", false},
      {"gzip;q=", false},
      {"gzip;level=1", true},
      {"deflate;q=1,x-gzip;q=0.2", true},
  };
  for (const auto& t : table) {
    INFO('[' << t.value << ']');
    CHECK(body::accepts_gzip(t.value) == t.expect);
  }
}

TEST_CASE("inflates zlib-made bodies however they are split", "[coding]") {
  const std::string small = sample(700);
  const std::string big = sample(300 * 1024, 11);
  for (const auto& k : codings) {
    INFO(k.name);
    const std::string zs = zcompress(small, k.bits);
    check_ok(inflate_whole(k.c, zs), small);
    {
      INFO("byte by byte");
      check_ok(inflate_pieces(k.c, bytes_of(zs)), small);
    }
    const std::string_view v = zs;
    for (std::size_t cut = 0; cut <= v.size(); ++cut) {
      INFO("split at " << cut);
      check_ok(inflate_pieces(k.c, {v.substr(0, cut), v.substr(cut)}), small);
    }
    const std::string zb = zcompress(big, k.bits);
    check_ok(inflate_whole(k.c, zb), big);
    const std::string_view vb = zb;
    for (std::size_t cut = 0; cut <= vb.size(); cut += 997) {
      INFO("split at " << cut);
      check_ok(inflate_pieces(k.c, {vb.substr(0, cut), vb.substr(cut, 5), vb.substr(cut + 5)}),
               big);
    }
    // Stored blocks (level 0) and an empty payload.
    check_ok(inflate_whole(k.c, zcompress(small, k.bits, 0)), small);
    check_ok(inflate_whole(k.c, zcompress("", k.bits)), "");
  }
}

TEST_CASE("gzip: concatenated members are one body", "[coding]") {
  const std::string a = sample(500, 1), b = sample(900, 2), c = "tail";
  const std::string wire = zcompress(a, gzip_bits) + zcompress(b, gzip_bits, 1) +
                           zcompress(c, gzip_bits);
  const std::string expect = a + b + c;
  check_ok(inflate_whole(body::coding::gzip, wire), expect);
  check_ok(inflate_pieces(body::coding::gzip, bytes_of(wire)), expect);
  const std::string_view v = wire;
  for (std::size_t cut = 0; cut <= v.size(); ++cut) {
    INFO("split at " << cut);
    check_ok(inflate_pieces(body::coding::gzip, {v.substr(0, cut), v.substr(cut)}), expect);
  }
  // A second member is not a second stream for deflate.
  const std::string two = zcompress(a, zlib_bits) + zcompress(b, zlib_bits);
  check_rejected(inflate_whole(body::coding::deflate, two), false);
}

TEST_CASE("trailing garbage, truncation and corruption are refused (400, not 413)",
          "[coding]") {
  const std::string plain = sample(2000, 3);
  for (const auto& k : codings) {
    INFO(k.name);
    const std::string z = zcompress(plain, k.bits);
    for (const std::string& junk : {"x"s, "\0"s, "\r\n"s, "\x1f\x8b"s, std::string(100, '\0')}) {
      INFO("junk of " << junk.size() << " bytes");
      check_rejected(inflate_whole(k.c, z + junk), false);
      check_rejected(inflate_pieces(k.c, {z, junk}), false);
    }
    // Truncated anywhere: an error once `last` is given, never a short body accepted.
    for (std::size_t n = 1; n < z.size(); n += (n < 40 ? 1 : 37)) {
      INFO("truncated to " << n);
      check_rejected(inflate_whole(k.c, std::string_view(z).substr(0, n)), false);
    }
    body::inflater partial(k.c, 1 << 20);
    std::string out;
    CHECK(partial.feed(std::string_view(z).substr(0, z.size() / 2), out, false));
    CHECK_FALSE(partial.done());
    CHECK_FALSE(partial.failed());
    // Corruption in the header, the data and the check value.
    for (std::size_t at : {std::size_t{0}, std::size_t{1}, z.size() / 2, z.size() - 1}) {
      std::string bad = z;
      bad[at] = static_cast<char>(bad[at] ^ 0x55);
      INFO("flipped byte " << at);
      const auto r = inflate_whole(k.c, bad);
      CHECK_FALSE(r.done);
      if (k.bits != raw_bits) check_rejected(r, false);  // raw deflate has no check value
      if (r.failed) CHECK_FALSE(r.too_large);
    }
  }
  const auto r = inflate_whole(body::coding::gzip, "not gzip at all");
  check_rejected(r, false);
  CHECK(r.error == "invalid gzip body: incorrect header check");
  const std::string gz = zcompress(plain, gzip_bits);
  const auto t = inflate_whole(body::coding::gzip, std::string_view(gz).substr(0, gz.size() - 3));
  CHECK(t.error == "invalid gzip body: unexpected end of the compressed stream");
  const auto g = inflate_whole(body::coding::deflate, zcompress(plain, raw_bits) + "x");
  CHECK(g.error == "invalid deflate body: trailing data after the end of the compressed stream");
}

TEST_CASE("an empty body with a coding inflates to nothing", "[coding]") {
  check_ok(inflate_pieces(body::coding::gzip, {}), "");
  check_ok(inflate_pieces(body::coding::deflate, {""}), "");
}

TEST_CASE("zlib streams needing a preset dictionary are refused", "[coding]") {
  z_stream z{};
  REQUIRE(deflateInit(&z, 6) == Z_OK);
  const std::string dict = "abcdefgh";
  REQUIRE(deflateSetDictionary(&z, reinterpret_cast<const Bytef*>(dict.data()),
                               static_cast<uInt>(dict.size())) == Z_OK);
  std::string in = "abcdefghabcdefgh", out(256, '\0');
  z.next_in = reinterpret_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  const auto r = inflate_whole(body::coding::deflate, out);
  check_rejected(r, false);
  CHECK(r.error == "invalid deflate body: preset dictionaries are not supported");
}

TEST_CASE("max_output: exactly the cap passes, one byte more is 413", "[coding]") {
  const std::string plain = sample(200 * 1024, 5);
  for (const auto& k : codings) {
    INFO(k.name);
    const std::string z = zcompress(plain, k.bits);
    check_ok(inflate_whole(k.c, z, plain.size()), plain);
    const auto r = inflate_whole(k.c, z, plain.size() - 1);
    check_rejected(r, true);
    CHECK(r.out.size() <= plain.size() - 1);
    check_rejected(inflate_pieces(k.c, bytes_of(z), plain.size() - 1), true);
  }
}

TEST_CASE("decompression bombs stop early with bounded memory", "[coding]") {
  // 100 MB of zeros, compressed by zlib in 1 MiB steps (about 100 KB of input).
  const std::string zeros(1 << 20, '\0');
  for (const auto& k : codings) {
    INFO(k.name);
    z_stream z{};
    REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, k.bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string bomb;
    char buf[16384];
    for (int i = 0; i < 100; ++i) {
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
      z.avail_in = static_cast<uInt>(zeros.size());
      const int flush = i == 99 ? Z_FINISH : Z_NO_FLUSH;
      do {
        z.next_out = reinterpret_cast<Bytef*>(buf);
        z.avail_out = sizeof buf;
        deflate(&z, flush);
        bomb.append(buf, sizeof buf - z.avail_out);
      } while (z.avail_out == 0);
    }
    deflateEnd(&z);
    REQUIRE(bomb.size() < 200 * 1024);

    // The ratio cap trips just past 1 MiB of output even though max_output would allow 1 GiB.
    const auto by_ratio = inflate_whole(k.c, bomb, std::uint64_t{1} << 30, 100);
    check_rejected(by_ratio, true);
    CHECK(by_ratio.out.size() > (1u << 20));
    CHECK(by_ratio.out.size() <= (1u << 20) + 64 * 1024);
    CHECK(by_ratio.error.find("ratio") != std::string::npos);

    // Fed in small pieces, too.
    std::vector<std::string_view> pieces;
    for (std::size_t i = 0; i < bomb.size(); i += 100)
      pieces.push_back(std::string_view(bomb).substr(i, 100));
    const auto pieced = inflate_pieces(k.c, pieces, std::uint64_t{1} << 30, 100);
    check_rejected(pieced, true);
    CHECK(pieced.out.size() <= (1u << 20) + 64 * 1024);

    // Without the ratio cap, max_output stops it, never holding more than the cap.
    const auto by_cap = inflate_whole(k.c, bomb, 10 * 1000 * 1000, 0);
    check_rejected(by_cap, true);
    CHECK(by_cap.out.size() <= 10 * 1000 * 1000);
    CHECK(by_cap.out.size() > 9 * 1000 * 1000);
    CHECK(by_cap.error.find("larger than the limit") != std::string::npos);

    // Below 1 MiB of output the ratio is not checked: 512 KiB of zeros is fine.
    const std::string half(512 * 1024, '\0');
    check_ok(inflate_whole(k.c, zcompress(half, k.bits, 9), 1 << 20, 100), half);
  }
}

TEST_CASE("feeding after the end or after a failure", "[coding]") {
  const std::string z = zcompress("hello", zlib_bits);
  body::inflater inf(body::coding::deflate, 1024);
  std::string out;
  REQUIRE(inf.feed(z, out, true));
  CHECK(inf.done());
  CHECK(inf.feed("", out, true));
  CHECK_FALSE(inf.feed("x", out, true));
  CHECK(inf.failed());
  CHECK_FALSE(inf.too_large());
  CHECK(out == "hello");
  CHECK_FALSE(inf.feed(z, out, true));

  body::inflater identity(body::coding::identity, 1024);
  CHECK(identity.failed());

  body::inflater moved = std::move(inf);
  CHECK(moved.failed());
}

TEST_CASE("gzip_compress round trips through zlib and the inflater", "[coding]") {
  std::mt19937 rng(42);
  std::string random(1 << 20, '\0');
  for (auto& ch : random) ch = static_cast<char>(rng());
  for (const std::string& plain :
       {""s, "x"s, "{\"acknowledged\":true}"s, sample(100 * 1024, 9), random}) {
    INFO(plain.size() << " bytes");
    const std::string gz = body::gzip_compress(plain);
    REQUIRE(gz.size() >= 18);
    CHECK(static_cast<unsigned char>(gz[0]) == 0x1f);
    CHECK(static_cast<unsigned char>(gz[1]) == 0x8b);
    CHECK(zinflate_gzip(gz) == plain);
    check_ok(inflate_whole(body::coding::gzip, gz, plain.size()), plain);
  }
  const std::string json = sample(100 * 1024, 9);
  CHECK(body::gzip_compress(json).size() < json.size() / 2);
}
