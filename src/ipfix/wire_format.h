// The fixed numbers of the three export formats: IPFIX (RFC 7011), NetFlow v9 (RFC 3954) and
// NetFlow v5 (Cisco's layout). The encoder writes them and the decoder reads them.
#pragma once

#include <cstdint>

namespace flowkit::ipfix {

inline constexpr uint16_t kIpfixVersion = 10;
inline constexpr uint16_t kIpfixHeader = 16;
inline constexpr uint16_t kSetHeader = 4;  // set id, set length; IPFIX and v9 alike
inline constexpr uint16_t kTemplateSet = 2;
inline constexpr uint16_t kOptionsTemplateSet = 3;
inline constexpr uint16_t kFirstTemplateId = 256;  // set and template ids from here on carry data

inline constexpr uint16_t kV9Version = 9;
inline constexpr uint16_t kV9Header = 20;
inline constexpr uint16_t kV9TemplateSet = 0;
inline constexpr uint16_t kV9OptionsTemplateSet = 1;

inline constexpr uint16_t kV5Version = 5;
inline constexpr uint16_t kV5Header = 24;
inline constexpr uint16_t kV5Record = 48;

}  // namespace flowkit::ipfix
