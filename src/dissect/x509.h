// The few fields of an X.509 certificate (RFC 5280) that flows carry: subject and issuer common
// names, validity, and the public key's algorithm. Read straight from the DER, without building
// the certificate: OpenSSL's parser costs a global lock and dozens of allocations per call.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace flowkit::dissect {

struct CertificateFields {
  std::string subject_cn, issuer_cn;  // UTF-8; empty when the name has no CN
  std::string key_algorithm;          // OpenSSL's long name (rsaEncryption), else the dotted OID
  uint64_t not_before = 0, not_after = 0;  // seconds since 1970
  bool has_validity = false;
};

// False when `der` is not a certificate this can read; what was read before stays in `out`.
bool read_x509(std::span<const uint8_t> der, CertificateFields& out);

}  // namespace flowkit::dissect
