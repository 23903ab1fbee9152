#include "agent/platform/windows/error_text.h"

#include <gtest/gtest.h>
#include <windows.h>

namespace t0w::win {
namespace {

TEST(ErrorTextTest, SystemMessageWithoutLineBreakFollowedByTheCode) {
  const std::string text = errorText(ERROR_ACCESS_DENIED);
  const std::string suffix = " (Win32 error 5)";
  ASSERT_GT(text.size(), suffix.size()) << text;
  EXPECT_EQ(text.substr(text.size() - suffix.size()), suffix) << text;
  EXPECT_EQ(text.find('\n'), std::string::npos) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos) << text;
  EXPECT_NE(text.find("denied"), std::string::npos) << text;
}

TEST(ErrorTextTest, FileNotFoundHasItsOwnMessage) {
  EXPECT_NE(errorText(ERROR_FILE_NOT_FOUND), errorText(ERROR_ACCESS_DENIED));
  EXPECT_NE(errorText(ERROR_FILE_NOT_FOUND).find("(Win32 error 2)"), std::string::npos);
}

TEST(ErrorTextTest, CodeWithoutMessageStillNamesTheCode) {
  EXPECT_EQ(errorText(0x2FFFFFFFu), "Win32 error 805306367");
}

TEST(ErrorTextTest, Win32ErrorPrefixesWhatFailed) {
  const Error e = win32Error(Errc::kIo, "CreateFileW(C:\\x)", 0x2FFFFFFFu);
  EXPECT_EQ(e.code, Errc::kIo);
  EXPECT_EQ(e.message, "CreateFileW(C:\\x): Win32 error 805306367");
}

TEST(ErrorTextTest, ErrcMapping) {
  EXPECT_EQ(errcForWin32(ERROR_FILE_NOT_FOUND), Errc::kNotFound);
  EXPECT_EQ(errcForWin32(15007), Errc::kNotFound);
  EXPECT_EQ(errcForWin32(ERROR_ACCESS_DENIED), Errc::kIo);
  EXPECT_EQ(errcForWin32(15001), Errc::kInvalidArgument);
  EXPECT_EQ(errcForWin32(ERROR_CALL_NOT_IMPLEMENTED), Errc::kUnsupported);
}

}  // namespace
}  // namespace t0w::win
