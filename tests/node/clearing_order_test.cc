// Property: a clearing set-off is all-or-nothing and independent of arrival
// order (docs/PROTOCOL.md 20.4-20.5). Three firms owe each other round a
// cycle; a fourth writes alongside. For every assignment of a stance to each
// participant — accept, reject, stay silent, or write past the expiry
// before accepting — and a second, contrary vote after the first, the
// records are delivered in many random orders, in random batches, with
// duplicates. In every order the ledger ends with the balances and state
// digest of protocol::RecomputeLedger over the same records (so the same
// digest in every order), and the balances changed exactly when all three
// accepted in time. KEIRETSU_PROPERTY_SEEDS sets the number of orders over
// all 64 assignments (default 128, at least one each).
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "clearing_fixture.h"
#include "temp_dir.h"

namespace keiretsu::node {
namespace {

enum class Stance { kAccept, kReject, kSilent, kLate };

int OrdersPerAssignment() {
  int n = 128;
  if (const char* env = std::getenv("KEIRETSU_PROPERTY_SEEDS"))
    if (int asked = std::atoi(env); asked >= 1) n = asked;
  return std::max(1, n / 64);
}

uint64_t Below(std::mt19937_64& rng, uint64_t n) {
  return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng);
}

struct History : testing::ClearingNet {
  static constexpr uint64_t kExpiry = kT0 + 1'000;
  bool all_accept = true;
  // The balances expected, kept by plain arithmetic beside the records.
  std::map<protocol::BalanceKey, protocol::Amount128> expected;

  void Debt(int debtor, int creditor, uint64_t amount, uint64_t ts = 0) {
    Write(debtor, protocol::Obligation{Id(creditor), amount, "hours", ""}, ts);
    AddExpected(debtor, creditor, static_cast<protocol::Amount128>(amount));
  }
  void AddExpected(int debtor, int creditor, protocol::Amount128 delta) {
    for (auto [key, v] :
         {std::pair{protocol::BalanceKey{Id(creditor), Id(debtor), "hours"}, delta},
          std::pair{protocol::BalanceKey{Id(debtor), Id(creditor), "hours"}, -delta}})
      if ((expected[key] += v) == 0) expected.erase(key);
  }

  // Debts round 0 -> 1 -> 2 -> 0 and a proposal by a random participant
  // setting off `amount` of each; then each participant's stance.
  History(const Stance (&stances)[3], std::mt19937_64& rng) {
    const uint64_t owed = 5 + Below(rng, 20);
    Debt(0, 1, owed);
    Debt(1, 2, owed + Below(rng, 3));
    Debt(2, 0, owed + Below(rng, 3));
    Debt(3, 0, 1 + Below(rng, 9));
    const uint64_t amount = 1 + Below(rng, owed);
    const int proposer = static_cast<int>(Below(rng, 3));
    const EntryId proposal =
        Write(proposer, Proposal({{0, 1, amount}, {1, 2, amount}, {2, 0, amount}}, kExpiry)).id;
    Debt(3, 1, 2);
    for (int i = 0; i < 3; ++i) {
      switch (stances[i]) {
        case Stance::kAccept:
          VoteOn(i, proposal, true);
          VoteOn(i, proposal, false);  // a second vote: never counts
          break;
        case Stance::kReject:
          VoteOn(i, proposal, false);
          VoteOn(i, proposal, true);
          all_accept = false;
          break;
        case Stance::kSilent:
          Debt(i, 3, 1);
          all_accept = false;
          break;
        case Stance::kLate:
          Debt(i, 3, 1, kExpiry + 1);
          VoteOn(i, proposal, true, kExpiry + 2);
          all_accept = false;
          break;
      }
    }
    VoteOn(3, proposal, false);  // not a participant: counts for nothing
    before = expected;
    if (all_accept)
      for (auto [d, c] : {std::pair{0, 1}, std::pair{1, 2}, std::pair{2, 0}})
        AddExpected(d, c, -static_cast<protocol::Amount128>(amount));
  }
  std::map<protocol::BalanceKey, protocol::Amount128> before;  // without the set-off
};

TEST(ClearingOrderTest, ASetOffIsAllOrNothingInEveryArrivalOrder) {
  const int orders = OrdersPerAssignment();
  std::mt19937_64 rng(20261203);
  int committed = 0;
  for (int assignment = 0; assignment < 64; ++assignment) {
    const Stance stances[3] = {static_cast<Stance>(assignment % 4),
                               static_cast<Stance>(assignment / 4 % 4),
                               static_cast<Stance>(assignment / 16)};
    History h(stances, rng);
    const protocol::LedgerModel want = h.Model();
    // The reference sets off exactly when all three accepted in time, and
    // then exactly the proposal's legs; no net position changes.
    EXPECT_EQ(want.balances, h.expected) << "assignment " << assignment;
    EXPECT_EQ(want.balances != h.before, h.all_accept) << "assignment " << assignment;
    EXPECT_EQ(testing::ClearingNet::NetPositions(want.balances),
              testing::ClearingNet::NetPositions(h.before));
    committed += h.all_accept;
    for (int order = 0; order < orders; ++order) {
      std::vector<Bytes> records = h.all;
      for (int d = 0; d < 4; ++d) records.push_back(h.all[Below(rng, h.all.size())]);
      std::shuffle(records.begin(), records.end(), rng);
      testing::TempDir dir;
      auto l = testing::OpenGovLedger(h.net, dir.path());
      for (size_t i = 0; i < records.size();) {
        const size_t n = std::min(records.size() - i, size_t{1} + Below(rng, 5));
        l->Ingest(std::vector<Bytes>(records.begin() + static_cast<std::ptrdiff_t>(i),
                                     records.begin() + static_cast<std::ptrdiff_t>(i + n)),
                  false);
        i += n;
      }
      ASSERT_EQ(testing::ClearingNet::Balances(*l), want.balances)
          << "assignment " << assignment << ", order " << order;
      ASSERT_EQ(l->StateDigest(), want.state_digest)
          << "assignment " << assignment << ", order " << order;
    }
  }
  EXPECT_EQ(committed, 1);  // only accept/accept/accept commits
}

}  // namespace
}  // namespace keiretsu::node
