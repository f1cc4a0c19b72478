// `flowkit collect` after its options are parsed: NetFlow v5/v9 and IPFIX from UDP/TCP listeners
// or IPFIX files (RFC 5655) through the collector into the run's outputs, driven by the shared
// run loop.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "collect/collector.h"
#include "collect/listen_address.h"
#include "collect/receiver.h"
#include "run/outputs.h"
#include "run/run_loop.h"

namespace flowkit::run {

struct CollectConfig {
  std::vector<collect::ListenAddress> listen;  // -l
  std::vector<std::string> files;              // -r: IPFIX files instead of listening
  collect::CollectorOptions collector;
  collect::ReceiverOptions receiver;
  unsigned receivers = 1;  // receive threads (sockets) per UDP address, SO_REUSEPORT beyond 1
  // Received, not yet decoded: a burst of a million NetFlow v9 records (about 120 MB) fits.
  size_t queue_bytes = size_t(128) << 20;
  OutputOptions output;
  int64_t max_age_ns = 0;  // store expiry, 0: none
  uint64_t max_bytes = 0;
  std::string user;  // drop to this user once the sockets are bound
  LoopOptions loop;
};

int run_collect(CollectConfig config);

}  // namespace flowkit::run
