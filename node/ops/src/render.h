// Private: the status page (HTML) and /status.json, rendered from a
// NodeSnapshot. Pure functions of their inputs.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "keiretsu/graph/obligation_graph.h"
#include "keiretsu/ops/snapshot.h"

namespace keiretsu::ops {

// The obligation graphs (one per unit) of a snapshot's balances.
std::vector<graph::ObligationGraph> SnapshotGraphs(const NodeSnapshot& snapshot);

// One unit's graph drawn for the page: the SVG element, or a note saying
// why there is no picture.
struct DrawnGraph {
  std::string unit;
  std::string svg;
  std::string note;
};

// The whole status page. `refresh`: how often it reloads itself.
std::string StatusPage(const NodeSnapshot& snapshot, const std::vector<DrawnGraph>& drawn,
                       std::chrono::seconds refresh);

// The snapshot as one JSON object (docs/OPERATIONS.md "/status.json").
std::string StatusJson(const NodeSnapshot& snapshot);

// `text` safe inside HTML text and attribute values.
std::string HtmlEscape(std::string_view text);

}  // namespace keiretsu::ops
