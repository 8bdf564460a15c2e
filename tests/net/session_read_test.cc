// A session's strand is never blocked by the store (session.h): while the
// read of its next outgoing batch is held on the read thread, the session
// still reads, answers pings and writes; the batch follows the release.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "keiretsu/node/identity.h"
#include "net_support.h"
#include "node/net/src/core.h"

namespace keiretsu::net {
namespace {

using namespace std::chrono_literals;

// A batch reader that waits at a gate the test holds.
class HeldReads {
 public:
  ReadResult Read(const node::Ledger& ledger, const ReadJob& job) {
    {
      std::unique_lock lock(mu_);
      ++waiting_;
      cv_.notify_all();
      cv_.wait(lock, [this] { return !held_; });
    }
    return RunRead(ledger, job);
  }
  bool WaitForReader(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return waiting_ > 0; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    held_ = false;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = true;
  int waiting_ = 0;
};

TEST(SessionReadTest, TheStrandAnswersWhileABatchReadIsHeldInTheStore) {
  testing::TestNetwork net = testing::MakeNetwork(2);
  testing::TempDir dir;
  auto ledger = testing::OpenLedger(net, dir.Sub("db"));
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(ledger->Append(net.key(0), testing::Owe(net.pk(1), 1), 1'790'000'000'000).ok());
  auto identity = std::make_shared<node::Identity>(
      net.pk(0), std::shared_ptr<const crypto::SigningKey>(&net.key(0), [](auto*) {}));
  HeldReads reads;
  Replicator::Core core(*ledger, identity, testing::FastOptions());
  core.SetBatchReaderForTest(
      [&reads](const node::Ledger& l, const ReadJob& job) { return reads.Read(l, job); });
  ASSERT_TRUE(core.Start().ok());
  struct ReleaseFirst {  // Stop joins the read thread the reader holds
    HeldReads& r;
    Replicator::Core& c;
    ~ReleaseFirst() {
      r.Release();
      c.Stop();
    }
  } release_first{reads, core};

  testing::PeerClient peer(core.port());
  ASSERT_TRUE(peer.connected());
  ASSERT_TRUE(peer.Handshake(net.genesis, net.key(1), net.pk(0)).ok());
  ASSERT_TRUE(peer.Send(testing::EmptyHave()).ok());
  // The session plans a batch of our 3 entries; its read is now held.
  ASSERT_TRUE(reads.WaitForReader(10s));

  v1::PeerMessage ping;
  ping.mutable_ping()->set_nonce(4242);
  ASSERT_TRUE(peer.Send(ping).ok());
  bool ponged = false;
  while (!ponged) {
    auto m = peer.Receive(5s);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ASSERT_FALSE(m->has_entries()) << "a batch before the read was released";
    ponged = m->has_pong() && m->pong().nonce() == 4242;
  }

  reads.Release();
  size_t records = 0;
  ASSERT_TRUE(peer.ReceiveUntil([&](const v1::PeerMessage& m) {
    if (m.has_entries()) records += static_cast<size_t>(m.entries().entries_size());
    return records >= 3;
  }));
  EXPECT_EQ(records, 3u);
}

}  // namespace
}  // namespace keiretsu::net
