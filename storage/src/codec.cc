#include "storage/src/codec.h"

#include <cstring>

namespace keiretsu::storage::codec {
namespace {

void AppendU64(std::string* s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t ReadU64(std::string_view s) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<uint8_t>(s[static_cast<size_t>(i)]);
  return v;
}
void Append32(std::string* s, const Hash32& h) {
  s->append(reinterpret_cast<const char*>(h.data()), h.size());
}
Hash32 Read32(std::string_view s) {
  Hash32 h;
  std::memcpy(h.data(), s.data(), 32);
  return h;
}

}  // namespace

std::string FeedKey(const PublicKey& author, uint64_t seq) {
  std::string k = AuthorPrefix(author);
  AppendU64(&k, seq);
  return k;
}

std::string AuthorPrefix(const PublicKey& author) {
  std::string k;
  Append32(&k, author.bytes);
  return k;
}

std::string PendingKey(const PublicKey& author, uint64_t seq, const EntryId& id) {
  std::string k = FeedKey(author, seq);
  Append32(&k, id.bytes);
  return k;
}

std::string ClaimKey(const PublicKey& debtor, const EntryId& claim) {
  std::string k = AuthorPrefix(debtor);
  Append32(&k, claim.bytes);
  return k;
}

std::string CursorKey(uint64_t cursor) {
  std::string k;
  AppendU64(&k, cursor);
  return k;
}

uint64_t ParseCursorKey(std::string_view key) {
  return key.size() == 8 ? ReadU64(key) : 0;
}

std::string BalanceKey(const PublicKey& firm, const PublicKey& other, const std::string& unit) {
  std::string k;
  Append32(&k, firm.bytes);
  Append32(&k, other.bytes);
  k += unit;
  return k;
}

bool ParseFeedKey(std::string_view key, PublicKey* author, uint64_t* seq) {
  if (key.size() != 40) return false;
  author->bytes = Read32(key);
  *seq = ReadU64(key.substr(32));
  return true;
}

bool ParsePendingKey(std::string_view key, PublicKey* author, uint64_t* seq, EntryId* id) {
  if (key.size() != 72) return false;
  author->bytes = Read32(key);
  *seq = ReadU64(key.substr(32));
  id->bytes = Read32(key.substr(40));
  return true;
}

bool ParseBalanceKey(std::string_view key, PublicKey* firm, PublicKey* other, std::string* unit) {
  if (key.size() <= 64) return false;
  firm->bytes = Read32(key);
  other->bytes = Read32(key.substr(32));
  *unit = std::string(key.substr(64));
  return true;
}

std::string EncodeLocation(const PublicKey& author, uint64_t seq) {
  return FeedKey(author, seq);
}

// head_seq | head_id | stop_seq | stop_reason | effective_id  (81 bytes)
std::string EncodeFeedState(const FeedState& s) {
  std::string v;
  AppendU64(&v, s.head_seq);
  Append32(&v, s.head_id.bytes);
  AppendU64(&v, s.stop_seq);
  v.push_back(static_cast<char>(s.stop_reason));
  Append32(&v, s.effective_id.bytes);
  return v;
}

bool DecodeFeedState(std::string_view v, FeedState* s) {
  if (v.size() != 81) return false;
  s->head_seq = ReadU64(v);
  s->head_id.bytes = Read32(v.substr(8));
  s->stop_seq = ReadU64(v.substr(40));
  auto reason = static_cast<uint8_t>(v[48]);
  if (reason > 2) return false;
  s->stop_reason = static_cast<StopReason>(reason);
  s->effective_id.bytes = Read32(v.substr(49));
  return true;
}

std::string EncodeRequestRecord(const RequestRecord& r) {
  std::string v;
  Append32(&v, r.entry.bytes);
  Append32(&v, r.fingerprint);
  AppendU64(&v, r.created_unix_ms);
  return v;
}

bool DecodeRequestRecord(std::string_view v, RequestRecord* r) {
  if (v.size() != 72) return false;
  r->entry.bytes = Read32(v);
  r->fingerprint = Read32(v.substr(32));
  r->created_unix_ms = ReadU64(v.substr(64));
  return true;
}

std::string EncodeAmount(Amount128 v) {
  auto u = static_cast<unsigned __int128>(v);
  std::string s(16, '\0');
  for (int i = 15; i >= 0; --i) {
    s[static_cast<size_t>(i)] = static_cast<char>(static_cast<uint8_t>(u));
    u >>= 8;
  }
  return s;
}

bool DecodeAmount(std::string_view v, Amount128* out) {
  if (v.size() != 16) return false;
  unsigned __int128 u = 0;
  for (char c : v) u = u << 8 | static_cast<uint8_t>(c);
  *out = static_cast<Amount128>(u);
  return true;
}

// kind | u32 len | first | u32 len | second | u32 len | reason
std::string EncodeEvidence(const Evidence& e) {
  std::string v;
  v.push_back(static_cast<char>(e.kind));
  auto put = [&](std::string_view part) {
    uint32_t n = static_cast<uint32_t>(part.size());
    for (int i = 3; i >= 0; --i) v.push_back(static_cast<char>(n >> (8 * i)));
    v.append(part);
  };
  put(AsChars(e.first));
  put(AsChars(e.second));
  put(e.reason);
  return v;
}

bool DecodeEvidence(std::string_view key, std::string_view v, Evidence* e) {
  if (!ParseFeedKey(key, &e->author, &e->seq) || v.empty()) return false;
  auto kind = static_cast<uint8_t>(v[0]);
  if (kind != 1 && kind != 2) return false;
  e->kind = static_cast<StopReason>(kind);
  size_t pos = 1;
  auto get = [&](std::string* out) {
    if (v.size() - pos < 4) return false;
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n = n << 8 | static_cast<uint8_t>(v[pos++]);
    if (v.size() - pos < n) return false;
    *out = std::string(v.substr(pos, n));
    pos += n;
    return true;
  };
  std::string first, second;
  if (!get(&first) || !get(&second) || !get(&e->reason) || pos != v.size()) return false;
  e->first.assign(first.begin(), first.end());
  e->second.assign(second.begin(), second.end());
  return true;
}

}  // namespace keiretsu::storage::codec
