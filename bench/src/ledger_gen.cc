#include "bench/src/ledger_gen.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <random>
#include <thread>

#include "keiretsu/node/ledger.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/storage/store.h"

namespace keiretsu::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

constexpr const char* kUnits[] = {"hours", "jpy", "pallets"};

// A claim waiting for its debtor's accept.
struct OpenClaim {
  EntryId id;
  PublicKey creditor;
  uint64_t amount;
  std::string unit;
  std::string memo;
};

struct Feed {
  uint64_t seq = 0;
  EntryId head;
  std::deque<OpenClaim> claims_on_me;   // accepted in a later round
  std::vector<protocol::Body> planned;  // this round's bodies, in order
  std::vector<protocol::SignedEntry> signed_entries;
};

// Plans every body of one round on the calling thread (the random draws
// and the claim bookkeeping are sequential), so signing can then run one
// feed per thread.
void PlanRound(const BenchNetwork& net, int writers, uint64_t count, std::mt19937_64& rng,
               uint64_t& memo_no, std::vector<Feed>& feeds) {
  auto other = [&](int self) {
    int o = static_cast<int>(rng() % static_cast<uint64_t>(writers - 1));
    return o >= self ? o + 1 : o;
  };
  for (uint64_t k = 0; k < count; ++k) {
    const int f = static_cast<int>(k % static_cast<uint64_t>(writers));
    Feed& feed = feeds[static_cast<size_t>(f)];
    const uint64_t draw = rng() % 100;
    const uint64_t amount = 1 + rng() % 500;
    const std::string unit = kUnits[rng() % 3];
    const std::string memo = "favour #" + std::to_string(++memo_no) + " delivery and setup";
    if (!feed.claims_on_me.empty() && draw < 30) {
      OpenClaim c = std::move(feed.claims_on_me.front());
      feed.claims_on_me.pop_front();
      feed.planned.push_back(protocol::Accept{c.id, c.creditor, c.amount, c.unit, c.memo});
    } else if (draw < 60) {
      feed.planned.push_back(protocol::Obligation{net.pk(other(f)), amount, unit, memo});
    } else if (draw < 90) {
      feed.planned.push_back(protocol::Claim{net.pk(other(f)), amount, unit, memo});
    } else {
      feed.planned.push_back(protocol::Release{net.pk(other(f)), amount, unit, memo});
    }
  }
}

Status SignFeed(const BenchNetwork& net, int f, uint64_t& timestamp_ms, Feed& feed) {
  for (protocol::Body& body : feed.planned) {
    protocol::Entry e{net.genesis.network_id(), net.pk(f),      feed.seq + 1, feed.head,
                      timestamp_ms + feed.seq,  std::move(body)};
    KEIRETSU_ASSIGN_OR_RETURN(
        protocol::SignedEntry se,
        protocol::SignEntry(e, net.keys[static_cast<size_t>(f)], net.genesis));
    feed.seq = se.entry.seq;
    feed.head = se.id;
    feed.signed_entries.push_back(std::move(se));
  }
  feed.planned.clear();
  return Status::Ok();
}

}  // namespace

Result<GeneratedLedger> GenerateLedger(const BenchNetwork& net, int writers, uint64_t entries,
                                       const std::string& data_dir,
                                       const std::function<void(uint64_t, uint64_t)>& progress) {
  if (writers < 2 || writers > net.size())
    return InvalidArgument("writers must be between 2 and the network's size");
  KEIRETSU_ASSIGN_OR_RETURN(auto store,
                            storage::Store::Open({data_dir, net.genesis.network_id(), true}));
  KEIRETSU_ASSIGN_OR_RETURN(auto ledger, node::Ledger::Open(net.genesis, std::move(store)));

  GeneratedLedger out;
  std::vector<Feed> feeds(static_cast<size_t>(writers));
  std::mt19937_64 rng(20261122);
  uint64_t memo_no = 0;
  uint64_t timestamp_ms =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  constexpr uint64_t kRound = 20000;
  while (out.entries < entries) {
    const uint64_t count = std::min(kRound, entries - out.entries);
    PlanRound(net, writers, count, rng, memo_no, feeds);

    auto t_sign = Clock::now();
    std::vector<Status> results(static_cast<size_t>(writers));
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        for (int f = static_cast<int>(t); f < writers; f += static_cast<int>(threads))
          results[static_cast<size_t>(f)] =
              SignFeed(net, f, timestamp_ms, feeds[static_cast<size_t>(f)]);
      });
    for (auto& th : pool) th.join();
    for (const Status& s : results) KEIRETSU_RETURN_IF_ERROR(s);
    out.sign_seconds += Since(t_sign);

    // Publication order: the feeds interleaved, as replication delivers
    // them. Claims signed this round become acceptable from the next.
    std::vector<Bytes> records;
    records.reserve(count);
    for (size_t i = 0;; ++i) {
      bool any = false;
      for (Feed& feed : feeds) {
        if (i >= feed.signed_entries.size()) continue;
        any = true;
        const protocol::SignedEntry& se = feed.signed_entries[i];
        out.record_bytes += se.record.size();
        if (const auto* claim = std::get_if<protocol::Claim>(&se.entry.body)) {
          auto debtor = std::find_if(net.keys.begin(), net.keys.end(), [&](const auto& k) {
            return k.public_key() == claim->debtor;
          });
          feeds[static_cast<size_t>(debtor - net.keys.begin())].claims_on_me.push_back(
              {se.id, se.entry.author, claim->amount, claim->unit, claim->memo});
        }
        records.push_back(std::move(feed.signed_entries[i].record));
      }
      if (!any) break;
    }
    for (Feed& feed : feeds) feed.signed_entries.clear();

    auto t_ingest = Clock::now();
    constexpr size_t kChunk = 4000;
    for (size_t i = 0; i < records.size(); i += kChunk) {
      std::span<const Bytes> chunk(records.data() + i, std::min(kChunk, records.size() - i));
      for (const node::IngestResult& r : ledger->Ingest(chunk, false))
        if (r.outcome != node::Outcome::kApplied)
          return Internal("generated entry not applied (" +
                          std::string(node::OutcomeName(r.outcome)) + "): " + r.status.ToString());
    }
    out.ingest_seconds += Since(t_ingest);
    out.entries += count;
    progress(out.entries, entries);
  }
  return out;  // closing the ledger flushes RocksDB's write-ahead log
}

}  // namespace keiretsu::bench
