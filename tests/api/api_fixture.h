// An in-process API server over a real ledger, reached through a real gRPC
// channel on 127.0.0.1: the node is firm0 of a three-firm test network.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>

#include "keiretsu/api/server.h"
#include "keiretsu/protocol/balance.h"
#include "keiretsu/v1/api.grpc.pb.h"
#include "test_network.h"

namespace keiretsu::api {

namespace v1 = ::keiretsu::v1;

inline constexpr char kOperatorToken[] = "operator-token-0123456789";
inline constexpr char kAuditorToken[] = "auditor-token-0123456789";
inline constexpr char kPartner1Token[] = "partner1-token-0123456789";  // firm1
inline constexpr char kPartner2Token[] = "partner2-token-0123456789";  // firm2

// A stand-in for the replication module.
class FakePeers : public PeerStatusSource {
 public:
  std::vector<PeerInfo> Peers() const override {
    std::lock_guard lock(mu_);
    return peers_;
  }
  std::string WriteBlockReason() const override {
    if (on_write_check) on_write_check();
    std::lock_guard lock(mu_);
    return reason_;
  }
  // Called by every write before it appends (set before the calls start):
  // lets a test hold a write at a known point.
  std::function<void()> on_write_check;
  void Set(std::vector<PeerInfo> peers, std::string reason) {
    std::lock_guard lock(mu_);
    peers_ = std::move(peers);
    reason_ = std::move(reason);
  }

 private:
  mutable std::mutex mu_;
  std::vector<PeerInfo> peers_;
  std::string reason_;
};

// Everything a refused call must leave as it was.
struct LedgerSnapshot {
  std::string digest;
  std::vector<std::string> balances;
  size_t pending = 0;
  uint64_t log = 0;
  bool operator==(const LedgerSnapshot&) const = default;
};

inline void PrintTo(const LedgerSnapshot& s, std::ostream* os) {
  *os << "{digest " << s.digest << ", pending " << s.pending << ", log " << s.log << ", balances";
  for (const auto& b : s.balances) *os << " " << b;
  *os << "}";
}

inline LedgerSnapshot Snap(const node::Ledger& l) {
  LedgerSnapshot s{l.StateDigest().Hex(), {}, l.PendingCount(), l.LastCursor()};
  auto rows = l.ListAllBalances();  // a named Result: the loop must not outlive it
  for (const auto& r : *rows)
    s.balances.push_back(r.firm.Short() + r.counterparty.Short() + r.unit +
                         protocol::AmountToString(r.net));
  return s;
}

// One node: ledger + API server. Several can live in one test (export and
// import between them).
struct TestNode {
  testing::TempDir dir;
  std::unique_ptr<node::Ledger> ledger;
  std::shared_ptr<WatchHub> hub = std::make_shared<WatchHub>();
  FakePeers peers;
  std::unique_ptr<ApiServer> server;
  std::unique_ptr<v1::Ledger::Stub> stub;
  std::atomic<uint64_t> clock_ms{1'790'000'100'000};  // handlers read it concurrently

  // `db`: the data directory (default: a fresh one under `dir`), so a test
  // can restart a node on the same data.
  TestNode(const testing::TestNetwork& net, int self, ApiServerOptions options = {},
           const std::string& db = "") {
    ledger = testing::OpenLedger(net, db.empty() ? dir.Sub("db") : db);
    ledger->SetListener([h = hub](const auto& applied) { h->OnApplied(applied); });
    options.listen = "127.0.0.1:0";
    options.version = "test-version";
    options.now_unix_ms = [this] { return clock_ms.fetch_add(1000) + 1000; };
    options.tokens = {
        {kOperatorToken, Role::kOperator, std::nullopt, "operator"},
        {kAuditorToken, Role::kAuditor, std::nullopt, "auditor"},
        {kPartner1Token, Role::kPartner, net.pk(1), "partner1"},
        {kPartner2Token, Role::kPartner, net.pk(2), "partner2"},
    };
    auto s = ApiServer::Start(*ledger, net.key(self), hub, &peers, std::move(options));
    if (!s.ok()) throw std::runtime_error(s.status().ToString());
    server = std::move(s).value();
    stub = v1::Ledger::NewStub(
        grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials()));
  }
  ~TestNode() {
    if (server) server->Shutdown(std::chrono::milliseconds(0));
  }
};

inline std::unique_ptr<grpc::ClientContext> Ctx(
    std::string_view token, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + std::string(token));
  ctx->set_deadline(std::chrono::system_clock::now() + timeout);
  return ctx;
}

// "CODE: message" of a status, for assertions that show both on failure.
inline std::string Describe(const grpc::Status& s) {
  return std::to_string(static_cast<int>(s.error_code())) + ": " + s.error_message();
}

class ApiTest : public ::testing::Test {
 protected:
  testing::TestNetwork net = testing::MakeNetwork(3);
  testing::FeedBuilder fb{net};
  std::unique_ptr<TestNode> node = std::make_unique<TestNode>(net, 0);
  node::Ledger& ledger() { return *node->ledger; }
  v1::Ledger::Stub& stub() { return *node->stub; }

  // Ingests an entry built offline (another firm's, as if replicated).
  void Put(const protocol::SignedEntry& e) {
    auto r = ledger().Ingest(std::span(&e.record, 1), true);
    ASSERT_EQ(r.at(0).outcome, node::Outcome::kApplied) << r.at(0).status.ToString();
  }
  std::string Hex(int firm) const { return net.pk(firm).Hex(); }
};

}  // namespace keiretsu::api
