// The machine's own limits, measured in the same run as the node, so every
// node figure can be reported as a ratio to what the hardware allows:
// Ed25519 (libsodium) verification on every core and signing on one,
// BLAKE2b throughput, and RocksDB's synced batch write rate on the disk
// the nodes use. The empty gRPC call rate needs a running node and is
// measured with the API load (api_load.h).
#pragma once

#include <string>

namespace keiretsu::bench {

struct Limits {
  unsigned cores = 0;
  double verify_per_s_all_cores = 0;  // crypto_sign_verify_detached, one thread per core
  double verify_per_s_one_core = 0;
  double sign_per_s_one_core = 0;                   // crypto_sign_detached
  double blake2b_mb_per_s = 0;                      // 1 MiB messages, one core
  double blake2b_entry_hashes_per_s = 0;            // entry-sized messages, one core
  double rocksdb_synced_writes_per_s = 0;           // one entry per synced batch
  double rocksdb_synced_batched_entries_per_s = 0;  // 256 entries per synced batch
  size_t entry_bytes = 0;  // the message size used (a typical signed entry)
};

// Each figure is the best of `repeats` runs of `seconds` each. `scratch` is
// a directory on the disk under test (created and removed).
Limits MeasureLimits(double seconds, int repeats, const std::string& scratch);

}  // namespace keiretsu::bench
