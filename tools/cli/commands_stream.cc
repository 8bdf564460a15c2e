// Streaming commands: watch (server stream), export (to a file, sealed with
// the node's checkpoint unless --no-checkpoint) and import (from a file).
// The file format is export_file.h's.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "args.h"
#include "cli.h"
#include "client.h"
#include "export_file.h"
#include "output.h"
#include "progress.h"

namespace keiretsu::cli {
namespace {

namespace v1 = keiretsu::v1;
namespace fs = std::filesystem;
using Stub = v1::Ledger::Stub;

struct WatchArgs {
  std::string cursor;
  std::string count;    // stop after this many events
  std::string seconds;  // stop after this long
};

Status Watch(Context& ctx, const WatchArgs& a) {
  uint64_t count = 0, seconds = 0;
  if (!a.count.empty()) {
    KEIRETSU_ASSIGN_OR_RETURN(count, ParsePositive(a.count, "--count"));
  }
  if (!a.seconds.empty()) {
    KEIRETSU_ASSIGN_OR_RETURN(seconds, ParsePositive(a.seconds, "--for"));
  }
  KEIRETSU_ASSIGN_OR_RETURN(auto client, ConnectFromContext(ctx));
  grpc::ClientContext call;
  client->Prepare(&call, /*deadline=*/false);
  if (seconds > 0)
    call.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  v1::WatchRequest req;
  req.set_cursor(a.cursor);
  auto reader = client->stub().Watch(&call, req);
  v1::WatchEvent ev;
  uint64_t seen = 0;
  while ((count == 0 || seen < count) && reader->Read(&ev)) {
    ++seen;
    if (ctx.json)
      *ctx.out << MessageJson(ev) << '\n';
    else
      PrintWatchEvent(*ctx.out, ev);
    ctx.out->flush();  // a script reading the pipe sees each event as it comes
  }
  bool got_all = count > 0 && seen >= count;
  if (got_all) call.TryCancel();
  grpc::Status st = reader->Finish();
  if (got_all) return Status::Ok();
  if (st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && seconds > 0) {
    if (count == 0) return Status::Ok();  // watched for the time asked
    return Unavailable("only " + std::to_string(seen) + " of " + std::to_string(count) +
                       " events arrived within " + std::to_string(seconds) + "s");
  }
  return FromGrpc(st, client->endpoint());
}

struct ExportArgs {
  std::string out;
  bool force = false;
  // Sealed by default: without the node's checkpoint at its end, a file cut
  // at a chunk boundary passes for a complete, older export (docs/audit.md).
  bool checkpoint = true;
};

Status Export(Context& ctx, const ExportArgs& a) {
  bool to_stdout = a.out == "-";
  std::error_code ec;
  if (!to_stdout && !a.force && fs::exists(a.out, ec))
    return AlreadyExists(a.out + " already exists; use --force to replace it");
  KEIRETSU_ASSIGN_OR_RETURN(auto client, ConnectFromContext(ctx));

  // Written beside the target and renamed into place only when the whole
  // stream arrived, so a failed export never leaves a plausible-looking file.
  std::string tmp = a.out + ".partial-" + std::to_string(::getpid());
  std::ofstream file;
  if (!to_stdout) {
    file.open(tmp, std::ios::binary | std::ios::trunc);
    if (!file) return IOError("cannot create " + tmp);
  }
  std::ostream& out = to_stdout ? std::cout : file;
  auto fail = [&](Status s) {
    if (!to_stdout) {
      file.close();
      fs::remove(tmp, ec);
    }
    return s;
  };

  Progress progress(ctx, "exporting", "entries");
  uint64_t expected = 0;  // entries the node holds: the progress line's total
  if (progress.active()) {
    v1::GetStatusResponse status;
    if (client->Call(&Stub::GetStatus, v1::GetStatusRequest(), &status).ok())
      for (const v1::FeedHead& f : status.feeds()) expected += f.head_seq();
  }
  grpc::ClientContext call;
  client->Prepare(&call, /*deadline=*/false);
  v1::ExportRequest req;
  req.set_include_checkpoint(a.checkpoint);
  auto reader = client->stub().Export(&call, req);
  v1::ExportChunk chunk;
  uint64_t headers = 0, entries = 0, evidence = 0, checkpoints = 0;
  Status write_error;
  while (reader->Read(&chunk)) {
    switch (chunk.item_case()) {
      case v1::ExportChunk::kHeader: ++headers; break;
      case v1::ExportChunk::kEntry: ++entries; break;
      case v1::ExportChunk::kEvidence: ++evidence; break;
      case v1::ExportChunk::kCheckpoint: ++checkpoints; break;
      default: break;
    }
    progress.Update(entries, std::max(expected, entries));
    write_error = WriteExportChunk(out, chunk);
    if (!write_error.ok()) {
      call.TryCancel();
      break;
    }
  }
  grpc::Status st = reader->Finish();
  progress.Done();
  if (!write_error.ok()) return fail(write_error.WithContext("writing " + tmp));
  if (Status s = FromGrpc(st, client->endpoint()); !s.ok()) return fail(s);
  if (headers != 1) return fail(Internal("node sent an export without exactly one header"));
  out.flush();
  if (!to_stdout) {
    file.close();
    if (!file) return fail(IOError("cannot write " + tmp));
    fs::rename(tmp, a.out, ec);
    if (ec) return fail(IOError("cannot rename " + tmp + " to " + a.out + ": " + ec.message()));
  }
  std::string file_name = to_stdout ? "-" : a.out;
  if (ctx.json && !to_stdout) {
    *ctx.out << FlatJson({{"file", file_name},
                          {"entries", std::to_string(entries)},
                          {"evidence", std::to_string(evidence)},
                          {"checkpoints", std::to_string(checkpoints)}})
             << '\n';
  } else {
    *ctx.err << "exported " << entries << " entries, " << evidence << " evidence, " << checkpoints
             << " checkpoint(s) to " << file_name << '\n';
  }
  return Status::Ok();
}

// Checks the framing of the whole file (every chunk parses, the first is
// the header) before anything is sent: a damaged file fails here whole
// instead of half-imported.
Result<uint64_t> CheckExportFile(std::istream& in, const std::string& name) {
  uint64_t n = 0;
  v1::ExportChunk chunk;
  for (;;) {
    auto more = ReadExportChunk(in, &chunk, n);
    if (!more.ok()) return more.status().WithContext(name);
    if (!*more) break;
    if (n == 0 && chunk.item_case() != v1::ExportChunk::kHeader)
      return InvalidArgument(name + " is not a keiretsu export: it does not start with a header");
    if (n > 0 && chunk.item_case() == v1::ExportChunk::kHeader)
      return InvalidArgument(name + ": chunk " + std::to_string(n + 1) + " is a second header");
    ++n;
  }
  if (n == 0) return InvalidArgument(name + " is empty, not a keiretsu export");
  return n;
}

Status Import(Context& ctx, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read export file " + path);
  KEIRETSU_ASSIGN_OR_RETURN(uint64_t chunks, CheckExportFile(in, path));
  in.clear();
  in.seekg(0);
  KEIRETSU_ASSIGN_OR_RETURN(auto client, ConnectFromContext(ctx));

  grpc::ClientContext call;
  client->Prepare(&call, /*deadline=*/false);
  v1::ImportResponse r;
  auto writer = client->stub().Import(&call, &r);
  v1::ExportChunk chunk;
  Progress progress(ctx, "importing", "chunks");
  for (uint64_t i = 0; i < chunks; ++i) {
    progress.Update(i, chunks);
    auto more = ReadExportChunk(in, &chunk, i);
    if (!more.ok() || !*more) {
      call.TryCancel();
      writer->Finish().ok();
      return IOError(path + " changed while it was being imported");
    }
    if (!writer->Write(chunk)) break;  // the node ended the call; Finish says why
  }
  writer->WritesDone();
  progress.Update(chunks, chunks, "waiting for the node");
  grpc::Status finished = writer->Finish();
  progress.Done();
  KEIRETSU_RETURN_IF_ERROR(FromGrpc(finished, client->endpoint()));
  if (ctx.json)
    *ctx.out << MessageJson(r) << '\n';
  else
    PrintImport(*ctx.out, r);
  if (r.rejected() > 0)
    return InvalidArgument(std::to_string(r.rejected()) + " entries of " + path + " were rejected" +
                           (r.problems_size() > 0 ? ": " + Printable(r.problems(0), 200) : ""));
  return Status::Ok();
}

}  // namespace

void AddStreamCommands(CLI::App& app, Context& ctx) {
  {
    auto a = std::make_shared<WatchArgs>();
    auto* sub = app.add_subcommand(
        "watch", "Print new entries and the balance changes they cause, as they happen");
    sub->add_option("--cursor", a->cursor, "Resume after this event's cursor (default: from now)");
    sub->add_option("--count", a->count, "Stop after this many events");
    sub->add_option("--for", a->seconds,
                    "Stop after this many seconds (with --count: fail if fewer arrived)");
    sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return Watch(ctx, *a); }; });
  }
  {
    auto a = std::make_shared<ExportArgs>();
    auto* sub = app.add_subcommand(
        "export", "Write every signed entry, the genesis and evidence to a file (auditor)");
    sub->add_option("--out", a->out, "File to write (- for stdout)")->required();
    sub->add_flag("--force", a->force, "Replace an existing file");
    sub->add_flag("--checkpoint,!--no-checkpoint", a->checkpoint,
                  "Seal the export with a checkpoint signed by the node (the default; "
                  "--no-checkpoint: leave it unsealed)");
    sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return Export(ctx, *a); }; });
  }
  {
    auto path = std::make_shared<std::string>();
    auto* sub = app.add_subcommand("import",
                                   "Feed an export file through the node's validation (operator)");
    sub->add_option("FILE", *path, "An export file")->required();
    sub->callback([&ctx, path] { ctx.run = [&ctx, path] { return Import(ctx, *path); }; });
  }
}

}  // namespace keiretsu::cli
