// MergedSource: several packet sources read as one (`-r a.pcap -r b.pcapng`), in timestamp order
// across inputs. A k-way merge: each input is assumed to be in time order already (the output
// is only as ordered as its inputs); ties go to the lower input index, so the order is stable
// and deterministic.
//
// Interfaces are numbered globally: the interfaces the inputs know when the merge is built
// (for files: those defined before their first packet) come first, input 0's, then input 1's,
// and so on; an interface an input defines later (a pcapng IDB between packets or in a later
// section) is appended when the merge reads that far into the input. Since the reading order
// depends only on the inputs, the same inputs always give the same numbering. Interfaces of
// different inputs are never unified, even when their names match.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "capture/packet_source.h"
#include "core/result.h"

namespace flowkit::capture {

class MergedSource final : public PacketSource {
 public:
  // REQUIRES: !inputs.empty(), no input is null. Takes ownership of the inputs.
  explicit MergedSource(std::vector<std::unique_ptr<PacketSource>> inputs);
  ~MergedSource() override;
  MergedSource(const MergedSource&) = delete;
  MergedSource& operator=(const MergedSource&) = delete;

  // Packet data stay valid until the next read_batch() call, whatever the inputs guarantee:
  // an input whose data are not stable_data() is refilled only between two calls, so a batch
  // may end early when such an input runs dry. With one input this is the input's read_batch().
  // A live input that has nothing yet stalls the merge (0 is returned, finished() stays false),
  // because no packet may be handed out before that input's next one is known.
  size_t read_batch(std::span<RawPacket> out) override;
  bool finished() const override;
  // Every input's warnings, input by input.
  std::vector<std::string> take_warnings() override;
  const std::vector<InterfaceInfo>& interfaces() const override;
  // Sums over the inputs; packets counts what the merge handed out.
  SourceStats stats() const override;
  bool stable_data() const override;

  size_t input_count() const;

 private:
  struct Input;
  bool refill(uint32_t index);
  void sync_interfaces(uint32_t index);
  bool before(uint32_t a, uint32_t b) const;
  void sift_down(size_t pos);
  void push_heap(uint32_t index);

  std::vector<Input> inputs_;
  std::vector<uint32_t> heap_;  // inputs with buffered packets, earliest head first
  std::vector<InterfaceInfo> interfaces_;
  uint64_t packets_ = 0;
};

// How a file is read: our reader streaming or mapping the file (see FileIo), or libpcap's
// reader (the comparison path).
enum class FileReaderKind : uint8_t { kFlowkit, kFlowkitMapped, kLibpcap };

// Opens every path with the chosen reader and returns them as one source: the reader itself for
// one path, a MergedSource for several. Fails on the first path that cannot be opened, with
// that reader's message. REQUIRES: !paths.empty().
Result<std::unique_ptr<PacketSource>> open_capture_files(
    const std::vector<std::string>& paths, FileReaderKind kind = FileReaderKind::kFlowkit);

}  // namespace flowkit::capture
