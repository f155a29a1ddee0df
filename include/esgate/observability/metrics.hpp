#pragma once
// A minimal metrics registry: monotonically increasing counters and gauges, lock-free to update,
// rendered in Prometheus text format for GET /_esgate/metrics. Metrics are registered once at
// start-up (labels fixed then), so the hot path only does relaxed atomic adds.
#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

namespace esgate::observability {

class metric {
 public:
  metric(std::string name, std::string labels, std::string help, bool gauge)
      : name_(std::move(name)), labels_(std::move(labels)), help_(std::move(help)), gauge_(gauge) {}
  void add(std::int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  void set(std::int64_t n) { value_.store(n, std::memory_order_relaxed); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }
  const std::string& name() const { return name_; }
  const std::string& labels() const { return labels_; }
  const std::string& help() const { return help_; }
  bool gauge() const { return gauge_; }

 private:
  std::string name_, labels_, help_;
  bool gauge_;
  std::atomic<std::int64_t> value_{0};
};

class registry {
 public:
  static registry& global();
  // labels: Prometheus label body without braces, e.g. `reason="bad_password"`; may be empty.
  metric& counter(std::string name, std::string labels, std::string help);
  metric& gauge(std::string name, std::string labels, std::string help);
  std::string render_prometheus() const;

 private:
  metric& add(std::string name, std::string labels, std::string help, bool gauge);
  mutable std::mutex mutex_;  // registration and rendering only, never the hot path
  std::deque<metric> metrics_;
};

}  // namespace esgate::observability
