#!/usr/bin/env bash
# Builds flowkit and runs the whole test suite: unit tests, the shared suites (CESNET FlowTest,
# flowRecorder), conservation against tshark on every shared capture, interop with nfcapd,
# tshark and ipfixDump, live capture in network namespaces; then the unit and suite tests again
# under AddressSanitizer + UndefinedBehaviorSanitizer (every shared capture metered, written and
# exported in one process); the meter's tests under ThreadSanitizer; then each libFuzzer target
# for a short while. Tests that need
# ../shared skip when it is absent.
#   FLOWKIT_FUZZ_SECONDS=N   seconds per fuzz target (default 10; 0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
# The GeoIP test compares with these databases; without them (no registry) it skips.
./scripts/fetch_geoip.sh || echo "test: no GeoIP databases, dissect.geoip will skip" >&2
jobs=${JOBS:-2}
# Each phase names the seconds since the start, so that the 30-minute budget can be watched.
start=$SECONDS
phase() { echo "== [$((SECONDS - start)) s] $*"; }
# Line tables only (-g1): failures and sanitizer reports still name file and line, and the
# compiler spends a quarter less time than on full debug information.
release_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG")

phase "release build and tests"
cmake -S . -B build -G Ninja "${release_flags[@]}" >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build -j"$jobs" --output-on-failure

phase "ASan+UBSan build and tests"
# clang: it builds this tree in 290 s where g++ takes 450, its sanitizers check the same, and the
# same tree (instrumented for coverage too) holds the libFuzzer targets run at the end.
CC=clang CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DFLOWKIT_SANITIZE=ON -DFLOWKIT_FUZZ=ON -DFLOWKIT_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan -j"$jobs" --output-on-failure -LE release-only

phase "ThreadSanitizer: the meter's reading thread (meter/pipeline.h), the store's writer thread,"
echo "   the collector's receive threads and queue"
cmake -S . -B build-tsan -G Ninja "${release_flags[@]}" -DFLOWKIT_BENCH=OFF \
  -DCMAKE_CXX_FLAGS=-fsanitize=thread -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread >/dev/null
cmake --build build-tsan -j"$jobs" --target meter_test store_test collect_test
TSAN_OPTIONS=halt_on_error=1 build-tsan/src/meter/meter_test --gtest_brief=1
# The store's writer thread: the tests that write through it (not the one that forks a writer
# to kill it: TSan forbids threads after a fork; not the single-threaded readers, which take
# minutes under TSan).
writer_tests=Store.EveryField*:Store.ManyBlocks*:StoreFaults.AFullDisk*
writer_tests+=:StoreFaults.ADiskThatStays*:StoreFaults.ReadersWhileAWriterAppends
TSAN_OPTIONS=halt_on_error=1 build-tsan/src/store/store_test --gtest_brief=1 \
  --gtest_filter="$writer_tests"
TSAN_OPTIONS=halt_on_error=1 build-tsan/src/collect/collect_test --gtest_brief=1

fuzz_seconds=${FLOWKIT_FUZZ_SECONDS:-10}
if [[ $fuzz_seconds -gt 0 ]]; then
  phase "libFuzzer targets, ${fuzz_seconds}s each"
  corpus=build-asan/corpus
  rm -rf "$corpus" && mkdir -p "$corpus"/{decoder,meter,ipfix,pcap,store,filter,dissect}
  cp src/store/testdata/*.fk "$corpus/store/"
  # Filters: the agreement test's, one per file.
  /usr/bin/python3 -c 'import ast, sys
src = open("tests/query_nfdump.py").read()
tree = ast.parse(src)
for node in tree.body:
    if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "FILTERS":
        for i, f in enumerate(ast.literal_eval(node.value)):
            open(f"{sys.argv[1]}/{i}", "w").write(f)' "$corpus/filter"
  if [[ -d ../shared/flowtest/pcaps ]]; then
    tests/fuzz/make_corpus.py "$corpus/decoder" ../shared/flowtest/pcaps ../shared/flowrecorder/pcaps
    cp ../shared/flowrecorder/pcaps/*.pcap "$corpus/pcap/"
    tests/fuzz/make_corpus.py --flows "$corpus/dissect" ../shared/flowtest/pcaps \
      ../shared/pcaps/ndpi-4.2
    # Real exports: softflowd's and a Fritz!Box's captured, flowkit's own, nfreplay's.
    seeds=build-asan/seeds && rm -rf "$seeds" && mkdir -p "$seeds/nfcapd"
    build/apps/flowkit/flowkit meter -r ../shared/pcaps/ndpi-4.2/pinterest.pcap -o none -q \
      --export file:"$seeds/own.ipfix" --export-time ns
    nfpcapd -r ../shared/pcaps/ndpi-4.2/pinterest.pcap -w "$seeds/nfcapd" >/dev/null 2>&1 || true
    nfcapd_file=$(ls "$seeds"/nfcapd/nfcapd.2* 2>/dev/null | head -1)
    tests/fuzz/make_corpus.py --exports "$corpus/ipfix" ${nfcapd_file:+--nfreplay "$nfcapd_file"} \
      ../shared/pcaps/generated/softflowd_exports.pcap ../shared/pcaps/ndpi-4.2/netflow-fritz.pcap \
      ../shared/pcaps/ndpi-4.2/netflowv9.pcap "$seeds/own.ipfix"
  fi
  for t in decoder:decoder_fuzz meter:meter_fuzz ipfix:ipfix_decoder_fuzz pcap:pcap_reader_fuzz \
    store:store_reader_fuzz filter:filter_fuzz dissect:dissect_fuzz; do
    echo "-- ${t#*:}"
    out=$(build-asan/tests/fuzz/${t#*:} "$corpus/${t%%:*}" -max_total_time="$fuzz_seconds" \
      -max_len=4096 -print_final_stats=1 2>&1 || true)
    grep -E "stat::number_of_executed_units|ERROR|SUMMARY|runtime error" <<<"$out" || true
    # A crash leaves a crash-* file and a non-zero status; undefined behaviour only a report.
    if compgen -G "crash-*" >/dev/null || compgen -G "leak-*" >/dev/null ||
      compgen -G "timeout-*" >/dev/null; then
      echo "fuzzer found a crash: $(ls crash-* leak-* timeout-* 2>/dev/null)" >&2
      exit 1
    fi
    if grep -q "runtime error" <<<"$out"; then echo "fuzzer found undefined behaviour" >&2; exit 1; fi
  done
fi
phase "all tests passed"
