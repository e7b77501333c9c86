#!/usr/bin/env bash
# The language benchmark: a script loop that builds and serializes N SYN packets
# (scripts/bench_build.tcs), beside scapy's Python loop doing the same; prints the ratio.
#   scripts/bench_lang.sh [N]        (default 1000000; scapy runs N/50 and is scaled)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/tcpcraft
ours=$("$bin" run scripts/bench_build.tcs "$n" rate | awk '/packets\/s/ {print $3}')
m=$(( n / 50 > 1000 ? n / 50 : 1000 ))
theirs=$(/usr/bin/python3 - "$m" <<'PY'
import sys, time
from scapy.all import IP, TCP
n = int(sys.argv[1]); total = 0
t0 = time.perf_counter()
for i in range(n):
    p = IP(dst="198.18.0.2") / TCP(sport=40000, dport=80, flags="S", seq=i)
    total += len(bytes(p))
print(f"{n / (time.perf_counter() - t0):.0f}")
PY
)
echo "tcpcraft script loop: $ours packets/s ($n packets)"
echo "scapy Python loop:    $theirs packets/s ($m packets)"
awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "ratio: %.0fx scapy\n", a / b }'
