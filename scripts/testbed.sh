#!/bin/sh
# tcpcraft test bed: a client and a server network namespace joined by a veth pair.
#
#   scripts/testbed.sh up [ID] [--loss N] [--drop PORTS] [--reject PORTS] [--listen SPECS]
#   scripts/testbed.sh down [ID|all]
#   scripts/testbed.sh status
#
# Names are tagged: namespaces tcpc-ID-c (client) and tcpc-ID-s (server); ID defaults to "bed".
# Addresses (never anything else): client 198.18.0.1/24 and 2001:db8:198:18::1/64,
# server 198.18.0.2/24 and 2001:db8:198:18::2/64; 198.19.0.0/16 is routed from the client
# into the server namespace, where nothing answers (for large scans of silent hosts; with
# nftables there, they are dropped on arrival).
# The server runs real kernel listeners (scripts/testbed_server.py): TCP 80 HTTP, TCP 7
# echo, UDP 7 echo (change with --listen "http:80 echo:7 uecho:7 open:22"). Faults are
# nftables rules in the server namespace: --drop 8443 (silently dropped, "filtered"),
# --reject 81,82 (answered with ICMP admin-prohibited), --loss 10 (random loss each way).
# `up` is idempotent: an existing bed with the same ID is removed first.
# Run commands inside with: ip netns exec tcpc-ID-c tcpcraft ...
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
RUN=/run/tcpcraft

die() { echo "testbed: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces): run with sudo"
command -v ip >/dev/null || die "needs iproute2 (apt-get install -y iproute2)"

down_one() {
    id=$1
    if [ -f "$RUN/$id/server.pid" ]; then
        pid=$(cat "$RUN/$id/server.pid")
        # Only our server: the pid may have been reused since.
        if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q testbed_server.py; then
            kill "$pid" 2>/dev/null || true
        fi
    fi
    ip netns del "tcpc-$id-c" 2>/dev/null || true
    ip netns del "tcpc-$id-s" 2>/dev/null || true
    rm -rf "${RUN:?}/$id"
}

up() {
    id=bed loss=0 drop="" reject="" listen="http:80 echo:7 uecho:7"
    if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then id=$1; shift; fi
    while [ $# -gt 0 ]; do
        case $1 in
            --loss) loss=$2; shift 2 ;;
            --drop) drop=$2; shift 2 ;;
            --reject) reject=$2; shift 2 ;;
            --listen) listen=$2; shift 2 ;;
            *) die "unknown option $1" ;;
        esac
    done
    case $id in *[!a-z0-9]*|"") die "ID must be lower-case letters and digits" ;; esac
    C="tcpc-$id-c" S="tcpc-$id-s"
    down_one "$id"
    mkdir -p "$RUN/$id"
    ip netns add "$C"
    ip netns add "$S"
    ip link add tc0 netns "$C" type veth peer name tc0 netns "$S"
    for ns in "$C" "$S"; do
        ip -n "$ns" link set lo up
        ip -n "$ns" link set tc0 up
        ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 \
            net.ipv4.icmp_msgs_per_sec=1000000
    done
    ip -n "$C" addr add 198.18.0.1/24 dev tc0
    ip -n "$S" addr add 198.18.0.2/24 dev tc0
    ip -n "$C" addr add 2001:db8:198:18::1/64 dev tc0 nodad
    ip -n "$S" addr add 2001:db8:198:18::2/64 dev tc0 nodad
    ip -n "$C" route add 198.19.0.0/16 via 198.18.0.2
    # Silent hosts: dropped on arrival (netdev ingress), so that a large scan of them
    # measures the sender, not the server kernel routing packets it cannot deliver.
    if command -v nft >/dev/null 2>&1; then
        echo "table netdev tcpcraft_silent { chain in { type filter hook ingress device tc0 priority -500; policy accept; ip daddr 198.19.0.0/16 drop; }; }" \
            | ip netns exec "$S" nft -f - || die "nft failed (apt-get install -y nftables)"
    fi
    if [ -n "$drop$reject" ] || [ "$loss" != 0 ]; then
        {
            echo "table inet tcpcraft_faults {"
            echo "  chain input { type filter hook input priority 0; policy accept;"
            [ "$loss" != 0 ] && echo "    numgen random mod 100 < $loss drop"
            [ -n "$drop" ] && echo "    meta l4proto { tcp, udp } th dport { $drop } drop"
            [ -n "$reject" ] && echo "    meta l4proto { tcp, udp } th dport { $reject } reject with icmpx type admin-prohibited"
            echo "  }"
            echo "  chain output { type filter hook output priority 0; policy accept;"
            [ "$loss" != 0 ] && echo "    numgen random mod 100 < $loss drop"
            echo "  }"
            echo "}"
        } | ip netns exec "$S" nft -f - || die "nft failed (apt-get install -y nftables)"
    fi
    # shellcheck disable=SC2086 # listen holds several words on purpose
    ip netns exec "$S" python3 "$HERE/testbed_server.py" $listen >"$RUN/$id/server.log" 2>&1 &
    echo $! >"$RUN/$id/server.pid"
    i=0
    until grep -q ready "$RUN/$id/server.log" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 100 ] || die "server did not start: $(cat "$RUN/$id/server.log")"
        sleep 0.05
    done
    echo "testbed $id up: client ns $C (198.18.0.1, 2001:db8:198:18::1), server ns $S (198.18.0.2, 2001:db8:198:18::2)"
}

status() {
    found=0
    for ns in $(ip netns list | awk '{print $1}' | grep '^tcpc-' || true); do
        found=1
        echo "$ns: $(ip -n "$ns" -br addr show dev tc0 2>/dev/null | tr -s ' ')"
    done
    [ $found = 1 ] || echo "no tcpcraft namespaces"
}

cmd=${1:-status}
[ $# -gt 0 ] && shift
case $cmd in
    up) up "$@" ;;
    down)
        id=${1:-bed}
        if [ "$id" = all ]; then
            for ns in $(ip netns list | awk '{print $1}' | grep '^tcpc-' || true); do
                t=${ns#tcpc-}; down_one "${t%-*}"
            done
        else
            down_one "$id"
        fi ;;
    status) status ;;
    *) die "usage: testbed.sh up|down|status" ;;
esac
