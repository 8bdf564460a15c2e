#include "bench/src/balance_queries.h"

#include <algorithm>

namespace keiretsu::bench {
namespace {

grpc::Status EmptyCall(ApiClient& c, int, uint64_t) {
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  auto ctx = Context();
  return c.health->Check(ctx.get(), req, &resp);
}

Json WindowJson(const LoadResult& r) {
  Json j;
  j["calls"] = r.calls;
  j["errors"] = r.errors;
  if (!r.first_error.empty()) j["first_error"] = r.first_error;
  j["seconds"] = r.seconds;
  j["per_s"] = r.rate();
  j["p50_ms"] = r.Percentile(50);
  j["p99_ms"] = r.Percentile(99);
  j["max_ms"] = r.latencies_ms.empty() ? 0.0 : r.latencies_ms.back();
  return j;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

Result<BalanceQueries> MeasureBalanceQueries(const std::string& address, const BenchNetwork& net,
                                             int clients, int pairs,
                                             std::chrono::milliseconds total) {
  const Call balance_call = [&](ApiClient& c, int index, uint64_t n) {
    keiretsu::v1::GetBalanceRequest req;
    req.set_firm(net.names[0]);
    req.set_counterparty(net.names[1 + (static_cast<size_t>(index) + n) % (net.names.size() - 1)]);
    req.set_unit("hours");
    keiretsu::v1::Balance resp;
    auto ctx = Context();
    return c.ledger->GetBalance(ctx.get(), req, &resp);
  };
  const Call empty_call = EmptyCall;
  ClientPool pool = Connect(address, clients);
  const auto window = total / (2 * std::max(1, pairs));
  const auto warmup = std::chrono::milliseconds(1000);
  const auto settle = std::chrono::milliseconds(200);  // after switching calls

  // Warm both paths (the first calls of each allocate, fill caches).
  ClosedLoop(pool, warmup, settle, empty_call);
  ClosedLoop(pool, warmup, settle, balance_call);

  BalanceQueries out;
  LoadResult best_balance;
  std::vector<double> ratios;
  Json rounds = Json::array();
  for (int p = 0; p < pairs; ++p) {
    LoadResult empty, balance;
    if (p % 2 == 0) {
      empty = ClosedLoop(pool, settle, window, empty_call);
      balance = ClosedLoop(pool, settle, window, balance_call);
    } else {
      balance = ClosedLoop(pool, settle, window, balance_call);
      empty = ClosedLoop(pool, settle, window, empty_call);
    }
    if (empty.errors > 0) return Internal("health checks failed: " + empty.first_error);
    if (balance.errors > 0) return Internal("GetBalance failed: " + balance.first_error);
    if (empty.rate() <= 0) return Internal("no empty call completed in a window");
    const double ratio = balance.rate() / empty.rate();
    ratios.push_back(ratio);
    rounds.push_back({{"order", p % 2 == 0 ? "empty, balance" : "balance, empty"},
                      {"empty_per_s", empty.rate()},
                      {"get_balance_per_s", balance.rate()},
                      {"ratio", ratio}});
    if (empty.rate() > out.best_empty.rate()) out.best_empty = std::move(empty);
    if (balance.rate() > best_balance.rate()) best_balance = std::move(balance);
  }
  const double ratio = Median(ratios);
  Json& b = out.json;
  b["clients"] = clients;
  b["connections_shared_by_both_calls"] = true;
  b["pairs"] = pairs;
  b["window_seconds"] = std::chrono::duration<double>(window).count();
  b["get_balance"] = WindowJson(best_balance);
  b["empty_call"] = WindowJson(out.best_empty);
  b["rounds"] = rounds;
  b["best_windows_ratio"] = best_balance.rate() / out.best_empty.rate();
  b["ratio_to_empty_call"] = ratio;
  b["goals"] = Json::array({Goal("ratio_to_empty_call >= 0.9", ratio >= 0.9)});
  return out;
}

}  // namespace keiretsu::bench
