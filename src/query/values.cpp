#include "query/values.h"

#include <algorithm>
#include <cstring>

#include "query/row_loop.h"

namespace flowkit::query {
namespace {

// A column's integers, or nullptr when the block lacks it. Rows without a value hold 0.
const uint64_t* ints_of(const store::Block& b, FieldId id, Direction dir) {
  const store::ColumnData* c = b.find(id, dir);
  return c ? c->ints.data() : nullptr;
}

// Rows of the block where a column has a value, ORed into `has` (sized to the rows, zeroed).
void or_presence(const store::ColumnData* c, std::vector<uint8_t>& has) {
  if (!c) return;
  if (c->present.empty()) {
    std::fill(has.begin(), has.end(), 1);
    return;
  }
  for (size_t i = 0; i < has.size(); ++i) has[i] |= c->present[i];
}

// Calls fn(row) for each row of the block that `mask` lets through (every row when it is
// empty). A filter lets a few rows of each block through: their totals alone are wanted.
template <class Fn>
void each_row(uint32_t rows, std::span<const uint8_t> mask, Fn&& fn) {
  if (mask.empty()) {
    for (uint32_t i = 0; i < rows; ++i) fn(i);
    return;
  }
  for (uint32_t i = 0; i < rows; ++i)
    if (mask[i]) fn(i);
}

// FlowRecord::first() and last() over the block's rows, into first/last.
void span_of(const store::Block& b, std::span<const uint8_t> mask, std::vector<int64_t>& first,
             std::vector<int64_t>& last) {
  const uint32_t n = b.rows;
  store::hold(first, n);
  store::hold(last, n);
  const uint64_t* ff = ints_of(b, FieldId::kFirst, Direction::kForward);
  const uint64_t* fl = ints_of(b, FieldId::kLast, Direction::kForward);
  const uint64_t* rf = ints_of(b, FieldId::kFirst, Direction::kReverse);
  const uint64_t* rl = ints_of(b, FieldId::kLast, Direction::kReverse);
  const uint64_t* fp = ints_of(b, FieldId::kPackets, Direction::kForward);
  const uint64_t* rp = ints_of(b, FieldId::kPackets, Direction::kReverse);
  each_row(n, mask, [&](uint32_t i) {
    int64_t f = ff ? int64_t(ff[i]) : 0, l = fl ? int64_t(fl[i]) : 0;
    if (rp && rp[i] && rf && rl) {
      int64_t r0 = int64_t(rf[i]), r1 = int64_t(rl[i]);
      if (fp && !fp[i]) {
        f = r0, l = r1;
      } else {
        f = std::min(f, r0), l = std::max(l, r1);
      }
    }
    first[i] = f;
    last[i] = l;
  });
}

void totals(const store::Block& b, FieldId id, std::span<const uint8_t> mask,
            std::vector<int64_t>& out) {
  const uint64_t* f = ints_of(b, id, Direction::kForward);
  const uint64_t* r = ints_of(b, id, Direction::kReverse);
  store::hold(out, b.rows);
  each_row(b.rows, mask, [&](uint32_t i) { out[i] = int64_t((f ? f[i] : 0) + (r ? r[i] : 0)); });
}

// nfdump's port of each row: ICMP's type * 256 + code (without type and code columns, 0), the
// port column's value otherwise. A column the block lacks reads as zeros.
FLOWKIT_ROW_LOOP void nfdump_ports(const uint64_t* proto, const uint64_t* port,
                                   const uint64_t* type, const uint64_t* code, uint32_t n,
                                   int64_t* out) {
  for (uint32_t i = 0; i < n; ++i) {
    const bool icmp = proto && is_icmp(uint8_t(proto[i]));
    out[i] =
        int64_t(!icmp ? (port ? port[i] : 0) : (type ? type[i] : 0) * 256 + (code ? code[i] : 0));
  }
}

}  // namespace

void RowTotals::read(const store::Block& b, bool times, std::span<const uint8_t> mask) {
  if (times) {
    span_of(b, mask, first, last);
  } else {
    first.assign(b.rows, 0);
    last.assign(b.rows, 0);
  }
  totals(b, FieldId::kPackets, mask, packets);
  totals(b, FieldId::kBytes, mask, bytes);
}

void line_inputs(std::vector<Column>& out) {
  for (FieldId id : {FieldId::kSrcIp, FieldId::kDstIp, FieldId::kSrcPort, FieldId::kDstPort,
                     FieldId::kProtocol, FieldId::kIcmpType, FieldId::kIcmpCode, FieldId::kFlows})
    out.push_back(column(id));
  out.push_back(column(FieldId::kPackets, Direction::kReverse));  // which rows are biflows
}

void line_rows(const store::Block& b, std::span<const uint8_t> mask, const RowTotals& totals,
               uint32_t from, uint32_t to, std::vector<exporter::LineRow>& out) {
  using store::ColumnData;
  const ColumnData* src = b.find(FieldId::kSrcIp);
  const ColumnData* dst = b.find(FieldId::kDstIp);
  const ColumnData* src_port = b.find(FieldId::kSrcPort);
  const ColumnData* dst_port = b.find(FieldId::kDstPort);
  const ColumnData* proto = b.find(FieldId::kProtocol);
  const ColumnData* icmp_type = b.find(FieldId::kIcmpType);
  const ColumnData* icmp_code = b.find(FieldId::kIcmpCode);
  const ColumnData* flows = b.find(FieldId::kFlows);
  const ColumnData* rev = b.find(FieldId::kPackets, Direction::kReverse);
  out.clear();
  const uint32_t end = std::min(to, b.rows);
  for (uint32_t row = from; row < end; ++row) {
    if (!mask.empty() && !mask[row]) {
      // Most rows fail a filter: eight of them are passed over at once.
      uint64_t eight;
      while (row + 9 <= end && (std::memcpy(&eight, &mask[row + 1], 8), eight == 0)) row += 8;
      continue;
    }
    auto number = [&](const ColumnData* c, uint64_t absent) {
      return c && c->has(row) ? c->ints[row] : absent;
    };
    exporter::LineRow& l = out.emplace_back();
    l.first = Timestamp{totals.first[row]};
    l.last = Timestamp{totals.last[row]};
    if (src && src->has(row)) l.src_ip = src->ips[row];
    if (dst && dst->has(row)) l.dst_ip = dst->ips[row];
    l.packets = uint64_t(totals.packets[row]);
    l.bytes = uint64_t(totals.bytes[row]);
    l.flows = number(flows, 1);
    l.protocol = uint8_t(number(proto, 0));
    l.src_port = uint16_t(number(src_port, 0));
    l.dst_port = is_icmp(l.protocol) ? uint32_t(number(icmp_type, 0) << 8 | number(icmp_code, 0))
                                     : uint32_t(number(dst_port, 0));
    l.biflow = rev && rev->has(row);
  }
}

void source_inputs(const Source& s, std::vector<Column>& out) {
  auto both = [&](FieldId id) {
    out.push_back(column(id));
    out.push_back(column(id, Direction::kReverse));
  };
  switch (s.kind) {
    case Derived::kNone:
      out.push_back(s.col);
      return;
    case Derived::kTotal:
      both(s.col.field->id);
      return;
    case Derived::kPps:
    case Derived::kBps:
    case Derived::kBpp:
      both(FieldId::kBytes);
      [[fallthrough]];
    case Derived::kFirst:
    case Derived::kLast:
    case Derived::kDurationMs:
    case Derived::kDurationS:
      both(FieldId::kPackets);
      both(FieldId::kFirst);
      both(FieldId::kLast);
      return;
    case Derived::kNfSrcPort:
      out.push_back(column(FieldId::kProtocol));
      out.push_back(column(FieldId::kSrcPort));
      return;
    case Derived::kNfDstPort:
      out.push_back(column(FieldId::kProtocol));
      out.push_back(column(FieldId::kDstPort));
      out.push_back(column(FieldId::kIcmpType));
      out.push_back(column(FieldId::kIcmpCode));
      return;
    case Derived::kTcpFlags:
      out.push_back(column(FieldId::kProtocol));
      both(FieldId::kTcpFlags);
      return;
  }
}

bool source_is_double(const Source& s) {
  switch (s.kind) {
    case Derived::kNone:
      return s.col.field->type == FieldType::kF64;
    case Derived::kDurationS:
    case Derived::kPps:
    case Derived::kBps:
    case Derived::kBpp:
      return true;
    default:
      return false;
  }
}

void read_numbers(const Source& s, const store::Block& b, Numbers& out) {
  const uint32_t n = b.rows;
  out.doubles = source_is_double(s);
  out.none = false;
  out.has = {};
  out.ints = {};
  out.reals = {};
  auto computed_ints = [&] { out.ints = {out.int_buf.data(), n}; };
  auto computed_reals = [&] { out.reals = {out.real_buf.data(), n}; };
  switch (s.kind) {
    case Derived::kNone: {
      const store::ColumnData* c = b.find(s.col.field->id, s.col.dir);
      if (!c) {
        out.none = true;
        return;
      }
      out.has = c->present;
      if (s.col.field->type == FieldType::kF64) {
        out.reals = c->doubles;
      } else if (s.col.field->type == FieldType::kMac) {
        out.int_buf.resize(n);
        for (uint32_t i = 0; i < n; ++i) {
          uint64_t x = 0;
          for (uint8_t byte : c->macs[i].b) x = x << 8 | byte;
          out.int_buf[i] = int64_t(x);
        }
        computed_ints();
      } else {
        // uint64_t and int64_t may alias: the column's integers serve as they are.
        out.ints = {reinterpret_cast<const int64_t*>(c->ints.data()), n};
      }
      return;
    }
    case Derived::kTotal: {
      const store::ColumnData* f = b.find(s.col.field->id, Direction::kForward);
      const store::ColumnData* r = b.find(s.col.field->id, Direction::kReverse);
      if (!f && !r) {
        out.none = true;
        return;
      }
      if (!r) {  // uniflows: the forward column is the total, read in place
        out.has = f->present;
        out.ints = {reinterpret_cast<const int64_t*>(f->ints.data()), n};
        return;
      }
      totals(b, s.col.field->id, {}, out.int_buf);
      computed_ints();
      if ((f && !f->present.empty()) || (r && !r->present.empty())) {
        out.has_buf.assign(n, 0);
        or_presence(f, out.has_buf);
        or_presence(r, out.has_buf);
        out.has = out.has_buf;
      }
      return;
    }
    case Derived::kFirst:
    case Derived::kLast:
    case Derived::kDurationMs:
    case Derived::kDurationS:
    case Derived::kPps:
    case Derived::kBps:
    case Derived::kBpp: {
      static thread_local std::vector<int64_t> first, last, packets, bytes;
      span_of(b, {}, first, last);
      if (s.kind == Derived::kFirst || s.kind == Derived::kLast) {
        out.int_buf = s.kind == Derived::kFirst ? first : last;
        computed_ints();
        return;
      }
      if (s.kind == Derived::kDurationMs) {
        out.int_buf.resize(n);
        for (uint32_t i = 0; i < n; ++i) out.int_buf[i] = (last[i] - first[i]) / 1'000'000;
        computed_ints();
        return;
      }
      out.real_buf.resize(n);
      if (s.kind == Derived::kDurationS) {
        for (uint32_t i = 0; i < n; ++i) out.real_buf[i] = double(last[i] - first[i]) / 1e9;
        computed_reals();
        return;
      }
      totals(b, FieldId::kPackets, {}, packets);
      totals(b, FieldId::kBytes, {}, bytes);
      for (uint32_t i = 0; i < n; ++i) {
        double secs = double(last[i] - first[i]) / 1e9;
        double p = double(packets[i]), by = double(bytes[i]);
        out.real_buf[i] = s.kind == Derived::kBpp   ? (p > 0 ? by / p : 0)
                          : s.kind == Derived::kPps ? (secs > 0 ? p / secs : 0)
                                                    : (secs > 0 ? by * 8 / secs : 0);
      }
      computed_reals();
      return;
    }
    case Derived::kNfSrcPort:
    case Derived::kNfDstPort: {
      const uint64_t* proto = ints_of(b, FieldId::kProtocol, Direction::kForward);
      bool dst = s.kind == Derived::kNfDstPort;
      const uint64_t* port =
          ints_of(b, dst ? FieldId::kDstPort : FieldId::kSrcPort, Direction::kForward);
      const uint64_t* type = ints_of(b, FieldId::kIcmpType, Direction::kForward);
      const uint64_t* code = ints_of(b, FieldId::kIcmpCode, Direction::kForward);
      out.int_buf.resize(n);
      nfdump_ports(proto, port, dst ? type : nullptr, dst ? code : nullptr, n, out.int_buf.data());
      computed_ints();
      return;
    }
    case Derived::kTcpFlags: {
      const uint64_t* proto = ints_of(b, FieldId::kProtocol, Direction::kForward);
      const uint64_t* f = ints_of(b, FieldId::kTcpFlags, Direction::kForward);
      const uint64_t* r = ints_of(b, FieldId::kTcpFlags, Direction::kReverse);
      out.int_buf.resize(n);
      out.has_buf.resize(n);
      for (uint32_t i = 0; i < n; ++i) {
        out.int_buf[i] = int64_t((f ? f[i] : 0) | (r ? r[i] : 0));
        out.has_buf[i] = proto && proto[i] == 6;
      }
      computed_ints();
      out.has = out.has_buf;
      return;
    }
  }
}

}  // namespace flowkit::query
