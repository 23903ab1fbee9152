// TraceTailCollector: follows the files a glob matches (Entra Connect trace-*.log) the way
// `tail -F` would, and turns each trace entry into an Event.
//
// - Files are known by identity (volume + file index / st_dev + st_ino), not by name: a rename
//   inside the glob keeps its position; a file renamed out of it or deleted while open is read
//   to its end through the open handle, then forgotten; a new identity under an old name is a
//   new file. The first 256 bytes are fingerprinted: an identity reused by a different file
//   (inode reuse after a deletion) or a file rewritten in place reads from its start again.
// - Events name the file as it was first seen (Source, TraceFile): stable over renames, so an
//   entry read again after a restart is byte for byte the same record.
// - Truncation (size below the position) reads from the start again (a new generation: event
//   keys stay unique).
// - Checkpoint: one JSON document for the source with, per file, identity, generation, offset
//   (first byte not yet delivered as part of an entry), fingerprint and the TraceClock at that
//   offset. on_checkpoint hands it over after each batch of entries so that the pipeline stores
//   it in the same transaction as those entries; a restart resumes there: nothing read twice
//   into the queue, nothing skipped.
// - A partial last line is held until its line feed arrives (or the file is gone); an entry is
//   complete when the next entry starts or its file has been idle for entry_idle.
// - Bad input is reported (EventSink::onError, naming file and offset) and reading goes on: a
//   line longer than max_line keeps its first max_line bytes, invalid UTF-8/UTF-16 becomes
//   U+FFFD.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/event_source.h"
#include "agent/core/source_status.h"
#include "collectors/tracefile/file_system.h"
#include "collectors/tracefile/trace_entry.h"
#include "collectors/tracefile/trace_glob.h"
#include "collectors/tracefile/trace_text.h"
#include "common/core/clock.h"

namespace t0w {

struct TraceTailOptions {
  std::string name;                            // the source as configured (status board, messages)
  std::string pattern;                         // the glob, environment variables already expanded
  std::string provider = "AADConnect-Trace";   // Provider_Name of the events (Sigma service)
  std::string computer;                        // Computer of the events
  std::chrono::milliseconds poll{1000};        // between rounds (run())
  std::chrono::milliseconds entry_idle{2000};  // a last entry with no new line is complete
  std::chrono::milliseconds close_idle{60'000};  // a read file's handle is closed after this
  size_t max_line = 1 << 20;                     // bytes; longer lines are cut (input error)
  size_t max_entry = 1 << 20;                    // bytes of one multi-line entry
  size_t read_chunk = 256 * 1024;
  size_t batch_entries = 500;  // entries between two checkpoints
  std::string checkpoint;      // the stored one; empty: first start
  std::function<void(const std::string&)> on_checkpoint;
  SourceStatusBoard* board = nullptr;  // state, position, event time; null: not reported
};

struct TraceTailStats {
  uint64_t entries = 0;
  uint64_t lines = 0;
  uint64_t files_opened = 0;
  uint64_t truncations = 0;
  uint64_t replaced = 0;
  uint64_t gone = 0;  // files deleted or renamed away, read to their end
  uint64_t input_errors = 0;
  uint64_t polls = 0;
};

class TraceTailCollector final : public EventSource {
 public:
  TraceTailCollector(TraceFileSystem& fs, const Clock& clock, TraceTailOptions options);
  ~TraceTailCollector() override;

  const std::string& name() const override { return options_.name; }
  // poll() every options.poll until stop().
  SourceSummary run(EventSink& sink) override;
  void stop() override;

  // One round: expand the glob, read what every file gained, deliver complete entries, hand
  // over the checkpoint when it changed.
  void poll(EventSink& sink);
  // The checkpoint of what has been delivered so far.
  std::string checkpoint() const;
  const TraceTailStats& stats() const { return stats_; }

 private:
  struct Pending;
  struct Tracked;
  void loadCheckpoint(const std::string& text);
  void setState(SourceState state, const std::string& detail);
  Tracked* findById(const FileIdentity& id);
  void discover(EventSink& sink);
  bool openFile(Tracked& f, EventSink& sink);
  void restart(Tracked& f, EventSink& sink, const std::string& why);
  void readFile(Tracked& f, EventSink& sink, bool finishing);
  bool headMatches(Tracked& f);
  void updateHead(Tracked& f, uint64_t size);
  void onLine(Tracked& f, TraceLine&& line, EventSink& sink);
  void emit(Tracked& f, Pending&& entry, EventSink& sink);
  void flushPending(Tracked& f, EventSink& sink);
  void reportError(EventSink& sink, const std::string& path, uint64_t offset, Errc code,
                   const std::string& message);
  void maybeCheckpoint();

  TraceFileSystem& fs_;
  const Clock& clock_;
  TraceTailOptions options_;
  TraceGlob glob_;
  std::vector<std::unique_ptr<Tracked>> files_;
  TraceTailStats stats_;
  std::optional<SourceState> state_;
  std::string last_checkpoint_;
  size_t since_checkpoint_ = 0;
  uint64_t progress_events_ = 0;
  std::string progress_position_;
  std::optional<std::chrono::system_clock::time_point> progress_time_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<char> buf_;
};

}  // namespace t0w
