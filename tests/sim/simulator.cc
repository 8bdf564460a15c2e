#include "simulator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <vector>

#include "keiretsu/net/limits.h"
#include "keiretsu/node/ledger.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/head_report.h"
#include "keiretsu/storage/fault_injector.h"
#include "keiretsu/storage/store.h"
#include "keiretsu/v1/peer.pb.h"
#include "node/net/src/clock.h"
#include "node/net/src/peer_sync.h"
#include "node/net/src/sync_host.h"
#include "node/net/src/wire.h"
#include "test_network.h"

namespace keiretsu::sim {

namespace {

using Ms = std::chrono::milliseconds;
using Us = std::chrono::microseconds;

int64_t RssKb() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long pages = 0, resident = 0;
  const int got = std::fscanf(f, "%ld %ld", &pages, &resident);
  std::fclose(f);
  return got == 2 ? resident * 4 : 0;
}

// The firms' keys from fixed seeds (index in two bytes: up to 65,536 firms).
testing::TestNetwork MakeSimNetwork(int firms) {
  protocol::GenesisSpec spec;
  spec.network_name = "sim-keiretsu";
  spec.created_unix = 1'790'000'000;
  spec.admission_quorum = 1;
  std::vector<crypto::SigningKey> keys;
  for (int i = 0; i < firms; ++i) {
    std::array<uint8_t, 32> seed{};
    seed[0] = static_cast<uint8_t>(i & 0xff);
    seed[1] = static_cast<uint8_t>(i >> 8);
    seed[2] = 0x53;  // 'S'
    keys.push_back(crypto::SigningKey::FromSeed(seed));
    spec.members.push_back({"firm" + std::to_string(i), keys.back().public_key()});
  }
  auto g = protocol::Genesis::Create(spec);
  if (!g.ok()) throw std::runtime_error(g.status().ToString());
  return testing::TestNetwork{std::move(keys), std::move(g).value()};
}

class Violation : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// --- The scheduler: events in time order, ties in insertion order.
class Scheduler {
 public:
  int64_t now_us() const { return now_us_; }
  void At(int64_t at_us, std::function<void()> fn) {
    queue_.push_back(Event{std::max(at_us, now_us_), next_++, std::move(fn)});
    std::push_heap(queue_.begin(), queue_.end(), std::greater<>());
  }
  void After(int64_t delay_us, std::function<void()> fn) { At(now_us_ + delay_us, std::move(fn)); }
  // Runs events up to `until_us`; false when none is left before it.
  bool RunOne(int64_t until_us) {
    if (queue_.empty() || queue_.front().at_us > until_us) {
      now_us_ = std::max(now_us_, until_us);
      return false;
    }
    // Moved out, not copied (std::priority_queue::top is const: a copy of
    // the function and everything it captures per event).
    std::pop_heap(queue_.begin(), queue_.end(), std::greater<>());
    Event e = std::move(queue_.back());
    queue_.pop_back();
    now_us_ = e.at_us;
    ++events_;
    e.fn();
    return true;
  }
  uint64_t events() const { return events_; }

 private:
  struct Event {
    int64_t at_us;
    uint64_t seq;
    std::function<void()> fn;
    bool operator>(const Event& o) const {
      return at_us != o.at_us ? at_us > o.at_us : seq > o.seq;
    }
  };
  std::vector<Event> queue_;  // a min-heap on (at_us, seq)
  int64_t now_us_ = 0;
  uint64_t next_ = 0, events_ = 0;
};

class SimClock final : public net::NetClock {
 public:
  explicit SimClock(const Scheduler& s) : s_(s) {}
  net::TimePoint Now() const override { return net::TimePoint(Us(s_.now_us())); }
  uint64_t UnixMs() const override {
    return 1'790'000'000'000 + static_cast<uint64_t>(s_.now_us() / 1000);
  }

 private:
  const Scheduler& s_;
};

class Simulation;

// One session end: a PeerSync and the connection it belongs to.
struct Side {
  std::unique_ptr<net::PeerSync> sync;
  uint64_t conn = 0;
};

// One node: the daemon's Replicator::Core reduced to what sessions use.
class Node final : public net::SyncLedger, public net::PeerRegistry, public net::WriteGateKeeper {
 public:
  Node(Simulation& sim, int index) : sim_(sim), index_(index) {}

  int index() const { return index_; }
  const PublicKey& self() const override;
  std::shared_ptr<const net::FeedMap> Feeds() const override { return feeds_; }
  void RefreshFeeds() override { feeds_ = std::make_shared<net::FeedMap>(ledger->Feeds()); }
  bool KnowsMember(const PublicKey& firm) const override { return !ledger->KeyChain(firm).empty(); }
  bool IsActiveMember(const PublicKey& firm) const override { return ledger->IsActiveMember(firm); }
  std::optional<PublicKey> KeyInForce(const PublicKey& firm) const override {
    auto chain = ledger->KeyChain(firm);
    if (chain.empty()) return std::nullopt;
    return chain.back().key;
  }
  uint32_t ListenPort() const override { return 7000 + static_cast<uint32_t>(index_); }
  std::string Name(const PublicKey& firm) const override { return firm.Short(); }

  void Seen(const PublicKey&) override {}
  void CountSent(const PublicKey&, uint64_t) override {}
  void CountReceived(const PublicKey&, uint64_t) override {}
  bool Misbehaved(const PublicKey& firm, uint64_t count, const std::string& what) override;
  void HaveReceived(const PublicKey&, const net::ReportedMap&) override {}
  void LearnListenPort(const PublicKey&, const std::string&, uint32_t) override {}
  void CheckGate(const PublicKey& firm, const std::optional<net::ReportedFeed>& own) override;
  void OnHeadQuery(const PublicKey& firm, const PublicKey& subject,
                   const protocol::HeadNonce& nonce) override;
  void OnHeadReport(const PublicKey& firm, ByteView statement,
                    const crypto::Signature& signature) override;
  std::vector<net::FloodItem> HeadFloodBacklog(const PublicKey& firm) override;
  // A report of our own feed (direct or relayed) counts; decides the gate.
  void GateReport(const PublicKey& firm, const std::optional<net::ReportedFeed>& own);

  bool Banned(const PublicKey& firm) const;

  std::shared_ptr<storage::FaultInjector> fs;
  std::unique_ptr<node::Ledger> ledger;
  uint64_t generation = 0;  // bumped at every (re)open: stale events are dropped
  bool up = false;
  bool gate_closed = false;
  std::map<PublicKey, std::optional<net::ReportedFeed>> reports;
  std::unique_ptr<net::HeadFlood> flood;  // this run's (a restart forgets it)
  std::map<int, Side> sides;              // by peer index
  std::map<PublicKey, uint64_t> strikes;
  std::map<PublicKey, int64_t> banned_until_us;

 private:
  Simulation& sim_;
  const int index_;
  std::shared_ptr<const net::FeedMap> feeds_;
};

struct Link {
  int a = 0, b = 0;
  uint64_t conn = 0;  // 0: not connected
  bool dialling = false;
  bool cut = false;                      // partitioned
  int64_t last_delivery_us[2] = {0, 0};  // FIFO per direction (TCP)
  // The Noise transport's counter nonces, per direction (0: a to b): the
  // next message sealed, and the next one the receiver can open.
  uint64_t sealed[2] = {0, 0}, opened[2] = {0, 0};
};

struct Acked {
  int node;
  uint64_t seq;
  EntryId id;
};

class Simulation {
 public:
  explicit Simulation(const SimConfig& c)
      : config_(c),
        rng_(c.seed * 0x9E3779B97F4A7C15ull + 1),
        clock_(sched_),
        net_(MakeSimNetwork(c.nodes)),
        timing_{net::kIdleTimeout, net::kPingInterval, net::kAntiEntropyInterval} {}

  SimResult Run();

  const testing::TestNetwork& network() const { return net_; }
  const SimConfig& config() const { return config_; }
  int64_t now_us() const { return sched_.now_us(); }
  size_t quorum() const { return (static_cast<size_t>(config_.nodes) - 1) / 2 + 1; }
  void Log(const std::string& what) {
    if (config_.verbose)
      std::fprintf(stderr, "[%9.3f s] %s\n", static_cast<double>(now_us()) / 1e6, what.c_str());
  }

 private:
  uint64_t Rand(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  int64_t Delay() { return 500 + static_cast<int64_t>(Rand(config_.faults ? 30'000 : 10'000)); }

  void BuildGraph();
  void OpenNode(Node& n, bool fresh);
  void StopNode(Node& n, const std::string& why);
  void DialLoop(size_t link);
  void Connect(size_t link);
  void CloseConn(size_t link, const std::string& reason);
  void Drive(Node& n, int peer);
  void Send(size_t link, int from, Bytes plaintext);
  void Deliver(size_t link, int from, int to, uint64_t conn, uint64_t nonce,
               std::shared_ptr<const Bytes> message, int64_t at);
  void Tick(int node, int peer, uint64_t conn);
  void NotifyAll(Node& n, const std::set<PublicKey>& authors);

 public:
  // Sends `items` to every peer of `node` but `except` (-1: none), as the
  // daemon's Core posts them to its sessions: after the current event.
  void Flood(int node, int except, std::vector<net::FloodItem> items);
  int IndexOf(const PublicKey& firm) const;
  // Sends a report about `subject` upstream (every peer but `from` when the
  // upstream has no session), as Core::ReportRouteLocked.
  void RouteReport(int node, const PublicKey& subject, const PublicKey& from, net::FloodItem item);

 private:
  void Write(int node);
  void ScheduleFaults();
  Bytes Mutate(Bytes plaintext);
  std::vector<Bytes> SnapshotRecords(Node& n);
  void Restore(Node& n, const std::vector<Bytes>& records);
  bool Converged();
  void CheckInvariants();
  size_t LinkOf(int a, int b) const { return link_index_.at({std::min(a, b), std::max(a, b)}); }

  const SimConfig config_;
  std::mt19937_64 rng_;
  Scheduler sched_;
  SimClock clock_;
  testing::TestNetwork net_;
  const net::SyncTiming timing_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<Link> links_;
  std::map<std::pair<int, int>, size_t> link_index_;
  uint64_t next_conn_ = 1;
  int byzantine_ = -1;
  bool healed_ = false;
  std::vector<Acked> acked_;
  std::set<EntryId> forged_;
  uint64_t duplicates_ = 0, reorders_ = 0;  // segments, over the run
  int pending_power_cuts_ = 0;              // scheduled, node not yet back
  std::vector<Side> graveyard_;             // sides closed during an event, freed after it
  SimResult result_;
  std::ostringstream faults_;
};

const PublicKey& Node::self() const {
  return sim_.network().pk(index_);
}

bool Node::Misbehaved(const PublicKey& firm, uint64_t count, const std::string& what) {
  sim_.Log("node " + std::to_string(index_) + ": peer " + firm.Short() + " misbehaved: " + what);
  uint64_t& s = strikes[firm];
  s += count;
  if (s < net::kInvalidThreshold) return false;
  s = 0;
  banned_until_us[firm] = sim_.now_us() + 60'000'000;
  return true;
}

bool Node::Banned(const PublicKey& firm) const {
  auto it = banned_until_us.find(firm);
  return it != banned_until_us.end() && it->second > sim_.now_us();
}

void Node::CheckGate(const PublicKey& firm, const std::optional<net::ReportedFeed>& own) {
  GateReport(firm, own);
}

void Node::OnHeadQuery(const PublicKey& firm, const PublicKey& subject,
                       const protocol::HeadNonce& nonce) {
  if (!sim_.config().head_relay || !KnowsMember(subject)) return;
  if (!flood->OnQuery(firm, subject, nonce)) return;
  auto it = feeds_->find(subject);  // the view our Have gives
  const protocol::HeadReport r = net::ReportOnFeed(sim_.network().id(), self(), subject, nonce,
                                                   it == feeds_->end() ? nullptr : &it->second);
  Bytes statement = protocol::EncodeHeadReportStatement(r);
  const crypto::Signature sig = protocol::SignHeadReport(statement, sim_.network().key(index_));
  net::FloodItem answer = net::ReportItem(r, statement, sig);
  (void)flood->AddReport(r, std::move(statement), sig);
  sim_.Flood(index_, sim_.IndexOf(firm), {net::QueryItem(subject, nonce)});
  sim_.RouteReport(index_, subject, firm, std::move(answer));
}

void Node::OnHeadReport(const PublicKey& firm, ByteView statement,
                        const crypto::Signature& signature) {
  if (!sim_.config().head_relay) return;
  auto form = protocol::DecodeHeadReportStatement(statement);
  if (!form.ok()) return;
  const bool mine = form->subject == self();
  const std::optional<protocol::HeadNonce> nonce =
      mine ? flood->own_nonce() : flood->LatestNonce(form->subject);
  if (!nonce) return;
  auto key_of = [this](const PublicKey& f) -> std::optional<PublicKey> {
    if (!ledger->IsActiveMember(f)) return std::nullopt;
    auto chain = ledger->KeyChain(f);
    if (chain.empty()) return std::nullopt;
    return chain.back().key;
  };
  auto report = protocol::VerifyHeadReport(statement, signature, sim_.network().id(), form->subject,
                                           *nonce, key_of);
  if (!report.ok()) return;
  if (mine) {
    GateReport(report->reporter, net::ReportedOf(*report));
    return;
  }
  if (!flood->AddReport(*report, Bytes(statement.begin(), statement.end()), signature)) return;
  sim_.RouteReport(index_, form->subject, firm,
                   net::ReportItem(*report, Bytes(statement.begin(), statement.end()), signature));
}

std::vector<net::FloodItem> Node::HeadFloodBacklog(const PublicKey& firm) {
  return sim_.config().head_relay ? flood->Backlog(firm) : std::vector<net::FloodItem>{};
}

void Node::GateReport(const PublicKey& firm, const std::optional<net::ReportedFeed>& own) {
  if (!gate_closed) return;
  net::MergeOwnReport(reports[firm], own);
  const auto d = net::DecideRestoreGate(reports, sim_.quorum(), ledger->Feed(self()));
  if (!d.open) return;
  gate_closed = false;
  ledger->SetWriteGate("");
  sim_.Log("node " + std::to_string(index_) + ": write gate open (own head " +
           std::to_string(ledger->Feed(self()).head_seq) + ", highest report " +
           std::to_string(d.highest) + ")");
}

int Simulation::IndexOf(const PublicKey& firm) const {
  for (int i = 0; i < config_.nodes; ++i)
    if (net_.pk(i) == firm) return i;
  return -1;
}

void Simulation::Flood(int node, int except, std::vector<net::FloodItem> items) {
  const uint64_t gen = nodes_[static_cast<size_t>(node)]->generation;
  auto shared = std::make_shared<std::vector<net::FloodItem>>(std::move(items));
  sched_.After(1, [this, node, except, gen, shared] {
    Node& n = *nodes_[static_cast<size_t>(node)];
    if (!n.up || n.generation != gen) return;
    std::vector<int> peers;
    for (auto& [p, s] : n.sides)
      if (p != except) peers.push_back(p);
    for (int p : peers) {
      auto it = n.sides.find(p);
      if (it == n.sides.end()) continue;
      for (const net::FloodItem& item : *shared) it->second.sync->Relay(item);
      Drive(n, p);
    }
  });
}

void Simulation::RouteReport(int node, const PublicKey& subject, const PublicKey& from,
                             net::FloodItem item) {
  Node& n = *nodes_[static_cast<size_t>(node)];
  const std::optional<PublicKey> up = n.flood->Upstream(subject);
  const int upi = up ? IndexOf(*up) : -1;
  const uint64_t gen = n.generation;
  auto shared = std::make_shared<net::FloodItem>(std::move(item));
  const int fromi = IndexOf(from);
  sched_.After(1, [this, node, upi, fromi, gen, shared] {
    Node& m = *nodes_[static_cast<size_t>(node)];
    if (!m.up || m.generation != gen) return;
    std::vector<int> peers;
    if (upi >= 0 && m.sides.contains(upi)) {
      peers.push_back(upi);
    } else {
      for (auto& [p, s] : m.sides)
        if (p != fromi) peers.push_back(p);
    }
    for (int p : peers) {
      auto it = m.sides.find(p);
      if (it == m.sides.end()) continue;
      it->second.sync->Relay(*shared);
      Drive(m, p);
    }
  });
}

void Simulation::BuildGraph() {
  const int n = config_.nodes;
  std::set<std::pair<int, int>> edges;
  auto add = [&](int a, int b) {
    if (a != b) edges.insert({std::min(a, b), std::max(a, b)});
  };
  if (config_.degree <= 0 || config_.degree >= n - 1) {
    for (int a = 0; a < n; ++a)
      for (int b = a + 1; b < n; ++b) add(a, b);
  } else {
    for (int a = 0; a < n; ++a) add(a, (a + 1) % n);  // a ring keeps it connected
    const size_t want = static_cast<size_t>(n) * static_cast<size_t>(config_.degree) / 2;
    while (edges.size() < want)
      add(static_cast<int>(Rand(static_cast<uint64_t>(n))),
          static_cast<int>(Rand(static_cast<uint64_t>(n))));
  }
  for (auto [a, b] : edges) {
    link_index_[{a, b}] = links_.size();
    links_.push_back(Link{a, b});
  }
}

void Simulation::OpenNode(Node& n, bool fresh) {
  if (fresh || !n.fs)
    n.fs = storage::FaultInjector::Create(storage::FaultInjector::Medium::kMemory);
  auto store = storage::Store::Open(
      storage::StoreOptions{"/sim/node" + std::to_string(n.index()), net_.id(), true, n.fs});
  if (!store.ok())
    throw Violation("node " + std::to_string(n.index()) +
                    " cannot open its store: " + store.status().ToString());
  node::LedgerOptions lo;
  lo.verify_threads = 1;
  auto ledger = node::Ledger::Open(net_.genesis, std::move(store).value(), lo);
  if (!ledger.ok())
    throw Violation("node " + std::to_string(n.index()) +
                    " cannot open its ledger: " + ledger.status().ToString());
  n.ledger = std::move(ledger).value();
  ++n.generation;
  n.up = true;
  n.RefreshFeeds();
  n.reports.clear();
  // Replication closes the gate at every start (peers are configured).
  n.gate_closed =
      n.generation == 1 ? !config_.open_gate_at_start : config_.bug != "skip-restore-gate";
  if (n.gate_closed) n.ledger->SetWriteGate("sim: learning this firm's own feed head from peers");
  n.flood = std::make_unique<net::HeadFlood>(net_.pk(n.index()));
  if (n.gate_closed && config_.head_relay) {
    // This run's query nonce: fresh per (re)start, drawn from its own
    // generator so the run's other random choices stay as they were.
    std::mt19937_64 g(config_.seed * 0x2545F4914F6CDD1Dull ^
                      (static_cast<uint64_t>(n.index()) << 32) ^ n.generation);
    protocol::HeadNonce nonce{};
    for (auto& b : nonce) b = static_cast<uint8_t>(g());
    (void)n.flood->StartOwnQuery(nonce);
  }
}

void Simulation::StopNode(Node& n, const std::string& why) {
  Log("node " + std::to_string(n.index()) + " " + why);
  n.up = false;
  std::vector<int> peers;
  for (auto& [p, s] : n.sides) peers.push_back(p);
  for (int p : peers) CloseConn(LinkOf(n.index(), p), "peer " + why);
}

void Simulation::DialLoop(size_t li) {
  Link& l = links_[li];
  Node& a = *nodes_[static_cast<size_t>(l.a)];
  Node& b = *nodes_[static_cast<size_t>(l.b)];
  if (l.conn == 0 && !l.dialling && a.up && b.up && !l.cut && !a.Banned(net_.pk(l.b)) &&
      !b.Banned(net_.pk(l.a))) {
    l.dialling = true;
    // The handshake: three messages across the link.
    sched_.After(3 * Delay(), [this, li] { Connect(li); });
  }
  sched_.After(250'000 + static_cast<int64_t>(Rand(750'000)), [this, li] { DialLoop(li); });
}

void Simulation::Connect(size_t li) {
  Link& l = links_[li];
  l.dialling = false;
  Node& a = *nodes_[static_cast<size_t>(l.a)];
  Node& b = *nodes_[static_cast<size_t>(l.b)];
  if (l.conn != 0 || !a.up || !b.up || l.cut) return;
  l.conn = next_conn_++;
  l.last_delivery_us[0] = l.last_delivery_us[1] = now_us();
  l.sealed[0] = l.sealed[1] = l.opened[0] = l.opened[1] = 0;
  for (Node* n : {&a, &b}) {
    const int peer = n == &a ? l.b : l.a;
    Side& s = n->sides[peer];
    s.conn = l.conn;
    s.sync = std::make_unique<net::PeerSync>(*n->ledger, *n, *n, *n, timing_, net_.pk(peer),
                                             n == &a, "", protocol::KindSet::All());
  }
  for (Node* n : {&a, &b}) {
    const int peer = n == &a ? l.b : l.a;
    auto it = n->sides.find(peer);
    if (it == n->sides.end() || it->second.conn != l.conn) continue;
    it->second.sync->Start(clock_.Now());
    Drive(*n, peer);
    const uint64_t conn = l.conn;
    if (conn == 0) break;
    const int idx = n->index();
    sched_.After(net::PeerSync::TickPeriod(timing_).count() * 1000,
                 [this, idx, peer, conn] { Tick(idx, peer, conn); });
  }
}

void Simulation::CloseConn(size_t li, const std::string& reason) {
  Link& l = links_[li];
  if (l.conn == 0) return;
  Log("link " + std::to_string(l.a) + "-" + std::to_string(l.b) + " closed: " + reason);
  l.conn = 0;
  for (int i : {l.a, l.b}) {
    Node& n = *nodes_[static_cast<size_t>(i)];
    auto it = n.sides.find(i == l.a ? l.b : l.a);
    if (it == n.sides.end()) continue;
    graveyard_.push_back(std::move(it->second));
    n.sides.erase(it);
  }
}

void Simulation::Tick(int node, int peer, uint64_t conn) {
  Node& n = *nodes_[static_cast<size_t>(node)];
  auto it = n.sides.find(peer);
  if (it == n.sides.end() || it->second.conn != conn) return;
  it->second.sync->OnTick(clock_.Now());
  Drive(n, peer);
  sched_.After(net::PeerSync::TickPeriod(timing_).count() * 1000,
               [this, node, peer, conn] { Tick(node, peer, conn); });
}

void Simulation::Drive(Node& n, int peer) {
  auto it = n.sides.find(peer);
  if (it == n.sides.end()) return;
  Side& side = it->second;
  const size_t li = LinkOf(n.index(), peer);
  if (side.sync->closed()) {
    CloseConn(li, "node " + std::to_string(n.index()) + ": " + side.sync->close_reason());
    return;
  }
  while (auto out = side.sync->PopOutgoing()) Send(li, n.index(), std::move(out->plaintext));
  const int node = n.index();
  const uint64_t gen = n.generation, conn = side.conn;
  if (auto read = side.sync->TakeReadJob()) {
    // The read of an outgoing batch, off the session as in the daemon: an
    // event after a random delay (a slow disk), so Haves, Acks and pings
    // arrive while it is outstanding.
    auto shared = std::make_shared<net::ReadJob>(std::move(*read));
    sched_.After(50 + static_cast<int64_t>(Rand(5'000)), [this, node, peer, gen, conn, shared] {
      Node& m = *nodes_[static_cast<size_t>(node)];
      if (!m.up || m.generation != gen) return;
      auto s = m.sides.find(peer);
      if (s == m.sides.end() || s->second.conn != conn) return;
      net::ReadResult result = net::RunRead(*m.ledger, *shared);
      s->second.sync->OnRead(std::move(*shared), std::move(result));
      Drive(m, peer);
    });
  }
  auto job = side.sync->TakeIngestJob(net::StoreWritable(*n.ledger));
  if (!job) return;
  // The daemon's ingest thread, as an event: it takes time per record.
  const int64_t cost = 200 + 20 * static_cast<int64_t>(job->records.size());
  auto shared = std::make_shared<net::IngestJob>(std::move(*job));
  sched_.After(cost, [this, node, peer, gen, conn, shared] {
    Node& m = *nodes_[static_cast<size_t>(node)];
    if (!m.up || m.generation != gen) return;
    net::IngestOutcome out = net::RunIngest(*m.ledger, *shared);
    m.RefreshFeeds();
    if (!out.changed.empty())
      NotifyAll(m, std::set<PublicKey>(out.changed.begin(), out.changed.end()));
    auto s = m.sides.find(peer);
    if (s == m.sides.end() || s->second.conn != conn) return;
    s->second.sync->OnIngested(std::move(*shared), out);
    Drive(m, peer);
  });
}

void Simulation::NotifyAll(Node& n, const std::set<PublicKey>& authors) {
  std::vector<int> peers;
  for (auto& [p, s] : n.sides) peers.push_back(p);
  for (int p : peers) {
    auto it = n.sides.find(p);
    if (it == n.sides.end()) continue;
    it->second.sync->OnNotify(authors);
    Drive(n, p);
  }
}

Bytes Simulation::Mutate(Bytes plaintext) {
  auto m = net::DecodePeerMessage(plaintext);
  if (!m.ok() || m->msg_case() != v1::PeerMessage::kEntries) return plaintext;
  auto* entries = m->mutable_entries()->mutable_entries();
  const int i = static_cast<int>(Rand(static_cast<uint64_t>(entries->size())));
  auto* rec = entries->Mutable(i)->mutable_record();
  const PublicKey& self = net_.pk(byzantine_);
  auto c = protocol::CheckRecord(Bytes(rec->begin(), rec->end()), net_.genesis, false);
  if (Chance(0.5) && c.signed_entry && c.signed_entry->entry.author == self) {
    // A fork: another entry at the same seq, after the same prev.
    protocol::Entry e = c.signed_entry->entry;
    e.timestamp_ms += 1 + Rand(1000);
    auto forged = protocol::SignEntry(e, net_.key(byzantine_), net_.genesis);
    if (!forged.ok()) return plaintext;
    forged_.insert(forged->id);
    *rec = std::string(AsChars(forged->record));
    faults_ << "fork@" << e.seq << " ";
    Log("byzantine node " + std::to_string(byzantine_) + " forks its feed at seq " +
        std::to_string(e.seq));
  } else {
    // Garbage: the record's bytes flipped.
    for (size_t k = 0; k < 8 && !rec->empty(); ++k)
      (*rec)[static_cast<size_t>(Rand(rec->size()))] ^= static_cast<char>(1 + Rand(255));
  }
  auto bytes = net::EncodePeerMessage(*m);
  return bytes.ok() ? std::move(bytes).value() : plaintext;
}

void Simulation::Send(size_t li, int from, Bytes plaintext) {
  Link& l = links_[li];
  if (l.conn == 0) return;
  ++result_.messages;
  result_.bytes += plaintext.size();
  if (!plaintext.empty()) {
    // Message kind without decoding: Entries and Evidence carry records.
    auto m = net::DecodePeerMessage(plaintext);
    if (m.ok() && (m->has_entries() || m->has_evidence())) {
      ++result_.data_messages;
      result_.records += m->has_entries() ? static_cast<uint64_t>(m->entries().entries_size())
                                          : static_cast<uint64_t>(m->evidence().items_size());
    }
  }
  if (from == byzantine_ && !healed_ && Chance(0.15)) plaintext = Mutate(std::move(plaintext));
  if (l.cut) return;  // partitioned: lost; the session idles out
  if (config_.faults && !healed_ && Chance(0.002)) {
    // A connection reset (heavy loss): both ends see it after a delay.
    const uint64_t conn = l.conn;
    sched_.After(Delay(), [this, li, conn] {
      if (links_[li].conn == conn) CloseConn(li, "connection reset");
    });
    return;
  }
  // Jitter: each message is delayed, delivered in order (TCP). Each is
  // sealed under the next nonce of its direction.
  const int dir = from == l.a ? 0 : 1;
  const uint64_t nonce = l.sealed[dir]++;
  int64_t at = std::max(now_us() + Delay(), l.last_delivery_us[dir]);
  const int to = from == l.a ? l.b : l.a;
  const uint64_t conn = l.conn;
  auto shared = std::make_shared<Bytes>(std::move(plaintext));
  if (config_.faults && !healed_ && l.last_delivery_us[dir] > now_us() + 1 && Chance(0.001)) {
    // A reordered segment: this message overtakes the one still in flight.
    at = now_us() + 1 +
         static_cast<int64_t>(Rand(static_cast<uint64_t>(l.last_delivery_us[dir] - now_us() - 1)));
    ++reorders_;
  } else {
    l.last_delivery_us[dir] = at;
  }
  if (config_.faults && !healed_ && Chance(0.001)) {
    // A duplicated segment: the same ciphertext arrives a second time.
    ++duplicates_;
    Deliver(li, from, to, conn, nonce, shared,
            at + 1 + static_cast<int64_t>(Rand(static_cast<uint64_t>(Delay()))));
  }
  Deliver(li, from, to, conn, nonce, shared, at);
}

// What reaches the receiver's transport. A duplicated or reordered segment
// is the wrong ciphertext for the next nonce: the AEAD refuses it (the
// daemon's Session counts a strike against the peer and closes), so a
// message is only ever handed to PeerSync in the order it was sent.
void Simulation::Deliver(size_t li, int from, int to, uint64_t conn, uint64_t nonce,
                         std::shared_ptr<const Bytes> message, int64_t at) {
  sched_.At(at, [this, li, to, from, conn, nonce, message] {
    Link& l = links_[li];
    if (l.conn != conn) return;
    Node& n = *nodes_[static_cast<size_t>(to)];
    auto it = n.sides.find(from);
    if (it == n.sides.end() || it->second.conn != conn) return;
    uint64_t& expected = l.opened[from == l.a ? 0 : 1];
    if (nonce != expected) {
      const std::string why = "transport message refused: message " + std::to_string(nonce) +
                              (nonce < expected ? " replayed" : " out of order") + ", expected " +
                              std::to_string(expected) + " (the AEAD tag does not verify)";
      n.Misbehaved(net_.pk(from), 1, why);
      CloseConn(li, "node " + std::to_string(to) + ": protocol violation: " + why);
      return;
    }
    ++expected;
    it->second.sync->OnMessage(*message, clock_.Now());
    Drive(n, from);
  });
}

void Simulation::Write(int i) {
  Node& n = *nodes_[static_cast<size_t>(i)];
  if (!n.up || healed_) return;
  const int creditor = static_cast<int>(
      (static_cast<uint64_t>(i) + 1 + Rand(static_cast<uint64_t>(config_.nodes - 1))) %
      static_cast<uint64_t>(config_.nodes));
  auto e = n.ledger->Append(net_.key(i), testing::Owe(net_.pk(creditor), 1 + Rand(100)),
                            clock_.UnixMs());
  if (!e.ok()) {
    Log("node " + std::to_string(i) + " append refused: " + e.status().ToString());
    return;
  }
  if (i != byzantine_) acked_.push_back(Acked{i, e->entry.seq, e->id});
  ++result_.acked;
  n.RefreshFeeds();
  NotifyAll(n, {net_.pk(i)});
}

std::vector<Bytes> Simulation::SnapshotRecords(Node& n) {
  std::vector<Bytes> out;
  for (const auto& [author, st] : n.ledger->Feeds()) {
    auto recs = n.ledger->ReadFeed(author, 1, static_cast<size_t>(st.head_seq));
    if (recs.ok()) out.insert(out.end(), recs->begin(), recs->end());
  }
  return out;
}

void Simulation::Restore(Node& n, const std::vector<Bytes>& records) {
  OpenNode(n, /*fresh=*/true);
  if (!records.empty()) {
    auto results = n.ledger->Ingest(records, /*sync=*/true);
    for (const auto& r : results)
      if (r.outcome == node::Outcome::kRejected)
        throw Violation("restore of node " + std::to_string(n.index()) +
                        " refused a record: " + r.status.ToString());
  }
  n.RefreshFeeds();
}

void Simulation::ScheduleFaults() {
  const int64_t active = config_.active_ms * 1000;
  std::vector<int> honest;
  for (int i = 0; i < config_.nodes; ++i)
    if (i != byzantine_) honest.push_back(i);
  // In 40% of runs a restore, and then a power cut too. A restore relies on
  // its feed's latest entries surviving on a majority, and an unsynced
  // ingest there is lost to a power cut: so the restore waits until every
  // power cut of the run is over (its node back up) before it counts them.
  const bool restore_run = Chance(0.4);
  const int faults = 2 + static_cast<int>(Rand(5));
  std::set<int> busy;  // one fault per node
  for (int k = 0; k < faults; ++k) {
    size_t pick = Rand(honest.size());
    // A restore run's first two faults (the restore, the power cut) go to
    // two different nodes.
    if (restore_run && busy.size() < 2 && busy.size() < honest.size())
      while (busy.count(honest[pick]) != 0) pick = (pick + 1) % honest.size();
    const int i = honest[pick];
    if (!busy.insert(i).second) continue;
    const int64_t at = 2'000'000 + static_cast<int64_t>(Rand(static_cast<uint64_t>(active / 2)));
    const int64_t down = 500'000 + static_cast<int64_t>(Rand(8'000'000));
    const uint64_t kind = restore_run && busy.size() == 1   ? 3
                          : restore_run && busy.size() == 2 ? 2
                                                            : Rand(3);
    Node* n = nodes_[static_cast<size_t>(i)].get();
    switch (kind) {
      case 0:  // paused: unreachable, state kept
        faults_ << "pause(" << i << ") ";
        sched_.At(at, [this, n] { StopNode(*n, "paused"); });
        sched_.At(at + down, [this, n] {
          n->up = true;
          Log("node " + std::to_string(n->index()) + " resumed");
        });
        break;
      case 1:  // crash and restart: unsynced writes survive (the OS has them)
        faults_ << "crash(" << i << ") ";
        sched_.At(at, [this, n] {
          StopNode(*n, "crashed");
          n->ledger.reset();
        });
        sched_.At(at + down, [this, n] { OpenNode(*n, false); });
        break;
      case 2:  // power cut: every unsynced byte is lost
        faults_ << "powercut(" << i << ") ";
        ++pending_power_cuts_;
        sched_.At(at, [this, n] {
          StopNode(*n, "lost power");
          n->fs->PowerCut();
          n->ledger.reset();
          n->fs->PowerOn();
        });
        sched_.At(at + down, [this, n] {
          OpenNode(*n, false);
          --pending_power_cuts_;
        });
        break;
      default: {  // restored from a snapshot taken earlier
        faults_ << "restore(" << i << ") ";
        auto snapshot = std::make_shared<std::vector<Bytes>>();
        sched_.At(at / 2, [this, n, snapshot] {
          if (n->up) *snapshot = SnapshotRecords(*n);
        });
        // Restored once a strict majority of the others hold its feed's head
        // (the restore rule's premise); checked every 100 ms.
        // The function holds itself weakly (a strong self-reference would
        // never be freed); each scheduled retry holds it.
        auto attempt = std::make_shared<std::function<void()>>();
        std::weak_ptr<std::function<void()>> weak_attempt = attempt;
        *attempt = [this, n, snapshot, weak_attempt, down] {
          if (healed_) return;
          const PublicKey& self = net_.pk(n->index());
          const uint64_t head = n->ledger->Feed(self).head_seq;
          size_t holders = 0;
          for (auto& other : nodes_)
            if (other.get() != n && other->ledger && other->ledger->Feed(self).head_seq >= head)
              ++holders;
          if (!n->up || holders < quorum() || pending_power_cuts_ > 0) {
            if (auto again = weak_attempt.lock()) sched_.After(100'000, [again] { (*again)(); });
            return;
          }
          StopNode(*n, "stopped for a restore from an old snapshot");
          n->ledger.reset();
          sched_.After(down, [this, n, snapshot] {
            Restore(*n, *snapshot);
            Log("node " + std::to_string(n->index()) + " restored (" +
                std::to_string(snapshot->size()) + " records)");
          });
        };
        sched_.At(at, [attempt] { (*attempt)(); });
        break;
      }
    }
  }
  if (Chance(0.7)) {  // a partition into two groups
    std::set<int> side;
    for (int i = 0; i < config_.nodes; ++i)
      if (Chance(0.5)) side.insert(i);
    const int64_t at = static_cast<int64_t>(Rand(static_cast<uint64_t>(active / 2)));
    const int64_t len = 1'000'000 + static_cast<int64_t>(Rand(10'000'000));
    faults_ << "partition(" << side.size() << "|" << config_.nodes - static_cast<int>(side.size())
            << ") ";
    sched_.At(at, [this, side] {
      Log("partition");
      for (Link& l : links_) l.cut = side.count(l.a) != side.count(l.b);
    });
    sched_.At(at + len, [this] {
      Log("partition healed");
      for (Link& l : links_) l.cut = false;
    });
  }
}

bool Simulation::Converged() {
  std::optional<Digest> d;
  for (auto& n : nodes_) {
    if (n->index() == byzantine_) continue;
    if (!n->up || !n->ledger) return false;
    const Digest mine = n->ledger->StateDigest();
    if (d && *d != mine) return false;
    d = mine;
  }
  return true;
}

void Simulation::CheckInvariants() {
  std::vector<Node*> honest;
  for (auto& n : nodes_)
    if (n->index() != byzantine_) honest.push_back(n.get());
  // No acknowledged entry lost: every honest node holds every one.
  for (const Acked& a : acked_)
    for (Node* n : honest) {
      auto got = n->ledger->GetEntry(a.id);
      if (!got.ok() || !got->has_value())
        throw Violation("acknowledged entry lost: node " + std::to_string(n->index()) +
                        " lacks firm" + std::to_string(a.node) + "'s seq " + std::to_string(a.seq));
    }
  // Forks: never of an honest feed (the write gate); a byzantine fork that
  // reached anyone is proven on every honest node.
  bool fork_seen = false;
  for (Node* n : honest) {
    auto evidence = n->ledger->ListEvidence();
    if (!evidence.ok()) throw Violation("ListEvidence: " + evidence.status().ToString());
    for (const auto& ev : *evidence) {
      for (Node* h : honest)
        if (ev.author == net_.pk(h->index()))
          throw Violation("honest firm" + std::to_string(h->index()) +
                          "'s feed forked (evidence on node " + std::to_string(n->index()) +
                          " at seq " + std::to_string(ev.seq) +
                          "): the write gate let it reuse a seq");
      if (byzantine_ >= 0 && ev.author == net_.pk(byzantine_)) fork_seen = true;
    }
    for (const EntryId& id : forged_) {
      auto got = n->ledger->GetEntry(id);
      if (got.ok() && got->has_value()) fork_seen = true;
    }
  }
  if (fork_seen)
    for (Node* n : honest)
      if (n->ledger->Feed(net_.pk(byzantine_)).stop_seq == 0)
        throw Violation("byzantine fork not proven on node " + std::to_string(n->index()));
}

SimResult Simulation::Run() {
  const int64_t rss_before = RssKb();
  try {
    nodes_.clear();
    for (int i = 0; i < config_.nodes; ++i) nodes_.push_back(std::make_unique<Node>(*this, i));
    if (config_.faults && config_.nodes >= 4 && config_.seed % 2 == 0)
      byzantine_ = config_.nodes - 1;
    if (byzantine_ >= 0) faults_ << "byzantine(" << byzantine_ << ") ";
    BuildGraph();
    for (auto& n : nodes_) OpenNode(*n, true);
    result_.rss_open_kb = RssKb() - rss_before;
    for (size_t li = 0; li < links_.size(); ++li)
      sched_.At(static_cast<int64_t>(Rand(500'000)), [this, li] { DialLoop(li); });
    const int64_t active =
        config_.faults ? config_.active_ms * 1000 : 1'000'000 + config_.burst_ms * 1000 + 1;
    for (int k = 0; k < config_.writes; ++k) {
      const int i = static_cast<int>(Rand(static_cast<uint64_t>(config_.nodes)));
      sched_.At(1'000'000 + static_cast<int64_t>(Rand(static_cast<uint64_t>(active - 1'000'000))),
                [this, i] { Write(i); });
    }
    if (config_.faults) ScheduleFaults();
    auto run_until = [this](int64_t t) {
      while (sched_.RunOne(t)) graveyard_.clear();
    };
    run_until(active);
    // Heal: everyone up, no partition, the byzantine node behaves.
    healed_ = true;
    Log("healing");
    for (Link& l : links_) l.cut = false;
    if (config_.faults) run_until(active + 10'000'000);  // late restores and restarts finish
    for (auto& n : nodes_)
      if (!n->ledger)
        OpenNode(*n, false);
      else
        n->up = true;
    const int64_t healed_at = now_us();
    const int64_t limit = healed_at + config_.settle_ms * 1000;
    while (now_us() < limit) {
      run_until(now_us() + (config_.faults ? 500'000 : 50'000));
      if (Converged()) {
        result_.converged_ms = (now_us() - active) / 1000;  // from the end of writes
        break;
      }
    }
    if (result_.converged_ms < 0) {
      std::ostringstream why;
      why << "no convergence within " << config_.settle_ms / 1000 << " s of healing; digests:";
      for (auto& n : nodes_)
        why << " " << n->index() << "=" << n->ledger->StateDigest().Short()
            << (n->index() == byzantine_ ? "(byz)" : "")
            << "/gate:" << (n->ledger->WriteGate().empty() ? "open" : "closed");
      throw Violation(why.str());
    }
    CheckInvariants();
  } catch (const Violation& v) {
    result_.ok = false;
    result_.violation = v.what();
  }
  result_.rss_end_kb = RssKb() - rss_before;
  result_.events = sched_.events();
  if (duplicates_ + reorders_ > 0)
    faults_ << "segments:" << duplicates_ << "dup/" << reorders_ << "reordered ";
  result_.faults = faults_.str();
  graveyard_.clear();
  for (auto& n : nodes_) n->sides.clear();
  return result_;
}

}  // namespace

SimResult RunSimulation(const SimConfig& config) {
  Simulation sim(config);
  return sim.Run();
}

}  // namespace keiretsu::sim
