#include "collectors/tracefile/trace_tail.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/core/time.h"

namespace t0w {
namespace {

constexpr uint64_t kHeadBytes = 256;
constexpr uint64_t kMaxEncodingErrorsPerFile = 10;

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string baseName(const std::string& path) {
  const size_t slash = path.find_last_of("/\\");
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::optional<FileIdentity> parseIdentity(const std::string& text) {
  const size_t dash = text.find('-');
  if (dash == std::string::npos) return std::nullopt;
  try {
    FileIdentity id;
    size_t used = 0;
    id.volume = std::stoull(text.substr(0, dash), &used, 16);
    if (used != dash) return std::nullopt;
    id.index = std::stoull(text.substr(dash + 1), &used, 16);
    if (used != text.size() - dash - 1) return std::nullopt;
    return id;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

struct TraceTailCollector::Pending {
  uint64_t offset = 0;
  uint64_t end = 0;
  std::string text;
  bool truncated = false;
};

struct TraceTailCollector::Tracked {
  FileIdentity id;
  uint32_t gen = 0;
  std::string path;        // its name now
  std::string first_path;  // its name when first seen: the events' Source (stable over renames)
  uint64_t offset = 0;     // checkpoint offset when not open / before reading
  uint64_t head_len = 0;
  uint64_t head_hash = 0;
  TraceClock clock;  // at the checkpoint offset
  // Run time only.
  std::unique_ptr<TraceFile> file;
  std::unique_ptr<TraceLineReader> reader;
  std::optional<Pending> pending;
  std::chrono::steady_clock::time_point last_growth{};
  bool matched = false;
  bool gone = false;  // deleted (delete pending / no link) or out of the glob
  uint64_t encoding_errors = 0;

  std::string key() const { return id.toString() + "#" + std::to_string(gen); }
  // First byte not yet delivered as part of an entry.
  uint64_t deliveredUpTo() const {
    if (pending) return pending->offset;
    if (reader) return reader->lineStart();
    return offset;
  }
};

TraceTailCollector::TraceTailCollector(TraceFileSystem& fs, const Clock& clock,
                                       TraceTailOptions options)
    : fs_(fs), clock_(clock), options_(std::move(options)), glob_(options_.pattern) {
  buf_.resize(std::max<size_t>(options_.read_chunk, 4096));
  if (options_.board != nullptr) options_.board->add(options_.name, "tracefile");
  loadCheckpoint(options_.checkpoint);
  last_checkpoint_ = options_.checkpoint;
}

TraceTailCollector::~TraceTailCollector() = default;

void TraceTailCollector::loadCheckpoint(const std::string& text) {
  if (text.empty()) return;
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("files") ||
      !doc["files"].is_array()) {
    // A checkpoint this version cannot read: reading everything again is safe (the collector
    // deduplicates by the same keys), skipping would not be.
    stats_.input_errors++;
    return;
  }
  for (const auto& j : doc["files"]) {
    try {
      auto id = parseIdentity(j.at("id").get<std::string>());
      if (!id) continue;
      auto f = std::make_unique<Tracked>();
      f->id = *id;
      f->gen = j.at("gen").get<uint32_t>();
      f->path = j.at("path").get<std::string>();
      f->first_path = j.value("first_path", f->path);
      f->offset = j.at("offset").get<uint64_t>();
      f->head_len = j.at("head_len").get<uint64_t>();
      f->head_hash = std::stoull(j.at("head_hash").get<std::string>(), nullptr, 16);
      const auto& c = j.at("clock");
      if (c.contains("day")) f->clock.local_day = c["day"].get<int64_t>();
      if (c.contains("start")) f->clock.local_start_s = c["start"].get<int64_t>();
      if (c.contains("utc_offset")) f->clock.utc_offset_minutes = c["utc_offset"].get<int32_t>();
      f->clock.last_time_of_day_ms = c.value("last_ms", int64_t{-1});
      f->clock.day_shift = c.value("day_shift", 0);
      files_.push_back(std::move(f));
    } catch (const std::exception&) {
      stats_.input_errors++;  // that file is read from its start again
    }
  }
}

std::string TraceTailCollector::checkpoint() const {
  nlohmann::ordered_json doc;
  doc["v"] = 1;
  doc["files"] = nlohmann::ordered_json::array();
  for (const auto& f : files_) {
    nlohmann::ordered_json j;
    j["id"] = f->id.toString();
    j["gen"] = f->gen;
    j["path"] = f->path;
    j["first_path"] = f->first_path;
    j["offset"] = f->deliveredUpTo();
    j["head_len"] = f->head_len;
    char hash[20];
    std::snprintf(hash, sizeof(hash), "%llx", static_cast<unsigned long long>(f->head_hash));
    j["head_hash"] = hash;
    nlohmann::ordered_json c = nlohmann::ordered_json::object();
    if (f->clock.local_day) c["day"] = *f->clock.local_day;
    if (f->clock.local_start_s) c["start"] = *f->clock.local_start_s;
    if (f->clock.utc_offset_minutes) c["utc_offset"] = *f->clock.utc_offset_minutes;
    c["last_ms"] = f->clock.last_time_of_day_ms;
    c["day_shift"] = f->clock.day_shift;
    j["clock"] = std::move(c);
    doc["files"].push_back(std::move(j));
  }
  return doc.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void TraceTailCollector::setState(SourceState state, const std::string& detail) {
  if (state_ == state) return;
  state_ = state;
  if (options_.board != nullptr) options_.board->setState(options_.name, state, detail);
}

TraceTailCollector::Tracked* TraceTailCollector::findById(const FileIdentity& id) {
  for (auto& f : files_) {
    if (f->id == id) return f.get();
  }
  return nullptr;
}

void TraceTailCollector::reportError(EventSink& sink, const std::string& path, uint64_t offset,
                                     Errc code, const std::string& message) {
  ++stats_.input_errors;
  sink.onError(InputError{
      path, offset, makeError(code, path + ": offset " + std::to_string(offset) + ": " + message)});
}

SourceSummary TraceTailCollector::run(EventSink& sink) {
  while (!stop_) {
    poll(sink);
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, options_.poll, [&] { return stop_.load(); });
  }
  maybeCheckpoint();
  return SourceSummary{stats_.entries, stats_.input_errors};
}

void TraceTailCollector::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

void TraceTailCollector::poll(EventSink& sink) {
  ++stats_.polls;
  progress_events_ = 0;
  discover(sink);
  for (auto& f : files_) {
    if (stop_) break;
    if (f->file) readFile(*f, sink, !f->matched || f->gone);
  }
  // Forget what is gone and read to its end; close handles of files read and idle.
  const auto now = clock_.monotonic();
  for (auto& f : files_) {
    if (f->file && f->reader && f->matched && !f->gone && !f->pending && !f->reader->hasPartial() &&
        now - f->last_growth >= options_.close_idle) {
      f->offset = f->deliveredUpTo();
      f->reader.reset();
      f->file.reset();  // reopened when its size changes
    }
  }
  std::erase_if(files_, [](const std::unique_ptr<Tracked>& f) {
    return (!f->matched || f->gone) && !f->file;
  });
  maybeCheckpoint();
  if (options_.board != nullptr && (progress_events_ > 0 || !progress_position_.empty())) {
    options_.board->progress(options_.name, progress_events_, progress_position_, progress_time_);
  }
}

void TraceTailCollector::discover(EventSink& sink) {
  for (auto& f : files_) f->matched = false;
  const GlobResult g = glob_.expand(fs_);
  if (g.absent) {
    setState(SourceState::kAbsent, g.detail);
  } else if (g.access_denied) {
    setState(SourceState::kAccessDenied, g.detail);
  } else {
    setState(SourceState::kSubscribed, "");
  }
  for (const std::string& path : g.files) {
    auto info = fs_.stat(path);
    if (!info) continue;  // gone between the listing and now, or not a regular file
    Tracked* f = findById(info->id);
    if (f == nullptr) {
      auto fresh = std::make_unique<Tracked>();
      fresh->id = info->id;
      fresh->path = path;
      fresh->first_path = path;
      fresh->clock.startFromFileName(baseName(path));
      f = fresh.get();
      files_.push_back(std::move(fresh));
    }
    if (f->gone && f->file) continue;  // deleted, its name still listed (delete pending)
    f->matched = true;
    f->path = path;  // renamed inside the glob: same identity, same position
    if (!f->file) {
      // Closed (idle) or known from the checkpoint: open when there is something to read.
      const bool changed = f->reader == nullptr && (info->size != f->offset || f->head_len == 0);
      if (changed || info->size < f->offset) openFile(*f, sink);
    }
  }
}

bool TraceTailCollector::openFile(Tracked& f, EventSink& sink) {
  auto opened = fs_.open(f.path);
  if (!opened) {
    if (opened.error().code != Errc::kNotFound) {
      reportError(sink, f.path, f.offset, opened.error().code,
                  "cannot open: " + opened.error().message);
    }
    return false;
  }
  auto info = (*opened)->info();
  if (!info || !(info->id == f.id)) return false;  // replaced between stat and open: next round
  f.file = std::move(*opened);
  ++stats_.files_opened;
  f.last_growth = clock_.monotonic();
  f.reader.reset();
  if (info->size < f.offset) {
    restart(f, sink,
            "truncated from " + std::to_string(f.offset) + " to " + std::to_string(info->size) +
                " bytes; reading it from the start");
    ++stats_.truncations;
  } else if (f.head_len > 0 && !headMatches(f)) {
    restart(f, sink,
            "its first bytes changed (replaced under the same name or rewritten); "
            "reading it from the start");
    ++stats_.replaced;
  }
  return true;
}

void TraceTailCollector::restart(Tracked& f, EventSink& sink, const std::string& why) {
  reportError(sink, f.path, f.deliveredUpTo(), Errc::kCorrupt, why);
  f.pending.reset();  // its bytes are gone; what was read of it was never delivered
  f.reader.reset();
  f.offset = 0;
  f.head_len = 0;
  f.head_hash = 0;
  ++f.gen;
  f.first_path = f.path;
  f.clock = TraceClock{};
  f.clock.startFromFileName(baseName(f.path));
}

bool TraceTailCollector::headMatches(Tracked& f) {
  std::string head(f.head_len, '\0');
  size_t got = 0;
  while (got < head.size()) {
    auto r = f.file->read(got, head.data() + got, head.size() - got);
    if (!r || *r == 0) break;
    got += *r;
  }
  return got == head.size() && fnv1a(head) == f.head_hash;
}

void TraceTailCollector::updateHead(Tracked& f, uint64_t size) {
  const uint64_t want = std::min(size, kHeadBytes);
  if (want <= f.head_len) return;
  std::string head(want, '\0');
  size_t got = 0;
  while (got < head.size()) {
    auto r = f.file->read(got, head.data() + got, head.size() - got);
    if (!r || *r == 0) break;
    got += *r;
  }
  head.resize(got);
  f.head_len = got;
  f.head_hash = fnv1a(head);
}

void TraceTailCollector::readFile(Tracked& f, EventSink& sink, bool finishing) {
  auto info = f.file->info();
  if (!info) {
    reportError(sink, f.path, f.deliveredUpTo(), info.error().code, info.error().message);
    f.file.reset();
    f.reader.reset();
    f.pending.reset();
    f.gone = true;
    return;
  }
  if (info->delete_pending && !f.gone) {
    f.gone = true;  // deleted while open: read the rest now, then let the handle go
    finishing = true;
  }
  const uint64_t consumed = f.reader ? f.reader->offset() : f.offset;
  if (info->size < consumed) {
    ++stats_.truncations;
    restart(f, sink,
            "truncated from " + std::to_string(consumed) + " to " + std::to_string(info->size) +
                " bytes; reading it from the start");
  } else if (info->size > consumed && f.head_len > 0 && f.head_len < kHeadBytes + 1 &&
             !headMatches(f)) {
    ++stats_.replaced;
    restart(f, sink, "its first bytes changed (rewritten in place); reading it from the start");
  }
  const auto now = clock_.monotonic();
  if (!f.reader) {
    // The encoding comes from the first bytes; wait for them unless the file is done.
    char head[3] = {};
    size_t got = 0;
    while (got < sizeof(head)) {
      auto r = f.file->read(got, head + got, sizeof(head) - got);
      if (!r || *r == 0) break;
      got += *r;
    }
    auto enc = detectEncoding(std::string_view(head, got), finishing);
    if (!enc) return;
    f.reader = std::make_unique<TraceLineReader>(
        enc->encoding, std::max<uint64_t>(f.offset, enc->bom), options_.max_line);
  }
  updateHead(f, info->size);
  bool grew = false;
  for (;;) {
    const uint64_t at = f.reader->offset();
    if (!finishing && at >= info->size) break;
    auto r = f.file->read(at, buf_.data(), buf_.size());
    if (!r) {
      reportError(sink, f.path, at, r.error().code, r.error().message);
      break;
    }
    if (*r == 0) break;
    grew = true;
    f.reader->feed(std::string_view(buf_.data(), *r),
                   [&](TraceLine&& line) { onLine(f, std::move(line), sink); });
    if (stop_) return;
  }
  if (grew) f.last_growth = now;
  const bool idle = now - f.last_growth >= options_.entry_idle;
  if (finishing) {
    // The file will not grow: its partial line and last entry are complete.
    if (auto partial = f.reader->takePartial()) onLine(f, std::move(*partial), sink);
    flushPending(f, sink);
    ++stats_.gone;
    f.file.reset();
    f.gone = true;
    f.offset = f.deliveredUpTo();
    f.reader.reset();
  } else if (idle && f.pending) {
    flushPending(f, sink);
  }
}

void TraceTailCollector::onLine(Tracked& f, TraceLine&& line, EventSink& sink) {
  ++stats_.lines;
  if (line.truncated) {
    reportError(sink, f.path, line.offset, Errc::kLimit,
                "line of " + std::to_string(line.raw_bytes) + " bytes is longer than the " +
                    std::to_string(options_.max_line) + "-byte cap; kept its beginning");
  }
  if (line.invalid && ++f.encoding_errors <= kMaxEncodingErrorsPerFile) {
    reportError(sink, f.path, line.offset, Errc::kParse,
                std::string("invalid ") + traceEncodingName(f.reader->encoding()) +
                    " replaced by U+FFFD" +
                    (f.encoding_errors == kMaxEncodingErrorsPerFile
                         ? " (further encoding errors in this file are not reported)"
                         : ""));
  }
  if (f.pending && !startsWithTraceTimestamp(line.text)) {
    // A continuation line (stack frame, blank line): part of the entry above.
    Pending& p = *f.pending;
    if (p.text.size() + 1 + line.text.size() <= options_.max_entry) {
      p.text += '\n';
      p.text += line.text;
    } else if (!p.truncated) {
      p.truncated = true;
      reportError(sink, f.path, p.offset, Errc::kLimit,
                  "entry longer than the " + std::to_string(options_.max_entry) +
                      "-byte cap; kept its beginning");
    }
    p.truncated = p.truncated || line.truncated;
    p.end = line.end;
    return;
  }
  // The new entry is pending before the previous one is delivered: a checkpoint taken while
  // delivering it must not pass the new entry's first line.
  std::optional<Pending> previous = std::exchange(
      f.pending, Pending{line.offset, line.end, std::move(line.text), line.truncated});
  if (previous) emit(f, std::move(*previous), sink);
}

void TraceTailCollector::flushPending(Tracked& f, EventSink& sink) {
  if (!f.pending) return;
  Pending p = std::move(*f.pending);
  f.pending.reset();
  emit(f, std::move(p), sink);
}

void TraceTailCollector::emit(Tracked& f, Pending&& p, EventSink& sink) {
  Event e;
  e.system.provider_name = options_.provider;
  e.system.computer = options_.computer;
  // The name it had when first seen: an entry read again after a rename (restart) has the same
  // content, so the collector sees a duplicate, not a conflict.
  e.origin.source = f.first_path;
  e.origin.position = p.offset;
  e.origin.file_id = f.key();
  const size_t nl = p.text.find('\n');
  const std::string_view first(p.text.data(), nl == std::string::npos ? p.text.size() : nl);
  if (auto fields = parseTraceLine(first)) {
    e.reserveFields(5);
    e.addField("Time", std::string(fields->time));
    e.addField("Thread", std::string(fields->thread));
    e.addField("Level", std::string(fields->level));
    std::string message(fields->message);
    if (nl != std::string::npos) message.append(p.text, nl, std::string::npos);
    e.addField("Message", std::move(message));
    e.system.level = traceLevelNumber(fields->level);
    uint32_t thread = 0;
    for (char c : fields->thread) thread = thread * 10 + static_cast<uint32_t>(c - '0');
    e.system.thread_id = thread;
    e.system.time_created = f.clock.advance(*fields);
  } else {
    e.addField("Message", std::move(p.text));  // not the trace shape: kept whole
  }
  e.addField("TraceFile", baseName(f.first_path));
  if (p.truncated) e.addField("Truncated", "true");
  if (e.system.time_created) {
    progress_time_ = std::chrono::system_clock::time_point(
        std::chrono::microseconds(filetimeToUnixMicros(*e.system.time_created)));
  }
  progress_position_ = baseName(f.path) + "@" + std::to_string(p.end);
  ++progress_events_;
  ++stats_.entries;
  sink.onEvent(std::move(e));
  if (++since_checkpoint_ >= options_.batch_entries) maybeCheckpoint();
}

void TraceTailCollector::maybeCheckpoint() {
  if (!options_.on_checkpoint) return;
  // Without new entries positions may still have moved (a file forgotten, a truncation).
  std::string cp = checkpoint();
  if (cp == last_checkpoint_ && since_checkpoint_ == 0) return;
  since_checkpoint_ = 0;
  last_checkpoint_ = cp;
  options_.on_checkpoint(cp);
}

}  // namespace t0w
