#include "collectors/evtx/evtx_file_collector.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <random>
#include <vector>

#include "tests/fakes/fake_event_sink.h"
#include "tests/support/corpus.h"

namespace t0w {
namespace {

using ::t0w::testing::FakeEventSink;

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "t0w-evtx-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void writeBytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

std::string readBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(EvtxFileCollector, ReadsEveryRecordWithOrigin) {
  T0W_CORPUS_OR_SKIP(corpus);
  const fs::path file = corpus / "evtx-attack-samples" / "CA_DCSync_4662.evtx";
  EvtxFileCollector collector(file);
  FakeEventSink sink;
  SourceSummary summary = collector.run(sink);

  EXPECT_EQ(collector.name(), file.string());
  ASSERT_EQ(summary.records, 3u);
  EXPECT_EQ(summary.errors, 0u);
  ASSERT_EQ(sink.events.size(), 3u);
  EXPECT_TRUE(sink.errors.empty());
  for (size_t i = 0; i < sink.events.size(); ++i) {
    const Event& e = sink.events[i];
    EXPECT_EQ(e.origin.source, file.string());
    EXPECT_EQ(e.origin.position, i);
    EXPECT_EQ(e.system.event_id, 4662u);
    EXPECT_EQ(e.system.channel, "Security");
    EXPECT_EQ(e.system.record_id, 202791u + i);
  }
  // libevtx's zero-padded hex is rendered the way EvtRender writes it.
  ASSERT_NE(sink.events[0].find("SubjectLogonId"), nullptr);
  EXPECT_EQ(*sink.events[0].find("SubjectLogonId"), "0x40c6511");
  EXPECT_EQ(*sink.events[0].find("AccessMask"), "0x100");
}

TEST(EvtxFileCollector, RecoveredRecordsFollowTheAllocatedOnes) {
  T0W_CORPUS_OR_SKIP(corpus);
  const fs::path file = corpus / "evtx-attack-samples" / "CA_DCSync_4662.evtx";
  EvtxReadOptions options;
  options.include_recovered = true;
  EvtxFileCollector collector(file, options);
  FakeEventSink sink;
  SourceSummary summary = collector.run(sink);
  // evtxinfo reports 3 records and 8 recovered records for this file. libevtx cannot rebuild
  // these 8 from slack space (evtxexport -m recovered prints none either): each is a named error
  // at a position after the allocated records.
  EXPECT_EQ(summary.records, 3u);
  ASSERT_EQ(summary.errors, 8u);
  for (size_t i = 0; i < sink.events.size(); ++i) EXPECT_EQ(sink.events[i].origin.position, i);
  for (size_t i = 0; i < sink.errors.size(); ++i) {
    EXPECT_EQ(sink.errors[i].position, 3 + i);
    EXPECT_NE(sink.errors[i].error.message.find(": record " + std::to_string(3 + i) + ": "),
              std::string::npos);
  }
}

TEST(EvtxFileCollector, StopEndsTheRunAfterTheCurrentRecord) {
  T0W_CORPUS_OR_SKIP(corpus);
  EvtxFileCollector collector(corpus / "evtx-attack-samples" / "CA_DCSync_4662.evtx");
  FakeEventSink sink;
  sink.after_event = [&collector](const Event&) { collector.stop(); };
  SourceSummary summary = collector.run(sink);
  EXPECT_EQ(summary.records, 1u);
  EXPECT_EQ(sink.events.size(), 1u);
}

TEST(EvtxFileCollector, MissingFileIsOneNamedError) {
  TempDir dir;
  const fs::path file = dir.path() / "absent.evtx";
  EvtxFileCollector collector(file);
  FakeEventSink sink;
  SourceSummary summary = collector.run(sink);
  EXPECT_EQ(summary.records, 0u);
  ASSERT_EQ(summary.errors, 1u);
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].source, file.string());
  EXPECT_EQ(sink.errors[0].error.code, Errc::kIo);
  EXPECT_NE(sink.errors[0].error.message.find(file.string()), std::string::npos);
}

TEST(EvtxFileCollector, EmptyRandomAndDirectoryInputsAreErrorsNotCrashes) {
  TempDir dir;
  std::mt19937 rng(1234);
  std::string random(64 * 1024, '\0');
  for (char& c : random) c = static_cast<char>(rng());
  // Random bytes behind a valid signature reach the chunk parser instead of failing early.
  std::string signed_random = random;
  signed_random.replace(0, 8, std::string("ElfFile\0", 8));
  writeBytes(dir.path() / "empty.evtx", "");
  writeBytes(dir.path() / "random.evtx", random);
  writeBytes(dir.path() / "signed.evtx", signed_random);
  fs::create_directory(dir.path() / "dir.evtx");
  for (const char* name : {"empty.evtx", "random.evtx", "signed.evtx", "dir.evtx"}) {
    SCOPED_TRACE(name);
    const fs::path file = dir.path() / name;
    EvtxFileCollector collector(file);
    FakeEventSink sink;
    SourceSummary summary = collector.run(sink);
    EXPECT_EQ(summary.records, sink.events.size());
    EXPECT_GE(summary.errors, 1u);
    ASSERT_EQ(summary.errors, sink.errors.size());
    for (const InputError& e : sink.errors) {
      EXPECT_EQ(e.source, file.string());
      EXPECT_EQ(e.error.message.rfind(file.string() + ": ", 0), 0u) << e.error.message;
    }
  }
}

TEST(EvtxFileCollector, TruncatedCopyYieldsItsRecordsAndAnError) {
  T0W_CORPUS_OR_SKIP(corpus);
  const fs::path original =
      corpus / "evtx-attack-samples" / "ACL_ForcePwd_SPNAdd_User_Computer_Accounts.evtx";
  FakeEventSink full;
  const SourceSummary full_summary = EvtxFileCollector(original).run(full);
  ASSERT_EQ(full_summary.errors, 0u);
  ASSERT_GT(full_summary.records, 2u);

  // Header (4 KiB) plus part of the first 64 KiB chunk: the chunk cannot be read.
  TempDir dir;
  const fs::path truncated = dir.path() / "truncated.evtx";
  writeBytes(truncated, readBytes(original).substr(0, 4096 + 40000));
  FakeEventSink sink;
  SourceSummary summary = EvtxFileCollector(truncated).run(sink);
  EXPECT_LT(summary.records, full_summary.records);
  ASSERT_GE(summary.errors, 1u);
  EXPECT_NE(sink.errors.back().error.message.find("truncated.evtx: file is corrupted"),
            std::string::npos)
      << sink.errors.back().error.message;
  // What was read is what the intact file holds at the same positions.
  for (size_t i = 0; i < sink.events.size(); ++i) {
    EXPECT_EQ(sink.events[i].system.record_id,
              full.events[sink.events[i].origin.position].system.record_id);
  }
}

TEST(EvtxFileCollector, DamagedRecordsAreNamedAndTheOthersStillRead) {
  T0W_CORPUS_OR_SKIP(corpus);
  const fs::path original =
      corpus / "evtx-attack-samples" / "ACL_ForcePwd_SPNAdd_User_Computer_Accounts.evtx";
  std::string bytes = readBytes(original);
  // Overwrite 200 bytes inside the first chunk's event records.
  std::mt19937 rng(42);
  for (size_t i = 0x1300; i < 0x1300 + 200; ++i) bytes[i] = static_cast<char>(rng());
  TempDir dir;
  const fs::path damaged = dir.path() / "damaged.evtx";
  writeBytes(damaged, bytes);
  FakeEventSink sink;
  SourceSummary summary = EvtxFileCollector(damaged).run(sink);
  EXPECT_GE(summary.errors, 1u);
  bool named_record = false;
  for (const InputError& e : sink.errors) {
    if (e.error.message.find("damaged.evtx: record " + std::to_string(e.position) + ": ") !=
        std::string::npos) {
      named_record = true;
    }
  }
  EXPECT_TRUE(named_record);
}

}  // namespace
}  // namespace t0w
