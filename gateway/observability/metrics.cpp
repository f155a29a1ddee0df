#include "esgate/observability/metrics.hpp"

#include <set>

namespace esgate::observability {

registry& registry::global() {
  static registry r;
  return r;
}

metric& registry::add(std::string name, std::string labels, std::string help, bool gauge) {
  std::lock_guard lock(mutex_);
  for (auto& m : metrics_)
    if (m.name() == name && m.labels() == labels) return m;
  return metrics_.emplace_back(std::move(name), std::move(labels), std::move(help), gauge);
}

metric& registry::counter(std::string name, std::string labels, std::string help) {
  return add(std::move(name), std::move(labels), std::move(help), false);
}

metric& registry::gauge(std::string name, std::string labels, std::string help) {
  return add(std::move(name), std::move(labels), std::move(help), true);
}

std::string registry::render_prometheus() const {
  std::lock_guard lock(mutex_);
  std::string out;
  std::set<std::string> described;
  for (auto& m : metrics_) {
    if (described.insert(m.name()).second) {
      out += "# HELP " + m.name() + " " + m.help() + "\n";
      out += "# TYPE " + m.name() + (m.gauge() ? " gauge\n" : " counter\n");
    }
    out += m.name();
    if (!m.labels().empty()) out += "{" + m.labels() + "}";
    out += " " + std::to_string(m.value()) + "\n";
  }
  return out;
}

}  // namespace esgate::observability
