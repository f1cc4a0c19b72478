// libFuzzer target for the store's file reader: the input is a whole .fk file. Every block that
// opens is read and turned into records, as `flowkit store cat` does, and read again as a
// filtered query reads it: one column first, then the others decoded for every other row.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "store/file_reader.h"
#include "store/format.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  flowkit::store::fuzzing_accepts_any_checksum = true;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static int fd = memfd_create("store_fuzz", 0);
  if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != ssize_t(size)) return 0;
  auto r = flowkit::store::FileReader::open("/proc/self/fd/" + std::to_string(fd));
  if (!r.ok()) return 0;
  flowkit::store::Block block;
  std::vector<flowkit::FlowRecord> records;
  for (size_t i = 0; i < r->blocks().size(); ++i) {
    if (!r->read_block(i, {}, block).ok()) continue;
    uint64_t dropped = 0;
    records.clear();
    block.to_records(records, &dropped);
    static const flowkit::Column first[] = {flowkit::column(flowkit::FieldId::kProtocol)};
    if (!r->read_block(i, first, block).ok()) continue;
    std::vector<uint8_t> mask(block.rows);
    for (size_t k = 0; k < mask.size(); k += 2) mask[k] = 1;
    if (!r->read_more(i, flowkit::all_columns(), block, mask).ok()) continue;
    records.clear();
    block.to_records(records, &dropped, mask);
  }
  return 0;
}
