// Stratum 2 of protocol v2: the epoch chain (docs/PROTOCOL.md 19.8-19.10).
// A pure function of epoch 0 and the governance records in the members'
// feed-local prefixes: who is a member, from which epoch, with which
// inception commitment, where a removed member's feed is frozen, and the
// state of every proposal.
//
// Pure and thread-safe; nothing here touches storage. The ledger keeps its
// own incremental view and must always agree with ComputeEpochs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "keiretsu/common/id32.h"
#include "keiretsu/protocol/genesis.h"
#include "keiretsu/protocol/governance.h"
#include "keiretsu/protocol/key_chain.h"

namespace keiretsu::protocol {

struct EpochMember {
  PublicKey id;
  std::string name;
  Digest next_key_digest;  // the inception commitment's digest
  uint64_t since_epoch = 0;
  bool removed = false;
  uint64_t removed_in_epoch = 0;  // set when removed
  uint64_t last_seq = 0;          // set when removed: entries above count nothing

  InceptionCommitment inception() const { return {id, next_key_digest}; }
};

struct Epoch {
  uint64_t number = 0;
  Digest hash;
  uint16_t threshold = 0;
  std::vector<EpochMember> members;  // everyone ever admitted so far, by id
  EntryId passed;                    // the proposal that made it; zero for epoch 0

  size_t ActiveCount() const;
  const EpochMember* Find(const PublicKey& id) const;
  bool IsActive(const PublicKey& id) const;
};

// Epoch 0 from the genesis (18.8): its members and threshold.
struct EpochZero {
  NetworkId network;
  uint16_t threshold = 0;
  std::vector<EpochMember> members;  // since_epoch 0, not removed
};

// Epoch 0 of `genesis` (version 1 or 2).
EpochZero EpochZeroOf(const Genesis& genesis);

// A governance record in a member's feed-local prefix.
struct GovernanceRecord {
  uint64_t seq = 0;
  EntryId id;
  std::variant<Propose, Vote> body;
};

// What the epoch chain needs of one member's feed.
struct GovernanceFeed {
  std::vector<GovernanceRecord> records;  // in its governance prefix, any order
  bool open = true;                       // neither stopped nor left
};

// Gives the governance view of a member's feed once its inception
// commitment is known. Called once per member, in epoch order.
class GovernanceSource {
 public:
  virtual ~GovernanceSource() = default;
  virtual GovernanceFeed FeedOf(const InceptionCommitment& member) = 0;
};

enum class ProposalState : uint8_t { kPending, kPassed, kFailed, kVoid };
std::string_view ProposalStateName(ProposalState state);  // "pending", ...

struct ProposalInfo {
  EntryId id;
  PublicKey author;
  uint64_t seq = 0;
  Propose body;
  std::optional<uint64_t> epoch;  // the epoch whose hash it names, if any
  ProposalState state = ProposalState::kVoid;
  uint32_t supporters = 0;  // ballots for it (in its epoch), when it has one
  std::string why;          // for void and failed: why, for people
};

struct EpochHistory {
  std::vector<Epoch> epochs;                  // epochs[0] from the genesis; back() is current
  std::map<EntryId, ProposalInfo> proposals;  // every propose in a member's prefix

  const Epoch& current() const { return epochs.back(); }
  // Every id that is a member of some epoch (removed ones included).
  bool EverMember(const PublicKey& id) const { return current().Find(id) != nullptr; }
};

// Why `proposal` is not valid against epoch `e` (19.8: an admit of a firm
// or name that is or was a member, a remove of a firm not active, a
// threshold not in (n'/2, n']), or empty when it is.
std::string InvalidAgainst(const Propose& proposal, const Epoch& e);

// Computes the chain by PROTOCOL.md 19.8-19.10.
EpochHistory ComputeEpochs(const EpochZero& zero, GovernanceSource& source);

}  // namespace keiretsu::protocol
