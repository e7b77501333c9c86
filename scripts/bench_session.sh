#!/usr/bin/env bash
# Scripted sessions at engine speed, side by side with scapy in one run on the test bed:
#   N hand-driven connection openings to the server's port 80, each
#   session → SYN → expect SYN-ACK → RST, in a tcpcraft script, against scapy's
#   equivalent loop (sr1 of the SYN, then send of the RST), and the lab's own figure
#   (tcpcraft lab run: the same loop while the server kernel's state is read after every
#   step through sock_diag).
# Needs root, a release build (cargo build --release) and python3-scapy
# (TCPCRAFT_BENCH_DEPS=1 scripts/deps.sh installs it). Only the test bed's addresses
# are used (198.18.0.0/15).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${TCPCRAFT:-${CARGO_TARGET_DIR:-target}/release/tcpcraft}
N=${BENCH_SESSIONS:-500}
ID=bses$$
C=tcpc-$ID-c
PY=/usr/bin/python3
[ -x "$BIN" ] || { echo "build first: cargo build --release ($BIN missing)" >&2; exit 1; }
cleanup() { scripts/testbed.sh down "$ID" >/dev/null 2>&1 || true; }
trap cleanup EXIT INT TERM
scripts/testbed.sh up "$ID" --listen "http:80" >/dev/null
inc() { ip netns exec "$C" "$@"; }

LOOP='
n = int(args[0])
dst = args[1]
t0 = now()
for i in 1..=n {
  s = session(dst, 80)
  s.send("S")
  s.expect("SA")
  s.send("R")
}
print((now() - t0) * 1000 / n)'

echo "== $N sessions: SYN, expect SYN-ACK, RST"
T=$(inc "$BIN" -q -c "$LOOP" "$N" 198.18.0.2)
S=$(inc $PY - "$N" <<'PYEOF' 2>/dev/null
import sys, time, random
from scapy.all import IP, TCP, sr1, send, conf
conf.verb = 0
n = int(sys.argv[1])
t = time.perf_counter()
for i in range(n):
    sport = random.randint(61000, 65000)
    r = sr1(IP(dst="198.18.0.2")/TCP(sport=sport, dport=80, flags="S", seq=1000), timeout=1)
    assert r is not None, "no SYN-ACK"
    send(IP(dst="198.18.0.2")/TCP(sport=sport, dport=80, flags="R", seq=1001))
print((time.perf_counter() - t) * 1000 / n)
PYEOF
)
printf "tcpcraft: %.3f ms a session\nscapy:    %.3f ms a session (sr1 + send)\nratio:    %.0fx\n" \
  "$T" "$S" "$(echo "$S / $T" | bc -l)"

echo "== the same loop in the lab (the server kernel's state read after every step)"
F=$(mktemp --suffix=.tcs)
printf '%s\n' "$LOOP" >"$F"
L=$("$BIN" -q lab run "$F" "$N" 198.18.0.2 | tail -1)
rm -f "$F"
printf "tcpcraft lab: %.3f ms a session\n" "$L"
