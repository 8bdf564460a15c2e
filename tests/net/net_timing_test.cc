// The net code's timing decisions on a fake clock, without sockets
// (clock.h, backoff.h, peer_sync.h, net_timer.h): redial backoff and when
// the dialer dials, a session's idle timeout, pings and anti-entropy Haves,
// the write stall, and a NetTimer that waits for the injected clock.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>

#include "node/net/src/backoff.h"
#include "node/net/src/net_timer.h"
#include "node/net/src/peer_sync.h"
#include "node/net/src/wire.h"
#include "temp_dir.h"
#include "test_network.h"

namespace keiretsu::net {
namespace {

using namespace std::chrono_literals;

class FakeClock final : public NetClock {
 public:
  TimePoint Now() const override { return now; }
  uint64_t UnixMs() const override { return 1'790'000'000'000; }
  TimePoint now = TimePoint{} + 1000h;
};

TEST(DialerTimingTest, RedialsBackOffFromTheClockAndAnAnsweredSessionResets) {
  FakeClock clock;
  const auto min = 50ms, max = 400ms;
  // A fresh firm: dial at once.
  EXPECT_LE(NextDialAt(false, TimePoint{}, TimePoint{}, clock.now), clock.now);
  // Unanswered sessions: the delay doubles from min up to max (jitter 0.5
  // with unit_random 0: exactly half of it).
  unsigned failures = 0;
  const std::chrono::milliseconds expected[] = {25ms, 50ms, 100ms, 200ms, 200ms};
  for (auto want : expected) {
    RedialPlan p = AfterDialledSession(failures, false, clock.now, min, max, 0.0);
    EXPECT_EQ(p.failures, failures + 1);
    EXPECT_EQ(p.next_dial, clock.now + want);
    const TimePoint at = NextDialAt(false, p.next_dial, TimePoint{}, clock.now);
    EXPECT_GT(at, clock.now);  // not yet
    clock.now = at;            // the dialer's timer reaches it
    EXPECT_LE(NextDialAt(false, p.next_dial, TimePoint{}, clock.now), clock.now);
    failures = p.failures;
  }
  // A session the peer answered: back to the minimum delay.
  RedialPlan ok = AfterDialledSession(failures, true, clock.now, min, max, 0.0);
  EXPECT_EQ(ok.failures, 0u);
  EXPECT_EQ(ok.next_dial, clock.now + 25ms);
  // A misbehaviour ban outlasting the backoff decides.
  EXPECT_EQ(NextDialAt(false, ok.next_dial, clock.now + 60s, clock.now), clock.now + 60s);
  // A firm with a session up is looked at again only after kDialerRecheck.
  EXPECT_EQ(NextDialAt(true, TimePoint{}, TimePoint{}, clock.now), clock.now + kDialerRecheck);
}

TEST(DialerTimingTest, JitterStaysWithinHalfToAllOfTheDelay) {
  for (double r : {0.0, 0.25, 0.5, 0.999, 1.0}) {
    const auto d = RedialDelay(3, 100ms, 10s, r);
    EXPECT_GE(d, 200ms) << r;
    EXPECT_LT(d, 400ms) << r;
  }
}

TEST(WriteStallTest, OnlyAWriteInProgressForLongerThanTheTimeoutStalls) {
  const TimePoint t0 = TimePoint{} + 5h;
  EXPECT_FALSE(WriteStalled(TimePoint{}, t0 + 1h, 10s));  // none in progress
  EXPECT_FALSE(WriteStalled(t0, t0 + 10s, 10s));
  EXPECT_TRUE(WriteStalled(t0, t0 + 10s + 1ms, 10s));
}

// A PeerSync's ticks on fake time.
class SessionTimingTest : public ::testing::Test {
 protected:
  testing::TestNetwork net = testing::MakeNetwork(2);
  testing::TempDir dir;
  std::unique_ptr<node::Ledger> ledger = testing::OpenLedger(net, dir.Sub("db"));
  struct Host final : SyncLedger, PeerRegistry, WriteGateKeeper {
    explicit Host(node::Ledger& l, PublicKey s) : ledger(l), self_key(s) { RefreshFeeds(); }
    const PublicKey& self() const override { return self_key; }
    std::shared_ptr<const FeedMap> Feeds() const override { return feeds; }
    void RefreshFeeds() override { feeds = std::make_shared<const FeedMap>(ledger.Feeds()); }
    bool KnowsMember(const PublicKey&) const override { return true; }
    bool IsActiveMember(const PublicKey&) const override { return true; }
    std::optional<PublicKey> KeyInForce(const PublicKey&) const override { return std::nullopt; }
    uint32_t ListenPort() const override { return 0; }
    std::string Name(const PublicKey& f) const override { return f.Short(); }
    void Seen(const PublicKey&) override {}
    void CountSent(const PublicKey&, uint64_t) override {}
    void CountReceived(const PublicKey&, uint64_t) override {}
    bool Misbehaved(const PublicKey&, uint64_t, const std::string&) override { return false; }
    void HaveReceived(const PublicKey&, const ReportedMap&) override {}
    void LearnListenPort(const PublicKey&, const std::string&, uint32_t) override {}
    void CheckGate(const PublicKey&, const std::optional<ReportedFeed>&) override {}
    void OnHeadQuery(const PublicKey&, const PublicKey&, const protocol::HeadNonce&) override {}
    void OnHeadReport(const PublicKey&, ByteView, const crypto::Signature&) override {}
    std::vector<FloodItem> HeadFloodBacklog(const PublicKey&) override { return {}; }
    node::Ledger& ledger;
    PublicKey self_key;
    std::shared_ptr<const FeedMap> feeds;
  } host{*ledger, net.pk(0)};
  const SyncTiming timing{10s, 1s, 5s};
  PeerSync sync{*ledger, host, host, host, timing, net.pk(1), true, "", protocol::KindSet::All()};
  FakeClock clock;

  // What the session sent since the last call, by kind.
  struct Counts {
    int have = 0, ping = 0;
  };
  Counts Sent() {
    Counts c;
    while (auto o = sync.PopOutgoing()) {
      auto m = DecodePeerMessage(o->plaintext);
      EXPECT_TRUE(m.ok());
      if (m.ok() && m->has_have()) ++c.have;
      if (m.ok() && m->has_ping()) ++c.ping;
    }
    return c;
  }
  void Tick(std::chrono::milliseconds advance) {
    clock.now += advance;
    sync.OnTick(clock.Now());
  }
};

TEST_F(SessionTimingTest, ANextTickIsOneTickPeriodFromNow) {
  EXPECT_EQ(PeerSync::TickPeriod(timing), 250ms);  // a quarter of the shortest interval
  EXPECT_EQ(sync.NextTick(clock.Now()), clock.Now() + 250ms);
}

TEST_F(SessionTimingTest, ASilentPeerIsDroppedAfterTheIdleTimeoutAndNotBefore) {
  sync.Start(clock.Now());
  EXPECT_EQ(Sent().have, 1);
  // Something received at +4 s restarts the idle clock.
  clock.now += 4s;
  v1::PeerMessage pong;
  pong.mutable_pong()->set_nonce(1);
  auto bytes = EncodePeerMessage(pong);
  ASSERT_TRUE(bytes.ok());
  sync.OnMessage(*bytes, clock.Now());
  Tick(10s);  // exactly the timeout since the pong: still up
  EXPECT_FALSE(sync.closed()) << sync.close_reason();
  Tick(1ms);
  EXPECT_TRUE(sync.closed());
  EXPECT_NE(sync.close_reason().find("idle"), std::string::npos) << sync.close_reason();
}

TEST_F(SessionTimingTest, PingsAndAntiEntropyHavesFollowTheirIntervals) {
  sync.Start(clock.Now());
  EXPECT_EQ(Sent().have, 1);
  Tick(999ms);
  Counts c = Sent();
  EXPECT_EQ(c.ping, 0);
  EXPECT_EQ(c.have, 0);
  Tick(1ms);  // the ping interval
  c = Sent();
  EXPECT_EQ(c.ping, 1);
  EXPECT_EQ(c.have, 0);
  Tick(4s);  // +5 s: the anti-entropy interval, and another ping
  c = Sent();
  EXPECT_EQ(c.ping, 1);
  EXPECT_EQ(c.have, 1);
  EXPECT_FALSE(sync.closed()) << sync.close_reason();
}

// A NetTimer waits on the injected clock, not on the real one.
TEST(NetTimerTest, AnInstantTheClockHasReachedCompletesAtOnce) {
  asio::io_context io;
  FakeClock clock;
  NetTimer timer(io.get_executor(), clock);
  std::optional<bool> reached;
  // Ten hours ahead in real time, but the fake clock is already there.
  const TimePoint at = clock.now + 10h;
  clock.now = at;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { reached = co_await timer.WaitUntil(at); },
      asio::detached);
  io.run();  // returns when the coroutine is done: no real wait
  ASSERT_TRUE(reached.has_value());
  EXPECT_TRUE(*reached);
}

TEST(NetTimerTest, ACancelledWaitReturnsFalse) {
  asio::io_context io;
  FakeClock clock;
  NetTimer timer(io.get_executor(), clock);
  std::optional<bool> reached;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { reached = co_await timer.WaitUntil(TimePoint::max()); },
      asio::detached);
  // Cancels until the wait took it (a cancel before the wait began is lost).
  std::function<void()> cancel = [&] {
    timer.Cancel();
    if (!reached) asio::post(io, cancel);
  };
  asio::post(io, cancel);
  io.run();
  ASSERT_TRUE(reached.has_value());
  EXPECT_FALSE(*reached);
}

}  // namespace
}  // namespace keiretsu::net
