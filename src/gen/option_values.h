// Parsers for `flowkit gen` option values, kept here so they are tested with the module.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/result.h"
#include "core/timestamp.h"
#include "gen/traffic_generator.h"

namespace flowkit::gen {

// A count such as "100000", "1e6", "2.5e5", "250k", "2M", "1G" (powers of 1000) or "512Mi",
// "2Gi" (powers of 1024). The value must be a whole number.
std::optional<uint64_t> parse_count(std::string_view text);

// A UTC instant: "2024-01-15T09:00:00Z", "2024-01-15 09:00:00.25", "2024-01-15", with an
// optional "Z" or "+HH:MM"/"-HH:MM" offset, or UNIX seconds ("1705309200", "1705309200.5").
std::optional<Timestamp> parse_time(std::string_view text);

// Session weights as "kind=weight,...", e.g. "dns=50,tls=30,icmp=0"; kinds not named keep
// their weight from `base`. Kind names are those of session_kind_name().
Result<std::array<double, kSessionKinds>> parse_mix(std::string_view text,
                                                    const std::array<double, kSessionKinds>& base);

}  // namespace flowkit::gen
