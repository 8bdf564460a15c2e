// Governance commands (protocol v2, docs/PROTOCOL.md 19): propose, vote,
// leave and rotate write one entry to this node's feed (operator token);
// members and proposals read the node's view of the epoch chain. Every
// argument that can be checked here is, so a typo never reaches the node
// and a refusal changes nothing.
#include <sodium.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>

#include "args.h"
#include "cli.h"
#include "client.h"
#include "keiretsu/crypto/key_file.h"
#include "keiretsu/protocol/genesis.h"
#include "keiretsu/protocol/governance.h"
#include "output.h"
#include "writes.h"

namespace keiretsu::cli {
namespace {

namespace v1 = keiretsu::v1;
using Stub = v1::Ledger::Stub;

// The protocol's bound on a proposal's threshold (19.3 rule 1).
constexpr uint64_t kMaxThreshold = 1024;

// A whole number 0..max ("0" allowed, unlike ParsePositive).
Result<uint64_t> ParseCount(const std::string& text, std::string_view what, uint64_t max) {
  uint64_t v = 0;
  if (text != "0") {
    KEIRETSU_ASSIGN_OR_RETURN(v, ParsePositive(text, what));
  }
  if (v > max)
    return InvalidArgument(std::string(what) + " " + text + " is above the limit of " +
                           std::to_string(max));
  return v;
}

// A 64-hex next-key digest that commits to a key: non-zero and, when `key`
// is given, not that key's own digest (19.3 rules 2 and 6).
Result<std::string> ParseNextDigest(const std::string& text, std::string_view what,
                                    const PublicKey* key) {
  KEIRETSU_ASSIGN_OR_RETURN(std::string hex, ParseHex64(text, what));
  if (Digest::FromHex(hex)->IsZero())
    return InvalidArgument(std::string(what) + " is all zeros, which commits to no key");
  if (key != nullptr && hex == protocol::NextKeyDigest(*key).Hex())
    return InvalidArgument(std::string(what) + " is the digest of the key " + key->Short() +
                           " itself: the next key must be another key (keiretsu keygen --next)");
  return hex;
}

// ------------------------------------------------------------------ propose

struct ProposeArgs {
  std::string action;   // "admit" | "remove" | "threshold"
  std::string subject;  // admit: NAME; remove: FIRM; threshold: K
  std::string key, next_digest, last_seq;
  std::string threshold;  // --threshold (admit, remove): k' of the next epoch
  std::string round, memo, request_id;
};

Status Propose(Context& ctx, const ProposeArgs& a) {
  v1::ProposeRequest req;
  std::string what;  // for people: what the proposal would do
  if (a.action == "admit") {
    if (!protocol::IsValidName(a.subject, 64))
      return InvalidArgument("firm name '" + Printable(a.subject, 64) +
                             "' must be 1-64 characters of A-Z a-z 0-9 . _ -");
    KEIRETSU_ASSIGN_OR_RETURN(std::string key_hex, ParseHex64(a.key, "--key"));
    PublicKey key = *PublicKey::FromHex(key_hex);
    if (!crypto::IsValidPublicKey(key))
      return InvalidArgument("--key " + key.Short() +
                             " is not a usable Ed25519 public key (from keiretsu keygen)");
    KEIRETSU_ASSIGN_OR_RETURN(std::string digest,
                              ParseNextDigest(a.next_digest, "--next-digest", &key));
    v1::AdmitAction* admit = req.mutable_admit();
    admit->set_name(a.subject);
    admit->set_inception_key(key_hex);
    admit->set_next_key_digest(digest);
    what = "admit " + a.subject + " (" + key.Short() + ")";
  } else if (a.action == "remove") {
    if (a.subject.empty()) return InvalidArgument("name the firm to remove");
    v1::RemoveAction* remove = req.mutable_remove();
    remove->set_firm(a.subject);
    if (!a.last_seq.empty()) {
      KEIRETSU_ASSIGN_OR_RETURN(uint64_t last, ParseCount(a.last_seq, "--last-seq", UINT64_MAX));
      remove->set_last_seq(last);
    }
    what = "remove " + Printable(a.subject, 64);
  } else {  // threshold
    KEIRETSU_ASSIGN_OR_RETURN(uint64_t k, ParsePositive(a.subject, "threshold"));
    if (k > kMaxThreshold)
      return InvalidArgument("threshold " + a.subject + " is above the protocol's limit of " +
                             std::to_string(kMaxThreshold));
    req.mutable_set_threshold();
    req.set_threshold(static_cast<uint32_t>(k));
    what = "set the threshold to " + a.subject;
  }
  if (!a.threshold.empty()) {
    KEIRETSU_ASSIGN_OR_RETURN(uint64_t k, ParsePositive(a.threshold, "--threshold"));
    if (k > kMaxThreshold)
      return InvalidArgument("--threshold " + a.threshold + " is above the protocol's limit of " +
                             std::to_string(kMaxThreshold));
    req.set_threshold(static_cast<uint32_t>(k));
  }
  if (!a.round.empty()) {
    KEIRETSU_ASSIGN_OR_RETURN(uint64_t round, ParseCount(a.round, "--round", UINT32_MAX));
    req.set_round(static_cast<uint32_t>(round));
  }
  if (a.memo.size() > 512) return InvalidArgument("--memo is longer than 512 bytes");
  req.set_memo(a.memo);
  KEIRETSU_ASSIGN_OR_RETURN(v1::WriteResponse r, SendWrite(ctx, &Stub::Propose, req, a.request_id));
  if (ctx.json) {
    *ctx.out << MessageJson(r) << '\n';
    return Status::Ok();
  }
  const std::string& id = r.entry().id();
  *ctx.out << "proposed: " << what << "\n"
           << "proposal " << id << " (" << FirmLabel(r.entry().author(), r.entry().author_name())
           << " #" << r.entry().seq() << ")\n";
  if (r.replayed())
    *ctx.out << "(already written by an earlier call with this request id; nothing new)\n";
  *ctx.out << "members vote for it with:  keiretsu vote " << id << " --yes\n";
  return Status::Ok();
}

// --------------------------------------------------------------------- vote

struct VoteArgs {
  std::string proposal;
  bool yes = false, no = false;
  std::string request_id;
};

// The node's view of one proposal, or nullopt when it does not list it.
std::optional<v1::Proposal> FindProposal(Client& client, const std::string& id) {
  v1::ListProposalsResponse r;
  if (!client.Call(&Stub::ListProposals, v1::ListProposalsRequest(), &r).ok()) return std::nullopt;
  for (const v1::Proposal& p : r.proposals())
    if (p.id() == id) return p;
  return std::nullopt;
}

Status Vote(Context& ctx, const VoteArgs& a) {
  KEIRETSU_ASSIGN_OR_RETURN(std::string id, ParseHex64(a.proposal, "proposal id"));
  if (a.no) {
    // PROTOCOL.md 19.3: a vote is always a yes; there is no entry for "no".
    // Not voting is the no, so nothing is written.
    if (ctx.json)
      *ctx.out << FlatJson({{"proposal_id", id}, {"vote", "no"}, {"written", "false"}}) << '\n';
    else
      *ctx.out << "nothing written: the protocol has no \"no\" vote. Not voting for proposal "
               << ShortHex(id)
               << " is the no; it fails once too few members are left undecided to reach the "
                  "threshold (or when another proposal of its round passes).\n";
    return Status::Ok();
  }
  v1::VoteRequest req;
  req.set_proposal_id(id);
  KEIRETSU_ASSIGN_OR_RETURN(v1::WriteResponse r, SendWrite(ctx, &Stub::Vote, req, a.request_id));
  if (ctx.json) {
    *ctx.out << MessageJson(r) << '\n';
    return Status::Ok();
  }
  *ctx.out << "voted yes for proposal " << ShortHex(id) << " (entry " << ShortHex(r.entry().id())
           << ", " << FirmLabel(r.entry().author(), r.entry().author_name()) << " #"
           << r.entry().seq() << ")\n";
  if (r.replayed())
    *ctx.out << "(already written by an earlier call with this request id; nothing new)\n";
  // Where the proposal stands now, as this node sees it (best effort: the
  // vote is written whatever this says).
  KEIRETSU_ASSIGN_OR_RETURN(auto client, ConnectFromContext(ctx));
  if (auto p = FindProposal(*client, id))
    *ctx.out << "proposal " << ShortHex(id) << ": " << p->votes() << " vote"
             << (p->votes() == 1 ? "" : "s") << ", " << Printable(p->state(), 16) << '\n';
  return Status::Ok();
}

// -------------------------------------------------------------------- leave

struct LeaveArgs {
  bool confirm = false;
  std::string memo, request_id;
};

Status Leave(Context& ctx, const LeaveArgs& a) {
  if (!a.confirm)
    return InvalidArgument(
        "leaving is irreversible: it is this firm's final entry, nothing it writes afterwards "
        "counts; repeat with --confirm");
  if (a.memo.size() > 512) return InvalidArgument("--memo is longer than 512 bytes");
  v1::LeaveRequest req;
  req.set_memo(a.memo);
  KEIRETSU_ASSIGN_OR_RETURN(v1::WriteResponse r, SendWrite(ctx, &Stub::Leave, req, a.request_id));
  if (ctx.json) {
    *ctx.out << MessageJson(r) << '\n';
    return Status::Ok();
  }
  const auto& e = r.entry();
  *ctx.out << "left: entry " << e.id() << " (" << FirmLabel(e.author(), e.author_name()) << " #"
           << e.seq() << ") is this firm's final entry\n"
           << "it stays a member (counted in the threshold) until removed; a member proposes:\n"
           << "  keiretsu propose remove " << FirmLabel(e.author(), e.author_name())
           << " --last-seq " << e.seq() << '\n';
  return Status::Ok();
}

// ------------------------------------------------------------------- rotate

struct RotateArgs {
  std::string next_key;      // the pre-committed next key's file
  std::string after_digest;  // D(the key after it), or empty: make one
  std::string after_out;     // where to write the key after it (default NEXT_KEY.after)
};

// This node's firm as ListMembers shows it, or nullopt (not listed yet).
// Errors: the node's, or kUnavailable when it cannot write now (the
// rotation would be refused: nothing is made or sent).
Result<std::optional<v1::Member>> SelfMember(Client& client) {
  v1::GetStatusResponse status;
  KEIRETSU_RETURN_IF_ERROR(client.Call(&Stub::GetStatus, v1::GetStatusRequest(), &status));
  if (!status.writable())
    return Unavailable("this node cannot write now (" +
                       Printable(status.write_block_reason(), 200) +
                       "); nothing was written: rotate once keiretsu status says writable");
  v1::ListMembersResponse members;
  KEIRETSU_RETURN_IF_ERROR(client.Call(&Stub::ListMembers, v1::ListMembersRequest(), &members));
  for (const v1::Member& m : members.members())
    if (m.firm().public_key() == status.firm().public_key()) return std::optional(m);
  return std::optional<v1::Member>();
}

Status Rotate(Context& ctx, const RotateArgs& a) {
  // Everything is checked before anything is written or sent.
  auto next = crypto::ReadKeyFile(a.next_key);
  if (next.status().code() == Code::kNotFound)
    return NotFound("next-key file " + a.next_key +
                    " not found (it was made with keiretsu keygen --next and kept off the node)");
  KEIRETSU_RETURN_IF_ERROR(next.status());
  const PublicKey next_pk = next->public_key();
  const std::string next_digest = protocol::NextKeyDigest(next_pk).Hex();
  std::string after_digest;
  if (!a.after_digest.empty()) {
    if (!a.after_out.empty())
      return InvalidArgument("give --after-digest or --after-key-out, not both");
    KEIRETSU_ASSIGN_OR_RETURN(after_digest,
                              ParseNextDigest(a.after_digest, "--after-digest", &next_pk));
  }
  const std::string after_path = a.after_out.empty() ? a.next_key + ".after" : a.after_out;
  if (after_digest.empty() && ::access(after_path.c_str(), F_OK) == 0)
    return AlreadyExists(after_path +
                         " already exists; not overwriting a key (give "
                         "--after-key-out FILE, or --after-digest of a key you made)");

  KEIRETSU_ASSIGN_OR_RETURN(auto client, ConnectFromContext(ctx));
  KEIRETSU_ASSIGN_OR_RETURN(std::optional<v1::Member> self, SelfMember(*client));
  if (self && self->next_key_digest() != next_digest) {
    bool rotated_to_it = self->current_key() == next_pk.Hex();
    if (!rotated_to_it || after_digest.empty() || self->next_key_digest() != after_digest)
      return PermissionDenied("the key in " + a.next_key + " (" + next_pk.Short() +
                              ") is not the next key this firm committed to (its current key " +
                              ShortHex(self->current_key()) + " commits to digest " +
                              ShortHex(self->next_key_digest()) + ", this key's digest is " +
                              ShortHex(next_digest) + "); nothing was written" +
                              (rotated_to_it ? ": the firm already rotated to this key" : ""));
    // else: a retry of a rotation that took effect; the node answers replayed.
  }

  // The key after it: made and synced to disk before the node commits to
  // its digest, so the firm never commits to a key it does not hold.
  bool made_after = false;
  if (after_digest.empty()) {
    crypto::SigningKey after = crypto::SigningKey::Generate();
    Status w = crypto::WriteKeyFile(after_path, after);
    if (w.code() == Code::kAlreadyExists)
      return AlreadyExists(after_path + " already exists; not overwriting a key");
    KEIRETSU_RETURN_IF_ERROR(w);
    after_digest = protocol::NextKeyDigest(after.public_key()).Hex();
    made_after = true;
  }

  v1::RotateRequest req;
  std::string seed_hex = ToHex(ByteView(next->seed().data(), next->seed().size()));
  req.set_next_secret_key(seed_hex);
  sodium_memzero(seed_hex.data(), seed_hex.size());
  req.set_next_key_digest(after_digest);
  v1::WriteResponse r;
  Status s = client->Call(&Stub::Rotate, req, &r);
  sodium_memzero(req.mutable_next_secret_key()->data(), req.next_secret_key().size());
  if (!s.ok()) {
    // Only a definite refusal means the node committed nothing; any other
    // failure (unavailable, a failed commit, a lost connection, a deadline)
    // may have left the rotation in force, committed to the key just made.
    const bool refused = s.code() == Code::kInvalidArgument ||
                         s.code() == Code::kPermissionDenied ||
                         s.code() == Code::kFailedPrecondition || s.code() == Code::kNotFound ||
                         s.code() == Code::kAlreadyExists || s.code() == Code::kUnauthenticated;
    if (!refused)
      return Status(s.code(), s.message() +
                                  "; the rotation may or may not have happened: repeat with "
                                  "--next-key " +
                                  a.next_key + " --after-digest " + after_digest +
                                  (made_after ? " (the key in " + after_path + ", keep it)" : "") +
                                  "; a rotation that took effect is answered, not repeated");
    // Refused: the node never committed to the key just made; drop it.
    if (made_after) ::unlink(after_path.c_str());
    return s;
  }
  if (ctx.json) {
    std::vector<std::pair<std::string, std::string>> fields = {{"new_key", next_pk.Hex()},
                                                               {"next_key_digest", after_digest}};
    if (made_after) fields.emplace_back("after_key_file", after_path);
    std::string extra = FlatJson(fields);
    *ctx.out << "{\"rotate\":" << MessageJson(r) << "," << extra.substr(1) << '\n';
    return Status::Ok();
  }
  const auto& e = r.entry();
  *ctx.out << (r.replayed() ? "already rotated: " : "rotated: ") << "entry " << e.id() << " ("
           << FirmLabel(e.author(), e.author_name()) << " #" << e.seq() << ")\n"
           << "key in force now  " << next_pk.Hex() << " (from seq " << e.seq() << ")\n"
           << "it commits to     " << after_digest << '\n';
  if (made_after)
    *ctx.out << "the key after it  " << after_path
             << " (mode 0600): move it OFF the node now; it is the only key that can rotate "
                "next\n";
  *ctx.out << "the node signs with the key from " << a.next_key << " now; this firm's id stays "
           << FirmLabel(e.author(), e.author_name()) << '\n';
  return Status::Ok();
}

// --------------------------------------------------------- members, proposals

Status Members(Context& ctx) {
  KEIRETSU_ASSIGN_OR_RETURN(auto client, ConnectFromContext(ctx));
  v1::ListMembersResponse r;
  KEIRETSU_RETURN_IF_ERROR(client->Call(&Stub::ListMembers, v1::ListMembersRequest(), &r));
  if (ctx.json)
    *ctx.out << MessageJson(r) << '\n';
  else
    PrintMembers(*ctx.out, r);
  return Status::Ok();
}

Status Proposals(Context& ctx, const std::string& state) {
  if (!state.empty() && state != "pending" && state != "passed" && state != "failed" &&
      state != "void")
    return InvalidArgument("--state must be pending, passed, failed or void, got '" +
                           Printable(state, 20) + "'");
  KEIRETSU_ASSIGN_OR_RETURN(auto client, ConnectFromContext(ctx));
  v1::ListProposalsRequest req;
  req.set_state(state);
  v1::ListProposalsResponse r;
  KEIRETSU_RETURN_IF_ERROR(client->Call(&Stub::ListProposals, req, &r));
  if (ctx.json) {
    *ctx.out << MessageJson(r) << '\n';
    return Status::Ok();
  }
  // Names for the firms a removal names by id (best effort).
  v1::ListMembersResponse members;
  if (!client->Call(&Stub::ListMembers, v1::ListMembersRequest(), &members).ok()) members.Clear();
  PrintProposals(*ctx.out, r, members);
  return Status::Ok();
}

}  // namespace

void AddGovernanceCommands(CLI::App& app, Context& ctx) {
  {
    auto* propose = app.add_subcommand(
        "propose", "Propose a change of the members or the threshold (protocol v2; operator)");
    propose->require_subcommand(1);
    propose->footer(
        "A proposal is for the current epoch; it passes when members reaching the threshold "
        "vote for it (keiretsu vote ID --yes), and a passed proposal makes the next epoch, "
        "voiding every other proposal of the old one. --threshold sets k of that next epoch "
        "(n'/2 < k <= n' for its n' members; default: keep the current k when it fits).");
    auto common = [](CLI::App* sub, ProposeArgs& a, bool threshold_flag) {
      if (threshold_flag)
        sub->add_option("--threshold", a.threshold,
                        "k of the epoch that follows if it passes (default: the current k)");
      sub->add_option("--round", a.round,
                      "Round of the current epoch (default: the lowest that has not failed)");
      sub->add_option("--memo", a.memo, "The reason, for people (up to 512 bytes)");
      AddRequestId(sub, a.request_id);
    };
    {
      auto a = std::make_shared<ProposeArgs>();
      a->action = "admit";
      auto* sub = propose->add_subcommand("admit", "Propose admitting a new firm");
      sub->add_option("NAME", a->subject, "The name it joins under ([A-Za-z0-9._-], 1-64)")
          ->required();
      sub->add_option("--key", a->key,
                      "Its id: the public key its node signs with (64 hex, keiretsu keygen)")
          ->required();
      sub->add_option("--next-digest", a->next_digest,
                      "The digest its key commits to (64 hex, keiretsu keygen --next)")
          ->required();
      common(sub, *a, true);
      sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return Propose(ctx, *a); }; });
    }
    {
      auto a = std::make_shared<ProposeArgs>();
      a->action = "remove";
      auto* sub = propose->add_subcommand("remove", "Propose removing a member");
      sub->footer(
          "Its entries up to --last-seq keep their effects (its debts stay on the books); its "
          "later entries count for nothing, its peer sessions end, and its id can never be "
          "admitted again.");
      sub->add_option("FIRM", a->subject, "The member: name or public key")->required();
      sub->add_option("--last-seq", a->last_seq,
                      "Its last entry that counts (default: its leave entry if it left, else its "
                      "head as this node sees it)");
      common(sub, *a, true);
      sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return Propose(ctx, *a); }; });
    }
    {
      auto a = std::make_shared<ProposeArgs>();
      a->action = "threshold";
      auto* sub = propose->add_subcommand("threshold", "Propose a new threshold K");
      sub->add_option("K", a->subject, "Votes a proposal needs: n/2 < K <= n")->required();
      common(sub, *a, false);
      sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return Propose(ctx, *a); }; });
    }
  }
  {
    auto a = std::make_shared<VoteArgs>();
    auto* sub = app.add_subcommand("vote", "Vote for a proposal of the current epoch (operator)");
    sub->footer(
        "Only this firm's first vote in a round counts. The protocol has no \"no\" entry: --no "
        "writes nothing (not voting is the no); voting for another proposal of the same round "
        "is a no to this one.");
    sub->add_option("PROPOSAL", a->proposal, "64-hex proposal id (see: keiretsu proposals)")
        ->required();
    auto* yes = sub->add_flag("--yes", a->yes, "Vote for it (writes a vote entry)");
    auto* no = sub->add_flag("--no", a->no, "Do not vote for it (writes nothing; see below)");
    yes->excludes(no);
    AddRequestId(sub, a->request_id);
    sub->callback([&ctx, a] {
      if (!a->yes && !a->no) throw CLI::RequiredError("--yes or --no");
      ctx.run = [&ctx, a] { return Vote(ctx, *a); };
    });
  }
  {
    auto state = std::make_shared<std::string>();
    auto* sub = app.add_subcommand("proposals", "Proposals this node holds, with state and votes");
    sub->add_option("--state", *state, "Only those pending, passed, failed or void");
    sub->callback([&ctx, state] { ctx.run = [&ctx, state] { return Proposals(ctx, *state); }; });
  }
  {
    auto* sub = app.add_subcommand(
        "members", "Members of every epoch: status, keys, the current epoch and threshold");
    sub->callback([&ctx] { ctx.run = [&ctx] { return Members(ctx); }; });
  }
  {
    auto a = std::make_shared<LeaveArgs>();
    auto* sub =
        app.add_subcommand("leave", "This firm leaves the network (irreversible; operator)");
    sub->footer(
        "The leave is this firm's final entry: everything before it keeps its effects, nothing "
        "after counts. The firm stays a member, counted in the threshold, until a removal "
        "passes: members should propose it promptly (keiretsu propose remove FIRM --last-seq "
        "SEQ).");
    sub->add_flag("--confirm", a->confirm, "Required: yes, leave for good");
    sub->add_option("--memo", a->memo, "The reason, for people (up to 512 bytes)");
    AddRequestId(sub, a->request_id);
    sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return Leave(ctx, *a); }; });
  }
  {
    auto a = std::make_shared<RotateArgs>();
    auto* sub = app.add_subcommand(
        "rotate", "Rotate this firm's key to its pre-committed next key (operator)");
    sub->footer(
        "The node signs a rotate entry with the key in --next-key (the one the current key "
        "committed to, from keiretsu keygen --next) and signs with it from then on; the firm's "
        "id does not change. The new key commits to the key after it: give its digest "
        "(--after-digest, from keiretsu keygen --next on the offline machine), or let this "
        "command make it (written to --after-key-out, default NEXT_KEY.after, before anything "
        "is sent) and move that file off the node. Use TLS or a loopback address: the request "
        "carries the new secret key.");
    sub->add_option("--next-key", a->next_key, "The pre-committed next key's file")->required();
    sub->add_option("--after-digest", a->after_digest,
                    "Digest of the key after it (64 hex); default: make that key");
    sub->add_option("--after-key-out", a->after_out,
                    "Where to write the key after it when this command makes it (never "
                    "overwritten; default NEXT_KEY.after)");
    sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return Rotate(ctx, *a); }; });
  }
}

}  // namespace keiretsu::cli
