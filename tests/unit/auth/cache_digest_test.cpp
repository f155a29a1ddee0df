#include "esgate/auth/cache_digest.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

using namespace esgate::auth;

namespace {

std::array<unsigned char, 32> counting_key() {
  std::array<unsigned char, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(i);
  return key;
}

std::string hex(const cache_digest& d) {
  std::string out;
  char buf[3];
  for (auto b : d) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  return out;
}

}  // namespace

TEST_CASE("cache_digester computes HMAC-SHA256 over length-prefixed parts",
          "[auth][cache_digest]") {
  // /usr/bin/python3 -c 'import hmac,hashlib,struct; k=bytes(range(32));
  //   a=b"VuaCfGcBCdbkQm-e5aOx"; b=b"ui2lp2axTNmsyakw9tvNnw";
  //   print(hmac.new(k, struct.pack(">Q",len(a))+a+struct.pack(">Q",len(b))+b,
  //   hashlib.sha256).hexdigest())'
  cache_digester d(counting_key());
  CHECK(hex(d.digest("VuaCfGcBCdbkQm-e5aOx", "ui2lp2axTNmsyakw9tvNnw")) ==
        "a9b7ddf5939bcf73658854ddb3da7b6f0151df49cb9429b279c466b2f215f90b");
  // Same with a = b = b"".
  CHECK(hex(d.digest("")) == "ff921230177d146ee8401eb82173128410002ba6f997e8e837e804407c8cdd38");
}

TEST_CASE("cache_digester separates parts and keys", "[auth][cache_digest]") {
  cache_digester d(counting_key());
  auto base = d.digest("ab", "c");
  CHECK(equal(base, d.digest("ab", "c")));
  CHECK_FALSE(equal(base, d.digest("a", "bc")));  // length prefixes prevent shifting
  CHECK_FALSE(equal(base, d.digest("abc")));
  CHECK_FALSE(equal(base, d.digest("ab", "C")));
  CHECK_FALSE(equal(d.digest("", "x"), d.digest("x", "")));

  cache_digester random1, random2;
  CHECK_FALSE(equal(random1.digest("ab", "c"), random2.digest("ab", "c")));
  CHECK_FALSE(equal(random1.digest("ab", "c"), base));

  cache_digester moved(std::move(random1));
  CHECK(equal(moved.digest("ab", "c"), moved.digest("ab", "c")));
  random2 = std::move(moved);
  CHECK(random2.digest("x") == random2.digest("x"));
}

TEST_CASE("equal compares every byte", "[auth][cache_digest]") {
  cache_digest a{};
  cache_digest b{};
  CHECK(equal(a, b));
  for (std::size_t i = 0; i < a.size(); ++i) {
    b = a;
    b[i] ^= 1;
    CHECK_FALSE(equal(a, b));
  }
}

TEST_CASE("cache_digester is safe to share between threads", "[auth][cache_digest]") {
  const cache_digester d(counting_key());
  const auto expected = d.digest("VuaCfGcBCdbkQm-e5aOx", "ui2lp2axTNmsyakw9tvNnw");
  std::vector<std::thread> threads;
  std::array<int, 4> mismatches{};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if (!equal(d.digest("VuaCfGcBCdbkQm-e5aOx", "ui2lp2axTNmsyakw9tvNnw"), expected))
          ++mismatches[static_cast<std::size_t>(t)];
        (void)d.digest(std::to_string(i), "noise");
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(mismatches == std::array<int, 4>{});
}
