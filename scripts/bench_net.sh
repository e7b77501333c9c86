#!/usr/bin/env bash
# Engine benchmarks on the test bed, side by side with the peers in the same run:
#   1. one probe's round trip: median wall time of sr1() over 20 SYNs, tcpcraft vs scapy
#   2. sr() of 4,096 SYNs to one host: answers and time, tcpcraft vs scapy
#   3. send rate: packets per second counted at the peer (an nftables counter in the
#      server namespace), tcpcraft send(p, count=N) vs hping3 --flood
# Needs root, a release build (cargo build --release), python3-scapy and hping3.
# Only the test bed's addresses are used (198.18.0.0/15).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${TCPCRAFT:-${CARGO_TARGET_DIR:-target}/release/tcpcraft}
ID=bench$$
C=tcpc-$ID-c S=tcpc-$ID-s
PY=/usr/bin/python3
[ -x "$BIN" ] || { echo "build first: cargo build --release ($BIN missing)" >&2; exit 1; }
cleanup() { scripts/testbed.sh down "$ID" >/dev/null 2>&1 || true; }
trap cleanup EXIT INT TERM
scripts/testbed.sh up "$ID" --listen "http:80 echo:7 uecho:7" >/dev/null
inc() { ip netns exec "$C" "$@"; }

echo "== 1. sr1 round trip (median of 20 SYNs to port 80)"
T_SR1=$(inc "$BIN" -q -c '
rtts = []
for i in 1..=20 {
  t0 = now()
  r = sr1(IP(dst="198.18.0.2")/TCP(dport=80, flags="S"), timeout=1)
  assert r != none, "no answer"
  rtts.append(now() - t0)
}
print(median(rtts) * 1000)')
S_SR1=$(inc $PY - <<'PYEOF' 2>/dev/null
import time, statistics
from scapy.all import IP, TCP, sr1, conf
conf.verb = 0
ts = []
for i in range(20):
    t = time.perf_counter()
    r = sr1(IP(dst="198.18.0.2")/TCP(dport=80, flags="S"), timeout=1)
    ts.append(time.perf_counter() - t)
print(statistics.median(ts) * 1000)
PYEOF
)
printf "tcpcraft sr1 median: %.3f ms\nscapy    sr1 median: %.3f ms\nratio: %.0fx faster\n" \
  "$T_SR1" "$S_SR1" "$(echo "$S_SR1 / $T_SR1" | bc -l)"

echo "== 2. sr of 4,096 SYNs (ports 1-4096, closed or open: every one is answered)"
T_SR=$(inc "$BIN" -q -c '
ps = []
for p in 1..=4096 { ps.append(IP(dst="198.18.0.2")/TCP(sport=40000, dport=p, flags="S")) }
t0 = now()
ans = sr(ps, timeout=2)
print(len(ans.answered), (now() - t0) * 1000)')
S_SR=$(inc $PY - <<'PYEOF' 2>/dev/null
import time
from scapy.all import IP, TCP, sr, conf
conf.verb = 0
t = time.perf_counter()
ans, unans = sr(IP(dst="198.18.0.2")/TCP(sport=40000, dport=(1, 4096), flags="S"), timeout=2)
print(len(ans), (time.perf_counter() - t) * 1000)
PYEOF
)
read -r TA TT <<<"$T_SR"; read -r SA ST <<<"$S_SR"
printf "tcpcraft sr: %d of 4096 answered in %.0f ms\nscapy    sr: %d of 4096 answered in %.0f ms\n" "$TA" "$TT" "$SA" "$ST"

echo "== 3. send(list) rate received at the peer (1,000 SYNs × N/1000 to port 9999, counted then dropped by nft)"
ip netns exec "$S" nft -f - <<'NFT'
table inet tcpcraft_bench {
  counter hits { }
  chain input { type filter hook input priority -10; policy accept;
    tcp dport 9999 counter name hits drop
  }
}
NFT
hits() { ip netns exec "$S" nft -j list counter inet tcpcraft_bench hits | $PY -c 'import json,sys; d=json.load(sys.stdin); print([x["counter"]["packets"] for x in d["nftables"] if "counter" in x][0])'; }
reset() { ip netns exec "$S" nft reset counter inet tcpcraft_bench hits >/dev/null; }
N=${BENCH_SEND_N:-1000000}
reset
T_SEND=$(inc "$BIN" -q -c "
pkts = []
for i in 1..=1000 { pkts.append(IP(dst=\"198.18.0.2\")/TCP(sport=20000 + i, dport=9999, flags=\"S\")) }
t0 = now()
send(pkts, count=$((N / 1000)))
print(now() - t0)")
T_HITS=$(hits)
T_PPS=$(echo "$T_HITS / $T_SEND" | bc -l)
reset
DUR=${BENCH_HPING_SECONDS:-3}
inc timeout "$DUR" hping3 --flood -q -S -p 9999 198.18.0.2 >/dev/null 2>&1 || true
H_HITS=$(hits)
H_PPS=$(echo "$H_HITS / $DUR" | bc -l)
printf "tcpcraft send: %d received in %.3f s = %.0f pps\nhping3 --flood: %d received in %d s = %.0f pps\nratio: %.2fx\n" \
  "$T_HITS" "$T_SEND" "$T_PPS" "$H_HITS" "$DUR" "$H_PPS" "$(echo "$T_PPS / $H_PPS" | bc -l)"
