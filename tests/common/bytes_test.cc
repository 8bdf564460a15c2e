#include "keiretsu/common/bytes.h"

#include <gtest/gtest.h>

#include "keiretsu/common/id32.h"

namespace keiretsu {
namespace {

TEST(Hex, RoundTripsAndRejectsGarbage) {
  Bytes b = {0x00, 0x7f, 0xab, 0xff};
  EXPECT_EQ(ToHex(b), "007fabff");
  EXPECT_EQ(*FromHex("007FABff"), b);
  EXPECT_FALSE(FromHex("abc").has_value());  // odd length
  EXPECT_FALSE(FromHex("zz").has_value());   // not hex
  EXPECT_FALSE(Hash32FromHex(std::string(62, 'a')).has_value());
  EXPECT_TRUE(Hash32FromHex(std::string(64, 'a')).has_value());
}

TEST(ByteWriterReader, BigEndianRoundTrip) {
  Bytes out;
  ByteWriter w(&out);
  w.U8(0x01);
  w.U16(0x0203);
  w.U32(0x04050607);
  w.U64(0x08090a0b0c0d0e0fULL);
  EXPECT_EQ(ToHex(out), "0102030405060708090a0b0c0d0e0f");
  ByteReader r(out);
  EXPECT_EQ(r.U8(), 0x01);
  EXPECT_EQ(r.U16(), 0x0203);
  EXPECT_EQ(r.U32(), 0x04050607u);
  EXPECT_EQ(r.U64(), 0x08090a0b0c0d0e0fULL);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ByteReader, ShortReadFailsAndStaysFailed) {
  Bytes in = {0x01, 0x02, 0x03};
  ByteReader r(in);
  EXPECT_EQ(r.U32(), 0u);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.U8(), 0u);  // still failed, even though a byte would fit
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.Raw(1).empty());
}

TEST(Id32, OrdersBytewiseAndPrintsShort) {
  PublicKey a, b;
  a.bytes[0] = 1;
  b.bytes[0] = 2;
  EXPECT_LT(a, b);
  EXPECT_EQ(a.Short(), "01000000");
  EXPECT_TRUE(PublicKey{}.IsZero());
  EXPECT_FALSE(a.IsZero());
}

}  // namespace
}  // namespace keiretsu
