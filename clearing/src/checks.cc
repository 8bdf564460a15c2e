#include "keiretsu/clearing/checks.h"

#include <algorithm>
#include <map>

#include "pairs.h"

namespace keiretsu::clearing {
namespace {

using detail::Pair;
using detail::PairText;

bool InRange(Amount amount) {
  return amount >= 1 && amount <= kMaxAmount;
}

// Why `amount` is outside [1, kMaxAmount], described as `what` ("leg a->b
// sets off", "obligation a->b owes").
Status AmountError(const std::string& what, Amount amount) {
  if (amount <= 0) return InvalidArgument(what + " " + AmountText(amount) + ": must be positive");
  return InvalidArgument(what + " " + AmountText(amount) + ": above the largest amount " +
                         AmountText(kMaxAmount) + " (2^62) the solver handles exactly");
}

// The first pair that appears twice in `pairs`, after sorting.
const Pair* FirstRepeated(std::vector<Pair>& pairs) {
  std::sort(pairs.begin(), pairs.end());
  auto it = std::adjacent_find(pairs.begin(), pairs.end());
  return it == pairs.end() ? nullptr : &*it;
}

// Every check of IsCirculation except the balance of each firm.
Status CheckLegs(std::span<const Leg> legs) {
  if (legs.empty()) return InvalidArgument("a set-off needs at least one leg");
  std::vector<Pair> pairs;
  pairs.reserve(legs.size());
  for (const Leg& leg : legs) {
    // Messages are built only on failure: this runs on every leg.
    if (leg.debtor == leg.creditor)
      return InvalidArgument("leg " + PairText(leg.debtor, leg.creditor) +
                             ": a firm cannot owe itself");
    if (!InRange(leg.amount))
      return AmountError("leg " + PairText(leg.debtor, leg.creditor) + " sets off", leg.amount);
    pairs.emplace_back(leg.debtor, leg.creditor);
  }
  if (const Pair* p = FirstRepeated(pairs))
    return InvalidArgument("leg " + PairText(p->first, p->second) +
                           " appears twice: one leg per (debtor, creditor) pair");
  return Status::Ok();
}

Status SameUnit(const std::string& what, const std::string& unit, const ObligationGraph& owed) {
  if (unit == owed.unit) return Status::Ok();
  return InvalidArgument(what + " is in unit '" + unit + "' but the obligations are in '" +
                         owed.unit + "': mixed units");
}

}  // namespace

namespace detail {

std::vector<std::pair<Pair, Amount>> OwedByPair(const ObligationGraph& graph) {
  std::vector<std::pair<Pair, Amount>> owed;
  owed.reserve(graph.obligations.size());
  for (const Obligation& o : graph.obligations) owed.push_back({{o.debtor, o.creditor}, o.owed});
  std::sort(owed.begin(), owed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return owed;
}

Amount OwedOn(const std::vector<std::pair<Pair, Amount>>& owed, const Pair& pair) {
  auto it = std::lower_bound(owed.begin(), owed.end(), pair,
                             [](const auto& row, const Pair& p) { return row.first < p; });
  return it != owed.end() && it->first == pair ? it->second : 0;
}

}  // namespace detail

Status CheckObligationGraph(const ObligationGraph& graph) {
  std::vector<Pair> pairs;
  pairs.reserve(graph.obligations.size());
  for (const Obligation& o : graph.obligations) {
    if (o.debtor == o.creditor)
      return InvalidArgument("obligation " + PairText(o.debtor, o.creditor) +
                             ": a firm cannot owe itself");
    if (!InRange(o.owed))
      return AmountError("obligation " + PairText(o.debtor, o.creditor) + " owes", o.owed);
    pairs.emplace_back(o.debtor, o.creditor);
  }
  if (const Pair* p = FirstRepeated(pairs))
    return InvalidArgument("obligation " + PairText(p->first, p->second) +
                           " appears twice in unit '" + graph.unit +
                           "': give one total per (debtor, creditor) pair");
  return Status::Ok();
}

Status IsCirculation(std::span<const Leg> legs) {
  KEIRETSU_RETURN_IF_ERROR(CheckLegs(legs));
  std::map<PublicKey, std::pair<Amount, Amount>> sums;  // firm -> (as debtor, as creditor)
  for (const Leg& leg : legs) {
    sums[leg.debtor].first += leg.amount;
    sums[leg.creditor].second += leg.amount;
  }
  for (const auto& [firm, s] : sums)
    if (s.first != s.second)
      return InvalidArgument("not a circulation: firm " + firm.Short() +
                             " is debtor on legs summing to " + AmountText(s.first) +
                             " but creditor on legs summing to " + AmountText(s.second) +
                             ", so its net position would change");
  return Status::Ok();
}

Status LegsWithinOwed(const SetOff& set_off, const ObligationGraph& owed) {
  KEIRETSU_RETURN_IF_ERROR(SameUnit("the set-off", set_off.unit, owed));
  KEIRETSU_RETURN_IF_ERROR(CheckObligationGraph(owed));
  KEIRETSU_RETURN_IF_ERROR(CheckLegs(set_off.legs));
  const auto by_pair = detail::OwedByPair(owed);
  for (const Leg& leg : set_off.legs) {
    const Amount available = detail::OwedOn(by_pair, {leg.debtor, leg.creditor});
    if (available == 0)
      return FailedPrecondition("leg " + PairText(leg.debtor, leg.creditor) + ": " +
                                leg.debtor.Short() + " owes " + leg.creditor.Short() +
                                " nothing in '" + owed.unit + "'");
    if (leg.amount > available)
      return FailedPrecondition("leg " + PairText(leg.debtor, leg.creditor) + " sets off " +
                                AmountText(leg.amount) + " but only " + AmountText(available) +
                                " is owed");
  }
  return Status::Ok();
}

Status JointlyWithinOwed(const SetOff& candidate, std::span<const SetOff> accepted,
                         const ObligationGraph& owed) {
  for (size_t i = 0; i < accepted.size(); ++i) {
    const std::string name = "accepted set-off #" + std::to_string(i);
    KEIRETSU_RETURN_IF_ERROR(SameUnit(name, accepted[i].unit, owed));
    KEIRETSU_RETURN_IF_ERROR(CheckLegs(accepted[i].legs).WithContext(name));
  }
  KEIRETSU_RETURN_IF_ERROR(LegsWithinOwed(candidate, owed));
  std::map<Pair, Amount> set_off;  // only the candidate's pairs matter
  for (const Leg& leg : candidate.legs) set_off[{leg.debtor, leg.creditor}] = leg.amount;
  for (const SetOff& s : accepted)
    for (const Leg& leg : s.legs)
      if (auto it = set_off.find({leg.debtor, leg.creditor}); it != set_off.end())
        it->second += leg.amount;
  const auto by_pair = detail::OwedByPair(owed);
  for (const auto& [pair, total] : set_off) {
    const Amount available = detail::OwedOn(by_pair, pair);
    if (total > available)
      return FailedPrecondition("together with " + std::to_string(accepted.size()) +
                                " accepted set-off(s), " + PairText(pair.first, pair.second) +
                                " would be set off " + AmountText(total) + " but only " +
                                AmountText(available) + " is owed");
  }
  return Status::Ok();
}

}  // namespace keiretsu::clearing
