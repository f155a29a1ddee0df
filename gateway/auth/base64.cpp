#include "esgate/auth/base64.hpp"

#include <array>
#include <cstdint>

namespace esgate::auth {
namespace {

constexpr char standard_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::int8_t invalid = -1;
constexpr std::int8_t padding = -2;

constexpr std::array<std::int8_t, 256> make_decode_table() {
  std::array<std::int8_t, 256> table{};
  table.fill(invalid);
  for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(standard_alphabet[i])] = i;
  table['='] = padding;
  return table;
}
constexpr auto decode_table = make_decode_table();

std::string encode(std::string_view bytes, const char* alphabet, bool pad) {
  std::string out;
  out.reserve(base64_encoded_size(bytes.size()));
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                      static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                      static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(alphabet[v >> 18 & 63]);
    out.push_back(alphabet[v >> 12 & 63]);
    out.push_back(alphabet[v >> 6 & 63]);
    out.push_back(alphabet[v & 63]);
  }
  std::size_t rest = bytes.size() - i;
  if (rest == 0) return out;
  std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
  if (rest == 2) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
  out.push_back(alphabet[v >> 18 & 63]);
  out.push_back(alphabet[v >> 12 & 63]);
  if (rest == 2) out.push_back(alphabet[v >> 6 & 63]);
  if (pad) out.append(rest == 1 ? "==" : "=");
  return out;
}

}  // namespace

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t bits = 0;
  int have = 0;  // sextets collected in the current 4-character unit
  std::size_t i = 0;
  for (; i < text.size(); ++i) {
    std::int8_t v = decode_table[static_cast<unsigned char>(text[i])];
    if (v == invalid) return std::nullopt;
    if (v == padding) {
      // '=' may only end a unit of 2 ("xx==") or 3 ("xxx=") characters.
      if (have == 2) {
        if (i + 1 >= text.size() || text[i + 1] != '=') return std::nullopt;
        i += 2;
      } else if (have == 3) {
        i += 1;
      } else {
        return std::nullopt;
      }
      break;
    }
    bits = bits << 6 | static_cast<std::uint32_t>(v);
    if (++have == 4) {
      out.push_back(static_cast<char>(bits >> 16 & 0xff));
      out.push_back(static_cast<char>(bits >> 8 & 0xff));
      out.push_back(static_cast<char>(bits & 0xff));
      bits = 0;
      have = 0;
    }
  }
  if (i < text.size()) return std::nullopt;  // anything after the padding
  switch (have) {
    case 0:
      break;
    case 1:  // a single sextet cannot carry a whole byte
      return std::nullopt;
    case 2:
      out.push_back(static_cast<char>(bits >> 4 & 0xff));
      break;
    case 3:
      out.push_back(static_cast<char>(bits >> 10 & 0xff));
      out.push_back(static_cast<char>(bits >> 2 & 0xff));
      break;
  }
  return out;
}

std::string base64_encode(std::string_view bytes) { return encode(bytes, standard_alphabet, true); }

std::string base64url_encode(std::string_view bytes) { return encode(bytes, url_alphabet, false); }

}  // namespace esgate::auth
