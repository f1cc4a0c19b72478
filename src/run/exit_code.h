// The process exit code of every flowkit command, from the Status its run ended with: one
// table, so that scripts can tell a typo from a full disk from lost records.
#pragma once

#include "core/result.h"

namespace flowkit::run {

// 0 success; 2 invalid arguments (usage errors, as CLI11's own); 3 the run finished but records
// were lost (an export that did not deliver); 1 anything else (I/O, corrupt input, not found,
// unreachable).
int exit_code(const Status& status);

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitDataLoss = 3;

}  // namespace flowkit::run
