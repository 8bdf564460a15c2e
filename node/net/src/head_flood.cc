#include "node/net/src/head_flood.h"

#include <algorithm>

namespace keiretsu::net {

FloodItem QueryItem(const PublicKey& subject, const protocol::HeadNonce& nonce) {
  FloodItem f;
  f.subject = subject;
  f.nonce = nonce;
  return f;
}

protocol::HeadReport ReportOnFeed(const NetworkId& network, const PublicKey& reporter,
                                  const PublicKey& subject, const protocol::HeadNonce& nonce,
                                  const storage::FeedState* held) {
  protocol::HeadReport r;
  r.network = network;
  r.reporter = reporter;
  r.subject = subject;
  r.nonce = nonce;
  const storage::FeedState st = held ? *held : storage::FeedState{};
  r.held = protocol::HeldOf(st.head_seq, st.stop_seq);
  if (r.held != protocol::HeadHeld::kNone) {
    r.head_seq = st.head_seq;
    r.head_id = st.head_id;
    r.stop_seq = st.stop_seq;
    r.effective_id = st.effective_id;
  }
  return r;
}

FloodItem ReportItem(const protocol::HeadReport& report, Bytes statement,
                     const crypto::Signature& signature) {
  FloodItem f;
  f.is_report = true;
  f.subject = report.subject;
  f.nonce = report.nonce;
  f.statement = std::move(statement);
  f.signature = signature;
  return f;
}

FloodItem HeadFlood::StartOwnQuery(const protocol::HeadNonce& nonce) {
  own_nonce_ = nonce;
  return QueryItem(self_, nonce);
}

bool HeadFlood::OnQuery(const PublicKey& from, const PublicKey& subject,
                        const protocol::HeadNonce& nonce) {
  if (subject == self_) return false;  // our own, echoed back (or forged: never answered)
  Query& q = queries_[subject];
  if (std::find(q.seen.begin(), q.seen.end(), nonce) != q.seen.end()) return false;
  if (q.seen.size() == kRecentNonces) q.seen.pop_front();
  q.seen.push_back(nonce);
  q.nonce = nonce;
  q.upstream = from;
  q.reports.clear();
  return true;
}

std::optional<PublicKey> HeadFlood::Upstream(const PublicKey& subject) const {
  auto it = queries_.find(subject);
  if (it == queries_.end()) return std::nullopt;
  return it->second.upstream;
}

std::optional<protocol::HeadNonce> HeadFlood::LatestNonce(const PublicKey& subject) const {
  auto it = queries_.find(subject);
  if (it == queries_.end()) return std::nullopt;
  return it->second.nonce;
}

bool HeadFlood::AddReport(const protocol::HeadReport& report, Bytes statement,
                          const crypto::Signature& signature) {
  auto it = queries_.find(report.subject);
  if (it == queries_.end() || it->second.nonce != report.nonce) return false;
  return it->second.reports
      .emplace(report.reporter, ReportItem(report, std::move(statement), signature))
      .second;
}

std::vector<FloodItem> HeadFlood::Backlog(const PublicKey& peer) const {
  std::vector<FloodItem> out;
  if (own_nonce_) out.push_back(QueryItem(self_, *own_nonce_));
  for (const auto& [subject, q] : queries_) {
    if (subject != peer && q.upstream != peer) {
      out.push_back(QueryItem(subject, q.nonce));
      continue;
    }
    for (const auto& [reporter, item] : q.reports) out.push_back(item);
  }
  return out;
}

size_t HeadFlood::size() const {
  size_t n = own_nonce_ ? 1 : 0;
  for (const auto& [subject, q] : queries_) n += 1 + q.reports.size();
  return n;
}

}  // namespace keiretsu::net
