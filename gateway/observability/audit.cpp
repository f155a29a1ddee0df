#include "esgate/observability/audit.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "esgate/observability/log.hpp"
#include "esgate/observability/metrics.hpp"

namespace esgate::observability {

namespace {

constexpr std::string_view event_names[audit_event_count] = {
    "authentication_success", "authentication_failed",   "access_granted",
    "access_denied",          "anonymous_access_denied", "tampered_request",
    "security_config_change", "shadow_granted",          "shadow_denied",
};

// ES's event.type: the REST layer for authentication and malformed requests, the transport
// layer for authorization decisions, a type of its own for configuration changes.
std::string_view layer_of(audit_event e) {
  switch (e) {
    case audit_event::access_granted:
    case audit_event::access_denied:
    case audit_event::shadow_granted:
    case audit_event::shadow_denied:
      return "transport";
    case audit_event::security_config_change:
      return "security_config_change";
    default:
      return "rest";
  }
}

// Length of the valid UTF-8 sequence at s[i] (RFC 3629: no overlongs, no surrogates, nothing
// above U+10FFFF), 0 when invalid or truncated.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (b(k) < 0x80 || b(k) > 0xBF) return 0;
  return n;
}

void field(std::string& out, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  out += ',';
  append_json_string(out, key);
  out += ':';
  append_json_string(out, value);
}

void list_field(std::string& out, std::string_view key, std::span<const std::string> values) {
  if (values.empty()) return;
  out += ',';
  append_json_string(out, key);
  out += ":[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, values[i]);
  }
  out += ']';
}

}  // namespace

std::string_view to_string(audit_event e) noexcept {
  const auto i = static_cast<unsigned>(e);
  return i < audit_event_count ? event_names[i] : std::string_view("unknown");
}

std::optional<audit_event> parse_audit_event(std::string_view name) noexcept {
  for (unsigned i = 0; i < audit_event_count; ++i)
    if (event_names[i] == name) return static_cast<audit_event>(i);
  return std::nullopt;
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    // Runs of printable ASCII other than `"` and `\` (nearly every byte of a path, a name or an
    // id) are appended at once: byte by byte, the escaping was a third of an audited request's
    // instructions (bench/instructions.sh).
    std::size_t run = i;
    while (run < s.size()) {
      const auto b = static_cast<unsigned char>(s[run]);
      if (b < 0x20 || b >= 0x7F || b == '"' || b == '\\') break;
      ++run;
    }
    if (run > i) {
      out.append(s.data() + i, run - i);
      i = run;
      continue;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8_sequence(s, i);
      if (n == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER for each invalid byte
        ++i;
      } else {
        out.append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

std::int64_t now_us() noexcept {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void append_timestamp(std::string& out, std::int64_t time_us) {
  const std::time_t secs = static_cast<std::time_t>(time_us / 1'000'000);
  const auto micros = static_cast<long>(time_us % 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const int n =
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
  if (n > 0) out.append(buf, static_cast<std::size_t>(n));
}

void append_audit_json(std::string& out, const audit_record& r) {
  out += "{\"@timestamp\":\"";
  append_timestamp(out, r.time_us ? r.time_us : now_us());
  out += "\",\"type\":\"audit\"";
  field(out, "event.type", layer_of(r.event));
  if (r.event == audit_event::security_config_change && !r.change.empty())
    field(out, "event.action", r.change);
  else
    field(out, "event.action", to_string(r.event));
  if (r.event == audit_event::security_config_change) field(out, "event.category", "config");
  field(out, "event.outcome", r.outcome);
  field(out, "authentication.type", r.authentication_type);
  field(out, "user.name", r.user);
  field(out, "user.realm", r.realm);
  list_field(out, "user.roles", r.roles);
  field(out, "authentication.api_key.id", r.api_key_id);
  field(out, "authentication.api_key.name", r.api_key_name);
  if (!r.origin_address.empty()) field(out, "origin.type", "rest");
  field(out, "origin.address", r.origin_address);
  field(out, "url.path", r.url_path);
  field(out, "request.method", r.method);
  field(out, "request.id", r.request_id);
  field(out, "opaque_id", r.opaque_id);
  field(out, "action", r.action);
  list_field(out, "indices", r.indices);
  field(out, "decision", r.decision);
  field(out, "live_decision", r.live_decision);
  field(out, "reason", r.reason);
  list_field(out, "apikey.ids", r.api_key_ids);
  field(out, "apikey.name", r.changed_key_name);
  if (r.status != 0) {
    out += ",\"http.status\":";
    out += std::to_string(r.status);
  }
  out += "}\n";
}

// ---- line_writer

line_writer::line_writer(std::string path, std::size_t queue_size, void (*on_drop)())
    : path_(std::move(path)), queue_(queue_size), on_drop_(on_drop) {
  to_stderr_ = path_.empty() || path_ == "-";
  std::string problem;
  if (!to_stderr_ && !open_file(problem)) throw std::runtime_error(problem);
  thread_ = std::thread([this] { run(); });
}

line_writer::~line_writer() {
  stop_.store(true);
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
}

bool line_writer::open_file(std::string& problem) {
  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    problem = "cannot open " + path_ + ": " + std::strerror(errno);
    return false;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  return true;
}

bool line_writer::offer(std::string&& line) {
  if (!queue_.try_push(std::move(line))) {
    dropped_count_.fetch_add(1, std::memory_order_relaxed);
    if (on_drop_) on_drop_();
    return false;
  }
  offered_.fetch_add(1, std::memory_order_release);
  if (sleeping_.load()) wake_.notify_one();
  return true;
}

void line_writer::reopen() {
  reopen_.store(true);
  wake_.notify_one();
}

void line_writer::flush() {
  const auto target = offered_.load(std::memory_order_acquire);
  std::unique_lock lock(mutex_);
  wake_.notify_one();
  written_cv_.wait_for(lock, std::chrono::seconds(5),
                       [&] { return written_.load() >= target || stop_.load(); });
}

void line_writer::write_out(const std::string& bytes) {
  const int fd = to_stderr_ ? 2 : fd_;
  if (fd < 0) return;
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // disk full, closed stderr: the lines are lost, the gateway goes on
    done += static_cast<std::size_t>(n);
  }
}

void line_writer::run() {
  // A log file that is a pipe whose reader left (or a closed stderr) must not kill the gateway
  // with SIGPIPE: this thread blocks it, so write() fails with EPIPE instead.
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
  std::string batch, line;
  for (;;) {
    if (reopen_.exchange(false) && !to_stderr_) {
      std::string problem;
      if (!open_file(problem)) spdlog::warn("log reopen failed, keeping the old file: {}", problem);
    }
    std::uint64_t taken = 0;
    while (batch.size() < 256 * 1024 && queue_.try_pop(line)) {
      batch += line;
      ++taken;
    }
    if (!batch.empty()) {
      write_out(batch);
      batch.clear();
      if (batch.capacity() > 1024 * 1024) std::string().swap(batch);
    }
    if (taken) {
      written_.fetch_add(taken);
      std::lock_guard lock(mutex_);
      written_cv_.notify_all();
      continue;
    }
    if (stop_.load()) break;
    std::unique_lock lock(mutex_);
    sleeping_.store(true);
    // A wake-up lost between the check and the wait costs at most this timeout.
    wake_.wait_for(lock, std::chrono::milliseconds(50),
                   [&] { return stop_.load() || reopen_.load() || written_ < offered_.load(); });
    sleeping_.store(false);
  }
}

// ---- audit_log

audit_log::audit_log(const audit_options& o)
    : events_(o.events), writer_(o.file, o.queue_size, [] { record_audit_drop(); }) {}

void audit_log::record(const audit_record& r) {
  if (!wants(r.event)) return;
  std::string line;
  line.reserve(512);
  append_audit_json(line, r);
  writer_.offer(std::move(line));
}

}  // namespace esgate::observability

namespace esgate::observability {

namespace {

bool logfmt_bare(std::string_view v) {
  if (v.empty()) return false;
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || c == '"' || c == '=' || c == '\\') return false;
  }
  return true;
}

class line_builder {
 public:
  line_builder(std::string& out, bool json) : out_(out), json_(json) {}
  void str(std::string_view key, std::string_view v) {
    if (v.empty()) return;
    sep(key);
    if (json_ || !logfmt_bare(v))
      append_json_string(out_, v);
    else
      out_ += v;
  }
  void num(std::string_view key, std::int64_t v) {
    if (v < 0) return;
    sep(key);
    out_ += std::to_string(v);
  }
  void time(std::int64_t us) {
    sep(json_ ? "@timestamp" : "ts");
    if (json_) out_ += '"';
    append_timestamp(out_, us);
    if (json_) out_ += '"';
  }
  void end() { out_ += json_ ? "}\n" : "\n"; }

 private:
  void sep(std::string_view key) {
    if (json_) {
      out_ += first_ ? '{' : ',';
      append_json_string(out_, key);
      out_ += ':';
    } else {
      if (!first_) out_ += ' ';
      out_ += key;
      out_ += '=';
    }
    first_ = false;
  }
  std::string& out_;
  bool json_;
  bool first_ = true;
};

}  // namespace

void append_access_line(std::string& out, const access_record& r, bool json) {
  line_builder b(out, json);
  b.time(r.time_us ? r.time_us : now_us());
  if (json) b.str("type", "access");
  b.str(json ? "request.id" : "id", r.request_id);
  b.str("opaque_id", r.opaque_id);
  b.str(json ? "client.ip" : "client", r.client_ip);
  b.str(json ? "http.request.method" : "method", r.method);
  b.str(json ? "url.path" : "path", r.path);
  b.num(json ? "http.response.status_code" : "status", r.status);
  b.num(json ? "http.request.bytes" : "bytes_in", static_cast<std::int64_t>(r.bytes_in));
  b.num(json ? "http.response.bytes" : "bytes_out", static_cast<std::int64_t>(r.bytes_out));
  b.num("authn_us", r.authn_us);
  b.num("authz_us", r.authz_us);
  b.num("upstream_us", r.upstream_us);
  b.num("total_us", r.total_us);
  b.str(json ? "user.name" : "user", r.user);
  b.str(json ? "user.realm" : "realm", r.realm);
  b.str(json ? "authentication.api_key.id" : "api_key_id", r.api_key_id);
  b.str(json ? "upstream.node" : "node", r.node);
  b.end();
}

}  // namespace esgate::observability
