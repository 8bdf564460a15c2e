// Consent-based clearing over the API (docs/PROTOCOL.md 20, docs/API.md
// "Clearing"): one node (firm1) of a three-founder version-2 network, the
// other founders' entries ingested as if replicated, over the cycle
// firm1 -> firm2 -> firm3 -> firm1 of 10 hours each. Find, propose, list and
// vote end to end; every bad input refused with its own status and nothing
// changed; roles; Watch's clearing events.
#include "api_fixture.h"
#include "gov_network.h"
#include "keiretsu/api/clearing_policy.h"
#include "keiretsu/node/identity.h"
#include "temp_dir.h"

namespace keiretsu::api {
namespace {

using testing::GovFirm;
using testing::GovLedgerKey;
using testing::SignAs;

class ApiClearingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ledger_ = testing::OpenGovLedger(net_, dir_.Sub("db"));
    ledger_->SetListener([h = hub_](const auto& applied) { h->OnApplied(applied); });
    ApiServerOptions options;
    options.listen = "127.0.0.1:0";
    options.now_unix_ms = [this] { return clock_ms_.fetch_add(1000) + 1000; };
    options.tokens = {
        {kOperatorToken, Role::kOperator, std::nullopt, "operator"},
        {kAuditorToken, Role::kAuditor, std::nullopt, "auditor"},
        {kPartner1Token, Role::kPartner, F(1).id, "partner1"},
    };
    auto s = ApiServer::Start(*ledger_, identity_, hub_, nullptr, std::move(options));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    stub_ = v1::Ledger::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
    // The cycle, 10 hours on each edge; F(0) is this node's firm.
    Put(SignAs(net_, F(0), protocol::Obligation{F(1).id, 10, "hours", ""}));
    Put(SignAs(net_, F(1), protocol::Obligation{F(2).id, 10, "hours", ""}));
    Put(SignAs(net_, F(2), protocol::Obligation{F(0).id, 10, "hours", ""}));
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::milliseconds(0));
  }
  GovFirm& F(int i) { return net_.founders[static_cast<size_t>(i)]; }
  void Put(const protocol::SignedEntry& e) {
    auto r = ledger_->Ingest(std::span(&e.record, 1), true);
    ASSERT_EQ(r.at(0).outcome, node::Outcome::kApplied) << r.at(0).status.ToString();
  }
  // Firm i's vote, ingested as if replicated.
  void OtherVotes(int i, const std::string& proposal_hex, bool accept) {
    Put(SignAs(net_, F(i),
               protocol::ClearingVote{*EntryId::FromHex(proposal_hex),
                                      accept ? protocol::ClearingDecision::kAccept
                                             : protocol::ClearingDecision::kReject}));
  }
  v1::ClearingLegRequest* Leg(v1::ProposeClearingRequest& q, int d, int c, uint64_t amount) {
    v1::ClearingLegRequest* l = q.add_legs();
    l->set_debtor(F(d).id.Hex());
    l->set_creditor(F(c).id.Hex());
    l->set_amount(amount);
    return l;
  }
  // The cycle with `amount` on every edge.
  v1::ProposeClearingRequest Cycle(uint64_t amount) {
    v1::ProposeClearingRequest q;
    q.set_unit("hours");
    Leg(q, 0, 1, amount);
    Leg(q, 1, 2, amount);
    Leg(q, 2, 0, amount);
    return q;
  }
  grpc::Status Propose(const v1::ProposeClearingRequest& q, v1::WriteResponse* r = nullptr,
                       const char* token = kOperatorToken) {
    v1::WriteResponse ignored;
    return stub_->ProposeClearing(Ctx(token).get(), q, r ? r : &ignored);
  }
  grpc::Status Vote(const std::string& id, bool accept, const char* token = kOperatorToken) {
    v1::VoteClearingRequest q;
    q.set_proposal_id(id);
    q.set_accept(accept);
    v1::WriteResponse ignored;
    return stub_->VoteClearing(Ctx(token).get(), q, &ignored);
  }
  std::string ProposeOk(const v1::ProposeClearingRequest& q) {
    v1::WriteResponse r;
    grpc::Status s = Propose(q, &r);
    EXPECT_TRUE(s.ok()) << Describe(s);
    return r.entry().id();
  }
  v1::ListClearingsResponse List(const std::string& state = "") {
    v1::ListClearingsRequest q;
    q.set_state(state);
    v1::ListClearingsResponse r;
    grpc::Status s = stub_->ListClearings(Ctx(kOperatorToken).get(), q, &r);
    EXPECT_TRUE(s.ok()) << Describe(s);
    return r;
  }
  protocol::Amount128 Net(int firm, int other) {
    auto b = ledger_->GetBalance(F(firm).id, F(other).id, "hours");
    EXPECT_TRUE(b.ok());
    return b.ok() ? *b : 0;
  }
  // A refused call: its code, a message naming `words`, nothing changed.
  void ExpectRefused(const grpc::Status& s, grpc::StatusCode code, const std::string& words,
                     const LedgerSnapshot& before) {
    EXPECT_EQ(s.error_code(), code) << Describe(s);
    EXPECT_NE(s.error_message().find(words), std::string::npos) << Describe(s);
    EXPECT_EQ(Snap(*ledger_), before);
  }

  testing::GovNet net_ = testing::MakeGovNet(3, 2);
  testing::TempDir dir_;
  std::unique_ptr<node::Ledger> ledger_;
  std::shared_ptr<WatchHub> hub_ = std::make_shared<WatchHub>();
  std::shared_ptr<node::Identity> identity_ = std::make_shared<node::Identity>(GovLedgerKey(1));
  std::atomic<uint64_t> clock_ms_{1'790'000'100'000};
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<v1::Ledger::Stub> stub_;
};

TEST_F(ApiClearingTest, FindClearingReportsTheCycle) {
  v1::FindClearingResponse r;
  grpc::Status s = stub_->FindClearing(Ctx(kAuditorToken).get(), {}, &r);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(r.units_size(), 1);
  const v1::UnitClearing& u = r.units(0);
  EXPECT_EQ(u.unit(), "hours");
  EXPECT_EQ(u.total_owed(), "30");
  EXPECT_EQ(u.cleared(), "30");
  EXPECT_DOUBLE_EQ(u.cleared_share(), 1.0);
  ASSERT_EQ(u.proposals_size(), 1);
  EXPECT_EQ(u.proposals(0).index(), 1u);
  EXPECT_EQ(u.proposals(0).legs_size(), 3);
  EXPECT_EQ(u.proposals(0).total(), "30");
  for (const auto& l : u.proposals(0).legs()) EXPECT_EQ(l.amount(), "10");
  v1::FindClearingRequest other;
  other.set_unit("eur");
  v1::FindClearingResponse none;
  ASSERT_TRUE(stub_->FindClearing(Ctx(kAuditorToken).get(), other, &none).ok());
  EXPECT_EQ(none.units_size(), 0);
}

TEST_F(ApiClearingTest, AFoundProposalEveryoneAcceptsCommitsAndKeepsNetPositions) {
  // Watch from now on: the proposal and the votes arrive as clearing events.
  grpc::ClientContext wctx;
  wctx.AddMetadata("authorization", std::string("Bearer ") + kOperatorToken);
  auto reader = stub_->Watch(&wctx, v1::WatchRequest());
  reader->WaitForInitialMetadata();  // the stream's start is fixed: later commits reach it

  v1::ProposeClearingRequest q;
  q.set_unit("hours");
  q.set_found(1);
  const std::string id = ProposeOk(q);
  ASSERT_EQ(id.size(), 64u);
  v1::ListClearingsResponse l = List();
  ASSERT_EQ(l.clearings_size(), 1);
  EXPECT_EQ(l.clearings(0).state(), "pending");
  EXPECT_EQ(l.clearings(0).not_voted_size(), 3);
  EXPECT_EQ(l.clearings(0).total(), "30");

  ASSERT_TRUE(Vote(id, true).ok());
  OtherVotes(1, id, true);
  OtherVotes(2, id, true);
  l = List("committed");
  ASSERT_EQ(l.clearings_size(), 1);
  EXPECT_EQ(l.clearings(0).not_voted_size(), 0);
  for (const auto& v : l.clearings(0).votes()) EXPECT_EQ(v.stance(), "accepted");
  EXPECT_EQ(List("pending").clearings_size(), 0);
  EXPECT_EQ(Net(0, 1), 0);
  EXPECT_EQ(Net(1, 2), 0);
  EXPECT_EQ(Net(2, 0), 0);

  std::vector<v1::ClearingEvent> events;
  v1::WatchEvent ev;
  while (events.size() < 4 && reader->Read(&ev))
    if (ev.has_clearing()) events.push_back(ev.clearing());
  wctx.TryCancel();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].type(), "proposal");
  EXPECT_EQ(events[0].proposal_id(), id);
  EXPECT_EQ(events[1].type(), "vote");
  EXPECT_TRUE(events[1].accept());
  EXPECT_EQ(events[3].proposal_id(), id);
  EXPECT_EQ(events[3].unit(), "hours");
}

// A proposal that expires through an entry that is no clearing entry (a
// participant writing past the expiry) reaches Watch as an "outcome" event.
TEST_F(ApiClearingTest, AnExpiryByAnotherEntryReachesWatchAsAnOutcome) {
  grpc::ClientContext wctx;
  wctx.AddMetadata("authorization", std::string("Bearer ") + kOperatorToken);
  // Without the event the stream would wait forever: end it, and the test.
  wctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto reader = stub_->Watch(&wctx, v1::WatchRequest());
  reader->WaitForInitialMetadata();

  v1::ProposeClearingRequest q = Cycle(4);
  q.set_expires_in_ms(60'000);
  const std::string id = ProposeOk(q);
  // Firm 1 has not voted and writes an obligation dated long after the
  // expiry: it lapsed, so the proposal expired.
  GovFirm& f = F(1);
  const protocol::Entry late{net_.id(),         f.id,
                             f.seq + 1,         f.head,
                             1'900'000'000'000, protocol::Obligation{F(2).id, 1, "hours", "late"}};
  auto se = protocol::SignEntryUnder(late, GovLedgerKey(f.key_index));
  ASSERT_TRUE(se.ok()) << se.status().ToString();
  f.seq = late.seq;
  f.head = se->id;
  Put(*se);
  ASSERT_EQ(List("expired").clearings_size(), 1);

  v1::ClearingEvent outcome;
  v1::WatchEvent ev;
  while (reader->Read(&ev)) {
    if (ev.has_clearing() && ev.clearing().type() == "outcome") {
      outcome = ev.clearing();
      break;
    }
  }
  wctx.TryCancel();
  EXPECT_EQ(outcome.proposal_id(), id);
  EXPECT_EQ(outcome.state(), "expired");
  EXPECT_EQ(outcome.unit(), "hours");
  EXPECT_EQ(outcome.firm().public_key(), F(0).id.Hex());
  EXPECT_FALSE(ev.has_entry());
}

TEST_F(ApiClearingTest, ExplicitLegsProposeAndARejectionEndsIt) {
  const std::string id = ProposeOk(Cycle(4));
  OtherVotes(1, id, false);
  v1::ListClearingsResponse l = List("rejected");
  ASSERT_EQ(l.clearings_size(), 1);
  EXPECT_EQ(l.clearings(0).id(), id);
  EXPECT_EQ(Net(0, 1), -10);
}

// --- ProposeClearing: each bad input

TEST_F(ApiClearingTest, ProposeWithoutUnitIsRefused) {
  const LedgerSnapshot before = Snap(*ledger_);
  v1::ProposeClearingRequest q = Cycle(4);
  q.clear_unit();
  ExpectRefused(Propose(q), grpc::StatusCode::INVALID_ARGUMENT, "unit is required", before);
}

TEST_F(ApiClearingTest, ProposeWithFoundAndLegsIsRefused) {
  const LedgerSnapshot before = Snap(*ledger_);
  v1::ProposeClearingRequest q = Cycle(4);
  q.set_found(1);
  ExpectRefused(Propose(q), grpc::StatusCode::INVALID_ARGUMENT, "not both", before);
}

TEST_F(ApiClearingTest, ProposeWithNeitherFoundNorLegsIsRefused) {
  const LedgerSnapshot before = Snap(*ledger_);
  v1::ProposeClearingRequest q;
  q.set_unit("hours");
  ExpectRefused(Propose(q), grpc::StatusCode::INVALID_ARGUMENT, "needs legs", before);
}

TEST_F(ApiClearingTest, ProposeWithTooLongAnExpiryIsRefused) {
  const LedgerSnapshot before = Snap(*ledger_);
  v1::ProposeClearingRequest q = Cycle(4);
  q.set_expires_in_ms(31ull * 24 * 3600 * 1000);
  ExpectRefused(Propose(q), grpc::StatusCode::INVALID_ARGUMENT, "above 30 days", before);
}

TEST_F(ApiClearingTest, ProposeOfAFoundIndexBeyondWhatIsFoundIsRefused) {
  const LedgerSnapshot before = Snap(*ledger_);
  v1::ProposeClearingRequest q;
  q.set_unit("hours");
  q.set_found(2);
  ExpectRefused(Propose(q), grpc::StatusCode::FAILED_PRECONDITION, "finds 1 proposals", before);
}

TEST_F(ApiClearingTest, ProposeNamingAnUnknownFirmIsRefused) {
  const LedgerSnapshot before = Snap(*ledger_);
  v1::ProposeClearingRequest q = Cycle(4);
  q.mutable_legs(1)->set_creditor("nobody");
  ExpectRefused(Propose(q), grpc::StatusCode::NOT_FOUND, "nobody", before);
}

// A firm that can no longer vote (removed, left) blocks every set-off
// through it: FindClearing leaves its debts out, and a proposal naming it is
// refused before anything is written.
TEST_F(ApiClearingTest, ACycleThroughARemovedFirmIsNeitherFoundNorProposed) {
  const Digest h0 = protocol::GenesisEpochHash(net_.id());
  auto removal =
      SignAs(net_, F(1), protocol::Propose{h0, 0, 2, protocol::RemoveAction{F(2).id, 1}, ""});
  Put(removal);
  Put(SignAs(net_, F(1), protocol::Vote{h0, 0, removal.id}));
  Put(SignAs(net_, F(0), protocol::Vote{h0, 0, removal.id}));
  ASSERT_FALSE(ledger_->IsActiveMember(F(2).id));

  v1::FindClearingResponse found;
  ASSERT_TRUE(stub_->FindClearing(Ctx(kAuditorToken).get(), {}, &found).ok());
  for (const v1::UnitClearing& u : found.units()) {
    EXPECT_EQ(u.proposals_size(), 0) << u.unit();
    EXPECT_EQ(u.cleared(), "0") << u.unit();
  }
  const LedgerSnapshot before = Snap(*ledger_);
  ExpectRefused(Propose(Cycle(4)), grpc::StatusCode::FAILED_PRECONDITION, "was removed", before);
}

TEST_F(ApiClearingTest, ACycleThroughAFirmThatLeftIsNeitherFoundNorProposed) {
  Put(SignAs(net_, F(2), protocol::Leave{"closing down"}));
  v1::FindClearingResponse found;
  ASSERT_TRUE(stub_->FindClearing(Ctx(kAuditorToken).get(), {}, &found).ok());
  for (const v1::UnitClearing& u : found.units()) EXPECT_EQ(u.proposals_size(), 0) << u.unit();
  const LedgerSnapshot before = Snap(*ledger_);
  ExpectRefused(Propose(Cycle(4)), grpc::StatusCode::FAILED_PRECONDITION, "has left", before);
}

// A request id stands for what was asked: a retry of "found 1" after the
// graph changed (so found 1 now resolves to other legs) is answered with the
// original entry, not refused as a reuse of the id for other content.
TEST_F(ApiClearingTest, AFoundProposalRetriedAfterTheGraphChangedIsAnsweredFromItsRequestId) {
  v1::ProposeClearingRequest q;
  q.set_unit("hours");
  q.set_found(1);
  q.set_request_id("clear-hours-1");
  v1::WriteResponse first;
  ASSERT_TRUE(Propose(q, &first).ok());
  // firm2 now owes firm1 4: firm1's edge to firm2 nets to 6, so found 1
  // would set off 6 on each leg.
  Put(SignAs(net_, F(1), protocol::Obligation{F(0).id, 4, "hours", ""}));
  const LedgerSnapshot before = Snap(*ledger_);
  v1::WriteResponse retry;
  const grpc::Status s = Propose(q, &retry);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(retry.entry().id(), first.entry().id());
  EXPECT_EQ(Snap(*ledger_), before);
  ASSERT_EQ(List().clearings_size(), 1);
}

TEST_F(ApiClearingTest, ProposeOfLegsThatAreNoCirculationIsRefused) {
  const LedgerSnapshot before = Snap(*ledger_);
  v1::ProposeClearingRequest q = Cycle(4);
  q.mutable_legs(2)->set_amount(3);
  const grpc::Status s = Propose(q);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_EQ(Snap(*ledger_), before);
}

TEST_F(ApiClearingTest, ProposeOfAZeroAmountIsRefused) {
  const LedgerSnapshot before = Snap(*ledger_);
  const grpc::Status s = Propose(Cycle(0));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_EQ(Snap(*ledger_), before);
}

TEST_F(ApiClearingTest, ProposeAboveWhatIsOwedIsRefused) {
  const LedgerSnapshot before = Snap(*ledger_);
  const grpc::Status s = Propose(Cycle(11));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(s);
  EXPECT_EQ(Snap(*ledger_), before);
}

TEST_F(ApiClearingTest, ProposeThisFirmTakesNoPartInIsRefused) {
  // firm2 -> firm3 -> firm2: needs firm3 to owe firm2 as well.
  Put(SignAs(net_, F(2), protocol::Obligation{F(1).id, 5, "hours", ""}));
  const LedgerSnapshot before = Snap(*ledger_);
  v1::ProposeClearingRequest q;
  q.set_unit("hours");
  Leg(q, 1, 2, 5);
  Leg(q, 2, 1, 5);
  ExpectRefused(Propose(q), grpc::StatusCode::FAILED_PRECONDITION, "is on no leg", before);
}

TEST_F(ApiClearingTest, ProposeByAPartnerIsDenied) {
  const LedgerSnapshot before = Snap(*ledger_);
  ExpectRefused(Propose(Cycle(4), nullptr, kPartner1Token), grpc::StatusCode::PERMISSION_DENIED, "",
                before);
}

// --- ListClearings

TEST_F(ApiClearingTest, ListOfAnUnknownStateIsRefused) {
  v1::ListClearingsRequest q;
  q.set_state("done");
  v1::ListClearingsResponse r;
  const grpc::Status s = stub_->ListClearings(Ctx(kOperatorToken).get(), q, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_NE(s.error_message().find("'done'"), std::string::npos) << Describe(s);
}

// --- VoteClearing: each bad input

TEST_F(ApiClearingTest, VoteWithAMalformedIdIsRefused) {
  const LedgerSnapshot before = Snap(*ledger_);
  ExpectRefused(Vote("xyz", true), grpc::StatusCode::INVALID_ARGUMENT, "64 hex", before);
}

TEST_F(ApiClearingTest, VoteOnAnUnknownProposalIsRefused) {
  const LedgerSnapshot before = Snap(*ledger_);
  ExpectRefused(Vote(std::string(64, 'a'), true), grpc::StatusCode::NOT_FOUND,
                "no clearing proposal", before);
}

TEST_F(ApiClearingTest, VoteOnAProposalThisFirmTakesNoPartInIsRefused) {
  Put(SignAs(net_, F(2), protocol::Obligation{F(1).id, 5, "hours", ""}));
  protocol::ClearingPropose p{"hours", 1'790'900'000'000, {}, {}};
  std::vector<int> firms{1, 2};
  std::sort(firms.begin(), firms.end(), [&](int a, int b) { return F(a).id < F(b).id; });
  for (int f : firms) p.participants.push_back({F(f).id, F(f).seq, F(f).head});
  p.legs = {{0, 1, 5}, {1, 0, 5}};
  auto se = SignAs(net_, F(1), p);
  Put(se);
  const LedgerSnapshot before = Snap(*ledger_);
  ExpectRefused(Vote(se.id.Hex(), true), grpc::StatusCode::FAILED_PRECONDITION, "no participant",
                before);
}

TEST_F(ApiClearingTest, VoteOnARejectedProposalIsRefused) {
  const std::string id = ProposeOk(Cycle(4));
  OtherVotes(2, id, false);
  const LedgerSnapshot before = Snap(*ledger_);
  ExpectRefused(Vote(id, true), grpc::StatusCode::FAILED_PRECONDITION, "is rejected", before);
}

TEST_F(ApiClearingTest, ASecondVoteIsRefused) {
  const std::string id = ProposeOk(Cycle(4));
  ASSERT_TRUE(Vote(id, true).ok());
  const LedgerSnapshot before = Snap(*ledger_);
  ExpectRefused(Vote(id, false), grpc::StatusCode::FAILED_PRECONDITION, "already accepted", before);
}

TEST_F(ApiClearingTest, AcceptingMoreThanIsOwedWithPendingAcceptsIsRefused) {
  const std::string first = ProposeOk(Cycle(6));
  const std::string second = ProposeOk(Cycle(6));
  ASSERT_TRUE(Vote(first, true).ok());
  const LedgerSnapshot before = Snap(*ledger_);
  ExpectRefused(Vote(second, true), grpc::StatusCode::FAILED_PRECONDITION,
                "together with the 1 pending proposals this firm accepted", before);
  // Rejecting it is fine.
  EXPECT_TRUE(Vote(second, false).ok());
}

TEST_F(ApiClearingTest, VoteByAPartnerIsDenied) {
  const std::string id = ProposeOk(Cycle(4));
  const LedgerSnapshot before = Snap(*ledger_);
  ExpectRefused(Vote(id, true, kPartner1Token), grpc::StatusCode::PERMISSION_DENIED, "", before);
}

// --- The auto-accept policy (keiretsud [clearing] auto_accept)

TEST_F(ApiClearingTest, AutoAcceptTakesProposalsWithinOwedAndExpiringInTime) {
  const std::string within = ProposeOk(Cycle(4));
  AutoAcceptPolicy policy{true, 48ull * 3600 * 1000};
  auto n = RunAutoAccept(*ledger_, *identity_, clock_ms_.load(), policy);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1u);
  v1::ListClearingsResponse l = List();
  ASSERT_EQ(l.clearings_size(), 1);
  EXPECT_EQ(l.clearings(0).votes_size(), 3);
  for (const auto& v : l.clearings(0).votes())
    if (v.firm().public_key() == F(0).id.Hex()) {
      EXPECT_EQ(v.stance(), "accepted");
    }
  // Run again: nothing new to accept.
  n = RunAutoAccept(*ledger_, *identity_, clock_ms_.load(), policy);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
}

TEST_F(ApiClearingTest, AutoAcceptLeavesAProposalThatWithAcceptedOnesExceedsWhatIsOwed) {
  const std::string first = ProposeOk(Cycle(6));
  ASSERT_TRUE(Vote(first, true).ok());
  ProposeOk(Cycle(6));
  const LedgerSnapshot before = Snap(*ledger_);
  auto n = RunAutoAccept(*ledger_, *identity_, clock_ms_.load(), {true, 48ull * 3600 * 1000});
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(Snap(*ledger_), before);
}

TEST_F(ApiClearingTest, AutoAcceptLeavesAProposalExpiringBeyondTheBound) {
  v1::ProposeClearingRequest q = Cycle(4);
  q.set_expires_in_ms(3ull * 24 * 3600 * 1000);
  ProposeOk(q);
  const LedgerSnapshot before = Snap(*ledger_);
  auto n = RunAutoAccept(*ledger_, *identity_, clock_ms_.load(), {true, 48ull * 3600 * 1000});
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(Snap(*ledger_), before);
}

TEST_F(ApiClearingTest, AutoAcceptOffAcceptsNothing) {
  ProposeOk(Cycle(4));
  const LedgerSnapshot before = Snap(*ledger_);
  auto n = RunAutoAccept(*ledger_, *identity_, clock_ms_.load(), {false, 48ull * 3600 * 1000});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(Snap(*ledger_), before);
}

}  // namespace
}  // namespace keiretsu::api
