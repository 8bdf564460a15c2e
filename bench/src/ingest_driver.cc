// keiretsu-bench-ingest: the catch-up ingest path alone, without processes,
// sockets or gRPC, for profiling (docs/PERFORMANCE.md "Catch-up").
//
//   keiretsu-bench-ingest gen    --dir D --entries N   signs N entries of 10 firms
//                                                      into D/records.bin (and D/genesis)
//   keiretsu-bench-ingest ingest --dir D [--chunk C] [--verify-threads T]
//       ingests D/records.bin into a fresh store D/fresh through
//       node::Ledger::Ingest (every signature verified, sync = false), in
//       jobs of C records made as a syncing peer sends them (batches of up
//       to 48 records of one feed, feeds in turn), and prints the CPU time
//       per entry, the rate, and what verifying the same signatures alone
//       costs on one core (so the difference is the non-signature work).
//
// Under callgrind, `ingest` with --verify-threads 1 gives instruction counts
// that other processes on the machine do not disturb.
#include <sys/resource.h>

#include <sodium.h>
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "bench/src/bench_network.h"
#include "bench/src/ledger_gen.h"
#include "keiretsu/crypto/signing.h"
#include "keiretsu/node/ledger.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/genesis.h"
#include "keiretsu/storage/store.h"

namespace keiretsu::bench {
namespace {

double CpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

void WriteBlob(std::ofstream& out, ByteView b) {
  const uint32_t n = static_cast<uint32_t>(b.size());
  out.write(reinterpret_cast<const char*>(&n), sizeof n);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

bool ReadBlob(std::ifstream& in, Bytes& b) {
  uint32_t n = 0;
  if (!in.read(reinterpret_cast<char*>(&n), sizeof n)) return false;
  b.resize(n);
  return static_cast<bool>(in.read(reinterpret_cast<char*>(b.data()), n));
}

// The file: the genesis (its canonical bytes), then every record, in the
// order a syncing peer sends them.
Status Generate(const std::string& dir, uint64_t entries) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  KEIRETSU_ASSIGN_OR_RETURN(BenchNetwork net, MakeBenchNetwork(11, "bench-ingest"));
  KEIRETSU_ASSIGN_OR_RETURN(GeneratedLedger g, GenerateLedger(net, 10, entries, dir + "/source",
                                                              [](uint64_t, uint64_t) {}));
  KEIRETSU_ASSIGN_OR_RETURN(
      auto store, storage::Store::Open({dir + "/source", net.genesis.network_id(), false}));
  // As PeerModel::NextEntries: up to 48 records of one feed per batch, the
  // feeds in turn.
  constexpr size_t kBatch = 48;
  std::vector<uint64_t> next(10, 1);
  std::vector<Bytes> records;
  for (bool any = true; any;) {
    any = false;
    for (int f = 0; f < 10; ++f) {
      KEIRETSU_ASSIGN_OR_RETURN(auto recs,
                                store->ReadFeed(net.pk(f), next[static_cast<size_t>(f)], kBatch));
      next[static_cast<size_t>(f)] += recs.size();
      any = any || !recs.empty();
      for (Bytes& r : recs) records.push_back(std::move(r));
    }
  }
  std::ofstream out(dir + "/records.bin", std::ios::binary);
  WriteBlob(out, net.genesis.canonical_bytes());
  for (const Bytes& r : records) WriteBlob(out, r);
  std::printf("%zu records (%llu generated) in %s/records.bin\n", records.size(),
              static_cast<unsigned long long>(g.entries), dir.c_str());
  return Status::Ok();
}

Status Ingest(const std::string& dir, size_t chunk, unsigned verify_threads) {
  std::ifstream in(dir + "/records.bin", std::ios::binary);
  Bytes genesis_bytes;
  if (!ReadBlob(in, genesis_bytes)) return NotFound("no " + dir + "/records.bin; run gen first");
  KEIRETSU_ASSIGN_OR_RETURN(protocol::Genesis genesis, protocol::Genesis::Decode(genesis_bytes));
  std::vector<Bytes> records;
  for (Bytes r; ReadBlob(in, r);) records.push_back(std::move(r));

  // What the signatures alone cost on one core (with a decode, which is
  // cheap, to find the author).
  double verify_cpu = 0;
  {
    const double c0 = CpuSeconds();
    size_t ok = 0;
    for (const Bytes& r : records) {
      const ByteView content(r.data(), r.size() - 64);
      const Bytes message = protocol::SigningMessage(content);
      crypto::Signature sig;
      std::copy(r.end() - 64, r.end(), sig.begin());
      const protocol::RecordCheck c = protocol::CheckRecord(r, genesis, false);
      ok += c.signed_entry && crypto::Verify(c.signed_entry->entry.author, message, sig);
    }
    verify_cpu = CpuSeconds() - c0;
    if (ok != records.size())
      std::printf("note: %zu signatures did not verify\n", records.size() - ok);
  }

  const std::string fresh = dir + "/fresh";
  std::filesystem::remove_all(fresh);
  KEIRETSU_ASSIGN_OR_RETURN(auto store, storage::Store::Open({fresh, genesis.network_id(), true}));
  node::LedgerOptions options;
  options.verify_threads = verify_threads;
  KEIRETSU_ASSIGN_OR_RETURN(auto ledger, node::Ledger::Open(genesis, std::move(store), options));
  const double c0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  uint64_t applied = 0;
  for (size_t i = 0; i < records.size(); i += chunk) {
    std::span<const Bytes> job(records.data() + i, std::min(chunk, records.size() - i));
    for (const node::IngestResult& r : ledger->Ingest(job, /*sync=*/false))
      applied += r.outcome == node::Outcome::kApplied;
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = CpuSeconds() - c0;
  const double n = static_cast<double>(records.size());
  std::printf(
      "ingested %zu records (%llu applied) in jobs of %zu, %u verify thread(s)\n"
      "  CPU %.1f us/entry, of which verifying the signature alone %.1f us (one core): "
      "%.1f us/entry besides\n"
      "  wall %.2f s, %.0f entries/s\n",
      records.size(), static_cast<unsigned long long>(applied), chunk, verify_threads,
      cpu * 1e6 / n, verify_cpu * 1e6 / n, (cpu - verify_cpu) * 1e6 / n, wall, n / wall);
  if (applied != records.size()) return Internal("not every record applied");
  return Status::Ok();
}

}  // namespace
}  // namespace keiretsu::bench

int main(int argc, char** argv) {
  CLI::App app{"keiretsu-bench-ingest: the catch-up ingest path alone, for profiling"};
  app.require_subcommand(1);
  std::string dir = "/tmp/keiretsu-bench-ingest";
  uint64_t entries = 20000;
  size_t chunk = 384;
  unsigned verify_threads = 0;
  auto* gen = app.add_subcommand("gen", "Sign entries into <dir>/records.bin");
  gen->add_option("--dir", dir)->capture_default_str();
  gen->add_option("--entries", entries)->capture_default_str();
  auto* ingest = app.add_subcommand("ingest", "Ingest <dir>/records.bin into a fresh store");
  ingest->add_option("--dir", dir)->capture_default_str();
  ingest->add_option("--chunk", chunk, "Records per Ingest (16 batches of 48: 768)")
      ->capture_default_str();
  ingest->add_option("--verify-threads", verify_threads, "0: one per core")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (sodium_init() < 0) return 1;
  const keiretsu::Status s = gen->parsed() ? keiretsu::bench::Generate(dir, entries)
                                           : keiretsu::bench::Ingest(dir, chunk, verify_threads);
  if (!s.ok()) {
    std::fprintf(stderr, "keiretsu-bench-ingest: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
