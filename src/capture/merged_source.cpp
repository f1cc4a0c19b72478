#include "capture/merged_source.h"

#include <algorithm>
#include <cassert>

#include "capture/libpcap_file_reader.h"
#include "capture/pcap_file_reader.h"

namespace flowkit::capture {

namespace {
// Packets buffered per input: large enough that refills are rare, small enough for many inputs.
constexpr size_t kInputBatch = 256;
}  // namespace

struct MergedSource::Input {
  std::unique_ptr<PacketSource> source;
  std::vector<RawPacket> buf;
  size_t pos = 0;
  size_t len = 0;
  std::vector<uint32_t> map;  // the input's interface index -> global index
  bool stable = false;
  bool ended = false;  // the source said finished() after returning nothing
};

MergedSource::MergedSource(std::vector<std::unique_ptr<PacketSource>> inputs) {
  assert(!inputs.empty());
  inputs_.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    assert(inputs[i]);
    Input& in = inputs_[i];
    in.source = std::move(inputs[i]);
    in.stable = in.source->stable_data();
  }
  if (inputs_.size() > 1) {
    for (uint32_t i = 0; i < inputs_.size(); ++i) {
      inputs_[i].buf.resize(kInputBatch);
      sync_interfaces(i);
    }
  }
}

MergedSource::~MergedSource() = default;

size_t MergedSource::input_count() const {
  return inputs_.size();
}

void MergedSource::sync_interfaces(uint32_t index) {
  Input& in = inputs_[index];
  const std::vector<InterfaceInfo>& local = in.source->interfaces();
  for (size_t k = in.map.size(); k < local.size(); ++k) {
    in.map.push_back(uint32_t(interfaces_.size()));
    interfaces_.push_back(local[k]);
  }
}

bool MergedSource::refill(uint32_t index) {
  Input& in = inputs_[index];
  in.pos = 0;
  in.len = in.source->read_batch(in.buf);
  // The source may have defined interfaces while reading: number them now, in input order.
  sync_interfaces(index);
  if (in.len == 0) {
    in.ended = in.source->finished();
    return false;
  }
  const uint32_t known = uint32_t(in.map.size());
  for (size_t k = 0; k < in.len; ++k) {
    uint32_t& ifc = in.buf[k].interface;
    // A source that breaks its own contract gets its packets put on its first interface.
    ifc = ifc < known ? in.map[ifc] : (known ? in.map[0] : 0);
  }
  return true;
}

// Whether input a's next packet goes out before input b's.
bool MergedSource::before(uint32_t a, uint32_t b) const {
  const int64_t ta = inputs_[a].buf[inputs_[a].pos].ts.ns;
  const int64_t tb = inputs_[b].buf[inputs_[b].pos].ts.ns;
  return ta < tb || (ta == tb && a < b);
}

void MergedSource::sift_down(size_t pos) {
  const size_t size = heap_.size();
  for (;;) {
    size_t best = pos;
    const size_t l = 2 * pos + 1;
    const size_t r = l + 1;
    if (l < size && before(heap_[l], heap_[best])) best = l;
    if (r < size && before(heap_[r], heap_[best])) best = r;
    if (best == pos) return;
    std::swap(heap_[pos], heap_[best]);
    pos = best;
  }
}

void MergedSource::push_heap(uint32_t index) {
  heap_.push_back(index);
  size_t pos = heap_.size() - 1;
  while (pos > 0) {
    const size_t parent = (pos - 1) / 2;
    if (!before(heap_[pos], heap_[parent])) break;
    std::swap(heap_[pos], heap_[parent]);
    pos = parent;
  }
}

size_t MergedSource::read_batch(std::span<RawPacket> out) {
  if (inputs_.size() == 1) {
    const size_t n = inputs_[0].source->read_batch(out);
    packets_ += n;
    return n;
  }
  // The caller has let go of the previous batch, so every drained input may be refilled now.
  heap_.clear();
  bool stalled = false;
  for (uint32_t i = 0; i < inputs_.size(); ++i) {
    Input& in = inputs_[i];
    if (in.pos == in.len && !in.ended) refill(i);
    if (in.pos < in.len) {
      push_heap(i);
    } else if (!in.ended) {
      stalled = true;
    }
  }
  // An input that is not finished but has nothing buffered might have the earliest packet.
  if (stalled) return 0;

  size_t n = 0;
  while (n < out.size() && !heap_.empty()) {
    const uint32_t top = heap_[0];
    Input& in = inputs_[top];
    if (heap_.size() == 1) {
      const size_t take = std::min(in.len - in.pos, out.size() - n);
      std::copy_n(in.buf.begin() + ptrdiff_t(in.pos), take, out.begin() + ptrdiff_t(n));
      in.pos += take;
      n += take;
    } else {
      // The runner-up's head bounds how far `top` may run on its own.
      uint32_t next = heap_[1];
      if (heap_.size() > 2 && before(heap_[2], next)) next = heap_[2];
      const int64_t limit = inputs_[next].buf[inputs_[next].pos].ts.ns;
      const bool tie_ok = top < next;
      while (n < out.size() && in.pos < in.len) {
        const int64_t t = in.buf[in.pos].ts.ns;
        if (t > limit || (t == limit && !tie_ok)) break;
        out[n++] = in.buf[in.pos++];
      }
    }
    if (in.pos < in.len) {
      sift_down(0);
      continue;
    }
    // Refilling an input whose data are not stable would invalidate packets already in `out`.
    if (!in.stable) break;
    if (refill(top)) {
      sift_down(0);
    } else if (in.ended) {
      heap_[0] = heap_.back();
      heap_.pop_back();
      if (!heap_.empty()) sift_down(0);
    } else {
      break;
    }
  }
  packets_ += n;
  return n;
}

bool MergedSource::finished() const {
  for (const Input& in : inputs_) {
    if (in.pos < in.len) return false;
    if (!in.ended && !in.source->finished()) return false;
  }
  return true;
}

std::vector<std::string> MergedSource::take_warnings() {
  std::vector<std::string> all;
  for (Input& in : inputs_) {
    std::vector<std::string> w = in.source->take_warnings();
    all.insert(all.end(), std::make_move_iterator(w.begin()), std::make_move_iterator(w.end()));
  }
  return all;
}

const std::vector<InterfaceInfo>& MergedSource::interfaces() const {
  return inputs_.size() == 1 ? inputs_[0].source->interfaces() : interfaces_;
}

SourceStats MergedSource::stats() const {
  SourceStats sum;
  for (const Input& in : inputs_) {
    const SourceStats s = in.source->stats();
    sum.bytes_read += s.bytes_read;
    sum.bytes_total += s.bytes_total;
    sum.bad_records += s.bad_records;
    sum.kernel_drops += s.kernel_drops;
  }
  sum.packets = packets_;
  return sum;
}

bool MergedSource::stable_data() const {
  return std::all_of(inputs_.begin(), inputs_.end(), [](const Input& in) { return in.stable; });
}

Result<std::unique_ptr<PacketSource>> open_capture_files(const std::vector<std::string>& paths,
                                                         FileReaderKind kind) {
  assert(!paths.empty());
  std::vector<std::unique_ptr<PacketSource>> inputs;
  for (const std::string& path : paths) {
    if (kind == FileReaderKind::kLibpcap) {
      auto r = LibpcapFileReader::open(path);
      if (!r.ok()) return r.status();
      inputs.push_back(std::move(r).value());
    } else {
      auto r = PcapFileReader::open(
          path, kind == FileReaderKind::kFlowkitMapped ? FileIo::kMap : FileIo::kRead);
      if (!r.ok()) return r.status();
      inputs.push_back(std::move(r).value());
    }
  }
  if (inputs.size() == 1) return std::move(inputs[0]);
  return std::unique_ptr<PacketSource>(std::make_unique<MergedSource>(std::move(inputs)));
}

}  // namespace flowkit::capture
