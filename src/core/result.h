// Status and Result<T>: errors as values across module boundaries (no exceptions on hot paths).
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace flowkit {

// What kind of failure a Status reports. The run loop maps it to the process exit code
// (src/run/exit_code.h), so a script can tell a typo from a full disk.
enum class StatusCode : uint8_t {
  kOk,
  kFailed,           // anything else
  kInvalidArgument,  // the user asked for something that cannot be (a usage error)
  kIoError,          // the system refused a read or write (disk full, permission)
  kCorruption,       // input that is not what it claims to be
  kNotFound,         // a file, interface or host that does not exist
  kUnavailable,      // a peer that cannot be reached (connection refused, port closed)
  kDataLoss,         // the run finished, but records were lost on the way
};

class Status {
 public:
  Status() = default;
  static Status error(std::string message) { return {StatusCode::kFailed, std::move(message)}; }
  static Status invalid_argument(std::string message) {
    return {StatusCode::kInvalidArgument, std::move(message)};
  }
  static Status io_error(std::string message) { return {StatusCode::kIoError, std::move(message)}; }
  static Status corruption(std::string message) {
    return {StatusCode::kCorruption, std::move(message)};
  }
  static Status not_found(std::string message) {
    return {StatusCode::kNotFound, std::move(message)};
  }
  static Status unavailable(std::string message) {
    return {StatusCode::kUnavailable, std::move(message)};
  }
  static Status data_loss(std::string message) {
    return {StatusCode::kDataLoss, std::move(message)};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  // REQUIRES: ok()
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  // REQUIRES: !ok()
  const Status& status() const { return std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace flowkit
