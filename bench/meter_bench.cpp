// Micro-benchmarks of the metering path on packets held in memory (flowkit gen's traffic, so no
// I/O): decoding alone, the whole meter with and without statistics, the JSON and CSV writers,
// the export encoders, the store and the collector's decoding.
// Whole-run comparisons against peers are in bench/meter_vs_nfpcapd.sh.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "capture/pcap_file_reader.h"
#include "collect/collector.h"
#include "core/testing/collecting_sink.h"
#include "export/csv_writer.h"
#include "export/json_writer.h"
#include "export/text_output.h"
#include "gen/traffic_generator.h"
#include "ipfix/encoder.h"
#include "meter/meter.h"
#include "packet/decoder.h"
#include "store/file_reader.h"
#include "store/file_writer.h"

namespace {

using namespace flowkit;

// One million generated packets, built once.
struct Corpus {
  std::vector<uint8_t> bytes;
  std::vector<capture::RawPacket> packets;

  Corpus() {
    gen::GeneratorOptions o;
    o.seed = 42;
    o.packets = 1'000'000;
    auto g = gen::TrafficGenerator::create(o);
    std::vector<size_t> offsets;
    std::vector<gen::PacketMeta> metas;
    uint8_t frame[gen::TrafficGenerator::kMaxFrameSize];
    gen::PacketMeta meta;
    while ((*g)->next(frame, &meta)) {
      offsets.push_back(bytes.size());
      metas.push_back(meta);
      bytes.insert(bytes.end(), frame, frame + meta.length);
    }
    for (size_t i = 0; i < offsets.size(); ++i) {
      capture::RawPacket p;
      p.ts = metas[i].ts;
      p.data = bytes.data() + offsets[i];
      p.caplen = p.wirelen = metas[i].length;
      p.linktype = 1;
      packets.push_back(p);
    }
  }
};

const Corpus& corpus() {
  static const Corpus c;
  return c;
}

class CountingSink : public FlowSink {
 public:
  void write(std::span<const FlowRecord> r) override { flows += r.size(); }
  size_t flows = 0;
};

// The decoder on packets already in cache, as the meter sees them coming out of the reader.
void BM_Decode(benchmark::State& state) {
  const Corpus& c = corpus();
  std::span<const capture::RawPacket> hot(c.packets.data(), 1024);
  packet::PacketView v;
  packet::DecodeOptions o;
  for (auto _ : state) {
    for (const capture::RawPacket& p : hot) {
      packet::decode(p.data, p.caplen, p.wirelen, p.linktype, o, v);
      benchmark::DoNotOptimize(v.ip_bytes);
    }
  }
  state.SetItemsProcessed(int64_t(state.iterations() * hot.size()));
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMicrosecond);

void BM_Meter(benchmark::State& state) {
  const Corpus& c = corpus();
  meter::MeterOptions o;
  o.stats = state.range(0) != 0;
  size_t flows = 0;
  for (auto _ : state) {
    CountingSink sink;
    meter::Meter m(o, sink);
    for (size_t i = 0; i < c.packets.size(); i += 256) {
      size_t n = std::min<size_t>(256, c.packets.size() - i);
      m.process(std::span(c.packets.data() + i, n));
    }
    m.flush();
    flows = sink.flows;
  }
  state.SetItemsProcessed(int64_t(state.iterations() * c.packets.size()));
  state.counters["flows"] = double(flows);
}
BENCHMARK(BM_Meter)->Arg(0)->Arg(1)->ArgName("stats")->Unit(benchmark::kMillisecond);

// The corpus's flows, with or without statistics.
std::vector<FlowRecord> flows_of(const Corpus& c, bool stats) {
  testing::CollectingSink keep;
  meter::MeterOptions mo;
  mo.stats = stats;
  meter::Meter m(mo, keep);
  m.process(c.packets);
  m.flush();
  return std::move(keep.flows);
}

// Flow-heavy records as the target names them: the meter's flows from the first 600k
// packets of the capture that ../shared/tools/gen_big_pcap.c writes with `2000000 3 600 1`
// (1-3 packets per flow), which bench/meter_vs_nfpcapd.sh leaves in bench-data/big_2m.pcap.
// FLOWKIT_BENCH_PCAP names another capture. Empty when there is none.
const std::vector<FlowRecord>& flow_heavy() {
  static const std::vector<FlowRecord> flows = [] {
    const char* env = std::getenv("FLOWKIT_BENCH_PCAP");
    auto reader =
        capture::PcapFileReader::open(env ? env : "bench-data/big_2m.pcap", capture::FileIo::kMap);
    testing::CollectingSink keep;
    if (!reader.ok()) return keep.flows;
    meter::Meter m(meter::MeterOptions{}, keep);
    std::vector<capture::RawPacket> batch(4096);
    for (size_t total = 0; total < 600'000;) {
      size_t n = (*reader)->read_batch(batch);
      if (n == 0) break;
      m.process(std::span(batch.data(), n));
      total += n;
    }
    m.flush();
    return std::move(keep.flows);
  }();
  return flows;
}

// Records written per second by the JSON and CSV writers (to /dev/null: formatting only).
// range(0): 0 JSON, 1 CSV; range(1): 0 the generator's biflows with statistics (about 75
// fields, 1.2 kB of JSON each), 1 the flow-heavy records above (about 38 fields, 760 bytes).
void BM_TextWriter(benchmark::State& state) {
  std::vector<FlowRecord> flows = state.range(1) ? flow_heavy() : flows_of(corpus(), true);
  if (flows.empty()) {
    state.SkipWithError("no bench-data/big_2m.pcap (run bench/meter_vs_nfpcapd.sh once)");
    return;
  }
  auto out = exporter::TextOutput::open("/dev/null");
  std::unique_ptr<FlowSink> w;
  if (state.range(0)) {
    w = std::make_unique<exporter::CsvWriter>(**out, true);
  } else {
    w = std::make_unique<exporter::JsonWriter>(**out);
  }
  for (auto _ : state) w->write(flows);
  state.SetItemsProcessed(int64_t(state.iterations() * flows.size()));
}
BENCHMARK(BM_TextWriter)
    ->ArgsProduct({{0, 1}, {0, 1}})
    ->ArgNames({"format(0=json,1=csv)", "flow_heavy"})
    ->Unit(benchmark::kMillisecond);

// Records encoded per second by each export format (biflows as the meter makes them; v9 and v5
// split each into two records). Messages go to a sink that only counts bytes.
// range(2) = 1: the first 2048 flows over and over, in cache, as records come from the meter;
// 0: all 120k flows, read from memory each time.
void BM_Encode(benchmark::State& state) {
  std::vector<FlowRecord> flows = flows_of(corpus(), state.range(1) != 0);
  if (state.range(2)) flows.resize(2048);
  ipfix::EncoderOptions o;
  o.format = ipfix::Format(state.range(0));
  size_t bytes = 0;
  auto enc = ipfix::make_encoder(
      o, flows.front().first(), [&](std::span<const uint8_t> m) { bytes += m.size(); }, nullptr);
  Timestamp now = flows.back().last();
  for (auto _ : state) {
    for (const FlowRecord& r : flows) enc->add(r, now);
    enc->flush(now);
  }
  state.SetItemsProcessed(int64_t(state.iterations() * flows.size()));
  state.counters["bytes_per_flow"] = double(bytes) / double(state.iterations() * flows.size());
}
BENCHMARK(BM_Encode)
    ->ArgsProduct({{0, 1, 2}, {0, 1}, {0, 1}})
    ->ArgNames({"format(0=ipfix,1=v9,2=v5)", "stats", "hot"})
    ->Unit(benchmark::kMillisecond);

// The store's three costs on the flow-heavy records: gathering rows into columns (on the thread
// that meters), encoding and compressing a block (on the writer's own thread), and scanning the
// columns a query needs from a file in the page cache.
void BM_StoreAdd(benchmark::State& state) {
  const std::vector<FlowRecord>& flows = flow_heavy();
  if (flows.empty()) return state.SkipWithError("no bench-data/big_2m.pcap");
  store::BlockBuilder b;
  size_t n = 0;
  for (auto _ : state) {
    for (const FlowRecord& r : flows) {
      b.add(r);
      if (b.full()) b.clear();
    }
    n += flows.size();
  }
  state.SetItemsProcessed(int64_t(n));
}
BENCHMARK(BM_StoreAdd)->Unit(benchmark::kMillisecond);

void BM_StoreEncode(benchmark::State& state) {
  const std::vector<FlowRecord>& flows = flow_heavy();
  if (flows.empty()) return state.SkipWithError("no bench-data/big_2m.pcap");
  store::BlockBuilder b;
  for (size_t i = 0; i < store::kMaxBlockRows; ++i) b.add(flows[i % flows.size()]);
  store::BlockEncoder enc(store::Compression{store::Codec(state.range(0)), 3});
  std::vector<uint8_t> out;
  for (auto _ : state) {
    out.clear();
    enc.encode(b, out);
  }
  state.SetItemsProcessed(int64_t(state.iterations() * b.rows()));
  state.counters["bytes_per_flow"] = double(out.size()) / b.rows();
}
BENCHMARK(BM_StoreEncode)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("codec(1=zstd,2=lz4)")
    ->Unit(benchmark::kMillisecond);

// range(0): 0 packets and bytes of both directions (store info's totals), 1 dst_port and
// protocol, 2 every column.
void BM_StoreScan(benchmark::State& state) {
  const std::vector<FlowRecord>& flows = flow_heavy();
  if (flows.empty()) return state.SkipWithError("no bench-data/big_2m.pcap");
  static const std::string path = [&] {
    std::string p = "/tmp/flowkit-store-bench-" + std::to_string(::getpid()) + ".fk";
    auto layer = store::create_file(p);
    store::FileWriter w(std::move(*layer), {}, {.sync = false});
    for (int copy = 0; copy < 4; ++copy)
      for (const FlowRecord& r : flows) w.add(r);
    w.close();
    return p;
  }();
  auto reader = store::FileReader::open(path);
  std::vector<Column> want;
  auto col = [&](FieldId id, Direction d) { want.push_back({&field_info(id), d}); };
  if (state.range(0) == 0) {
    for (Direction d : {Direction::kForward, Direction::kReverse}) {
      col(FieldId::kPackets, d);
      col(FieldId::kBytes, d);
    }
  } else if (state.range(0) == 1) {
    col(FieldId::kDstPort, Direction::kForward);
    col(FieldId::kProtocol, Direction::kForward);
  }
  store::Block block;
  size_t rows = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < reader->blocks().size(); ++i) {
      reader->read_block(i, want, block);
      rows += block.rows;
      sum += block.columns.empty() ? 0 : block.columns[0].ints.size();
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(int64_t(rows));
}
BENCHMARK(BM_StoreScan)
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("columns(0=counters,1=port+proto,2=all)")
    ->Unit(benchmark::kMillisecond);

// The collector's decoding on one core: the flow-heavy records as flowkit's exporter sends them
// (range(0): 0 IPFIX, 1 NetFlow v9 (uniflows), 2 v5), decoded message by message by the
// collector's session for one exporter, records handed to a sink that drops them.
void BM_CollectorDecode(benchmark::State& state) {
  const std::vector<FlowRecord>& flows = flow_heavy();
  if (flows.empty()) return state.SkipWithError("no bench-data/big_2m.pcap");
  static const ipfix::Format kFormats[] = {ipfix::Format::kIpfix, ipfix::Format::kNetflow9,
                                           ipfix::Format::kNetflow5};
  ipfix::EncoderOptions o;
  o.format = kFormats[state.range(0)];
  std::vector<std::vector<uint8_t>> messages;
  Timestamp now = flows.back().last();
  auto enc = ipfix::make_encoder(
      o, flows.front().first(),
      [&](std::span<const uint8_t> m) { messages.emplace_back(m.begin(), m.end()); }, nullptr);
  for (const FlowRecord& r : flows) enc->add(r, now);
  enc->flush(now);
  NullSink sink;
  collect::Collector c({}, sink);
  collect::Origin from{IpAddress::v4(0x7f000001), 2055, 0, false, false};
  uint64_t before = 0;
  for (auto _ : state) {
    for (const auto& m : messages) c.receive({from, 0, m});
    c.flush();
  }
  before = c.totals().decoder.records;
  state.SetItemsProcessed(int64_t(before));
  state.counters["records_per_message"] =
      double(before) / double(state.iterations()) / double(messages.size());
}
BENCHMARK(BM_CollectorDecode)
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("format(0=ipfix,1=v9,2=v5)")
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
