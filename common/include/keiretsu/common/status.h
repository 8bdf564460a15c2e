// Status and Result<T>: keiretsu's error vocabulary across module boundaries.
//
// Every fallible operation that crosses a module boundary returns a Status
// (no value) or a Result<T> (a value or a Status). Exceptions never cross a
// module boundary; adapters (RocksDB, libsodium, protobuf, gRPC) translate
// their errors into a Status at the edge.
//
// A Status carries a Code, which callers branch on, and a message, which is
// for people: it says what was wrong in one line, without secrets.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace keiretsu {

enum class Code {
  kOk = 0,
  kInvalidArgument,     // caller-supplied input is malformed or out of range
  kNotFound,            // the thing asked for does not exist
  kAlreadyExists,       // it exists and may not be created again
  kPermissionDenied,    // the caller may not do this
  kUnauthenticated,     // the caller did not prove who it is
  kFailedPrecondition,  // the system is not in a state that allows this
  kResourceExhausted,   // a limit was reached (size, count, rate)
  kCorruption,          // stored or received data fails an integrity check
  kIOError,             // the operating system or disk failed
  kUnavailable,         // try again later (peer gone, node not ready)
  kInternal,            // a bug: an invariant of our own was broken
};

// The name of a code, e.g. "INVALID_ARGUMENT", for logs and CLI output.
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "INVALID_ARGUMENT: amount must be positive" (or "OK").
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context + ": "`.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// Shorthands: keiretsu::InvalidArgument("memo longer than 512 bytes").
inline Status InvalidArgument(std::string m) {
  return {Code::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) {
  return {Code::kNotFound, std::move(m)};
}
inline Status AlreadyExists(std::string m) {
  return {Code::kAlreadyExists, std::move(m)};
}
inline Status PermissionDenied(std::string m) {
  return {Code::kPermissionDenied, std::move(m)};
}
inline Status Unauthenticated(std::string m) {
  return {Code::kUnauthenticated, std::move(m)};
}
inline Status FailedPrecondition(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}
inline Status ResourceExhausted(std::string m) {
  return {Code::kResourceExhausted, std::move(m)};
}
inline Status Corruption(std::string m) {
  return {Code::kCorruption, std::move(m)};
}
inline Status IOError(std::string m) {
  return {Code::kIOError, std::move(m)};
}
inline Status Unavailable(std::string m) {
  return {Code::kUnavailable, std::move(m)};
}
inline Status Internal(std::string m) {
  return {Code::kInternal, std::move(m)};
}

// Result<T>: either a T or a non-OK Status. A small stand-in for C++23
// std::expected<T, Status>.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok()
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error, or OK when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace keiretsu

// Propagates a non-OK Status from an expression returning Status.
#define KEIRETSU_RETURN_IF_ERROR(expr) \
  do {                                 \
    ::keiretsu::Status _st = (expr);   \
    if (!_st.ok()) return _st;         \
  } while (0)

#define KEIRETSU_CONCAT_INNER(a, b) a##b
#define KEIRETSU_CONCAT(a, b) KEIRETSU_CONCAT_INNER(a, b)
// Declares `lhs` from a Result-returning expression, or returns its Status.
#define KEIRETSU_ASSIGN_OR_RETURN(lhs, expr) \
  KEIRETSU_ASSIGN_OR_RETURN_IMPL(KEIRETSU_CONCAT(_res_, __LINE__), lhs, expr)
#define KEIRETSU_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()
