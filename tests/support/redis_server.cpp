#include "redis_server.hpp"

#include <hiredis/hiredis.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace esgate::test_support {

std::uint16_t free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("bind");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

redis_server::redis_server(std::vector<std::string> extra_args)
    : extra_args_(std::move(extra_args)) {
  char tmpl[] = "/tmp/esgate-test-redis-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
  dir_ = tmpl;
  // The chosen port may be taken between probing and binding: try a few.
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_loopback_port();
    if (spawn_and_wait()) return;
  }
  throw std::runtime_error("cannot start redis-server");
}

redis_server::~redis_server() {
  stop();
  ::rmdir(dir_.c_str());
}

void redis_server::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void redis_server::start() {
  if (pid_ > 0) return;
  for (int attempt = 0; attempt < 50; ++attempt) {  // the old socket may linger briefly
    if (spawn_and_wait()) return;
    std::this_thread::sleep_for(100ms);
  }
  throw std::runtime_error("cannot restart redis-server");
}

bool redis_server::spawn_and_wait() {
  std::vector<std::string> args{"/usr/bin/redis-server",
                                "--port",
                                std::to_string(port_),
                                "--bind",
                                "127.0.0.1",
                                "--save",
                                "",
                                "--appendonly",
                                "no",
                                "--dir",
                                dir_,
                                "--daemonize",
                                "no",
                                "--enable-debug-command",
                                "yes",
                                "--loglevel",
                                "warning"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("posix_spawn redis-server failed");
  pid_ = pid;

  std::string password;
  for (std::size_t i = 0; i + 1 < extra_args_.size(); ++i)
    if (extra_args_[i] == "--requirepass") password = extra_args_[i + 1];
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < until) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: port taken or bad arguments
      pid_ = -1;
      return false;
    }
    if (cli({"PING"}, password) == "PONG") return true;
    std::this_thread::sleep_for(20ms);
  }
  stop();
  return false;
}

namespace {

std::string render(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      return std::string(r->str, r->len);
    case REDIS_REPLY_ERROR:
      return "(error) " + std::string(r->str, r->len);
    case REDIS_REPLY_INTEGER:
      return "(integer) " + std::to_string(r->integer);
    case REDIS_REPLY_NIL:
      return "(nil)";
    case REDIS_REPLY_ARRAY: {
      std::string out = "[";
      for (std::size_t i = 0; i < r->elements; ++i) {
        if (i) out += ",";
        out += render(r->element[i]);
      }
      return out + "]";
    }
  }
  return "?";
}

struct ctx_deleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct reply_deleter {
  void operator()(void* r) const { freeReplyObject(r); }
};

}  // namespace

std::string redis_server::cli(const std::vector<std::string>& args, const std::string& password,
                              int db) const {
  timeval tv{1, 0};
  std::unique_ptr<redisContext, ctx_deleter> c(redisConnectWithTimeout("127.0.0.1", port_, tv));
  if (!c || c->err) return "(connect error)";
  redisSetTimeout(c.get(), timeval{5, 0});
  auto run = [&](const std::vector<std::string>& a) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& s : a) {
      argv.push_back(s.data());
      lens.push_back(s.size());
    }
    std::unique_ptr<void, reply_deleter> r(
        redisCommandArgv(c.get(), static_cast<int>(a.size()), argv.data(), lens.data()));
    if (!r) return std::string("(io error)");
    return render(static_cast<redisReply*>(r.get()));
  };
  if (!password.empty()) run({"AUTH", password});
  if (db != 0) run({"SELECT", std::to_string(db)});
  return run(args);
}

void run_async(std::function<asio::awaitable<void>(asio::io_context&)> body,
               std::chrono::milliseconds deadline) {
  asio::io_context ioc;
  bool finished = false;
  std::exception_ptr error;
  asio::co_spawn(ioc, body(ioc), [&](std::exception_ptr e) {
    finished = true;
    error = e;
  });
  ioc.run_for(deadline);
  if (error) std::rethrow_exception(error);
  REQUIRE(finished);
  // Nothing may outlive the test body: every client closed, every timer and wait completed.
  CHECK(ioc.stopped());
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

asio::awaitable<bool> eventually(std::function<bool()> pred, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= until) co_return false;
    co_await sleep_for(10ms);
  }
  co_return true;
}

}  // namespace esgate::test_support
