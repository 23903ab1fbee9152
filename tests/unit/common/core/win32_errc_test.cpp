#include "common/core/win32_errc.h"

#include <gtest/gtest.h>

namespace t0w {
namespace {

// One mapping for the Event Log subscription, the .evtx query and the Windows platform helpers
// (they had copies that disagreed on the channel codes).
TEST(Win32Errc, NotFound) {
  EXPECT_EQ(errcForWin32(2), Errc::kNotFound);      // ERROR_FILE_NOT_FOUND
  EXPECT_EQ(errcForWin32(3), Errc::kNotFound);      // ERROR_PATH_NOT_FOUND
  EXPECT_EQ(errcForWin32(1168), Errc::kNotFound);   // ERROR_NOT_FOUND
  EXPECT_EQ(errcForWin32(15007), Errc::kNotFound);  // ERROR_EVT_CHANNEL_NOT_FOUND
}

TEST(Win32Errc, InvalidArgument) {
  EXPECT_EQ(errcForWin32(87), Errc::kInvalidArgument);     // ERROR_INVALID_PARAMETER
  EXPECT_EQ(errcForWin32(15000), Errc::kInvalidArgument);  // ERROR_EVT_INVALID_CHANNEL_PATH
  EXPECT_EQ(errcForWin32(15001), Errc::kInvalidArgument);  // ERROR_EVT_INVALID_QUERY
}

TEST(Win32Errc, UnsupportedAndCorrupt) {
  EXPECT_EQ(errcForWin32(50), Errc::kUnsupported);   // ERROR_NOT_SUPPORTED
  EXPECT_EQ(errcForWin32(120), Errc::kUnsupported);  // ERROR_CALL_NOT_IMPLEMENTED
  EXPECT_EQ(errcForWin32(1392), Errc::kCorrupt);     // ERROR_FILE_CORRUPT
  EXPECT_EQ(errcForWin32(1393), Errc::kCorrupt);     // ERROR_DISK_CORRUPT
}

TEST(Win32Errc, EverythingElseIsIo) {
  EXPECT_EQ(errcForWin32(5), Errc::kIo);     // ERROR_ACCESS_DENIED
  EXPECT_EQ(errcForWin32(1722), Errc::kIo);  // RPC_S_SERVER_UNAVAILABLE
  EXPECT_EQ(errcForWin32(0), Errc::kIo);
}

}  // namespace
}  // namespace t0w
