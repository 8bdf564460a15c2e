#include "bench/src/limits.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

namespace keiretsu::bench {
namespace {

using Clock = std::chrono::steady_clock;

// A typical signed entry's signing message: "keiretsu/v1/entry" || content
// for an obligation with a 35-character memo is about 190 bytes.
constexpr size_t kEntryBytes = 190;

// Runs `op` on `threads` threads for `seconds`; returns operations per second.
// `op(thread)` does a small fixed batch of work and returns its count.
double Rate(unsigned threads, double seconds, const std::function<uint64_t(unsigned)>& op) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> total{0};
  std::vector<std::thread> pool;
  const auto t0 = Clock::now();
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) n += op(t);
      total += n;
    });
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  return static_cast<double>(total) / std::chrono::duration<double>(Clock::now() - t0).count();
}

double Best(int repeats, const std::function<double()>& run) {
  double best = 0;
  for (int i = 0; i < repeats; ++i) best = std::max(best, run());
  return best;
}

double RocksSyncedRate(const std::string& dir, double seconds, int per_batch) {
  std::filesystem::remove_all(dir);
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, dir, &raw).ok()) return 0;
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  std::string value(kEntryBytes + 64, 'v');
  uint64_t key = 0;
  double rate = Rate(1, seconds, [&](unsigned) -> uint64_t {
    rocksdb::WriteBatch batch;
    for (int i = 0; i < per_batch; ++i) {
      ++key;
      batch.Put(rocksdb::Slice(reinterpret_cast<const char*>(&key), sizeof key), value);
    }
    return db->Write(wo, &batch).ok() ? static_cast<uint64_t>(per_batch) : 0;
  });
  db.reset();
  std::filesystem::remove_all(dir);
  return rate;
}

}  // namespace

Limits MeasureLimits(double seconds, int repeats, const std::string& scratch) {
  Limits l;
  l.cores = std::max(1u, std::thread::hardware_concurrency());
  l.entry_bytes = kEntryBytes;
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  std::vector<unsigned char> msg(kEntryBytes);
  randombytes_buf(msg.data(), msg.size());
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, msg.data(), msg.size(), sk);

  auto verify = [&](unsigned) -> uint64_t {
    uint64_t ok = 0;
    for (int i = 0; i < 16; ++i)
      ok += crypto_sign_verify_detached(sig, msg.data(), msg.size(), pk) == 0 ? 1 : 0;
    return ok;
  };
  l.verify_per_s_all_cores = Best(repeats, [&] { return Rate(l.cores, seconds, verify); });
  l.verify_per_s_one_core = Best(repeats, [&] { return Rate(1, seconds, verify); });
  l.sign_per_s_one_core = Best(repeats, [&] {
    return Rate(1, seconds, [&](unsigned) -> uint64_t {
      unsigned char s[crypto_sign_BYTES];
      for (int i = 0; i < 16; ++i) crypto_sign_detached(s, nullptr, msg.data(), msg.size(), sk);
      return 16;
    });
  });
  sodium_memzero(sk, sizeof sk);

  std::vector<unsigned char> big(1 << 20);
  randombytes_buf(big.data(), big.size());
  l.blake2b_mb_per_s = Best(repeats, [&] {
    return Rate(1, seconds, [&](unsigned) -> uint64_t {
      unsigned char out[32];
      crypto_generichash(out, sizeof out, big.data(), big.size(), nullptr, 0);
      return 1;
    });
  });
  l.blake2b_entry_hashes_per_s = Best(repeats, [&] {
    return Rate(1, seconds, [&](unsigned) -> uint64_t {
      unsigned char out[32];
      for (int i = 0; i < 64; ++i)
        crypto_generichash(out, sizeof out, msg.data(), msg.size(), nullptr, 0);
      return 64;
    });
  });

  l.rocksdb_synced_writes_per_s =
      Best(repeats, [&] { return RocksSyncedRate(scratch + "/rocks-1", seconds, 1); });
  l.rocksdb_synced_batched_entries_per_s =
      Best(repeats, [&] { return RocksSyncedRate(scratch + "/rocks-256", seconds, 256); });
  return l;
}

}  // namespace keiretsu::bench
