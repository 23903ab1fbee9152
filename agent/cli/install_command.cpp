#include "agent/cli/install_command.h"

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <system_error>
#include <vector>

#include "agent/config/agent_config.h"

#ifdef _WIN32
#include <windows.h>
// clang-format off: aclapi.h and sddl.h need windows.h first
#include <aclapi.h>
#include <sddl.h>
// clang-format on

#include "agent/platform/windows/error_text.h"
#include "agent/platform/windows/utf.h"
#endif

namespace t0w::cli {
namespace fs = std::filesystem;

namespace {

std::string_view trimmed(std::string_view s) {
  const char* ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

size_t indentOf(std::string_view line) {
  size_t n = 0;
  while (n < line.size() && line[n] == ' ') ++n;
  return n;
}

// Blank, or only a comment.
bool isFiller(std::string_view line) {
  std::string_view t = trimmed(line);
  return t.empty() || t.front() == '#';
}

bool hasControlChars(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

Result<std::string> readText(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return makeError(Errc::kIo, file.string() + ": cannot read");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return makeError(Errc::kIo, file.string() + ": read failed");
  return text.str();
}

// Written beside the target, then renamed over it: a crash leaves the old file or the new one.
Status writeFileAtomically(const fs::path& file, std::string_view text) {
  fs::path tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return makeError(Errc::kIo, tmp.string() + ": cannot create");
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out) return makeError(Errc::kIo, tmp.string() + ": write failed");
  }
#ifndef _WIN32
  // The token file may only be read by its owner; Windows gets this from the directory's DACL.
  std::error_code perm_ec;
  fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace,
                  perm_ec);
  if (perm_ec) return makeError(Errc::kIo, tmp.string() + ": chmod: " + perm_ec.message());
#endif
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return makeError(Errc::kIo, file.string() + ": cannot replace: " + ec.message());
  }
  return {};
}

// A configuration file edited line by line, so that the administrator's comments and layout
// survive: line endings (LF or CRLF, from the first line) and a missing last newline are kept.
struct ConfigLines {
  std::vector<std::string> lines;
  bool crlf = false;

  static ConfigLines split(std::string_view text) {
    ConfigLines out;
    while (!text.empty()) {
      const size_t nl = text.find('\n');
      out.lines.emplace_back(text.substr(0, nl));
      text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    }
    out.crlf = !out.lines.empty() && !out.lines.front().empty() && out.lines.front().back() == '\r';
    for (auto& line : out.lines) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
    }
    return out;
  }

  std::string join(std::string_view original) const {
    std::string out;
    for (size_t i = 0; i < lines.size(); ++i) {
      out += lines[i];
      if (i + 1 < lines.size() || original.ends_with('\n') || original.empty()) {
        out += crlf ? "\r\n" : "\n";
      }
    }
    return out;
  }
};

}  // namespace

Result<std::string> withCollectorUrl(std::string_view config_text, std::string_view url,
                                     const fs::path& base_dir) {
  if (url.empty()) return makeError(Errc::kInvalidArgument, "collector URL: empty");
  if (hasControlChars(url) || url.find(' ') != std::string_view::npos) {
    return makeError(Errc::kInvalidArgument,
                     "collector URL: contains spaces or control characters");
  }
  if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) {
    return makeError(Errc::kInvalidArgument, "collector URL: " + std::string(url) +
                                                 ": expected https://host[:port][/prefix]");
  }

  // Line by line, so that the administrator's comments and layout survive.
  ConfigLines text = ConfigLines::split(config_text);
  std::vector<std::string>& lines = text.lines;

  const std::string value = quoted(url);
  size_t collector = lines.size();
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line.rfind("collector:", 0) != 0) continue;
    std::string_view after = trimmed(line.substr(10));
    if (!after.empty() && after.front() != '#') {
      return makeError(Errc::kUnsupported,
                       "collector: not a block mapping (one key per line); set collector.url by "
                       "hand");
    }
    collector = i;
    break;
  }
  if (collector == lines.size()) {
    lines.push_back("collector:");
    lines.push_back("  url: " + value);
  } else {
    // The block runs until the next line at column 0 that is not a comment.
    size_t end = collector + 1;
    size_t child_indent = 0;
    while (end < lines.size() && (isFiller(lines[end]) || indentOf(lines[end]) > 0)) {
      if (!isFiller(lines[end]) && child_indent == 0) child_indent = indentOf(lines[end]);
      ++end;
    }
    if (child_indent == 0) child_indent = 2;
    bool replaced = false;
    for (size_t i = collector + 1; i < end; ++i) {
      std::string_view line = lines[i];
      if (indentOf(line) == child_indent && line.substr(child_indent).rfind("url:", 0) == 0) {
        lines[i] = std::string(child_indent, ' ') + "url: " + value;
        replaced = true;
        break;
      }
    }
    if (!replaced) {
      lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(collector) + 1,
                   std::string(child_indent, ' ') + "url: " + value);
    }
  }

  const std::string out = text.join(config_text);
  auto check = parseConfig(out, "configuration with the new collector URL", base_dir);
  if (!check) return check.error();
  return out;
}

const std::vector<SourceSwitch>& sourceSwitches() {
  static const std::vector<SourceSwitch> kSwitches = {
      {"SOURCE_SECURITY", "security"},
      {"SOURCE_PTA_AGENT", "pta_agent_admin"},
      {"SOURCE_PRIVATE_NETWORK_CONNECTOR", "private_network_connector_admin"},
      {"SOURCE_PASSWORD_PROTECTION_ADMIN", "password_protection_admin"},
      {"SOURCE_PASSWORD_PROTECTION_OPERATIONAL", "password_protection_operational"},
      {"SOURCE_ENTRA_CONNECT_APPLICATION", "entra_connect_application"},
      {"SOURCE_POWERSHELL", "powershell_script_block"},
      {"SOURCE_SYSTEM", "system_service_and_clear"},
      {"SOURCE_ENTRA_CONNECT_TRACE", "entra_connect_trace"},
  };
  return kSwitches;
}

Result<std::string> withWindowsSwitch(std::string_view config_text, std::string_view key, bool on,
                                      const fs::path& base_dir) {
  ConfigLines text = ConfigLines::split(config_text);
  std::vector<std::string>& lines = text.lines;
  const std::string value = std::string(key) + ": " + (on ? "true" : "false");
  size_t section = lines.size();
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind("windows:", 0) == 0) {
      section = i;
      break;
    }
  }
  if (section == lines.size()) {
    if (!lines.empty() && lines.back().empty()) lines.pop_back();
    lines.push_back("windows:");
    lines.push_back("  " + value);
  } else {
    // The section's children: the indented lines up to the next top-level key.
    size_t end = section + 1;
    size_t indent = 0;
    while (end < lines.size() &&
           (lines[end].empty() || lines[end][0] == ' ' || lines[end][0] == '#')) {
      const size_t first = lines[end].find_first_not_of(' ');
      if (indent == 0 && first != std::string::npos && first > 0 && lines[end][first] != '#') {
        indent = first;
      }
      ++end;
    }
    if (indent == 0) indent = 2;
    bool replaced = false;
    for (size_t i = section + 1; i < end; ++i) {
      const std::string& line = lines[i];
      if (line.size() > indent && line.find_first_not_of(' ') == indent &&
          line.compare(indent, key.size() + 1, std::string(key) + ":") == 0) {
        // Keeps what follows the value (alignment spaces and a comment).
        const size_t v = line.find_first_not_of(' ', indent + key.size() + 1);
        const size_t v_end = v == std::string::npos ? v : line.find_first_of(" #", v);
        lines[i] = std::string(indent, ' ') + value +
                   (v_end != std::string::npos ? line.substr(v_end) : std::string());
        replaced = true;
        break;
      }
    }
    if (!replaced) {
      lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(section) + 1,
                   std::string(indent, ' ') + value);
    }
  }
  const std::string out = text.join(config_text);
  auto check = parseConfig(out, "configuration with windows." + std::string(key), base_dir);
  if (!check) return check.error();
  return out;
}

Result<std::string> prepareDataDir(const PrepareOptions& options) {
  const fs::path& dir = options.data_dir;
  if (!dir.is_absolute()) {
    return makeError(Errc::kInvalidArgument, "--data-dir " + dir.string() + ": not absolute");
  }
  std::string token{trimmed(options.token)};
  if (hasControlChars(token)) {
    return makeError(Errc::kInvalidArgument, "enrolment token: contains control characters");
  }

  std::string actions;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return makeError(Errc::kIo, dir.string() + ": cannot create: " + ec.message());
  // Before anything is written inside: the token and the queue must never be readable by users.
  if (Status s = secureDirectory(dir); !s) return s.error();
  actions += dir.string() + ": restricted to SYSTEM and Administrators\n";
  for (const char* sub : {"state", "logs"}) {
    fs::create_directories(dir / sub, ec);
    if (ec) return makeError(Errc::kIo, (dir / sub).string() + ": cannot create: " + ec.message());
  }

  const fs::path config = dir / kConfigFileName;
  const bool existed = fs::exists(config, ec);
  std::string text;
  if (existed) {
    auto current = readText(config);
    if (!current) return current.error();
    text = std::move(*current);
  } else {
    auto initial = readText(options.default_config);
    if (!initial) return initial.error();
    text = std::move(*initial);
  }
  std::string updated = text;
  if (!options.collector_url.empty()) {
    auto with_url = withCollectorUrl(text, options.collector_url, dir);
    if (!with_url)
      return makeError(with_url.error().code, config.string() + ": " + with_url.error().message);
    updated = std::move(*with_url);
  }
  const std::string with_url = updated;
  std::string switched;
  for (const std::string& item : options.sources) {
    const size_t eq = item.find('=');
    const std::string key = item.substr(0, eq);
    const std::string value = eq == std::string::npos ? std::string() : item.substr(eq + 1);
    bool known = false;
    for (const SourceSwitch& s : sourceSwitches()) known = known || key == s.key;
    if (!known || eq == std::string::npos) {
      return makeError(Errc::kInvalidArgument, "--source " + item +
                                                   ": expected <source>=0|1 with a source of " +
                                                   "SOURCE_* (e.g. security=0)");
    }
    if (value.empty()) continue;  // the MSI property was not given
    if (value != "0" && value != "1") {
      return makeError(Errc::kInvalidArgument,
                       "--source " + item + ": the value must be 0 (off) or 1 (on)");
    }
    auto next = withWindowsSwitch(updated, key, value == "1", dir);
    if (!next) return makeError(next.error().code, config.string() + ": " + next.error().message);
    updated = std::move(*next);
    switched += " windows." + key + "=" + (value == "1" ? "true" : "false");
  }
  if (!existed || updated != text) {
    if (Status s = writeFileAtomically(config, updated); !s) return s.error();
  }
  if (!existed)
    actions += config.string() + ": created from " + options.default_config.string() + "\n";
  if (with_url != text)
    actions += config.string() + ": collector.url " + options.collector_url + "\n";
  if (!switched.empty()) actions += config.string() + ":" + switched + "\n";
  if (existed && updated == text) actions += config.string() + ": kept as it is\n";

  if (!token.empty()) {
    const fs::path token_file = dir / kTokenFileName;
    if (Status s = writeFileAtomically(token_file, token + "\n"); !s) return s.error();
    actions += token_file.string() + ": enrolment token written\n";
  }
  return actions;
}

#ifdef _WIN32

namespace {

// SYSTEM and BUILTIN\Administrators: full control, inherited by files (OI) and folders (CI);
// "P" protects the DACL from the parent's inheritable entries (Users may read ProgramData).
constexpr wchar_t kDataDirSddl[] = L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";

struct LocalFreeDeleter {
  void operator()(void* p) const { LocalFree(p); }
};

std::string sidText(PSID sid) {
  LPWSTR text = nullptr;
  if (!ConvertSidToStringSidW(sid, &text)) return "an unreadable SID";
  std::unique_ptr<void, LocalFreeDeleter> hold(text);
  return win::toUtf8(text);
}

}  // namespace

Status secureDirectory(const fs::path& dir) {
  PSECURITY_DESCRIPTOR raw = nullptr;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(kDataDirSddl, SDDL_REVISION_1, &raw,
                                                            nullptr)) {
    return win::win32Error(Errc::kInternal, "ConvertStringSecurityDescriptorToSecurityDescriptor",
                           GetLastError());
  }
  std::unique_ptr<void, LocalFreeDeleter> sd(raw);
  BOOL present = FALSE;
  BOOL defaulted = FALSE;
  PACL dacl = nullptr;
  if (!GetSecurityDescriptorDacl(raw, &present, &dacl, &defaulted) || !present) {
    return win::win32Error(Errc::kInternal, "GetSecurityDescriptorDacl", GetLastError());
  }
  std::wstring path = dir.wstring();
  // Also re-applies inheritance to what is already below (an upgrade keeps the queue).
  DWORD rc = SetNamedSecurityInfoW(path.data(), SE_FILE_OBJECT,
                                   DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                                   nullptr, nullptr, dacl, nullptr);
  if (rc != ERROR_SUCCESS) {
    return win::win32Error(win::errcForWin32(rc), dir.string() + ": SetNamedSecurityInfo", rc);
  }
  return {};
}

Result<std::string> verifySecuredDirectory(const fs::path& dir) {
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR raw = nullptr;
  DWORD rc = GetNamedSecurityInfoW(dir.wstring().c_str(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION,
                                   nullptr, nullptr, &dacl, nullptr, &raw);
  if (rc != ERROR_SUCCESS) {
    return win::win32Error(win::errcForWin32(rc), dir.string() + ": GetNamedSecurityInfo", rc);
  }
  std::unique_ptr<void, LocalFreeDeleter> sd(raw);
  LPWSTR sddl_raw = nullptr;
  std::string sddl = "?";
  if (ConvertSecurityDescriptorToStringSecurityDescriptorW(
          raw, SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &sddl_raw, nullptr)) {
    std::unique_ptr<void, LocalFreeDeleter> hold(sddl_raw);
    sddl = win::toUtf8(sddl_raw);
  }
  auto bad = [&](const std::string& why) {
    return makeError(Errc::kCorrupt, dir.string() + ": " + why + " (DACL " + sddl + ")");
  };
  if (dacl == nullptr) return bad("no DACL: everyone has full access");
  SECURITY_DESCRIPTOR_CONTROL control = 0;
  DWORD revision = 0;
  if (!GetSecurityDescriptorControl(raw, &control, &revision)) {
    return win::win32Error(Errc::kInternal, "GetSecurityDescriptorControl", GetLastError());
  }
  if (!(control & SE_DACL_PROTECTED)) return bad("the DACL inherits from the parent folder");
  ACL_SIZE_INFORMATION info{};
  if (!GetAclInformation(dacl, &info, sizeof info, AclSizeInformation)) {
    return win::win32Error(Errc::kInternal, "GetAclInformation", GetLastError());
  }
  bool system = false;
  bool admins = false;
  for (DWORD i = 0; i < info.AceCount; ++i) {
    void* ace = nullptr;
    if (!GetAce(dacl, i, &ace)) {
      return win::win32Error(Errc::kInternal, "GetAce", GetLastError());
    }
    auto* header = static_cast<ACE_HEADER*>(ace);
    if (header->AceType != ACCESS_ALLOWED_ACE_TYPE) {
      return bad("entry " + std::to_string(i) + " is not an allow entry");
    }
    auto* allowed = static_cast<ACCESS_ALLOWED_ACE*>(ace);
    PSID sid = &allowed->SidStart;
    if (IsWellKnownSid(sid, WinLocalSystemSid)) {
      system = true;
    } else if (IsWellKnownSid(sid, WinBuiltinAdministratorsSid)) {
      admins = true;
    } else {
      return bad("grants access to " + sidText(sid));
    }
    const bool full =
        (allowed->Mask & FILE_ALL_ACCESS) == FILE_ALL_ACCESS || (allowed->Mask & GENERIC_ALL) != 0;
    const BYTE inherit = OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE;
    if (!full) return bad(sidText(sid) + " lacks full control");
    if ((header->AceFlags & inherit) != inherit) {
      return bad(sidText(sid) + "'s entry is not inherited by files and folders");
    }
  }
  if (!system || !admins) return bad("SYSTEM or Administrators has no entry");
  return sddl;
}

#else

Status secureDirectory(const fs::path& dir) {
  std::error_code ec;
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return makeError(Errc::kIo, dir.string() + ": chmod: " + ec.message());
  return {};
}

Result<std::string> verifySecuredDirectory(const fs::path& dir) {
  std::error_code ec;
  fs::perms perms = fs::status(dir, ec).permissions();
  if (ec) return makeError(Errc::kIo, dir.string() + ": " + ec.message());
  std::ostringstream mode;
  mode << std::oct << static_cast<unsigned>(perms & fs::perms::mask);
  if ((perms & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none) {
    return makeError(Errc::kCorrupt,
                     dir.string() + ": mode " + mode.str() + " lets other users in");
  }
  return mode.str();
}

#endif

namespace {

struct InstallArgs {
  PrepareOptions prepare;
  bool token_stdin = false;
  fs::path verify_dir;
};

// The token from the first line of `in` (CR LF or LF; at most 4 KiB: a bearer token, not a file).
Result<std::string> readTokenLine(std::istream* in) {
  constexpr size_t kMaxToken = 4096;
  if (in == nullptr) return makeError(Errc::kInvalidArgument, "--token-stdin: no standard input");
  std::string line;
  char c = 0;
  while (in->get(c) && c != '\n') {
    if (line.size() == kMaxToken) {
      return makeError(Errc::kLimit, "--token-stdin: token longer than 4096 bytes");
    }
    line.push_back(c);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Custom actions have no console: what happened goes to <data dir>\logs\install.log as well.
void appendInstallLog(const fs::path& data_dir, std::string_view text) {
  std::error_code ec;
  if (!fs::is_directory(data_dir / "logs", ec)) return;
  std::ofstream log(data_dir / "logs" / "install.log", std::ios::app | std::ios::binary);
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  std::string stamp = std::to_string(now.time_since_epoch().count());
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    log << "unix " << stamp << " " << rest.substr(0, nl) << "\n";
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  }
}

}  // namespace

void registerInstallCommand(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<InstallArgs>();
  CLI::App* cmd = app.add_subcommand(
      "install", "Installer steps (run by tier0watch.msi as SYSTEM): data directory, settings");
  cmd->require_subcommand(1);

  CLI::App* prepare = cmd->add_subcommand(
      "prepare",
      "Create the data directory (SYSTEM and Administrators only), the configuration on first "
      "install, the collector URL and the enrolment token; keeps an existing queue and "
      "configuration");
  prepare->add_option("--data-dir", args->prepare.data_dir, "e.g. C:\\ProgramData\\Tier0Watch")
      ->required();
  prepare
      ->add_option("--default-config", args->prepare.default_config,
                   "Configuration copied on first install")
      ->required();
  prepare->add_option("--collector-url", args->prepare.collector_url,
                      "Sets collector.url (empty: unchanged)");
  // Never an argument: process-creation auditing (4688 with command lines, usual on DCs) would
  // record it, and the agent would ship that event. The MSI's custom action writes it to stdin.
  prepare->add_flag("--token-stdin", args->token_stdin,
                    "Read the enrolment (bearer) token for the token file from the first line of "
                    "standard input (empty: unchanged)");
  prepare->add_option("--source", args->prepare.sources,
                      "windows.<source>=0|1 (empty value: unchanged); repeatable");
  prepare->callback([args, &ctx] {
    if (args->token_stdin) {
      auto token = readTokenLine(ctx.io.in);
      if (!token) {
        std::string line = "tier0watch install prepare: " + token.error().message + "\n";
        ctx.io.err << line;
        appendInstallLog(args->prepare.data_dir, line);
        ctx.exit_code = kExitInputErrors;
        return;
      }
      args->prepare.token = std::move(*token);
    }
    auto done = prepareDataDir(args->prepare);
    if (!done) {
      std::string line = "tier0watch install prepare: " + done.error().message + "\n";
      ctx.io.err << line;
      appendInstallLog(args->prepare.data_dir, line);
      ctx.exit_code = kExitInputErrors;
      return;
    }
    ctx.io.out << *done;
    appendInstallLog(args->prepare.data_dir, *done);
  });

  CLI::App* verify = cmd->add_subcommand(
      "verify", "Check that the data directory is restricted to SYSTEM and Administrators");
  verify->add_option("--data-dir", args->verify_dir, "e.g. C:\\ProgramData\\Tier0Watch")
      ->required();
  verify->callback([args, &ctx] {
    auto acl = verifySecuredDirectory(args->verify_dir);
    if (!acl) {
      ctx.io.err << "tier0watch install verify: " << acl.error().message << "\n";
      ctx.exit_code = kExitInputErrors;
      return;
    }
    ctx.io.out << args->verify_dir.string() << ": restricted to SYSTEM and Administrators (" << *acl
               << ")\n";
  });
}

}  // namespace t0w::cli
