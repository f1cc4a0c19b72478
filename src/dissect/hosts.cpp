#include "dissect/hosts.h"

#include <fmt/format.h>

#include <charconv>
#include <cstring>

#include "core/field_registry.h"

namespace flowkit::dissect {

size_t HostNames::Hash::operator()(const IpAddress& a) const {
  return size_t(hash_of(a) >> 17);
}

void HostNames::learn(const IpAddress& address, std::string_view name) {
  if (name.empty() || capacity_ == 0) return;
  auto [it, added] = names_.try_emplace(address);
  it->second.assign(name);
  if (!added) return;
  if (order_.size() < capacity_) {
    order_.push_back(address);
    return;
  }
  // Full: the oldest learned address makes room.
  names_.erase(order_[next_]);
  order_[next_] = address;
  next_ = (next_ + 1) % capacity_;
}

std::string_view HostNames::find(const IpAddress& address) const {
  auto it = names_.find(address);
  return it == names_.end() ? std::string_view() : std::string_view(it->second);
}

void HostNames::label(FlowRecord& r, Arena& arena) const {
  if (names_.empty()) return;
  if (std::string_view n = find(r.src_ip); !n.empty())
    field_info(FieldId::kSrcHost).set(r, Direction::kForward, FieldValue(arena.copy(n)));
  if (std::string_view n = find(r.dst_ip); !n.empty())
    field_info(FieldId::kDstHost).set(r, Direction::kForward, FieldValue(arena.copy(n)));
}

Result<LocalNets> LocalNets::parse(std::string_view list) {
  LocalNets out;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (item.empty()) continue;
    size_t slash = item.find('/');
    auto address = IpAddress::parse(item.substr(0, slash));
    int bits = !address ? 0 : address->is_v4() ? 32 : 128;
    int prefix = bits;
    if (address && slash != std::string_view::npos) {
      std::string_view p = item.substr(slash + 1);
      auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
      if (ec != std::errc() || end != p.data() + p.size() || prefix < 0 || prefix > bits)
        address.reset();
    }
    if (!address) {
      return Status::invalid_argument(fmt::format(
          "'{}' is not a network: give ADDRESS/PREFIX or an address, e.g. 10.0.0.0/8 or "
          "2001:db8::/32",
          item));
    }
    out.nets_.push_back({*address, prefix + (bits == 32 ? 96 : 0)});
  }
  return out;
}

bool LocalNets::contains(const IpAddress& a) const {
  for (const Net& n : nets_) {
    int full = n.prefix / 8, rest = n.prefix % 8;
    if (std::memcmp(a.bytes(), n.address.bytes(), size_t(full)) != 0) continue;
    if (rest && ((a.bytes()[full] ^ n.address.bytes()[full]) & uint8_t(0xff << (8 - rest))))
      continue;
    return true;
  }
  return false;
}

void LocalNets::label(FlowRecord& r) const {
  if (nets_.empty()) return;
  bool src = contains(r.src_ip), dst = contains(r.dst_ip);
  std::string_view d = src && dst ? "internal" : src ? "outbound" : dst ? "inbound" : "external";
  // A static string: it outlives every batch.
  field_info(FieldId::kTrafficDirection).set(r, Direction::kForward, FieldValue(d));
}

}  // namespace flowkit::dissect
