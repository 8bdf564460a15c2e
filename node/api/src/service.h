// Private: the keiretsu.v1.Ledger service implementation. Reads, streams
// and the governance and clearing writes use grpc++'s sync API: handlers
// run on gRPC's thread pool, concurrently. The partner writes (Claim,
// Accept, Decline, RecordObligation, RecordRelease, WriteBatch) use the
// callback API over the ledger's AppendAsync: a write waiting for its group
// commit holds no thread, so a thousand writers in flight need no thousand
// threads. Answers to one claim run one after the other (AnswerQueue), so
// two concurrent Accepts of one claim cannot both pass the check; other
// writes check nothing but the rules, so the ledger commits them together.
// Split by family: service_read.cc, service_write.cc, service_stream.cc,
// service_governance.cc.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "keiretsu/api/server.h"
#include "keiretsu/node/identity.h"
#include "keiretsu/protocol/clearing_outcome.h"
#include "keiretsu/v1/api.grpc.pb.h"
#include "node/api/src/views.h"
#include "node/api/src/watch_shares.h"

namespace keiretsu::api {

namespace v1 = ::keiretsu::v1;

class LedgerService final : public v1::Ledger::Service {
 public:
  LedgerService(node::Ledger& ledger, std::shared_ptr<node::Identity> identity,
                std::shared_ptr<WatchHub> hub, const PeerStatusSource* peers, AccessPolicy policy,
                const ApiServerOptions& options);

  grpc::Status GetStatus(grpc::ServerContext* ctx, const v1::GetStatusRequest* req,
                         v1::GetStatusResponse* resp) override;
  // GetBalance, served as a raw callback method (service_calls.cc): it
  // answers on the thread that runs it, from one store read.
  grpc::Status BalanceOf(grpc::ServerContextBase* ctx, const v1::GetBalanceRequest& req,
                         v1::Balance* resp);
  grpc::Status ListBalances(grpc::ServerContext* ctx, const v1::ListBalancesRequest* req,
                            v1::ListBalancesResponse* resp) override;
  // The partner writes over the callback API (service_write.cc): each calls
  // `done` exactly once, possibly from the ledger's committer thread, with
  // `resp` filled when OK. `req` and `resp` must live until then.
  using Done = std::function<void(grpc::Status)>;
  void Claim(grpc::ServerContextBase* ctx, const v1::ClaimRequest& req, v1::WriteResponse* resp,
             Done done);
  void Accept(grpc::ServerContextBase* ctx, const v1::AcceptRequest& req, v1::WriteResponse* resp,
              Done done);
  void Decline(grpc::ServerContextBase* ctx, const v1::DeclineRequest& req, v1::WriteResponse* resp,
               Done done);
  void RecordObligation(grpc::ServerContextBase* ctx, const v1::RecordObligationRequest& req,
                        v1::WriteResponse* resp, Done done);
  void RecordRelease(grpc::ServerContextBase* ctx, const v1::RecordReleaseRequest& req,
                     v1::WriteResponse* resp, Done done);
  void WriteBatch(grpc::ServerContextBase* ctx, const v1::WriteBatchRequest& req,
                  v1::WriteBatchResponse* resp, Done done);
  grpc::Status ListPendingClaims(grpc::ServerContext* ctx, const v1::ListPendingClaimsRequest* req,
                                 v1::ListPendingClaimsResponse* resp) override;
  grpc::Status ListEntries(grpc::ServerContext* ctx, const v1::ListEntriesRequest* req,
                           v1::ListEntriesResponse* resp) override;
  grpc::Status GetEntry(grpc::ServerContext* ctx, const v1::GetEntryRequest* req,
                        v1::EntryView* resp) override;
  grpc::Status Watch(grpc::ServerContext* ctx, const v1::WatchRequest* req,
                     grpc::ServerWriter<v1::WatchEvent>* writer) override;
  grpc::Status Export(grpc::ServerContext* ctx, const v1::ExportRequest* req,
                      grpc::ServerWriter<v1::ExportChunk>* writer) override;
  grpc::Status Import(grpc::ServerContext* ctx, grpc::ServerReader<v1::ExportChunk>* reader,
                      v1::ImportResponse* resp) override;
  grpc::Status GetCheckpoint(grpc::ServerContext* ctx, const v1::GetCheckpointRequest* req,
                             v1::Checkpoint* resp) override;
  // Governance (service_governance.cc).
  grpc::Status Propose(grpc::ServerContext* ctx, const v1::ProposeRequest* req,
                       v1::WriteResponse* resp) override;
  grpc::Status Vote(grpc::ServerContext* ctx, const v1::VoteRequest* req,
                    v1::WriteResponse* resp) override;
  grpc::Status Leave(grpc::ServerContext* ctx, const v1::LeaveRequest* req,
                     v1::WriteResponse* resp) override;
  grpc::Status Rotate(grpc::ServerContext* ctx, const v1::RotateRequest* req,
                      v1::WriteResponse* resp) override;
  grpc::Status ListMembers(grpc::ServerContext* ctx, const v1::ListMembersRequest* req,
                           v1::ListMembersResponse* resp) override;
  grpc::Status ListProposals(grpc::ServerContext* ctx, const v1::ListProposalsRequest* req,
                             v1::ListProposalsResponse* resp) override;
  // Clearing (service_clearing.cc).
  grpc::Status FindClearing(grpc::ServerContext* ctx, const v1::FindClearingRequest* req,
                            v1::FindClearingResponse* resp) override;
  grpc::Status ProposeClearing(grpc::ServerContext* ctx, const v1::ProposeClearingRequest* req,
                               v1::WriteResponse* resp) override;
  grpc::Status ListClearings(grpc::ServerContext* ctx, const v1::ListClearingsRequest* req,
                             v1::ListClearingsResponse* resp) override;
  grpc::Status VoteClearing(grpc::ServerContext* ctx, const v1::VoteClearingRequest* req,
                            v1::WriteResponse* resp) override;

 private:
  // gRPC's own request parsing is lenient and its failures carry no message
  // (INTERNAL, empty). Every method is therefore served through a handler
  // that receives the raw bytes and parses them with proto::ParseStrict:
  // INVALID_ARGUMENT naming the field for malformed protobuf, invalid
  // UTF-8 in a string, a field sent twice (service_calls.cc).
  void InstallStrictHandlers();

 public:
  using RawStream = grpc::ServerReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>;
  // The streaming methods over raw bytes (service_calls.cc).
  grpc::Status RawWatch(grpc::ServerContext* ctx, RawStream* stream);
  grpc::Status RawExport(grpc::ServerContext* ctx, RawStream* stream);
  grpc::Status RawImport(grpc::ServerContext* ctx, RawStream* stream);

 private:
  // The streaming methods over callbacks, so both gRPC's typed streams and
  // the strict handlers can drive them. A sink returns false when the
  // client went away. A source returns false at the end of the stream and
  // an error for a chunk that does not parse.
  template <class T>
  using Sink = std::function<bool(const T&)>;
  using ChunkSource = std::function<Result<bool>(v1::ExportChunk*)>;
  // `started` is called once the stream holds its share and its start
  // cursor is fixed (the server then sends the response headers, so a
  // client can wait for them to know every later commit reaches it).
  grpc::Status DoWatch(grpc::ServerContext* ctx, const v1::WatchRequest& req,
                       const std::function<void()>& started, const Sink<v1::WatchEvent>& write);
  // Sends an "epoch" governance event for every epoch of the chain that is
  // not in `seen` (then updates it), each with `cursor`.
  grpc::Status SendEpochChanges(uint64_t cursor, std::vector<protocol::Epoch>& seen,
                                const Sink<v1::WatchEvent>& write);
  // The state of every clearing proposal this node holds (empty on error).
  std::map<EntryId, protocol::ClearingState> ClearingStates() const;
  // Sends an "outcome" clearing event for every proposal whose state is not
  // the one in `seen` (a proposal new to `seen` only when it is not pending:
  // its proposal event already said so), then updates `seen`; each with
  // `cursor`. Only proposals `who` may see (a partner: those its firm takes
  // part in).
  grpc::Status SendClearingOutcomes(uint64_t cursor, const Principal& who,
                                    std::map<EntryId, protocol::ClearingState>& seen,
                                    const Sink<v1::WatchEvent>& write);
  grpc::Status DoExport(grpc::ServerContext* ctx, const v1::ExportRequest& req,
                        const Sink<v1::ExportChunk>& write);
  grpc::Status DoImport(grpc::ServerContext* ctx, const ChunkSource& read,
                        v1::ImportResponse* resp);

  // Authenticates the call and checks the role may call `method`.
  Result<Principal> Authorize(grpc::ServerContextBase* ctx, Method method) const;
  // Resolves a firm argument: INVALID_ARGUMENT when empty, NOT_FOUND when
  // no member (of the genesis or admitted since) has that name or key.
  Result<PublicKey> Firm(const std::string& value, std::string_view field) const;
  // The firm argument, or this node's firm when empty.
  Result<PublicKey> FirmOrSelf(const std::string& value, std::string_view field) const;
  std::string NameOf(const PublicKey& key) const { return FirmNames::Of(ledger_).NameOf(key); }
  bool IsEffective(const PublicKey& author, uint64_t seq) const;
  Status ToView(ByteView record, v1::EntryView* view) const;
  // This node's clock in unix milliseconds (options_.now_unix_ms when set).
  uint64_t NowMs() const;
  // The checkpoint of `snapshot` (one Ledger::DigestSnapshot), signed with
  // this node's key and dated `time_ms` (docs/PROTOCOL.md 15: version 2
  // once the ledger left epoch 0 or a key rotated). Errors:
  // kFailedPrecondition when this node's key is no member's key in force;
  // kInternal when the feed states are inconsistent (MakeCheckpoint refused).
  Result<v1::Checkpoint> SignCheckpoint(const node::StateSnapshot& snapshot,
                                        uint64_t time_ms) const;

  // A write's idempotency key and the digest of its content (the method
  // and `fields`, every request field but the id, firms as resolved keys).
  struct WriteRequest {
    WriteRequest(std::string_view method, const std::string& id,
                 std::initializer_list<std::string_view> fields);
    std::string request_id;  // empty: none
    Hash32 fingerprint{};
  };
  // When `req` repeats a stored request id: fills `resp` with the original
  // entry and returns true. Errors: kInvalidArgument (malformed id),
  // kAlreadyExists (the id was used for other content).
  Result<bool> Replay(const WriteRequest& req, v1::WriteResponse* resp) const;
  // The write path: answers a retry from its request id, checks the node
  // may write, appends `body` unless the call was abandoned meanwhile
  // (DEADLINE_EXCEEDED / CANCELLED, nothing written), fills `resp`, then
  // calls `done` (from the thread that committed the entry, or this one).
  void WriteAsync(grpc::ServerContextBase* ctx, const Principal& who, const WriteRequest& req,
                  protocol::Body body, v1::WriteResponse* resp, Done done);
  // The same, waiting for the outcome (the sync handlers' writes).
  grpc::Status Write(grpc::ServerContextBase* ctx, const Principal& who, const WriteRequest& req,
                     protocol::Body body, v1::WriteResponse* resp);
  // The ledger's options for one write: its request id, and a check that
  // the call is still wanted, which records why not in `abandoned`.
  static node::AppendOptions AppendOptionsFor(grpc::ServerContextBase* ctx, const WriteRequest& req,
                                              std::shared_ptr<std::atomic<int>> abandoned);
  // What a write's call returns, from the ledger's outcome: the entry into
  // `resp`, or the status (abandoned: `abandoned` >= 0, a grpc code).
  grpc::Status WriteOutcome(const std::string& label, const std::string& request_id, int abandoned,
                            const Result<node::Appended>& a, v1::WriteResponse* resp) const;
  // OK when this node may write now (peers_->CheckWritable).
  Status CheckWritable() const;
  // What an item of a WriteBatch asks: its method's request and body, or
  // the error that item gets.
  Result<std::pair<WriteRequest, protocol::Body>> BatchItemWrite(const v1::BatchItem& item) const;

  // Held while a write signs and commits with the key in force; a Rotate
  // waits for every holder to finish and holds new writes back until the
  // new key is adopted, so no write signs with a key being retired. Not a
  // thread's lock: a write's hold ends on the thread that completes it.
  using KeyHold = std::shared_ptr<void>;
  // Runs `work` with a hold now, or, while a rotation runs, when it ends
  // (on the rotating thread). Never blocks.
  void WithKeyHold(std::function<void(KeyHold)> work);
  // For Rotate: waits until no write holds the key and holds new ones back
  // until the returned value is destroyed.
  std::shared_ptr<void> BeginRotation();
  // Answers to one claim run one at a time, in arrival order: `work` runs
  // now when no answer of `claim_key` is in flight, else when the one
  // before it calls its `next`. Never blocks.
  using Next = std::function<void()>;
  void InClaimOrder(const std::string& claim_key, std::function<void(Next)> work);
  // This node's firm (its id, which a rotation does not change) and the key
  // it signs with now.
  const PublicKey& self() const { return identity_->firm(); }
  std::shared_ptr<const crypto::SigningKey> key() const { return identity_->key(); }
  // PERMISSION_DENIED unless this firm is an active member of the current
  // epoch (governance writes).
  Status CheckActiveMember() const;
  // The governance event describing `entry` (a propose, vote, leave or
  // rotate); false for other kinds.
  bool FillGovernanceEvent(const protocol::SignedEntry& entry, v1::GovernanceEvent* out) const;
  // The clearing event describing `entry` (a clearing proposal or vote);
  // false for other kinds.
  bool FillClearingEvent(const protocol::SignedEntry& entry, v1::ClearingEvent* out) const;
  // The stored claim `claim_hex` after checking it may be answered by this
  // firm now. REQUIRES: answer_mu_ held.
  Result<protocol::SignedEntry> AnswerableClaim(const std::string& claim_hex) const;
  // Accept and Decline: in the claim's answer order, a retry of `req` is
  // answered from its request id, else the claim is checked and the body
  // `answer` makes of it is written; `done` then the next answer run.
  void AnswerClaim(grpc::ServerContextBase* ctx, const Principal& who, const std::string& claim_hex,
                   WriteRequest req,
                   std::function<protocol::Body(const protocol::SignedEntry& claim)> answer,
                   v1::WriteResponse* resp, Done done);

  node::Ledger& ledger_;
  const std::shared_ptr<node::Identity> identity_;
  std::shared_ptr<WatchHub> hub_;
  const PeerStatusSource* peers_;  // may be null
  const AccessPolicy policy_;
  const ApiServerOptions options_;
  std::mutex answer_mu_;
  // By claim id: the answers waiting behind the one in flight.
  std::map<std::string, std::deque<Next>> answers_;  // GUARDED_BY(answer_mu_)
  std::mutex key_mu_;
  std::condition_variable key_released_;
  size_t key_holds_ = 0;                               // GUARDED_BY(key_mu_)
  bool rotating_ = false;                              // GUARDED_BY(key_mu_)
  std::vector<std::function<void()>> after_rotation_;  // GUARDED_BY(key_mu_)
  WatchShares watch_shares_;
};

}  // namespace keiretsu::api
