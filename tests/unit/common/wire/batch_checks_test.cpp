// The checks the tree decoder and the one-pass scan share (their use: batch_decoder_test.cpp).
#include "common/wire/batch_checks.h"

#include <gtest/gtest.h>

namespace t0w::batch_checks {
namespace {

TEST(BatchChecks, SchemaVersions) {
  EXPECT_EQ(schemaVersion("tier0watch.batch/1"), 1);
  EXPECT_EQ(schemaVersion("tier0watch.batch/2"), 2);
  EXPECT_EQ(schemaVersion("tier0watch.batch/3"), 3);
  EXPECT_EQ(schemaVersion("tier0watch.batch/4"), 0);
  EXPECT_EQ(schemaVersion(""), 0);
}

TEST(BatchChecks, Kinds) {
  EXPECT_EQ(kindByName("event"), RecordKind::kEvent);
  EXPECT_EQ(kindByName("alert"), RecordKind::kAlert);
  EXPECT_EQ(kindByName("status"), RecordKind::kStatus);
  EXPECT_EQ(kindByName("Event"), std::nullopt);
}

TEST(BatchChecks, QueueEpochIsSixteenLowerCaseHexDigits) {
  EXPECT_TRUE(isQueueEpoch("00c0ffee00c0ffee"));
  EXPECT_FALSE(isQueueEpoch("00C0FFEE00C0FFEE"));
  EXPECT_FALSE(isQueueEpoch("00c0ffee00c0ffe"));
  EXPECT_FALSE(isQueueEpoch("00c0ffee00c0ffeeg"));
  EXPECT_FALSE(isQueueEpoch("00c0ffee00c0ffeg"));
}

TEST(BatchChecks, RecordKeysPerVersion) {
  const std::string prefix = "agent-1|";
  EXPECT_EQ(recordKey(3, prefix, "Security|1"), "agent-1|Security|1");
  EXPECT_EQ(recordKey(3, prefix, "agent-2|Security|1"), "agent-1|agent-2|Security|1");
  EXPECT_EQ(recordKey(3, prefix, ""), std::nullopt);
  EXPECT_EQ(recordKey(2, prefix, "agent-1|Security|1"), "agent-1|Security|1");
  EXPECT_EQ(recordKey(2, prefix, "agent-1|"), std::nullopt);
  EXPECT_EQ(recordKey(1, prefix, "agent-2|Security|1"), std::nullopt);
  EXPECT_STREQ(keyExpected(3), "key must be a non-empty string");
  EXPECT_STREQ(keyExpected(2), "key must start with the agent id and '|'");
}

TEST(BatchChecks, ErrorsAreParseErrorsNamedBatch) {
  const Error e = batchError("missing records");
  EXPECT_EQ(e.code, Errc::kParse);
  EXPECT_EQ(e.message, "batch: missing records");
}

}  // namespace
}  // namespace t0w::batch_checks
