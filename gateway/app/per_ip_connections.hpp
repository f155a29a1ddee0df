#pragma once
// Connections open at once per client address, across every I/O thread (limits.max_connections_per_ip):
// one client cannot take every connection slot. Counted at accept and when the session ends, so
// the lock is taken once per connection, never per request.
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace esgate::app {

class per_ip_connections {
 public:
  // False (and nothing counted) when `ip` already holds `limit` connections.
  bool try_open(const std::string& ip, std::size_t limit) {
    std::lock_guard lock(m_);
    auto& n = open_[ip];
    if (n >= limit) return false;
    ++n;
    return true;
  }
  void close(const std::string& ip) {
    std::lock_guard lock(m_);
    auto it = open_.find(ip);
    if (it == open_.end()) return;
    if (--it->second == 0) open_.erase(it);
  }

 private:
  std::mutex m_;
  std::unordered_map<std::string, std::size_t> open_;
};

}  // namespace esgate::app
