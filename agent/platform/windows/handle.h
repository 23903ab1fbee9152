// UniqueHandle: move-only owner of a Win32 handle, closed exactly once by its Traits.
#pragma once

#include <windows.h>

#include <utility>

namespace t0w::win {

// Traits: `using Type = ...; static Type invalid(); static void close(Type);`
template <typename Traits>
class UniqueHandle {
 public:
  using Type = typename Traits::Type;

  UniqueHandle() = default;
  explicit UniqueHandle(Type h) : h_(h) {}
  ~UniqueHandle() { reset(); }
  UniqueHandle(UniqueHandle&& o) noexcept : h_(o.release()) {}
  UniqueHandle& operator=(UniqueHandle&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueHandle(const UniqueHandle&) = delete;
  UniqueHandle& operator=(const UniqueHandle&) = delete;

  Type get() const { return h_; }
  bool valid() const { return h_ != Traits::invalid(); }
  explicit operator bool() const { return valid(); }
  Type release() { return std::exchange(h_, Traits::invalid()); }
  void reset(Type h = Traits::invalid()) {
    if (valid()) Traits::close(h_);
    h_ = h;
  }

 private:
  Type h_ = Traits::invalid();
};

// Kernel objects whose failure value is NULL (CreateEventW, OpenProcess, ...).
struct KernelHandleTraits {
  using Type = HANDLE;
  static Type invalid() { return nullptr; }
  static void close(Type h) { ::CloseHandle(h); }
};
using KernelHandle = UniqueHandle<KernelHandleTraits>;

// Files, whose failure value is INVALID_HANDLE_VALUE (CreateFileW).
struct FileHandleTraits {
  using Type = HANDLE;
  static Type invalid() { return INVALID_HANDLE_VALUE; }
  static void close(Type h) { ::CloseHandle(h); }
};
using FileHandle = UniqueHandle<FileHandleTraits>;

// Service control manager and service handles (OpenSCManagerW, OpenServiceW).
struct ServiceHandleTraits {
  using Type = SC_HANDLE;
  static Type invalid() { return nullptr; }
  static void close(Type h) { ::CloseServiceHandle(h); }
};
using ServiceHandle = UniqueHandle<ServiceHandleTraits>;

}  // namespace t0w::win
