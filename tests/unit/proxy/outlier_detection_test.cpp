// Outlier detection and the per-node circuit breaker (nodes.hpp, node_admission.hpp): when a node
// is ejected, that the last usable one never is, that pick() routes around ejected nodes and
// falls back to them only when nothing else is left, and how waiting requests get slots.
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "esgate/proxy/node_admission.hpp"
#include "esgate/proxy/nodes.hpp"

namespace proxy = esgate::proxy;
using namespace std::chrono_literals;

namespace {

std::vector<esgate::config::upstream_node> nodes(int n) {
  std::vector<esgate::config::upstream_node> out;
  for (int i = 0; i < n; ++i)
    out.push_back({"http", "127.0.0.1", static_cast<std::uint16_t>(9200 + i),
                   "http://127.0.0.1:" + std::to_string(9200 + i)});
  return out;
}

proxy::outlier_policy policy(unsigned failures, std::chrono::milliseconds base = 30s,
                             std::chrono::milliseconds max = 300s) {
  proxy::outlier_policy p;
  p.consecutive_failures = failures;
  p.base_ejection_time = base;
  p.max_ejection_time = max;
  return p;
}

// The nodes pick() hands out in `rounds` calls with nothing tried yet.
std::set<std::size_t> picked(const proxy::node_set& set, int rounds) {
  std::set<std::size_t> out;
  std::uint64_t cursor = 0;
  for (int k = 0; k < rounds; ++k)
    if (auto i = set.pick(cursor, 0)) out.insert(*i);
  return out;
}

}  // namespace

TEST_CASE("a node is ejected after the configured failures in a row, not before") {
  proxy::node_set set(nodes(3), policy(3));
  CHECK_FALSE(set.record_failure(0));
  CHECK_FALSE(set.record_failure(0));
  CHECK(set.record_failure(0));
  CHECK(set.is_ejected(0));
  CHECK(set.ejections() == 1);
  CHECK(set.ejected_count() == 1);
  CHECK(set.reachable_count() == 2);
  CHECK(picked(set, 10) == std::set<std::size_t>{1, 2});
}

TEST_CASE("a success in between starts the count again") {
  proxy::node_set set(nodes(2), policy(3));
  set.record_failure(0);
  set.record_failure(0);
  set.record_success(0);
  CHECK_FALSE(set.record_failure(0));
  CHECK_FALSE(set.record_failure(0));
  CHECK_FALSE(set.is_ejected(0));
  CHECK(set.record_failure(0));
}

TEST_CASE("the last usable node is never ejected") {
  SECTION("a single node") {
    proxy::node_set set(nodes(1), policy(1));
    for (int k = 0; k < 10; ++k) CHECK_FALSE(set.record_failure(0));
    CHECK_FALSE(set.is_ejected(0));
  }
  SECTION("two nodes failing: only the first to reach the threshold goes") {
    proxy::node_set set(nodes(2), policy(2));
    set.record_failure(0);
    set.record_failure(1);
    CHECK(set.record_failure(0));
    CHECK_FALSE(set.record_failure(1));
    CHECK_FALSE(set.is_ejected(1));
  }
  SECTION("the other node is down (refused connections)") {
    proxy::node_set set(nodes(2), policy(1));
    set.mark_down(1);
    CHECK_FALSE(set.record_failure(0));
    set.mark_up(1);
    CHECK(set.record_failure(0));
  }
  SECTION("threads racing to eject both of two nodes eject one") {
    for (int round = 0; round < 50; ++round) {
      proxy::node_set set(nodes(2), policy(1));
      std::thread a([&] { set.record_failure(0); });
      std::thread b([&] { set.record_failure(1); });
      a.join();
      b.join();
      CHECK(set.ejected_count() == 1);
    }
  }
}

TEST_CASE("consecutive_failures 0 turns ejection off") {
  proxy::node_set set(nodes(2), policy(0));
  for (int k = 0; k < 100; ++k) CHECK_FALSE(set.record_failure(0));
}

TEST_CASE("an ejected node is probed once its time has passed, and re-admitted on success") {
  proxy::node_set set(nodes(2), policy(1, 50ms));
  REQUIRE(set.record_failure(0));
  CHECK_FALSE(set.probe_due(0));
  std::this_thread::sleep_for(60ms);  // the ejection period itself is what is tested
  CHECK(set.probe_due(0));
  set.probe_failed(0);
  CHECK(set.is_ejected(0));
  CHECK_FALSE(set.probe_due(0));
  std::this_thread::sleep_for(60ms);
  CHECK(set.probe_due(0));
  set.readmit(0);
  CHECK_FALSE(set.is_ejected(0));
  CHECK(picked(set, 10) == std::set<std::size_t>{0, 1});
  // Re-admitted with a clean count.
  CHECK(set.record_failure(0));
}

TEST_CASE("the ejection time grows with each ejection, up to the maximum") {
  proxy::node_set set(nodes(2), policy(1, 40ms, 100ms));
  REQUIRE(set.record_failure(0));
  std::this_thread::sleep_for(50ms);
  REQUIRE(set.probe_due(0));
  set.readmit(0);
  REQUIRE(set.record_failure(0));  // second ejection: 80 ms
  std::this_thread::sleep_for(50ms);
  CHECK_FALSE(set.probe_due(0));
  std::this_thread::sleep_for(40ms);
  CHECK(set.probe_due(0));
}

TEST_CASE("pick falls back to an ejected node only when nothing else is left") {
  proxy::node_set set(nodes(3), policy(1));
  REQUIRE(set.record_failure(0));
  std::uint64_t cursor = 0;
  SECTION("others untried: never the ejected one") {
    CHECK(picked(set, 20) == std::set<std::size_t>{1, 2});
  }
  SECTION("the others tried: the ejected one rather than none") {
    auto i = set.pick(cursor, (1u << 1) | (1u << 2));
    REQUIRE(i);
    CHECK(*i == 0);
  }
  SECTION("a down node is not a fallback") {
    set.mark_down(0);
    CHECK_FALSE(set.pick(cursor, (1u << 1) | (1u << 2)));
  }
}

TEST_CASE("node_admission: slots, then a bounded queue, then refusals") {
  boost::asio::io_context ioc;
  proxy::node_admission a(2, 2, 1);
  using V = proxy::node_admission::verdict;
  CHECK(a.arrive(0) == V::admitted);
  CHECK(a.arrive(0) == V::admitted);
  CHECK(a.arrive(0) == V::must_wait);
  proxy::admission_waiter w(boost::asio::steady_timer(ioc, 10s));
  a.enqueue(0, w);
  CHECK(a.arrive(0) == V::refused);   // queue of one is full
  CHECK(a.arrive(1) == V::admitted);  // other nodes are counted apart
  a.release(0);                       // the slot goes to the waiter, not back to the pool
  CHECK(w.granted);
  CHECK(a.active(0) == 2);
  CHECK(a.waiting(0) == 0);
  CHECK(a.arrive(0) == V::must_wait);
  a.release(0);
  a.release(0);
  CHECK(a.active(0) == 0);
}

TEST_CASE("node_admission: a waiter that gives up leaves the queue") {
  boost::asio::io_context ioc;
  proxy::node_admission a(1, 1, 2);
  REQUIRE(a.arrive(0) == proxy::node_admission::verdict::admitted);
  proxy::admission_waiter w1(boost::asio::steady_timer(ioc, 10s));
  proxy::admission_waiter w2(boost::asio::steady_timer(ioc, 10s));
  a.enqueue(0, w1);
  a.enqueue(0, w2);
  a.abandon(0, w1);
  a.release(0);
  CHECK_FALSE(w1.granted);
  CHECK(w2.granted);
}

TEST_CASE("admission_slot releases once, also when moved") {
  proxy::node_admission a(1, 1, 0);
  {
    proxy::admission_slot s;
    REQUIRE(a.arrive(0) == proxy::node_admission::verdict::admitted);
    s = proxy::admission_slot(a, 0);
    proxy::admission_slot t(std::move(s));
    CHECK(a.active(0) == 1);
  }
  CHECK(a.active(0) == 0);
  CHECK(a.arrive(0) == proxy::node_admission::verdict::admitted);
}
