// Private: each role's and each token's share of the Watch streams.
//
// A Watch stream holds one server thread for as long as it runs, so
// streams are the scarce resource one caller could take from all others.
// Every stream needs a ticket from here, refused (kResourceExhausted, with
// a message that says which share is used up) when:
//   - the token already holds max_watchers_per_token streams;
//   - the caller is a partner and all partner tokens together hold
//     max_partner_watchers;
//   - the caller is not the operator and the streams not reserved for the
//     operator (max_watchers - operator_reserved_watchers) are taken;
//   - max_watchers streams run in all.
// So no partner or auditor, however many streams it opens, can take the
// operator's reserve, and no single token can take a whole role's share.
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>

#include "keiretsu/api/access.h"
#include "keiretsu/api/server.h"
#include "keiretsu/common/status.h"

namespace keiretsu::api {

class WatchShares {
 public:
  explicit WatchShares(const ApiServerOptions& options);

  // Held for the life of one stream; releases its share when destroyed.
  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept : shares_(other.shares_), who_(other.who_) {
      other.shares_ = nullptr;
    }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket();

   private:
    friend class WatchShares;
    Ticket(WatchShares* shares, const Principal& who) : shares_(shares), who_(who) {}
    WatchShares* shares_;
    Principal who_;
  };

  // Errors: kResourceExhausted naming the share that is used up.
  Result<Ticket> Acquire(const Principal& who);

 private:
  void Release(const Principal& who);

  const size_t total_;
  const size_t per_token_;
  const size_t partners_;
  const size_t non_operator_;
  std::mutex mu_;
  size_t running_ = 0;                          // GUARDED_BY(mu_)
  size_t running_partners_ = 0;                 // GUARDED_BY(mu_)
  size_t running_non_operator_ = 0;             // GUARDED_BY(mu_)
  std::map<size_t, size_t> per_token_running_;  // GUARDED_BY(mu_): by token index
};

}  // namespace keiretsu::api
