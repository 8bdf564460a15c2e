// What every write command shares: a request id (docs/API.md "Idempotent
// writes") and one send whose unknown outcome says how to repeat it safely.
// Used by commands_write.cc and commands_gov.cc.
#pragma once

#include <string>

#include "cli.h"
#include "client.h"
#include "keiretsu/common/status.h"

namespace keiretsu::cli {

// The request id to send: the flag's, or "cli-" and 32 random hex digits.
std::string RequestIdOf(const std::string& flag);

// Sends one write with a request id; when its outcome is unknown (the node
// did not answer in time, or went away), the error says how to repeat the
// command without writing twice.
template <typename Request, typename Method>
Result<keiretsu::v1::WriteResponse> SendWrite(Context& ctx, Method method, Request& req,
                                              const std::string& request_id_flag) {
  req.set_request_id(RequestIdOf(request_id_flag));
  KEIRETSU_ASSIGN_OR_RETURN(auto client, ConnectFromContext(ctx));
  keiretsu::v1::WriteResponse r;
  Status s = client->Call(method, req, &r);
  if (s.code() == Code::kUnavailable)
    return Status(s.code(), s.message() +
                                "; the write may or may not have been recorded: repeat "
                                "the command with --request-id " +
                                req.request_id() + "; it is then written at most once");
  KEIRETSU_RETURN_IF_ERROR(s);
  return r;
}

// Adds --request-id to a write command.
void AddRequestId(CLI::App* sub, std::string& id);

}  // namespace keiretsu::cli
