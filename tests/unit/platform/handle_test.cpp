#include "agent/platform/windows/handle.h"

#include <gtest/gtest.h>

#include <utility>

namespace t0w::win {
namespace {

// A closed handle is no longer known to the process.
bool isOpen(HANDLE h) {
  DWORD flags = 0;
  return ::GetHandleInformation(h, &flags) != 0;
}

TEST(UniqueHandleTest, ClosesOnScopeExit) {
  HANDLE raw = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
  ASSERT_NE(raw, nullptr);
  {
    KernelHandle h(raw);
    EXPECT_TRUE(h.valid());
    EXPECT_TRUE(isOpen(raw));
  }
  EXPECT_FALSE(isOpen(raw));
}

TEST(UniqueHandleTest, MoveTransfersOwnershipOnce) {
  HANDLE raw = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
  KernelHandle a(raw);
  KernelHandle b(std::move(a));
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(b.get(), raw);
  KernelHandle c;
  c = std::move(b);
  EXPECT_EQ(c.get(), raw);
  EXPECT_TRUE(isOpen(raw));
  c.reset();
  EXPECT_FALSE(isOpen(raw));
  EXPECT_FALSE(c.valid());
}

TEST(UniqueHandleTest, ReleaseGivesTheHandleBack) {
  HANDLE raw = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
  HANDLE back = nullptr;
  {
    KernelHandle h(raw);
    back = h.release();
  }
  EXPECT_TRUE(isOpen(back));
  ::CloseHandle(back);
}

TEST(UniqueHandleTest, FileHandleTreatsInvalidHandleValueAsEmpty) {
  FileHandle none;
  EXPECT_FALSE(none.valid());
  FileHandle missing(::CreateFileW(L"Z:\\t0w-no-such-dir\\x", GENERIC_READ, 0, nullptr,
                                   OPEN_EXISTING, 0, nullptr));
  EXPECT_FALSE(missing.valid());
}

}  // namespace
}  // namespace t0w::win
