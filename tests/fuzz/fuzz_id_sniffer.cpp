// esgate-fuzz-deps: esgate::cursor
// Input: one byte choosing a split position, then a response body. The sniffer must never
// crash, and the body fed whole, split at that position, or byte by byte must give the same
// ids. The request-side parsers (scroll ids in bodies, keep-alives) run on the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "esgate/cursor/cursor.hpp"

namespace cursor = esgate::cursor;

namespace {

bool same(const std::vector<cursor::context_ref>& a, const std::vector<cursor::context_ref>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].k != b[i].k || a[i].id != b[i].id) return false;
  return true;
}

cursor::id_sniffer make() { return cursor::id_sniffer(cursor::kind::pit, true, true, true); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t cut = data[0] % (body.size() + 1);

  auto whole = make();
  whole.feed(body);
  auto split = make();
  split.feed(body.substr(0, cut));
  split.feed(body.substr(cut));
  auto bytes = make();
  for (std::size_t i = 0; i < body.size(); ++i) bytes.feed(body.substr(i, 1));

  const auto expect = whole.found();
  if (!same(expect, split.found()) || !same(expect, bytes.found())) std::abort();
  for (const auto& r : expect)
    if (r.id.size() > 64 * 1024) std::abort();

  auto ids = cursor::scroll_ids_in_body(body);
  if (body.size() < 4096) (void)cursor::parse_keep_alive(body);
  (void)ids;
  return 0;
}
