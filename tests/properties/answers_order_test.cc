// Order independence of the answers index (docs/PROTOCOL.md 12) when a
// debtor answers one claim twice and a stop undoes only the second answer.
//
// firm0 claims C against firm1. firm1 accepts C at seq 1, declines it again
// at seq 2, and also signs a different seq 2 (a fork). The effective entries
// are the same whatever the order: C and firm1's accept at seq 1. So every
// node must say C is answered by that accept, and not open. A regression
// test: the index once removed the (debtor, claim) row when it undid the
// second answer, so the claim reopened in one order and not the other.
#include <gtest/gtest.h>

#include "keiretsu/node/ledger.h"
#include "test_network.h"

namespace keiretsu::node {
namespace {

using testing::FeedBuilder;

struct Case {
  testing::TestNetwork net = testing::MakeNetwork(3);
  FeedBuilder fb{net};
  protocol::SignedEntry claim, accept, decline, fork;

  Case() {
    claim = fb.Next(0, protocol::Claim{net.pk(1), 40, "hours", "crane"});
    accept = fb.Next(1, protocol::Accept{claim.id, net.pk(0), 40, "hours", "crane"});
    decline = fb.Next(1, protocol::Decline{claim.id, net.pk(0), "changed our mind"});
    protocol::Entry other = decline.entry;
    other.body = testing::Owe(net.pk(2), 9);
    fork = FeedBuilder::SignRaw(other, net.key(1));
  }
};

// Ingests `batches` one after another into a fresh ledger and checks what
// the claims indexes say.
void ExpectAnsweredByAccept(const std::vector<std::vector<Bytes>>& batches) {
  Case c;
  testing::TempDir dir;
  auto ledger = testing::OpenLedger(c.net, dir.Sub("db"));
  for (const auto& b : batches) ledger->Ingest(b, /*sync=*/false);
  // The feed stopped at the fork in either order; only seq 1 counts.
  FeedState st = ledger->Feed(c.net.pk(1));
  ASSERT_EQ(st.stop_seq, 2u);
  ASSERT_EQ(st.effective_id, c.accept.id);

  auto answer = ledger->FindAnswer(c.net.pk(1), c.claim.id);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(*answer, std::optional<EntryId>(c.accept.id))
      << "the effective accept at seq 1 must still answer the claim";
  auto open = ledger->ListOpenClaims(c.net.pk(1));
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE(open->empty()) << "the claim is answered by an effective accept, so not open";
}

TEST(AnswersOrder, ForkSeenBeforeTheSecondAnswerApplies) {
  Case c;  // same deterministic records as inside the helper
  // Both seq-2 records wait for seq 1: the fork is proven in pending, so the
  // second answer is never applied.
  ExpectAnsweredByAccept({{c.decline.record, c.fork.record}, {c.claim.record, c.accept.record}});
}

TEST(AnswersOrder, ForkSeenAfterTheSecondAnswerApplied) {
  Case c;
  // The second answer is applied, then undone by the fork: undoing it must
  // leave the first answer's row in place.
  ExpectAnsweredByAccept({{c.claim.record, c.accept.record, c.decline.record}, {c.fork.record}});
}

}  // namespace
}  // namespace keiretsu::node
