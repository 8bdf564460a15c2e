// OpsServer: routes of the operations listener over HttpListener.
#include "keiretsu/ops/ops_server.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <map>
#include <mutex>

#include "node/ops/src/http_listener.h"
#include "node/ops/src/render.h"

namespace keiretsu::ops {

namespace {

// Larger graphs are not laid out on the listener's thread (Graphviz takes
// seconds on thousands of edges); `keiretsu graph` draws them offline.
constexpr size_t kMaxDrawnDebts = 400;
constexpr size_t kMaxDrawnFirms = 150;

const char kContentSecurityPolicy[] =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

uint64_t NowUnixMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

struct OpsServer::Impl {
  OpsOptions options;
  SnapshotSources sources;
  const MetricsRegistry* metrics = nullptr;
  std::unique_ptr<HttpListener> listener;
  std::atomic<bool> draining{false};

  std::mutex svg_mu;
  std::map<std::string, std::string> svg_cache;  // GUARDED_BY(svg_mu): DOT -> SVG

  HttpResponse Serve(const HttpRequest& req) {
    HttpResponse r;
    if (req.path == "/healthz") {
      if (draining) {
        r.status = 503;
        r.body = "stopping\n";
      } else {
        r.body = "ok\n";
      }
    } else if (req.path == "/metrics") {
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = metrics->Exposition(TakeSnapshot(sources, NowUnixMs()));
    } else if (req.path == "/status") {
      NodeSnapshot s = TakeSnapshot(sources, NowUnixMs());
      r.content_type = "text/html; charset=utf-8";
      r.body = StatusPage(s, Draw(s), options.status_refresh);
      r.headers.push_back({"Content-Security-Policy", kContentSecurityPolicy});
    } else if (req.path == "/status.json") {
      r.content_type = "application/json";
      r.body = StatusJson(TakeSnapshot(sources, NowUnixMs()));
    } else if (req.path == "/") {
      r.status = 302;
      r.headers.push_back({"Location", "/status"});
      r.body = "see /status\n";
    } else {
      r.status = 404;
      r.body =
          "not found: the operations listener serves /status, /status.json, /metrics, "
          "/healthz\n";
    }
    return r;
  }

  std::vector<DrawnGraph> Draw(const NodeSnapshot& s) {
    std::vector<DrawnGraph> out;
    for (const graph::ObligationGraph& g : SnapshotGraphs(s)) {
      DrawnGraph d{g.unit, "", ""};
      if (g.debts.size() > kMaxDrawnDebts || g.firms.size() > kMaxDrawnFirms) {
        d.note = "Too large to draw here (" + std::to_string(g.debts.size()) +
                 " debts): `keiretsu graph --unit " + g.unit + " --format svg` draws it.";
      } else if (auto svg = CachedSvg(graph::ToDot(g)); svg.ok()) {
        d.svg = std::move(*svg);
      } else {
        d.note = "The graph could not be drawn: " + svg.status().message();
      }
      out.push_back(std::move(d));
    }
    return out;
  }

  Result<std::string> CachedSvg(const std::string& dot) {
    {
      std::lock_guard lock(svg_mu);
      if (auto it = svg_cache.find(dot); it != svg_cache.end()) return it->second;
    }
    KEIRETSU_ASSIGN_OR_RETURN(std::string svg, graph::RenderSvg(dot));
    std::lock_guard lock(svg_mu);
    if (svg_cache.size() >= 16) svg_cache.clear();  // one entry per unit is the usual need
    svg_cache.emplace(dot, svg);
    return svg;
  }
};

OpsServer::OpsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OpsServer::~OpsServer() {
  Stop();
}

const std::string& OpsServer::address() const {
  return impl_->listener->address();
}

void OpsServer::SetDraining() {
  impl_->draining = true;
}

void OpsServer::Stop() {
  if (impl_->listener) impl_->listener->Stop();
}

Result<std::unique_ptr<OpsServer>> OpsServer::Start(OpsOptions options, SnapshotSources sources,
                                                    const MetricsRegistry& metrics) {
  if (sources.ledger == nullptr) return InvalidArgument("OpsServer needs a ledger");
  if (options.status_refresh.count() <= 0)
    return InvalidArgument("status page refresh must be at least 1 second");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->sources = std::move(sources);
  impl->metrics = &metrics;
  Impl* self = impl.get();
  HttpListenerOptions lo{options.listen, options.token, options.max_connections, options.timeout,
                         options.max_url_bytes};
  KEIRETSU_ASSIGN_OR_RETURN(
      impl->listener,
      HttpListener::Start(std::move(lo), [self](const HttpRequest& r) { return self->Serve(r); }));
  return std::unique_ptr<OpsServer>(new OpsServer(std::move(impl)));
}

}  // namespace keiretsu::ops
