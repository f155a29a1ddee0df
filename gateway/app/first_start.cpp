#include "first_start.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "esgate/auth/key_material.hpp"
#include "esgate/auth/password.hpp"
#include "esgate/observability/log.hpp"

namespace esgate::app {

bool bootstrap_users_file(const config::settings& s) {
  const auto& path = s.security.users_file;
  if (std::filesystem::exists(path)) return true;
  const std::string password = auth::generate_key_secret();  // 128 random bits
  const std::string hash = auth::hash_password(password);
  const std::string tmp = path + ".tmp";
  {
    // Owner-only: the file holds password hashes.
    auto old = ::umask(077);
    std::ofstream out(tmp, std::ios::trunc);
    ::umask(old);
    out << "# Users of the file realm \"default_file\" (HTTP Basic). Generated at first start.\n"
           "# Add users with hashes from `esgate hash-password`; reload with SIGHUP.\n"
           "users:\n"
           "  admin:\n"
           "    password_hash: \""
        << hash
        << "\"\n"
           "    roles: [\"superuser\"]\n";
    if (!out) {
      spdlog::error("cannot write {}", tmp);
      return false;
    }
  }
  std::filesystem::rename(tmp, path);
  const std::string scheme = s.listen.tls ? "https" : "http";
  const std::string base = scheme + "://" + s.listen.address + ":" + std::to_string(s.listen.port);
  std::printf(
      "\n"
      "-------------------------------------------------------------------------------\n"
      "esgate first start: created the superuser \"admin\" in %s\n"
      "\n"
      "  password for admin: %s\n"
      "\n"
      "It is shown only this once; only its bcrypt hash is stored. Next steps:\n"
      "\n"
      "1. Create an API key that may only read the \"books\" index:\n"
      "\n"
      "  curl -u 'admin:%s' -X POST '%s/_security/api_key' \\\n"
      "    -H 'Content-Type: application/json' -d '{\n"
      "      \"name\": \"books-read-only\",\n"
      "      \"role_descriptors\": { \"books-read-only\": { \"cluster\": [],\n"
      "        \"indices\": [ { \"names\": [\"books\"], \"privileges\": [\"read\"] } ] } } }'\n"
      "\n"
      "2. Use the \"encoded\" value of the response:\n"
      "\n"
      "  curl -H 'Authorization: ApiKey <encoded>' '%s/books/_search'\n"
      "-------------------------------------------------------------------------------\n\n",
      path.c_str(), password.c_str(), password.c_str(), base.c_str(), base.c_str());
  std::fflush(stdout);
  return true;
}

}  // namespace esgate::app
