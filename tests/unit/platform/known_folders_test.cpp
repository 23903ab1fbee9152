#include "agent/platform/windows/known_folders.h"

#include <gtest/gtest.h>

namespace t0w::win {
namespace {

TEST(KnownFoldersTest, ProgramDataIsAnExistingAbsoluteDirectory) {
  Result<std::filesystem::path> p = knownFolderPath(KnownFolder::kProgramData);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_TRUE(p->is_absolute()) << p->string();
  EXPECT_TRUE(std::filesystem::is_directory(*p)) << p->string();
}

TEST(KnownFoldersTest, EveryFolderResolvesToADistinctPath) {
  std::vector<std::filesystem::path> seen;
  for (KnownFolder f : {KnownFolder::kProgramData, KnownFolder::kProgramFiles, KnownFolder::kSystem,
                        KnownFolder::kLocalAppData}) {
    Result<std::filesystem::path> p = knownFolderPath(f);
    ASSERT_TRUE(p.ok()) << p.error().message;
    for (const auto& s : seen) EXPECT_NE(*p, s);
    seen.push_back(*p);
  }
}

}  // namespace
}  // namespace t0w::win
