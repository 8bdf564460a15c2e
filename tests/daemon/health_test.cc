// The daemon's health decisions without time passing: the API watchdog's
// count of failed self-checks, the once-per-change log of writability, and
// Periodic's prompt stop.
#include "node/daemon/src/health.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

namespace keiretsu::daemon {
namespace {

TEST(ApiWatchTest, FeedsTheWatchdogOnlyWhileChecksPass) {
  int fed = 0, dead = 0;
  ApiWatch w(
      3, [&] { ++fed; }, [&](const Status&) { ++dead; });
  w.Observe(Status::Ok());
  w.Observe(Status::Ok());
  EXPECT_EQ(fed, 2);
  w.Observe(Unavailable("no answer"));
  EXPECT_EQ(fed, 2);
  EXPECT_EQ(w.failures(), 1);
  w.Observe(Status::Ok());  // one late answer is forgiven
  EXPECT_EQ(w.failures(), 0);
  EXPECT_EQ(fed, 3);
  EXPECT_EQ(dead, 0);
}

TEST(ApiWatchTest, DeclaresTheApiDeadOnceAfterEnoughFailuresInARow) {
  int fed = 0, dead = 0;
  Status last;
  ApiWatch w(
      3, [&] { ++fed; },
      [&](const Status& s) {
        ++dead;
        last = s;
      });
  w.Observe(Unavailable("a"));
  w.Observe(Unavailable("b"));
  EXPECT_EQ(dead, 0);
  w.Observe(Unavailable("c"));
  EXPECT_EQ(dead, 1);
  EXPECT_EQ(last.message(), "c");
  w.Observe(Unavailable("d"));
  EXPECT_EQ(dead, 1);
  EXPECT_EQ(fed, 0);
}

TEST(WritabilityLogTest, LogsOnlyWhenTheStateChanges) {
  WritabilityLog log;
  EXPECT_FALSE(log.Observe(Status::Ok()));  // a writable start says nothing
  EXPECT_FALSE(log.Observe(Status::Ok()));
  EXPECT_TRUE(log.Observe(ResourceExhausted("disk space low: 3 MiB free")));
  // The free space changes at every check; the state does not.
  EXPECT_FALSE(log.Observe(ResourceExhausted("disk space low: 2 MiB free")));
  EXPECT_TRUE(log.Observe(IOError("storage error")));
  EXPECT_TRUE(log.Observe(Status::Ok()));
  EXPECT_FALSE(log.Observe(Status::Ok()));
}

TEST(WritabilityLogTest, AReadOnlyStartIsLogged) {
  WritabilityLog log;
  EXPECT_TRUE(log.Observe(ResourceExhausted("opened read-only")));
}

TEST(PeriodicTest, RunsTheTaskAndStopsWithoutWaitingOutTheInterval) {
  std::atomic<int> runs{0};
  {
    Periodic p(std::chrono::milliseconds(1), [&] { ++runs; });
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (runs.load() < 3 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    EXPECT_GE(runs.load(), 3);
  }
  auto start = std::chrono::steady_clock::now();
  {
    Periodic p(std::chrono::hours(1), [&] { ++runs; });
  }
  // Destroyed at once, not after an hour.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::minutes(1));
}

}  // namespace
}  // namespace keiretsu::daemon
