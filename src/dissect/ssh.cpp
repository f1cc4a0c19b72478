// SSH (RFC 4253 section 4.2): each side's identification string, "SSH-2.0-OpenSSH_9.6 ...".
#include "dissect/protocols.h"

namespace flowkit::dissect {

namespace {

constexpr uint8_t kProtoTcp = 6;
constexpr size_t kMaxLine = 255;  // RFC 4253's limit, CR LF included

class Ssh final : public Dissector {
 public:
  Protocol protocol() const override { return kSsh; }

  bool claims(const Packet& p) const override {
    return p.protocol == kProtoTcp && as_text(p.payload).substr(0, 4) == "SSH-";
  }

  // state[0]: bit d once direction d's banner was read.
  bool feed(FlowContext& f, const Packet& p, std::span<const uint8_t> data) const override {
    int d = int(p.dir);
    if (f.state[0] >> d & 1) return f.state[0] != 3;
    std::string_view s = as_text(data);
    // A server may send other lines before its identification string.
    size_t at = s.find("SSH-");
    if (at == std::string_view::npos) {
      if (s.size() > 4 * kMaxLine) f.state[0] |= 1u << d;
      return f.state[0] != 3;
    }
    std::string_view line = s.substr(at);
    size_t end = line.find('\n');
    if (end == std::string_view::npos && line.size() < kMaxLine && !f.stream[d].ended) return true;
    line = line.substr(0, std::min(end, kMaxLine));
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    f.results.set(FieldId::kBanner, line, p.dir);
    f.state[0] |= 1u << d;
    return f.state[0] != 3;
  }
};

}  // namespace

std::unique_ptr<Dissector> make_ssh() {
  return std::make_unique<Ssh>();
}

}  // namespace flowkit::dissect
