// Test support for the replication tests: in-process nodes (a Ledger in a
// TempDir with a Replicator on 127.0.0.1:0), a wait-for-condition helper,
// and PeerClient, a test peer that speaks the real protocol over TCP (the
// real handshake and transport) and can then send anything.
#pragma once

#include <gtest/gtest.h>

#include <asio.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "keiretsu/net/frame.h"
#include "keiretsu/net/peer_handshake.h"
#include "keiretsu/net/replicator.h"
#include "keiretsu/v1/peer.pb.h"
#include "node/net/src/wire.h"
#include "test_network.h"

namespace keiretsu::testing {

using namespace std::chrono_literals;

// Polls `pred` until it holds or `timeout` passes; true if it held.
inline bool WaitFor(const std::function<bool()>& pred,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

// Short timers so tests run in seconds.
inline net::ReplicatorOptions FastOptions() {
  net::ReplicatorOptions o;
  o.listen = "127.0.0.1:0";
  o.anti_entropy_interval = 200ms;
  o.handshake_timeout = 3s;
  o.idle_timeout = 10s;
  o.ping_interval = 1s;
  o.redial_min = 50ms;
  o.redial_max = 400ms;
  o.misbehaviour_backoff = 60s;
  o.io_threads = 1;
  o.random_seed = 7;
  return o;
}

// One firm's node: a ledger in its own directory and a replicator whose
// listener is wired to it. Stop/Start keep the directory.
class TestNode {
 public:
  TestNode(const TestNetwork& net, int firm) : net_(net), firm_(firm) {}
  ~TestNode() { Stop(); }

  node::LedgerOptions ledger_options;  // used by the next Start

  void Start(net::ReplicatorOptions options = FastOptions(), uint16_t port = 0) {
    if (port != 0) options.listen = "127.0.0.1:" + std::to_string(port);
    ledger_ = OpenLedger(net_, dir_.Sub("db"), ledger_options);
    auto r = net::Replicator::Create(*ledger_, net_.key(firm_), std::move(options));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    rep_ = std::move(r).value();
    net::Replicator* rep = rep_.get();
    ledger_->SetListener([rep](const std::vector<node::AppliedEntry>& a) { rep->OnApplied(a); });
    Status s = rep_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    if (port_ == 0) port_ = rep_->port();
  }
  void Stop() {
    if (rep_) rep_->Stop();
    rep_.reset();
    ledger_.reset();
  }
  // Restarts on the same port, so peers' configured addresses stay valid.
  void Restart(net::ReplicatorOptions options = FastOptions()) {
    Stop();
    Start(std::move(options), port_);
  }

  net::PeerConfig AsPeer() const { return {net_.pk(firm_), "127.0.0.1:" + std::to_string(port_)}; }
  node::Ledger& ledger() { return *ledger_; }
  net::Replicator& rep() { return *rep_; }
  const std::string& dir() const { return dir_.path(); }
  std::string db() const { return dir_.Sub("db"); }
  uint16_t port() const { return port_; }
  int firm() const { return firm_; }
  const crypto::SigningKey& key() const { return net_.key(firm_); }

  Result<protocol::SignedEntry> Append(protocol::Body body) {
    return ledger_->Append(key(), std::move(body), 1'790'000'000'000);
  }
  std::optional<net::PeerStatus> Peer(int firm) const {
    for (auto& p : rep_->Peers())
      if (p.firm == net_.pk(firm)) return p;
    return std::nullopt;
  }
  bool ConnectedTo(int firm) const {
    auto p = Peer(firm);
    return p && p->connected;
  }

 private:
  const TestNetwork& net_;
  int firm_;
  TempDir dir_;
  std::unique_ptr<node::Ledger> ledger_;
  std::unique_ptr<net::Replicator> rep_;
  uint16_t port_ = 0;
};

inline bool SameDigest(const std::vector<TestNode*>& nodes) {
  for (auto* n : nodes)
    if (n->ledger().StateDigest() != nodes.front()->ledger().StateDigest()) return false;
  return true;
}

// A peer under the test's control, over a real TCP connection.
class PeerClient {
 public:
  explicit PeerClient(uint16_t port) : socket_(io_) {
    std::error_code ec;
    socket_.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    connected_ = !ec;
  }
  bool connected() const { return connected_; }

  // The real handshake as initiator. `sent` receives messages 1 and 3.
  Status Handshake(const protocol::Genesis& genesis, const crypto::SigningKey& key,
                   const PublicKey& expected, std::vector<Bytes>* sent = nullptr) {
    auto hs = net::PeerHandshake::Initiator(genesis, key, expected);
    if (!hs.ok()) return hs.status();
    auto m1 = hs->Start();
    if (!m1.ok()) return m1.status();
    if (sent) sent->push_back(*m1);
    KEIRETSU_RETURN_IF_ERROR(SendFrame(*m1));
    auto m2 = ReadFrame();
    if (!m2.ok()) return m2.status();
    auto m3 = hs->Receive(*m2);
    if (!m3.ok()) return m3.status();
    if (sent) sent->push_back(**m3);
    KEIRETSU_RETURN_IF_ERROR(SendFrame(**m3));
    auto ciphers = hs->Split();
    if (!ciphers.ok()) return ciphers.status();
    channel_.emplace(std::move(ciphers).value());
    return Status::Ok();
  }

  Status SendRaw(ByteView bytes) {
    std::error_code ec;
    asio::write(socket_, asio::buffer(bytes.data(), bytes.size()), ec);
    return ec ? Unavailable(ec.message()) : Status::Ok();
  }
  Status SendFrame(ByteView message) {
    Bytes frame;
    KEIRETSU_RETURN_IF_ERROR(net::AppendFrame(message, &frame));
    return SendRaw(frame);
  }
  // Encrypts (advancing the nonce) without sending: for reordering tests.
  Result<Bytes> Seal(const v1::PeerMessage& m) {
    auto plain = net::EncodePeerMessage(m);
    if (!plain.ok()) return plain.status();
    Bytes frame;
    KEIRETSU_RETURN_IF_ERROR(channel_->Seal(*plain, &frame));
    return frame;
  }
  Status Send(const v1::PeerMessage& m) {
    auto frame = Seal(m);
    if (!frame.ok()) return frame.status();
    return SendRaw(*frame);
  }

  // The next frame body; kUnavailable when the connection closed or nothing
  // arrived within `timeout`.
  Result<Bytes> ReadFrame(std::chrono::milliseconds timeout = 5s) {
    for (;;) {
      auto d = net::DecodeFrame(buf_);
      if (!d.error.ok()) return d.error;
      if (d.frame) {
        Bytes out(d.frame->begin(), d.frame->end());
        buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(d.consumed));
        return out;
      }
      uint8_t chunk[65536];
      std::error_code ec = asio::error::timed_out;
      size_t n = 0;
      socket_.async_read_some(asio::buffer(chunk), [&](std::error_code e, size_t got) {
        ec = e;
        n = got;
      });
      io_.restart();
      io_.run_for(timeout);
      if (!io_.stopped()) {  // timed out: cancel the read and let it finish
        socket_.cancel();
        io_.restart();
        io_.run();
        return Unavailable("timed out");
      }
      if (ec) return Unavailable(ec == asio::error::eof ? "closed" : ec.message());
      buf_.insert(buf_.end(), chunk, chunk + n);
    }
  }
  Result<v1::PeerMessage> Receive(std::chrono::milliseconds timeout = 5s) {
    auto frame = ReadFrame(timeout);
    if (!frame.ok()) return frame.status();
    auto plain = channel_->Open(*frame);
    if (!plain.ok()) return plain.status();
    return net::DecodePeerMessage(*plain);
  }
  // Reads (and discards) until the peer closes the connection; true if it
  // did within `timeout`.
  bool WaitClosed(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto f = ReadFrame(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now()));
      if (!f.ok()) return f.status().message() != "timed out";
    }
    return false;
  }
  // Answers until `pred` holds for a received message (acking every batch,
  // so the peer keeps sending). Returns false on close or timeout.
  bool ReceiveUntil(const std::function<bool(const v1::PeerMessage&)>& pred,
                    std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto m = Receive(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now()));
      if (!m.ok()) return false;
      uint64_t batch = m->has_entries()    ? m->entries().batch()
                       : m->has_evidence() ? m->evidence().batch()
                                           : 0;
      if (batch != 0) {
        v1::PeerMessage ack;
        ack.mutable_ack()->set_batch(batch);
        if (!Send(ack).ok()) return false;
      }
      if (pred(*m)) return true;
    }
    return false;
  }

 private:
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  bool connected_ = false;
  Bytes buf_;
  std::optional<net::SecureChannel> channel_;
};

inline v1::PeerMessage EmptyHave() {
  v1::PeerMessage m;
  m.mutable_have()->set_last(true);
  return m;
}

inline v1::PeerMessage EntriesOf(uint64_t batch, const std::vector<Bytes>& records) {
  v1::PeerMessage m;
  m.mutable_entries()->set_batch(batch);
  for (const Bytes& r : records)
    m.mutable_entries()->add_entries()->set_record(std::string(AsChars(r)));
  return m;
}

// An EvidenceBatch of one fork proof: `first` and `second`, both signed by
// `author` at `seq`.
inline v1::PeerMessage ForkEvidenceOf(uint64_t batch, const PublicKey& author, uint64_t seq,
                                      const Bytes& first, const Bytes& second) {
  v1::PeerMessage m;
  m.mutable_evidence()->set_batch(batch);
  v1::Evidence* ev = m.mutable_evidence()->add_items();
  ev->set_kind(v1::Evidence::KIND_FORK);
  ev->set_author(std::string(AsChars(author.bytes)));
  ev->set_seq(seq);
  ev->set_first(std::string(AsChars(first)));
  ev->set_second(std::string(AsChars(second)));
  return m;
}

}  // namespace keiretsu::testing
