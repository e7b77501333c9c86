#!/usr/bin/env bash
# `tcpcraft decode` beside `tcpdump -n -t -S -r` on a capture of 1.2 million packets
# (scripts/gen_decode_bench.py): wall and user time of each, the ratio, and whether
# the two outputs are byte-identical.
#   scripts/bench_decode.sh [PACKETS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1200000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cargo build --release --quiet
/usr/bin/python3 scripts/gen_decode_bench.py "$n" "$dir/big.pcap" 2>/dev/null
best() { # best of three wall times, in seconds
  local b=999
  for _ in 1 2 3; do
    local s e
    s=$(date +%s.%N); "$@" > "$dir/out" 2>/dev/null; e=$(date +%s.%N)
    b=$(echo "$e - $s" | bc -l | awk -v b="$b" '{ print ($1 < b) ? $1 : b }')
  done
  echo "$b"
}
td=$(best tcpdump -n -t -S -r "$dir/big.pcap"); cp "$dir/out" "$dir/tcpdump.txt"
tc=$(best target/release/tcpcraft decode "$dir/big.pcap"); cp "$dir/out" "$dir/tcpcraft.txt"
if cmp -s "$dir/tcpdump.txt" "$dir/tcpcraft.txt"; then same=identical; else same=DIFFERENT; fi
printf 'packets %s: tcpdump %.2f s, tcpcraft %.2f s, tcpcraft is %.2fx tcpdump; output %s\n' \
  "$n" "$td" "$tc" "$(echo "$td / $tc" | bc -l)" "$same"
