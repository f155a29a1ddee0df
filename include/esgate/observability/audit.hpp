#pragma once
// The audit log: one JSON line per security event, in Elasticsearch's audit format and with its
// event names
// (https://www.elastic.co/guide/en/elasticsearch/reference/current/audit-event-types.html, the
// `logfile` output: `@timestamp`, `event.type`, `event.action`, `user.name`, `user.realm`,
// `authentication.type`, `origin.address`, `url.path`, `request.method`, `request.id`, `action`,
// `indices`, `opaque_id`, ...). README "Operations / Audit log" documents every field.
//
// Written off the I/O threads: the I/O thread formats the line (one allocation: the line) and
// offers it to a bounded lock-free queue; a full queue drops the line and counts it
// (`esgate_audit_events_dropped_total`), it never waits. One writer thread per log appends the
// lines to a file, reopened by path on SIGHUP (logrotate moves the file, esgate reopens it), or
// to stderr. The access log (logging.access_log) uses the same writer.
//
// Never in a record: secrets, passwords, Authorization values, API key secrets or encoded keys.
// Callers pass ids, names, paths without query strings and reason codes only.
//
// key                     default
// audit.enabled           false
// audit.file              absent or "-" = stderr; a path = that file (opened 0640, appended)
// audit.events.include    all events (ES xpack.security.audit.logfile.events.include)
// audit.events.exclude    [authentication_success, access_granted, shadow_granted] unless include
// names them audit.queue_size        10000 lines waiting for the writer; beyond, lines are dropped
// and counted
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace esgate::observability {

enum class audit_event : std::uint8_t {
  authentication_success,
  authentication_failed,
  access_granted,
  access_denied,
  anonymous_access_denied,
  tampered_request,
  security_config_change,
  shadow_granted,  // esgate: the shadow policy (security.shadow_roles_file) would grant
  shadow_denied,   // ... would deny; logged only when it differs from the live decision
};
inline constexpr unsigned audit_event_count = 9;

using audit_event_set = std::uint32_t;
constexpr audit_event_set audit_bit(audit_event e) { return 1u << static_cast<unsigned>(e); }
constexpr audit_event_set all_audit_events = (1u << audit_event_count) - 1;
// Every event except one per successful request: authentication_success (not in Elasticsearch's
// default either), access_granted (as the issue asks; ES's default has it) and its shadow twin.
// With these off, a granted request writes no line (bench/RESULTS.md: an event costs ~16,000
// instructions, a third of a proxied request).
constexpr audit_event_set default_audit_events =
    all_audit_events & ~audit_bit(audit_event::authentication_success) &
    ~audit_bit(audit_event::access_granted) & ~audit_bit(audit_event::shadow_granted);

std::string_view to_string(audit_event e) noexcept;
std::optional<audit_event> parse_audit_event(std::string_view name) noexcept;

// One event. Every field is a view valid only for the append_audit_json() call; empty fields and
// lists are left out of the line.
struct audit_record {
  audit_event event = audit_event::access_denied;
  std::int64_t time_us = 0;              // microseconds since the epoch (system clock); 0 = now
  std::string_view request_id;           // the gateway's own id of the request
  std::string_view opaque_id;            // the client's X-Opaque-Id
  std::string_view origin_address;       // client IP
  std::string_view method, url_path;     // url_path without the query string
  std::string_view authentication_type;  // REALM | API_KEY | ANONYMOUS
  std::string_view user, realm;
  std::span<const std::string> roles;
  std::string_view api_key_id, api_key_name;
  std::string_view action;  // transport action, e.g. indices:data/read/search
  std::span<const std::string> indices;
  std::string_view decision;  // "allow" | "deny" (access and shadow events)
  std::string_view reason;    // reason code or the denial (it names the privilege that decides)
  int status = 0;             // HTTP status answered, 0 = unknown
  // security_config_change: what changed (ES event.action, e.g. create_apikey,
  // invalidate_apikeys, reload_policy), its outcome (success|failure) and the key ids touched.
  std::string_view change, outcome;
  std::span<const std::string> api_key_ids;
  std::string_view changed_key_name;  // create_apikey: the new key's name
  std::string_view live_decision;     // shadow events: what the live policy decided
};

// Appends one JSON line (ending in '\n') to `out`. Strings are escaped per RFC 8259: quotes,
// backslashes and control characters as \" \\ \n \u00XX; bytes that are not valid UTF-8 become
// U+FFFD, so the line is always valid JSON and valid UTF-8 whatever the client sent.
void append_audit_json(std::string& out, const audit_record& r);
void append_json_string(std::string& out, std::string_view s);
// "2026-12-07T11:25:00.123456Z"
void append_timestamp(std::string& out, std::int64_t time_us);
std::int64_t now_us() noexcept;

// A bounded multi-producer multi-consumer queue (D. Vyukov's array queue): try_push and try_pop
// never block and never allocate; a full queue refuses. Capacity rounded up to a power of two.
template <class T>
class bounded_queue {
 public:
  explicit bounded_queue(std::size_t capacity) {
    std::size_t n = 2;
    while (n < capacity) n <<= 1;
    cells_ = std::make_unique<cell[]>(n);
    mask_ = n - 1;
    for (std::size_t i = 0; i < n; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }
  std::size_t capacity() const { return mask_ + 1; }

  bool try_push(T&& v) {
    std::size_t pos = tail_.load(std::memory_order_relaxed);
    for (;;) {
      cell& c = cells_[pos & mask_];
      const std::size_t seq = c.seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos);
      if (diff == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          c.value = std::move(v);
          c.seq.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;  // full
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
  }

  bool try_pop(T& out) {
    std::size_t pos = head_.load(std::memory_order_relaxed);
    for (;;) {
      cell& c = cells_[pos & mask_];
      const std::size_t seq = c.seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos + 1);
      if (diff == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          out = std::move(c.value);
          c.value = T{};
          c.seq.store(pos + mask_ + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;  // empty
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
  }

 private:
  struct cell {
    std::atomic<std::size_t> seq;
    T value;
  };
  std::unique_ptr<cell[]> cells_;
  std::size_t mask_ = 0;
  alignas(64) std::atomic<std::size_t> tail_{0};
  alignas(64) std::atomic<std::size_t> head_{0};
};

// Lines from any thread, written by one thread of its own to a file (reopened by path on
// reopen()) or to stderr (path empty or "-"). offer() never blocks.
class line_writer {
 public:
  // `dropped` counts refused lines (may be null). Throws std::runtime_error when the file cannot
  // be opened at start.
  line_writer(std::string path, std::size_t queue_size, void (*on_drop)() = nullptr);
  ~line_writer();  // writes what is queued, then joins the thread
  line_writer(const line_writer&) = delete;
  line_writer& operator=(const line_writer&) = delete;

  bool offer(std::string&& line);  // false = queue full, dropped and counted
  void reopen();                   // async: the writer thread reopens the file by its path
  void flush();                    // waits until everything offered so far is written (tests)
  std::uint64_t dropped() const { return dropped_count_.load(std::memory_order_relaxed); }
  const std::string& path() const { return path_; }

 private:
  void run();
  bool open_file(std::string& problem);
  void write_out(const std::string& bytes);

  std::string path_;
  int fd_ = -1;
  bool to_stderr_ = false;
  bounded_queue<std::string> queue_;
  void (*on_drop_)();  // counts the drop in the metrics (a function: the metrics are per thread)
  std::atomic<std::uint64_t> dropped_count_{0};
  std::atomic<std::uint64_t> offered_{0}, written_{0};
  std::atomic<bool> stop_{false}, reopen_{false}, sleeping_{false};
  std::mutex mutex_;
  std::condition_variable wake_, written_cv_;
  std::thread thread_;
};

// One line of the access log (logging.access_log). Durations in microseconds, -1 = not measured
// (the request ended before that phase). `path` never carries the query string.
struct access_record {
  std::int64_t time_us = 0;  // 0 = now
  std::string_view request_id, opaque_id, client_ip, method, path;
  int status = 0;
  std::uint64_t bytes_in = 0, bytes_out = 0;
  std::int64_t authn_us = -1, authz_us = -1, upstream_us = -1, total_us = -1;
  std::string_view user, realm, api_key_id, node;
};
// json: one JSON object; otherwise logfmt (key=value, values quoted and escaped when needed).
void append_access_line(std::string& out, const access_record& r, bool json);

struct audit_options {
  std::string file;  // empty or "-" = stderr
  audit_event_set events = default_audit_events;
  std::size_t queue_size = 10000;
};

class audit_log {
 public:
  // Throws std::runtime_error when the file cannot be opened.
  explicit audit_log(const audit_options& o);
  bool wants(audit_event e) const { return (events_ & audit_bit(e)) != 0; }
  // Formats and queues the record (if its event is selected); never blocks.
  void record(const audit_record& r);
  line_writer& writer() { return writer_; }

 private:
  audit_event_set events_;
  line_writer writer_;
};

}  // namespace esgate::observability
