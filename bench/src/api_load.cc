#include "bench/src/api_load.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "bench/src/bench_network.h"

namespace keiretsu::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Shared {
  std::mutex mu;
  LoadResult result;
};

// Runs `body(client, index, measuring)` on `clients` threads; `measuring()`
// tells whether a call starting now counts. Returns the merged result.
template <typename Body>
LoadResult RunOn(ClientPool& conns, std::chrono::milliseconds warmup,
                 std::chrono::milliseconds measure, Body body) {
  const int clients = static_cast<int>(conns.size());
  Shared shared;
  std::atomic<int> phase{0};  // 0 warm-up, 1 measuring, 2 stop
  std::vector<std::thread> pool;
  for (int i = 0; i < clients; ++i)
    pool.emplace_back([&, i] {
      LoadResult mine;
      body(*conns[static_cast<size_t>(i)], i, phase, mine);
      std::lock_guard lock(shared.mu);
      LoadResult& r = shared.result;
      r.calls += mine.calls;
      r.errors += mine.errors;
      if (r.first_error.empty()) r.first_error = mine.first_error;
      r.latencies_ms.insert(r.latencies_ms.end(), mine.latencies_ms.begin(),
                            mine.latencies_ms.end());
    });
  std::this_thread::sleep_for(warmup);
  const auto t0 = Clock::now();
  phase = 1;
  std::this_thread::sleep_for(measure);
  phase = 2;
  const auto t1 = Clock::now();
  for (auto& th : pool) th.join();
  shared.result.seconds = std::chrono::duration<double>(t1 - t0).count();
  std::sort(shared.result.latencies_ms.begin(), shared.result.latencies_ms.end());
  return std::move(shared.result);
}

template <typename Body>
LoadResult Run(const std::string& address, int clients, std::chrono::milliseconds warmup,
               std::chrono::milliseconds measure, Body body) {
  ClientPool conns = Connect(address, clients);
  return RunOn(conns, warmup, measure, body);
}

void Record(LoadResult& mine, const grpc::Status& s, Clock::time_point start, bool counted) {
  if (!counted) return;
  if (s.ok()) {
    ++mine.calls;
    mine.latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  } else {
    ++mine.errors;
    if (mine.first_error.empty())
      mine.first_error =
          std::to_string(static_cast<int>(s.error_code())) + ": " + s.error_message();
  }
}

void Closed(const Call& call, ApiClient& client, int index, std::atomic<int>& phase,
            LoadResult& mine) {
  for (uint64_t n = 0;; ++n) {
    const int at_start = phase.load();
    if (at_start == 2) break;
    const auto start = Clock::now();
    grpc::Status s = call(client, index, n);
    Record(mine, s, start, at_start == 1);
  }
}

}  // namespace

ApiClient::ApiClient(const std::string& address, int id) {
  grpc::ChannelArguments args;
  // A distinct argument gives each client its own subchannel (connection).
  args.SetInt("keiretsu.bench.client", id);
  auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  // Connect before any load starts, so connection set-up is not measured.
  channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10));
  ledger = keiretsu::v1::Ledger::NewStub(channel);
  health = grpc::health::v1::Health::NewStub(channel);
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", std::string("Bearer ") + kBenchToken);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  // A connection refused or reset under load is retried (within the
  // deadline) rather than failing the call at once.
  ctx->set_wait_for_ready(true);
  return ctx;
}

double PercentileOf(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = p / 100.0 * static_cast<double>(sorted.size() - 1);
  return sorted[static_cast<size_t>(rank + 0.5)];
}

ClientPool Connect(const std::string& address, int clients) {
  ClientPool conns;
  for (int i = 0; i < clients; ++i) conns.push_back(std::make_unique<ApiClient>(address, i));
  return conns;
}

LoadResult ClosedLoop(const std::string& address, int clients, std::chrono::milliseconds warmup,
                      std::chrono::milliseconds measure, const Call& call) {
  return Run(address, clients, warmup, measure,
             [&](ApiClient& client, int index, std::atomic<int>& phase, LoadResult& mine) {
               Closed(call, client, index, phase, mine);
             });
}

LoadResult ClosedLoop(ClientPool& pool, std::chrono::milliseconds warmup,
                      std::chrono::milliseconds measure, const Call& call) {
  return RunOn(pool, warmup, measure,
               [&](ApiClient& client, int index, std::atomic<int>& phase, LoadResult& mine) {
                 Closed(call, client, index, phase, mine);
               });
}

LoadResult OpenLoop(const std::string& address, int clients, double rate,
                    std::chrono::milliseconds warmup, std::chrono::milliseconds measure,
                    const Call& call) {
  // Client i sends at t0 + (n * clients + i) / rate: together, `rate` per second.
  const auto t0 = Clock::now();
  const double interval_s = static_cast<double>(clients) / rate;
  return Run(address, clients, warmup, measure,
             [&](ApiClient& client, int index, std::atomic<int>& phase, LoadResult& mine) {
               for (uint64_t n = 0;; ++n) {
                 const double offset_s =
                     static_cast<double>(n) * interval_s + static_cast<double>(index) / rate;
                 std::this_thread::sleep_until(t0 + std::chrono::duration_cast<Clock::duration>(
                                                        std::chrono::duration<double>(offset_s)));
                 const int at_start = phase.load();
                 if (at_start == 2) break;
                 const auto start = Clock::now();
                 grpc::Status s = call(client, index, n);
                 Record(mine, s, start, at_start == 1);
               }
             });
}

}  // namespace keiretsu::bench
