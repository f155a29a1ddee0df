// Tables for the CLI (see esgate/cli/table.hpp).
#include "esgate/cli/table.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <ctime>

namespace esgate::cli {

namespace {

std::size_t width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;  // count code points, not continuation bytes
  return n;
}

void rtrim(std::string& s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
}

}  // namespace

std::string render(const table& t) {
  std::vector<std::size_t> w(t.header.size(), 0);
  for (std::size_t i = 0; i < t.header.size(); ++i) w[i] = width(t.header[i]);
  for (const auto& row : t.rows)
    for (std::size_t i = 0; i < row.size() && i < w.size(); ++i)
      w[i] = std::max(w[i], width(row[i]));
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t i = 0; i < w.size(); ++i) {
      const std::string c = i < cells.size() ? cells[i] : std::string();
      out += c;
      if (i + 1 < w.size()) out += std::string(w[i] - width(c) + 2, ' ');
    }
    rtrim(out);
    return out + "\n";
  };
  std::string out = line(t.header);
  std::vector<std::string> rule;
  for (std::size_t x : w) rule.emplace_back(x, '-');
  out += line(rule);
  for (const auto& row : t.rows) out += line(row);
  if (t.rows.empty()) out += "(none)\n";
  return out;
}

std::string render_fields(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::size_t w = 0;
  for (const auto& f : fields) w = std::max(w, width(f.first));
  std::string out;
  for (const auto& [k, v] : fields) {
    std::string l = k + std::string(w - width(k) + 2, ' ') + v;
    rtrim(l);
    out += l + "\n";
  }
  return out;
}

std::string cell(const boost::json::value* v) {
  if (v == nullptr || v->is_null()) return "-";
  if (v->is_string()) return std::string(v->get_string());
  return boost::json::serialize(*v);
}

std::string iso_time(const boost::json::value* epoch_ms) {
  if (epoch_ms == nullptr || !epoch_ms->is_number()) return "-";
  boost::system::error_code ec;
  const auto ms = epoch_ms->to_number<std::int64_t>(ec);
  if (ec) return cell(epoch_ms);
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  if (gmtime_r(&secs, &tm) == nullptr) return cell(epoch_ms);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace esgate::cli
