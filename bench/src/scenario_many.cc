// Scenario 9: many nodes, sparsely peered (docs/PERFORMANCE.md "Many
// nodes"). N firms in one genesis, each a real keiretsud with its own firm
// directory, peered along a ring plus random chords (a connected graph of
// average degree ~4). A Watch stream on every node records when each entry
// arrives there. Measured:
//   - propagation: single writes, one at a time, at several origins; from
//     the write's reply to its arrival at the farthest node (every other
//     node's Watch event), all on one clock in this process;
//   - convergence: every node writes K entries at once; until every node
//     holds all of them and all state digests are equal;
//   - gossip amplification: entries, transport messages and bytes sent by
//     all nodes (their /metrics peer counters) per entry written;
//   - memory per node (VmRSS, VmHWM) and CPU used.
#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <queue>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/src/api_load.h"
#include "bench/src/bench_network.h"
#include "bench/src/daemon_process.h"
#include "bench/src/node_status.h"
#include "bench/src/scenario.h"

namespace keiretsu::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// The peer graph: a ring, then chords between random non-adjacent nodes
// until the average degree reaches `degree` (a ring alone for degree <= 2).
struct PeerGraph {
  std::vector<std::set<int>> adjacent;
  std::vector<std::pair<int, int>> edges;  // (dialler, listener)
  int size() const { return static_cast<int>(adjacent.size()); }
  void Add(int a, int b) {
    adjacent[static_cast<size_t>(a)].insert(b);
    adjacent[static_cast<size_t>(b)].insert(a);
    edges.emplace_back(a, b);
  }
  // Hop distances from `from` (breadth first).
  std::vector<int> Distances(int from) const {
    std::vector<int> d(adjacent.size(), -1);
    std::queue<int> q;
    d[static_cast<size_t>(from)] = 0;
    q.push(from);
    while (!q.empty()) {
      const int u = q.front();
      q.pop();
      for (int v : adjacent[static_cast<size_t>(u)])
        if (d[static_cast<size_t>(v)] < 0) {
          d[static_cast<size_t>(v)] = d[static_cast<size_t>(u)] + 1;
          q.push(v);
        }
    }
    return d;
  }
};

PeerGraph MakeGraph(int n, int degree, uint64_t seed) {
  PeerGraph g;
  g.adjacent.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i)
    if (n > 2 || i == 0) g.Add(i, (i + 1) % n);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> pick(0, n - 1);
  const size_t want = static_cast<size_t>(n) * static_cast<size_t>(std::max(degree, 2)) / 2;
  for (int tries = 0; g.edges.size() < want && tries < 100 * n; ++tries) {
    const int a = pick(rng), b = pick(rng);
    if (a == b || g.adjacent[static_cast<size_t>(a)].count(b)) continue;
    g.Add(a, b);
  }
  return g;
}

// Arrival times at one node, by entry id.
struct Arrivals {
  std::mutex mu;
  std::unordered_map<std::string, Clock::time_point> at;
};

// One GET of an operations listener's /metrics; the exposition text.
Result<std::string> FetchMetrics(const std::string& host_port) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) return Internal("bad ops address " + host_port);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Internal("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return Unavailable("cannot connect to " + host_port);
  }
  const std::string req =
      "GET /metrics HTTP/1.1\r\nHost: " + host_port + "\r\nConnection: close\r\n\r\n";
  if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return Unavailable("cannot write to " + host_port);
  }
  std::string resp;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) resp.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (resp.rfind("HTTP/1.1 200", 0) != 0)
    return Unavailable("GET /metrics at " + host_port + ": " + resp.substr(0, resp.find('\r')));
  return resp.substr(resp.find("\r\n\r\n") + 4);
}

// Sums of the per-peer send counters over every peer of one node.
struct SendCounters {
  double entries = 0, messages = 0, bytes = 0;
  SendCounters& operator+=(const SendCounters& o) {
    entries += o.entries;
    messages += o.messages;
    bytes += o.bytes;
    return *this;
  }
  SendCounters operator-(const SendCounters& o) const {
    return {entries - o.entries, messages - o.messages, bytes - o.bytes};
  }
};

Result<SendCounters> ReadSendCounters(const std::string& ops) {
  KEIRETSU_ASSIGN_OR_RETURN(std::string text, FetchMetrics(ops));
  SendCounters c;
  bool saw_messages = false;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    const std::string name = line.substr(0, line.find('{'));
    const double value = std::stod(line.substr(space + 1));
    if (name == "keiretsu_peer_entries_sent_total") c.entries += value;
    if (name == "keiretsu_peer_messages_sent_total") {
      c.messages += value;
      saw_messages = true;
    }
    if (name == "keiretsu_peer_sent_bytes_total") c.bytes += value;
  }
  if (!saw_messages)
    return Internal("/metrics at " + ops + " has no keiretsu_peer_messages_sent_total");
  return c;
}

struct Cluster {
  std::vector<DaemonProcess> nodes;
  std::vector<std::unique_ptr<ApiClient>> api;
  std::vector<Arrivals> arrivals;
  std::vector<std::unique_ptr<grpc::ClientContext>> watch_ctx;
  std::vector<std::thread> watchers;
  explicit Cluster(size_t n) : arrivals(n) {}
  ~Cluster() { StopWatching(); }  // before the nodes go (reverse order)
  void StopWatching() {
    for (auto& c : watch_ctx) c->TryCancel();
    for (auto& t : watchers) t.join();
    watchers.clear();
    watch_ctx.clear();
  }
  Result<SendCounters> Counters() {
    SendCounters sum;
    for (auto& n : nodes) {
      KEIRETSU_ASSIGN_OR_RETURN(SendCounters c, ReadSendCounters(n.ops_address()));
      sum += c;
    }
    return sum;
  }
  // True when every node has seen every id of `ids` arrive.
  bool AllArrived(const std::vector<std::string>& ids) {
    for (auto& a : arrivals) {
      std::lock_guard lock(a.mu);
      for (const auto& id : ids)
        if (!a.at.count(id)) return false;
    }
    return true;
  }
};

grpc::Status Write(ApiClient& client, const std::string& creditor, uint64_t n, std::string* id) {
  keiretsu::v1::RecordObligationRequest req;
  req.set_creditor(creditor);
  req.set_amount(1 + n % 50);
  req.set_unit("hours");
  req.set_memo("favour #" + std::to_string(n));
  keiretsu::v1::WriteResponse resp;
  auto ctx = Context();
  grpc::Status s = client.ledger->RecordObligation(ctx.get(), req, &resp);
  if (s.ok()) *id = resp.entry().id();
  return s;
}

Json Quantiles(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {{"p50", PercentileOf(v, 50)},
          {"p99", PercentileOf(v, 99)},
          {"max", v.empty() ? 0.0 : v.back()}};
}

}  // namespace

Result<Json> RunManyNodes(const BenchEnv& env) {
  const int n = env.many_nodes;
  if (n < 3) return InvalidArgument("--many-nodes must be at least 3");
  const std::string dir = env.work + "/many";
  std::filesystem::remove_all(dir);
  const PeerGraph graph = MakeGraph(n, env.many_degree, env.many_seed);
  int diameter = 0;
  for (int i = 0; i < n; ++i)
    for (int d : graph.Distances(i)) {
      if (d < 0) return Internal("the peer graph is not connected");
      diameter = std::max(diameter, d);
    }
  std::vector<int> degrees;
  for (const auto& a : graph.adjacent) degrees.push_back(static_cast<int>(a.size()));

  KEIRETSU_ASSIGN_OR_RETURN(BenchNetwork net, MakeBenchNetwork(n, "bench-many"));
  std::vector<std::string> peer_address;
  for (int i = 0; i < n; ++i) {
    KEIRETSU_ASSIGN_OR_RETURN(int port, FreeLoopbackPort());
    peer_address.push_back("127.0.0.1:" + std::to_string(port));
  }
  std::vector<std::string> configs;
  for (int i = 0; i < n; ++i) {
    // Sparse: a node has sessions with ~degree of the n-1 others, never the
    // majority the restore rule waits for, so the rule is off (fresh data
    // directories cannot have lost entries).
    NodeLayout layout{i, peer_address[static_cast<size_t>(i)], {}, {}, true, false};
    for (const auto& [from, to] : graph.edges)
      if (from == i) {
        layout.peers.push_back(to);
        layout.peer_addresses.push_back(peer_address[static_cast<size_t>(to)]);
      }
    KEIRETSU_ASSIGN_OR_RETURN(
        std::string config,
        WriteFirmDir(net, layout, dir + "/" + net.names[static_cast<size_t>(i)]));
    configs.push_back(config);
  }

  Progress("many: starting " + std::to_string(n) + " nodes (" + std::to_string(graph.edges.size()) +
           " peer links, diameter " + std::to_string(diameter) + ")");
  Cluster c(static_cast<size_t>(n));
  const auto t_start = Clock::now();
  for (int i = 0; i < n; ++i) {
    KEIRETSU_ASSIGN_OR_RETURN(
        DaemonProcess p,
        DaemonProcess::Start(env.keiretsud, configs[static_cast<size_t>(i)],
                             dir + "/" + net.names[static_cast<size_t>(i)] + ".log"));
    if (p.ops_address().empty())
      return Internal("node " + net.names[static_cast<size_t>(i)] + " has no operations listener");
    c.api.push_back(std::make_unique<ApiClient>(p.api_address()));
    c.nodes.push_back(std::move(p));
  }
  const double started_s = std::chrono::duration<double>(Clock::now() - t_start).count();
  int linked_nodes = 0;
  const bool linked = WaitUntil(
      [&] {
        linked_nodes = 0;
        for (int i = 0; i < n; ++i) {
          auto s = Summarise(*c.api[static_cast<size_t>(i)]);
          if (s.ok() && s->writable && s->connected_peers == degrees[static_cast<size_t>(i)])
            ++linked_nodes;
        }
        return linked_nodes == n;
      },
      std::chrono::seconds(60 + n), std::chrono::milliseconds(50));
  if (!linked)
    return Internal(std::to_string(n - linked_nodes) + " of " + std::to_string(n) +
                    " nodes did not connect to all their peers" + TailOf(dir + "/firm00.log"));
  const double connected_s = std::chrono::duration<double>(Clock::now() - t_start).count();
  Progress("many: all connected after " + std::to_string(connected_s) + " s");

  // A Watch stream on every node.
  for (int i = 0; i < n; ++i) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("authorization", std::string("Bearer ") + kBenchToken);
    auto* ledger = c.api[static_cast<size_t>(i)]->ledger.get();
    auto* arrivals = &c.arrivals[static_cast<size_t>(i)];
    grpc::ClientContext* raw = ctx.get();
    c.watch_ctx.push_back(std::move(ctx));
    c.watchers.emplace_back([ledger, arrivals, raw] {
      // From the start of the log ("0"), not "from now": a stream set up
      // after the first entry reached its node would never see it (the
      // nodes are fresh, so nothing older is replayed).
      keiretsu::v1::WatchRequest req;
      req.set_cursor("0");
      auto stream = ledger->Watch(raw, req);
      keiretsu::v1::WatchEvent ev;
      while (stream->Read(&ev)) {
        if (ev.entry().id().empty()) continue;
        const auto now = Clock::now();
        std::lock_guard lock(arrivals->mu);
        arrivals->at.emplace(ev.entry().id(), now);
      }
    });
  }
  // The streams are open once a first entry arrives everywhere.
  {
    std::string id;
    grpc::Status s = Write(*c.api[0], net.names[1], 0, &id);
    if (!s.ok()) return Internal("write at firm00 failed: " + s.error_message());
    if (!WaitUntil([&] { return c.AllArrived({id}); }, std::chrono::seconds(30),
                   std::chrono::milliseconds(1)))
      return Internal("the first entry did not reach every node's Watch stream");
  }

  // (a) Propagation: one write at a time, rotating over `origins` spread
  // around the ring.
  KEIRETSU_ASSIGN_OR_RETURN(SendCounters counters0, c.Counters());
  const int origins = std::min(n, 5);
  std::vector<double> farthest_ms, all_ms;
  std::map<int, std::vector<double>> by_hops;
  int probes_missing = 0;
  Progress("many: " + std::to_string(env.many_probes) + " single writes at " +
           std::to_string(origins) + " origins, each watched at every node");
  for (int k = 0; k < env.many_probes; ++k) {
    const int origin = (k % origins) * n / origins;
    std::string id;
    grpc::Status s = Write(*c.api[static_cast<size_t>(origin)],
                           net.names[static_cast<size_t>((origin + 1) % n)], 1 + k, &id);
    const auto replied = Clock::now();
    if (!s.ok()) return Internal("write failed: " + s.error_message());
    if (!WaitUntil([&] { return c.AllArrived({id}); }, std::chrono::seconds(10),
                   std::chrono::milliseconds(1))) {
      ++probes_missing;
      continue;
    }
    const std::vector<int> hops = graph.Distances(origin);
    double farthest = 0;
    for (int i = 0; i < n; ++i) {
      if (i == origin) continue;
      auto& a = c.arrivals[static_cast<size_t>(i)];
      std::lock_guard lock(a.mu);
      // An arrival before the reply (the reply was still in flight) counts 0.
      const double ms = std::max(0.0, Ms(a.at.at(id) - replied));
      all_ms.push_back(ms);
      by_hops[hops[static_cast<size_t>(i)]].push_back(ms);
      farthest = std::max(farthest, ms);
    }
    farthest_ms.push_back(farthest);
  }
  KEIRETSU_ASSIGN_OR_RETURN(SendCounters counters1, c.Counters());

  // (b) Convergence after a burst: every node writes K entries at once.
  const int k_each = env.many_burst;
  Progress("many: burst of " + std::to_string(k_each) + " entries at each of " + std::to_string(n) +
           " nodes at once");
  std::vector<double> cpu0;
  for (auto& p : c.nodes) cpu0.push_back(p.CpuSeconds());
  std::vector<std::vector<std::string>> burst_ids(static_cast<size_t>(n));
  std::vector<std::string> burst_errors(static_cast<size_t>(n));
  std::vector<Clock::time_point> burst_done(static_cast<size_t>(n));
  const auto burst_start = Clock::now();
  {
    std::vector<std::thread> writers;
    for (int i = 0; i < n; ++i)
      writers.emplace_back([&, i] {
        ApiClient client(c.nodes[static_cast<size_t>(i)].api_address(), i);
        for (int k = 0; k < k_each; ++k) {
          std::string id;
          grpc::Status s = Write(client, net.names[static_cast<size_t>((i + 1 + k % (n - 1)) % n)],
                                 100000 + static_cast<uint64_t>(k), &id);
          if (!s.ok()) {
            burst_errors[static_cast<size_t>(i)] = s.error_message();
            return;
          }
          burst_ids[static_cast<size_t>(i)].push_back(id);
        }
        burst_done[static_cast<size_t>(i)] = Clock::now();
      });
    for (auto& w : writers) w.join();
  }
  const auto burst_written = Clock::now();
  for (int i = 0; i < n; ++i)
    if (!burst_errors[static_cast<size_t>(i)].empty())
      return Internal("burst write at " + net.names[static_cast<size_t>(i)] +
                      " failed: " + burst_errors[static_cast<size_t>(i)]);
  std::vector<std::string> all_burst;
  for (const auto& ids : burst_ids) all_burst.insert(all_burst.end(), ids.begin(), ids.end());
  const bool arrived = WaitUntil([&] { return c.AllArrived(all_burst); },
                                 std::chrono::seconds(60 + n), std::chrono::milliseconds(2));
  if (!arrived) return Internal("after the burst some entries never reached some nodes");
  Clock::time_point last_arrival = burst_start;
  for (auto& a : c.arrivals) {
    std::lock_guard lock(a.mu);
    for (const auto& id : all_burst) last_arrival = std::max(last_arrival, a.at.at(id));
  }
  std::string digest;
  const bool same = WaitUntil(
      [&] {
        std::set<std::string> digests;
        for (auto& api : c.api) {
          auto s = Summarise(*api);
          if (!s.ok()) return false;
          digests.insert(s->digest);
        }
        digest = *digests.begin();
        return digests.size() == 1;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(2));
  const auto digests_equal = Clock::now();
  if (!same) return Internal("after the burst the state digests differ");
  double burst_cpu = 0;
  for (size_t i = 0; i < c.nodes.size(); ++i) burst_cpu += c.nodes[i].CpuSeconds() - cpu0[i];
  // Counters settle once every session has acked: wait until they stop moving.
  SendCounters counters2;
  {
    SendCounters last{-1, -1, -1};
    WaitUntil(
        [&] {
          auto now = c.Counters();
          if (!now.ok()) return false;
          const bool still = now->entries == last.entries;
          last = counters2 = *now;
          return still;
        },
        std::chrono::seconds(10), std::chrono::milliseconds(200));
  }

  // (d) Memory.
  std::vector<double> rss_mib, hwm_mib;
  double rss_total = 0;
  for (auto& p : c.nodes) {
    rss_mib.push_back(static_cast<double>(p.RssBytes()) / (1024.0 * 1024.0));
    hwm_mib.push_back(static_cast<double>(p.PeakRssBytes()) / (1024.0 * 1024.0));
    rss_total += rss_mib.back();
  }
  c.StopWatching();
  // All at once: each keiretsud takes seconds from SIGTERM to its exit.
  {
    std::vector<Status> stopped(c.nodes.size(), Status::Ok());
    std::vector<std::thread> stoppers;
    for (size_t i = 0; i < c.nodes.size(); ++i)
      stoppers.emplace_back([&, i] { stopped[i] = c.nodes[i].Stop(); });
    for (auto& t : stoppers) t.join();
    for (const Status& st : stopped) KEIRETSU_RETURN_IF_ERROR(st);
  }
  if (farthest_ms.empty()) return Internal("no single write reached every node");

  Json j;
  Json g;
  g["nodes"] = n;
  g["links"] = graph.edges.size();
  g["shape"] = "ring + random chords (seed " + std::to_string(env.many_seed) + ")";
  g["degree_min"] = *std::min_element(degrees.begin(), degrees.end());
  g["degree_max"] = *std::max_element(degrees.begin(), degrees.end());
  g["degree_mean"] = 2.0 * static_cast<double>(graph.edges.size()) / n;
  g["diameter_hops"] = diameter;
  j["graph"] = g;
  j["start_seconds"] = started_s;
  j["all_connected_seconds"] = connected_s;

  Json prop;
  prop["writes"] = env.many_probes;
  prop["origins"] = origins;
  prop["writes_missing"] = probes_missing;
  prop["farthest_node_ms"] = Quantiles(farthest_ms);
  prop["every_node_ms"] = Quantiles(all_ms);
  Json hops = Json::object();
  for (auto& [h, v] : by_hops) {
    std::sort(v.begin(), v.end());
    hops[std::to_string(h)] = {{"p50", PercentileOf(v, 50)}, {"p99", PercentileOf(v, 99)}};
  }
  prop["by_hops_ms"] = hops;
  j["propagation"] = prop;

  const double burst_entries = static_cast<double>(all_burst.size());
  const double receivers = n - 1;
  Json conv;
  conv["entries"] = all_burst.size();
  conv["entries_per_node"] = k_each;
  conv["write_seconds"] = std::chrono::duration<double>(burst_written - burst_start).count();
  conv["all_arrived_ms"] = Ms(last_arrival - burst_start);
  // The burst is as fast as the nodes write; what the network adds is the
  // time from the last write's reply to its last arrival.
  conv["all_arrived_after_last_write_ms"] = Ms(last_arrival - burst_written);
  conv["digests_equal_ms"] = Ms(digests_equal - burst_start);
  conv["entries_per_s_into_every_node"] = burst_entries / (Ms(last_arrival - burst_start) / 1000);
  conv["cpu_seconds_all_nodes"] = burst_cpu;
  conv["cpu_fraction_of_machine"] =
      burst_cpu / (std::chrono::duration<double>(digests_equal - burst_start).count() *
                   std::max(1u, std::thread::hardware_concurrency()));
  j["convergence"] = conv;

  // Per entry written, over the probe phase (entries one at a time) and
  // the burst. Each entry must reach n-1 nodes: entries sent per entry over
  // n-1 is the redundancy (1.0: each node got it exactly once).
  auto amplification = [&](const SendCounters& d, double entries) {
    Json a;
    a["entries"] = entries;
    a["entry_copies_sent_per_entry"] = d.entries / entries;
    a["redundancy"] = d.entries / (entries * receivers);
    a["messages_per_entry"] = d.messages / entries;
    a["bytes_per_entry"] = d.bytes / entries;
    a["bytes_per_entry_per_receiving_node"] = d.bytes / (entries * receivers);
    return a;
  };
  const double probe_entries = static_cast<double>(env.many_probes - probes_missing);
  j["gossip"] = {{"single_writes", amplification(counters1 - counters0, probe_entries)},
                 {"burst", amplification(counters2 - counters1, burst_entries)}};

  Json mem;
  mem["rss_mib"] = Quantiles(rss_mib);
  mem["peak_rss_mib"] = Quantiles(hwm_mib);
  mem["rss_total_mib"] = rss_total;
  mem["rss_total_fraction_of_machine_memory"] =
      rss_total / (static_cast<double>(::sysconf(_SC_PHYS_PAGES)) *
                   static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0));
  j["memory"] = mem;
  j["state_digest"] = digest;

  const double p99 = PercentileOf(
      [&] {
        std::sort(farthest_ms.begin(), farthest_ms.end());
        return farthest_ms;
      }(),
      99);
  j["goals"] = Json::array(
      {Goal("single write to the farthest node p99_ms < 50", p99 < 50 && probes_missing == 0),
       Goal("after the burst every node holds every entry and one digest", arrived && same)});
  return j;
}

}  // namespace keiretsu::bench
