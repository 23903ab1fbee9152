#include "agent/rules/rule_cache.h"

#include <cstring>
#include <fstream>
#include <system_error>

namespace t0w {
namespace {

constexpr char kMagic[8] = {'T', '0', 'W', 'R', 'U', 'L', 'E', 'C'};
constexpr uint32_t kFormat = 1;

uint64_t fnv1a64(std::string_view s, uint64_t h = 1469598103934665603ull) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// A second, independent hash: 8 bytes at a time, multiply and fold (splitmix64's finaliser).
uint64_t mix64(std::string_view s) {
  auto fin = [](uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  uint64_t h = 0x9e3779b97f4a7c15ull ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = fin(h ^ w) + 0x9e3779b97f4a7c15ull;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, s.data() + i, s.size() - i);
  return fin(h ^ tail ^ (uint64_t{s.size() - i} << 56));
}

// Each entry carries a hash of its path and bytes: a damaged entry is never decoded.
uint64_t entrySum(std::string_view path, std::string_view bytes) {
  return mix64(bytes) ^ (mix64(path) * 3);
}

void putNum(std::string& out, uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out.append(b, 8);
}

void putStr(std::string& out, std::string_view s) {
  putNum(out, s.size());
  out.append(s);
}

bool getNum(std::string_view in, size_t& pos, uint64_t& v) {
  if (in.size() - pos < 8) return false;
  std::memcpy(&v, in.data() + pos, 8);
  pos += 8;
  return true;
}

bool getView(std::string_view in, size_t& pos, std::string_view& s) {
  uint64_t n = 0;
  if (!getNum(in, pos, n) || n > in.size() - pos) return false;
  s = in.substr(pos, n);
  pos += n;
  return true;
}

bool getStr(std::string_view in, size_t& pos, std::string& s) {
  std::string_view v;
  if (!getView(in, pos, v)) return false;
  s.assign(v);
  return true;
}

}  // namespace

RuleCache::Entry RuleCache::keyOf(std::string_view content) {
  Entry e;
  e.size = content.size();
  e.h1 = fnv1a64(content);
  e.h2 = mix64(content);
  return e;
}

RuleCache::RuleCache(std::filesystem::path file, std::string stamp)
    : file_(std::move(file)), stamp_(std::move(stamp)) {
  changed_ = !read();
}

bool RuleCache::read() {
  std::error_code ec;
  if (!std::filesystem::exists(file_, ec)) return false;
  const auto size = std::filesystem::file_size(file_, ec);
  std::ifstream in(file_, std::ios::binary);
  if (ec || !in) {
    problem_ = "cannot read " + file_.string();
    return false;
  }
  data_.resize(size);
  if (!in.read(data_.data(), static_cast<std::streamsize>(size))) {
    problem_ = "cannot read " + file_.string();
    data_.clear();
    return false;
  }
  const std::string_view all(data_);
  auto damaged = [&](const std::string& why) {
    problem_ = file_.string() + " is damaged (" + why + ")";
    entries_.clear();
    data_.clear();
    return false;
  };
  if (all.size() < sizeof(kMagic) || std::memcmp(all.data(), kMagic, sizeof(kMagic)) != 0)
    return damaged("not a rule cache");
  size_t pos = sizeof(kMagic);
  uint64_t format = 0, count = 0;
  std::string stamp;
  if (!getNum(all, pos, format)) return damaged("truncated");
  // Another format, build or compile options: rebuilt silently.
  if (format == kFormat && !getStr(all, pos, stamp)) return damaged("truncated");
  if (format != kFormat || stamp != stamp_) {
    data_.clear();
    return false;
  }
  if (!getNum(all, pos, count)) return damaged("truncated");
  for (uint64_t i = 0; i < count; ++i) {
    std::string_view path;
    Entry e;
    uint64_t sum = 0;
    if (!getView(all, pos, path) || !getNum(all, pos, e.size) || !getNum(all, pos, e.h1) ||
        !getNum(all, pos, e.h2) || !getView(all, pos, e.bytes) || !getNum(all, pos, sum))
      return damaged("truncated");
    if (sum != entrySum(path, e.bytes)) return damaged("checksum mismatch");
    entries_[std::string(path)] = std::move(e);
  }
  if (pos != all.size()) return damaged("trailing bytes");
  return true;
}

std::optional<std::string_view> RuleCache::find(const std::string& path, std::string_view content) {
  auto it = entries_.find(path);
  if (it == entries_.end()) return std::nullopt;
  const Entry key = keyOf(content);
  Entry& e = it->second;
  if (e.size != key.size || e.h1 != key.h1 || e.h2 != key.h2) return std::nullopt;
  e.used = true;
  ++hits_;
  return e.bytes;
}

void RuleCache::put(const std::string& path, std::string_view content, std::string bytes) {
  Entry e = keyOf(content);
  e.owned = std::move(bytes);
  e.bytes = e.owned;
  e.used = true;
  entries_[path] = std::move(e);
  changed_ = true;
}

void RuleCache::drop(const std::string& path) {
  entries_.erase(path);
  changed_ = true;
}

std::string RuleCache::save() {
  size_t used = 0;
  for (const auto& [path, e] : entries_) used += e.used ? 1 : 0;
  if (!changed_ && used == entries_.size()) return {};
  std::error_code ec;
  if (file_.has_parent_path()) std::filesystem::create_directories(file_.parent_path(), ec);
  const auto tmp = std::filesystem::path(file_.string() + ".tmp");
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    // Entry by entry, so that the cache is never held twice in memory.
    std::string out(kMagic, sizeof(kMagic));
    putNum(out, kFormat);
    putStr(out, stamp_);
    putNum(out, used);
    for (const auto& [path, e] : entries_) {
      if (!e.used) continue;
      putStr(out, path);
      putNum(out, e.size);
      putNum(out, e.h1);
      putNum(out, e.h2);
      putNum(out, e.bytes.size());
      f.write(out.data(), static_cast<std::streamsize>(out.size()));
      f.write(e.bytes.data(), static_cast<std::streamsize>(e.bytes.size()));
      out.clear();
      putNum(out, entrySum(path, e.bytes));
    }
    f.write(out.data(), static_cast<std::streamsize>(out.size()));
    if (!f.flush()) {
      f.close();
      std::filesystem::remove(tmp, ec);
      return "cannot write " + tmp.string();
    }
  }
  std::filesystem::rename(tmp, file_, ec);
  if (ec) {  // Windows may refuse to replace an existing file
    std::filesystem::remove(file_, ec);
    std::filesystem::rename(tmp, file_, ec);
  }
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return "cannot replace " + file_.string() + ": " + ec.message();
  }
  changed_ = false;
  return {};
}

}  // namespace t0w
