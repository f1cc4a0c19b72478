#include "capture/filtered_source.h"

#include <fmt/format.h>
#include <pcap/pcap.h>

#include <cstdio>
#include <utility>

namespace flowkit::capture {

namespace {

// Compiles `expression` for packets of `linktype` read from a file written in the given byte
// order, into `out`; on failure returns libpcap's message. The compiling handle is an empty
// savefile in memory: libpcap compiles for a file differently from a live or dead handle (for
// LINKTYPE_NULL it then accepts every system's AF_INET6 value, in the file's byte order), and it
// maps LINKTYPE_* to DLT_* itself.
Status compile(const std::string& expression, uint32_t linktype, bool big_endian,
               bpf_program* out) {
  uint8_t header[24] = {};
  auto put = [&](size_t at, uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i)
      header[at + size_t(i)] = uint8_t(v >> (8 * (big_endian ? bytes - 1 - i : i)));
  };
  put(0, 0xa1b2c3d4, 4);
  put(4, 2, 2);
  put(6, 4, 2);
  put(16, 262144, 4);
  put(20, linktype, 4);
  FILE* f = fmemopen(header, sizeof header, "rb");
  if (!f) return Status::error("cannot compile the capture filter: out of memory");
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_fopen_offline(f, err);
  if (!p) {
    std::fclose(f);
    return Status::invalid_argument(
        fmt::format("cannot compile the capture filter for link type {}: {}", linktype, err));
  }
  Status result;
  if (pcap_compile(p, out, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    result = Status::invalid_argument(fmt::format(
        "invalid capture filter '{}' for link type {}: {}", expression, linktype, pcap_geterr(p)));
  }
  pcap_close(p);  // closes f
  return result;
}

}  // namespace

Status check_filter(const std::string& filter, uint32_t linktype) {
  bpf_program prog;
  Status s = compile(filter, linktype, false, &prog);
  if (s.ok()) pcap_freecode(&prog);
  return s;
}

FilteredSource::FilteredSource(std::unique_ptr<PacketSource> inner, std::string expression,
                               size_t max_dropped)
    : inner_(std::move(inner)), expression_(std::move(expression)), max_dropped_(max_dropped) {}

FilteredSource::~FilteredSource() {
  for (Program& p : programs_) {
    for (auto& code : p.code) {
      if (code) pcap_freecode(code.get());
    }
  }
}

Result<std::unique_ptr<FilteredSource>> FilteredSource::open(std::unique_ptr<PacketSource> inner,
                                                             std::string expression,
                                                             size_t max_dropped) {
  std::unique_ptr<FilteredSource> s(
      new FilteredSource(std::move(inner), std::move(expression), max_dropped));
  std::vector<uint32_t> linktypes;
  for (const InterfaceInfo& i : s->interfaces()) linktypes.push_back(i.linktype);
  if (linktypes.empty()) linktypes.push_back(kLinkEthernet);
  for (uint32_t linktype : linktypes) {
    std::string error;
    if (!s->program(linktype, &error).code[0]) return Status::invalid_argument(error);
  }
  return s;
}

const FilteredSource::Program& FilteredSource::program(uint32_t linktype, std::string* error) {
  if (last_ < programs_.size() && programs_[last_].linktype == linktype) return programs_[last_];
  for (last_ = 0; last_ < programs_.size(); ++last_) {
    if (programs_[last_].linktype == linktype) return programs_[last_];
  }
  Program prog{linktype, {}};
  // Only LINKTYPE_NULL's header (the address family) is in the writer's byte order.
  for (int big_endian = 0; big_endian < (linktype == kLinkNull ? 2 : 1); ++big_endian) {
    auto code = std::make_unique<bpf_program>();
    Status s = compile(expression_, linktype, big_endian, code.get());
    if (!s.ok()) {
      if (error) *error = s.message();
      warnings_.push_back(s.message() + "; packets of that link type are dropped");
      if (big_endian) pcap_freecode(prog.code[0].get());
      prog.code[0].reset();
      break;
    }
    prog.code[big_endian] = std::move(code);
  }
  programs_.push_back(std::move(prog));
  return programs_[last_];
}

size_t FilteredSource::read_batch(std::span<RawPacket> out) {
  for (size_t dropped = 0; dropped < max_dropped_;) {
    const size_t n = inner_->read_batch(out);
    if (n == 0) return 0;
    size_t kept = 0;
    for (size_t i = 0; i < n; ++i) {
      const RawPacket& p = out[i];
      const Program& prog = program(p.linktype);
      // An address family (a small number) written big-endian starts with two zero bytes.
      const bpf_program* code = prog.code[1] && p.caplen >= 4 && p.data[0] == 0 && p.data[1] == 0
                                    ? prog.code[1].get()
                                    : prog.code[0].get();
      pcap_pkthdr h{};
      h.caplen = p.caplen;
      h.len = p.wirelen;
      if (code && pcap_offline_filter(code, &h, p.data) != 0) out[kept++] = p;
    }
    passed_ += kept;
    dropped_ += n - kept;
    dropped += n - kept;
    if (kept) return kept;
  }
  return 0;
}

std::vector<std::string> FilteredSource::take_warnings() {
  std::vector<std::string> w = inner_->take_warnings();
  w.insert(w.end(), warnings_.begin(), warnings_.end());
  warnings_.clear();
  return w;
}

SourceStats FilteredSource::stats() const {
  SourceStats s = inner_->stats();
  s.packets = passed_;
  s.filtered = dropped_;
  return s;
}

}  // namespace flowkit::capture
