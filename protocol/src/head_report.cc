// Head reports: canonical statement, signing, verification (docs/PROTOCOL.md
// 13.2.8).
#include "keiretsu/protocol/head_report.h"

#include <algorithm>
#include <string>

namespace keiretsu::protocol {

HeadHeld HeldOf(uint64_t head_seq, uint64_t stop_seq) {
  if (stop_seq != 0) return HeadHeld::kStopped;
  return head_seq == 0 ? HeadHeld::kNone : HeadHeld::kOpen;
}

Bytes EncodeHeadReportStatement(const HeadReport& r) {
  Bytes out;
  out.reserve(kHeadReportStatementBytes);
  ByteWriter w(&out);
  w.U8(kHeadReportVersion);
  w.Raw(r.network.View());
  w.Raw(r.reporter.View());
  w.Raw(r.subject.View());
  w.Raw(ByteView(r.nonce));
  w.U8(static_cast<uint8_t>(r.held));
  w.U64(r.head_seq);
  w.Raw(r.head_id.View());
  w.U64(r.stop_seq);
  w.Raw(r.effective_id.View());
  return out;
}

Result<HeadReport> DecodeHeadReportStatement(ByteView statement) {
  if (statement.size() != kHeadReportStatementBytes)
    return InvalidArgument("head report statement of " + std::to_string(statement.size()) +
                           " bytes (must be " + std::to_string(kHeadReportStatementBytes) + ")");
  ByteReader r(statement);
  HeadReport out;
  const uint8_t version = r.U8();
  if (version != kHeadReportVersion)
    return InvalidArgument("head report version " + std::to_string(version) + " (must be 1)");
  out.network = NetworkId{r.H32()};
  out.reporter = PublicKey{r.H32()};
  out.subject = PublicKey{r.H32()};
  const Hash32 nonce = r.H32();
  std::copy(nonce.begin(), nonce.end(), out.nonce.begin());
  const uint8_t held = r.U8();
  out.head_seq = r.U64();
  out.head_id = EntryId{r.H32()};
  out.stop_seq = r.U64();
  out.effective_id = EntryId{r.H32()};
  if (!r.ok() || r.remaining() != 0) return InvalidArgument("head report statement malformed");
  if (held > 2) return InvalidArgument("head report held byte " + std::to_string(held));
  out.held = static_cast<HeadHeld>(held);
  if (out.reporter == out.subject)
    return InvalidArgument("head report by " + out.reporter.Short() + " about its own feed");
  switch (out.held) {
    case HeadHeld::kNone:
      if (out.head_seq != 0 || out.stop_seq != 0 || !out.head_id.IsZero() ||
          !out.effective_id.IsZero())
        return InvalidArgument("head report says none but carries a head or stop");
      break;
    case HeadHeld::kOpen:
      if (out.head_seq == 0 || out.stop_seq != 0 || out.head_id.IsZero() ||
          out.effective_id != out.head_id)
        return InvalidArgument(
            "open head report needs head_seq >= 1, a head id, stop_seq 0 and effective id = head "
            "id");
      break;
    case HeadHeld::kStopped: {
      if (out.stop_seq == 0) return InvalidArgument("stopped head report with stop_seq 0");
      const uint64_t effective = std::min(out.head_seq, out.stop_seq - 1);
      if ((effective == 0) != out.effective_id.IsZero())
        return InvalidArgument("stopped head report: effective id present exactly when not 0");
      if ((out.head_seq == 0) != out.head_id.IsZero())
        return InvalidArgument("stopped head report: head id present exactly when head_seq >= 1");
      break;
    }
  }
  return out;
}

Bytes HeadReportSigningMessage(ByteView statement) {
  Bytes m;
  m.reserve(kHeadReportSignatureTag.size() + statement.size());
  ByteWriter w(&m);
  w.Raw(kHeadReportSignatureTag);
  w.Raw(statement);
  return m;
}

crypto::Signature SignHeadReport(ByteView statement, const crypto::SigningKey& key) {
  return key.Sign(HeadReportSigningMessage(statement));
}

Result<HeadReport> VerifyHeadReport(ByteView statement, const crypto::Signature& signature,
                                    const NetworkId& network, const PublicKey& subject,
                                    const HeadNonce& nonce, const MemberKeyLookup& key_of) {
  KEIRETSU_ASSIGN_OR_RETURN(HeadReport r, DecodeHeadReportStatement(statement));
  if (r.network != network) return InvalidArgument("head report of another network");
  if (r.subject != subject)
    return InvalidArgument("head report about " + r.subject.Short() + ", not " + subject.Short());
  if (r.nonce != nonce) return InvalidArgument("head report answers another query (nonce)");
  const std::optional<PublicKey> key = key_of(r.reporter);
  if (!key)
    return PermissionDenied("head report by " + r.reporter.Short() +
                            ", not a current member known here");
  if (!crypto::Verify(*key, HeadReportSigningMessage(statement), signature))
    return PermissionDenied("head report by " + r.reporter.Short() +
                            ": signature does not verify under its key in force");
  return r;
}

}  // namespace keiretsu::protocol
