// Private: byte layouts of keys and values in the column families.
// Big-endian integers so RocksDB's bytewise order is numeric order.
#pragma once

#include <string>

#include "keiretsu/storage/store.h"

namespace keiretsu::storage::codec {

std::string FeedKey(const PublicKey& author, uint64_t seq);  // author|seq
std::string AuthorPrefix(const PublicKey& author);
std::string PendingKey(const PublicKey& author, uint64_t seq, const EntryId& id);
std::string ClaimKey(const PublicKey& debtor, const EntryId& claim);  // debtor|claim
std::string CursorKey(uint64_t cursor);                               // 8 bytes BE
uint64_t ParseCursorKey(std::string_view key);                        // 0 if malformed
std::string BalanceKey(const PublicKey& firm, const PublicKey& other, const std::string& unit);

bool ParseFeedKey(std::string_view key, PublicKey* author, uint64_t* seq);
bool ParsePendingKey(std::string_view key, PublicKey* author, uint64_t* seq, EntryId* id);
bool ParseBalanceKey(std::string_view key, PublicKey* firm, PublicKey* other, std::string* unit);

std::string EncodeLocation(const PublicKey& author, uint64_t seq);
std::string EncodeFeedState(const FeedState& s);
bool DecodeFeedState(std::string_view v, FeedState* s);
std::string EncodeAmount(Amount128 v);  // 16 bytes, two's complement, big-endian
bool DecodeAmount(std::string_view v, Amount128* out);
std::string EncodeEvidence(const Evidence& e);
bool DecodeEvidence(std::string_view key, std::string_view v, Evidence* e);
std::string EncodeRequestRecord(const RequestRecord& r);  // entry | fingerprint | ms (72 bytes)
bool DecodeRequestRecord(std::string_view v, RequestRecord* r);

}  // namespace keiretsu::storage::codec
