#include "dissect/tcp.h"

#include "core/byte_io.h"
#include "core/field_registry.h"

namespace flowkit::dissect {

namespace {

constexpr uint8_t kSyn = 0x02;
constexpr uint8_t kEnd = 0, kNop = 1, kMss = 2, kWindowScale = 3;

}  // namespace

void TcpOptions::update(std::span<const uint8_t> l4, int d, uint8_t flags, uint32_t ip_bytes,
                        bool first) {
  if (l4.size() < 20) return;
  size_t header = std::min<size_t>(size_t(l4[12] >> 4) * 4, l4.size());
  bool syn = flags & kSyn && !(syn_seen >> d & 1);
  if (syn) {
    syn_seen |= uint8_t(1 << d);
    window[d] = load_be16(l4.data() + 14);
    if (first && flags == kSyn) syn_size = uint16_t(ip_bytes);
  }
  for (size_t i = 20; i < header;) {
    uint8_t kind = l4[i];
    if (kind == kEnd) break;
    // Kind k is bit 7 - k % 8 of byte k / 8 (the first byte the lowest), as ipfixprobe keeps it.
    if (kind < 64) options[d] |= uint64_t(1) << ((kind & 0xf8) + (7 - (kind & 7)));
    if (kind == kNop) {
      ++i;
      continue;
    }
    if (i + 1 >= header) break;
    uint8_t len = l4[i + 1];
    if (len < 2 || i + len > header) break;
    if (syn && kind == kMss && len == 4) mss[d] = load_be16(l4.data() + i + 2);
    if (syn && kind == kWindowScale && len == 3) win_scale[d] = l4[i + 2];
    i += len;
  }
}

void TcpOptions::to_record(FlowRecord& r) const {
  for (int d = 0; d < 2; ++d) {
    Direction dir = Direction(d);
    DirectionRecord& o = r.dir(dir);
    if (!o.packets) continue;
    auto mark = [&](FieldId id) { mark_present(field_info(id), r, dir); };
    o.tcp_options = options[d];
    mark(FieldId::kTcpOptions);
    if (syn_seen >> d & 1) {
      o.tcp_init_win = window[d];
      mark(FieldId::kTcpInitWin);
      if (mss[d]) {
        o.tcp_mss = mss[d];
        mark(FieldId::kTcpMss);
      }
      if (win_scale[d] || options[d] & (uint64_t(1) << (7 - kWindowScale))) {
        o.tcp_win_scale = win_scale[d];
        mark(FieldId::kTcpWinScale);
      }
    }
  }
  if (syn_size) {
    r.app.tcp_syn_size = syn_size;
    mark_present(field_info(FieldId::kTcpSynSize), r, Direction::kForward);
  }
}

}  // namespace flowkit::dissect
