// A benchmark network: fresh member keys, a genesis, and a firm directory
// per member laid out as an operator would (genesis, 0600 key file, config),
// so every node under test is a real keiretsud started from its own config.
#pragma once

#include <string>
#include <vector>

#include "keiretsu/common/status.h"
#include "keiretsu/crypto/signing.h"
#include "keiretsu/protocol/genesis.h"

namespace keiretsu::bench {

// The operator token every benchmark node accepts.
inline constexpr char kBenchToken[] = "bench-operator-token-00000000000000";

struct BenchNetwork {
  std::vector<crypto::SigningKey> keys;  // member i signs with keys[i]
  std::vector<std::string> names;        // "firm00", "firm01", ...
  protocol::Genesis genesis;

  int size() const { return static_cast<int>(keys.size()); }
  const PublicKey& pk(int i) const { return keys[static_cast<size_t>(i)].public_key(); }
};

// `members` fresh keys (from the OS's randomness) and their genesis.
Result<BenchNetwork> MakeBenchNetwork(int members, const std::string& name);

// Where a node listens and whom it dials.
struct NodeLayout {
  int member = 0;                           // index into the network
  std::string peer_listen;                  // host:port, empty: no peer listener
  std::vector<int> peers;                   // members to dial ...
  std::vector<std::string> peer_addresses;  // ... at these addresses
  bool ops = false;                         // an operations listener (/metrics) on a free port
  // The restore rule (PROTOCOL.md 13.2.8): writes wait for reports from a
  // majority of the other members, which a sparsely peered node never gets.
  bool require_peer_before_write = true;
};

// Writes <dir>/{genesis.toml, firm.key, keiretsud.toml} for `layout` and
// returns the config path. The data directory is <dir>/data.
Result<std::string> WriteFirmDir(const BenchNetwork& net, const NodeLayout& layout,
                                 const std::string& dir);

// A loopback port for a node to listen on, reserved for this process until
// it exits: outside the kernel's ephemeral range (so no connect() or
// bind(0) of any process is handed it meanwhile), free at the time of
// asking, and held under a lock file in /tmp/keiretsu-test-ports (the
// multi-process tests' harness.py takes the same locks), so concurrent
// runs never pick the same one. Thread-compatible (call from one thread).
Result<int> FreeLoopbackPort();

}  // namespace keiretsu::bench
