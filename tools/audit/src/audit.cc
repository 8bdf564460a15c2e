// Entry points: which input, which passes, in which order.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "keiretsu/audit/audit.h"
#include "tools/audit/src/auditor.h"
#include "tools/audit/src/compare.h"

namespace keiretsu::audit {

std::string_view FeedStatusName(FeedStatus s) {
  switch (s) {
    case FeedStatus::kOpen: return "open";
    case FeedStatus::kForked: return "forked";
    case FeedStatus::kEnded: return "ended";
    case FeedStatus::kLeft: return "left";
    case FeedStatus::kRemoved: return "removed";
  }
  return "unknown";
}

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kProblem: return "problem";
    case Severity::kError: return "error";
    case Severity::kDisagreement: return "disagreement";
    case Severity::kFinding: return "finding";
    case Severity::kWarning: return "warning";
  }
  return "unknown";
}

std::vector<BalanceRow> Report::BalancesOf(const PublicKey& firm) const {
  std::vector<BalanceRow> out;
  for (const BalanceRow& r : balances)
    if (r.firm == firm) out.push_back(r);
  return out;
}

int Report::exit_code() const {
  if (any_problem) return kExitFailed;
  if (any_error) return kExitError;
  if (any_disagreement) return kExitDisagreement;
  return kExitVerified;
}

size_t Report::Count(Severity s) const {
  size_t n = 0;
  for (const Issue& i : issues) n += i.severity == s;
  return n;
}

namespace {

// --genesis: canonical bytes (as in an export header) or the TOML form.
Result<protocol::Genesis> LoadGenesis(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read genesis file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string bytes = ss.str();
  auto g = protocol::Genesis::Decode(AsBytes(bytes));
  if (g.ok()) return g;
  auto t = protocol::Genesis::ParseToml(bytes);
  if (t.ok()) return t;
  return InvalidArgument(
      "genesis file " + path +
      " is neither canonical genesis bytes nor genesis TOML: " + t.status().message());
}

struct Inputs {
  std::optional<protocol::Genesis> genesis;
  std::vector<CheckpointInput> checkpoints;
};

// What the options name besides the input; unreadable files stop the
// audit, a file that is not a checkpoint is a problem the report shows.
Result<Inputs> LoadInputs(const Options& options, std::vector<Issue>* early) {
  Inputs in;
  if (!options.genesis_file.empty()) {
    KEIRETSU_ASSIGN_OR_RETURN(auto g, LoadGenesis(options.genesis_file));
    in.genesis = std::move(g);
  }
  for (const std::string& path : options.checkpoint_files) {
    auto item = LoadCheckpointFile(path);
    if (!item.ok()) {
      if (item.status().code() != Code::kInvalidArgument) return item.status();
      early->push_back(Issue{
          Severity::kProblem, "bad-checkpoint", std::nullopt, 0, 0, item.status().message(), {}});
      continue;
    }
    in.checkpoints.push_back(CheckpointInput{std::move(item).value(), path, 0});
  }
  return in;
}

void AddEarly(Auditor& a, std::vector<Issue>& early) {
  for (Issue& i : early)
    a.AddIssue(i.severity, i.kind, i.author, i.seq, i.chunk, i.message, i.evidence);
}

void Compare(const Options& options, Auditor& a, Report& report) {
  if (options.against.empty()) return;
  CompareLive(options, a, report);
}

}  // namespace

Result<Report> AuditExport(std::istream& in, const Options& options) {
  std::vector<Issue> early;
  KEIRETSU_ASSIGN_OR_RETURN(Inputs inputs, LoadInputs(options, &early));
  Report report;
  report.input = options.input;
  report.input_kind = "export";
  Auditor a(options, &report, inputs.genesis);
  AddEarly(a, early);
  for (auto& c : inputs.checkpoints) a.AddCheckpointInput(std::move(c));
  auto src = MakeExportSource(in);
  if (!a.ReadHeader(*src)) return report;
  if (a.NeedsV2(*src)) {
    a.RunV2(*src, /*export_input=*/true);
  } else {
    a.Pass1(*src);
    a.Settle();
    a.Pass2(*src);
    a.Finish(/*export_input=*/true);
  }
  bool live_matches = !options.against.empty() && CompareLive(options, a, report);
  a.ConcludeSeal(live_matches);
  return report;
}

Result<Report> Audit(const Options& options) {
  std::error_code ec;
  if (options.input.empty())
    return InvalidArgument("no input: name an export file or a data directory");
  if (!std::filesystem::exists(options.input, ec))
    return NotFound("no such file or directory: " + options.input);
  if (!std::filesystem::is_directory(options.input, ec)) {
    std::ifstream in(options.input, std::ios::binary);
    if (!in) return IOError("cannot read " + options.input);
    return AuditExport(in, options);
  }
  if (options.genesis_file.empty())
    return InvalidArgument(
        "auditing a data directory needs --genesis FILE: the audit trusts "
        "no genesis the directory itself holds");
  std::vector<Issue> early;
  KEIRETSU_ASSIGN_OR_RETURN(Inputs inputs, LoadInputs(options, &early));
  KEIRETSU_ASSIGN_OR_RETURN(auto src, DataDirSource::Open(options.input, *inputs.genesis));
  Report report;
  report.input = options.input;
  report.input_kind = "data-dir";
  report.network_known = true;
  Auditor a(options, &report, inputs.genesis);
  AddEarly(a, early);
  for (auto& c : inputs.checkpoints) a.AddCheckpointInput(std::move(c));
  a.UseGivenGenesis();
  if (a.NeedsV2(*src)) {
    a.RunV2(*src, /*export_input=*/false);
  } else {
    a.Pass1(*src);
    a.Settle();
    a.Pass2(*src);
    a.Finish(/*export_input=*/false);
    CompareStore(src->store(), a, report);
  }
  Compare(options, a, report);
  return report;
}

int Run(const Options& options, std::ostream& out) {
  auto report = Audit(options);
  if (!report.ok()) {
    if (options.json) {
      std::string m = report.status().message();
      std::string esc;
      for (char c : m) {
        if (c == '"' || c == '\\') esc.push_back('\\');
        if (static_cast<unsigned char>(c) >= 0x20) esc.push_back(c);
      }
      out << "{\"error\": \"" << esc << "\", \"exit_code\": " << kExitError << "}\n";
    } else {
      out << "audit: cannot audit: " << report.status().message() << "\n";
    }
    return kExitError;
  }
  if (options.json)
    WriteJsonReport(*report, out);
  else
    WriteTextReport(*report, out);
  return report->exit_code();
}

}  // namespace keiretsu::audit
