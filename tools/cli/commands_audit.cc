// Audit commands: checkpoint (the node's signed view, GetCheckpoint) and
// audit (the offline auditor, keiretsu/audit/audit.h, in-process).
//
// `keiretsu audit` exits with the auditor's own status (0 verified, 1
// failed, 2 could not audit, 3 disputed; docs/audit.md), not the CLI's
// table, so a script treats it exactly as it treats keiretsu-audit.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli.h"
#include "client.h"
#include "keiretsu/audit/audit.h"
#include "keiretsu/protocol/checkpoint.h"
#include "output.h"
#include "progress.h"

namespace keiretsu::cli {
namespace {

namespace v1 = keiretsu::v1;
namespace fs = std::filesystem;
using Stub = v1::Ledger::Stub;

struct CheckpointArgs {
  std::string out;
  bool force = false;
};

// Decodes what the node sent, so a damaged or foreign answer is refused
// here rather than saved as a file an auditor later rejects. Checks the
// structure and that the statement names the signer the message carries;
// the signature itself needs the genesis, which is the auditor's to check.
Result<protocol::Checkpoint> Decode(const v1::Checkpoint& cp) {
  auto parsed = protocol::ParseCheckpoint(AsBytes(cp.statement()));
  if (!parsed.ok())
    return Internal("the node sent a malformed checkpoint: " + parsed.status().message());
  const std::string& signer = cp.signer();
  if (signer.size() != 32 ||
      !std::equal(signer.begin(), signer.end(), parsed->signer.bytes.begin(),
                  [](char a, uint8_t b) { return static_cast<uint8_t>(a) == b; }))
    return Internal("the node sent a checkpoint whose signer is not the one its statement names");
  if (cp.signature().size() != 64)
    return Internal("the node sent a checkpoint with a " + std::to_string(cp.signature().size()) +
                    "-byte signature");
  return parsed;
}

void PrintCheckpoint(std::ostream& out, const protocol::Checkpoint& c) {
  out << "signer        " << c.signer.Hex() << '\n'
      << "time_ms       " << c.time_ms << '\n'
      << "network       " << c.network.Hex() << '\n'
      << "state digest  " << c.state_digest.Hex() << '\n'
      << "feeds         " << c.feeds.size() << '\n';
  if (c.feeds.empty()) return;
  out << '\n';
  Table t({"FIRM", "EFFECTIVE", "EFFECTIVE ID", "STOP"});
  for (const auto& f : c.feeds)
    t.Row({f.author.Short(), std::to_string(f.effective_seq),
           f.effective_seq ? f.effective_id.Short() : "-",
           f.stop_seq ? std::to_string(f.stop_seq) : "open"});
  t.Print(out);
}

// Writes `cp` (binary keiretsu.v1.Checkpoint, one of the two forms the
// auditor's --checkpoint reads) beside `path` and renames it into place,
// so a failure never leaves a partial file.
Status WriteCheckpointFile(const v1::Checkpoint& cp, const std::string& path, bool force) {
  std::error_code ec;
  if (!force && fs::exists(path, ec))
    return AlreadyExists(path + " already exists; use --force to replace it");
  std::string tmp = path + ".partial-" + std::to_string(::getpid());
  {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    if (!file) return IOError("cannot create " + tmp);
    if (!cp.SerializeToOstream(&file) || !file.flush()) {
      file.close();
      fs::remove(tmp, ec);
      return IOError("cannot write " + tmp);
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    return IOError("cannot rename " + tmp + " to " + path + ": " + ec.message());
  }
  return Status::Ok();
}

Status Checkpoint(Context& ctx, const CheckpointArgs& a) {
  std::error_code ec;
  // Checked before the call too, so a refused overwrite costs no signature.
  if (!a.out.empty() && !a.force && fs::exists(a.out, ec))
    return AlreadyExists(a.out + " already exists; use --force to replace it");
  KEIRETSU_ASSIGN_OR_RETURN(auto client, ConnectFromContext(ctx));
  v1::Checkpoint cp;
  KEIRETSU_RETURN_IF_ERROR(client->Call(&Stub::GetCheckpoint, v1::GetCheckpointRequest(), &cp));
  KEIRETSU_ASSIGN_OR_RETURN(protocol::Checkpoint decoded, Decode(cp));
  if (!a.out.empty()) {
    KEIRETSU_RETURN_IF_ERROR(WriteCheckpointFile(cp, a.out, a.force));
    *ctx.err << "checkpoint written to " << a.out << '\n';
  }
  // The JSON form is the message itself: saved as a file, it is a
  // checkpoint the auditor reads (`keiretsu checkpoint --json > cp.json`).
  if (ctx.json)
    *ctx.out << MessageJson(cp) << '\n';
  else
    PrintCheckpoint(*ctx.out, decoded);
  return Status::Ok();
}

struct AuditArgs {
  audit::Options options;
  bool quiet = false;
};

// Fills what the auditor takes from the CLI's global flags: the token and
// TLS roots for --against, --json for the report.
void Audit(Context& ctx, AuditArgs& a) {
  audit::Options o = a.options;
  o.json = ctx.json;
  if (!o.against.empty()) {
    o.token = ctx.node.token;
    if (o.token.empty())
      if (const char* env = std::getenv("KEIRETSU_TOKEN")) o.token = env;
    if (!ctx.node.tls_ca.empty()) {
      o.tls = true;
      o.tls_ca_file = ctx.node.tls_ca;
    }
  }
  // Progress lines on a terminal only (not in --json mode, not into a pipe).
  if (!a.quiet && ShowProgress(ctx)) o.progress = ctx.err;
  ctx.exit_status = audit::Run(o, *ctx.out);
}

}  // namespace

void AddAuditCommands(CLI::App& app, Context& ctx) {
  {
    auto a = std::make_shared<CheckpointArgs>();
    auto* sub = app.add_subcommand(
        "checkpoint", "Get a checkpoint signed by the node: its digest and feed heads, dated");
    sub->add_option("--out", a->out,
                    "Also write it to this file (binary keiretsu.v1.Checkpoint, for "
                    "`keiretsu audit --checkpoint`)");
    sub->add_flag("--force", a->force, "Replace an existing --out file");
    sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return Checkpoint(ctx, *a); }; });
  }
  {
    auto a = std::make_shared<AuditArgs>();
    audit::Options& o = a->options;
    auto* sub = app.add_subcommand(
        "audit",
        "Verify an export file or data directory (as keiretsu-audit; exit 0 verified, 1 failed, "
        "2 could not audit, 3 disputed)");
    sub->add_option("INPUT", o.input, "Export file, or a node's data directory")->required();
    sub->add_option("--genesis", o.genesis_file,
                    "Genesis file (canonical bytes or TOML); required for a data directory");
    sub->add_option("--checkpoint", o.checkpoint_files,
                    "A signed checkpoint file (binary or JSON) to verify and compare; repeatable");
    sub->add_option("--against", o.against,
                    "Compare with a live node's API at HOST:PORT (token: --token or "
                    "KEIRETSU_TOKEN, auditor role)");
    sub->add_flag("--tls", o.tls,
                  "Use TLS for --against (--tls-ca: roots other than the system's)");
    sub->add_flag("--allow-unsealed", o.allow_unsealed,
                  "Accept an export without its exporter's checkpoint (completeness unproven)");
    sub->add_option("--threads", o.threads, "Signature-checking threads (default: one per core)");
    sub->add_flag("-q,--quiet", a->quiet, "No progress lines on stderr");
    sub->callback([&ctx, a] {
      ctx.run = [&ctx, a] {
        Audit(ctx, *a);
        return Status::Ok();
      };
    });
  }
}

}  // namespace keiretsu::cli
