#!/usr/bin/env bash
# Banners at scan speed: tcpcraft scan --banners against masscan --banners, side by side
# in one run on the test bed.
#
#   sudo scripts/bench_banners.sh [RUNS] ["MASSCAN_RATE ..."]
#
# 198.19.0.0/16 is routed into the server namespace as local addresses, where one nginx
# answers HTTP on port 80 for all 65,536 of them (return 200 "hello from nginx\n").
# Each run scans the /16 on port 80 with banners, first with tcpcraft (release build,
# default settings), then with masscan (-e tc0, the server's MAC as router, its own
# source port 61000 with an nftables rule in the client namespace that drops what comes
# back to that port before the kernel answers it with a RST, as masscan's documentation
# says; --wait 3; once per rate given, default "100000 20000": masscan's banners
# suffer at its higher rates). Completeness is the number of
# hosts whose banner is nginx's answer; the rate is those hosts per second of the whole
# run (start-up, sending, reading and waits included). Figures are printed as ratios.
# Nothing is sent outside the test-bed namespaces.
set -euo pipefail

RUNS=${1:-3}
MRATES=${2:-100000 20000}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BIN=${TCPCRAFT_BIN:-$ROOT/target/release/tcpcraft}
ID=bnb
C=tcpc-$ID-c
S=tcpc-$ID-s
TMP=$(mktemp -d /tmp/tcpcraft-bench-banners.XXXXXX)
[ -n "${KEEP:-}" ] && echo "keeping $TMP" >&2

[ "$(id -u)" = 0 ] || { echo "needs root (namespaces)" >&2; exit 1; }
for p in masscan nginx nft; do
    command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] || { echo "needs $p (TCPCRAFT_BENCH_DEPS=1 scripts/deps.sh)" >&2; exit 1; }
done
[ -x "$BIN" ] || (cd "$ROOT" && cargo build --release -q)

cleanup() {
    [ -f "$TMP/nginx.pid" ] && kill "$(cat "$TMP/nginx.pid")" 2>/dev/null || true
    "$HERE/testbed.sh" down "$ID" >/dev/null 2>&1 || true
    [ -n "${KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

"$HERE/testbed.sh" up "$ID" --listen "echo:7" >/dev/null
ip netns exec "$S" sh -c '
    ip route add local 198.19.0.0/16 dev lo
    nft delete table netdev tcpcraft_silent 2>/dev/null || true
    sysctl -qw net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535'
mkdir -p "$TMP/logs"
cat >"$TMP/nginx.conf" <<EOF
worker_processes 2;
pid $TMP/nginx.pid;
error_log $TMP/logs/error.log;
daemon on;
events { worker_connections 65536; multi_accept on; }
worker_rlimit_nofile 200000;
http {
  access_log off;
  server {
    listen 80 backlog=65535 reuseport;
    location / { return 200 "hello from nginx\n"; }
  }
}
EOF
ip netns exec "$S" nginx -c "$TMP/nginx.conf" -p "$TMP"
for _ in $(seq 100); do
    ip netns exec "$S" ss -Htln 'sport = :80' | grep -q . && break
    sleep 0.05
done
MAC=$(ip -n "$S" -o link show tc0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
# masscan's own source port: the client kernel must not see what comes back to it.
ip netns exec "$C" nft -f - <<'EOF'
table inet masscan_bench {
  chain input { type filter hook input priority -300; policy accept; tcp dport 61000 drop; }
}
EOF

now() { date +%s.%N; }
printf '%-4s %10s %10s %8s %12s %10s %10s %8s\n' run tcp_s tcp_hosts tcp_MB mass_rate mass_s mass_hosts ratio
for r in $(seq "$RUNS"); do
    t0=$(now)
    /usr/bin/time -f "%M" -o "$TMP/rss" ip netns exec "$C" "$BIN" scan 198.19.0.0/16 -p 80 --banners --json -q -v ${TCPCRAFT_ARGS:-} \
        >"$TMP/t.json" 2>"$TMP/t.err"
    t1=$(now)
    th=$(grep -cF 'hello from nginx\\n"' "$TMP/t.json" || true)
    tsec=$(echo "$t1 - $t0" | bc -l)
    rss=$(( $(cat "$TMP/rss") / 1024 ))
    grep -E 'banners:|probes,' "$TMP/t.err" | sed 's/^tcpcraft: /     tcpcraft: /'
    for MRATE in $MRATES; do
        t0=$(now)
        ip netns exec "$C" masscan 198.19.0.0/16 -p80 --banners -e tc0 --adapter-ip 198.18.0.1 \
            --adapter-port 61000 --router-mac "$MAC" --rate "$MRATE" --wait 3 -oL "$TMP/m.txt" \
            >"$TMP/m.out" 2>&1 || true
        t1=$(now)
        mh=$( (grep '^banner tcp 80 ' "$TMP/m.txt" || true) | grep '200 OK' | awk '{print $4}' | sort -u | wc -l)
        msec=$(echo "$t1 - $t0" | bc -l)
        ratio=$(echo "($th / $tsec) / ($mh / $msec)" | bc -l 2>/dev/null || echo 0)
        printf '%-4s %10.2f %10d %8d %12d %10.2f %10d %7.1fx\n' "$r" "$tsec" "$th" "$rss" "$MRATE" "$msec" "$mh" "$ratio"
    done
done
echo "tcp_s/mass_s: whole runs in seconds; *_hosts: hosts whose banner is nginx's answer (of 65,536);"
echo "tcp_MB: tcpcraft's peak RSS. ratio: tcpcraft's banners per second over masscan's (whole runs)."
