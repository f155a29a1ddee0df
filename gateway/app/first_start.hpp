#pragma once
#include "esgate/config/settings.hpp"

namespace esgate::app {

// Like Elasticsearch's first start: when the users file does not exist, create it with an `admin`
// superuser whose generated password is printed once (only its bcrypt hash is stored), together
// with the next steps. Returns false (after logging) if the file cannot be written.
bool bootstrap_users_file(const config::settings& s);

}  // namespace esgate::app
