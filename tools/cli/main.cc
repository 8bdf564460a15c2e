// keiretsu: the command-line client of a keiretsu node (see cli.h, docs/API.md).
#include <grpc/support/log.h>

#include <cstdlib>
#include <iostream>

#include "cli.h"

namespace {
// gRPC's core writes its own diagnostics (e.g. "Handshake failed ...") to
// stderr; the CLI promises one error line, and the same facts reach it as
// the call's status. Whoever sets GRPC_VERBOSITY or GRPC_TRACE to debug
// gets gRPC's logs back.
void QuietGrpcLog(gpr_log_func_args* /*args*/) {}
}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("GRPC_VERBOSITY") == nullptr && std::getenv("GRPC_TRACE") == nullptr)
    gpr_set_log_function(QuietGrpcLog);
  return keiretsu::cli::RunCli(argc, argv, std::cout, std::cerr);
}
