// Closed- and open-loop load on a node's gRPC API from many client threads,
// each with its own channel (its own TCP connection), as independent
// partners would connect. Latency is measured per call on the client.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "keiretsu/v1/api.grpc.pb.h"

namespace keiretsu::bench {

// One client's connection: a channel and the stubs on it.
struct ApiClient {
  explicit ApiClient(const std::string& address, int id = 0);
  std::unique_ptr<keiretsu::v1::Ledger::Stub> ledger;
  std::unique_ptr<grpc::health::v1::Health::Stub> health;
};

// A ClientContext carrying the benchmark token, with a 30 s deadline.
std::unique_ptr<grpc::ClientContext> Context();

// The p-th percentile (p in [0, 100], nearest rank) of `sorted`; 0 when
// it is empty.
double PercentileOf(const std::vector<double>& sorted, double p);

struct LoadResult {
  uint64_t calls = 0;  // completed OK within the measured window
  uint64_t errors = 0;
  std::string first_error;
  double seconds = 0;                // the measured window
  std::vector<double> latencies_ms;  // of the OK calls, sorted

  double rate() const { return seconds > 0 ? static_cast<double>(calls) / seconds : 0; }
  double Percentile(double p) const { return PercentileOf(latencies_ms, p); }
};

// One call by client `client`; its `n`th. Returns the call's status.
using Call = std::function<grpc::Status(ApiClient& client, int index, uint64_t n)>;

// `clients` threads call back to back for `warmup` (not counted) and then
// `measure`.
LoadResult ClosedLoop(const std::string& address, int clients, std::chrono::milliseconds warmup,
                      std::chrono::milliseconds measure, const Call& call);

// The same over connections made once by the caller (one thread each), so
// several loads can share them: what is compared then differs only in the
// call, not in connection set-up or count.
using ClientPool = std::vector<std::unique_ptr<ApiClient>>;
ClientPool Connect(const std::string& address, int clients);
LoadResult ClosedLoop(ClientPool& pool, std::chrono::milliseconds warmup,
                      std::chrono::milliseconds measure, const Call& call);

// `clients` threads together issue `rate` calls per second, each on its
// schedule (a late call goes at once; none are skipped), for `warmup` and
// then `measure`.
LoadResult OpenLoop(const std::string& address, int clients, double rate,
                    std::chrono::milliseconds warmup, std::chrono::milliseconds measure,
                    const Call& call);

}  // namespace keiretsu::bench
