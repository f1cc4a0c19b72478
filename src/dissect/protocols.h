// The dissectors of each protocol, and what their parsers share. Internal to src/dissect.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dissect/dissect.h"

namespace flowkit::dissect {

// The enabled dissectors, in the order they get to claim a flow.
void add_dissectors(uint32_t protocols, std::vector<std::unique_ptr<Dissector>>& out);

std::unique_ptr<Dissector> make_dns();
std::unique_ptr<Dissector> make_tls();
std::unique_ptr<Dissector> make_dtls();  // part of kTls
std::unique_ptr<Dissector> make_http();
std::unique_ptr<Dissector> make_ssh();
std::unique_ptr<Dissector> make_openvpn();
std::unique_ptr<Dissector> make_wireguard();
std::unique_ptr<Dissector> make_quic();

// A QUIC Initial's handshake message (CRYPTO frames joined) that should be a ClientHello: its
// fields into `out`. False when it is not one, or not whole yet.
bool read_client_hello(std::span<const uint8_t> handshake, Results& out);

// Reads big-endian values without running past the end: a read that would fails the reader,
// returns zeros, and so does every read after it. Parsers check ok() once, at the end.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> b) : b_(b) {}
  bool ok() const { return ok_; }
  size_t left() const { return ok_ ? b_.size() - at_ : 0; }
  size_t pos() const { return at_; }
  uint8_t u8() { return uint8_t(take(1)); }
  uint16_t u16() { return uint16_t(take(2)); }
  uint32_t u24() { return uint32_t(take(3)); }
  uint32_t u32() { return uint32_t(take(4)); }
  std::span<const uint8_t> bytes(size_t n) {
    if (!need(n)) return {};
    auto s = b_.subspan(at_, n);
    at_ += n;
    return s;
  }
  Reader sub(size_t n) { return Reader(bytes(n)); }
  void skip(size_t n) { bytes(n); }

 private:
  bool need(size_t n) {
    if (ok_ && n <= b_.size() - at_) return true;
    ok_ = false;
    return false;
  }
  uint64_t take(size_t n) {
    if (!need(n)) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = v << 8 | b_[at_ + i];
    at_ += n;
    return v;
  }
  std::span<const uint8_t> b_;
  size_t at_ = 0;
  bool ok_ = true;
};

inline std::string_view as_text(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Hex digits of the bytes, lower case.
std::string to_hex(std::span<const uint8_t> b);

}  // namespace flowkit::dissect
