// TextOutput: a buffered text sink on a file descriptor (a file, or stdout for "-") or in memory
// (an HTTP response), with the number and address formatting the writers share. Writes are batched
// in a large buffer; the first I/O error (disk full, closed pipe) is kept and reported by flush(),
// and later output is dropped rather than crashing the process.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/ip_address.h"
#include "core/result.h"
#include "core/timestamp.h"

namespace flowkit::exporter {

class TextOutput {
 public:
  // "-" is stdout. A file is created or truncated.
  static Result<std::unique_ptr<TextOutput>> open(const std::string& path);
  // Output appended to *dest at each flush (and when the buffer fills).
  static std::unique_ptr<TextOutput> to_string(std::string* dest);
  ~TextOutput();
  TextOutput(const TextOutput&) = delete;
  TextOutput& operator=(const TextOutput&) = delete;

  void put(std::string_view s) {
    buf_.append(s);
    if (buf_.size() >= kFlushAt) write_out();
  }
  void put(char c) { buf_.push_back(c); }
  void put_u64(uint64_t v);
  void put_i64(int64_t v);
  // Shortest text that reads back as the same double; "null"-free: NaN/inf become 0.
  void put_double(double v);
  // Python's repr() of a float: shortest round-trip digits, ".0" on whole numbers, exponent
  // form below 1e-4 and from 1e16 (what flowRecorder's CSV holds).
  void put_python_float(double v);
  void put_ip(const IpAddress& a);
  void put_mac(const MacAddress& m);
  void put_iso8601(Timestamp t);
  // A JSON string literal with quotes and escapes. Bytes that are not UTF-8 become U+FFFD, so
  // that hostile input never makes invalid JSON.
  void put_json_string(std::string_view s);
  // A CSV cell (RFC 4180): as it is, or quoted with inner quotes doubled when it holds a comma,
  // a quote or a line break.
  void put_csv_string(std::string_view s);
  // Quotes the text written since `mark` as one CSV cell.
  void quote_csv_since(size_t mark);
  // Bytes as lower-case hex.
  void put_hex(std::string_view bytes);
  // Pads the text written since `mark` with spaces to `width` on the left (right-aligns it).
  size_t mark() const { return buf_.size(); }
  void align_right(size_t mark, size_t width);
  void align_left(size_t mark, size_t width);

  // Writes everything buffered; returns the first error met so far. A reader that went away
  // (`flowkit meter ... | head`) is not an error: output just stops, see reader_gone().
  Status flush();
  bool reader_gone() const { return reader_gone_; }
  const std::string& path() const { return path_; }

 private:
  TextOutput(int fd, bool owns, std::string path) : fd_(fd), owns_(owns), path_(std::move(path)) {
    buf_.reserve(kFlushAt + 4096);
  }
  void write_out();

  static constexpr size_t kFlushAt = 1 << 20;
  int fd_;
  bool owns_;
  std::string path_;
  std::string buf_;
  std::string* dest_ = nullptr;  // in memory instead of fd_
  Status error_;
  bool reader_gone_ = false;
};

}  // namespace flowkit::exporter
