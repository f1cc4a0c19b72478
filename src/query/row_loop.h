// For the loops that run over every row of every block a query reads. -O2 leaves loops of
// unknown length scalar, and x86-64's baseline (SSE2) has no 64-bit compare: g++ builds them at
// -O3 for AVX2 too, the version chosen when the program loads, where the CPU has it (the
// compound query of bench/query.sh: its filter's instructions 230 M where they were 858 M).
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define FLOWKIT_ROW_LOOP __attribute__((target_clones("default", "avx2"), optimize("O3")))
#else
#define FLOWKIT_ROW_LOOP
#endif
