// Replicator::Core: the state shared by all sessions of one Replicator: the
// ledger, a snapshot cache of its feed states, the peer registry (one
// session per firm), per-firm statistics and bans, the write gate, the
// io_context and the ingest thread. Sessions call it from their strands;
// every method is thread-safe. A session's protocol logic (PeerSync) sees
// it only through the narrow interfaces of sync_host.h.
#pragma once

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "keiretsu/net/replicator.h"
#include "node/net/src/clock.h"
#include "node/net/src/net_timer.h"
#include "node/net/src/peer_model.h"
#include "node/net/src/sync_host.h"

namespace keiretsu::net {

class Session;

// "host:port" -> (host without brackets, port). nullopt if malformed.
std::optional<std::pair<std::string, std::string>> SplitHostPort(const std::string& address);
// A peer must be a member other than `self`, with a host:port address.
// Errors: kInvalidArgument.
Status CheckPeerConfig(const node::Ledger& ledger, const PublicKey& self, const PeerConfig& peer);
// The member's name, or the key's short hex for a stranger.
std::string FirmName(const protocol::Genesis& genesis, const PublicKey& firm);
// Reports of this firm's own head the restore rule needs: a strict majority
// of the other members, floor((members - 1) / 2) + 1.
size_t GateQuorum(size_t members);
// The handshake-limit source of a remote address: the IPv4 address, or the
// IPv6 /64 prefix ("2001:db8:1:2::/64"); IPv4-mapped IPv6 counts as IPv4.
std::string SourceOf(const asio::ip::address& address);

class Replicator::Core final : public SyncLedger, public PeerRegistry, public WriteGateKeeper {
 public:
  Core(node::Ledger& ledger, std::shared_ptr<node::Identity> identity, ReplicatorOptions options,
       const NetClock& clock = RealClock());
  ~Core() override;

  Status Start();
  void Stop();
  uint16_t port() const { return port_.load(); }
  Status AddPeer(const PeerConfig& peer);
  void OnApplied(const std::vector<node::AppliedEntry>& applied);
  std::vector<PeerStatus> Peers() const;

  // --- For sessions
  node::Ledger& ledger;
  // This node's firm (its feed's id) and the key it authenticates with
  // now: each handshake takes the key in force when it starts.
  const std::shared_ptr<node::Identity> identity;
  const PublicKey& self() const override { return identity->firm(); }
  const protocol::Genesis& genesis;
  const ReplicatorOptions options;

  const NetClock& clock() const { return clock_; }
  asio::io_context& io() { return io_; }
  asio::thread_pool& ingest_pool() { return ingest_; }
  // The thread every session's outgoing-batch reads run on (one for all
  // sessions, apart from ingest so a long commit does not hold up sending).
  asio::thread_pool& read_pool() { return reads_; }
  // Reads an outgoing batch (RunRead over `ledger`); called on the read
  // thread. A test may replace the reader before Start (to hold a read).
  ReadResult ReadBatch(const ReadJob& job) const;
  using BatchReader = std::function<ReadResult(const node::Ledger&, const ReadJob&)>;
  void SetBatchReaderForTest(BatchReader reader) { reader_ = std::move(reader); }
  std::shared_ptr<const FeedMap> Feeds() const override;
  void RefreshFeeds() override;
  std::string Name(const PublicKey& firm) const override { return FirmName(genesis, firm); }
  bool KnowsMember(const PublicKey& firm) const override { return !ledger.KeyChain(firm).empty(); }
  bool IsActiveMember(const PublicKey& firm) const override { return ledger.IsActiveMember(firm); }
  std::optional<PublicKey> KeyInForce(const PublicKey& firm) const override;
  uint32_t ListenPort() const override { return port(); }
  // Remembers `s` so Stop() can close it; false (do not run it) once stopping.
  bool Track(const std::shared_ptr<Session>& s);

  // A session finished its handshake. False (with the reason) when it must
  // close: stopping, banned firm, too many sessions, or a duplicate that
  // loses to the existing connection (the one initiated by the lower key is
  // kept; between two of the same initiator, the newer).
  bool Register(const std::shared_ptr<Session>& session, std::string* why);
  void Unregister(const Session& session, const std::string& reason);
  void HandshakeFailed(const Session& session, const Status& status);
  // Whether the next dial of `firm` says hello: false (once) after its last
  // handshake closed right after our hello (a v1 node refuses it so); the
  // dial after that says hello again, so a peer that upgraded speaks v2.
  bool TakeHelloFallback(const PublicKey& firm);
  // Our feeds of `authors` changed: every session looks again.
  void NotifyChanged(const std::vector<PublicKey>& authors);
  void Seen(const PublicKey& firm) override;
  void CountSent(const PublicKey& firm, uint64_t n) override;
  // One write of `messages` sealed transport messages, `bytes` on the wire.
  void CountWritten(const PublicKey& firm, uint64_t messages, uint64_t bytes);
  void CountReceived(const PublicKey& firm, uint64_t n) override;
  // `count` invalid items from `firm`. True when the firm crossed the
  // threshold: the caller drops it (it is banned for misbehaviour_backoff).
  bool Misbehaved(const PublicKey& firm, uint64_t count, const std::string& what) override;
  void HaveReceived(const PublicKey& firm, const ReportedMap& reported) override;
  // The restore rule: records how far `firm` holds this node's own feed
  // (`own` nullopt: none of it), from its latest complete Have, and opens
  // the write gate once a strict majority of the other members have
  // reported and this node holds its own feed at least as far as every
  // report. Called again after ingests (the node may have caught up).
  void CheckGate(const PublicKey& firm, const std::optional<ReportedFeed>& own) override;
  // The restore rule's flood (PROTOCOL.md 13.2.8): a query from a member is
  // answered with this firm's signed report and forwarded; a report is
  // verified, then counted (about this firm, answering this run's nonce) or
  // forwarded (answering the latest query of its subject).
  void OnHeadQuery(const PublicKey& firm, const PublicKey& subject,
                   const protocol::HeadNonce& nonce) override;
  void OnHeadReport(const PublicKey& firm, ByteView statement,
                    const crypto::Signature& signature) override;
  std::vector<FloodItem> HeadFloodBacklog(const PublicKey& firm) override;
  // `firm`, connected inbound from `host`, announced its peer listener on
  // `port`: unless it is configured, it is dialled back there (now if it has
  // no session, else when the session ends).
  void LearnListenPort(const PublicKey& firm, const std::string& host, uint32_t port) override;
  bool stopping() const { return stopping_.load(); }

  // Inbound handshake slots (limits.h kMaxHandshakes, per source
  // kMaxHandshakesPerSource). Admit: false when either bound is reached (the
  // connection must be closed); true takes a slot that Release returns.
  bool AdmitInbound(const std::string& source);
  void ReleaseInbound(const std::string& source);

  // Counts running coroutines, so Stop() can wait for all of them.
  class Running {
   public:
    explicit Running(Core& core);
    ~Running();
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;

   private:
    Core& core_;
  };

 private:
  struct Firm {
    PublicKey firm;
    std::string name;
    std::string address;
    bool configured = false;
    std::string learned;  // dial-back address (remote host : announced port)
    std::shared_ptr<Session> session;
    bool outbound = false;
    uint64_t last_seen_ms = 0, sent = 0, received = 0, invalid = 0, strikes = 0;
    uint64_t messages_sent = 0, bytes_sent = 0;
    ReportedMap reported;
    bool have_received = false;
    TimePoint banned_until{}, next_dial{};
    uint64_t banned_until_unix_ms = 0;
    unsigned failures = 0;
    std::string last_error;
    bool hello_refused = false;      // the next dial speaks v1
    std::shared_ptr<NetTimer> wake;  // the dialer's, on its own strand
  };
  Firm& FirmLocked(const PublicKey& firm);
  void StartDialer(Firm& f);
  asio::awaitable<void> DialLoop(Firm* f);
  asio::awaitable<void> AcceptLoop();
  void Wake(Firm& f);
  std::string GateReasonLocked() const;
  // Records `firm`'s report of our own feed and decides the gate.
  void GateReportLocked(const PublicKey& firm, const std::optional<ReportedFeed>& own,
                        bool relayed);
  // Every session but `except`'s firm's.
  std::vector<std::shared_ptr<Session>> SessionsLocked(const PublicKey* except) const;
  // Where a report about `subject` goes: its upstream's session, or, when
  // that has none, every session but `from`'s.
  std::vector<std::shared_ptr<Session>> ReportRouteLocked(const PublicKey& subject,
                                                          const PublicKey& from) const;
  // The key this ledger holds in force for a current member; nullopt else.
  std::optional<PublicKey> MemberKey(const PublicKey& firm) const;

  const NetClock& clock_;
  BatchReader reader_;  // empty: RunRead
  // Declared before every member that holds its objects (sockets, timers,
  // handlers), so it is destroyed after them.
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  asio::thread_pool ingest_{1};
  asio::thread_pool reads_{1};
  asio::strand<asio::io_context::executor_type> accept_strand_;
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor_;
  std::atomic<uint16_t> port_{0};
  std::atomic<bool> started_{false}, stopping_{false};

  mutable std::mutex mu_;
  std::map<PublicKey, std::unique_ptr<Firm>> firms_;  // GUARDED_BY(mu_)
  std::vector<std::weak_ptr<Session>> all_sessions_;  // GUARDED_BY(mu_)
  std::mt19937_64 rng_;                               // GUARDED_BY(mu_)
  bool gate_closed_ = false;                          // GUARDED_BY(mu_)
  // The restore rule's reports: per firm, how far it holds our own feed.
  std::map<PublicKey, std::optional<ReportedFeed>> own_reports_;  // GUARDED_BY(mu_)
  const size_t gate_quorum_;  // reports needed: a strict majority of the other members
  HeadFlood flood_;           // GUARDED_BY(mu_): flooded head queries and reports
  std::set<PublicKey> gate_catchup_logged_;  // GUARDED_BY(mu_): members ("catching up" logged)

  std::mutex inbound_mu_;
  std::map<std::string, size_t> inbound_by_source_;  // GUARDED_BY(inbound_mu_)
  size_t inbound_total_ = 0;                         // GUARDED_BY(inbound_mu_)

  std::mutex refresh_mu_;  // serialises refreshes so a newer snapshot is never replaced
  mutable std::mutex feeds_mu_;
  std::shared_ptr<const FeedMap> feeds_;  // GUARDED_BY(feeds_mu_)

  std::mutex running_mu_;
  std::condition_variable running_cv_;
  int running_ = 0;  // GUARDED_BY(running_mu_)
};

}  // namespace keiretsu::net
