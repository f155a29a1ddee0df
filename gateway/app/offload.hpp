#pragma once
// Slow hashing (bcrypt, PBKDF2) runs on the crypto pool, never on an I/O thread.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>

namespace esgate::app {

// Runs `work` on `pool` and resumes the awaiting coroutine on its own executor with the result.
// (`co_await post(pool.get_executor(), use_awaitable)` does not move a coroutine: post invokes
// the completion through the awaiting coroutine's executor, so the work after it would still run
// on the I/O thread and stall every connection of that thread.)
// `work` should capture by reference (the awaiting caller outlives it): g++ 12 copies closures
// that own a std::string bitwise somewhere on the way into the spawned coroutine (ASan: free of a
// short string's inline buffer).
template <class Work>
boost::asio::awaitable<std::invoke_result_t<Work&>> on_pool(boost::asio::thread_pool& pool,
                                                            Work work) {
  using result = std::invoke_result_t<Work&>;
  return boost::asio::co_spawn(
      pool.get_executor(), [work]() mutable -> boost::asio::awaitable<result> { co_return work(); },
      boost::asio::use_awaitable);
}

}  // namespace esgate::app
