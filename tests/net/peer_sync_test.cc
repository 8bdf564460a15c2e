// A session's sending while the read of its next batch is outstanding
// (peer_sync.h, peer_model.h): PeerSync hands the read out as a job and
// keeps answering; a Have, an Ack or new entries arriving meanwhile leave
// what was sent and acknowledged consistent when the result comes back.
#include <gtest/gtest.h>

#include <array>
#include <memory>

#include "keiretsu/net/limits.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/head_report.h"
#include "node/net/src/peer_model.h"
#include "node/net/src/peer_sync.h"
#include "node/net/src/wire.h"
#include "temp_dir.h"
#include "test_network.h"

namespace keiretsu::net {
namespace {

using namespace std::chrono_literals;

// The node around a PeerSync: a snapshot of the ledger's feeds, every
// firm a member, misbehaviour recorded.
class Host final : public SyncLedger, public PeerRegistry, public WriteGateKeeper {
 public:
  explicit Host(node::Ledger& ledger, const PublicKey& self) : ledger_(ledger), self_(self) {
    RefreshFeeds();
  }
  const PublicKey& self() const override { return self_; }
  std::shared_ptr<const FeedMap> Feeds() const override { return feeds_; }
  void RefreshFeeds() override { feeds_ = std::make_shared<const FeedMap>(ledger_.Feeds()); }
  bool KnowsMember(const PublicKey&) const override { return true; }
  bool IsActiveMember(const PublicKey&) const override { return true; }
  std::optional<PublicKey> KeyInForce(const PublicKey&) const override { return key_in_force; }
  uint32_t ListenPort() const override { return 0; }
  std::string Name(const PublicKey& firm) const override { return firm.Short(); }
  void Seen(const PublicKey&) override {}
  void CountSent(const PublicKey&, uint64_t) override {}
  void CountReceived(const PublicKey&, uint64_t) override {}
  bool Misbehaved(const PublicKey&, uint64_t, const std::string& what) override {
    violations.push_back(what);
    return false;
  }
  void HaveReceived(const PublicKey&, const ReportedMap&) override {}
  void LearnListenPort(const PublicKey&, const std::string&, uint32_t) override {}
  void CheckGate(const PublicKey&, const std::optional<ReportedFeed>&) override {}
  void OnHeadQuery(const PublicKey&, const PublicKey&, const protocol::HeadNonce&) override {}
  void OnHeadReport(const PublicKey&, ByteView, const crypto::Signature&) override {}
  std::vector<FloodItem> HeadFloodBacklog(const PublicKey&) override { return flood_backlog; }

  std::vector<std::string> violations;
  std::vector<FloodItem> flood_backlog;   // what a new session is given to relay
  std::optional<PublicKey> key_in_force;  // of every firm (nullopt: no key chain)

 private:
  node::Ledger& ledger_;
  PublicKey self_;
  std::shared_ptr<const FeedMap> feeds_;
};

class PeerSyncReadTest : public ::testing::Test {
 protected:
  testing::TestNetwork net = testing::MakeNetwork(2);
  testing::TempDir dir;
  std::unique_ptr<node::Ledger> ledger = testing::OpenLedger(net, dir.Sub("db"));
  Host host{*ledger, net.pk(0)};
  PeerSync sync{*ledger,
                host,
                host,
                host,
                SyncTiming{10s, 1s, 5s},
                net.pk(1),
                true,
                "",
                protocol::KindSet::All()};
  const TimePoint t0{};

  void Append(int n) {
    for (int i = 0; i < n; ++i) {
      auto e = ledger->Append(net.key(0), testing::Owe(net.pk(1), 1), 1'790'000'000'000);
      ASSERT_TRUE(e.ok()) << e.status().ToString();
    }
    host.RefreshFeeds();
  }
  void Receive(const v1::PeerMessage& m) {
    auto bytes = EncodePeerMessage(m);
    ASSERT_TRUE(bytes.ok());
    sync.OnMessage(*bytes, t0);
  }
  // A complete Have in which the peer holds our feed up to `head` (0: none).
  void ReceiveHave(uint64_t head) {
    v1::PeerMessage m;
    auto* have = m.mutable_have();
    if (head > 0) {
      auto recs = ledger->ReadFeed(net.pk(0), head, 1);
      ASSERT_TRUE(recs.ok() && recs->size() == 1);
      auto* f = have->add_feeds();
      const EntryId id = *protocol::IdOfRecord(recs->front());
      f->set_author(std::string(AsChars(net.pk(0).View())));
      f->set_head_seq(head);
      f->set_head_id(std::string(AsChars(id.View())));
      f->set_effective_id(std::string(AsChars(id.View())));
    }
    have->set_last(true);
    Receive(m);
  }
  void ReceiveAck(uint64_t batch) {
    v1::PeerMessage m;
    m.mutable_ack()->set_batch(batch);
    Receive(m);
  }
  void ReceivePing(uint64_t nonce) {
    v1::PeerMessage m;
    m.mutable_ping()->set_nonce(nonce);
    Receive(m);
  }
  std::vector<v1::PeerMessage> Sent() {
    std::vector<v1::PeerMessage> out;
    while (auto o = sync.PopOutgoing()) {
      auto m = DecodePeerMessage(o->plaintext);
      EXPECT_TRUE(m.ok());
      if (m.ok()) out.push_back(std::move(m).value());
    }
    return out;
  }
  // The seqs of every Entries batch sent, as (batch, first, last).
  std::vector<std::array<uint64_t, 3>> EntriesSent() {
    std::vector<std::array<uint64_t, 3>> out;
    for (const auto& m : Sent()) {
      if (!m.has_entries()) continue;
      uint64_t first = 0, last = 0;
      for (const auto& e : m.entries().entries()) {
        Bytes r(e.record().begin(), e.record().end());
        auto c = protocol::CheckRecord(r, net.genesis, false);
        EXPECT_TRUE(c.signed_entry.has_value());
        if (!c.signed_entry) continue;
        if (first == 0) first = c.signed_entry->entry.seq;
        last = c.signed_entry->entry.seq;
      }
      out.push_back({m.entries().batch(), first, last});
    }
    return out;
  }
  void Complete(ReadJob job) {
    ReadResult r = RunRead(*ledger, job);
    sync.OnRead(std::move(job), std::move(r));
  }
};

TEST_F(PeerSyncReadTest, PingsAndAcksAreAnsweredWhileAReadIsOutstanding) {
  Append(3);
  sync.Start(t0);
  ReceiveHave(0);
  auto read1 = sync.TakeReadJob();
  ASSERT_TRUE(read1.has_value());
  Complete(std::move(*read1));
  EXPECT_EQ(EntriesSent(), (std::vector<std::array<uint64_t, 3>>{{1, 1, 3}}));

  Append(2);
  sync.OnNotify({net.pk(0)});
  auto read2 = sync.TakeReadJob();
  ASSERT_TRUE(read2.has_value());
  // While read 2 is outstanding: a ping is answered, batch 1's Ack is taken,
  // and no second read starts.
  ReceivePing(42);
  ReceiveAck(1);
  auto sent = Sent();
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_TRUE(sent[0].has_pong());
  EXPECT_EQ(sent[0].pong().nonce(), 42u);
  EXPECT_FALSE(sync.TakeReadJob().has_value());
  EXPECT_FALSE(sync.closed()) << sync.close_reason();
  EXPECT_TRUE(sync.reading());

  Complete(std::move(*read2));
  EXPECT_EQ(EntriesSent(), (std::vector<std::array<uint64_t, 3>>{{2, 4, 5}}));
  EXPECT_FALSE(sync.reading());
  ReceiveAck(2);
  EXPECT_FALSE(sync.TakeReadJob().has_value());  // nothing left to send
  EXPECT_FALSE(sync.closed()) << sync.close_reason();
  EXPECT_TRUE(host.violations.empty());
}

TEST_F(PeerSyncReadTest, AHaveDuringAReadNeitherRepeatsNorSkipsEntries) {
  Append(3);
  sync.Start(t0);
  Sent();  // our Have
  ReceiveHave(0);
  auto read1 = sync.TakeReadJob();
  ASSERT_TRUE(read1.has_value());
  // The peer's anti-entropy Have, sent before it saw anything of ours,
  // arrives while the read is outstanding.
  ReceiveHave(0);
  EXPECT_FALSE(sync.TakeReadJob().has_value());
  Complete(std::move(*read1));
  EXPECT_EQ(EntriesSent(), (std::vector<std::array<uint64_t, 3>>{{1, 1, 3}}));
  EXPECT_FALSE(sync.TakeReadJob().has_value());
  // Another stale Have while batch 1 is unacknowledged: 1..3 are in flight,
  // not sent again.
  ReceiveHave(0);
  EXPECT_FALSE(sync.TakeReadJob().has_value());
  ReceiveAck(1);
  ReceiveHave(3);
  EXPECT_FALSE(sync.TakeReadJob().has_value());
  // New entries: only they are read and sent.
  Append(2);
  sync.OnNotify({net.pk(0)});
  auto read2 = sync.TakeReadJob();
  ASSERT_TRUE(read2.has_value());
  ASSERT_EQ(read2->segments.size(), 1u);
  EXPECT_EQ(read2->segments[0].from, 4u);
  EXPECT_EQ(read2->segments[0].count, 2u);
  // The peer's Have saying it got 4..5 from elsewhere arrives first: the
  // batch still goes (as if sent just before the Have), numbered next,
  // and nothing more is read.
  ReceiveHave(5);
  Complete(std::move(*read2));
  EXPECT_EQ(EntriesSent(), (std::vector<std::array<uint64_t, 3>>{{2, 4, 5}}));
  EXPECT_FALSE(sync.TakeReadJob().has_value());
  EXPECT_FALSE(sync.closed()) << sync.close_reason();
  EXPECT_TRUE(host.violations.empty());
}

TEST_F(PeerSyncReadTest, AnAckOfTheBatchBeingReadIsAViolation) {
  Append(3);
  sync.Start(t0);
  ReceiveHave(0);
  auto read1 = sync.TakeReadJob();
  ASSERT_TRUE(read1.has_value());
  ReceiveAck(1);  // batch 1 is not sent yet: it has no number
  EXPECT_TRUE(sync.closed());
  ASSERT_EQ(host.violations.size(), 1u);
  EXPECT_NE(host.violations[0].find("not in flight"), std::string::npos) << host.violations[0];
  // The read's late result changes nothing on a closed session.
  Complete(std::move(*read1));
  EXPECT_FALSE(sync.has_outgoing());
}

// PeerModel alone, over fabricated feeds and read results.
PublicKey Key(uint8_t b) {
  Hash32 h{};
  h[0] = b;
  return PublicKey{h};
}
EntryId Id(uint8_t b) {
  Hash32 h{};
  h[0] = b;
  return EntryId{h};
}

TEST(PeerModelReadTest, AnAuthorTouchedDuringAReadThatFoundNothingIsLookedAtAgain) {
  const PublicKey a = Key(1);
  FeedMap ours;
  ours[a].head_seq = 5;
  for (bool touched : {false, true}) {
    PeerModel m;
    m.OnHave({}, ours);
    auto job = m.PlanRead(ours);
    ASSERT_TRUE(job.has_value());
    ASSERT_EQ(job->segments.size(), 1u);
    EXPECT_EQ(job->segments[0].from, 1u);
    EXPECT_EQ(job->segments[0].count, 5u);
    EXPECT_FALSE(m.PlanRead(ours).has_value()) << "one read at a time";
    if (touched) m.Touch(a);
    ReadResult nothing;
    nothing.records.emplace_back();  // not stored (yet)
    EXPECT_FALSE(m.OnRead(*job, std::move(nothing), 1).has_value());
    EXPECT_EQ(m.in_flight(), 0u);
    EXPECT_EQ(m.PlanRead(ours).has_value(), touched);
  }
}

TEST(PeerModelReadTest, AChainCheckIsAReadAndANewerHaveSupersedesItsResult) {
  const PublicKey a = Key(1);
  FeedMap ours;
  ours[a].head_seq = 5;
  ours[a].head_id = Id(5);
  ours[a].effective_id = Id(5);
  ReportedMap have;
  have[a] = ReportedFeed{2, Id(0x22), 0, Id(0x22)};  // the peer's seq 2 is not ours
  for (bool newer_have : {false, true}) {
    PeerModel m;
    m.OnHave(have, ours);
    auto check = m.PlanRead(ours);
    ASSERT_TRUE(check.has_value());
    ASSERT_EQ(check->checks.size(), 1u);
    EXPECT_EQ(check->checks[0].seq, 2u);
    EXPECT_TRUE(check->segments.empty());
    if (newer_have) {  // the peer now reports seq 3, which agrees
      ReportedMap later = have;
      later[a] = ReportedFeed{3, Id(3), 0, Id(3)};
      m.OnHave(later, ours);
    }
    ReadResult r;
    r.ids.push_back(Id(2));  // our id at seq 2
    EXPECT_FALSE(m.OnRead(*check, std::move(r), 1).has_value());
    auto next = m.PlanRead(ours);
    if (newer_have) {  // the newer Have's own check at 3, no resend
      ASSERT_TRUE(next.has_value());
      ASSERT_EQ(next->checks.size(), 1u);
      EXPECT_EQ(next->checks[0].seq, 3u);
      continue;
    }
    ASSERT_TRUE(next.has_value());
    ASSERT_EQ(next->segments.size(), 1u);
    EXPECT_TRUE(next->segments[0].resend);
    EXPECT_EQ(next->segments[0].from, 1u);
    EXPECT_EQ(next->segments[0].count, 2u);
  }
}

// The session ends at the first tick after the peer's handshake key stops
// being its firm's key in force (a rotation), and not before.
TEST_F(PeerSyncReadTest, TheSessionEndsWhenThePeersHandshakeKeyIsNoLongerInForce) {
  host.key_in_force = net.pk(1);
  sync.SetPeerKey(net.pk(1));
  sync.Start(t0);
  sync.OnTick(t0 + 1s);
  EXPECT_FALSE(sync.closed());
  host.key_in_force = net.pk(0);  // any other key: the firm rotated
  sync.OnTick(t0 + 2s);
  ASSERT_TRUE(sync.closed());
  EXPECT_NE(sync.close_reason().find("rotated its key"), std::string::npos) << sync.close_reason();
  EXPECT_TRUE(host.violations.empty());  // the peer did nothing wrong
}

// A peer whose hello states a version below kHelloVersionHeadReports (a
// version-2 node) is never sent a HeadQuery or HeadReports: neither the
// backlog a new session is given nor anything relayed later (PROTOCOL.md
// 13.2.8). The same items do reach a peer that speaks them.
FloodItem ReportItem(const PublicKey& subject) {
  FloodItem item;
  item.is_report = true;
  item.subject = subject;
  item.statement = Bytes(protocol::kHeadReportStatementBytes, 0x5a);
  return item;
}
size_t HeadFloodMessages(const std::vector<v1::PeerMessage>& sent) {
  size_t n = 0;
  for (const auto& m : sent)
    if (m.has_head_query() || m.has_head_reports()) ++n;
  return n;
}
TEST_F(PeerSyncReadTest, APeerThatDoesNotSpeakHeadReportsIsNeverSentAQueryOrReport) {
  host.flood_backlog = {QueryItem(net.pk(0), protocol::HeadNonce{}), ReportItem(net.pk(0))};
  sync.SetPeerSpeaksHeadReports(false);
  sync.Start(t0);
  sync.Relay(QueryItem(net.pk(1), protocol::HeadNonce{}));
  sync.Relay(ReportItem(net.pk(1)));
  const auto sent = Sent();
  EXPECT_FALSE(sent.empty());  // the session itself runs: its Have went out
  EXPECT_EQ(HeadFloodMessages(sent), 0u);
}
TEST_F(PeerSyncReadTest, APeerThatSpeaksHeadReportsIsSentTheBacklogAndRelays) {
  host.flood_backlog = {QueryItem(net.pk(0), protocol::HeadNonce{}), ReportItem(net.pk(0))};
  sync.SetPeerSpeaksHeadReports(true);
  sync.Start(t0);
  sync.Relay(QueryItem(net.pk(1), protocol::HeadNonce{}));
  sync.Relay(ReportItem(net.pk(1)));
  size_t queries = 0, reports = 0;
  for (const auto& m : Sent()) {
    if (m.has_head_query()) ++queries;
    if (m.has_head_reports()) reports += static_cast<size_t>(m.head_reports().reports_size());
  }
  EXPECT_EQ(queries, 2u);
  EXPECT_EQ(reports, 2u);
}

// Head-query and head-report messages are checked where they are parsed
// (PROTOCOL.md 13.2.8 "Messages"): each malformed form is refused with its
// own error before any field is read.
Status DecodeWire(const v1::PeerMessage& m) {
  const std::string bytes = m.SerializeAsString();
  return DecodePeerMessage(ByteView(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()))
      .status();
}
v1::PeerMessage Query(size_t subject_bytes, size_t nonce_bytes) {
  v1::PeerMessage m;
  m.mutable_head_query()->set_subject(std::string(subject_bytes, 'a'));
  m.mutable_head_query()->set_nonce(std::string(nonce_bytes, 'n'));
  return m;
}
v1::PeerMessage Reports(size_t count, size_t statement_bytes, size_t signature_bytes) {
  v1::PeerMessage m;
  auto* reports = m.mutable_head_reports();
  for (size_t i = 0; i < count; ++i) {
    auto* r = reports->add_reports();
    r->set_statement(std::string(statement_bytes, 's'));
    r->set_signature(std::string(signature_bytes, 'g'));
  }
  return m;
}
constexpr size_t kStatement = protocol::kHeadReportStatementBytes;

TEST(HeadFloodWire, AWellFormedQueryAndReportDecode) {
  EXPECT_TRUE(DecodeWire(Query(32, 32)).ok());
  EXPECT_TRUE(DecodeWire(Reports(1, kStatement, 64)).ok());
  EXPECT_TRUE(DecodeWire(Reports(kMaxHeadReportsPerMessage, kStatement, 64)).ok());
}
TEST(HeadFloodWire, AQueryWithAShortNonceIsRefused) {
  EXPECT_NE(DecodeWire(Query(32, 31)).message().find("HeadQuery"), std::string::npos);
}
TEST(HeadFloodWire, AQueryWithALongSubjectIsRefused) {
  EXPECT_NE(DecodeWire(Query(33, 32)).message().find("HeadQuery"), std::string::npos);
}
TEST(HeadFloodWire, AReportsMessageWithoutReportsIsRefused) {
  EXPECT_NE(DecodeWire(Reports(0, kStatement, 64)).message().find("0 reports"), std::string::npos);
}
TEST(HeadFloodWire, AReportsMessageWithTooManyReportsIsRefused) {
  const Status s = DecodeWire(Reports(kMaxHeadReportsPerMessage + 1, kStatement, 64));
  EXPECT_NE(s.message().find(std::to_string(kMaxHeadReportsPerMessage + 1) + " reports"),
            std::string::npos)
      << s.message();
}
TEST(HeadFloodWire, AReportWithAShortStatementIsRefused) {
  EXPECT_NE(DecodeWire(Reports(1, kStatement - 1, 64)).message().find("statement"),
            std::string::npos);
}
TEST(HeadFloodWire, AReportWithALongSignatureIsRefused) {
  EXPECT_NE(DecodeWire(Reports(1, kStatement, 65)).message().find("signature"), std::string::npos);
}

}  // namespace
}  // namespace keiretsu::net
