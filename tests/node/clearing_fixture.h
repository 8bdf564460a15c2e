// Test support for consent-based clearing (docs/PROTOCOL.md 20): a
// version-2 network of four founders, firm writers with explicit author
// times, proposals computed on the firms' current heads, and the model
// (protocol::RecomputeLedger) and ledger views the tests compare.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

#include "gov_network.h"

namespace keiretsu::testing {

class ClearingNet {
 public:
  static constexpr uint64_t kT0 = 1'790'000'000'000;  // author times start here
  GovNet net = MakeGovNet(4, 3);
  std::vector<Bytes> all;  // every record made, in the order made

  GovFirm& F(int i) { return net.founders[static_cast<size_t>(i)]; }
  const PublicKey& Id(int i) const { return net.founders[static_cast<size_t>(i)].id; }

  // Firm i's next entry, dated `ts` (default: kT0 + its seq).
  protocol::SignedEntry Write(int i, protocol::Body body, uint64_t ts = 0) {
    GovFirm& f = F(i);
    protocol::Entry e{net.id(),       f.id, f.seq + 1, f.head, ts ? ts : kT0 + f.seq + 1,
                      std::move(body)};
    auto se = protocol::SignEntryUnder(e, GovLedgerKey(f.key_index));
    if (!se.ok()) throw std::runtime_error(se.status().ToString());
    f.seq = e.seq;
    f.head = se->id;
    all.push_back(se->record);
    return std::move(se).value();
  }
  // Firm i's record at its next seq, signed but not advancing it: half of
  // a fork when another record takes the same seq.
  protocol::SignedEntry Sibling(int i, protocol::Body body, uint64_t ts = 0) {
    GovFirm saved = F(i);
    protocol::SignedEntry se = Write(i, std::move(body), ts);
    F(i) = saved;
    return se;
  }
  void Owe(int debtor, int creditor, uint64_t amount, const std::string& unit = "hours") {
    Write(debtor, protocol::Obligation{Id(creditor), amount, unit, ""});
  }
  // A proposal over `legs` (firm debtor, firm creditor, amount) with every
  // participant's current head; sorted as 20.2 requires.
  protocol::ClearingPropose Proposal(const std::vector<std::tuple<int, int, uint64_t>>& legs,
                                     uint64_t expiry_ms, const std::string& unit = "hours") {
    std::vector<int> firms;
    for (const auto& [d, c, a] : legs) firms.insert(firms.end(), {d, c});
    std::sort(firms.begin(), firms.end(), [&](int a, int b) { return Id(a) < Id(b); });
    firms.erase(std::unique(firms.begin(), firms.end()), firms.end());
    protocol::ClearingPropose p{unit, expiry_ms, {}, {}};
    std::map<int, uint8_t> index;
    for (int f : firms) {
      index[f] = static_cast<uint8_t>(p.participants.size());
      p.participants.push_back({Id(f), F(f).seq, F(f).head});
    }
    for (const auto& [d, c, a] : legs) p.legs.push_back({index[d], index[c], a});
    std::sort(p.legs.begin(), p.legs.end(), [](const auto& x, const auto& y) {
      return std::pair(x.debtor, x.creditor) < std::pair(y.debtor, y.creditor);
    });
    return p;
  }
  protocol::SignedEntry VoteOn(int i, const EntryId& proposal, bool accept, uint64_t ts = 0) {
    return Write(i,
                 protocol::ClearingVote{proposal, accept ? protocol::ClearingDecision::kAccept
                                                         : protocol::ClearingDecision::kReject},
                 ts);
  }

  protocol::LedgerModel Model(const std::vector<Bytes>& records) const {
    std::vector<protocol::ModelRecord> recs;
    for (const Bytes& r : records) recs.push_back(ToModel(r));
    return protocol::RecomputeLedger(protocol::EpochZeroOf(net.genesis), recs);
  }
  protocol::LedgerModel Model() const { return Model(all); }

  static std::map<protocol::BalanceKey, protocol::Amount128> Balances(const node::Ledger& l) {
    std::map<protocol::BalanceKey, protocol::Amount128> out;
    auto rows = l.ListAllBalances();
    EXPECT_TRUE(rows.ok());
    for (const auto& r : *rows) out[{r.firm, r.counterparty, r.unit}] = r.net;
    return out;
  }
  // Each firm's net position per unit: what it is owed minus what it owes.
  static std::map<std::pair<PublicKey, std::string>, protocol::Amount128> NetPositions(
      const std::map<protocol::BalanceKey, protocol::Amount128>& balances) {
    std::map<std::pair<PublicKey, std::string>, protocol::Amount128> out;
    for (const auto& [k, v] : balances) out[{std::get<0>(k), std::get<2>(k)}] += v;
    std::erase_if(out, [](const auto& kv) { return kv.second == 0; });
    return out;
  }
  protocol::Amount128 Net(const protocol::LedgerModel& m, int firm, int other,
                          const std::string& unit = "hours") const {
    auto it = m.balances.find({Id(firm), Id(other), unit});
    return it == m.balances.end() ? 0 : it->second;
  }
};

}  // namespace keiretsu::testing
