#include "dissect/app_label.h"

#include <cstring>

#include "core/byte_io.h"
#include "core/field_registry.h"
#include "dissect/dissect.h"

#ifdef FLOWKIT_HAVE_NDPI
extern "C" {
#include <ndpi/ndpi_api.h>
}
#endif

namespace flowkit::dissect {

#ifdef FLOWKIT_HAVE_NDPI

namespace {

constexpr uint8_t kProtoTcp = 6;
// Packets nDPI is given at most per flow, as ndpiReader (reader_util.c) stops.
constexpr uint32_t kMaxTcpPackets = 80, kMaxUdpPackets = 24;

// The label ("TLS.Google") into name, and the category's name, or null.
const char* names(ndpi_detection_module_struct* ndpi, const ndpi_protocol& proto,
                  char (&name)[64]) {
  ndpi_protocol2name(ndpi, proto, name, sizeof name);
  const char* category = ndpi_category_get_name(ndpi, proto.category);
  return category && *category ? category : nullptr;
}

void set_label(ndpi_detection_module_struct* ndpi, FlowRecord& r, const ndpi_protocol& proto,
               Arena& arena) {
  char name[64];
  const char* category = names(ndpi, proto, name);
  field_info(FieldId::kAppLabel).set(r, Direction::kForward, FieldValue(arena.copy(name)));
  if (category)
    field_info(FieldId::kAppCategory).set(r, Direction::kForward, FieldValue(arena.copy(category)));
}

// What nDPI detected, or its guess when it detected nothing.
ndpi_protocol final_protocol(ndpi_detection_module_struct* ndpi, ndpi_flow_struct* f) {
  ndpi_protocol proto = NDPI_PROTOCOL_NULL;
  if (f->detected_protocol_stack[0] != NDPI_PROTOCOL_UNKNOWN) {
    proto.master_protocol = f->detected_protocol_stack[1];
    proto.app_protocol = f->detected_protocol_stack[0];
    proto.category = f->category;
  }
  if (proto.app_protocol == NDPI_PROTOCOL_UNKNOWN) {
    uint8_t guessed = 0;
    proto = ndpi_detection_giveup(ndpi, f, 1, &guessed);
  }
  return proto;
}

}  // namespace

struct AppLabeler::Impl {
  ndpi_detection_module_struct* ndpi = nullptr;
  size_t flow_size = 0;
  std::vector<void*> free;
  std::vector<uint8_t> packet;  // the IP packet rebuilt for nDPI

  ~Impl() {
    for (void* f : free) std::free(f);
    if (ndpi) ndpi_exit_detection_module(ndpi);
  }
};

std::unique_ptr<AppLabeler> AppLabeler::create() {
  std::unique_ptr<AppLabeler> l(new AppLabeler());
  l->impl_ = std::make_unique<Impl>();
  Impl& m = *l->impl_;
  m.ndpi = ndpi_init_detection_module(ndpi_no_prefs);
  if (!m.ndpi) return nullptr;
  NDPI_PROTOCOL_BITMASK all;
  NDPI_BITMASK_SET_ALL(all);
  ndpi_set_protocol_detection_bitmask2(m.ndpi, &all);
  ndpi_finalize_initialization(m.ndpi);
  m.flow_size = ndpi_detection_get_sizeof_ndpi_flow_struct();
  return l;
}

AppLabeler::~AppLabeler() = default;

void* AppLabeler::new_flow() {
  void* f;
  if (!impl_->free.empty()) {
    f = impl_->free.back();
    impl_->free.pop_back();
  } else {
    f = std::malloc(impl_->flow_size);
    if (!f) return nullptr;
  }
  std::memset(f, 0, impl_->flow_size);
  return f;
}

void AppLabeler::free_flow(void* flow) {
  ndpi_free_flow_data(static_cast<ndpi_flow_struct*>(flow));
  impl_->free.push_back(flow);
}

bool AppLabeler::packet(void* flow, const Packet& p, uint32_t& packets) {
  auto* f = static_cast<ndpi_flow_struct*>(flow);
  // The IP header nDPI expects, rebuilt from what the meter decoded.
  std::vector<uint8_t>& b = impl_->packet;
  size_t l4 = p.l4.size() + p.payload.size();
  bool v4 = p.ip_version == 4;
  size_t ip = v4 ? 20 : 40;
  b.assign(ip, 0);
  if (v4) {
    b[0] = 0x45;
    store_be16(b.data() + 2, uint16_t(ip + l4));
    b[8] = 64;
    b[9] = p.protocol;
    std::memcpy(b.data() + 12, p.src + 12, 4);
    std::memcpy(b.data() + 16, p.dst + 12, 4);
  } else {
    b[0] = 0x60;
    store_be16(b.data() + 4, uint16_t(l4));
    b[6] = p.protocol;
    b[7] = 64;
    std::memcpy(b.data() + 8, p.src, 16);
    std::memcpy(b.data() + 24, p.dst, 16);
  }
  b.insert(b.end(), p.l4.begin(), p.l4.end());
  b.insert(b.end(), p.payload.begin(), p.payload.end());
  uint64_t ms = uint64_t(p.ts / 1'000'000);
  ndpi_protocol proto =
      ndpi_detection_process_packet(impl_->ndpi, f, b.data(), uint16_t(b.size()), ms);
  ++packets;
  uint32_t limit = p.protocol == kProtoTcp ? kMaxTcpPackets : kMaxUdpPackets;
  if (packets >= limit) return false;
  if (proto.app_protocol == NDPI_PROTOCOL_UNKNOWN) return true;
  return ndpi_extra_dissection_possible(impl_->ndpi, f) != 0;
}

void AppLabeler::finish(void* flow, FlowRecord& r, Arena& arena) {
  set_label(impl_->ndpi, r, final_protocol(impl_->ndpi, static_cast<ndpi_flow_struct*>(flow)),
            arena);
}

void AppLabeler::label(void* flow, Results& out) {
  char name[64];
  const char* category =
      names(impl_->ndpi, final_protocol(impl_->ndpi, static_cast<ndpi_flow_struct*>(flow)), name);
  out.set(FieldId::kAppLabel, std::string_view(name));
  if (category) out.set(FieldId::kAppCategory, std::string_view(category));
}

void AppLabeler::guess(FlowRecord& r, Arena& arena) {
  auto v4 = [](const IpAddress& a) { return a.is_v4() ? load_be32(a.v4_bytes()) : 0u; };
  ndpi_protocol proto = ndpi_guess_undetected_protocol(
      impl_->ndpi, nullptr, r.protocol, v4(r.src_ip), r.src_port, v4(r.dst_ip), r.dst_port);
  set_label(impl_->ndpi, r, proto, arena);
}

size_t AppLabeler::flow_bytes() const {
  return impl_->flow_size;
}

#else  // !FLOWKIT_HAVE_NDPI

struct AppLabeler::Impl {};
std::unique_ptr<AppLabeler> AppLabeler::create() {
  return nullptr;
}
AppLabeler::~AppLabeler() = default;
void* AppLabeler::new_flow() {
  return nullptr;
}
void AppLabeler::free_flow(void*) {}
bool AppLabeler::packet(void*, const Packet&, uint32_t&) {
  return false;
}
void AppLabeler::finish(void*, FlowRecord&, Arena&) {}
void AppLabeler::label(void*, Results&) {}
void AppLabeler::guess(FlowRecord&, Arena&) {}
size_t AppLabeler::flow_bytes() const {
  return 0;
}

#endif

}  // namespace flowkit::dissect
