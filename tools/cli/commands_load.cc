// `keiretsu load FILE`: many writes from a file (CSV with a header, or JSON
// lines), sent in batches through WriteBatch (docs/API.md "Loading writes
// from a file"). Every row carries a request id, its own column's or a
// stable one derived from the file's name and the row's line number, so
// running the same file again writes nothing twice.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "args.h"
#include "cli.h"
#include "client.h"
#include "keiretsu/crypto/hash.h"
#include "output.h"
#include "progress.h"

namespace keiretsu::cli {
namespace {

namespace v1 = keiretsu::v1;

constexpr size_t kMaxBatch = 1000;  // the node's cap (api::kMaxBatchItems)

struct LoadArgs {
  std::string file;
  std::string format;  // csv, jsonl; empty: from the extension
  size_t batch = 500;
};

// One row of the file: its line number and its fields by column name.
struct Row {
  size_t line = 0;
  std::map<std::string, std::string> fields;
};

// Splits one CSV line: fields separated by commas, a field in double quotes
// may hold commas and "" for a quote.
Result<std::vector<std::string>> SplitCsv(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"' && out.back().empty()) {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  if (quoted) return InvalidArgument("a quoted field is not closed");
  return out;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.pop_back();
  size_t start = 0;
  while (start < s.size() && s[start] == ' ') ++start;
  return s.substr(start);
}

// Reads the rows of `in`; a line that cannot be read becomes a failure.
struct Parsed {
  std::vector<Row> rows;
  std::vector<std::pair<size_t, std::string>> failed;  // line, why
};

Result<Parsed> ReadCsv(std::istream& in) {
  Parsed p;
  std::string line;
  std::vector<std::string> header;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    line = Trimmed(line);
    if (line.empty()) continue;
    auto fields = SplitCsv(line);
    if (header.empty()) {
      if (!fields.ok()) return InvalidArgument("line 1 (the header): " + fields.status().message());
      for (auto& f : *fields) header.push_back(Trimmed(f));
      for (const char* need : {"kind", "counterparty", "unit", "amount"})
        if (std::find(header.begin(), header.end(), need) == header.end())
          return InvalidArgument(std::string("the CSV header has no column \"") + need +
                                 "\" (it needs kind,counterparty,unit,amount and may have "
                                 "memo,request_id)");
      continue;
    }
    if (!fields.ok()) {
      p.failed.emplace_back(n, fields.status().message());
      continue;
    }
    if (fields->size() != header.size()) {
      p.failed.emplace_back(n, std::to_string(fields->size()) + " fields, the header has " +
                                   std::to_string(header.size()));
      continue;
    }
    Row r{n, {}};
    for (size_t i = 0; i < header.size(); ++i) r.fields[header[i]] = (*fields)[i];
    p.rows.push_back(std::move(r));
  }
  if (header.empty()) return InvalidArgument("the file is empty: a CSV needs a header line");
  return p;
}

Parsed ReadJsonLines(std::istream& in) {
  Parsed p;
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (Trimmed(line).empty()) continue;
    google::protobuf::Struct obj;
    auto s = google::protobuf::util::JsonStringToMessage(line, &obj);
    if (!s.ok()) {
      p.failed.emplace_back(n, "not a JSON object: " + std::string(s.message()));
      continue;
    }
    Row r{n, {}};
    for (const auto& [key, value] : obj.fields()) {
      if (value.has_string_value()) {
        r.fields[key] = value.string_value();
      } else if (value.has_number_value()) {
        std::ostringstream text;
        text.precision(17);
        text << value.number_value();
        r.fields[key] = text.str();
      } else {
        p.failed.emplace_back(n, "field \"" + key + "\" must be a string or a number");
        r.fields.clear();
        break;
      }
    }
    if (!r.fields.empty()) p.rows.push_back(std::move(r));
  }
  return p;
}

std::string Field(const Row& r, const std::string& name) {
  auto it = r.fields.find(name);
  return it == r.fields.end() ? std::string() : it->second;
}

// The request id of a row without one: "load-" and 32 hex digits of a
// hash of the file's name (not its directory) and the line number.
std::string StableRequestId(const std::string& file, size_t line) {
  const std::string name = std::filesystem::path(file).filename().string();
  std::string msg = "keiretsu/load/v1\n" + name + "\n" + std::to_string(line);
  const Hash32 h = crypto::Blake2b256(AsBytes(msg));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "load-";
  for (size_t i = 0; i < 16; ++i) {
    id += kHex[h[i] >> 4];
    id += kHex[h[i] & 0xf];
  }
  return id;
}

// The batch item of a row, or why the row is refused before sending.
Result<v1::BatchItem> ItemOf(const Row& r, const std::string& file) {
  const std::string kind = Field(r, "kind");
  const std::string firm = Field(r, "counterparty");
  if (firm.empty()) return InvalidArgument("counterparty is empty");
  KEIRETSU_ASSIGN_OR_RETURN(uint64_t amount, ParseAmount(Field(r, "amount")));
  std::string id = Field(r, "request_id");
  if (id.empty()) id = StableRequestId(file, r.line);
  v1::BatchItem item;
  auto fill = [&](auto* req) {
    req->set_amount(amount);
    req->set_unit(Field(r, "unit"));
    req->set_memo(Field(r, "memo"));
    req->set_request_id(id);
  };
  if (kind == "claim") {
    item.mutable_claim()->set_debtor(firm);
    fill(item.mutable_claim());
  } else if (kind == "owe" || kind == "obligation") {
    item.mutable_obligation()->set_creditor(firm);
    fill(item.mutable_obligation());
  } else if (kind == "release") {
    item.mutable_release()->set_debtor(firm);
    fill(item.mutable_release());
  } else {
    return InvalidArgument("kind \"" + kind + "\" is none of claim, owe, release");
  }
  return item;
}

Status Load(Context& ctx, const LoadArgs& a) {
  std::string format = a.format;
  if (format.empty()) {
    const std::string ext = std::filesystem::path(a.file).extension().string();
    if (ext == ".csv") format = "csv";
    if (ext == ".jsonl" || ext == ".ndjson" || ext == ".json") format = "jsonl";
    if (format.empty())
      return InvalidArgument("cannot tell the format of " + a.file +
                             " from its extension: give --format csv or --format jsonl");
  }
  if (a.batch == 0 || a.batch > kMaxBatch)
    return InvalidArgument("--batch must be between 1 and " + std::to_string(kMaxBatch));
  std::ifstream in(a.file);
  if (!in) return NotFound("cannot open " + a.file);
  Parsed p;
  if (format == "csv") {
    KEIRETSU_ASSIGN_OR_RETURN(p, ReadCsv(in));
  } else {
    p = ReadJsonLines(in);
  }
  std::vector<std::pair<size_t, v1::BatchItem>> items;  // line, item
  for (const Row& r : p.rows) {
    auto item = ItemOf(r, a.file);
    if (!item.ok())
      p.failed.emplace_back(r.line, item.status().message());
    else
      items.emplace_back(r.line, std::move(item).value());
  }
  KEIRETSU_ASSIGN_OR_RETURN(auto client, ConnectFromContext(ctx));
  const size_t total = items.size();
  size_t written = 0, present = 0, sent = 0;
  Progress bar(ctx, "loading", "rows");
  const bool plain = !bar.active() && !ctx.json && ctx.err != nullptr;
  for (size_t start = 0; start < total; start += a.batch) {
    const size_t end = std::min(total, start + a.batch);
    v1::WriteBatchRequest req;
    for (size_t i = start; i < end; ++i) *req.add_items() = items[i].second;
    v1::WriteBatchResponse resp;
    Status s = client->Call(&v1::Ledger::Stub::WriteBatch, req, &resp);
    if (!s.ok()) {
      bar.Done();
      return Status(s.code(), s.message() + "; " + std::to_string(written + present) + " of " +
                                  std::to_string(total) +
                                  " rows were written before; running the same command again "
                                  "writes nothing twice");
    }
    for (int k = 0; k < resp.results_size(); ++k) {
      const v1::BatchResult& r = resp.results(k);
      const size_t line = items[start + static_cast<size_t>(k)].first;
      if (r.code() != 0) {
        // The node's message starts "item <index>: "; the line says more.
        std::string why = r.message();
        if (size_t colon = why.find(": "); why.rfind("item ", 0) == 0 && colon != why.npos)
          why = why.substr(colon + 2);
        p.failed.emplace_back(line, why);
      } else if (r.replayed()) {
        ++present;
      } else {
        ++written;
      }
    }
    sent = end;
    bar.Update(sent, total);
    if (plain)
      *ctx.err << "loaded " << sent << " of " << total << " rows (" << written << " written, "
               << present << " already present)\n";
  }
  bar.Done();
  std::sort(p.failed.begin(), p.failed.end());
  if (ctx.json) {
    *ctx.out << "{\"file\":" << JsonString(a.file) << ",\"written\":\"" << written
             << "\",\"already_present\":\"" << present << "\",\"failed\":[";
    for (size_t i = 0; i < p.failed.size(); ++i)
      *ctx.out << (i ? "," : "") << "{\"line\":\"" << p.failed[i].first
               << "\",\"error\":" << JsonString(p.failed[i].second) << "}";
    *ctx.out << "]}\n";
  } else {
    *ctx.out << "written " << written << ", already present " << present << ", failed "
             << p.failed.size() << "\n";
    for (const auto& [line, why] : p.failed) *ctx.out << "  line " << line << ": " << why << "\n";
  }
  if (!p.failed.empty())
    return InvalidArgument(std::to_string(p.failed.size()) + " rows of " + a.file +
                           " were not written (listed above)");
  return Status::Ok();
}

}  // namespace

void AddLoadCommand(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<LoadArgs>();
  auto* sub = app.add_subcommand("load", "Write many claims, obligations and releases from a file");
  sub->footer(R"(FILE is CSV with a header line, or JSON lines (one object per line).
Columns / keys: kind (claim | owe | release), counterparty (firm name or key),
unit, amount (positive whole number), memo (optional), request_id (optional).
  kind,counterparty,unit,amount,memo,request_id
  claim,osaka-steel,hours,40,forklift loan,
  owe,kobe-parts,JPY,125000,"invoice 7, March",inv-7
  {"kind":"release","counterparty":"osaka-steel","unit":"hours","amount":5}
Rows go to the node in batches (WriteBatch), each row its own result. A row
without request_id gets a stable one from the file's name and line number, so
running the same file again writes nothing twice (rows already written are
counted as "already present"). Rows that fail are listed with their line
numbers, and the exit status is then 4.)");
  sub->add_option("FILE", a->file, "The file to load")->required();
  sub->add_option("--format", a->format, "csv or jsonl (default: from the extension)")
      ->check(CLI::IsMember({"csv", "jsonl"}));
  sub->add_option("--batch", a->batch, "Rows per WriteBatch call (1-1000, default 500)");
  sub->callback([&ctx, a] { ctx.run = [&ctx, a] { return Load(ctx, *a); }; });
}

}  // namespace keiretsu::cli
