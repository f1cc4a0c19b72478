// The packet decoder: one pass over a captured frame that fills a PacketView. It never reads
// outside the captured bytes, never allocates, and treats every malformed header as data: the
// result says how far it got (PacketView::skip, l4_truncated) instead of failing.
#pragma once

#include <cstdint>

#include "packet/packet_view.h"

namespace flowkit::packet {

struct DecodeOptions {
  // Open tunnels (GRE, VXLAN, Geneve, IP-in-IP, GTP-U, Teredo) and key the flow by the inner
  // packet. Off: the outer packet is the flow.
  bool decapsulate = true;
};

// Decodes `caplen` captured bytes of a frame of link type `linktype` (LINKTYPE_* value) that was
// `wirelen` bytes long on the wire. Always sets every PacketView field it documents.
void decode(const uint8_t* data, uint32_t caplen, uint32_t wirelen, uint32_t linktype,
            const DecodeOptions& options, PacketView& out);

// decode() without its shortcut for plain Ethernet/IPv4/TCP-UDP frames: every frame takes the
// general layer-by-layer walk. The two must agree on every frame; tests compare them.
void decode_general(const uint8_t* data, uint32_t caplen, uint32_t wirelen, uint32_t linktype,
                    const DecodeOptions& options, PacketView& out);

}  // namespace flowkit::packet
