#include "node/src/ledger_clearing.h"

#include "node/src/ledger_gov.h"

namespace keiretsu::node {

Result<protocol::ClearingFeeds> ClearingFeedsOf(
    const protocol::EpochHistory& h, const std::function<uint64_t(const PublicKey&)>& effective_seq,
    const std::function<Result<Bytes>(const PublicKey&, uint64_t)>& entry_at,
    const std::function<protocol::RecordCheck(ByteView)>& decode,
    const std::set<PublicKey>& proposers) {
  protocol::ClearingFeeds out;
  // Reads `firm`'s counted prefix into `out` once; nothing for a firm that
  // was never a member.
  auto read = [&](const PublicKey& firm) -> Status {
    if (out.contains(firm) || !h.current().Find(firm)) return Status::Ok();
    std::vector<protocol::ClearingFeedEntry>& feed = out[firm];
    const uint64_t counted = CountedSeq(h, firm, effective_seq(firm));
    for (uint64_t seq = 1; seq <= counted; ++seq) {
      KEIRETSU_ASSIGN_OR_RETURN(Bytes rec, entry_at(firm, seq));
      protocol::RecordCheck c = decode(rec);
      if (c.fault != protocol::Fault::kNone)
        return Corruption("stored entry " + firm.Short() + "/" + std::to_string(seq) +
                          " does not decode");
      const protocol::SignedEntry& se = *c.signed_entry;
      protocol::ClearingFeedEntry e = protocol::ClearingEntryOf(se.entry, se.id);
      // A debt change counts only when its counterparty is a member (19.11).
      if (std::holds_alternative<protocol::DebtChange>(e.what) && !EntryCounts(h, se.entry))
        e.what = std::monostate{};
      feed.push_back(std::move(e));
    }
    return Status::Ok();
  };
  for (const PublicKey& p : proposers) KEIRETSU_RETURN_IF_ERROR(read(p));
  std::set<PublicKey> participants;
  for (const auto& [firm, feed] : out)
    for (const protocol::ClearingFeedEntry& e : feed)
      if (const auto* p = std::get_if<protocol::ClearingPropose>(&e.what))
        for (const protocol::ClearingHead& head : p->participants) participants.insert(head.firm);
  for (const PublicKey& p : participants) KEIRETSU_RETURN_IF_ERROR(read(p));
  return out;
}

SetOffs CommittedSetOffs(const protocol::ClearingResult& result) {
  SetOffs out;
  for (const auto& [id, o] : result.proposals) {
    if (o.state != protocol::ClearingState::kCommitted) continue;
    std::vector<protocol::DebtChange>& legs = out[id];
    for (const protocol::ClearingLeg& l : o.body.legs)
      legs.push_back({o.body.participants[l.debtor].firm, o.body.participants[l.creditor].firm,
                      o.body.unit, -static_cast<protocol::Amount128>(l.amount)});
  }
  return out;
}

}  // namespace keiretsu::node
