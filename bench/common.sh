# Sourced by the whole-run benchmarks.

# ndpi_capture FLOWKIT DIR COPIES: prints the path of DIR/ndpi_xCOPIES.pcap, every nDPI capture of
# ../shared/pcaps/ndpi-4.2 replicated COPIES times with shifted addresses (`flowkit gen
# --replicate`, seed 7), writing it first when it is not there.
ndpi_capture() {
  local fk=$1 dir=$2 copies=$3 shared=../shared/pcaps/ndpi-4.2
  local pcap=$dir/ndpi_x${copies}.pcap
  [[ -d $shared ]] || { echo "$shared not found: the benchmark replicates the shared captures" >&2; return 1; }
  mkdir -p "$dir"
  if [[ ! -s $pcap ]]; then
    local inputs=() f
    for f in "$shared"/*.pcap "$shared"/*.pcapng "$shared"/*.cap; do
      [[ -e $f ]] && inputs+=(--replicate "$f")
    done
    echo "writing $pcap ($copies copies of ${#inputs[@]} nDPI captures)..." >&2
    "$fk" gen -w "$pcap" "${inputs[@]}" --copies "$copies" --seed 7 -q >&2
  fi
  echo "$pcap"
}
