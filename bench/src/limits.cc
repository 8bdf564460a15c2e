#include "bench/src/limits.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <sodium.h>

#include <algorithm>
#include <array>
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
  // Distinct signatures by distinct keys, as a node verifies them: the same
  // signature over and over would flatter the limit with warm caches.
  struct Signed {
    std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> pk;
    std::array<unsigned char, kEntryBytes> msg;
    std::array<unsigned char, crypto_sign_BYTES> sig;
  };
  constexpr size_t kKeys = 10, kSigned = 4096;
  std::vector<std::array<unsigned char, crypto_sign_SECRETKEYBYTES>> sks(kKeys);
  std::vector<Signed> pool(kSigned);
  std::vector<std::array<unsigned char, crypto_sign_PUBLICKEYBYTES>> pks(kKeys);
  for (size_t k = 0; k < kKeys; ++k) crypto_sign_keypair(pks[k].data(), sks[k].data());
  for (size_t i = 0; i < kSigned; ++i) {
    Signed& s = pool[i];
    s.pk = pks[i % kKeys];
    randombytes_buf(s.msg.data(), s.msg.size());
    crypto_sign_detached(s.sig.data(), nullptr, s.msg.data(), s.msg.size(), sks[i % kKeys].data());
  }
  std::vector<size_t> cursor(8 * (l.cores + 1), 0);  // per thread, a cache line apart
  auto verify = [&](unsigned t) -> uint64_t {
    uint64_t ok = 0;
    for (int i = 0; i < 16; ++i) {
      const Signed& s = pool[(cursor[t * 8]++ + t * 997) % kSigned];
      ok += crypto_sign_verify_detached(s.sig.data(), s.msg.data(), s.msg.size(), s.pk.data()) == 0;
    }
    return ok;
  };
  const unsigned char* sk = sks[0].data();
  std::vector<unsigned char> msg(pool[0].msg.begin(), pool[0].msg.end());
  l.verify_per_s_all_cores = Best(repeats, [&] { return Rate(l.cores, seconds, verify); });
  l.verify_per_s_one_core = Best(repeats, [&] { return Rate(1, seconds, verify); });
  l.sign_per_s_one_core = Best(repeats, [&] {
    return Rate(1, seconds, [&](unsigned) -> uint64_t {
      unsigned char s[crypto_sign_BYTES];
      for (int i = 0; i < 16; ++i) crypto_sign_detached(s, nullptr, msg.data(), msg.size(), sk);
      return 16;
    });
  });
  for (auto& k : sks) sodium_memzero(k.data(), k.size());

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
