#include "export/text_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <utility>

#include "core/fd_io.h"

namespace flowkit::exporter {

Result<std::unique_ptr<TextOutput>> TextOutput::open(const std::string& path) {
  if (path == "-") return std::unique_ptr<TextOutput>(new TextOutput(1, false, "stdout"));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::io_error("cannot create " + path + ": " + std::strerror(errno) +
                            " (check the directory exists and is writable)");
  }
  return std::unique_ptr<TextOutput>(new TextOutput(fd, true, path));
}

std::unique_ptr<TextOutput> TextOutput::to_string(std::string* dest) {
  std::unique_ptr<TextOutput> out(new TextOutput(-1, false, "memory"));
  out->dest_ = dest;
  return out;
}

std::unique_ptr<TextOutput> TextOutput::to_buffer() {
  std::unique_ptr<TextOutput> out(new TextOutput(-1, false, "memory"));
  out->keep_ = true;
  return out;
}

void TextOutput::take(TextBuffer& into) {
  std::swap(data_, into.data);
  std::swap(cap_, into.cap);
  into.size = std::exchange(size_, 0);
  if (!data_) grow(kFlushAt + kSlack);
}

void TextOutput::put_buffer(TextBuffer& b) {
  write_out();
  size_t n = std::exchange(b.size, 0);
  if (background_) note_error(background_->error());
  if (!error_.ok() || reader_gone_ || n == 0) return;
  if (dest_) {
    dest_->append(b.data.get(), n);
    return;
  }
  if (keep_) {
    put({b.data.get(), n});
    return;
  }
  if (!background_) background_ = std::make_unique<BackgroundWriter>(fd_);
  background_->submit(&b.data, &b.cap, n);
}

TextOutput::TextOutput(int fd, bool owns, std::string path)
    : fd_(fd), owns_(owns), path_(std::move(path)) {
  grow(kFlushAt + kSlack);
}

void TextOutput::grow(size_t n) {
  size_t cap = std::max(cap_ * 2, size_ + n);
  std::unique_ptr<char[]> bigger(new char[cap]);
  if (size_) std::memcpy(bigger.get(), data_.get(), size_);
  data_ = std::move(bigger);
  cap_ = cap;
}

TextOutput::~TextOutput() {
  flush();
  background_.reset();
  if (owns_) ::close(fd_);
}

void TextOutput::write_out() {
  if (keep_) return;
  size_t n = std::exchange(size_, 0);
  if (background_) note_error(background_->error());
  if (!error_.ok() || reader_gone_ || n == 0) return;
  if (dest_) {
    dest_->append(data_.get(), n);
    return;
  }
  if (!background_) background_ = std::make_unique<BackgroundWriter>(fd_);
  background_->submit(&data_, &cap_, n);
  if (!data_) grow(kFlushAt + kSlack);
}

void TextOutput::note_error(int err) {
  if (err == EPIPE) {
    reader_gone_ = true;
  } else if (err && error_.ok()) {
    error_ = Status::io_error("writing " + path_ + ": " + std::strerror(err) +
                              (err == ENOSPC ? " (the disk is full; output stops here)" : ""));
  }
}

Status TextOutput::flush() {
  write_out();
  if (background_) note_error(background_->wait());
  return error_;
}

void TextOutput::put_python_float(double v) {
  if (!std::isfinite(v)) {
    put(std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"));
    return;
  }
  if (v == 0) {
    put(std::signbit(v) ? "-0.0" : "0.0");
    return;
  }
  // Shortest digits in scientific form, then laid out the way Python's repr does.
  char sci[40];
  auto r = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific);
  std::string_view s(sci, size_t(r.ptr - sci));
  bool negative = s.front() == '-';
  if (negative) s.remove_prefix(1);
  size_t e = s.find('e');
  int exp = 0;
  std::from_chars(s.data() + e + (s[e + 1] == '+' ? 2 : 1), s.data() + s.size(), exp);
  char digits[20];
  size_t nd = 0;
  for (char c : s.substr(0, e))
    if (c != '.') digits[nd++] = c;
  std::string_view d(digits, nd);
  // At most 17 digits, a sign, a point, 21 zeros of an exponent below 16, or "e-324".
  char* p = room(64);
  if (negative) *p++ = '-';
  auto copy = [&](std::string_view part) { p = std::copy(part.begin(), part.end(), p); };
  auto zeros = [&](size_t n) { p = std::fill_n(p, n, '0'); };
  if (exp < -4 || exp >= 16) {
    *p++ = d[0];
    if (nd > 1) {
      *p++ = '.';
      copy(d.substr(1));
    }
    *p++ = 'e';
    *p++ = exp < 0 ? '-' : '+';
    int a = std::abs(exp);
    if (a < 10) *p++ = '0';
    p = std::to_chars(p, p + 4, a).ptr;
  } else if (exp < 0) {
    copy("0.");
    zeros(size_t(-exp - 1));
    copy(d);
  } else {
    size_t int_digits = size_t(exp) + 1;
    if (nd <= int_digits) {
      copy(d);
      zeros(int_digits - nd);
      copy(".0");
    } else {
      copy(d.substr(0, int_digits));
      *p++ = '.';
      copy(d.substr(int_digits));
    }
  }
  commit(p);
}

char* TextOutput::write_double(char* p, double v) {
  if (!std::isfinite(v)) v = 0;
  // Values with at most six decimals (packet sizes, their means, millisecond gaps) are written
  // here: to_chars finds their shortest form by dividing by ten digit after digit, many times
  // slower. If m / 10^6 (m an integer, one correctly rounded division) gives back v, the text of
  // m / 10^6 reads back as v; below 10^9 doubles lie closer than 10^-6, so it is the only such
  // text, and shortest once its trailing zeros go. From 10^-3 on, fixed notation is no longer
  // than scientific, which is to_chars' choice; whole numbers from 10^5 may be shorter in
  // scientific ("1e+05"), so they go to to_chars too.
  double a = std::fabs(v);
  if (a >= 1e-3 && a < 1e9) {
    uint64_t m = uint64_t(a * 1e6 + 0.5);
    if (double(m) / 1e6 == a) {
      int decimals = 6;
      while (decimals > 0 && m % 10 == 0) m /= 10, --decimals;
      static constexpr uint64_t kPow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
      uint64_t whole = m / kPow10[decimals];
      if (decimals > 0 || whole < 100000) {
        if (v < 0) *p++ = '-';
        p = write_u64(p, whole);
        if (decimals > 0) {
          *p++ = '.';
          uint64_t frac = m % kPow10[decimals];
          for (int i = decimals - 1; i >= 0; --i, frac /= 10) p[i] = char('0' + frac % 10);
          p += decimals;
        }
        return p;
      }
    }
  }
  if (v == 0) {
    *p = '0';  // -0 too
    return p + 1;
  }
  return std::to_chars(p, p + kMaxNumber, v).ptr;
}

namespace {

// A byte as two lower-case hex digits at p; returns the end.
char* hex_byte(char* p, uint8_t c) {
  static constexpr char kHex[] = "0123456789abcdef";
  *p++ = kHex[c >> 4];
  *p++ = kHex[c & 15];
  return p;
}

}  // namespace

char* TextOutput::write_mac(char* p, const MacAddress& m) {
  for (int i = 0; i < 6; ++i) {
    p = hex_byte(p, m.b[i]);
    if (i < 5) *p++ = ':';
  }
  return p;
}

namespace {

// Length of the UTF-8 sequence at s[i...], or 0 when it is not well-formed (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF).
size_t utf8_sequence(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return i + k < s.size() ? uint8_t(s[i + k]) : 0; };
  auto cont = [&](size_t k) { return (byte(k) & 0xc0) == 0x80; };
  uint8_t c = byte(0);
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    uint8_t c1 = byte(1);
    if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0)) return 0;
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    uint8_t c1 = byte(1);
    if ((c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 >= 0x90)) return 0;
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

}  // namespace

void TextOutput::put_json_string(std::string_view s) {
  // Worst case: every byte becomes "\ufffd" (6 bytes).
  char* p = room(s.size() * 6 + 2);
  *p++ = '"';
  auto copy = [&](std::string_view part) { p = std::copy(part.begin(), part.end(), p); };
  for (size_t i = 0; i < s.size();) {
    unsigned char c = uint8_t(s[i]);
    if (c >= 0x80) {
      size_t n = utf8_sequence(s, i);
      if (n) {
        copy(s.substr(i, n));
        i += n;
      } else {
        copy("\\ufffd");
        ++i;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        copy("\\\"");
        break;
      case '\\':
        copy("\\\\");
        break;
      case '\n':
        copy("\\n");
        break;
      case '\r':
        copy("\\r");
        break;
      case '\t':
        copy("\\t");
        break;
      default:
        if (c < 0x20) {
          copy("\\u00");
          p = hex_byte(p, c);
        } else {
          *p++ = char(c);
        }
    }
  }
  *p++ = '"';
  commit(p);
}

void TextOutput::put_escaped(std::string_view s) {
  char* p = room(s.size() * 4);  // at worst every byte as \xNN
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = uint8_t(s[i]);
    const size_t n = c >= 0x80 ? utf8_sequence(s, i) : c >= 0x20 && c != 0x7f ? 1 : 0;
    if (n && c != '\\') {
      p = std::copy_n(s.data() + i, n, p);
      i += n;
    } else if (c == '\\') {
      p = std::copy_n("\\\\", 2, p);
      ++i;
    } else {
      *p++ = '\\';
      *p++ = 'x';
      p = hex_byte(p, c);
      ++i;
    }
  }
  commit(p);
}

std::string escape_text(std::string_view s) {
  std::string out;
  std::unique_ptr<TextOutput> text = TextOutput::to_string(&out);
  text->put_escaped(s);
  text->end_record();
  text->flush();
  return out;
}

void TextOutput::put_csv_string(std::string_view s) {
  size_t mark = size_;
  put(s);
  if (s.find_first_of(",\"\r\n") != std::string_view::npos) quote_csv_since(mark);
}

void TextOutput::quote_csv_since(size_t mark) {
  std::string cell(data_.get() + mark, size_ - mark);
  size_ = mark;
  char* p = room(cell.size() * 2 + 2);
  *p++ = '"';
  for (char c : cell) {
    if (c == '"') *p++ = '"';
    *p++ = c;
  }
  *p++ = '"';
  commit(p);
}

void TextOutput::put_hex(std::string_view bytes) {
  char* p = room(bytes.size() * 2);
  for (unsigned char c : bytes) p = hex_byte(p, c);
  commit(p);
}

void TextOutput::align_right(size_t mark, size_t width) {
  size_t n = size_ - mark;
  if (n >= width) return;
  size_t pad = width - n;
  room(pad);
  char* at = data_.get() + mark;
  std::memmove(at + pad, at, n);
  std::memset(at, ' ', pad);
  size_ += pad;
}

void TextOutput::align_left(size_t mark, size_t width) {
  size_t n = size_ - mark;
  if (n >= width) return;
  char* p = room(width - n);
  commit(std::fill_n(p, width - n, ' '));
}

}  // namespace flowkit::exporter
