#include "keiretsu/crypto/hash.h"

#include <gtest/gtest.h>

namespace keiretsu::crypto {
namespace {

// Known answers from an independent implementation (Python hashlib.blake2b
// with digest_size=32).
TEST(Blake2b256, KnownAnswers) {
  EXPECT_EQ(ToHex(Blake2b256({})),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  EXPECT_EQ(ToHex(Blake2b256(AsBytes("abc"))),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST(Blake2b256, IncrementalEqualsOneShot) {
  Blake2b256Hasher h;
  h.Update(AsBytes("a"));
  h.Update(AsBytes("bc"));
  EXPECT_EQ(h.Final(), Blake2b256(AsBytes("abc")));
}

}  // namespace
}  // namespace keiretsu::crypto
