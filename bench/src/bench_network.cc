#include "bench/src/bench_network.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "keiretsu/crypto/key_file.h"

namespace keiretsu::bench {

Result<BenchNetwork> MakeBenchNetwork(int members, const std::string& name) {
  protocol::GenesisSpec spec;
  spec.network_name = name;
  spec.created_unix = static_cast<uint64_t>(std::time(nullptr));
  spec.admission_quorum = 1;
  std::vector<crypto::SigningKey> keys;
  std::vector<std::string> names;
  for (int i = 0; i < members; ++i) {
    keys.push_back(crypto::SigningKey::Generate());
    char buf[16];
    std::snprintf(buf, sizeof buf, "firm%02d", i);
    names.emplace_back(buf);
    spec.members.push_back({names.back(), keys.back().public_key()});
  }
  KEIRETSU_ASSIGN_OR_RETURN(protocol::Genesis genesis, protocol::Genesis::Create(spec));
  return BenchNetwork{std::move(keys), std::move(names), std::move(genesis)};
}

namespace {

Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Internal("cannot write " + path);
  return Status::Ok();
}

}  // namespace

Result<std::string> WriteFirmDir(const BenchNetwork& net, const NodeLayout& layout,
                                 const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Internal("cannot create " + dir + ": " + ec.message());
  KEIRETSU_RETURN_IF_ERROR(WriteText(dir + "/genesis.toml", net.genesis.ToToml()));
  KEIRETSU_RETURN_IF_ERROR(
      crypto::WriteKeyFile(dir + "/firm.key", net.keys[static_cast<size_t>(layout.member)]));
  std::string config =
      "data_dir = \"data\"\n"
      "key_file = \"firm.key\"\n"
      "genesis_file = \"genesis.toml\"\n"
      "[log]\nlevel = \"info\"\n"
      "[api]\nlisten = \"127.0.0.1:0\"\n"
      "[[api.tokens]]\ntoken = \"" +
      std::string(kBenchToken) + "\"\nrole = \"operator\"\n";
  if (!layout.peer_listen.empty() || !layout.peers.empty()) config += "[peer]\n";
  if (!layout.peer_listen.empty()) config += "listen = \"" + layout.peer_listen + "\"\n";
  if (!layout.require_peer_before_write) config += "require_peer_before_write = false\n";
  for (size_t i = 0; i < layout.peers.size(); ++i)
    config += "[[peer.peers]]\nfirm = \"" + net.names[static_cast<size_t>(layout.peers[i])] +
              "\"\naddress = \"" + layout.peer_addresses[i] + "\"\n";
  if (layout.ops) config += "[ops]\nlisten = \"127.0.0.1:0\"\n";
  const std::string path = dir + "/keiretsud.toml";
  KEIRETSU_RETURN_IF_ERROR(WriteText(path, config));
  return path;
}

Result<int> FreeLoopbackPort() {
  int low = 32768, high = 60999;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> low >> high;
  std::vector<int> candidates;
  for (int p = 20000; p < 32000; ++p)
    if (p < low || p > high) candidates.push_back(p);
  if (candidates.empty()) return Internal("every port from 20000 to 31999 is ephemeral");
  const std::string lock_dir = "/tmp/keiretsu-test-ports";
  std::error_code ec;
  std::filesystem::create_directories(lock_dir, ec);
  static size_t next = static_cast<size_t>(::getpid()) * 7919;
  for (size_t tried = 0; tried < candidates.size(); ++tried) {
    const int port = candidates[next++ % candidates.size()];
    const std::string lock = lock_dir + "/" + std::to_string(port) + ".lock";
    // Kept open (never closed): the port stays ours until this process exits.
    const int lock_fd = ::open(lock.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    if (lock_fd < 0) continue;
    if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(lock_fd);
      continue;
    }
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
      ::close(lock_fd);
      return Internal("socket() failed");
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (free) return port;
    ::close(lock_fd);
  }
  return Internal("no free loopback port outside the ephemeral range " + std::to_string(low) + "-" +
                  std::to_string(high));
}

}  // namespace keiretsu::bench
