// Robustness in one process: every capture under ../shared/pcaps (malformed and fuzz cases
// included) is read, metered with two sets of options, written as JSON and CSV, and exported
// as IPFIX, NetFlow v9 and v5 and decoded again. Built with -DFLOWKIT_SANITIZE=ON, any
// AddressSanitizer or UndefinedBehaviorSanitizer report aborts the test. (tests/robustness.py
// does the same through the flowkit binary, one process per file.)
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "capture/merged_source.h"
#include "export/csv_writer.h"
#include "export/json_writer.h"
#include "export/text_output.h"
#include "ipfix/decoder.h"
#include "ipfix/encoder.h"
#include "meter/meter.h"
#include "packet/decoder.h"
#include "packet/testing/decoder_check.h"

namespace flowkit {
namespace {

class Everything : public FlowSink {
 public:
  Everything()
      : out_(std::move(exporter::TextOutput::open("/dev/null").value())),
        json_(*out_),
        csv_(*out_, true) {
    for (ipfix::Format f :
         {ipfix::Format::kIpfix, ipfix::Format::kNetflow9, ipfix::Format::kNetflow5}) {
      ipfix::EncoderOptions o;
      o.format = f;
      encoders_.push_back(ipfix::make_encoder(
          o, Timestamp{},
          [this](std::span<const uint8_t> m) {
            std::vector<FlowRecord> back;
            Arena arena;
            decoder_.decode(m, back, arena);
            decoded_ += back.size();
          },
          nullptr));
    }
  }
  void write(std::span<const FlowRecord> records) override {
    json_.write(records);
    csv_.write(records);
    for (const FlowRecord& r : records) {
      packets += r.packets();
      for (auto& e : encoders_) e->add(r, r.last());
    }
  }
  Status flush() override {
    for (auto& e : encoders_) e->flush(Timestamp{});
    return out_->flush();
  }
  uint64_t packets = 0;

 private:
  std::unique_ptr<exporter::TextOutput> out_;
  exporter::JsonWriter json_;
  exporter::CsvWriter csv_;
  ipfix::Decoder decoder_;
  std::vector<std::unique_ptr<ipfix::Encoder>> encoders_;
  uint64_t decoded_ = 0;
};

TEST(Robustness, EverySharedCapture) {
  std::string root = std::string(FLOWKIT_SHARED_DIR) + "/pcaps";
  if (!std::filesystem::is_directory(root)) GTEST_SKIP() << root << " not found";
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  size_t opened = 0;
  for (const std::string& file : files) {
    for (int variant = 0; variant < 2; ++variant) {
      auto src = capture::open_capture_files({file});
      if (!src.ok()) continue;  // not a capture: the reader said why, nothing to meter
      ++opened;
      meter::MeterOptions o;
      if (variant == 1) {
        o.key.biflow = false;
        o.key.mode = meter::KeyMode::kProto;
        o.sample = 3;
        o.decode.decapsulate = false;
        o.max_flows = 50;
        o.active_timeout_ns = kNanosPerSecond;
        o.idle_timeout_ns = 2 * kNanosPerSecond;
        o.stats = false;
      }
      Everything sink;
      meter::Meter m(o, sink);
      std::vector<capture::RawPacket> batch(256);
      while (size_t n = (*src)->read_batch(batch)) m.process(std::span(batch.data(), n));
      m.flush();
      EXPECT_TRUE(sink.flush().ok());
      EXPECT_EQ(sink.packets, m.stats().decoded) << file;
    }
  }
  EXPECT_GT(opened, 1000u);
}

// decode()'s shortcut for plain Ethernet/IPv4-IPv6/TCP-UDP frames against the general decoder, on
// every packet of every shared capture, with and without decapsulation.
TEST(Robustness, DecoderShortcutAgreesWithGeneralDecoder) {
  std::string root = std::string(FLOWKIT_SHARED_DIR) + "/pcaps";
  if (!std::filesystem::is_directory(root)) GTEST_SKIP() << root << " not found";
  uint64_t packets = 0, plain = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    auto src = capture::open_capture_files({e.path().string()});
    if (!src.ok()) continue;
    std::vector<capture::RawPacket> batch(256);
    while (size_t n = (*src)->read_batch(batch)) {
      for (const capture::RawPacket& p : std::span(batch.data(), n)) {
        for (bool decap : {true, false}) {
          packet::DecodeOptions o;
          o.decapsulate = decap;
          ASSERT_TRUE(packet::testing::shortcut_agrees(p.data, p.caplen, p.wirelen, p.linktype, o))
              << e.path() << " packet " << packets << (decap ? "" : " (no decapsulation)");
        }
        ++packets;
        packet::PacketView v;
        packet::decode_general(p.data, p.caplen, p.wirelen, p.linktype, {}, v);
        plain += p.linktype == 1 && v.ip_version != 0 && v.vlan_depth == 0 && v.mpls_depth == 0 &&
                 v.tunnel == TunnelType::kNone && !v.is_fragment &&
                 (v.protocol == 6 || v.protocol == 17);
      }
    }
  }
  // The shortcut's kind of frame is most of the real traffic there.
  EXPECT_GT(plain, packets / 4) << plain << " of " << packets << " packets plain";
}

}  // namespace
}  // namespace flowkit
