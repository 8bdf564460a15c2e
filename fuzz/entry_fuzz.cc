// libFuzzer target: arbitrary bytes as entry records, as a genesis, and as
// a batch of records ingested by a ledger. Besides "never crash, leak or
// trip a sanitizer", it asserts the codec's and the ledger's invariants:
//
// - CheckRecord: an accepted record is canonical (re-encoding its decoded
//   entry gives back exactly its content bytes), its id is the hash of that
//   content, and its body passes the rules; only attributable faults carry a
//   decoded entry; skipping the signature check changes no other verdict.
// - Genesis::Decode: whatever it accepts is exactly canonical, its network
//   id is the hash of those bytes, and it survives Create and the TOML form.
// - Ledger::Ingest: the input is split into framed records (see
//   fuzz_network.h) and ingested as one batch into a ledger opened once per
//   process; afterwards the store is consistent, materialised balances equal
//   their recomputation and are antisymmetric, the pending count is what is
//   stored, and a batch of only refused, duplicate or ignored records
//   changed nothing.
//
// The ledger's state carries over between inputs (opening RocksDB per input
// would cost more than the input); every asserted invariant holds in every
// state, so a failure is a bug even when it needs earlier inputs to show.
// Seed corpus: fuzz/corpus/entry (written by make_entry_corpus).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "fuzz_network.h"
#include "keiretsu/crypto/hash.h"
#include "keiretsu/node/ledger.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/genesis.h"
#include "keiretsu/storage/store.h"

// UBSan's checks are recoverable in this build; a fuzz target must stop at
// the first one so libFuzzer reports it as a crash with its input.
extern "C" const char* __ubsan_default_options() {
  return "halt_on_error=1:print_stacktrace=1";
}

namespace keiretsu::fuzz {
namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "entry_fuzz invariant broken: %s %s\n", what, detail.c_str());
  std::abort();
}
#define FUZZ_REQUIRE(cond, ...)                          \
  do {                                                   \
    if (!(cond)) Fail(#cond __VA_OPT__(, ) __VA_ARGS__); \
  } while (0)

// The network and a ledger in a directory made once per process (removed at
// exit; left behind only if the process crashes).
struct World {
  protocol::Genesis genesis = FuzzGenesis();
  std::string dir;
  std::unique_ptr<node::Ledger> ledger;

  World() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "keiretsu-entry-fuzz-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) Fail("mkdtemp");
    dir = tmpl;
    auto store = storage::Store::Open({dir + "/db", genesis.network_id(), true});
    if (!store.ok()) Fail("store open", store.status().ToString());
    node::LedgerOptions options;
    options.verify_threads = 1;  // inputs are small; no thread per input
    auto l = node::Ledger::Open(genesis, std::move(store).value(), options);
    if (!l.ok()) Fail("ledger open", l.status().ToString());
    ledger = std::move(l).value();
  }
  ~World() {
    ledger.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};
World& TheWorld() {
  static World world;
  return world;
}

protocol::Fault CheckRecordInvariants(ByteView rec, const protocol::Genesis& g) {
  protocol::RecordCheck c = protocol::CheckRecord(rec, g);
  protocol::RecordCheck unverified = protocol::CheckRecord(rec, g, /*verify_signature=*/false);
  if (c.fault == protocol::Fault::kBadSignature)
    FUZZ_REQUIRE(!protocol::IsUnattributable(unverified.fault));
  else
    FUZZ_REQUIRE(unverified.fault == c.fault);

  switch (c.fault) {
    case protocol::Fault::kNone: {
      FUZZ_REQUIRE(c.status.ok() && c.signed_entry.has_value());
      const protocol::SignedEntry& se = *c.signed_entry;
      FUZZ_REQUIRE(se.record.size() == rec.size() &&
                   std::equal(rec.begin(), rec.end(), se.record.begin()));
      const ByteView content = rec.first(rec.size() - 64);
      const Bytes again = protocol::EncodeContent(se.entry);
      FUZZ_REQUIRE(again.size() == content.size() &&
                       std::equal(content.begin(), content.end(), again.begin()),
                   "accepted record is not canonical");
      FUZZ_REQUIRE(se.id == EntryId{crypto::Blake2b256(content)});
      FUZZ_REQUIRE(protocol::IdOfRecord(rec) == se.id);
      FUZZ_REQUIRE(se.entry.network == g.network_id() && g.IsMember(se.entry.author));
      FUZZ_REQUIRE(protocol::CheckRules(se.entry, g).ok());
      FUZZ_REQUIRE(protocol::Counterparty(se.entry.body) != se.entry.author);
      break;
    }
    case protocol::Fault::kInvalidBody:
    case protocol::Fault::kUnknownAuthor:
      FUZZ_REQUIRE(!c.status.ok() && c.signed_entry.has_value());
      FUZZ_REQUIRE(c.signed_entry->id == protocol::IdOfRecord(rec));
      break;
    case protocol::Fault::kUnknownKind:  // signed, kept pending: never decoded
      FUZZ_REQUIRE(!c.status.ok() && c.signed_entry.has_value());
      FUZZ_REQUIRE(c.signed_entry->id == protocol::IdOfRecord(rec));
      FUZZ_REQUIRE(!protocol::IsKnownKind(c.kind_tag) && rec.size() > 113 &&
                   rec[113] == c.kind_tag);
      break;
    case protocol::Fault::kMalformed:
    case protocol::Fault::kWrongNetwork:
    case protocol::Fault::kUnknownKey:
    case protocol::Fault::kBadSignature:
      FUZZ_REQUIRE(!c.status.ok() && !c.signed_entry.has_value());
      FUZZ_REQUIRE(!c.status.message().empty());
  }
  return c.fault;
}

void CheckGenesisInvariants(ByteView data) {
  auto g = protocol::Genesis::Decode(data);
  if (!g.ok()) {
    FUZZ_REQUIRE(!g.status().message().empty());
    return;
  }
  const Bytes& canon = g->canonical_bytes();
  FUZZ_REQUIRE(canon.size() == data.size() && std::equal(data.begin(), data.end(), canon.begin()),
               "decoded genesis is not canonical");
  FUZZ_REQUIRE(g->network_id() == NetworkId{crypto::Blake2b256(data)});
  protocol::GenesisSpec spec;
  spec.network_name = g->network_name();
  spec.created_unix = g->created_unix();
  spec.admission_quorum = g->admission_quorum();
  spec.version = g->version();
  spec.threshold = g->version() == 1 ? 0 : g->threshold();
  spec.members = g->members();
  auto made = protocol::Genesis::Create(spec);
  FUZZ_REQUIRE(made.ok() && made->canonical_bytes() == canon, "Create disagrees with Decode");
  auto toml = protocol::Genesis::ParseToml(g->ToToml());
  FUZZ_REQUIRE(toml.ok() && toml->canonical_bytes() == canon, "TOML form does not round-trip");
}

using BalanceMap = std::map<std::tuple<PublicKey, PublicKey, std::string>, protocol::Amount128>;
BalanceMap Balances(const Result<std::vector<node::BalanceRow>>& rows) {
  FUZZ_REQUIRE(rows.ok(), rows.status().ToString());
  BalanceMap m;
  for (const auto& r : *rows) {
    FUZZ_REQUIRE(r.net != 0, "a zero balance row is listed");
    auto [it, fresh] = m.emplace(std::make_tuple(r.firm, r.counterparty, r.unit), r.net);
    FUZZ_REQUIRE(fresh, "a balance row is listed twice");
  }
  return m;
}

void IngestAndCheck(node::Ledger& ledger, const std::vector<Bytes>& records,
                    const std::vector<protocol::Fault>& faults) {
  const Digest digest_before = ledger.StateDigest();
  const size_t pending_before = ledger.PendingCount();
  const BalanceMap balances_before = Balances(ledger.ListAllBalances());

  auto results = ledger.Ingest(records, /*sync=*/false);
  FUZZ_REQUIRE(results.size() == records.size());
  bool changed_anything = false;
  for (size_t i = 0; i < results.size(); ++i) {
    const node::Outcome o = results[i].outcome;
    if (protocol::IsUnattributable(faults[i]))
      FUZZ_REQUIRE(o == node::Outcome::kRejected, "an unattributable record was not rejected");
    if (faults[i] == protocol::Fault::kUnknownKind || faults[i] == protocol::Fault::kUnknownAuthor)
      FUZZ_REQUIRE(o != node::Outcome::kApplied && o != node::Outcome::kFeedEnded,
                   "a record this node cannot apply was applied or ended a feed");
    if (o == node::Outcome::kRejected) FUZZ_REQUIRE(!results[i].status.ok());
    if (o == node::Outcome::kApplied) {
      FUZZ_REQUIRE(faults[i] == protocol::Fault::kNone, "an invalid entry was applied");
      auto held = ledger.GetEntry(*results[i].id);
      FUZZ_REQUIRE(held.ok() && held->has_value() && **held == records[i],
                   "an applied entry is not stored");
    }
    if (o != node::Outcome::kRejected && o != node::Outcome::kDuplicate &&
        o != node::Outcome::kIgnored)
      changed_anything = true;
  }

  FUZZ_REQUIRE(ledger.store().CheckConsistency().ok());
  const BalanceMap stored = Balances(ledger.ListAllBalances());
  FUZZ_REQUIRE(stored == Balances(ledger.RecomputeBalances()),
               "materialised balances differ from recomputation");
  for (const auto& [key, net] : stored) {
    auto mirror = stored.find({std::get<1>(key), std::get<0>(key), std::get<2>(key)});
    FUZZ_REQUIRE(mirror != stored.end() && mirror->second == -net, "balances not antisymmetric");
  }
  auto pending = ledger.store().ListPending();
  FUZZ_REQUIRE(pending.ok() && pending->size() == ledger.PendingCount(),
               "pending count differs from the pending entries stored");
  for (const auto& [author, st] : ledger.Feeds()) {
    FUZZ_REQUIRE(ledger.genesis().IsMember(author));
    FUZZ_REQUIRE(st.effective_seq() <= st.head_seq);
  }
  if (!changed_anything) {
    FUZZ_REQUIRE(ledger.StateDigest() == digest_before, "refused input changed the digest");
    FUZZ_REQUIRE(ledger.PendingCount() == pending_before, "refused input changed pending");
    FUZZ_REQUIRE(stored == balances_before, "refused input changed balances");
  }
}

}  // namespace
}  // namespace keiretsu::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace keiretsu;
  fuzz::World& world = fuzz::TheWorld();
  const ByteView input(data, size);
  fuzz::CheckRecordInvariants(input, world.genesis);
  fuzz::CheckGenesisInvariants(input);

  std::vector<Bytes> records = fuzz::SplitFramed(input);
  if (records.empty()) return 0;
  std::vector<protocol::Fault> faults;
  for (const Bytes& r : records) faults.push_back(fuzz::CheckRecordInvariants(r, world.genesis));
  fuzz::IngestAndCheck(*world.ledger, records, faults);
  return 0;
}
