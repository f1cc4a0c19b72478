// FilteredSource: a BPF filter (tcpdump syntax, `flowkit meter -r FILE -f 'tcp port 443'`)
// applied in user space to another source's packets. Files need it; live capture filters in the
// kernel instead (LiveOptions::filter). Merged files and pcapng interfaces may differ in link
// type, and a BPF program is compiled for one link type, so the filter is compiled once per link
// type as packets of it arrive.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "capture/packet_source.h"
#include "core/result.h"

struct bpf_program;

namespace flowkit::capture {

// Checks that `filter` compiles for link type `linktype`, without opening any device (so no
// privileges are needed): for validating command lines early. The error carries libpcap's
// message.
Status check_filter(const std::string& filter, uint32_t linktype = kLinkEthernet);

class FilteredSource final : public PacketSource {
 public:
  // Fails with libpcap's message when `expression` does not compile, for the link type of each
  // interface `inner` knows already (Ethernet when it knows none yet). An interface that appears
  // later with a link type the filter cannot apply to has its packets dropped, with a warning.
  static Result<std::unique_ptr<FilteredSource>> open(std::unique_ptr<PacketSource> inner,
                                                      std::string expression,
                                                      size_t max_dropped = size_t(1) << 16);
  ~FilteredSource() override;
  FilteredSource(const FilteredSource&) = delete;
  FilteredSource& operator=(const FilteredSource&) = delete;

  // The inner source's packets that pass the filter, in order. Batches the filter empties
  // entirely are followed by the next, up to `max_dropped` packets a call: then it returns 0
  // with finished() false, so that the caller can show progress through a long stretch of a file
  // that the filter drops.
  size_t read_batch(std::span<RawPacket> out) override;
  bool finished() const override { return inner_->finished(); }
  std::vector<std::string> take_warnings() override;
  const std::vector<InterfaceInfo>& interfaces() const override { return inner_->interfaces(); }
  // The inner source's, with packets counting those handed out and filtered those dropped.
  SourceStats stats() const override;
  bool stable_data() const override { return inner_->stable_data(); }

 private:
  struct Program {
    uint32_t linktype;
    // For files written little- and big-endian (the second only for LINKTYPE_NULL). code[0]
    // null: the filter does not apply to this link type.
    std::unique_ptr<bpf_program> code[2];
  };
  FilteredSource(std::unique_ptr<PacketSource> inner, std::string expression, size_t max_dropped);
  // The program for `linktype`, compiled on first use; null when it does not compile (then
  // `error` says why, once).
  const Program& program(uint32_t linktype, std::string* error = nullptr);

  std::unique_ptr<PacketSource> inner_;
  std::string expression_;
  size_t max_dropped_;
  std::vector<Program> programs_;
  size_t last_ = 0;  // index of the program used last: consecutive packets share a link type
  uint64_t passed_ = 0;
  uint64_t dropped_ = 0;
  std::vector<std::string> warnings_;
};

}  // namespace flowkit::capture
