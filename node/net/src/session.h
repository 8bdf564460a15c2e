// Session: one peer link, from TCP connect/accept through the handshake to
// the end of the connection (docs/replication.md): the I/O around a
// PeerSync (peer_sync.h), which holds the protocol logic after the
// handshake. All of its state lives on its own strand; four coroutines
// share it: Run (handshake, then waits for the end), ReadLoop (frames ->
// PeerSync), WriteLoop (PeerSync's messages -> encrypted frames), TickLoop
// (PeerSync's ticks, the write timeout). Ingest jobs and the reads of
// outgoing batches run on the Replicator's ingest and read threads (one of
// each for all sessions), never on the strand, and the session resumes
// when they are done: a slow store delays them, not the session's reads,
// writes and timers.
//
// Thread-safety: CloseAsync and Notify may be called from any thread;
// everything else runs on the strand. firm()/initiator() are fixed once
// established() is true.
#pragma once

#include <asio.hpp>
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "keiretsu/net/peer_handshake.h"
#include "node/net/src/core.h"
#include "node/net/src/net_timer.h"
#include "node/net/src/peer_sync.h"
#include "node/net/src/wire.h"

namespace keiretsu::net {

class Session : public std::enable_shared_from_this<Session> {
 public:
  static std::shared_ptr<Session> Outbound(Replicator::Core& core, const PublicKey& firm,
                                           const std::string& address);
  // `source` holds an inbound handshake slot (Core::AdmitInbound), released
  // when the handshake ends.
  static std::shared_ptr<Session> Inbound(Replicator::Core& core, asio::ip::tcp::socket socket,
                                          std::string source);
  ~Session();

  // Connects (outbound), runs the handshake, registers, then serves until
  // the session closes. Spawn it on executor().
  asio::awaitable<void> Run();
  asio::any_io_executor executor() { return socket_.get_executor(); }

  void CloseAsync(std::string reason);
  void Notify(const std::vector<PublicKey>& authors);
  // Sends the peer flooded head queries/reports (PeerSync::Relay), on the
  // session's strand. Thread-safe.
  void Relay(std::vector<FloodItem> items);

  bool established() const { return established_.load(); }
  // Whether the peer sent its first Have: it accepted the handshake (a
  // responder that refuses us, say because this firm is not a member, closes
  // after our last handshake message, when established() is already true).
  // Read only after Run() has finished.
  bool peer_answered() const { return sync_ && sync_->have_received(); }
  bool outbound() const { return outbound_; }
  const PublicKey& firm() const { return firm_; }
  // Outbound: the peer closed the connection after our hello, before
  // answering it (a v1 node refuses a hello that way).
  bool hello_refused() const { return hello_refused_; }
  const PublicKey& initiator() const { return initiator_; }
  const std::string& remote_address() const { return remote_address_; }

 private:
  Session(Replicator::Core& core, asio::ip::tcp::socket socket, bool outbound,
          const PublicKey& firm, std::string address);

  asio::awaitable<Status> Connect();
  void ArmDeadline(std::chrono::milliseconds after, std::string reason);
  void TuneSocket();
  void ReleaseSlot();
  asio::awaitable<Status> Handshake();
  asio::awaitable<Result<Bytes>> ReadFrame(size_t max_frame);
  asio::awaitable<void> ReadLoop();
  asio::awaitable<void> WriteLoop();
  asio::awaitable<void> TickLoop();

  void Close(const std::string& reason);
  void Violation(const std::string& what);
  void DrainNotify();
  // After every call into sync_: close if it decided so, wake the writer,
  // start an ingest job if one is due.
  void AfterSync();
  void OnIngested(IngestJob job, IngestOutcome out);
  void OnRead(ReadJob job, ReadResult result);

  Replicator::Core& core_;
  asio::ip::tcp::socket socket_;
  const bool outbound_;
  bool hello_refused_ = false;
  PublicKey firm_;       // expected (outbound) / authenticated (after the handshake)
  PublicKey initiator_;  // the key of the side that dialled
  std::string address_;  // outbound: the configured address
  std::string remote_address_;
  std::string remote_host_;  // inbound: the remote IP, for dialling back
  std::string slot_source_;  // inbound: the handshake slot held (empty: none)
  std::atomic<bool> established_{false};

  // All wait on instants of core_.clock(): deadline_ (connect/handshake),
  // tick_ (PeerSync's next tick); wake_ and closed_signal_ wait for Cancel.
  NetTimer deadline_, wake_, closed_signal_, tick_;
  bool closed_ = false;
  std::string close_reason_;
  std::optional<SecureChannel> channel_;

  Bytes rbuf_;
  size_t rbegin_ = 0, rend_ = 0;
  TimePoint write_started_{};
  protocol::KindSet peer_kinds_;    // from the handshake's hello
  bool peer_head_reports_ = false;  // its hello states HeadQuery/HeadReports
  PublicKey peer_key_;              // the key the peer proved in the handshake
  std::unique_ptr<PeerSync> sync_;  // after the handshake

  std::mutex notify_mu_;
  std::set<PublicKey> notify_authors_;  // GUARDED_BY(notify_mu_); bounded by members
  bool notify_posted_ = false;          // GUARDED_BY(notify_mu_)
};

}  // namespace keiretsu::net
