// Property: nothing acknowledged is lost (DESIGN.md invariant 5). A child
// process (durability_writer) appends to one firm's feed and reports each
// entry as soon as Append returns OK; the test SIGKILLs it at a random
// moment, reopens the data directory and checks that every reported entry is
// there with the reported id, that the chain is intact and verifies, and that
// the materialised balances are exactly the entries' effects. Each round
// reopens the directory the previous round killed mid-write, so recovery of
// a killed directory is exercised too (including kills during open).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <thread>

#include "keiretsu/node/ledger.h"
#include "test_network.h"

#ifndef KEIRETSU_DURABILITY_WRITER
#error "KEIRETSU_DURABILITY_WRITER must name the durability_writer executable"
#endif

namespace keiretsu::node {
namespace {

constexpr int kFirms = 4;  // as durability_writer's network
constexpr int kWriter = 1;
constexpr int kRounds = 24;

struct RoundLog {
  std::map<uint64_t, std::string> reported;  // seq -> id hex, as the child printed
  int status = 0;                            // waitpid status
  std::string partial;                       // bytes after the last newline
};

// Runs the writer once on `dir` and SIGKILLs it: after `lines` reported
// entries plus `delay_us`, or, when `lines` < 0, `delay_us` after the start
// (which may be while it is still opening the store).
RoundLog RunAndKill(const std::string& dir, uint64_t child_seed, int lines, int delay_us) {
  RoundLog log;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  std::string exe = KEIRETSU_DURABILITY_WRITER, firm = std::to_string(kWriter),
              seed = std::to_string(child_seed);
  char* const argv[] = {exe.data(), const_cast<char*>(dir.c_str()), firm.data(), seed.data(),
                        nullptr};
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {  // only async-signal-safe calls until exec
    ::dup2(fds[1], STDOUT_FILENO);
    ::execv(argv[0], argv);
    ::_exit(127);
  }
  ::close(fds[1]);

  std::string buf;
  auto consume = [&] {
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      auto sp = line.find(' ');
      log.reported[std::stoull(line.substr(0, sp))] = line.substr(sp + 1);
    }
  };
  auto read_some = [&](int timeout_ms) {  // false at EOF
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return true;
    char chunk[4096];
    ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
    consume();
    return true;
  };

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool open = true;
  if (lines >= 0)
    while (open && static_cast<int>(log.reported.size()) < lines &&
           std::chrono::steady_clock::now() < deadline)
      open = read_some(100);
  std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
  ::kill(pid, SIGKILL);
  while (open) open = read_some(-1);  // drain what it reported before dying
  ::close(fds[0]);
  ::waitpid(pid, &log.status, 0);
  log.partial = buf;
  return log;
}

class Durability : public ::testing::Test {
 protected:
  testing::TestNetwork net = testing::MakeNetwork(kFirms);
  testing::TempDir dir;
  std::vector<EntryId> chain;  // every id seen stored so far, chain[s-1] at seq s

  // Reopens the directory and checks everything against what was reported.
  void CheckAfterKill(const RoundLog& log, uint64_t prev_head) {
    auto ledger = testing::OpenLedger(net, dir.Sub("db"));
    const PublicKey& author = net.pk(kWriter);
    const FeedState st = ledger->Feed(author);
    EXPECT_EQ(st.stop_seq, 0u);

    // The child starts at the head this test last saw and reports in order;
    // at most the one entry it was printing when killed is unreported.
    uint64_t expect_seq = prev_head + 1;
    for (const auto& [seq, hex] : log.reported) EXPECT_EQ(seq, expect_seq++) << "gap in report";
    const uint64_t acked = log.reported.empty() ? prev_head : log.reported.rbegin()->first;
    EXPECT_GE(st.head_seq, acked) << "acknowledged entries lost";
    EXPECT_LE(st.head_seq, acked + 1);

    // The whole chain: contiguous, linked, each record verifying on its own.
    auto records = ledger->ReadFeed(author, 1, st.head_seq + 10);
    ASSERT_TRUE(records.ok());
    ASSERT_EQ(records->size(), st.head_seq);
    std::vector<EntryId> ids;
    std::map<std::tuple<PublicKey, PublicKey, std::string>, protocol::Amount128> sums;
    for (size_t i = 0; i < records->size(); ++i) {
      auto check = protocol::CheckRecord((*records)[i], net.genesis, /*verify_signature=*/true);
      ASSERT_EQ(check.fault, protocol::Fault::kNone) << "seq " << i + 1 << check.status.ToString();
      const protocol::Entry& e = check.signed_entry->entry;
      EXPECT_EQ(e.author, author);
      EXPECT_EQ(e.seq, i + 1);
      EXPECT_EQ(e.prev, i == 0 ? EntryId{} : ids.back());
      ids.push_back(check.signed_entry->id);
      // The test's own arithmetic: an obligation burdens its author, a
      // release lightens the debtor it names.
      if (const auto* o = std::get_if<protocol::Obligation>(&e.body)) {
        sums[{o->creditor, author, o->unit}] += o->amount;
        sums[{author, o->creditor, o->unit}] -= o->amount;
      } else if (const auto* r = std::get_if<protocol::Release>(&e.body)) {
        sums[{author, r->debtor, r->unit}] -= r->amount;
        sums[{r->debtor, author, r->unit}] += r->amount;
      }
    }
    EXPECT_EQ(st.head_id, ids.empty() ? EntryId{} : ids.back());
    // Nothing seen stored before changed, and every report holds.
    for (size_t i = 0; i < chain.size() && i < ids.size(); ++i)
      EXPECT_EQ(ids[i], chain[i]) << "stored entry " << i + 1 << " changed";
    EXPECT_GE(ids.size(), chain.size()) << "entries seen stored before are gone";
    for (const auto& [seq, hex] : log.reported) {
      ASSERT_LE(seq, ids.size());
      EXPECT_EQ(ids[seq - 1].Hex(), hex) << "reported id differs at seq " << seq;
      auto by_id = ledger->GetEntry(*EntryId::FromHex(hex));
      ASSERT_TRUE(by_id.ok() && by_id->has_value()) << "reported entry " << seq << " not found";
      EXPECT_EQ(**by_id, (*records)[seq - 1]);
    }
    chain = ids;

    EXPECT_TRUE(ledger->store().CheckConsistency().ok());
    EXPECT_EQ(ledger->PendingCount(), 0u);
    EXPECT_TRUE(ledger->ListEvidence()->empty());
    auto stored = ledger->ListAllBalances();
    auto recomputed = ledger->RecomputeBalances();
    ASSERT_TRUE(stored.ok() && recomputed.ok());
    std::erase_if(sums, [](const auto& kv) { return kv.second == 0; });
    std::map<std::tuple<PublicKey, PublicKey, std::string>, protocol::Amount128> got, again;
    for (const auto& r : *stored) got[{r.firm, r.counterparty, r.unit}] = r.net;
    for (const auto& r : *recomputed) again[{r.firm, r.counterparty, r.unit}] = r.net;
    EXPECT_TRUE(got == again) << "materialised balances differ from recomputation";
    EXPECT_TRUE(got == sums) << "balances differ from the entries' effects";
  }
};

TEST_F(Durability, AcknowledgedEntriesSurviveSigkill) {
  // Kill timing is a race whatever the seed; a fresh seed per run explores
  // more moments over many CI runs, and is printed for the record.
  const uint64_t seed = std::random_device{}();
  std::printf("durability seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  uint64_t head = 0;
  int killed_mid_run = 0, unreported_tail = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int round = 0; round < kRounds && !HasFailure(); ++round) {
    // Mostly after some acknowledged entries; every fourth round at a
    // random time from the start, which may hit the store's recovery.
    const bool from_start = round % 4 == 3;
    const int lines = from_start ? -1 : static_cast<int>(rng() % 60);
    const int delay_us = static_cast<int>(rng() % (from_start ? 150'000 : 5'000));
    SCOPED_TRACE("round " + std::to_string(round) + " lines " + std::to_string(lines) +
                 " delay_us " + std::to_string(delay_us));
    RoundLog log = RunAndKill(dir.Sub("db"), rng(), lines, delay_us);
    ASSERT_TRUE(WIFSIGNALED(log.status) && WTERMSIG(log.status) == SIGKILL)
        << "the writer ended on its own (status " << log.status << "); see its stderr above";
    EXPECT_TRUE(log.partial.empty()) << "a report line was cut: " << log.partial;
    if (!log.reported.empty()) ++killed_mid_run;
    CheckAfterKill(log, head);
    const uint64_t acked = log.reported.empty() ? head : log.reported.rbegin()->first;
    if (chain.size() > acked) ++unreported_tail;  // committed, killed before printing
    head = chain.size();
  }
  // The rounds must actually have killed a writer that was writing.
  EXPECT_GE(killed_mid_run, kRounds / 2);
  EXPECT_GT(head, static_cast<uint64_t>(kRounds));
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  std::printf(
      "%d rounds (%d killed after reports, %d with a committed but unreported entry), "
      "%llu entries, %lld ms\n",
      kRounds, killed_mid_run, unreported_tail, static_cast<unsigned long long>(head),
      static_cast<long long>(ms));
}

}  // namespace
}  // namespace keiretsu::node
