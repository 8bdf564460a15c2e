// Signed checkpoints: canonical statement, signing, parsing, verification
// (docs/PROTOCOL.md 15).
#include "keiretsu/protocol/checkpoint.h"

#include <algorithm>

#include "keiretsu/protocol/limits.h"

namespace keiretsu::protocol {
namespace {

// One feed's claim is well-formed on its own: an effective id exactly when
// something is effective, and nothing effective at or after the stop.
Status CheckFeed(const FeedHeadSummary& f) {
  const std::string who = "feed " + f.author.Short();
  if (f.effective_seq == 0 && f.stop_seq == 0)
    return InvalidArgument(who + " lists nothing effective and no stop; such feeds are omitted");
  if ((f.effective_seq == 0) != f.effective_id.IsZero())
    return InvalidArgument(who + (f.effective_seq == 0
                                      ? " has an effective id but no effective entry"
                                      : " has effective entries but a zero effective id"));
  if (f.stop_seq != 0 && f.effective_seq >= f.stop_seq)
    return InvalidArgument(who + " claims effective seq " + std::to_string(f.effective_seq) +
                           " at or after its stop seq " + std::to_string(f.stop_seq));
  return Status::Ok();
}

// Sorts `summaries` by author, dropping feeds the digest skips, and checks
// each is well-formed, listed once and of a member (`is_member`).
template <typename IsMember>
Status NormalizeFeeds(std::vector<FeedHeadSummary>& summaries, IsMember is_member,
                      std::string_view member_word) {
  std::erase_if(summaries,
                [](const FeedHeadSummary& f) { return f.effective_seq == 0 && f.stop_seq == 0; });
  std::sort(summaries.begin(), summaries.end(),
            [](const FeedHeadSummary& a, const FeedHeadSummary& b) { return a.author < b.author; });
  for (size_t i = 0; i < summaries.size(); ++i) {
    const FeedHeadSummary& f = summaries[i];
    if (i > 0 && summaries[i - 1].author == f.author)
      return InvalidArgument("feed " + f.author.Short() + " is listed twice");
    if (!is_member(f.author))
      return InvalidArgument("feed " + f.author.Short() + " is not " + std::string(member_word));
    KEIRETSU_RETURN_IF_ERROR(CheckFeed(f));
  }
  return Status::Ok();
}

// The key `chain` holds in force at `seq` (the inception key at seq 0).
const PublicKey* KeyInForce(const std::vector<KeySpan>& chain, uint64_t seq) {
  const PublicKey* key = nullptr;
  for (const KeySpan& k : chain)
    if (key == nullptr || k.from_seq <= seq) key = &k.key;
  return key;
}

uint64_t HeadOf(const std::vector<FeedHeadSummary>& feeds, const PublicKey& firm) {
  for (const FeedHeadSummary& f : feeds)
    if (f.author == firm) return f.effective_seq;
  return 0;
}

Digest DigestOf(const Checkpoint& c) {
  return c.version == kCheckpointVersionV2
             ? StateDigestV2(c.network, c.epoch, c.epoch_hash, c.feeds)
             : StateDigest(c.network, c.feeds);
}

}  // namespace

const FeedHeadSummary* Checkpoint::Find(const PublicKey& author) const {
  auto it =
      std::lower_bound(feeds.begin(), feeds.end(), author,
                       [](const FeedHeadSummary& f, const PublicKey& a) { return f.author < a; });
  return it != feeds.end() && it->author == author ? &*it : nullptr;
}

Bytes EncodeCheckpointStatement(const Checkpoint& c) {
  Bytes out;
  out.reserve(kCheckpointFixedBytes + c.feeds.size() * kCheckpointFeedBytes);
  ByteWriter w(&out);
  const bool v2 = c.version == kCheckpointVersionV2;
  w.Raw(kCheckpointMagic);
  w.U8(v2 ? kCheckpointVersionV2 : kCheckpointVersion);
  w.Raw(c.network.View());
  w.Raw(c.signer.View());
  w.U64(c.time_ms);
  if (v2) {
    w.U64(c.epoch);
    w.Raw(c.epoch_hash.View());
  }
  w.Raw(c.state_digest.View());
  w.U32(static_cast<uint32_t>(c.feeds.size()));
  for (const FeedHeadSummary& f : c.feeds) {
    w.Raw(f.author.View());
    w.U64(f.effective_seq);
    w.Raw(f.effective_id.View());
    w.U64(f.stop_seq);
  }
  return out;
}

Bytes CheckpointSigningMessage(ByteView statement) {
  const bool v2 = statement.size() > kCheckpointMagic.size() &&
                  statement[kCheckpointMagic.size()] == kCheckpointVersionV2;
  const std::string_view tag = v2 ? kCheckpointSignatureTagV2 : kCheckpointSignatureTag;
  Bytes msg;
  msg.reserve(tag.size() + statement.size());
  ByteWriter w(&msg);
  w.Raw(tag);
  w.Raw(statement);
  return msg;
}

Result<SignedCheckpoint> MakeCheckpoint(std::vector<FeedHeadSummary> summaries,
                                        const Genesis& genesis, const crypto::SigningKey& key,
                                        uint64_t time_ms) {
  if (!genesis.IsMember(key.public_key()))
    return PermissionDenied("key " + key.public_key().Short() +
                            " is not a member; it cannot sign a checkpoint");
  KEIRETSU_RETURN_IF_ERROR(NormalizeFeeds(
      summaries, [&](const PublicKey& a) { return genesis.IsMember(a); }, "a member's"));
  Checkpoint c;
  c.network = genesis.network_id();
  c.signer = key.public_key();
  c.time_ms = time_ms;
  c.state_digest = StateDigest(c.network, summaries);
  c.feeds = std::move(summaries);
  SignedCheckpoint out;
  out.statement = EncodeCheckpointStatement(c);
  out.signer = c.signer;
  out.signature = key.Sign(CheckpointSigningMessage(out.statement));
  return out;
}

bool NeedsCheckpointV2(const CheckpointScope& scope) {
  if (scope.epoch >= 1) return true;
  return std::any_of(scope.key_chains.begin(), scope.key_chains.end(),
                     [](const auto& chain) { return chain.second.size() > 1; });
}

Result<SignedCheckpoint> MakeCheckpoint(std::vector<FeedHeadSummary> summaries,
                                        const Genesis& genesis, const CheckpointScope& scope,
                                        const crypto::SigningKey& key, uint64_t time_ms) {
  if (!NeedsCheckpointV2(scope)) return MakeCheckpoint(std::move(summaries), genesis, key, time_ms);
  auto member = [&](const PublicKey& a) {
    return std::any_of(scope.members.begin(), scope.members.end(),
                       [&](const EpochMember& m) { return m.id == a; });
  };
  KEIRETSU_RETURN_IF_ERROR(NormalizeFeeds(summaries, member, "a member's of some epoch"));
  // The signer: the active member whose key in force at its head is `key`.
  const EpochMember* signer = nullptr;
  for (const EpochMember& m : scope.members) {
    if (m.removed) continue;
    auto chain = scope.key_chains.find(m.id);
    const PublicKey* in_force = chain == scope.key_chains.end()
                                    ? &m.id
                                    : KeyInForce(chain->second, HeadOf(summaries, m.id));
    if (in_force != nullptr && *in_force == key.public_key()) signer = &m;
  }
  if (signer == nullptr)
    return PermissionDenied("key " + key.public_key().Short() +
                            " is no active member's key in force; it cannot sign a checkpoint");
  Checkpoint c;
  c.version = kCheckpointVersionV2;
  c.network = genesis.network_id();
  c.signer = signer->id;
  c.time_ms = time_ms;
  c.epoch = scope.epoch;
  c.epoch_hash = scope.epoch_hash;
  c.feeds = std::move(summaries);
  c.state_digest = DigestOf(c);
  SignedCheckpoint out;
  out.statement = EncodeCheckpointStatement(c);
  out.signer = c.signer;
  out.signature = key.Sign(CheckpointSigningMessage(out.statement));
  return out;
}

Result<Checkpoint> ParseCheckpoint(ByteView statement) {
  ByteReader r(statement);
  if (statement.size() < kCheckpointFixedBytes ||
      AsChars(r.Raw(kCheckpointMagic.size())) != kCheckpointMagic)
    return InvalidArgument("not a keiretsu checkpoint statement (" +
                           std::to_string(statement.size()) + " bytes, bad magic or too short)");
  Checkpoint c;
  c.version = r.U8();
  if (c.version != kCheckpointVersion && c.version != kCheckpointVersionV2)
    return InvalidArgument("unsupported checkpoint version " + std::to_string(c.version));
  const bool v2 = c.version == kCheckpointVersionV2;
  const size_t fixed = v2 ? kCheckpointV2FixedBytes : kCheckpointFixedBytes;
  if (statement.size() < fixed)
    return InvalidArgument("checkpoint statement is " + std::to_string(statement.size()) +
                           " bytes; version 2 needs at least " + std::to_string(fixed));
  c.network = NetworkId{r.H32()};
  c.signer = PublicKey{r.H32()};
  c.time_ms = r.U64();
  if (v2) {
    c.epoch = r.U64();
    c.epoch_hash = Digest{r.H32()};
  }
  c.state_digest = Digest{r.H32()};
  uint32_t count = r.U32();
  // Version 2 lists every member of some epoch, which may outnumber the
  // members of any one epoch; its exact length bounds it instead.
  if (!v2 && count > kMaxMembers)
    return InvalidArgument("checkpoint lists " + std::to_string(count) + " feeds, more than " +
                           std::to_string(kMaxMembers) + " members can have");
  size_t want = fixed + size_t{count} * kCheckpointFeedBytes;
  if (statement.size() != want)
    return InvalidArgument("checkpoint statement is " + std::to_string(statement.size()) +
                           " bytes; " + std::to_string(count) + " feeds need exactly " +
                           std::to_string(want));
  c.feeds.reserve(std::min<size_t>(count, (statement.size() - fixed) / kCheckpointFeedBytes));
  for (uint32_t i = 0; i < count; ++i) {
    FeedHeadSummary f;
    f.author = PublicKey{r.H32()};
    f.effective_seq = r.U64();
    f.effective_id = EntryId{r.H32()};
    f.stop_seq = r.U64();
    if (!c.feeds.empty() && !(c.feeds.back().author < f.author))
      return InvalidArgument("checkpoint feeds are not sorted by author, or one is listed twice (" +
                             f.author.Short() + ")");
    KEIRETSU_RETURN_IF_ERROR(CheckFeed(f));
    c.feeds.push_back(f);
  }
  if (!r.ok() || r.remaining() != 0) return Internal("checkpoint length check failed");
  Digest recomputed = DigestOf(c);
  if (recomputed != c.state_digest)
    return InvalidArgument("checkpoint digest " + c.state_digest.Hex() +
                           " does not match its own feed list (which gives " + recomputed.Hex() +
                           ")");
  return c;
}

Result<Checkpoint> VerifyCheckpoint(ByteView statement, const PublicKey& signer, ByteView signature,
                                    const Genesis& genesis) {
  KEIRETSU_ASSIGN_OR_RETURN(Checkpoint c, ParseCheckpoint(statement));
  if (c.version != kCheckpointVersion)
    return InvalidArgument("checkpoint is version " + std::to_string(c.version) +
                           "; its epoch and key chains are needed to verify it");
  if (c.signer != signer)
    return InvalidArgument("checkpoint names signer " + c.signer.Short() +
                           " but is presented as signed by " + signer.Short());
  if (c.network != genesis.network_id())
    return InvalidArgument("checkpoint is for network " + c.network.Short() + ", not " +
                           genesis.network_name() + " (" + genesis.network_id().Short() + ")");
  if (!genesis.IsMember(c.signer))
    return InvalidArgument("checkpoint signer " + c.signer.Short() + " is not a member");
  for (const FeedHeadSummary& f : c.feeds)
    if (!genesis.IsMember(f.author))
      return InvalidArgument("checkpoint lists feed " + f.author.Short() + " of a non-member");
  if (signature.size() != 64)
    return InvalidArgument("checkpoint signature is " + std::to_string(signature.size()) +
                           " bytes, not 64");
  crypto::Signature sig;
  std::copy(signature.begin(), signature.end(), sig.begin());
  if (!crypto::Verify(c.signer, CheckpointSigningMessage(statement), sig))
    return Unauthenticated("checkpoint signature by " + c.signer.Short() + " does not verify");
  return c;
}

Result<Checkpoint> VerifyCheckpointV2(ByteView statement, const PublicKey& signer,
                                      ByteView signature, const Genesis& genesis,
                                      std::span<const Epoch> epochs,
                                      const KeyChainLookup& key_chain) {
  KEIRETSU_ASSIGN_OR_RETURN(Checkpoint c, ParseCheckpoint(statement));
  if (c.version == kCheckpointVersion) {
    KEIRETSU_ASSIGN_OR_RETURN(Checkpoint v1,
                              VerifyCheckpoint(statement, signer, signature, genesis));
    // A version-1 statement is signed by the inception key. Once the
    // verifier's chain shows that key retired, its signature proves nothing:
    // a rotation is how a firm disowns a stolen key.
    const std::vector<KeySpan> chain = key_chain(v1.signer);
    if (chain.size() > 1)
      return Unauthenticated("checkpoint is a version-1 statement signed by " + v1.signer.Short() +
                             "'s inception key, which this verifier's key "
                             "chain shows retired at seq " +
                             std::to_string(chain[1].from_seq) +
                             " (a rotation); only a version-2 statement signed by the key in "
                             "force counts");
    return v1;
  }
  if (c.signer != signer)
    return InvalidArgument("checkpoint names signer " + c.signer.Short() +
                           " but is presented as signed by " + signer.Short());
  if (c.network != genesis.network_id())
    return InvalidArgument("checkpoint is for network " + c.network.Short() + ", not " +
                           genesis.network_name() + " (" + genesis.network_id().Short() + ")");
  if (c.epoch >= epochs.size())
    return InvalidArgument("checkpoint is made in epoch " + std::to_string(c.epoch) +
                           ", which this verifier's epoch chain does not reach (it ends at " +
                           std::to_string(epochs.empty() ? 0 : epochs.size() - 1) + ")");
  const Epoch& e = epochs[c.epoch];
  if (e.hash != c.epoch_hash)
    return InvalidArgument("checkpoint names epoch " + std::to_string(c.epoch) + " with hash " +
                           c.epoch_hash.Short() + "; this verifier's epoch " +
                           std::to_string(c.epoch) + " has hash " + e.hash.Short());
  if (!e.IsActive(c.signer))
    return InvalidArgument("checkpoint signer " + c.signer.Short() +
                           " is not an active member of epoch " + std::to_string(c.epoch));
  for (const FeedHeadSummary& f : c.feeds)
    if (e.Find(f.author) == nullptr)
      return InvalidArgument("checkpoint lists feed " + f.author.Short() +
                             " of no member of epoch " + std::to_string(c.epoch));
  if (signature.size() != 64)
    return InvalidArgument("checkpoint signature is " + std::to_string(signature.size()) +
                           " bytes, not 64");
  const std::vector<KeySpan> chain = key_chain(c.signer);
  const uint64_t head = HeadOf(c.feeds, c.signer);
  const PublicKey* key = KeyInForce(chain, head);
  const PublicKey in_force = key != nullptr ? *key : c.signer;
  crypto::Signature sig;
  std::copy(signature.begin(), signature.end(), sig.begin());
  if (!crypto::Verify(in_force, CheckpointSigningMessage(statement), sig))
    return Unauthenticated("checkpoint signature does not verify under " + in_force.Short() + ", " +
                           c.signer.Short() + "'s key in force at its seq " + std::to_string(head));
  return c;
}

}  // namespace keiretsu::protocol
