#include "random.hpp"

#include <openssl/rand.h>

#include <climits>
#include <stdexcept>

namespace esgate::auth::detail {

void random_bytes(std::span<unsigned char> out) {
  while (!out.empty()) {
    int chunk = out.size() > INT_MAX ? INT_MAX : static_cast<int>(out.size());
    if (RAND_bytes(out.data(), chunk) != 1) throw std::runtime_error("RAND_bytes failed");
    out = out.subspan(static_cast<std::size_t>(chunk));
  }
}

}  // namespace esgate::auth::detail
