// Private: the audit's results held against what others materialised.
#pragma once

#include "keiretsu/audit/audit.h"
#include "keiretsu/storage/store.h"
#include "tools/audit/src/auditor.h"

namespace keiretsu::audit {

// A data directory's stored heads and balances against the ones its own
// entries give; every difference is a problem. REQUIRES: Finish ran.
void CompareStore(storage::Store& store, Auditor& auditor, Report& report);

// GetStatus and ListBalances (every member) of options.against against the
// report: differences are disagreements; an unreachable node or refused
// call is an error. Returns true when the node's digest equals the audit's.
// REQUIRES: Finish ran.
bool CompareLive(const Options& options, Auditor& auditor, Report& report);

}  // namespace keiretsu::audit
