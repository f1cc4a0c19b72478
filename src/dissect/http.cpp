// HTTP/1.x: the first request's line and headers, the first response's status and type.
#include <charconv>

#include "dissect/protocols.h"

namespace flowkit::dissect {

namespace {

constexpr uint8_t kProtoTcp = 6;
constexpr std::string_view kVersion = "HTTP/1.";

// Method bits (fields.def, http_method_id).
struct Method {
  std::string_view name;
  uint16_t id;
};
constexpr Method kMethods[] = {{"GET", 1},    {"POST", 2},      {"PUT", 4},
                               {"HEAD", 8},   {"OPTIONS", 16},  {"DELETE", 32},
                               {"TRACE", 64}, {"CONNECT", 128}, {"PATCH", 256}};

bool is_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

// The line at the start of `s`, without its CR LF; npos when no line end came yet.
size_t line_end(std::string_view s) {
  return s.find('\n');
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// A request line "METHOD TARGET HTTP/1.x": the method and target.
bool request_line(std::string_view line, std::string_view& method, std::string_view& target) {
  size_t sp = line.find(' ');
  if (sp == 0 || sp == std::string_view::npos || sp > 20) return false;
  for (size_t i = 0; i < sp; ++i)
    if (!is_token_char(line[i])) return false;
  size_t sp2 = line.rfind(' ');
  if (sp2 == sp || line.substr(sp2 + 1, kVersion.size()) != kVersion) return false;
  method = line.substr(0, sp);
  target = line.substr(sp + 1, sp2 - sp - 1);
  return true;
}

// The :status of the first HEADERS frame of stream 1 in HTTP/2 frames (RFC 9113 section 4.1),
// when HPACK (RFC 7541) gives it by the static table or as a plain literal: a response's
// first field. Returns true once it was found or cannot be.
bool h2_status(Results& out, std::string_view frames) {
  constexpr uint8_t kHeaders = 1, kPadded = 0x8, kPriority = 0x20;
  static constexpr uint16_t kStatic[] = {200, 204, 206, 304, 400, 404, 500};  // indexes 8-14
  auto b = [&](size_t i) { return uint8_t(frames[i]); };
  size_t at = 0;
  while (at + 9 <= frames.size()) {
    uint32_t len = uint32_t(b(at)) << 16 | uint32_t(b(at + 1)) << 8 | b(at + 2);
    uint8_t type = b(at + 3), flags = b(at + 4);
    uint32_t stream = (uint32_t(b(at + 5)) << 24 | uint32_t(b(at + 6)) << 16 |
                       uint32_t(b(at + 7)) << 8 | b(at + 8)) &
                      0x7fffffff;
    if (at + 9 + len > frames.size()) return false;  // the rest comes later
    if (type == kHeaders && stream == 1) {
      std::string_view block = frames.substr(at + 9, len);
      size_t skip = (flags & kPadded ? 1 : 0) + (flags & kPriority ? 5 : 0);
      if (block.size() <= skip) return true;
      block.remove_prefix(skip);
      uint8_t first = uint8_t(block[0]);
      uint16_t status = 0;
      if (first & 0x80) {  // an indexed field
        uint8_t index = first & 0x7f;
        if (index >= 8 && index <= 14) status = kStatic[index - 8];
      } else {
        // A literal whose name is :status (indexes 8-14), not Huffman-coded: three digits.
        uint8_t index = (first & 0xc0) == 0x40 ? first & 0x3f : first & 0x0f;
        if (index >= 8 && index <= 14 && block.size() >= 5 && uint8_t(block[1]) == 3) {
          std::string_view digits = block.substr(2, 3);
          std::from_chars(digits.data(), digits.data() + 3, status);
        }
      }
      if (status) out.set(FieldId::kHttpStatusCode, status);
      return true;
    }
    at += 9 + len;
  }
  return false;
}

class Http final : public Dissector {
 public:
  Protocol protocol() const override { return kHttp; }

  bool claims(const Packet& p) const override {
    if (p.protocol != kProtoTcp) return false;
    std::string_view s = as_text(p.payload);
    if (s.substr(0, kVersion.size()) == kVersion) return true;
    size_t end = line_end(s);
    std::string_view method, target;
    return request_line(trim(s.substr(0, end == std::string_view::npos ? s.size() : end)), method,
                        target);
  }

  // state[0]: bit d once direction d's first message head was read; state[1]: the offset of
  // HTTP/2 frames in direction d's stream after an upgrade (h2c), plus one, while the status
  // of the response they carry is awaited; state[2]: that direction.
  bool feed(FlowContext& f, const Packet& p, std::span<const uint8_t> data) const override {
    int d = int(p.dir);
    std::string_view s = as_text(data);
    if (f.state[1] && uint64_t(d) == f.state[2]) {
      if (h2_status(f.results, s.substr(f.state[1] - 1)) || f.stream[d].ended) f.state[1] = 0;
      return f.state[0] != 3 || f.state[1];
    }
    if (f.state[0] >> d & 1) return f.state[0] != 3 || f.state[1];
    size_t head_end = s.find("\r\n\r\n");
    size_t sep = 4;
    if (head_end == std::string_view::npos) {
      head_end = s.find("\n\n");
      sep = 2;
    }
    // Wait for the whole head, unless the stream will bring no more.
    if (head_end == std::string_view::npos && !f.stream[d].ended) return true;
    f.state[0] |= 1u << d;
    std::string_view head = s.substr(0, head_end == std::string_view::npos ? s.size() : head_end);
    read_head(f.results, head);
    if (head.substr(0, kVersion.size() + 1) == "HTTP/1.1" &&
        head.substr(kVersion.size() + 1, 4) == " 101" && head.find("h2c") != head.npos &&
        head_end != std::string_view::npos) {
      f.state[1] = head_end + sep + 1;
      f.state[2] = uint64_t(d);
      if (h2_status(f.results, s.substr(head_end + sep))) f.state[1] = 0;
    }
    return f.state[0] != 3 || f.state[1];
  }

 private:
  static void read_head(Results& out, std::string_view head) {
    size_t end = line_end(head);
    std::string_view first = trim(head.substr(0, end));
    std::string_view method, target;
    bool request = false;
    if (first.substr(0, kVersion.size()) == kVersion) {
      size_t sp = first.find(' ');
      uint16_t code = 0;
      if (sp != std::string_view::npos) {
        std::string_view c = first.substr(sp + 1, 3);
        auto [ptr, ec] = std::from_chars(c.data(), c.data() + c.size(), code);
        if (ec == std::errc() && ptr == c.data() + c.size())
          out.set(FieldId::kHttpStatusCode, code);
      }
    } else if (request_line(first, method, target)) {
      request = true;
      if (out.has(FieldId::kHttpMethod)) return;  // not the first request
      out.set(FieldId::kHttpMethod, method);
      uint16_t id = 0;
      for (const Method& m : kMethods)
        if (m.name == method) id = m.id;
      out.set(FieldId::kHttpMethodId, id);
      out.set(FieldId::kHttpUrl, target);
    } else {
      return;
    }
    while (end != std::string_view::npos) {
      head.remove_prefix(end + 1);
      end = line_end(head);
      std::string_view line = head.substr(0, end);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view name = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
      if (iequals(name, "Content-Type")) {
        // The response's type; the request's only when the response has none.
        if (!request || !out.has(FieldId::kHttpContentType))
          out.set(FieldId::kHttpContentType, value);
      } else if (request && iequals(name, "Host")) {
        out.set(FieldId::kHttpHost, value);
      } else if (request && iequals(name, "User-Agent")) {
        out.set(FieldId::kHttpAgent, value);
      } else if (request && iequals(name, "Referer")) {
        out.set(FieldId::kHttpReferer, value);
      }
    }
  }
};

}  // namespace

std::unique_ptr<Dissector> make_http() {
  return std::make_unique<Http>();
}

}  // namespace flowkit::dissect
