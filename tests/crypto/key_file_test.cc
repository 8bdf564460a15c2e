#include "keiretsu/crypto/key_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "temp_dir.h"

namespace keiretsu::crypto {
namespace {

class KeyFileTest : public ::testing::Test {
 protected:
  testing::TempDir dir;
  std::string path = dir.Sub("firm.key");
};

TEST_F(KeyFileTest, WritesMode0600AndReadsBack) {
  SigningKey key = SigningKey::Generate();
  ASSERT_TRUE(WriteKeyFile(path, key).ok());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = ReadKeyFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->public_key(), key.public_key());
  Bytes msg = {9};
  EXPECT_EQ(loaded->Sign(msg), key.Sign(msg));
}

TEST_F(KeyFileTest, NeverOverwrites) {
  ASSERT_TRUE(WriteKeyFile(path, SigningKey::Generate()).ok());
  Status s = WriteKeyFile(path, SigningKey::Generate());
  EXPECT_EQ(s.code(), Code::kAlreadyExists);
}

TEST_F(KeyFileTest, RefusesGroupOrWorldReadable) {
  SigningKey key = SigningKey::Generate();
  ASSERT_TRUE(WriteKeyFile(path, key).ok());
  for (mode_t mode : {0644, 0640, 0604}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    auto r = ReadKeyFile(path);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kPermissionDenied);
    EXPECT_NE(r.status().message().find("chmod 600"), std::string::npos) << r.status().message();
  }
}

TEST_F(KeyFileTest, MissingFileIsNotFound) {
  EXPECT_EQ(ReadKeyFile(dir.Sub("none.key")).status().code(), Code::kNotFound);
}

TEST_F(KeyFileTest, RefusesMalformedContent) {
  const char* bad[] = {
      "",
      "keiretsu-ed25519-secret-v1 zz\n",
      "keiretsu-ed25519-secret-v2 "
      "0000000000000000000000000000000000000000000000000000000000000000\n",
      "keiretsu-ed25519-secret-v1 "
      "000000000000000000000000000000000000000000000000000000000000000g\n",
      "keiretsu-ed25519-secret-v1 "
      "0000000000000000000000000000000000000000000000000000000000000000\nX",
  };
  for (const char* content : bad) {
    std::string p = dir.Sub("bad.key");
    std::remove(p.c_str());
    { std::ofstream(p) << content; }
    ASSERT_EQ(::chmod(p.c_str(), 0600), 0);
    auto r = ReadKeyFile(p);
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << "content: " << content;
  }
}

}  // namespace
}  // namespace keiretsu::crypto
