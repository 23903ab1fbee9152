// Host facts and the console stop signal (agent/platform/host_*), on Linux and under Wine.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "agent/platform/host_info.h"
#include "agent/platform/host_stop_signal.h"

#ifndef _WIN32
#include <signal.h>
#include <unistd.h>
#endif

namespace t0w {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

TEST(HostInfoTest, HostNameIsTheMachinesName) {
  const std::string name = hostName();
  ASSERT_FALSE(name.empty());
  EXPECT_NE(name, "unknown");
#ifdef _WIN32
  // The DNS name's first label is the computer name the environment carries.
  const char* computer = std::getenv("COMPUTERNAME");
  ASSERT_NE(computer, nullptr);
  EXPECT_EQ(lower(name.substr(0, name.find('.'))), lower(computer)) << name;
#else
  std::ifstream in("/proc/sys/kernel/hostname");
  std::string kernel;
  std::getline(in, kernel);
  ASSERT_FALSE(kernel.empty());
  EXPECT_EQ(lower(name), lower(kernel));
#endif
}

TEST(HostInfoTest, WineIsRecognised) {
#ifdef _WIN32
  // The Windows leg runs every test under Wine (scripts/windows/test.sh).
  const bool wine_leg =
      std::getenv("WINEPREFIX") != nullptr || std::getenv("WINELOADER") != nullptr;
  if (!wine_leg) GTEST_SKIP() << "not started by Wine's loader environment";
  EXPECT_TRUE(runningUnderWine());
#else
  EXPECT_FALSE(runningUnderWine());
#endif
}

TEST(HostInfoTest, PlatformNames) {
  EXPECT_STREQ(hostPlatformName(HostPlatform::kLinux), "Linux");
  EXPECT_STREQ(hostPlatformName(HostPlatform::kWindows), "Windows");
#ifdef _WIN32
  EXPECT_EQ(kThisPlatform, HostPlatform::kWindows);
#else
  EXPECT_EQ(kThisPlatform, HostPlatform::kLinux);
#endif
}

TEST(StopSignalTest, CancelEndsTheWaitWithoutARequest) {
  auto signal = StopSignal::install();
  ASSERT_TRUE(signal) << signal.error().toString();
  std::optional<std::string> got = std::string("not called");
  std::thread waiter([&] { got = (*signal)->wait(); });
  (*signal)->cancel();
  waiter.join();
  EXPECT_EQ(got, std::nullopt);
}

TEST(StopSignalTest, OnlyOneAtATime) {
#ifdef _WIN32
  auto first = StopSignal::install();
  ASSERT_TRUE(first);
  EXPECT_FALSE(StopSignal::install());
  first->reset();
  EXPECT_TRUE(StopSignal::install());
#else
  GTEST_SKIP() << "POSIX: the signal mask is per thread; one instance is a documented rule";
#endif
}

#ifndef _WIN32
TEST(StopSignalTest, SigtermAndSigintAreTakenByWait) {
  for (int sig : {SIGTERM, SIGINT}) {
    auto signal = StopSignal::install();
    ASSERT_TRUE(signal) << signal.error().toString();
    // Blocked in this thread (and so in every thread started later): pending until wait().
    ASSERT_EQ(kill(getpid(), sig), 0);
    EXPECT_EQ((*signal)->wait(), std::optional<std::string>(sig == SIGTERM ? "SIGTERM" : "SIGINT"));
  }
}
#endif

}  // namespace
}  // namespace t0w
