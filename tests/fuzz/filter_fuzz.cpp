// libFuzzer target for the query language: the input is a filter's text. What parses is run
// on a block of varied records (TCP and UDP biflows, ICMP, IPv6, records lacking optional
// fields) and on block headers, as a query would; nothing may crash or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/field_registry.h"
#include "query/filter.h"
#include "store/block.h"

namespace {

std::vector<flowkit::FlowRecord> records() {
  using namespace flowkit;
  std::vector<FlowRecord> out;
  for (int i = 0; i < 16; ++i) {
    FlowRecord r;
    r.ip_version = i % 4 == 3 ? 6 : 4;
    r.protocol = i % 3 == 0 ? 6 : i % 3 == 1 ? 17 : (r.ip_version == 6 ? 58 : 1);
    r.src_ip = r.ip_version == 4 ? IpAddress::v4(0x0a000000u + uint32_t(i))
                                 : *IpAddress::parse("2001:db8::1");
    r.dst_ip = r.ip_version == 4 ? IpAddress::v4(0xc0a80000u + uint32_t(i * 7))
                                 : *IpAddress::parse("2001:db8::2");
    r.src_port = uint16_t(1024 + i);
    r.dst_port = uint16_t(i % 2 ? 443 : 53);
    r.fwd.packets = uint64_t(i + 1);
    r.fwd.bytes = uint64_t(i * 100 + 40);
    r.fwd.first = Timestamp{int64_t(i) * 1'000'000'000};
    r.fwd.last = Timestamp{int64_t(i) * 1'500'000'000};
    r.fwd.tcp_flags = uint8_t(i * 5);
    r.fwd.icmp_type = uint8_t(i);
    r.biflow = i % 2 == 0;
    if (r.biflow) {
      r.rev.packets = 2;
      r.rev.bytes = 80;
      r.rev.first = r.fwd.first;
      r.rev.last = r.fwd.last;
    }
    if (i % 5 == 0) field_info(FieldId::kSrcAs).set(r, Direction::kForward, uint64_t(65000 + i));
    if (i % 4 == 0)
      field_info(FieldId::kInterfaceName).set(r, Direction::kForward, std::string_view("eth0"));
    out.push_back(r);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<flowkit::FlowRecord> rows = records();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto f = flowkit::query::Filter::parse(text);
  if (!f.ok()) return 0;
  flowkit::store::Block block;
  flowkit::store::records_to_block(
      rows, f->all_columns() ? std::span<const flowkit::Column>{} : std::span(f->columns()), block);
  std::vector<uint8_t> mask;
  f->eval(block, mask);
  for (const flowkit::FlowRecord& r : rows) (void)f->matches(r);
  flowkit::store::BlockHeader h;
  (void)f->may_match(h);
  flowkit::store::ColumnDescriptor d;
  d.field = uint16_t(flowkit::FieldId::kProtocol);
  d.has_minmax = true;
  d.min = 6;
  d.max = 17;
  h.columns.push_back(d);
  (void)f->may_match(h);
  return 0;
}
