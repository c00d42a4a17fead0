// Result<T>: the value of an operation that can fail for a host reason (a missing file, a
// malformed image, a bad flag). Guest faults are never Results: they are architectural data.
#pragma once

#include <fmt/format.h>

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace cella {

// A human-readable description of what went wrong, prefixed with context as it travels up.
class Error {
 public:
  explicit Error(std::string message) : message_(std::move(message)) {}
  const std::string& message() const { return message_; }
  // Returns this error with "context: " in front, for callers that add what they were doing.
  Error context(std::string_view what) const { return Error(fmt::format("{}: {}", what, message_)); }

 private:
  std::string message_;
};

template <class... Args>
Error make_error(fmt::format_string<Args...> format, Args&&... args) {
  return Error(fmt::format(format, std::forward<Args>(args)...));
}

// Errors from the C library carry errno's text.
Error errno_error(std::string_view what);

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { assert(ok()); return std::get<0>(state_); }
  const T& value() const& { assert(ok()); return std::get<0>(state_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { assert(!ok()); return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { assert(!ok_); return error_; }

 private:
  Error error_{""};
  bool ok_ = true;
};

inline Result<void> ok() { return {}; }

}  // namespace cella

// Propagates an error from an expression returning Result<void>.
#define CELLA_TRY(expr)                                    \
  do {                                                     \
    if (auto cella_try_result = (expr); !cella_try_result) \
      return cella_try_result.error();                     \
  } while (0)

// Evaluates a Result<T> expression, propagating its error, and binds its value to `var`.
#define CELLA_TRY_ASSIGN(var, expr)                  \
  auto var##_result = (expr);                        \
  if (!var##_result) return var##_result.error();    \
  auto var = std::move(var##_result).value()
