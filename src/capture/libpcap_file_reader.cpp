#include "capture/libpcap_file_reader.h"

#include <fmt/format.h>
#include <pcap/pcap.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>

namespace flowkit::capture {

uint32_t linktype_from_dlt(int dlt) {
  // The DLT values that are not their LINKTYPE value on some platform (libpcap's
  // pcap-common.c); comparisons against the macros keep this right on every platform.
  if (dlt == DLT_RAW) return kLinkRaw;
  if (dlt == DLT_ATM_RFC1483) return 100;
  if (dlt == DLT_SLIP_BSDOS) return 102;
  if (dlt == DLT_PPP_BSDOS) return 103;
#ifdef DLT_PFSYNC
  if (dlt == DLT_PFSYNC) return 246;
#endif
  return uint32_t(dlt);
}

LibpcapFileReader::LibpcapFileReader(pcap_t* pcap, std::string name, uint64_t size)
    : pcap_(pcap), name_(std::move(name)), bytes_total_(size) {
  linktype_ = linktype_from_dlt(pcap_datalink(pcap_));
  interfaces_.push_back({name_, linktype_});
}

LibpcapFileReader::~LibpcapFileReader() {
  pcap_close(pcap_);
}

Result<std::unique_ptr<LibpcapFileReader>> LibpcapFileReader::open(const std::string& path) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (!p) {
    std::string hint;
    if (path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0) {
      hint = fmt::format("; if it is gzip-compressed, decompress it first (gunzip '{}')", path);
    }
    return Status::error(fmt::format("libpcap cannot read '{}': {}{}", path, errbuf, hint));
  }
  struct stat st {};
  uint64_t size = 0;
  if (path != "-" && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    size = uint64_t(st.st_size);
  }
  return std::unique_ptr<LibpcapFileReader>(
      new LibpcapFileReader(p, path == "-" ? "stdin" : path, size));
}

size_t LibpcapFileReader::read_batch(std::span<RawPacket> out) {
  arena_.reset();
  size_t n = 0;
  while (n < out.size() && !done_) {
    pcap_pkthdr* hdr;
    const u_char* data;
    const int rc = pcap_next_ex(pcap_, &hdr, &data);
    if (rc == 1) {
      RawPacket& r = out[n++];
      // With nanosecond precision libpcap stores nanoseconds in tv_usec.
      r.ts.ns = int64_t(hdr->ts.tv_sec) * kNanosPerSecond + int64_t(hdr->ts.tv_usec);
      r.data = arena_.copy(data, hdr->caplen);
      r.caplen = hdr->caplen;
      r.wirelen = hdr->len;
      r.linktype = linktype_;
      r.interface = 0;
    } else if (rc == PCAP_ERROR_BREAK) {
      done_ = true;
    } else {
      ++bad_records_;
      warnings_.push_back(
          fmt::format("{}: {}; stopped reading this file, kept the packets before it", name_,
                      pcap_geterr(pcap_)));
      done_ = true;
    }
  }
  if (FILE* f = pcap_file(pcap_)) {
    const long pos = std::ftell(f);
    if (pos > 0) bytes_read_ = uint64_t(pos);
  }
  packets_ += n;
  return n;
}

std::vector<std::string> LibpcapFileReader::take_warnings() {
  return std::exchange(warnings_, {});
}

SourceStats LibpcapFileReader::stats() const {
  SourceStats s;
  s.packets = packets_;
  s.bytes_read = done_ && bytes_total_ ? bytes_total_ : bytes_read_;
  s.bytes_total = bytes_total_;
  s.bad_records = bad_records_;
  return s;
}

}  // namespace flowkit::capture
