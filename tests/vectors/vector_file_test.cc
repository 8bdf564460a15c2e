// The vector tools' shared output step (tools/vectors/vector_file.h): a
// check passes only on an identical file and names the lines that differ;
// a file that cannot be read or written is an error; a check writes nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "temp_dir.h"
#include "vector_file.h"

namespace keiretsu::vectors {
namespace {

const std::string kText = "{\n \"a\": \"00ff\",\n \"b\": 1\n}\n";

void Put(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

TEST(VectorFile, WriteThenCheckOfTheSameTextPasses) {
  testing::TempDir dir;
  const std::string path = dir.Sub("v.json");
  ASSERT_EQ(WriteOrCheck("tool", kText, path, ""), 0);
  EXPECT_EQ(ReadVectorFile(path), kText);
  EXPECT_EQ(WriteOrCheck("tool", kText, "", path), 0);
}

TEST(VectorFile, ACheckOfADifferentFileFailsAndNamesTheLine) {
  testing::TempDir dir;
  const std::string path = dir.Sub("v.json");
  const std::string tampered = "{\n \"a\": \"00fe\",\n \"b\": 1\n}\n";
  Put(path, tampered);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(WriteOrCheck("tool", kText, "", path), 1);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("line 2, column 11"), std::string::npos) << err;
  EXPECT_NE(err.find("differs from what this build derives"), std::string::npos) << err;
  EXPECT_EQ(ReadVectorFile(path), tampered);  // a check writes nothing
}

TEST(VectorFile, ACheckOfAFileWithAMissingLineFails) {
  testing::TempDir dir;
  const std::string path = dir.Sub("v.json");
  Put(path, "{\n \"a\": \"00ff\",\n}\n");
  EXPECT_EQ(WriteOrCheck("tool", kText, "", path), 1);
  EXPECT_FALSE(DiffLines(*ReadVectorFile(path), kText).empty());
}

TEST(VectorFile, ACheckOfAMissingFileIsAnError) {
  testing::TempDir dir;
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(WriteOrCheck("tool", kText, "", dir.Sub("absent.json")), 1);
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("tool: cannot read"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("absent.json")));
}

TEST(VectorFile, AFileThatCannotBeWrittenIsAnError) {
  testing::TempDir dir;
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(WriteOrCheck("tool", kText, dir.Sub("no-such-dir/v.json"), ""), 1);
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("tool: cannot write"), std::string::npos);
}

TEST(VectorFile, DiffLinesIsEmptyOnlyForIdenticalTexts) {
  EXPECT_TRUE(DiffLines(kText, kText).empty());
  EXPECT_FALSE(DiffLines(kText, kText + "extra\n").empty());
  EXPECT_EQ(DiffLines("a\nb\nc\n", "x\ny\nz\n", 2).size(), 2u);  // at most `max`
}

}  // namespace
}  // namespace keiretsu::vectors
