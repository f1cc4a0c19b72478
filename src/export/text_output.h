// TextOutput: a buffered text sink on a file descriptor (a file, or stdout for "-") or in memory
// (an HTTP response), with the number and address formatting the writers share. Writes are batched
// in a large buffer that writers fill through room()/commit(), and written by a thread of their
// own while the next buffer fills. The first I/O error (disk full, closed pipe) is kept and
// reported by flush(), and later output is dropped rather than crashing the process.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "core/fd_io.h"
#include "core/ip_address.h"
#include "core/result.h"
#include "core/timestamp.h"

namespace flowkit::exporter {

// Text held in a buffer of its own, handed between TextOutputs without copying.
struct TextBuffer {
  std::unique_ptr<char[]> data;
  size_t cap = 0, size = 0;
};

class TextOutput {
 public:
  // "-" is stdout. A file is created or truncated.
  static Result<std::unique_ptr<TextOutput>> open(const std::string& path);
  // Output appended to *dest at each flush (and when the buffer fills).
  static std::unique_ptr<TextOutput> to_string(std::string* dest);
  // Output kept in memory until take() (threads that format text for another output).
  static std::unique_ptr<TextOutput> to_buffer();
  // A to_buffer() output's text so far, moved into `into`; the output goes on in the buffer
  // `into` held (none: a new one).
  void take(TextBuffer& into);
  // Writes a buffer's text after what was written so far, without copying it where the output
  // is a file; `b` gets back an idle buffer (or none) to fill next.
  void put_buffer(TextBuffer& b);
  ~TextOutput();
  TextOutput(const TextOutput&) = delete;
  TextOutput& operator=(const TextOutput&) = delete;

  // A writer calls end_record() after each record: the buffer goes out only there, so that
  // marks taken within a record stay valid (a record may grow the buffer past kFlushAt).
  void end_record() {
    if (size_ >= kFlushAt) write_out();
  }

  // At least n writable bytes at the end of the output; commit(end) keeps what was written.
  char* room(size_t n) {
    if (cap_ - size_ < n) grow(n);
    return data_.get() + size_;
  }
  void commit(char* end) { size_ = size_t(end - data_.get()); }

  void put(std::string_view s) {
    if (s.empty()) return;  // an empty view may have no data at all
    char* p = room(s.size());
    std::memcpy(p, s.data(), s.size());
    size_ += s.size();
  }
  void put(char c) { *room(1) = c, ++size_; }
  void put_u64(uint64_t v) { commit(write_u64(room(kMaxNumber), v)); }
  void put_i64(int64_t v) {
    char* p = room(kMaxNumber);
    commit(std::to_chars(p, p + kMaxNumber, v).ptr);
  }
  // Shortest text that reads back as the same double; "null"-free: NaN/inf become 0.
  void put_double(double v) { commit(write_double(room(kMaxNumber), v)); }
  // Python's repr() of a float: shortest round-trip digits, ".0" on whole numbers, exponent
  // form below 1e-4 and from 1e16 (what flowRecorder's CSV holds).
  void put_python_float(double v);
  void put_ip(const IpAddress& a) { commit(write_ip(room(kMaxIp), a)); }
  void put_mac(const MacAddress& m) { commit(write_mac(room(kMaxMac), m)); }
  void put_iso8601(Timestamp t) { commit(write_iso8601(room(kMaxTime), t)); }
  void put_nfdump_time(Timestamp t) { commit(write_nfdump_time(room(kMaxTime), t)); }

  // The same into room() already taken (at least the kMax... bytes); each returns the end.
  static constexpr size_t kMaxNumber = 32, kMaxIp = 48, kMaxMac = 17, kMaxTime = 32;
  static char* write_u64(char* p, uint64_t v) { return std::to_chars(p, p + kMaxNumber, v).ptr; }
  static char* write_double(char* p, double v);
  static char* write_ip(char* p, const IpAddress& a) { return p + a.format(p); }
  static char* write_mac(char* p, const MacAddress& m);
  char* write_iso8601(char* p, Timestamp t) { return p + times_.iso8601(t, p); }
  char* write_nfdump_time(char* p, Timestamp t) { return p + times_.nfdump(t, p); }
  // A JSON string literal with quotes and escapes. Bytes that are not UTF-8 become U+FFFD, so
  // that hostile input never makes invalid JSON.
  void put_json_string(std::string_view s);
  // A CSV cell (RFC 4180): as it is, or quoted with inner quotes doubled when it holds a comma,
  // a quote or a line break.
  void put_csv_string(std::string_view s);
  // Text for a terminal or a text file: as it is, but for bytes that could garble or steer a
  // terminal (control characters, DEL, bytes that are not UTF-8, which hostile packets put in
  // names) and backslashes, written as \xNN and \\.
  void put_escaped(std::string_view s);
  // Quotes the text written since `mark` as one CSV cell.
  void quote_csv_since(size_t mark);
  // Bytes as lower-case hex.
  void put_hex(std::string_view bytes);
  // A position in this record's output, for the calls below.
  size_t mark() const { return size_; }
  // Pads the text written since `mark` with spaces to `width` on the left (right-aligns it).
  void align_right(size_t mark, size_t width);
  void align_left(size_t mark, size_t width);

  // Writes everything buffered; returns the first error met so far. A reader that went away
  // (`flowkit meter ... | head`) is not an error: output just stops, see reader_gone().
  Status flush();
  bool reader_gone() const { return reader_gone_; }
  const std::string& path() const { return path_; }

 private:
  TextOutput(int fd, bool owns, std::string path);
  void write_out();
  void note_error(int err);
  void grow(size_t n);

  static constexpr size_t kFlushAt = 1 << 20;
  static constexpr size_t kSlack = 64 * 1024;
  int fd_;
  bool owns_;
  std::string path_;
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t cap_ = 0;
  std::string* dest_ = nullptr;  // in memory instead of fd_
  bool keep_ = false;            // to_buffer(): nothing goes out before take()
  Status error_;
  bool reader_gone_ = false;
  TimeFormatter times_;
  std::unique_ptr<BackgroundWriter> background_;  // file output: writes full buffers
};

// TextOutput::put_escaped's text as a string (a statistics table's string keys).
std::string escape_text(std::string_view s);

}  // namespace flowkit::exporter
