#!/bin/sh
# Hard targets (issue 20), tcpcraft vs `nmap -sS -T4 -n -Pn` (UDP: -sU) in the test bed:
# RSTs limited to 200/s (burst 100) and to 50/s, SYN-ACKs limited to 20/s (100 open
# ports), UDP under an ICMP limit of 20/s, 40% random loss each way, and a "first SYN
# drop" defence, and 30 open ports whose SYN-ACKs come 0.5-2 s late (a userspace responder,
# scripts/testbed_late_synack.py). Prints, per condition and run, each tool's wall time and the number
# of ports whose state differs from the truth. Packets go only into the test bed.
#
#   sudo scripts/bench_scan_hard.sh [RUNS] [CONDITION…]   (TCPCRAFT=path to choose a binary;
#                                                           NMAP=0 runs tcpcraft alone)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
RUNS=${1:-3}
[ $# -gt 0 ] && shift
CONDS=${*:-rst200 rst50 synack20 udp20 loss40 firstsyn late}
ID=bhard
C=tcpc-$ID-c
S=tcpc-$ID-s
T=198.18.0.2
[ "$(id -u)" = 0 ] || { echo "bench_scan_hard: needs root" >&2; exit 1; }
command -v nmap >/dev/null || { echo "bench_scan_hard: needs nmap" >&2; exit 1; }
BIN=${TCPCRAFT:-}
if [ -z "$BIN" ]; then
    (cd "$ROOT" && cargo build --release -q)
    BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/tcpcraft
fi
TMP=$(mktemp -d)
LATE_PID=""
cleanup() {
    [ -n "$LATE_PID" ] && kill "$LATE_PID" 2>/dev/null
    sh "$HERE/testbed.sh" down $ID >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
OPEN=$(seq 101 200 | sed 's/^/open:/' | tr '\n' ' ')
sh "$HERE/testbed.sh" up $ID --drop 8443 --reject 81 --listen "http:80 echo:7 open:22 $OPEN uecho:7 uecho:53 uecho:161" >/dev/null
now() { date +%s.%N; }
rules() {
    ip netns exec $S nft delete table inet tcpcraft_hard 2>/dev/null || true
    ip netns exec $S nft -f - <<NFT
table inet tcpcraft_hard {
  set seen4 { type ipv4_addr . inet_service . inet_service; flags dynamic; timeout 600s; }
  chain output {
    type filter hook output priority -10; policy accept;
    $1
  }
  chain input {
    type filter hook input priority -10; policy accept;
    $2
  }
}
NFT
}
# The truth, TCP and UDP, for ports 1-1000 and 8443.
truth_tcp() { awk '{p=$1; s="closed"; if (p==7||p==22||p==80||(p>=101&&p<=200)||(p>=2001&&p<=2030)) s="open"; if (p==81||p==8443) s="filtered"; print p, s}'; }
truth_udp() { awk '{p=$1; s="closed"; if (p==7||p==53||p==161) s="open"; if (p==81) s="filtered"; if (p==8443) s="open|filtered"; print p, s}'; }
ports_of() { seq 1 "$1"; [ "$cond" = late ] && seq 2001 2030; echo 8443; }
wrong_json() { # tcpcraft --json → wrong count
    sed -n 's/.*"port":\([0-9]*\).*"state":"\([^"]*\)".*/\1 \2/p' "$1" | LC_ALL=C sort >"$TMP/got"
    LC_ALL=C join -a1 "$TMP/want" "$TMP/got" | awk 'NF<3 || $2!=$3' | wc -l
}
wrong_nmap() { # nmap -oG → wrong count (ports not listed take the "Ignored" state;
    # with two states unlisted, nmap -oG names none: the -oN "Not shown" filtered count
    # then tells how many unlisted ports nmap called filtered, the rest closed)
    ign=$(grep -o 'Ignored State: [a-z|]*' "$1" | awk '{print $3}')
    if [ -z "$ign" ] && grep -q 'Not shown' "$TMP/n.nmap"; then
        nf=$(grep 'Not shown' "$TMP/n.nmap" | grep -o '[0-9]* filtered' | head -1 | awk '{print $1}')
        tr ',' '\n' <"$1" | grep -o '[0-9][0-9]*/[a-z|]*/' | awk -F/ '{print $1, $2}' | LC_ALL=C sort >"$TMP/got"
        w1=$(LC_ALL=C join -v1 "$TMP/want" "$TMP/got" | awk -v nf="${nf:-0}" '$2=="filtered"{tf++} END {w=nf-tf; if (w<0) w=-w; print w}')
        w2=$(LC_ALL=C join "$TMP/want" "$TMP/got" | awk '$2!=$3{n++} END {print n+0}')
        echo $((w1 + w2))
        return
    fi
    tr ',' '\n' <"$1" | grep -o '[0-9][0-9]*/[a-z|]*/' | awk -F/ '{print $1, $2}' | LC_ALL=C sort >"$TMP/got"
    LC_ALL=C join -a1 "$TMP/want" "$TMP/got" | awk -v ign="$ign" '{g=(NF<3)?ign:$3; if ($2!=g) n++} END {print n+0}'
}
for cond in $CONDS; do
    udp=""; n=1000; out=""; in=""
    case $cond in
        rst200) out='tcp flags & rst == rst limit rate over 200/second burst 100 packets drop' ;;
        rst50) out='tcp flags & rst == rst limit rate over 50/second burst 5 packets drop' ;;
        synack20) out='tcp flags & (syn|ack) == syn|ack limit rate over 20/second burst 5 packets drop' ;;
        udp20) udp=1; n=200; out='meta l4proto icmp icmp type destination-unreachable limit rate over 20/second burst 5 packets drop' ;;
        loss40) out='numgen random mod 100 < 40 drop'; in='numgen random mod 100 < 40 drop' ;;
        late) out='tcp sport 2001-2030 tcp flags & rst == rst drop'
            if [ -z "$LATE_PID" ]; then
                ip netns exec $S python3 "$HERE/testbed_late_synack.py" 2001 2030 >"$TMP/late.out" 2>&1 &
                LATE_PID=$!
                sleep 1
            fi ;;
        firstsyn) in='tcp flags & (syn|ack) == syn ip saddr . tcp sport . tcp dport @seen4 accept; tcp flags & (syn|ack) == syn add @seen4 { ip saddr . tcp sport . tcp dport } drop' ;;
    esac
    rules "$out" "$in"
    P="1-$n,8443"
    [ "$cond" = late ] && P="1-$n,2001-2030,8443"
    ntype=-sS; [ -n "$udp" ] && ntype=-sU
    if [ -n "$udp" ]; then ports_of $n | truth_udp | LC_ALL=C sort >"$TMP/want"; else ports_of $n | truth_tcp | LC_ALL=C sort >"$TMP/want"; fi
    i=0
    while [ $i -lt "$RUNS" ]; do
        i=$((i + 1))
        ip netns exec $S nft flush set inet tcpcraft_hard seen4
        s=$(now); ip netns exec $C "$BIN" scan ${udp:+--udp} $T -p $P --json --all -q -v >"$TMP/t.json" 2>"$TMP/t.err" || true; e=$(now)
        tt=$(echo "$e - $s" | bc -l); tw=$(wrong_json "$TMP/t.json")
        lim=$(sed -n 's/^tcpcraft: target answers \(.*\)/\1/p' "$TMP/t.err")
        if [ "${NMAP:-1}" = 0 ]; then
            printf '%-9s run %d: tcpcraft %6.2f s, %3d wrong   %s\n' "$cond" $i "$tt" "$tw" "$lim"
            sleep 1
            continue
        fi
        ip netns exec $S nft flush set inet tcpcraft_hard seen4
        sleep 1 # let the limiters refill for nmap as for tcpcraft
        s=$(now); ip netns exec $C nmap $ntype -T4 -n -Pn -p $P -oG "$TMP/n.gnmap" -oN "$TMP/n.nmap" $T >/dev/null 2>&1 || true; e=$(now)
        nt=$(echo "$e - $s" | bc -l); nw=$(wrong_nmap "$TMP/n.gnmap"); cp "$TMP/n.gnmap" /tmp/bhard-last.gnmap
        printf '%-9s run %d: tcpcraft %6.2f s, %3d wrong | nmap %7.2f s, %3d wrong   %s\n' "$cond" $i "$tt" "$tw" "$nt" "$nw" "$lim"
        sleep 1
    done
done
