// A firm's directory as an operator would lay it out: genesis, key file
// (0600), config (relative paths), data directory created on first start.
#pragma once

#include <sys/stat.h>

#include <fstream>
#include <string>

#include "keiretsu/crypto/key_file.h"
#include "test_network.h"

namespace keiretsu::daemon {

inline constexpr char kOperatorToken[] = "operator-token-0123456789";

inline void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

struct FirmDir {
  testing::TempDir dir;

  // Writes genesis, key (firm `self` of `net`) and a config listening on
  // 127.0.0.1:0 with one operator token, plus `extra` appended.
  FirmDir(const testing::TestNetwork& net, int self, const std::string& extra = "") {
    WriteText(dir.Sub("genesis.toml"), net.genesis.ToToml());
    Status s = crypto::WriteKeyFile(dir.Sub("firm.key"), net.key(self));
    if (!s.ok()) throw std::runtime_error(s.ToString());
    WriteConfig(extra);
  }
  void WriteConfig(const std::string& extra) {
    WriteText(config(), std::string("data_dir = \"data\"\n") +
                            "key_file = \"firm.key\"\n"
                            "genesis_file = \"genesis.toml\"\n"
                            "[log]\nlevel = \"debug\"\n"
                            "[api]\nlisten = \"127.0.0.1:0\"\n"
                            "[[api.tokens]]\ntoken = \"" +
                            kOperatorToken + "\"\nrole = \"operator\"\n" + extra);
  }
  std::string config() const { return dir.Sub("keiretsud.toml"); }
  std::string data() const { return dir.Sub("data"); }
  std::string key() const { return dir.Sub("firm.key"); }
};

}  // namespace keiretsu::daemon
