#include "hiredis_asio.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <hiredis/async.h>

#include <memory>

namespace esgate::keystore::detail {

namespace {

namespace asio = boost::asio;
using boost::system::error_code;

struct events : std::enable_shared_from_this<events> {
  events(redisAsyncContext* a, const asio::any_io_executor& ex) : ac(a), sd(ex) {}
  ~events() { release(); }
  events(const events&) = delete;
  events& operator=(const events&) = delete;

  // Deregisters the fd from the reactor (pending waits complete with operation_aborted) without
  // closing it: hiredis closes its own fd in redisFree.
  void release() {
    if (sd.is_open()) (void)sd.release();
  }

  void arm_read() {
    if (!ac || !want_read || read_waiting) return;
    read_waiting = true;
    sd.async_wait(asio::posix::descriptor_base::wait_read,
                  [self = shared_from_this()](const error_code& ec) {
                    self->read_waiting = false;
                    if (!self->ac || ec == asio::error::operation_aborted) return;
                    if (self->want_read) redisAsyncHandleRead(self->ac);
                    // hiredis may have freed the context in there (self->ac is then null); while
                    // connecting it does not re-add interest itself, so re-arm from our flags.
                    self->arm_read();
                  });
  }

  void arm_write() {
    if (!ac || !want_write || write_waiting) return;
    write_waiting = true;
    sd.async_wait(asio::posix::descriptor_base::wait_write,
                  [self = shared_from_this()](const error_code& ec) {
                    self->write_waiting = false;
                    if (!self->ac || ec == asio::error::operation_aborted) return;
                    if (self->want_write) redisAsyncHandleWrite(self->ac);
                    self->arm_write();
                  });
  }

  redisAsyncContext* ac;  // null once hiredis called cleanup: from then on touch nothing of it
  asio::posix::stream_descriptor sd;
  bool want_read = false;     // hiredis wants read readiness (addRead without delRead)
  bool want_write = false;    // likewise for write
  bool read_waiting = false;  // an async_wait(wait_read) is outstanding
  bool write_waiting = false;
};

// What ac->ev.data points at: hiredis's strong reference to the adapter state, dropped in cleanup.
struct holder {
  std::shared_ptr<events> ev;
};

events& get(void* privdata) { return *static_cast<holder*>(privdata)->ev; }

void add_read(void* privdata) {
  auto& e = get(privdata);
  e.want_read = true;
  e.arm_read();
}

void del_read(void* privdata) { get(privdata).want_read = false; }

void add_write(void* privdata) {
  auto& e = get(privdata);
  e.want_write = true;
  e.arm_write();
}

void del_write(void* privdata) { get(privdata).want_write = false; }

void cleanup(void* privdata) {
  auto* h = static_cast<holder*>(privdata);
  std::shared_ptr<events> e = std::move(h->ev);
  delete h;
  if (e->ac) {
    // Make any further hook call a no-op (newer hiredis may call cleanup twice).
    e->ac->ev.data = nullptr;
    e->ac->ev.addRead = nullptr;
    e->ac->ev.delRead = nullptr;
    e->ac->ev.addWrite = nullptr;
    e->ac->ev.delWrite = nullptr;
    e->ac->ev.cleanup = nullptr;
  }
  e->ac = nullptr;
  e->want_read = e->want_write = false;
  e->release();
  // `e` may die here, or live on in outstanding wait handlers until they run and see ac == null.
}

}  // namespace

bool hiredis_asio_attach(redisAsyncContext* ac, const asio::any_io_executor& ex) {
  if (ac == nullptr || ac->ev.data != nullptr || ac->c.fd < 0) return false;
  auto e = std::make_shared<events>(ac, ex);
  error_code ec;
  e->sd.assign(ac->c.fd, ec);
  if (ec) return false;
  ac->ev.data = new holder{e};
  ac->ev.addRead = &add_read;
  ac->ev.delRead = &del_read;
  ac->ev.addWrite = &add_write;
  ac->ev.delWrite = &del_write;
  ac->ev.cleanup = &cleanup;
  // A non-blocking connect completes with writability (hiredis checks SO_ERROR then).
  e->want_write = true;
  e->arm_write();
  return true;
}

}  // namespace esgate::keystore::detail
