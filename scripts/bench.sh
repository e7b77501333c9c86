#!/usr/bin/env bash
# Every benchmark, side by side with the peers in one run, each printing its ratios:
#   packet build/dissect vs scapy, the language loop vs scapy, sr1/sr/send vs scapy and
#   hping3, the full-port SYN scan vs nmap. Needs root (the test bed) and installs the
#   peers (nmap, hping3, python3-scapy) when missing. Figures are for notes and the README,
#   never for timed tests.
set -euo pipefail
cd "$(dirname "$0")/.."
TCPCRAFT_BENCH_DEPS=1 scripts/deps.sh
cargo build --release --quiet
for b in packet lang net scan; do
  if [ -x "scripts/bench_$b.sh" ]; then
    echo "=== $b"
    "scripts/bench_$b.sh"
  fi
done
