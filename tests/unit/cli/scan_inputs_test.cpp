#include "agent/cli/scan_inputs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/unit/cli/temp_dir.h"

namespace t0w::cli {
namespace {

using testing::TempDir;
using Kind = ScanInput::Kind;

TEST(DiscoverInputs, WalksDirectoriesForEvtxAndXmlInSortedOrder) {
  TempDir dir;
  dir.write("b.evtx", "x");
  dir.write("a.XML", "x");
  dir.write("notes.txt", "x");
  dir.write("sub/c.EVTX", "x");
  dir.write("sub/deeper/d.xml", "x");
  dir.write("sub/e.evtx.bak", "x");

  ScanInputs inputs = discoverInputs({dir.path()});
  EXPECT_TRUE(inputs.errors.empty());
  ASSERT_EQ(inputs.files.size(), 4u);
  EXPECT_EQ(inputs.files[0].path, dir.path() / "a.XML");
  EXPECT_EQ(inputs.files[0].kind, Kind::kXml);
  EXPECT_EQ(inputs.files[1].path, dir.path() / "b.evtx");
  EXPECT_EQ(inputs.files[1].kind, Kind::kEvtx);
  EXPECT_EQ(inputs.files[2].path, dir.path() / "sub" / "c.EVTX");
  EXPECT_EQ(inputs.files[2].kind, Kind::kEvtx);
  EXPECT_EQ(inputs.files[3].path, dir.path() / "sub" / "deeper" / "d.xml");
}

TEST(DiscoverInputs, ExplicitFilesAreReadByExtensionOrSignature) {
  TempDir dir;
  auto evtx_named = dir.write("log.evtx", "not really");
  auto evtx_signed = dir.write("exported.bin", std::string("ElfFile\0rest", 12));
  auto xml = dir.write("events.log", "<Event/>");
  ScanInputs inputs = discoverInputs({evtx_named, evtx_signed, xml});
  ASSERT_EQ(inputs.files.size(), 3u);
  EXPECT_EQ(inputs.files[0].kind, Kind::kEvtx);
  EXPECT_EQ(inputs.files[1].kind, Kind::kEvtx);
  EXPECT_EQ(inputs.files[2].kind, Kind::kXml);
  // Explicit paths keep the order they were given in.
  EXPECT_EQ(inputs.files[1].path, evtx_signed);
}

TEST(DiscoverInputs, SpecialFilesAreErrorsNotReads) {
  TempDir dir;
  const auto fifo = dir.path() / "pipe.evtx";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  ScanInputs explicit_fifo = discoverInputs({fifo});
  EXPECT_TRUE(explicit_fifo.files.empty());
  ASSERT_EQ(explicit_fifo.errors.size(), 1u);
  EXPECT_EQ(explicit_fifo.errors[0].error.message, fifo.string() + ": not a regular file");

  ScanInputs walked = discoverInputs({dir.path()});
  EXPECT_TRUE(walked.files.empty());
  ASSERT_EQ(walked.errors.size(), 1u);
  EXPECT_EQ(walked.errors[0].source, fifo.string());
}

TEST(DiscoverInputs, DanglingSymlinkIsKeptSoThatItsOpenFailsWithAName) {
  TempDir dir;
  std::filesystem::create_symlink(dir.path() / "gone.evtx", dir.path() / "link.evtx");
  ScanInputs inputs = discoverInputs({dir.path()});
  EXPECT_TRUE(inputs.errors.empty());
  ASSERT_EQ(inputs.files.size(), 1u);
  EXPECT_EQ(inputs.files[0].path, dir.path() / "link.evtx");
}

}  // namespace
}  // namespace t0w::cli
