#include "collectors/tracefile/trace_glob.h"

#include <algorithm>
#include <cstdlib>

#ifdef _WIN32
#include <windows.h>

#include "agent/platform/windows/utf.h"
#endif

namespace t0w {

EnvLookup processEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
#ifdef _WIN32
    auto wide = win::toWide(name);
    if (!wide) return std::nullopt;
    const DWORD n = GetEnvironmentVariableW(wide->c_str(), nullptr, 0);
    if (n == 0) return std::nullopt;
    std::wstring value(n, L'\0');
    const DWORD got = GetEnvironmentVariableW(wide->c_str(), value.data(), n);
    value.resize(got);
    return win::toUtf8(value);
#else
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
#endif
  };
}

std::string expandEnvironment(std::string_view text, const EnvLookup& env) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t open = text.find('%', i);
    if (open == std::string_view::npos) break;
    const size_t close = text.find('%', open + 1);
    if (close == std::string_view::npos) break;
    out.append(text.substr(i, open - i));
    const std::string name(text.substr(open + 1, close - open - 1));
    std::optional<std::string> value;
    if (!name.empty()) value = env(name);
    if (value) {
      out += *value;
      i = close + 1;
    } else {
      out += '%';  // keep it; the closing '%' may open the next reference
      i = open + 1;
    }
  }
  out.append(text.substr(i));
  return out;
}

namespace {

char fold(char c, bool fold_case) {
  return fold_case && c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool hasWildcard(std::string_view s) { return s.find_first_of("*?") != std::string_view::npos; }

}  // namespace

bool wildcardMatch(std::string_view pattern, std::string_view name, bool fold_case) {
  // Iterative matcher with one backtrack point per '*' (linear for the patterns we use).
  size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() &&
        (pattern[p] == '?' || fold(pattern[p], fold_case) == fold(name[n], fold_case))) {
      ++p;
      ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

TraceGlob::TraceGlob(std::string pattern, bool windows_paths)
    : pattern_(std::move(pattern)), windows_(windows_paths) {
  auto is_sep = [&](char c) { return c == '/' || (windows_ && c == '\\'); };
  std::string_view rest = pattern_;
  // Root: "/" (POSIX), "C:\" or "\\server\share\" (Windows); none for a relative pattern.
  if (windows_ && rest.size() >= 2 && rest[1] == ':') {
    root_.assign(rest.substr(0, 2));
    root_ += '\\';
    rest.remove_prefix(rest.size() >= 3 && is_sep(rest[2]) ? 3 : 2);
  } else if (windows_ && rest.size() >= 2 && is_sep(rest[0]) && is_sep(rest[1])) {
    // UNC: \\server\share is the root.
    size_t seps = 0, i = 2;
    for (; i < rest.size(); ++i) {
      if (is_sep(rest[i]) && ++seps == 2) break;
    }
    root_.assign(rest.substr(0, i));
    root_ += '\\';
    rest.remove_prefix(std::min(i + 1, rest.size()));
  } else if (!rest.empty() && is_sep(rest[0])) {
    root_ = windows_ ? "\\" : "/";
    rest.remove_prefix(1);
  }
  std::string current;
  for (char c : rest) {
    if (is_sep(c)) {
      if (!current.empty()) components.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) components.push_back(std::move(current));
}

GlobResult TraceGlob::expand(TraceFileSystem& fs) const {
  GlobResult out;
  const char sep = windows_ ? '\\' : '/';
  auto join = [&](const std::string& dir, const std::string& name) {
    std::string out = dir;
    if (!out.empty() && out.back() != sep && out.back() != '/') out += sep;
    out += name;
    return out;
  };
  if (components.empty()) {
    out.absent = true;
    out.detail = "\"" + pattern_ + "\" names no file";
    return out;
  }
  // Directories that match the pattern's directory part, level by level.
  std::vector<std::string> dirs{root_.empty() ? std::string(".") : root_};
  std::string missing;  // the first fixed directory found missing, for the message
  bool denied = false;
  for (size_t level = 0; level + 1 < components.size(); ++level) {
    const std::string& comp = components[level];
    std::vector<std::string> next;
    for (const std::string& dir : dirs) {
      const std::string base = root_.empty() && dir == "." ? std::string() : dir;
      if (!hasWildcard(comp)) {
        next.push_back(join(base, comp));
        continue;
      }
      DirListing l = fs.list(dir);
      if (l.problem == DirListing::Problem::kAccessDenied) denied = true;
      if (l.problem != DirListing::Problem::kNone) {
        if (out.detail.empty()) out.detail = l.detail;
        continue;
      }
      for (const DirEntry& e : l.entries) {
        if (e.directory && wildcardMatch(comp, e.name, windows_))
          next.push_back(join(base, e.name));
      }
    }
    dirs = std::move(next);
  }
  const std::string& file_pattern = components.back();
  bool any_dir = false;
  for (const std::string& dir : dirs) {
    DirListing l = fs.list(dir);
    if (l.problem == DirListing::Problem::kAbsent) {
      if (missing.empty()) missing = dir;
      continue;
    }
    if (l.problem != DirListing::Problem::kNone) {
      if (l.problem == DirListing::Problem::kAccessDenied) denied = true;
      out.detail = l.detail;
      any_dir = true;
      continue;
    }
    any_dir = true;
    for (const DirEntry& e : l.entries) {
      if (!e.directory && wildcardMatch(file_pattern, e.name, windows_)) {
        out.files.push_back(join(dir == "." && root_.empty() ? std::string() : dir, e.name));
      }
    }
  }
  std::sort(out.files.begin(), out.files.end());
  if (!any_dir) {
    out.absent = !denied;
    out.access_denied = denied;
    if (out.detail.empty() || !denied) {
      out.detail = missing.empty() ? "no folder matches \"" + pattern_ + "\""
                                   : "folder " + missing + " does not exist";
    }
  } else if (denied && out.files.empty()) {
    out.access_denied = true;
  }
  return out;
}

}  // namespace t0w
