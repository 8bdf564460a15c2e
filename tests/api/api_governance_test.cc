// Governance over the API (protocol v2, docs/API.md "Governance"): one node
// of a three-founder version-2 network (threshold 2), the other founders'
// entries ingested as if replicated. Propose, vote and admit end to end;
// every bad input refused with its own status and nothing changed; roles;
// Watch's governance events; Rotate and the key it leaves in force.
#include <sodium.h>
#include <sys/stat.h>

#include <filesystem>

#include "api_fixture.h"
#include "gov_network.h"
#include "keiretsu/crypto/key_file.h"
#include "keiretsu/storage/fault_injector.h"
#include "temp_dir.h"

namespace keiretsu::api {
namespace {

using protocol::Propose;
using protocol::Vote;
using testing::DigestOfKey;
using testing::GovFirm;
using testing::GovLedgerKey;
using testing::SignAs;

std::string SeedHex(const crypto::SigningKey& k) {
  std::string hex(2 * crypto::kSeedSize + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), k.seed().data(), crypto::kSeedSize);
  hex.pop_back();
  return hex;
}

class ApiGovernanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_file_ = dir_.Sub("firm.key");
    ASSERT_TRUE(crypto::WriteKeyFile(key_file_, GovLedgerKey(1)).ok());
    ledger_ = OpenLedger();
    ledger_->SetListener([h = hub_](const auto& applied) { h->OnApplied(applied); });
    identity_ = std::make_shared<node::Identity>(GovLedgerKey(1));
    ApiServerOptions options;
    options.listen = "127.0.0.1:0";
    options.key_file = key_file_;
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
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::milliseconds(0));
  }

  // The ledger under test; FaultyRotateTest opens it over a fault injector.
  virtual std::unique_ptr<node::Ledger> OpenLedger() {
    return testing::OpenGovLedger(net_, dir_.Sub("db"));
  }

  GovFirm& F(int i) { return net_.founders[static_cast<size_t>(i)]; }  // F(0) is this node
  Digest H0() const { return protocol::GenesisEpochHash(net_.id()); }
  void Put(const protocol::SignedEntry& e) {
    auto r = ledger_->Ingest(std::span(&e.record, 1), true);
    ASSERT_EQ(r.at(0).outcome, node::Outcome::kApplied) << r.at(0).status.ToString();
  }

  grpc::Status CallPropose(const v1::ProposeRequest& q, v1::WriteResponse* r = nullptr,
                           const char* token = kOperatorToken) {
    v1::WriteResponse ignored;
    return stub_->Propose(Ctx(token).get(), q, r ? r : &ignored);
  }
  grpc::Status VoteFor(const std::string& id, v1::WriteResponse* r = nullptr,
                       const char* token = kOperatorToken) {
    v1::VoteRequest q;
    q.set_proposal_id(id);
    v1::WriteResponse ignored;
    return stub_->Vote(Ctx(token).get(), q, r ? r : &ignored);
  }
  static v1::ProposeRequest Admit(const std::string& name, const std::string& key,
                                  const std::string& digest, uint32_t k) {
    v1::ProposeRequest q;
    q.mutable_admit()->set_name(name);
    q.mutable_admit()->set_inception_key(key);
    q.mutable_admit()->set_next_key_digest(digest);
    q.set_threshold(k);
    return q;
  }
  // Admit firm4 (key 4, next key 104) with threshold 3 of 4.
  static v1::ProposeRequest AdmitFirm4() {
    return Admit("firm4", GovLedgerKey(4).public_key().Hex(), DigestOfKey(104).Hex(), 3);
  }
  v1::ListMembersResponse Members() {
    v1::ListMembersResponse r;
    grpc::Status s = stub_->ListMembers(Ctx(kOperatorToken).get(), {}, &r);
    EXPECT_TRUE(s.ok()) << Describe(s);
    return r;
  }
  v1::ListProposalsResponse Proposals() {
    v1::ListProposalsResponse r;
    grpc::Status s = stub_->ListProposals(Ctx(kOperatorToken).get(), {}, &r);
    EXPECT_TRUE(s.ok()) << Describe(s);
    return r;
  }
  // Passes a proposal by founders 2 and 3 (ingested): returns its id.
  EntryId PassByOthers(const protocol::Propose& p) {
    auto prop = SignAs(net_, F(1), p);
    Put(prop);
    Put(SignAs(net_, F(1), Vote{p.epoch_hash, p.round, prop.id}));
    Put(SignAs(net_, F(2), Vote{p.epoch_hash, p.round, prop.id}));
    return prop.id;
  }
  // Everything a refused call must leave as it was, and the key file.
  void ExpectUnchanged(const LedgerSnapshot& before) {
    EXPECT_EQ(Snap(*ledger_), before);
    EXPECT_EQ(identity_->public_key(), GovLedgerKey(1).public_key());
    auto k = crypto::ReadKeyFile(key_file_);
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    EXPECT_EQ(k->public_key(), GovLedgerKey(1).public_key());
    EXPECT_FALSE(std::filesystem::exists(crypto::StagedKeyPath(key_file_)));
  }

  testing::GovNet net_ = testing::MakeGovNet(3, 2);
  testing::TempDir dir_;
  std::string key_file_;
  std::unique_ptr<node::Ledger> ledger_;
  std::shared_ptr<WatchHub> hub_ = std::make_shared<WatchHub>();
  std::shared_ptr<node::Identity> identity_;
  std::atomic<uint64_t> clock_ms_{1'790'000'100'000};
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<v1::Ledger::Stub> stub_;
};

TEST_F(ApiGovernanceTest, ProposeVoteAndAdmitAcrossTheApi) {
  v1::WriteResponse prop;
  grpc::Status s = CallPropose(AdmitFirm4(), &prop);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(prop.entry().kind(), "propose");
  EXPECT_EQ(prop.entry().author(), F(0).id.Hex());
  const std::string id = prop.entry().id();

  auto listed = Proposals();
  ASSERT_EQ(listed.proposals_size(), 1);
  const v1::Proposal& p = listed.proposals(0);
  EXPECT_EQ(p.id(), id);
  EXPECT_EQ(p.state(), "pending");
  EXPECT_EQ(p.action(), "admit");
  EXPECT_EQ(p.admit().name(), "firm4");
  EXPECT_EQ(p.threshold(), 3u);
  EXPECT_TRUE(p.epoch_known());
  EXPECT_EQ(p.epoch(), 0u);
  EXPECT_EQ(p.round(), 0u);
  EXPECT_EQ(p.votes(), 0u);
  EXPECT_EQ(p.not_voted_size(), 3);

  v1::WriteResponse vote;
  s = VoteFor(id, &vote);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(vote.entry().kind(), "vote");
  listed = Proposals();
  EXPECT_EQ(listed.proposals(0).votes(), 1u);
  ASSERT_EQ(listed.proposals(0).voters_size(), 1);
  EXPECT_EQ(listed.proposals(0).voters(0).name(), "firm1");
  EXPECT_EQ(listed.proposals(0).not_voted_size(), 2);
  EXPECT_EQ(Members().epoch(), 0u);

  // The second yes (firm2's, replicated) reaches k = 2: firm4 is admitted.
  auto pid = EntryId::FromHex(id);
  Put(SignAs(net_, F(1), Vote{H0(), 0, *pid}));
  auto members = Members();
  EXPECT_EQ(members.epoch(), 1u);
  EXPECT_EQ(members.threshold(), 3u);
  EXPECT_EQ(members.active(), 4u);
  ASSERT_EQ(members.members_size(), 4);
  bool found = false;
  for (const v1::Member& m : members.members()) {
    if (m.firm().name() != "firm4") continue;
    found = true;
    EXPECT_EQ(m.firm().public_key(), GovLedgerKey(4).public_key().Hex());
    EXPECT_EQ(m.status(), "active");
    EXPECT_EQ(m.since_epoch(), 1u);
    EXPECT_EQ(m.current_key(), GovLedgerKey(4).public_key().Hex());
    EXPECT_EQ(m.key_since_seq(), 1u);
    EXPECT_EQ(m.next_key_digest(), DigestOfKey(104).Hex());
  }
  EXPECT_TRUE(found);
  const v1::ListProposalsResponse after = Proposals();
  ASSERT_EQ(after.proposals_size(), 1);
  EXPECT_EQ(after.proposals(0).state(), "passed");

  // The admitted firm is a firm the API knows by name.
  v1::RecordObligationRequest owe;
  owe.set_creditor("firm4");
  owe.set_amount(5);
  owe.set_unit("hours");
  v1::WriteResponse w;
  s = stub_->RecordObligation(Ctx(kOperatorToken).get(), owe, &w);
  EXPECT_TRUE(s.ok()) << Describe(s);
}

// Entries by and naming a firm admitted after the genesis read back through
// every entry view (they once failed to decode against genesis membership),
// and views name it as they name founders (they once showed its short key).
TEST_F(ApiGovernanceTest, EntriesOfAnAdmittedFirmReadBack) {
  v1::WriteResponse prop;
  ASSERT_TRUE(CallPropose(AdmitFirm4(), &prop).ok());
  ASSERT_TRUE(VoteFor(prop.entry().id()).ok());
  Put(SignAs(net_, F(1), Vote{H0(), 0, *EntryId::FromHex(prop.entry().id())}));
  ASSERT_EQ(Members().epoch(), 1u);

  GovFirm firm4 = GovFirm::Of("firm4", 4, 104);
  const protocol::SignedEntry claim =
      SignAs(net_, firm4, protocol::Claim{F(0).id, 7, "hours", "moving boxes"});
  Put(claim);

  v1::GetEntryRequest get;
  get.set_id(claim.id.Hex());
  v1::EntryView view;
  grpc::Status s = stub_->GetEntry(Ctx(kOperatorToken).get(), get, &view);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(view.author(), firm4.id.Hex());
  EXPECT_EQ(view.author_name(), "firm4");  // named as an admitted member, not by its key
  EXPECT_EQ(view.counterparty_name(), "firm1");
  EXPECT_EQ(view.kind(), "claim");
  EXPECT_EQ(view.amount(), 7u);

  v1::ListEntriesRequest list;
  list.set_author(firm4.id.Hex());
  v1::ListEntriesResponse entries;
  s = stub_->ListEntries(Ctx(kOperatorToken).get(), list, &entries);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(entries.entries_size(), 1);
  EXPECT_EQ(entries.entries(0).id(), claim.id.Hex());

  v1::ListPendingClaimsResponse pending;
  s = stub_->ListPendingClaims(Ctx(kOperatorToken).get(), {}, &pending);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(pending.claims_size(), 1);
  EXPECT_EQ(pending.claims(0).id(), claim.id.Hex());
  EXPECT_EQ(pending.claims(0).author_name(), "firm4");

  // Balances name it too.
  Put(SignAs(net_, firm4, protocol::Obligation{F(0).id, 3, "hours", ""}));
  v1::ListBalancesResponse balances;
  s = stub_->ListBalances(Ctx(kOperatorToken).get(), {}, &balances);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(balances.balances_size(), 1);
  EXPECT_EQ(balances.balances(0).counterparty().public_key(), firm4.id.Hex());
  EXPECT_EQ(balances.balances(0).counterparty().name(), "firm4");
}

TEST_F(ApiGovernanceTest, ProposeWithARequestIdIsAnsweredOnceAndReplayed) {
  v1::ProposeRequest q = AdmitFirm4();
  q.set_request_id("admit-firm4");
  v1::WriteResponse first, again;
  ASSERT_TRUE(CallPropose(q, &first).ok());
  auto before = Snap(*ledger_);
  grpc::Status s = CallPropose(q, &again);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_TRUE(again.replayed());
  EXPECT_EQ(again.entry().id(), first.entry().id());
  EXPECT_EQ(Snap(*ledger_), before);
  q.set_memo("other content");
  s = CallPropose(q);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << Describe(s);
  EXPECT_EQ(Snap(*ledger_), before);
}

TEST_F(ApiGovernanceTest, VoteByANonMemberIsPermissionDenied) {
  // Founders 2 and 3 remove this node's firm.
  Propose remove{H0(), 0, 2, protocol::RemoveAction{F(0).id, 0}, ""};
  EntryId removal = PassByOthers(remove);
  ASSERT_FALSE(ledger_->IsActiveMember(F(0).id));
  auto before = Snap(*ledger_);
  grpc::Status s = VoteFor(removal.Hex());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
  EXPECT_NE(s.error_message().find("removed"), std::string::npos) << Describe(s);
  ExpectUnchanged(before);
  s = CallPropose(AdmitFirm4());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
  ExpectUnchanged(before);
}

TEST_F(ApiGovernanceTest, VoteForAProposalOfAStaleEpochIsFailedPrecondition) {
  // Two proposals of epoch 0; the first passes, so the second is stale.
  auto other = SignAs(net_, F(2), Propose{H0(), 0, 3, protocol::SetThresholdAction{}, "k=3"});
  Put(other);
  PassByOthers(Propose{H0(), 0, 2, protocol::SetThresholdAction{}, "k=2"});
  ASSERT_EQ(Members().epoch(), 1u);
  auto before = Snap(*ledger_);
  grpc::Status s = VoteFor(other.id.Hex());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(s);
  EXPECT_NE(s.error_message().find("stale"), std::string::npos) << Describe(s);
  ExpectUnchanged(before);
}

TEST_F(ApiGovernanceTest, VoteForAnUnknownProposalIsNotFound) {
  auto before = Snap(*ledger_);
  grpc::Status s = VoteFor(std::string(64, 'a'));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(s);
  ExpectUnchanged(before);
}

TEST_F(ApiGovernanceTest, VoteWithAMalformedProposalIdIsInvalidArgument) {
  auto before = Snap(*ledger_);
  grpc::Status s = VoteFor("not-an-id");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  ExpectUnchanged(before);
}

TEST_F(ApiGovernanceTest, ThresholdNotAboveHalfIsInvalidArgument) {
  auto before = Snap(*ledger_);
  v1::ProposeRequest q;
  q.mutable_set_threshold();
  q.set_threshold(1);  // 1 of 3 is not above half
  grpc::Status s = CallPropose(q);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  ExpectUnchanged(before);
}

TEST_F(ApiGovernanceTest, AdmitKeepingAThresholdThatNoLongerFitsIsInvalidArgument) {
  auto before = Snap(*ledger_);
  // k = 2 (the current one, by default) of n' = 4 is not above half.
  grpc::Status s =
      CallPropose(Admit("firm4", GovLedgerKey(4).public_key().Hex(), DigestOfKey(104).Hex(), 0));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  ExpectUnchanged(before);
}

TEST_F(ApiGovernanceTest, SetThresholdWithoutAThresholdIsInvalidArgument) {
  auto before = Snap(*ledger_);
  v1::ProposeRequest q;
  q.mutable_set_threshold();
  grpc::Status s = CallPropose(q);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  ExpectUnchanged(before);
}

TEST_F(ApiGovernanceTest, ProposeWithoutAnActionIsInvalidArgument) {
  auto before = Snap(*ledger_);
  grpc::Status s = CallPropose(v1::ProposeRequest());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  ExpectUnchanged(before);
}

TEST_F(ApiGovernanceTest, AdmitOfAnExistingKeyIsAlreadyExists) {
  auto before = Snap(*ledger_);
  grpc::Status s = CallPropose(Admit("newcomer", F(1).id.Hex(), DigestOfKey(104).Hex(), 3));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << Describe(s);
  ExpectUnchanged(before);
}

TEST_F(ApiGovernanceTest, AdmitOfAnExistingNameIsAlreadyExists) {
  auto before = Snap(*ledger_);
  grpc::Status s =
      CallPropose(Admit("FIRM2", GovLedgerKey(4).public_key().Hex(), DigestOfKey(104).Hex(), 3));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << Describe(s);
  ExpectUnchanged(before);
}

TEST_F(ApiGovernanceTest, AdmitWithAMalformedKeyIsInvalidArgument) {
  auto before = Snap(*ledger_);
  grpc::Status s = CallPropose(Admit("firm4", "xyz", DigestOfKey(104).Hex(), 3));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_NE(s.error_message().find("inception_key"), std::string::npos) << Describe(s);
  ExpectUnchanged(before);
}

TEST_F(ApiGovernanceTest, AdmitWithAMalformedDigestIsInvalidArgument) {
  auto before = Snap(*ledger_);
  grpc::Status s = CallPropose(Admit("firm4", GovLedgerKey(4).public_key().Hex(), "12", 3));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_NE(s.error_message().find("next_key_digest"), std::string::npos) << Describe(s);
  ExpectUnchanged(before);
}

TEST_F(ApiGovernanceTest, AdmitWithAZeroDigestIsInvalidArgument) {
  auto before = Snap(*ledger_);
  grpc::Status s =
      CallPropose(Admit("firm4", GovLedgerKey(4).public_key().Hex(), std::string(64, '0'), 3));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  ExpectUnchanged(before);
}

TEST_F(ApiGovernanceTest, RemoveOfAFirmThatIsNoMemberIsNotFound) {
  auto before = Snap(*ledger_);
  v1::ProposeRequest q;
  q.mutable_remove()->set_firm(GovLedgerKey(77).public_key().Hex());
  q.set_threshold(2);
  grpc::Status s = CallPropose(q);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(s);
  ExpectUnchanged(before);
}

TEST_F(ApiGovernanceTest, RemoveOfAFirmAlreadyRemovedIsInvalidArgument) {
  PassByOthers(
      Propose{H0(), 0, 3,
              protocol::AdmitAction{"firm4", GovLedgerKey(4).public_key(), DigestOfKey(104)}, ""});
  const Digest h1 = ledger_->Governance().epoch_hash;
  // Founders 2, 3 and this node's firm remove firm4 again (k = 3 of 4).
  auto rm = SignAs(net_, F(1),
                   Propose{h1, 0, 2, protocol::RemoveAction{GovLedgerKey(4).public_key(), 0}, ""});
  Put(rm);
  Put(SignAs(net_, F(1), Vote{h1, 0, rm.id}));
  Put(SignAs(net_, F(2), Vote{h1, 0, rm.id}));
  ASSERT_TRUE(VoteFor(rm.id.Hex()).ok());
  ASSERT_EQ(Members().epoch(), 2u);
  auto before = Snap(*ledger_);
  v1::ProposeRequest q;
  q.mutable_remove()->set_firm("firm4");
  q.set_threshold(2);
  grpc::Status s = CallPropose(q);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  ExpectUnchanged(before);
}

TEST_F(ApiGovernanceTest, APartnerOrAuditorTokenIsRefusedOnEveryGovernanceWrite) {
  auto before = Snap(*ledger_);
  for (const char* token : {kPartner1Token, kAuditorToken}) {
    SCOPED_TRACE(token);
    EXPECT_EQ(CallPropose(AdmitFirm4(), nullptr, token).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(VoteFor(std::string(64, 'a'), nullptr, token).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::WriteResponse r;
    EXPECT_EQ(stub_->Leave(Ctx(token).get(), {}, &r).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::RotateRequest rot;
    rot.set_next_secret_key(SeedHex(GovLedgerKey(101)));
    rot.set_next_key_digest(DigestOfKey(201).Hex());
    EXPECT_EQ(stub_->Rotate(Ctx(token).get(), rot, &r).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    // Reads are open to every role.
    v1::ListMembersResponse m;
    EXPECT_TRUE(stub_->ListMembers(Ctx(token).get(), {}, &m).ok());
    v1::ListProposalsResponse p;
    EXPECT_TRUE(stub_->ListProposals(Ctx(token).get(), {}, &p).ok());
  }
  ExpectUnchanged(before);
}

TEST_F(ApiGovernanceTest, LeaveEndsThisFirmsWrites) {
  v1::LeaveRequest q;
  q.set_memo("closing down");
  v1::WriteResponse r;
  grpc::Status s = stub_->Leave(Ctx(kOperatorToken).get(), q, &r);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(r.entry().kind(), "leave");
  bool listed = false;
  const v1::ListMembersResponse listed_members = Members();
  for (const v1::Member& m : listed_members.members())
    if (m.firm().public_key() == F(0).id.Hex()) {
      listed = true;
      EXPECT_EQ(m.status(), "left");
      EXPECT_EQ(m.left_seq(), r.entry().seq());
    }
  EXPECT_TRUE(listed);
  auto before = Snap(*ledger_);
  s = stub_->Leave(Ctx(kOperatorToken).get(), q, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(s);
  EXPECT_EQ(Snap(*ledger_), before);
}

TEST_F(ApiGovernanceTest, WatchSeesProposalVotesAndTheNewEpoch) {
  auto ctx = Ctx(kOperatorToken);
  auto stream = stub_->Watch(ctx.get(), v1::WatchRequest());
  stream->WaitForInitialMetadata();  // the stream holds its start: later commits reach it
  v1::WriteResponse prop;
  ASSERT_TRUE(CallPropose(AdmitFirm4(), &prop).ok());
  ASSERT_TRUE(VoteFor(prop.entry().id()).ok());
  Put(SignAs(net_, F(1), Vote{H0(), 0, *EntryId::FromHex(prop.entry().id())}));
  std::vector<v1::GovernanceEvent> seen;
  v1::WatchEvent ev;
  while (stream->Read(&ev)) {
    ASSERT_TRUE(ev.has_governance()) << ev.DebugString();
    seen.push_back(ev.governance());
    if (ev.governance().type() == "epoch") break;
  }
  ctx->TryCancel();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].type(), "proposal");
  EXPECT_EQ(seen[0].proposal_id(), prop.entry().id());
  EXPECT_EQ(seen[0].action(), "admit");
  EXPECT_EQ(seen[0].subject().name(), "firm4");
  EXPECT_EQ(seen[0].firm().name(), "firm1");
  EXPECT_EQ(seen[1].type(), "vote");
  EXPECT_EQ(seen[1].firm().name(), "firm1");
  EXPECT_EQ(seen[2].type(), "vote");
  EXPECT_EQ(seen[2].firm().name(), "firm2");
  EXPECT_EQ(seen[3].type(), "epoch");
  EXPECT_EQ(seen[3].epoch(), 1u);
  EXPECT_EQ(seen[3].threshold(), 3u);
  EXPECT_EQ(seen[3].proposal_id(), prop.entry().id());
  EXPECT_EQ(seen[3].subject().public_key(), GovLedgerKey(4).public_key().Hex());
}

// --- Rotation

v1::RotateRequest RotateTo(uint32_t next, uint32_t after) {
  v1::RotateRequest q;
  q.set_next_secret_key(SeedHex(GovLedgerKey(next)));
  q.set_next_key_digest(DigestOfKey(after).Hex());
  return q;
}

TEST_F(ApiGovernanceTest, RotateThenWriteSignsUnderTheNewKey) {
  v1::WriteResponse r;
  grpc::Status s = stub_->Rotate(Ctx(kOperatorToken).get(), RotateTo(101, 201), &r);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(r.entry().kind(), "rotate");
  EXPECT_EQ(r.entry().author(), F(0).id.Hex());  // the firm's id does not change
  const PublicKey new_key = GovLedgerKey(101).public_key();
  EXPECT_EQ(identity_->public_key(), new_key);
  EXPECT_EQ(identity_->firm(), F(0).id);
  // The key file holds the new key, mode 0600; nothing staged remains.
  auto k = crypto::ReadKeyFile(key_file_);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(k->public_key(), new_key);
  EXPECT_FALSE(std::filesystem::exists(crypto::StagedKeyPath(key_file_)));

  v1::RecordObligationRequest owe;
  owe.set_creditor("firm2");
  owe.set_amount(7);
  owe.set_unit("hours");
  v1::WriteResponse w;
  s = stub_->RecordObligation(Ctx(kOperatorToken).get(), owe, &w);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(w.entry().author(), F(0).id.Hex());
  EXPECT_TRUE(w.entry().effective());
  const std::string& rec = w.entry().record();
  ASSERT_GT(rec.size(), 64u);
  ByteView content(reinterpret_cast<const uint8_t*>(rec.data()), rec.size() - 64);
  crypto::Signature sig;
  std::copy(rec.end() - 64, rec.end(), sig.begin());
  EXPECT_TRUE(crypto::Verify(new_key, protocol::SigningMessage(content), sig));
  EXPECT_FALSE(crypto::Verify(F(0).id, protocol::SigningMessage(content), sig));

  const v1::ListMembersResponse listed_members = Members();
  for (const v1::Member& m : listed_members.members())
    if (m.firm().public_key() == F(0).id.Hex()) {
      EXPECT_EQ(m.current_key(), new_key.Hex());
      EXPECT_EQ(m.key_since_seq(), r.entry().seq());
      EXPECT_EQ(m.next_key_digest(), DigestOfKey(201).Hex());
    }

  // A retry of the same rotation answers with its entry and writes nothing.
  auto before = Snap(*ledger_);
  v1::WriteResponse again;
  s = stub_->Rotate(Ctx(kOperatorToken).get(), RotateTo(101, 201), &again);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_TRUE(again.replayed());
  EXPECT_EQ(again.entry().id(), r.entry().id());
  EXPECT_EQ(Snap(*ledger_), before);
}

TEST_F(ApiGovernanceTest, RotateWithAKeyThatWasNotCommittedToIsPermissionDenied) {
  auto before = Snap(*ledger_);
  v1::WriteResponse r;
  grpc::Status s = stub_->Rotate(Ctx(kOperatorToken).get(), RotateTo(102, 201), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
  ExpectUnchanged(before);
}

TEST_F(ApiGovernanceTest, RotateWithAMalformedSecretIsInvalidArgument) {
  auto before = Snap(*ledger_);
  v1::RotateRequest q = RotateTo(101, 201);
  q.set_next_secret_key("00zz");
  v1::WriteResponse r;
  grpc::Status s = stub_->Rotate(Ctx(kOperatorToken).get(), q, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  ExpectUnchanged(before);
}

TEST_F(ApiGovernanceTest, RotateWithAMalformedNextDigestIsInvalidArgument) {
  auto before = Snap(*ledger_);
  v1::RotateRequest q = RotateTo(101, 201);
  q.set_next_key_digest("abc");
  v1::WriteResponse r;
  grpc::Status s = stub_->Rotate(Ctx(kOperatorToken).get(), q, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  ExpectUnchanged(before);
}

TEST_F(ApiGovernanceTest, RotateCommittingToAUsedKeyIsInvalidArgument) {
  auto before = Snap(*ledger_);
  v1::RotateRequest q = RotateTo(101, 1);  // key 1 is the firm's current key
  v1::WriteResponse r;
  grpc::Status s = stub_->Rotate(Ctx(kOperatorToken).get(), q, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  ExpectUnchanged(before);
}

// A rotation whose commit fails: whether it reached the disk is unknown, so
// the new key stays staged for keiretsud to settle at its next start, the
// caller is told so (UNAVAILABLE), and this process keeps signing with the
// key it had.
class FaultyRotateTest : public ApiGovernanceTest {
 protected:
  std::unique_ptr<node::Ledger> OpenLedger() override {
    auto store = storage::Store::Open({dir_.Sub("db"), net_.id(), true, faults_});
    if (!store.ok()) throw std::runtime_error(store.status().ToString());
    auto ledger = node::Ledger::Open(net_.genesis, std::move(store).value());
    if (!ledger.ok()) throw std::runtime_error(ledger.status().ToString());
    return std::move(ledger).value();
  }
  std::shared_ptr<storage::FaultInjector> faults_ =
      storage::FaultInjector::Create(storage::FaultInjector::Medium::kDisk);
};

TEST_F(FaultyRotateTest, ACommitThatFailsKeepsTheNewKeyStagedAndSaysTheOutcomeIsUnknown) {
  faults_->FailEverySync();
  v1::RotateRequest q;
  q.set_next_secret_key(SeedHex(GovLedgerKey(101)));
  q.set_next_key_digest(DigestOfKey(201).Hex());
  v1::WriteResponse r;
  grpc::Status s = stub_->Rotate(Ctx(kOperatorToken).get(), q, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << Describe(s);
  EXPECT_NE(s.error_message().find("unknown"), std::string::npos) << s.error_message();
  EXPECT_NE(s.error_message().find("restart keiretsud"), std::string::npos) << s.error_message();
  // The staged key is the new one; the key file and this process keep the old.
  auto staged = crypto::ReadKeyFile(crypto::StagedKeyPath(key_file_));
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  EXPECT_EQ(staged->public_key(), GovLedgerKey(101).public_key());
  auto kept = crypto::ReadKeyFile(key_file_);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->public_key(), GovLedgerKey(1).public_key());
  EXPECT_EQ(identity_->public_key(), GovLedgerKey(1).public_key());
  faults_->Clear();
}

}  // namespace
}  // namespace keiretsu::api
