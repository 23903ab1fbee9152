#include "agent/shipper/winhttp_transport.h"

// clang-format off: windows.h must precede winhttp.h.
#include <windows.h>
#include <winhttp.h>
// clang-format on
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "agent/shipper/cert_store_windows.h"
#include "agent/shipper/winhttp_errors.h"

namespace t0w {

namespace wh = winhttp;
using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

// The portable classification uses its own copies of the codes; they must be winhttp.h's.
static_assert(wh::kErrTimeout == ERROR_WINHTTP_TIMEOUT);
static_assert(wh::kErrNameNotResolved == ERROR_WINHTTP_NAME_NOT_RESOLVED);
static_assert(wh::kErrOperationCancelled == ERROR_WINHTTP_OPERATION_CANCELLED);
static_assert(wh::kErrCannotConnect == ERROR_WINHTTP_CANNOT_CONNECT);
static_assert(wh::kErrConnectionError == ERROR_WINHTTP_CONNECTION_ERROR);
static_assert(wh::kErrSecureCertDateInvalid == ERROR_WINHTTP_SECURE_CERT_DATE_INVALID);
static_assert(wh::kErrSecureCertCnInvalid == ERROR_WINHTTP_SECURE_CERT_CN_INVALID);
static_assert(wh::kErrClientAuthCertNeeded == ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED);
static_assert(wh::kErrSecureInvalidCa == ERROR_WINHTTP_SECURE_INVALID_CA);
static_assert(wh::kErrSecureCertRevFailed == ERROR_WINHTTP_SECURE_CERT_REV_FAILED);
static_assert(wh::kErrInvalidServerResponse == ERROR_WINHTTP_INVALID_SERVER_RESPONSE);
static_assert(wh::kErrSecureChannelError == ERROR_WINHTTP_SECURE_CHANNEL_ERROR);
static_assert(wh::kErrBadAutoProxyScript == ERROR_WINHTTP_BAD_AUTO_PROXY_SCRIPT);
static_assert(wh::kErrUnableToDownloadScript == ERROR_WINHTTP_UNABLE_TO_DOWNLOAD_SCRIPT);
static_assert(wh::kErrSecureInvalidCert == ERROR_WINHTTP_SECURE_INVALID_CERT);
static_assert(wh::kErrSecureCertRevoked == ERROR_WINHTTP_SECURE_CERT_REVOKED);
static_assert(wh::kErrSecureFailure == ERROR_WINHTTP_SECURE_FAILURE);
static_assert(wh::kErrAutoProxyServiceError == ERROR_WINHTTP_AUTO_PROXY_SERVICE_ERROR);
static_assert(wh::kErrSecureCertWrongUsage == ERROR_WINHTTP_SECURE_CERT_WRONG_USAGE);
static_assert(wh::kErrAutodetectionFailed == ERROR_WINHTTP_AUTODETECTION_FAILED);
static_assert(wh::kErrHeaderSizeOverflow == ERROR_WINHTTP_HEADER_SIZE_OVERFLOW);
static_assert(wh::kErrChunkedEncodingHeaderSizeOverflow ==
              ERROR_WINHTTP_CHUNKED_ENCODING_HEADER_SIZE_OVERFLOW);
static_assert(wh::kErrResponseDrainOverflow == ERROR_WINHTTP_RESPONSE_DRAIN_OVERFLOW);
static_assert(wh::kErrClientAuthCertNeededProxy == ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED_PROXY);
static_assert(wh::kErrSecureFailureProxy == ERROR_WINHTTP_SECURE_FAILURE_PROXY);
static_assert(wh::kWsaConnReset == WSAECONNRESET && wh::kWsaTimedOut == WSAETIMEDOUT &&
              wh::kWsaConnRefused == WSAECONNREFUSED && wh::kWsaNetUnreachable == WSAENETUNREACH &&
              wh::kWsaHostUnreachable == WSAEHOSTUNREACH);
static_assert(wh::kFlagCertRevFailed == WINHTTP_CALLBACK_STATUS_FLAG_CERT_REV_FAILED);
static_assert(wh::kFlagInvalidCert == WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CERT);
static_assert(wh::kFlagCertRevoked == WINHTTP_CALLBACK_STATUS_FLAG_CERT_REVOKED);
static_assert(wh::kFlagInvalidCa == WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA);
static_assert(wh::kFlagCertCnInvalid == WINHTTP_CALLBACK_STATUS_FLAG_CERT_CN_INVALID);
static_assert(wh::kFlagCertDateInvalid == WINHTTP_CALLBACK_STATUS_FLAG_CERT_DATE_INVALID);
static_assert(wh::kFlagCertWrongUsage == WINHTTP_CALLBACK_STATUS_FLAG_CERT_WRONG_USAGE);
static_assert(wh::kFlagSecurityChannelError == WINHTTP_CALLBACK_STATUS_FLAG_SECURITY_CHANNEL_ERROR);

namespace {

struct HandleClose {
  void operator()(void* handle) const { WinHttpCloseHandle(handle); }
};
using Handle = std::unique_ptr<void, HandleClose>;

// What the status callback learns during one request.
struct RequestState {
  std::atomic<DWORD> secure_flags{0};
  std::atomic<bool> connected{false};  // a new TCP connection was opened (not a pooled one)
};

void CALLBACK statusCallback(HINTERNET, DWORD_PTR context, DWORD status, LPVOID info,
                             DWORD length) {
  auto* state = reinterpret_cast<RequestState*>(context);
  if (state == nullptr) return;
  if (status == WINHTTP_CALLBACK_STATUS_SECURE_FAILURE && info != nullptr &&
      length >= sizeof(DWORD)) {
    state->secure_flags |= *static_cast<const DWORD*>(info);
  } else if (status == WINHTTP_CALLBACK_STATUS_CONNECTED_TO_SERVER) {
    state->connected = true;
  }
}

std::string systemMessage(DWORD error) {
  wchar_t* buffer = nullptr;
  const DWORD n = FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_HMODULE |
                                     FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                                 GetModuleHandleW(L"winhttp.dll"), error, 0,
                                 reinterpret_cast<wchar_t*>(&buffer), 0, nullptr);
  std::string text = n > 0 ? narrow(buffer, n) : "";
  if (buffer != nullptr) LocalFree(buffer);
  while (!text.empty() &&
         (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '.')) {
    text.pop_back();
  }
  return text.empty() ? "error " + std::to_string(error)
                      : text + " (error " + std::to_string(error) + ")";
}

DWORD remainingMs(Deadline deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left <= 0) return 1;
  return left > INT_MAX ? INT_MAX : static_cast<DWORD>(left);
}

bool validHeaderText(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

HttpHeaders parseRawHeaders(const std::string& raw) {
  HttpHeaders headers;
  size_t pos = raw.find("\r\n");  // the status line comes first
  while (pos != std::string::npos && pos + 2 < raw.size()) {
    const size_t start = pos + 2;
    pos = raw.find("\r\n", start);
    const std::string line = raw.substr(start, pos == std::string::npos ? pos : pos - start);
    const size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0) continue;
    size_t value = colon + 1;
    while (value < line.size() && (line[value] == ' ' || line[value] == '\t')) ++value;
    headers.emplace_back(line.substr(0, colon), line.substr(value));
  }
  return headers;
}

// Closes the request handle when the deadline passes, which aborts the synchronous WinHTTP
// call in progress (WinHttpCloseHandle's documented cancellation). The per-call timeouts bound
// each step; this bounds their sum.
class Watchdog {
 public:
  Watchdog() : thread_([this] { run(); }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  void arm(HINTERNET handle, Deadline deadline) {
    {
      std::lock_guard lock(mutex_);
      handle_ = handle;
      deadline_ = deadline;
      fired_ = false;
    }
    cv_.notify_all();
  }

  // True when the watchdog closed the handle (the caller must not close it again).
  bool disarm() {
    std::lock_guard lock(mutex_);
    handle_ = nullptr;
    return fired_;
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      if (handle_ == nullptr) {
        cv_.wait(lock);
        continue;
      }
      if (Clock::now() >= deadline_) {
        WinHttpCloseHandle(handle_);
        handle_ = nullptr;
        fired_ = true;
        continue;
      }
      cv_.wait_until(lock, deadline_);
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  HINTERNET handle_ = nullptr;
  Deadline deadline_{};
  bool fired_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

class WinHttpTransport::Impl {
 public:
  Impl(WinHttpTransportOptions options, WinHttpTarget target)
      : options_(std::move(options)), target_(std::move(target)) {}

  Status open() {
    if (session_) return {};
    const std::wstring agent = widen(options_.user_agent);
    HINTERNET session = nullptr;
    switch (target_.proxy_mode) {
      case ProxyMode::kNamed: {
        const std::wstring proxy = widen(target_.proxy->authority());
        session = WinHttpOpen(agent.c_str(), WINHTTP_ACCESS_TYPE_NAMED_PROXY, proxy.c_str(),
                              WINHTTP_NO_PROXY_BYPASS, 0);
        access_ = "named";
        break;
      }
      case ProxyMode::kDirect:
        session = WinHttpOpen(agent.c_str(), WINHTTP_ACCESS_TYPE_NO_PROXY, WINHTTP_NO_PROXY_NAME,
                              WINHTTP_NO_PROXY_BYPASS, 0);
        access_ = "direct";
        break;
      case ProxyMode::kSystem:
        // AUTOMATIC_PROXY exists from Windows 8.1 on; older systems refuse it as an invalid
        // parameter and get the static WinHTTP configuration (netsh winhttp) instead.
        session = WinHttpOpen(agent.c_str(), WINHTTP_ACCESS_TYPE_AUTOMATIC_PROXY,
                              WINHTTP_NO_PROXY_NAME, WINHTTP_NO_PROXY_BYPASS, 0);
        access_ = "automatic";
        if (session == nullptr && GetLastError() == ERROR_INVALID_PARAMETER) {
          session = WinHttpOpen(agent.c_str(), WINHTTP_ACCESS_TYPE_DEFAULT_PROXY,
                                WINHTTP_NO_PROXY_NAME, WINHTTP_NO_PROXY_BYPASS, 0);
          access_ = "default";
        }
        break;
    }
    if (session == nullptr) {
      return makeError(Errc::kIo, "WinHttpOpen: " + systemMessage(GetLastError()));
    }
    Handle owned(session);
    DWORD protocols = WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_2 | WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_3;
    if (!WinHttpSetOption(session, WINHTTP_OPTION_SECURE_PROTOCOLS, &protocols,
                          sizeof(protocols))) {
      protocols = WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_2;  // systems without TLS 1.3 in WinHTTP
      if (!WinHttpSetOption(session, WINHTTP_OPTION_SECURE_PROTOCOLS, &protocols,
                            sizeof(protocols))) {
        return makeError(Errc::kIo, "WinHTTP refuses TLS 1.2: " + systemMessage(GetLastError()));
      }
    }
    if (WinHttpSetStatusCallback(
            session, statusCallback,
            WINHTTP_CALLBACK_FLAG_SECURE_FAILURE | WINHTTP_CALLBACK_FLAG_CONNECT_TO_SERVER,
            0) == WINHTTP_INVALID_STATUS_CALLBACK) {
      return makeError(Errc::kIo, "WinHttpSetStatusCallback: " + systemMessage(GetLastError()));
    }
    const std::wstring host = widen(target_.url.host);
    const auto port = static_cast<INTERNET_PORT>(std::stoi(target_.url.port));
    Handle connect(WinHttpConnect(session, host.c_str(), port, 0));
    if (!connect) {
      return makeError(Errc::kIo, "WinHttpConnect " + target_.url.authority() + ": " +
                                      systemMessage(GetLastError()));
    }
    if (options_.client_cert.match != ClientCertMatch::kNone) {
      auto cert = findClientCertificate(options_.client_cert_location, options_.client_cert_store,
                                        options_.client_cert);
      if (!cert) return cert.error();
      client_cert_ = std::move(*cert);
      const CertificateDescriptor d = describeCertificate(client_cert_.get());
      spdlog::info("shipper: client certificate {} (CN {}) from {}", d.thumbprint, d.subject_cn,
                   certStoreDisplayName(options_.client_cert_location, options_.client_cert_store));
    }
    connect_ = std::move(connect);
    session_ = std::move(owned);
    return {};
  }

  void close() {
    connect_.reset();
    session_.reset();
    client_cert_.reset();
  }

  TransportResult send(const HttpRequest& request) {
    const Deadline deadline = Clock::now() + request.timeout;
    if (auto error = checkRequest(request)) return *error;
    if (Status status = open(); !status) {
      return TransportError{TransportErrorKind::kOther, status.error().message};
    }
    bool reused = false;
    TransportResult result = attempt(request, deadline, reused);
    // A pooled connection the server has meanwhile closed fails on first use; that is not a
    // delivery failure, so retry once (batches are idempotent).
    if (!result.isResponse() && reused && result.error().kind == TransportErrorKind::kReset &&
        Clock::now() < deadline) {
      result = attempt(request, deadline, reused);
    }
    return result;
  }

  uint64_t connectionsOpened() const { return connections_opened_; }
  const char* access() const { return access_; }

 private:
  std::optional<TransportError> checkRequest(const HttpRequest& request) const {
    auto bad = [](const std::string& what) {
      return TransportError{TransportErrorKind::kOther, "invalid request: " + what};
    };
    if (request.method.empty() || !validHeaderText(request.method) ||
        request.method.find(' ') != std::string::npos) {
      return bad("method");
    }
    if (!validHeaderText(request.path)) return bad("path contains CR/LF");
    if (!validHeaderText(request.bearer_token)) return bad("bearer token contains CR/LF");
    for (const auto& [name, value] : request.headers) {
      if (name.empty() || !validHeaderText(name) || name.find(':') != std::string::npos ||
          !validHeaderText(value)) {
        return bad("header '" + (validHeaderText(name) ? name : std::string("?")) + "'");
      }
    }
    if (request.body.size() > 0xffffffffu) return bad("body larger than 4 GiB");
    return std::nullopt;
  }

  std::string where(const char* step) const {
    std::string text = std::string(step) + " " + target_.url.authority();
    if (target_.proxy) text += " (via proxy " + target_.proxy->authority() + ")";
    return text;
  }

  TransportError failure(const char* step, DWORD error, const RequestState& state,
                         bool timed_out) const {
    if (timed_out || (error == ERROR_WINHTTP_OPERATION_CANCELLED && Clock::now() >= deadline_) ||
        error == ERROR_WINHTTP_TIMEOUT) {
      return TransportError{TransportErrorKind::kTimeout, where(step) + ": deadline passed"};
    }
    const DWORD flags = state.secure_flags;
    TransportError out{wh::classifyError(error, flags), where(step) + ": " + systemMessage(error)};
    if (flags != 0) out.message += ": certificate " + wh::describeSecureFailureFlags(flags);
    if (error == ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED) {
      out.message += client_cert_ ? " (the server refused the configured client certificate)"
                                  : " (the server requires a client certificate; none configured)";
    }
    return out;
  }

  TransportResult attempt(const HttpRequest& request, Deadline deadline, bool& reused) {
    deadline_ = deadline;
    RequestState state;
    const bool tls = target_.url.scheme == "https";
    const std::wstring method = widen(request.method);
    const std::wstring path = widen(target_.url.path + (request.path.empty() ? "/" : request.path));
    HINTERNET raw = WinHttpOpenRequest(connect_.get(), method.c_str(), path.c_str(), nullptr,
                                       WINHTTP_NO_REFERER, WINHTTP_DEFAULT_ACCEPT_TYPES,
                                       tls ? WINHTTP_FLAG_SECURE : 0);
    if (raw == nullptr) return failure("opening a request to", GetLastError(), state, false);
    watchdog_.arm(raw, deadline);
    HINTERNET closed_by_us = raw;
    TransportResult result = exchange(raw, request, deadline, state);
    if (watchdog_.disarm()) {
      closed_by_us = nullptr;
      if (!result.isResponse()) {
        result =
            TransportError{TransportErrorKind::kTimeout, where("talking to") + ": deadline passed"};
      }
    }
    if (closed_by_us != nullptr) WinHttpCloseHandle(closed_by_us);
    if (state.connected) ++connections_opened_;
    reused = !state.connected;
    return result;
  }

  TransportResult exchange(HINTERNET request_handle, const HttpRequest& request, Deadline deadline,
                           RequestState& state) {
    auto context = reinterpret_cast<DWORD_PTR>(&state);
    WinHttpSetOption(request_handle, WINHTTP_OPTION_CONTEXT_VALUE, &context, sizeof(context));
    // Redirects and cookies are the shipper's business (it treats 3xx as a failure).
    DWORD features = WINHTTP_DISABLE_REDIRECTS | WINHTTP_DISABLE_COOKIES;
    WinHttpSetOption(request_handle, WINHTTP_OPTION_DISABLE_FEATURE, &features, sizeof(features));
    if (client_cert_ &&
        !WinHttpSetOption(request_handle, WINHTTP_OPTION_CLIENT_CERT_CONTEXT,
                          const_cast<CERT_CONTEXT*>(client_cert_.get()), sizeof(CERT_CONTEXT))) {
      return failure("setting the client certificate for", GetLastError(), state, false);
    }
    if (target_.proxy && !target_.proxy->username.empty()) {
      const std::wstring user = widen(target_.proxy->username);
      const std::wstring password = widen(target_.proxy->password);
      WinHttpSetOption(request_handle, WINHTTP_OPTION_PROXY_USERNAME,
                       const_cast<wchar_t*>(user.c_str()), static_cast<DWORD>(user.size()));
      WinHttpSetOption(request_handle, WINHTTP_OPTION_PROXY_PASSWORD,
                       const_cast<wchar_t*>(password.c_str()), static_cast<DWORD>(password.size()));
    }

    std::string header_text;
    for (const auto& [name, value] : request.headers) header_text += name + ": " + value + "\r\n";
    if (!request.bearer_token.empty()) {
      header_text += "Authorization: Bearer " + request.bearer_token + "\r\n";
    }
    const std::wstring headers = widen(header_text);

    DWORD status = 0;
    for (int round = 0;; ++round) {
      const int left = static_cast<int>(remainingMs(deadline));
      WinHttpSetTimeouts(request_handle, left, left, left, left);
      // WinHttpReceiveResponse waits for the headers under its own timeout (90 s by default),
      // not the receive timeout above.
      DWORD response_timeout = static_cast<DWORD>(left);
      WinHttpSetOption(request_handle, WINHTTP_OPTION_RECEIVE_RESPONSE_TIMEOUT, &response_timeout,
                       sizeof(response_timeout));
      const auto body_size = static_cast<DWORD>(request.body.size());
      if (!WinHttpSendRequest(request_handle,
                              headers.empty() ? WINHTTP_NO_ADDITIONAL_HEADERS : headers.c_str(),
                              headers.empty() ? 0 : static_cast<DWORD>(-1L),
                              const_cast<char*>(request.body.data()), body_size, body_size, 0)) {
        return failure("sending request to", GetLastError(), state, false);
      }
      if (!WinHttpReceiveResponse(request_handle, nullptr)) {
        return failure("reading response from", GetLastError(), state, false);
      }
      DWORD size = sizeof(status);
      if (!WinHttpQueryHeaders(
              request_handle, WINHTTP_QUERY_STATUS_CODE | WINHTTP_QUERY_FLAG_NUMBER,
              WINHTTP_HEADER_NAME_BY_INDEX, &status, &size, WINHTTP_NO_HEADER_INDEX)) {
        return failure("reading the status from", GetLastError(), state, false);
      }
      if (status != HTTP_STATUS_PROXY_AUTH_REQ || round > 0 || !target_.proxy ||
          target_.proxy->username.empty() || !answerProxyChallenge(request_handle)) {
        break;
      }
    }
    if (status == HTTP_STATUS_PROXY_AUTH_REQ) {
      return TransportError{TransportErrorKind::kProxy,
                            where("CONNECT to") + ": the proxy requires authentication (HTTP 407)"};
    }

    HttpResponse response;
    response.status = static_cast<int>(status);
    DWORD raw_size = 0;
    WinHttpQueryHeaders(request_handle, WINHTTP_QUERY_RAW_HEADERS_CRLF,
                        WINHTTP_HEADER_NAME_BY_INDEX, WINHTTP_NO_OUTPUT_BUFFER, &raw_size,
                        WINHTTP_NO_HEADER_INDEX);
    if (raw_size > 0) {
      std::wstring raw(raw_size / sizeof(wchar_t) + 1, L'\0');
      if (WinHttpQueryHeaders(request_handle, WINHTTP_QUERY_RAW_HEADERS_CRLF,
                              WINHTTP_HEADER_NAME_BY_INDEX, raw.data(), &raw_size,
                              WINHTTP_NO_HEADER_INDEX)) {
        response.headers = parseRawHeaders(narrow(raw.c_str(), raw_size / sizeof(wchar_t)));
      }
    }
    auto too_large = [this] {
      return TransportError{TransportErrorKind::kProtocol,
                            where("reading response from") + ": response larger than " +
                                std::to_string(options_.max_response_bytes) + " bytes"};
    };
    if (auto length = response.header("Content-Length")) {
      // Checked before any body byte is read, like BeastTransport.
      uint64_t declared = 0;
      for (char c : *length) {
        if (c < '0' || c > '9' || declared > (UINT64_MAX - 9) / 10) {
          return TransportError{TransportErrorKind::kProtocol,
                                where("reading response from") + ": bad Content-Length"};
        }
        declared = declared * 10 + static_cast<uint64_t>(c - '0');
      }
      if (declared > options_.max_response_bytes) return too_large();
    }
    if (request.method != "HEAD") {
      std::vector<char> chunk(64 * 1024);
      for (;;) {
        DWORD timeout = remainingMs(deadline);
        WinHttpSetOption(request_handle, WINHTTP_OPTION_RECEIVE_TIMEOUT, &timeout, sizeof(timeout));
        DWORD got = 0;
        if (!WinHttpReadData(request_handle, chunk.data(), static_cast<DWORD>(chunk.size()),
                             &got)) {
          return failure("reading response from", GetLastError(), state, false);
        }
        if (got == 0) break;
        if (response.body.size() + got > options_.max_response_bytes) return too_large();
        response.body.append(chunk.data(), got);
      }
    }
    return response;
  }

  // Picks the strongest scheme the proxy offers and sets the configured credentials for it.
  bool answerProxyChallenge(HINTERNET request_handle) {
    DWORD supported = 0, first = 0, target = 0;
    if (!WinHttpQueryAuthSchemes(request_handle, &supported, &first, &target)) return false;
    for (DWORD scheme : {WINHTTP_AUTH_SCHEME_NEGOTIATE, WINHTTP_AUTH_SCHEME_NTLM,
                         WINHTTP_AUTH_SCHEME_DIGEST, WINHTTP_AUTH_SCHEME_BASIC}) {
      if ((supported & scheme) == 0) continue;
      const std::wstring user = widen(target_.proxy->username);
      const std::wstring password = widen(target_.proxy->password);
      return WinHttpSetCredentials(request_handle, WINHTTP_AUTH_TARGET_PROXY, scheme, user.c_str(),
                                   password.c_str(), nullptr);
    }
    return false;
  }

  WinHttpTransportOptions options_;
  WinHttpTarget target_;
  Handle session_;
  Handle connect_;
  CertContextPtr client_cert_;
  const char* access_ = "none";
  uint64_t connections_opened_ = 0;
  Deadline deadline_{};
  Watchdog watchdog_;
};

WinHttpTransport::WinHttpTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WinHttpTransport::~WinHttpTransport() = default;

Result<std::unique_ptr<WinHttpTransport>> WinHttpTransport::create(
    WinHttpTransportOptions options) {
  auto target = validateWinHttpOptions(options);
  if (!target) return target.error();
  if (target->url.scheme == "http") {
    spdlog::warn(
        "shipper: allow_insecure is set: events go to http://{} unencrypted and the server is "
        "not authenticated",
        target->url.authority());
  }
  auto impl = std::make_unique<Impl>(std::move(options), std::move(*target));
  if (Status status = impl->open(); !status) return status.error();
  return std::unique_ptr<WinHttpTransport>(new WinHttpTransport(std::move(impl)));
}

TransportResult WinHttpTransport::send(const HttpRequest& request) { return impl_->send(request); }

void WinHttpTransport::closeConnection() { impl_->close(); }

uint64_t WinHttpTransport::connectionsOpened() const { return impl_->connectionsOpened(); }

const char* WinHttpTransport::proxyAccess() const { return impl_->access(); }

}  // namespace t0w
