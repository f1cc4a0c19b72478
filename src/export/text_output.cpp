#include "export/text_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

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

TextOutput::~TextOutput() {
  flush();
  if (owns_) ::close(fd_);
}

void TextOutput::write_out() {
  if (!error_.ok() || reader_gone_) {
    buf_.clear();
    return;
  }
  if (dest_) {
    dest_->append(buf_);
    buf_.clear();
    return;
  }
  int err = write_fully(fd_, std::span(reinterpret_cast<const uint8_t*>(buf_.data()), buf_.size()));
  if (err == EPIPE) {
    reader_gone_ = true;
  } else if (err) {
    error_ = Status::io_error("writing " + path_ + ": " + std::strerror(err) +
                              (err == ENOSPC ? " (the disk is full; output stops here)" : ""));
  }
  buf_.clear();
}

Status TextOutput::flush() {
  write_out();
  return error_;
}

void TextOutput::put_u64(uint64_t v) {
  char tmp[24];
  auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
  buf_.append(tmp, r.ptr);
}

void TextOutput::put_i64(int64_t v) {
  char tmp[24];
  auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
  buf_.append(tmp, r.ptr);
}

void TextOutput::put_double(double v) {
  if (!std::isfinite(v)) v = 0;
  char tmp[32];
  auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
  buf_.append(tmp, r.ptr);
}

void TextOutput::put_python_float(double v) {
  if (!std::isfinite(v)) {
    buf_.append(std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"));
    return;
  }
  if (v == 0) {
    buf_.append(std::signbit(v) ? "-0.0" : "0.0");
    return;
  }
  // Shortest digits in scientific form, then laid out the way Python's repr does.
  char sci[40];
  auto r = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific);
  std::string_view s(sci, size_t(r.ptr - sci));
  bool negative = s.front() == '-';
  if (negative) s.remove_prefix(1);
  size_t e = s.find('e');
  int exp = std::atoi(std::string(s.substr(e + 1)).c_str());
  std::string digits;
  for (char c : s.substr(0, e))
    if (c != '.') digits.push_back(c);
  if (negative) buf_.push_back('-');
  if (exp < -4 || exp >= 16) {
    buf_.push_back(digits[0]);
    if (digits.size() > 1) {
      buf_.push_back('.');
      buf_.append(digits, 1);
    }
    char tmp[16];
    std::snprintf(tmp, sizeof tmp, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    buf_.append(tmp);
  } else if (exp < 0) {
    buf_.append("0.");
    buf_.append(size_t(-exp - 1), '0');
    buf_.append(digits);
  } else {
    size_t int_digits = size_t(exp) + 1;
    if (digits.size() <= int_digits) {
      buf_.append(digits);
      buf_.append(int_digits - digits.size(), '0');
      buf_.append(".0");
    } else {
      buf_.append(digits, 0, int_digits);
      buf_.push_back('.');
      buf_.append(digits, int_digits);
    }
  }
}

void TextOutput::put_ip(const IpAddress& a) {
  char tmp[48];
  buf_.append(tmp, a.format(tmp));
}

void TextOutput::put_mac(const MacAddress& m) {
  static const char kHex[] = "0123456789abcdef";
  char tmp[17];
  for (int i = 0; i < 6; ++i) {
    tmp[i * 3] = kHex[m.b[i] >> 4];
    tmp[i * 3 + 1] = kHex[m.b[i] & 15];
    if (i < 5) tmp[i * 3 + 2] = ':';
  }
  buf_.append(tmp, 17);
}

void TextOutput::put_iso8601(Timestamp t) {
  char tmp[40];
  buf_.append(tmp, format_iso8601(t, tmp));
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
  buf_.push_back('"');
  for (size_t i = 0; i < s.size();) {
    unsigned char c = uint8_t(s[i]);
    if (c >= 0x80) {
      size_t n = utf8_sequence(s, i);
      if (n) {
        buf_.append(s.data() + i, n);
        i += n;
      } else {
        buf_.append("\\ufffd");
        ++i;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        buf_.append("\\\"");
        break;
      case '\\':
        buf_.append("\\\\");
        break;
      case '\n':
        buf_.append("\\n");
        break;
      case '\r':
        buf_.append("\\r");
        break;
      case '\t':
        buf_.append("\\t");
        break;
      default:
        if (c < 0x20) {
          char tmp[8];
          std::snprintf(tmp, sizeof tmp, "\\u%04x", c);
          buf_.append(tmp);
        } else {
          buf_.push_back(char(c));
        }
    }
  }
  buf_.push_back('"');
}

void TextOutput::put_csv_string(std::string_view s) {
  size_t mark = buf_.size();
  buf_.append(s);
  if (s.find_first_of(",\"\r\n") != std::string_view::npos) quote_csv_since(mark);
}

void TextOutput::quote_csv_since(size_t mark) {
  std::string cell = "\"";
  for (size_t i = mark; i < buf_.size(); ++i) {
    if (buf_[i] == '"') cell.push_back('"');
    cell.push_back(buf_[i]);
  }
  cell.push_back('"');
  buf_.resize(mark);
  buf_.append(cell);
}

void TextOutput::put_hex(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  for (unsigned char c : bytes) {
    buf_.push_back(kHex[c >> 4]);
    buf_.push_back(kHex[c & 15]);
  }
}

void TextOutput::align_right(size_t mark, size_t width) {
  size_t n = buf_.size() - mark;
  if (n < width) buf_.insert(mark, width - n, ' ');
}

void TextOutput::align_left(size_t mark, size_t width) {
  size_t n = buf_.size() - mark;
  if (n < width) buf_.append(width - n, ' ');
}

}  // namespace flowkit::exporter
