// pcapng_concat OUT.pcapng FILE...: writes the packets of every capture FILE, file after file,
// into one pcapng with an Interface Description Block per (file, interface), and prints one
// line per block: "<interface id>\t<file>". tests/conservation.py uses it so that tshark,
// whose start-up costs a second, reads a whole folder of captures at once and still tells the
// files apart by frame.interface_id. Files flowkit's reader cannot open are listed with id -1.
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "capture/pcap_file_reader.h"

namespace {

void put32(std::vector<uint8_t>& b, uint32_t v) {
  uint8_t x[4];
  std::memcpy(x, &v, 4);
  b.insert(b.end(), x, x + 4);
}
void put16(std::vector<uint8_t>& b, uint16_t v) {
  uint8_t x[2];
  std::memcpy(x, &v, 2);
  b.insert(b.end(), x, x + 2);
}

void block(FILE* out, uint32_t type, const std::vector<uint8_t>& body) {
  uint32_t pad = (4 - body.size() % 4) % 4;
  uint32_t len = uint32_t(12 + body.size() + pad);
  std::vector<uint8_t> b;
  put32(b, type);
  put32(b, len);
  b.insert(b.end(), body.begin(), body.end());
  b.insert(b.end(), pad, 0);
  put32(b, len);
  std::fwrite(b.data(), 1, b.size(), out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: pcapng_concat OUT.pcapng FILE...\n");
    return 2;
  }
  FILE* out = std::fopen(argv[1], "wb");
  if (!out) return 1;
  std::vector<uint8_t> shb;
  put32(shb, 0x1a2b3c4d);
  put16(shb, 1);
  put16(shb, 0);
  put32(shb, 0xffffffff);  // section length unknown
  put32(shb, 0xffffffff);
  block(out, 0x0a0d0d0a, shb);
  uint32_t next_id = 0;
  std::vector<flowkit::capture::RawPacket> batch(256);
  for (int i = 2; i < argc; ++i) {
    auto r = flowkit::capture::PcapFileReader::open(argv[i]);
    if (!r.ok()) {
      std::printf("-1\t%s\n", argv[i]);
      continue;
    }
    std::map<uint32_t, uint32_t> ids;  // the file's interface -> ours
    while (size_t n = (*r)->read_batch(batch)) {
      for (size_t k = 0; k < n; ++k) {
        const auto& p = batch[k];
        auto it = ids.find(p.interface);
        if (it == ids.end()) {
          std::vector<uint8_t> idb;
          put16(idb, uint16_t(p.linktype));
          put16(idb, 0);
          put32(idb, 262144);
          put16(idb, 9);  // if_tsresol: nanoseconds
          put16(idb, 1);
          idb.push_back(9);
          idb.insert(idb.end(), 3, 0);
          put32(idb, 0);  // opt_endofopt
          block(out, 1, idb);
          it = ids.emplace(p.interface, next_id++).first;
          std::printf("%u\t%s\n", it->second, argv[i]);
        }
        std::vector<uint8_t> epb;
        put32(epb, it->second);
        uint64_t ts = uint64_t(p.ts.ns);
        put32(epb, uint32_t(ts >> 32));
        put32(epb, uint32_t(ts));
        put32(epb, p.caplen);
        put32(epb, p.wirelen);
        epb.insert(epb.end(), p.data, p.data + p.caplen);
        block(out, 6, epb);
      }
    }
  }
  return std::fclose(out) == 0 ? 0 : 1;
}
