// WatchShares: counts of running Watch streams by token, role and in all.
#include "node/api/src/watch_shares.h"

#include <string>

namespace keiretsu::api {

WatchShares::WatchShares(const ApiServerOptions& options)
    : total_(options.max_watchers),
      per_token_(options.max_watchers_per_token),
      partners_(options.max_partner_watchers),
      non_operator_(options.max_watchers > options.operator_reserved_watchers
                        ? options.max_watchers - options.operator_reserved_watchers
                        : 0) {}

WatchShares::Ticket::~Ticket() {
  if (shares_ != nullptr) shares_->Release(who_);
}

Result<WatchShares::Ticket> WatchShares::Acquire(const Principal& who) {
  std::lock_guard lock(mu_);
  auto refuse = [](const std::string& what) {
    return ResourceExhausted(what + "; end a stream or try again later (docs/API.md \"Limits\")");
  };
  size_t& mine = per_token_running_[who.token];
  if (mine >= per_token_)
    return refuse("this token already holds " + std::to_string(mine) +
                  " Watch streams, the most one token may hold");
  if (who.role == Role::kPartner && running_partners_ >= partners_)
    return refuse("partner tokens together hold " + std::to_string(running_partners_) +
                  " Watch streams, the partners' share");
  if (who.role != Role::kOperator && running_non_operator_ >= non_operator_)
    return refuse("the Watch streams open to " + std::string(RoleName(who.role)) + " tokens (" +
                  std::to_string(non_operator_) +
                  ") are taken; the rest are kept for the operator");
  if (running_ >= total_)
    return refuse("this node runs " + std::to_string(running_) + " Watch streams, its maximum");
  ++mine;
  ++running_;
  if (who.role == Role::kPartner) ++running_partners_;
  if (who.role != Role::kOperator) ++running_non_operator_;
  return Ticket(this, who);
}

void WatchShares::Release(const Principal& who) {
  std::lock_guard lock(mu_);
  if (--per_token_running_[who.token] == 0) per_token_running_.erase(who.token);
  --running_;
  if (who.role == Role::kPartner) --running_partners_;
  if (who.role != Role::kOperator) --running_non_operator_;
}

}  // namespace keiretsu::api
