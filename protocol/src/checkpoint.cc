// Signed checkpoints: canonical statement, signing, parsing, verification
// (docs/audit.md "Checkpoints").
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
  w.Raw(kCheckpointMagic);
  w.U8(kCheckpointVersion);
  w.Raw(c.network.View());
  w.Raw(c.signer.View());
  w.U64(c.time_ms);
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
  Bytes msg;
  msg.reserve(kCheckpointSignatureTag.size() + statement.size());
  ByteWriter w(&msg);
  w.Raw(kCheckpointSignatureTag);
  w.Raw(statement);
  return msg;
}

Result<SignedCheckpoint> MakeCheckpoint(std::vector<FeedHeadSummary> summaries,
                                        const Genesis& genesis, const crypto::SigningKey& key,
                                        uint64_t time_ms) {
  if (!genesis.IsMember(key.public_key()))
    return PermissionDenied("key " + key.public_key().Short() +
                            " is not a member; it cannot sign a checkpoint");
  std::erase_if(summaries,
                [](const FeedHeadSummary& f) { return f.effective_seq == 0 && f.stop_seq == 0; });
  std::sort(summaries.begin(), summaries.end(),
            [](const FeedHeadSummary& a, const FeedHeadSummary& b) { return a.author < b.author; });
  for (size_t i = 0; i < summaries.size(); ++i) {
    const FeedHeadSummary& f = summaries[i];
    if (i > 0 && summaries[i - 1].author == f.author)
      return InvalidArgument("feed " + f.author.Short() + " is listed twice");
    if (!genesis.IsMember(f.author))
      return InvalidArgument("feed " + f.author.Short() + " is not a member's");
    KEIRETSU_RETURN_IF_ERROR(CheckFeed(f));
  }
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

Result<Checkpoint> ParseCheckpoint(ByteView statement) {
  ByteReader r(statement);
  if (statement.size() < kCheckpointFixedBytes ||
      AsChars(r.Raw(kCheckpointMagic.size())) != kCheckpointMagic)
    return InvalidArgument("not a keiretsu checkpoint statement (" +
                           std::to_string(statement.size()) + " bytes, bad magic or too short)");
  uint8_t version = r.U8();
  if (version != kCheckpointVersion)
    return InvalidArgument("unsupported checkpoint version " + std::to_string(version));
  Checkpoint c;
  c.network = NetworkId{r.H32()};
  c.signer = PublicKey{r.H32()};
  c.time_ms = r.U64();
  c.state_digest = Digest{r.H32()};
  uint32_t count = r.U32();
  if (count > kMaxMembers)
    return InvalidArgument("checkpoint lists " + std::to_string(count) + " feeds, more than " +
                           std::to_string(kMaxMembers) + " members can have");
  size_t want = kCheckpointFixedBytes + size_t{count} * kCheckpointFeedBytes;
  if (statement.size() != want)
    return InvalidArgument("checkpoint statement is " + std::to_string(statement.size()) +
                           " bytes; " + std::to_string(count) + " feeds need exactly " +
                           std::to_string(want));
  c.feeds.reserve(count);
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
  Digest recomputed = StateDigest(c.network, c.feeds);
  if (recomputed != c.state_digest)
    return InvalidArgument("checkpoint digest " + c.state_digest.Hex() +
                           " does not match its own feed list (which gives " + recomputed.Hex() +
                           ")");
  return c;
}

Result<Checkpoint> VerifyCheckpoint(ByteView statement, const PublicKey& signer, ByteView signature,
                                    const Genesis& genesis) {
  KEIRETSU_ASSIGN_OR_RETURN(Checkpoint c, ParseCheckpoint(statement));
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

}  // namespace keiretsu::protocol
