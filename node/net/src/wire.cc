#include "node/net/src/wire.h"

#include <string>

#include "keiretsu/net/limits.h"
#include "keiretsu/protocol/head_report.h"
#include "keiretsu/protocol/limits.h"

namespace keiretsu::net {

namespace {

Status CheckRecord(const std::string& record, const char* what) {
  if (record.empty() || record.size() > protocol::kMaxEntryBytes)
    return InvalidArgument(std::string(what) + " of " + std::to_string(record.size()) +
                           " bytes (must be 1.." + std::to_string(protocol::kMaxEntryBytes) + ")");
  return Status::Ok();
}

Status CheckHave(const v1::Have& have) {
  if (static_cast<size_t>(have.feeds_size()) > kMaxHaveFeeds)
    return InvalidArgument("Have lists " + std::to_string(have.feeds_size()) +
                           " feeds, more than " + std::to_string(kMaxHaveFeeds));
  if (have.listen_port() > 65535)
    return InvalidArgument("Have: listen_port " + std::to_string(have.listen_port()) +
                           " over 65535");
  for (const auto& f : have.feeds())
    if (f.author().size() != 32 || f.head_id().size() != 32 || f.effective_id().size() != 32)
      return InvalidArgument("Have: author, head_id and effective_id must be 32 bytes");
  return Status::Ok();
}

Status CheckEntries(const v1::Entries& e) {
  if (e.batch() == 0) return InvalidArgument("Entries: batch number 0");
  if (e.entries_size() == 0 || static_cast<size_t>(e.entries_size()) > kMaxBatchRecords)
    return InvalidArgument("Entries: " + std::to_string(e.entries_size()) +
                           " records (must be 1.." + std::to_string(kMaxBatchRecords) + ")");
  for (const auto& se : e.entries()) KEIRETSU_RETURN_IF_ERROR(CheckRecord(se.record(), "record"));
  return Status::Ok();
}

Status CheckEvidence(const v1::EvidenceBatch& b) {
  if (b.batch() == 0) return InvalidArgument("EvidenceBatch: batch number 0");
  if (b.items_size() == 0 || static_cast<size_t>(b.items_size()) > kMaxBatchEvidence)
    return InvalidArgument("EvidenceBatch: " + std::to_string(b.items_size()) +
                           " items (must be 1.." + std::to_string(kMaxBatchEvidence) + ")");
  for (const auto& ev : b.items()) {
    KEIRETSU_RETURN_IF_ERROR(CheckRecord(ev.first(), "evidence record"));
    if (ev.kind() == v1::Evidence::KIND_FORK) {
      KEIRETSU_RETURN_IF_ERROR(CheckRecord(ev.second(), "evidence record"));
    } else if (ev.kind() == v1::Evidence::KIND_INVALID_ENTRY) {
      if (!ev.second().empty())
        return InvalidArgument("invalid-entry evidence carries a second record");
    } else {
      return InvalidArgument("evidence of unknown kind " + std::to_string(ev.kind()));
    }
    if (ev.author().size() != 32) return InvalidArgument("evidence author must be 32 bytes");
    if (ev.reason().size() > 1024) return InvalidArgument("evidence reason over 1024 bytes");
  }
  return Status::Ok();
}

Status CheckHeadQuery(const v1::HeadQuery& q) {
  if (q.subject().size() != 32 || q.nonce().size() != 32)
    return InvalidArgument("HeadQuery: subject and nonce must be 32 bytes");
  return Status::Ok();
}

Status CheckHeadReports(const v1::HeadReports& m) {
  if (m.reports_size() == 0 || static_cast<size_t>(m.reports_size()) > kMaxHeadReportsPerMessage)
    return InvalidArgument("HeadReports: " + std::to_string(m.reports_size()) +
                           " reports (must be 1.." + std::to_string(kMaxHeadReportsPerMessage) +
                           ")");
  for (const auto& r : m.reports())
    if (r.statement().size() != protocol::kHeadReportStatementBytes || r.signature().size() != 64)
      return InvalidArgument("HeadReports: a statement must be " +
                             std::to_string(protocol::kHeadReportStatementBytes) +
                             " bytes and a signature 64");
  return Status::Ok();
}

}  // namespace

Result<v1::PeerMessage> DecodePeerMessage(ByteView plaintext) {
  if (plaintext.size() > kMaxMessageBytes)
    return InvalidArgument("peer message over " + std::to_string(kMaxMessageBytes) + " bytes");
  v1::PeerMessage m;
  if (!m.ParseFromArray(plaintext.data(), static_cast<int>(plaintext.size())))
    return InvalidArgument("peer message does not parse");
  switch (m.msg_case()) {
    case v1::PeerMessage::kHave: KEIRETSU_RETURN_IF_ERROR(CheckHave(m.have())); break;
    case v1::PeerMessage::kEntries: KEIRETSU_RETURN_IF_ERROR(CheckEntries(m.entries())); break;
    case v1::PeerMessage::kEvidence: KEIRETSU_RETURN_IF_ERROR(CheckEvidence(m.evidence())); break;
    case v1::PeerMessage::kAck:
    case v1::PeerMessage::kPing:
    case v1::PeerMessage::kPong: break;
    case v1::PeerMessage::kHeadQuery:
      KEIRETSU_RETURN_IF_ERROR(CheckHeadQuery(m.head_query()));
      break;
    case v1::PeerMessage::kHeadReports:
      KEIRETSU_RETURN_IF_ERROR(CheckHeadReports(m.head_reports()));
      break;
    case v1::PeerMessage::MSG_NOT_SET: return InvalidArgument("peer message of no known kind");
  }
  return m;
}

Result<Bytes> EncodePeerMessage(const v1::PeerMessage& m) {
  const size_t size = m.ByteSizeLong();
  if (size > kMaxMessageBytes)
    return Internal("peer message of " + std::to_string(size) + " bytes over the limit");
  Bytes out(size);
  if (!m.SerializeToArray(out.data(), static_cast<int>(size)))
    return Internal("peer message did not serialise");
  return out;
}

}  // namespace keiretsu::net
