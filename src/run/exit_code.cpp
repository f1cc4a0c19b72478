#include "run/exit_code.h"

namespace flowkit::run {

int exit_code(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kInvalidArgument:
      return kExitUsage;
    case StatusCode::kDataLoss:
      return kExitDataLoss;
    case StatusCode::kFailed:
    case StatusCode::kIoError:
    case StatusCode::kCorruption:
    case StatusCode::kNotFound:
    case StatusCode::kUnavailable:
      return kExitFailed;
  }
  return kExitFailed;
}

}  // namespace flowkit::run
