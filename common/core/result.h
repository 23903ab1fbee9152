// Result<T>: expected failures travel as values (Envoy style); exceptions stay inside libraries.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace t0w {

enum class Errc {
  kInvalidArgument,  // bad usage or configuration
  kParse,            // malformed input (XML, YAML, JSON, condition)
  kLimit,            // input exceeds a configured limit
  kIo,               // file or network I/O failed
  kNotFound,
  kCorrupt,      // a file or record is damaged
  kUnsupported,  // valid input we deliberately do not handle
  kInternal,
};

const char* errcName(Errc code);

struct Error {
  Errc code = Errc::kInternal;
  std::string message;  // names what and where, e.g. "file.evtx: record 12: ..."

  std::string toString() const { return std::string(errcName(code)) + ": " + message; }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void> equivalent.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

inline Error makeError(Errc code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace t0w
