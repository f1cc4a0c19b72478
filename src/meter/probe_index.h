// The open-addressing index that the flow table and the fragment tracker find their entries by:
// a power-of-two array of (hash, id) pairs, linear probing, id 0 for an empty entry.
#pragma once

#include <cstddef>
#include <cstdint>

namespace flowkit::meter {

struct IndexEntry {
  uint32_t hash32;
  uint32_t id;  // 0: empty
};

// Empties entry `i` by backward-shift deletion: later entries of its run move up, so that every
// remaining entry stays reachable from its home entry without tombstones.
inline void probe_erase(IndexEntry* index, size_t mask, size_t i) {
  size_t hole = i;
  for (size_t j = (hole + 1) & mask; index[j].id != 0; j = (j + 1) & mask) {
    size_t home = index[j].hash32 & mask;
    // Move j into the hole unless its home lies cyclically in (hole, j].
    bool home_between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!home_between) {
      index[hole] = index[j];
      hole = j;
    }
  }
  index[hole] = IndexEntry{0, 0};
}

}  // namespace flowkit::meter
