// keiretsu-audit: verifies an export or a data directory; see
// keiretsu/audit/audit.h for the exit status and docs/audit.md for the rest.
#include <CLI/CLI.hpp>
#include <iostream>

#include "keiretsu/audit/audit.h"

int main(int argc, char** argv) {
  keiretsu::audit::Options o;
  bool quiet = false;
  CLI::App app{
      "Verify a keiretsu export file or data directory: every signature, every feed's chain, "
      "the fork rule, every balance and the state digest.\n"
      "Exit status: 0 verified, 1 verification failed, 2 could not audit, 3 verified but a "
      "checkpoint or the live node disagrees.",
      "keiretsu-audit"};
  app.add_option("input", o.input, "export file, or a node's data directory")->required();
  app.add_option("--genesis", o.genesis_file,
                 "genesis file (canonical bytes or TOML); required for a data directory");
  app.add_option("--checkpoint", o.checkpoint_files,
                 "a signed checkpoint file (keiretsu.v1.Checkpoint, binary or JSON) to verify "
                 "and compare; repeatable");
  app.add_option("--against", o.against, "compare with a live node's API at HOST:PORT");
  app.add_option("--token", o.token, "API bearer token for --against (auditor role)")
      ->envname("KEIRETSU_TOKEN");
  app.add_flag("--tls", o.tls, "use TLS for --against");
  app.add_option("--tls-ca", o.tls_ca_file, "PEM root certificates for --tls")
      ->check(CLI::ExistingFile);
  app.add_flag("--allow-unsealed", o.allow_unsealed,
               "accept an export without its exporter's checkpoint (its completeness is then "
               "unproven)");
  app.add_option("--threads", o.threads, "signature-checking threads (default: one per core)");
  app.add_flag("--json", o.json, "print the report as JSON");
  app.add_flag("-q,--quiet", quiet, "no progress lines on stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : keiretsu::audit::kExitError;
  }
  if (!quiet) o.progress = &std::cerr;
  return keiretsu::audit::Run(o, std::cout);
}
