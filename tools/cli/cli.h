// The `keiretsu` command line: what the command families share.
//
// Every command is a function returning a Status; main() turns a non-OK
// Status into one line on stderr ("keiretsu: <message> (<CODE>)") and the
// exit code ExitCodeFor(code). Exit codes are a contract with scripts
// (docs/API.md "Exit codes"): never renumber one.
#pragma once

#include <functional>
#include <optional>
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

#include "keiretsu/common/status.h"

namespace keiretsu::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 1,        // bad command line: unknown command or flag, missing argument
  kExitNotFound = 2,     // NOT_FOUND: no such entry, firm, file
  kExitDenied = 3,       // UNAUTHENTICATED, PERMISSION_DENIED
  kExitInvalid = 4,      // INVALID_ARGUMENT, FAILED_PRECONDITION, ALREADY_EXISTS
  kExitUnavailable = 5,  // UNAVAILABLE, DEADLINE_EXCEEDED: node unreachable or busy, try again
  kExitExhausted = 6,    // RESOURCE_EXHAUSTED: a size or count limit
  kExitLocalIO = 7,      // a local file could not be read or written
  kExitInternal = 8,     // INTERNAL, UNKNOWN, corruption: a bug or damaged data
};

// The exit code for a failed command's status code.
int ExitCodeFor(Code code);

// The single stderr line for a failed command, without the trailing newline:
// "keiretsu: <message> (<CODE>)".
std::string ErrorLine(const Status& status);

// How to reach a node: flags, then a keiretsud config, then the environment.
struct NodeFlags {
  std::string node;             // host:port (--node, else KEIRETSU_NODE)
  std::string token;            // bearer token (--token, else KEIRETSU_TOKEN)
  std::string config;           // --config: a keiretsud config to read listen + operator token from
  std::string tls_ca;           // PEM file of the CA that signed the node's certificate
  std::string tls_cert;         // client certificate (mutual TLS)
  std::string tls_key;          // its key
  std::string tls_server_name;  // name to check in the node's certificate
  double timeout_s = 10;        // deadline of each unary call
};

// What every command sees: global flags and where to print.
struct Context {
  NodeFlags node;
  bool json = false;
  std::ostream* out = nullptr;  // stdout in the program, a string stream in tests
  std::ostream* err = nullptr;  // progress notes that are not the result (stderr)
  // Set by the chosen subcommand's parse callback; run by main().
  std::function<Status()> run;
  // Set by a command whose exit status is its own rather than ExitCodeFor's
  // (`audit`: the auditor's 0-3); used when run returns OK.
  std::optional<int> exit_status;
};

// Each command family adds its subcommands to `app`. The subcommands set
// ctx.run when chosen; ctx must outlive app.
void AddLocalCommands(CLI::App& app, Context& ctx);  // keygen, pubkey, genesis, init
void AddReadCommands(CLI::App& app,
                     Context& ctx);  // status, balance, balances, pending, entries, entry
void AddWriteCommands(CLI::App& app, Context& ctx);   // claim, accept, decline, owe, release
void AddLoadCommand(CLI::App& app, Context& ctx);     // load FILE (WriteBatch)
void AddStreamCommands(CLI::App& app, Context& ctx);  // watch, export, import
void AddAuditCommands(CLI::App& app, Context& ctx);   // checkpoint, audit
void AddGraphCommands(CLI::App& app, Context& ctx);   // graph
// propose (admit, remove, threshold), vote, proposals, members, leave, rotate
void AddGovernanceCommands(CLI::App& app, Context& ctx);
void AddClearingCommands(CLI::App& app, Context& ctx);  // clearing find, propose, list, vote

// Builds the whole command line and runs it: the program's main() minus the
// real streams. Returns the exit code. Writes results to `out` and the error
// line (if any) to `err`.
int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace keiretsu::cli
