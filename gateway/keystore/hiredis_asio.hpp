#pragma once
// Drives a hiredis 0.14 redisAsyncContext from an Asio executor (hiredis ships no Asio adapter).
//
// hiredis asks for readiness through the ev.addRead/delRead/addWrite/delWrite hooks and calls
// ev.cleanup when it frees the context — possibly from inside redisAsyncHandleRead/Write, i.e.
// from inside our own completion handler. The adapter state therefore lives in a shared_ptr that
// every pending wait holds, and cleanup only flips it to "detached": a handler that wakes up
// afterwards (or returns from hiredis after cleanup) sees that and touches nothing. This is the
// same problem hiredis adapters/libevent.h solves with its in-callback/pending-free flags.
//
// The fd belongs to hiredis (redisFree closes it), so the Asio descriptor never owns it: cleanup
// release()s it, which also deregisters it from the reactor before hiredis closes it.
#include <boost/asio/any_io_executor.hpp>

struct redisAsyncContext;

namespace esgate::keystore::detail {

// Installs the hooks on `ac` (whose fd must be valid) and starts waiting for writability, the
// signal hiredis uses for "connect finished". Returns false if hooks were already installed.
bool hiredis_asio_attach(redisAsyncContext* ac, const boost::asio::any_io_executor& ex);

}  // namespace esgate::keystore::detail
