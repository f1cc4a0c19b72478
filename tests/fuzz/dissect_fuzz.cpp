// libFuzzer target for the payload dissectors: the input is a flow's packets, each a 2-byte
// length, a byte whose bits give the direction, the transport (TCP or UDP) and which of a few
// well-known ports the server uses, and a 4-byte TCP sequence number, before the payload. The
// first packet's transport and port are the flow's (a flow's key holds them, as the meter's
// does). Every dissector gets to claim the flow; the values found are applied to a record at
// the end.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/byte_io.h"
#include "dissect/dissect.h"

namespace {
constexpr uint16_t kPorts[] = {53, 443, 80, 22, 1194, 51820, 8443, 5353};
constexpr uint8_t kAddr[2][16] = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1},
                                  {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2}};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace flowkit;
  static dissect::Dissection d(dissect::kAllProtocols);
  static Arena arena;
  uint32_t slot = 0;
  size_t i = 0;
  uint8_t l4[20] = {};
  l4[12] = 0x50;
  const uint8_t flow_bits = size > 2 ? data[2] : 0;
  const uint8_t protocol = flow_bits & 2 ? 6 : 17;
  const uint16_t server = kPorts[flow_bits >> 2 & 7], client = 40000;
  while (i + 7 <= size) {
    size_t len = size_t(data[i]) << 8 | data[i + 1];
    uint8_t bits = data[i + 2];
    uint32_t seq = load_be32(data + i + 3);
    i += 7;
    if (len > size - i) len = size - i;
    if (len > dissect::kMaxPayload) len = dissect::kMaxPayload;
    Direction dir = Direction(bits & 1);
    store_be32(l4 + 4, seq);
    int side = int(dir);
    dissect::Packet p{0,
                      dir,
                      protocol,
                      4,
                      kAddr[side],
                      kAddr[1 - side],
                      dir == Direction::kForward ? client : server,
                      dir == Direction::kForward ? server : client,
                      {l4, size_t(protocol == 6 ? 20 : 8)},
                      {data + i, len}};
    d.packet(slot, p);
    i += len;
  }
  FlowRecord r;
  r.fwd.packets = r.rev.packets = 3;
  d.finish(slot, r, arena);
  d.release(slot);
  arena.reset();
  return 0;
}
