#!/usr/bin/env bash
# Packet build and dissect rates, tcpcraft beside scapy in one run; prints ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
TCPCRAFT_BENCH_DEPS=1 scripts/deps.sh
out=$(cargo bench --bench packet 2>/dev/null)
echo "$out"
read -r scapy_build scapy_dissect < <(/usr/bin/python3 - <<'PY'
import time
from scapy.all import IP, TCP
opts = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)]
def rate(f, n):
    t = time.perf_counter()
    for i in range(n): f(i)
    return n / (time.perf_counter() - t)
b = rate(lambda i: bytes(IP(src="198.18.0.1", dst="198.18.0.2") / TCP(sport=40000, dport=80, flags="S", seq=i, window=64240, options=opts)), 20000)
raw = bytes(IP(src="198.18.0.1", dst="198.18.0.2") / TCP(sport=40000, dport=80, flags="S", seq=1000, window=64240, options=opts))
d = rate(lambda i: IP(raw), 20000)
print(f"{b:.0f} {d:.0f}")
PY
)
ours_build=$(awk '/build\+serialize/ {print $(NF-1)}' <<<"$out")
ours_dissect=$(awk '/dissect \(zero-copy/ {print $(NF-1)}' <<<"$out")
echo "scapy build+serialize: $scapy_build packets/s; scapy dissect: $scapy_dissect packets/s"
awk -v a="$ours_build" -v b="$scapy_build" -v c="$ours_dissect" -v d="$scapy_dissect" \
  'BEGIN { printf "ratio build: %.0fx scapy; ratio dissect: %.0fx scapy\n", a/b, c/d }'
