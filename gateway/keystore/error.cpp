#include "esgate/keystore/error.hpp"

#include <boost/asio/error.hpp>

#include <string>

namespace esgate::keystore {

namespace {

class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "esgate.keystore"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::timeout:
        return "redis command timed out";
      case errc::disconnected:
        return "not connected to redis";
      case errc::closed:
        return "redis client closed";
      case errc::server_error:
        return "redis returned an error";
      case errc::unsupported_command:
        return "unsupported redis command";
      case errc::key_exists:
        return "api key id already exists";
      case errc::key_not_found:
        return "api key not found";
      case errc::version_conflict:
        return "api key record changed concurrently";
      case errc::invalid_record:
        return "invalid api key record";
      case errc::corrupt_record:
        return "stored api key record is corrupt";
      case errc::unexpected_reply:
        return "unexpected reply from redis";
    }
    return "unknown keystore error";
  }
};

}  // namespace

const boost::system::error_category& keystore_category() noexcept {
  static const category c;
  return c;
}

bool is_unavailable(const boost::system::error_code& ec) noexcept {
  return ec == errc::timeout || ec == errc::disconnected || ec == errc::closed ||
         ec == boost::asio::error::operation_aborted;
}

}  // namespace esgate::keystore
