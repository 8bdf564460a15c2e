// A seeded discrete-event simulator of many keiretsu nodes (docs/TESTING.md
// "Simulation"). Each node is a real node::Ledger on an in-memory store
// (storage::FaultInjector, Medium::kMemory); its peer sessions are the
// daemon's protocol state machines (net::PeerSync) joined by simulated
// links. One scheduler, one thread, simulated time: a seed decides every
// delay, fault and write, so a run replays exactly.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace keiretsu::sim {

struct SimConfig {
  uint64_t seed = 1;
  int nodes = 5;
  // Peers per node: 0 is a full mesh; else a sparse random graph (a ring
  // plus random chords) where each node has about this many peers.
  int degree = 0;
  // Fault runs: pauses, crashes, power cuts or a restore from an old
  // snapshot, partitions, connection resets, and (with >= 4 nodes, on even
  // seeds) a byzantine member that forks its feed and sends garbage.
  bool faults = true;
  int writes = 40;  // entries appended (spread over the active phase, or the burst)
  // Without faults: the writes come as a burst over this long from t = 1 s,
  // and convergence is timed from its end.
  int64_t burst_ms = 1'000;
  // Nodes start with the write gate open (require_peer_before_write off),
  // as in a new network; the gate still closes at every restart.
  bool open_gate_at_start = false;
  // Nodes flood head queries and signed head reports (PROTOCOL.md 13.2.8),
  // so the gate counts members that are not direct peers; false: only the
  // direct peers' Haves count (the rule before relayed reports).
  bool head_relay = true;
  int64_t active_ms = 30'000;   // the phase with faults and writes
  int64_t settle_ms = 240'000;  // after healing: the bound on convergence
  // Test-only bugs the invariants must catch: "skip-restore-gate" (a
  // restarted node writes before peers told it its own feed's head).
  std::string bug;
  bool verbose = false;
};

struct SimResult {
  bool ok = true;
  std::string violation;                    // the first invariant broken (empty when ok)
  uint64_t acked = 0;                       // Appends acknowledged (OK and synced)
  uint64_t messages = 0, bytes = 0;         // every peer message sent, and its plaintext
  uint64_t data_messages = 0, records = 0;  // Entries/Evidence batches, records in them
  int64_t converged_ms = -1;                // from healing (end of writes) to equal digests
  uint64_t events = 0;
  // Resident memory grown (KiB) once every node's ledger was open, and by
  // the end of the run (both over the process's RSS before the run).
  int64_t rss_open_kb = 0, rss_end_kb = 0;
  std::string faults;  // what the seed did, for --verbose and failures
};

SimResult RunSimulation(const SimConfig& config);

}  // namespace keiretsu::sim
