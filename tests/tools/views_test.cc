// The human renderings: who owes whom must read the right way round, and
// text from other firms must not reach the terminal raw.
#include <gtest/gtest.h>

#include <sstream>

#include "output.h"

namespace keiretsu::cli {
namespace {

namespace v1 = keiretsu::v1;

v1::Balance MakeBalance(const std::string& net) {
  v1::Balance b;
  b.mutable_firm()->set_name("osaka");
  b.mutable_counterparty()->set_name("kobe");
  b.set_unit("hours");
  b.set_net(net);
  return b;
}

std::string Render(const v1::Balance& b) {
  std::ostringstream out;
  PrintBalance(out, b);
  return out.str();
}

TEST(ViewsTest, BalanceSaysWhoOwesWhom) {
  // net > 0: the counterparty owes the firm (api.proto).
  EXPECT_EQ(Render(MakeBalance("40")), "kobe owes osaka 40 hours  (net +40)\n");
  EXPECT_EQ(Render(MakeBalance("-40")), "osaka owes kobe 40 hours  (net -40)\n");
  EXPECT_EQ(Render(MakeBalance("0")), "osaka and kobe are even in hours\n");
  // Sums beyond 64 bits are decimal strings and pass through untouched.
  EXPECT_EQ(Render(MakeBalance("-123456789012345678901234")),
            "osaka owes kobe 123456789012345678901234 hours  (net -123456789012345678901234)\n");
}

TEST(ViewsTest, BalancesTableSaysWhoOwesWhom) {
  v1::ListBalancesResponse r;
  *r.add_balances() = MakeBalance("25");
  *r.add_balances() = MakeBalance("-3");
  r.mutable_balances(1)->set_unit("tons");
  std::ostringstream out;
  PrintBalances(out, "osaka", r);
  EXPECT_EQ(out.str(),
            "FIRM   COUNTERPARTY  UNIT   NET  MEANING\n"
            "osaka  kobe          hours  +25  kobe owes osaka 25\n"
            "osaka  kobe          tons   -3   osaka owes kobe 3\n");
  std::ostringstream none;
  PrintBalances(none, "osaka", v1::ListBalancesResponse());
  EXPECT_EQ(none.str(), "no open balances for osaka\n");
}

TEST(ViewsTest, WatchEventShowsTheEntryAndItsChanges) {
  v1::WatchEvent ev;
  ev.set_cursor("7");
  v1::EntryView* e = ev.mutable_entry();
  e->set_id(std::string(64, 'c'));
  e->set_author_name("kobe");
  e->set_seq(3);
  e->set_kind("accept");
  e->set_counterparty_name("osaka");
  e->set_amount(40);
  e->set_unit("hours");
  e->set_claim_id(std::string(64, 'a'));
  v1::BalanceChange* c = ev.add_changes();
  c->mutable_debtor()->set_name("kobe");
  c->mutable_creditor()->set_name("osaka");
  c->set_unit("hours");
  c->set_delta("40");
  std::ostringstream out;
  PrintWatchEvent(out, ev);
  EXPECT_EQ(out.str(),
            "[7] kobe #3 accept cccccccc: kobe accepts claim aaaaaaaa: owes osaka 40 hours; "
            "kobe owes osaka +40 hours\n");
}

TEST(ViewsTest, EntriesMarkWhatDoesNotCountAndNeutraliseControlCharacters) {
  v1::EntryView e;
  e.set_id(std::string(64, 'd'));
  e.set_seq(9);
  e.set_kind("obligation");
  e.set_counterparty(std::string(64, 'e'));  // no name: the key's first 8 hex
  e.set_amount(5);
  e.set_unit("hours");
  e.set_memo("\x1b]0;owned\x07 coffee");
  e.set_effective(false);
  std::ostringstream out;
  PrintEntries(out, {e});
  EXPECT_EQ(
      out.str(),
      "SEQ  ID        KIND        COUNTERPARTY  AMOUNT  UNIT   MEMO               NOTE\n"
      "9    dddddddd  obligation  eeeeeeee      5       hours  ?]0;owned? coffee  not effective\n");
  EXPECT_EQ(out.str().find('\x1b'), std::string::npos);
}

TEST(ViewsTest, GovernanceWatchEventsSayWhatChanged) {
  v1::WatchEvent epoch;  // a new epoch: governance only, no entry
  epoch.set_cursor("7");
  auto* g = epoch.mutable_governance();
  g->set_type("epoch");
  g->set_epoch(2);
  g->set_action("remove");
  g->mutable_subject()->set_name("daisen");
  g->set_threshold(3);
  g->set_proposal_id(std::string(64, 'a'));
  std::ostringstream out;
  PrintWatchEvent(out, epoch);
  EXPECT_EQ(out.str(), "[7] epoch 2 begins: daisen removed (threshold 3, proposal aaaaaaaa)\n");

  v1::WatchEvent rotation;  // an entry with what it means for governance
  rotation.set_cursor("8");
  rotation.mutable_entry()->set_author_name("biwa");
  rotation.mutable_entry()->set_seq(5);
  rotation.mutable_entry()->set_kind("rotate");
  rotation.mutable_entry()->set_id(std::string(64, 'b'));
  auto* r = rotation.mutable_governance();
  r->set_type("rotation");
  r->mutable_firm()->set_name("biwa");
  r->set_new_key(std::string(64, 'c'));
  r->set_key_since_seq(5);
  std::ostringstream out2;
  PrintWatchEvent(out2, rotation);
  EXPECT_EQ(out2.str(), "[8] biwa #5 rotate bbbbbbbb: biwa rotates its key to cccccccc from #5\n");
}

TEST(ViewsTest, MembersTableNotesRemovalsLeavesAndRotations) {
  v1::ListMembersResponse r;
  r.set_epoch(3);
  r.set_epoch_hash(std::string(64, 'e'));
  r.set_threshold(2);
  r.set_active(2);
  auto* a = r.add_members();
  a->mutable_firm()->set_name("asahi");
  a->mutable_firm()->set_public_key(std::string(64, '1'));
  a->set_status("active");
  a->set_current_key(std::string(64, '9'));
  a->set_key_since_seq(12);
  a->set_next_key_digest(std::string(64, '8'));
  auto* d = r.add_members();
  d->mutable_firm()->set_name("daisen");
  d->mutable_firm()->set_public_key(std::string(64, '2'));
  d->set_status("removed");
  d->set_removed_in_epoch(3);
  d->set_last_seq(41);
  d->set_left_seq(41);
  d->set_current_key(std::string(64, '2'));
  d->set_key_since_seq(1);
  d->set_next_key_digest(std::string(64, '0'));
  std::ostringstream out;
  PrintMembers(out, r);
  const std::string s = out.str();
  EXPECT_EQ(s.rfind("epoch 3 (eeeeeeee): 2 active members, threshold 2\n", 0), 0u) << s;
  EXPECT_NE(s.find("99999999 (rotated)"), std::string::npos) << s;
  EXPECT_NE(s.find("removed in epoch 3, counts to #41; left at #41"), std::string::npos) << s;
  EXPECT_NE(s.find("none"), std::string::npos) << "a zero digest commits to no key: " << s;
}

}  // namespace
}  // namespace keiretsu::cli
