// RenderSvg: DOT to SVG through libgvc, in this process.
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <mutex>

#include "keiretsu/graph/obligation_graph.h"

namespace keiretsu::graph {

namespace {

// libgvc keeps global state (its context, the graph parser's lexer): one
// caller at a time, one context for the life of the process.
std::mutex& GvcMutex() {
  static std::mutex mu;
  return mu;
}

// Graphviz reports errors through a callback (by default: to stderr); the
// last one becomes the Status message. REQUIRES: GvcMutex() held.
std::string& LastError() {
  static std::string error;
  return error;
}
int KeepError(char* message) {
  LastError() = message != nullptr ? message : "";
  while (!LastError().empty() && (LastError().back() == '\n' || LastError().back() == ' '))
    LastError().pop_back();
  return 0;
}

GVC_t* Context() {
  static GVC_t* gvc = gvContext();  // REQUIRES: GvcMutex() held
  return gvc;
}

}  // namespace

Result<std::string> RenderSvg(const std::string& dot) {
  std::lock_guard lock(GvcMutex());
  GVC_t* gvc = Context();
  if (gvc == nullptr) return Internal("Graphviz could not create its context");
  agseterrf(KeepError);
  LastError().clear();
  Agraph_t* g = agmemread(dot.c_str());
  if (g == nullptr) return InvalidArgument("Graphviz could not parse the graph: " + LastError());
  std::string svg;
  Status status;
  if (gvLayout(gvc, g, "dot") != 0) {
    status = Internal("Graphviz could not lay the graph out (is its dot plugin installed?)");
  } else {
    char* data = nullptr;
    unsigned int length = 0;
    if (gvRenderData(gvc, g, "svg", &data, &length) != 0 || data == nullptr)
      status = Internal("Graphviz could not render SVG (run `dot -c` as root to register plugins)");
    else
      svg.assign(data, length);
    if (data != nullptr) gvFreeRenderData(data);
    gvFreeLayout(gvc, g);
  }
  agclose(g);
  if (!status.ok()) return status;
  size_t start = svg.find("<svg");
  if (start == std::string::npos) return Internal("Graphviz output has no <svg> element");
  return svg.substr(start);
}

}  // namespace keiretsu::graph
