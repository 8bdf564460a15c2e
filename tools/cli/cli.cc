// The command line as a whole: global flags, parsing, and the mapping from a
// command's Status to the one stderr line and the exit code.
#include <iostream>
#include <sstream>

#include "cli.h"
#include "keiretsu/audit/audit.h"

#ifndef KEIRETSU_VERSION
#define KEIRETSU_VERSION "unknown"
#endif

namespace keiretsu::cli {

int ExitCodeFor(Code code) {
  switch (code) {
    case Code::kOk: return kExitOk;
    case Code::kNotFound: return kExitNotFound;
    case Code::kPermissionDenied:
    case Code::kUnauthenticated: return kExitDenied;
    case Code::kInvalidArgument:
    case Code::kFailedPrecondition:
    case Code::kAlreadyExists: return kExitInvalid;
    case Code::kUnavailable: return kExitUnavailable;
    case Code::kResourceExhausted: return kExitExhausted;
    case Code::kIOError: return kExitLocalIO;
    case Code::kCorruption:
    case Code::kInternal: return kExitInternal;
  }
  return kExitInternal;
}

std::string ErrorLine(const Status& status) {
  std::string line =
      "keiretsu: " + status.message() + " (" + std::string(CodeName(status.code())) + ")";
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  return line;
}

namespace {

void AddGlobalFlags(CLI::App& app, Context& ctx) {
  const char* node_group = "Node connection";
  app.add_option("--node", ctx.node.node,
                 "API address host:port (env KEIRETSU_NODE; default 127.0.0.1:7701)")
      ->group(node_group);
  app.add_option("--token", ctx.node.token, "Bearer token (env KEIRETSU_TOKEN)")->group(node_group);
  app.add_option("--config", ctx.node.config,
                 "Read the address and the operator token from this keiretsud config")
      ->group(node_group);
  app.add_option("--tls-ca", ctx.node.tls_ca, "PEM CA certificate to trust (turns TLS on)")
      ->group(node_group);
  app.add_option("--tls-cert", ctx.node.tls_cert, "PEM client certificate (mutual TLS)")
      ->group(node_group);
  app.add_option("--tls-key", ctx.node.tls_key, "PEM client key (mutual TLS)")->group(node_group);
  app.add_option("--tls-server-name", ctx.node.tls_server_name,
                 "Name to expect in the node's certificate (default: the --node host)")
      ->group(node_group);
  app.add_option("--timeout", ctx.node.timeout_s, "Seconds to wait for each answer (default 10)")
      ->group(node_group);
  app.add_flag("--json", ctx.json, "Print results as JSON, one object per line");
}

// The innermost subcommand the parser reached, for "see ... --help".
std::string CommandPath(const CLI::App& app) {
  std::string path = app.get_name();
  const CLI::App* cur = &app;
  for (;;) {
    auto subs = cur->get_subcommands();
    if (subs.empty()) break;
    cur = subs.front();
    path += " " + cur->get_name();
  }
  return path;
}

}  // namespace

int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  Context ctx;
  ctx.out = &out;
  ctx.err = &err;
  CLI::App app(
      "keiretsu: operate a keiretsu node and query its ledger.\n"
      "Exit codes: 0 ok, 1 usage, 2 not found, 3 denied, 4 invalid or refused,\n"
      "5 unavailable, 6 limit reached, 7 local file error, 8 internal error.",
      "keiretsu");
  // Global flags may come after the subcommand too: `keiretsu status --json`.
  app.fallthrough();
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("keiretsu ") + KEIRETSU_VERSION);
  AddGlobalFlags(app, ctx);
  AddLocalCommands(app, ctx);
  AddReadCommands(app, ctx);
  AddWriteCommands(app, ctx);
  AddLoadCommand(app, ctx);
  AddStreamCommands(app, ctx);
  AddAuditCommands(app, ctx);
  AddGraphCommands(app, ctx);
  AddGovernanceCommands(app, ctx);
  AddClearingCommands(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    for (char& c : msg)
      if (c == '\n') c = ' ';
    // CLI11 reports a misspelt command as "a subcommand is required"; name it.
    if (app.get_subcommands().empty() && !app.remaining().empty())
      msg = "unknown command '" + app.remaining().front() + "'";
    err << "keiretsu: " << msg << " (usage: " << CommandPath(app) << " --help)\n";
    // `audit` keeps the auditor's exit statuses, where 1 means "failed
    // verification": a bad command line there is "could not audit" (2).
    if (app.got_subcommand("audit")) return audit::kExitError;
    return kExitUsage;
  }
  if (!ctx.run) {  // unreachable with require_subcommand(1); kept as a guard
    err << "keiretsu: no command given (usage: keiretsu --help)\n";
    return kExitUsage;
  }
  Status s;
  try {
    s = ctx.run();
  } catch (const std::exception& e) {
    // Library code (filesystem, protobuf) may throw; the user still gets one line.
    s = Internal(std::string("unexpected error: ") + e.what());
  }
  out.flush();
  if (s.ok()) return ctx.exit_status.value_or(kExitOk);
  err << ErrorLine(s) << '\n';
  return ExitCodeFor(s.code());
}

}  // namespace keiretsu::cli
