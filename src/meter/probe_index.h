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

// The first empty entry of the run that starts at `hash`'s home: where a new entry goes.
inline size_t probe_empty(const IndexEntry* index, size_t mask, uint32_t hash) {
  size_t i = hash & mask;
  while (index[i].id != 0) i = (i + 1) & mask;
  return i;
}

// The entry that holds `id`, whose hash is `hash`. REQUIRES: it is in the index.
inline size_t probe_find_id(const IndexEntry* index, size_t mask, uint32_t hash, uint32_t id) {
  size_t i = hash & mask;
  while (index[i].id != id) i = (i + 1) & mask;
  return i;
}

// Places every entry of `old` (`old_size` entries) in `index`, which is empty and larger.
inline void probe_rehash(const IndexEntry* old, size_t old_size, IndexEntry* index, size_t mask) {
  for (size_t k = 0; k < old_size; ++k)
    if (old[k].id != 0) index[probe_empty(index, mask, old[k].hash32)] = old[k];
}

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
