#!/bin/sh
# Scan benchmark, side by side in one run on the test bed (needs root, nmap, nftables):
#   1. a full 65,535-port SYN scan: tcpcraft vs `nmap -sS -p- -T4` — wall time ratio
#      (goal <= 0.3) and whether the result sets (open and filtered ports) agree;
#   2. probes per second of that scan;
#   3. a 65,536-host x 10-port scan of 198.19.0.0/16, routed into the server namespace
#      where nothing answers: time, probes/s and peak RSS;
#   4. the full SYN scan again through 10% random loss each way (nftables numgen in the
#      server namespace): time against the lossless scan and agreement with the truth
#      (nmap is not run there: it needed 908 s on this machine).
#   5. the rates against the machine's own ceiling, measured in the same run:
#      scripts/bench_ceiling.c sends prebuilt SYN frames and does nothing else (no
#      capture, no checks), once with sendmmsg and once through a transmit ring as
#      tcpcraft does; tcpcraft's first-pass rate (sending only, from the first probe to
#      the last) as a share of the ring ceiling, with replies (all threads) and alone
#      (one thread, silent hosts), beside the absolute goals of issue 6.
# Every figure is printed beside its peer as a ratio. Packets go only into the test bed.
#
#   sudo scripts/bench_scan.sh [RUNS]        (TCPCRAFT=path/to/tcpcraft to choose a binary)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
RUNS=${1:-3}
ID=bscan
C=tcpc-$ID-c
TARGET=198.18.0.2
[ "$(id -u)" = 0 ] || { echo "bench_scan: needs root (network namespaces)" >&2; exit 1; }
command -v nmap >/dev/null || { echo "bench_scan: needs nmap (apt-get install -y nmap)" >&2; exit 1; }
BIN=${TCPCRAFT:-}
if [ -z "$BIN" ]; then
    (cd "$ROOT" && cargo build --release -q)
    BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/tcpcraft
fi
TMP=$(mktemp -d)
cleanup() { sh "$HERE/testbed.sh" down $ID >/dev/null 2>&1 || true; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM

LISTEN="http:80 echo:7 open:1 open:22 open:443 open:3306 open:5432 open:8080 open:9000 open:31337 open:50000 open:65535"
sh "$HERE/testbed.sh" up $ID --drop 8443 --reject 81 --listen "$LISTEN" >/dev/null
inc() { ip netns exec $C "$@"; }
now() { date +%s.%N; }
# Warm up: resolve the neighbour, page in both programs.
inc "$BIN" scan $TARGET -p 1-100 -q >/dev/null 2>&1 || true
inc nmap -sS -p 1-100 -n -Pn $TARGET >/dev/null 2>&1 || true

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "== full 65,535-port SYN scan of $TARGET, $RUNS runs each, interleaved"
: >"$TMP/t_times"; : >"$TMP/n_times"
i=0
while [ $i -lt "$RUNS" ]; do
    i=$((i + 1))
    s=$(now); inc "$BIN" scan $TARGET -p- --json --all -q -v >"$TMP/t.json" 2>"$TMP/t.err" || true; e=$(now)
    echo "$e - $s" | bc -l >>"$TMP/t_times"
    s=$(now); inc nmap -sS -p- -T4 -n -Pn -oG "$TMP/n.gnmap" $TARGET >/dev/null 2>&1 || true; e=$(now)
    echo "$e - $s" | bc -l >>"$TMP/n_times"
done
T=$(median <"$TMP/t_times"); N=$(median <"$TMP/n_times")
# Result sets: open and filtered ports from each.
grep '"state":"open"' "$TMP/t.json" | sed 's/.*"port":\([0-9]*\).*/\1/' | sort -n >"$TMP/t_open"
grep '"state":"filtered"' "$TMP/t.json" | sed 's/.*"port":\([0-9]*\).*/\1/' | sort -n >"$TMP/t_filt"
tr ',' '\n' <"$TMP/n.gnmap" | grep -o '[0-9]*/open/' | cut -d/ -f1 | sort -n >"$TMP/n_open"
tr ',' '\n' <"$TMP/n.gnmap" | grep -o '[0-9]*/filtered/' | cut -d/ -f1 | sort -n >"$TMP/n_filt"
TC=$(grep -c '"state":"closed"' "$TMP/t.json" || true)
NC=$(grep -o 'closed (\([0-9]*\))' "$TMP/n.gnmap" | grep -o '[0-9]*' || echo "?")
printf 'tcpcraft  %.3f s (median)   open: %s\n' "$T" "$(tr '\n' ' ' <"$TMP/t_open")"
printf 'nmap -T4  %.3f s (median)   open: %s\n' "$N" "$(tr '\n' ' ' <"$TMP/n_open")"
printf 'wall-time ratio tcpcraft/nmap: %.3f (goal <= 0.3)\n' "$(echo "$T / $N" | bc -l)"
if cmp -s "$TMP/t_open" "$TMP/n_open" && cmp -s "$TMP/t_filt" "$TMP/n_filt" && [ "$TC" = "$NC" ]; then
    echo "result sets: AGREE (open $(wc -l <"$TMP/t_open"), filtered $(wc -l <"$TMP/t_filt"), closed $TC)"
else
    echo "result sets: DIFFER: open tcpcraft/nmap $(tr '\n' ' ' <"$TMP/t_open")/ $(tr '\n' ' ' <"$TMP/n_open"); filtered $(tr '\n' ' ' <"$TMP/t_filt")/ $(tr '\n' ' ' <"$TMP/n_filt"); closed $TC/$NC"
fi
P=$(sed -n 's/^tcpcraft: \([0-9]*\) probes.*/\1/p' "$TMP/t.err")
first_pass() { sed -n 's/.*first pass \([0-9]*\) probes.*/\1/p' "$1"; }
printf 'probes/s: tcpcraft %.0f, nmap %.0f (ratio %.2f)\n' "$(echo "$P / $T" | bc -l)" \
    "$(echo "65535 / $N" | bc -l)" "$(echo "($P / $T) / (65535 / $N)" | bc -l)"
echo "tcpcraft counters: $(sed -n 's/^tcpcraft: \([0-9]* probes\)/\1/p' "$TMP/t.err")"

echo "== 65,536 hosts x 10 ports of 198.19.0.0/16 (routed into the server namespace; nothing answers)"
s=$(now)
inc env TCPCRAFT_SCAN_DEBUG=1 /usr/bin/time -f "%M" -o "$TMP/rss" "$BIN" scan 198.19.0.0/16 -p 1-10 --json -q -v >/dev/null 2>"$TMP/s.err" || true
e=$(now)
W=$(echo "$e - $s" | bc -l)
SP=$(sed -n 's/^tcpcraft: \([0-9]*\) probes.*/\1/p' "$TMP/s.err")
RSS=$(tail -1 "$TMP/rss")
printf 'time %.2f s, %s probes (retries included), %.0f probes/s, peak RSS %s KiB\n' \
    "$W" "$SP" "$(echo "$SP / $W" | bc -l)" "$RSS"
echo "  (of which: the 16 MiB capture ring, and 5 bytes per (host, port) pair = 3.1 MiB)"
# The first pass alone (655,360 probes, no waiting): the sending rate.
R0=$(sed -n 's/^round 0: sent \([0-9]*\) by \([0-9.]*\)\(m*\)s.*/\1 \2 \3/p' "$TMP/s.err")
if [ -n "$R0" ]; then
    set -- $R0
    secs=$2; [ "${3:-}" = m ] && secs=$(echo "$2 / 1000" | bc -l)
    printf 'sending alone (first pass, no waits): %.0f probes/s over all threads\n' "$(echo "$1 / $secs" | bc -l)"
fi
echo "tcpcraft counters: $(sed -n 's/^tcpcraft: \([0-9]* probes\)/\1/p' "$TMP/s.err")"

echo "== rates against this machine's ceiling (scripts/bench_ceiling.c), $RUNS runs each, interleaved"
CEIL=""
if command -v cc >/dev/null 2>&1 && cc -O2 -pthread -o "$TMP/ceiling" "$HERE/bench_ceiling.c" 2>"$TMP/cc.err"; then
    CEIL="$TMP/ceiling"
else
    echo "(no C compiler: apt-get install -y gcc; the ceiling is skipped)"
fi
DMAC=$(ip -n tcpc-$ID-s -br link show tc0 | awk '{print $3}')
SMAC=$(ip -n tcpc-$ID-c -br link show tc0 | awk '{print $3}')
: >"$TMP/ra"; : >"$TMP/ca"; : >"$TMP/rs"; : >"$TMP/cs"; : >"$TMP/ma"; : >"$TMP/ms"
THREADS=$(nproc)
rate() { sed 's/.*, \([0-9]*\) probes.s/\1/'; }
i=0
while [ $i -lt "$RUNS" ]; do
    i=$((i + 1))
    inc "$BIN" scan $TARGET -p- -q -v >/dev/null 2>"$TMP/a.err" || true
    first_pass "$TMP/a.err" >>"$TMP/ra"
    inc "$BIN" scan 198.19.0.0/16 -p 1-10 --threads 1 --rate 100000000 --max-retries 0 --wait 0.05 -q -v \
        >/dev/null 2>"$TMP/o.err" || true
    first_pass "$TMP/o.err" >>"$TMP/rs"
    if [ -n "$CEIL" ]; then
        inc "$CEIL" answered "$THREADS" 65535 "$DMAC" "$SMAC" tc0 ring | rate >>"$TMP/ca"
        inc "$CEIL" silent 1 655360 "$DMAC" "$SMAC" tc0 ring | rate >>"$TMP/cs"
        inc "$CEIL" answered "$THREADS" 65535 "$DMAC" "$SMAC" tc0 sendmmsg | rate >>"$TMP/ma"
        inc "$CEIL" silent 1 655360 "$DMAC" "$SMAC" tc0 sendmmsg | rate >>"$TMP/ms"
    fi
done
RA=$(median <"$TMP/ra"); RS=$(median <"$TMP/rs")
printf 'with replies, %s threads: tcpcraft %s probes/s (first pass, every probe answered)' "$THREADS" "$RA"
if [ -n "$CEIL" ]; then
    CA=$(median <"$TMP/ca"); MA=$(median <"$TMP/ma")
    printf '; ring ceiling %s/s: share %.2f; sendmmsg ceiling %s/s: %.2fx' \
        "$CA" "$(echo "$RA / $CA" | bc -l)" "$MA" "$(echo "$RA / $MA" | bc -l)"
fi
printf '; goal 430000/s: %.2f of it\n' "$(echo "$RA / 430000" | bc -l)"
printf 'sending alone, 1 thread: tcpcraft %s probes/s (655,360 probes to silent hosts)' "$RS"
if [ -n "$CEIL" ]; then
    CS=$(median <"$TMP/cs"); MS=$(median <"$TMP/ms")
    printf '; ring ceiling %s/s: share %.2f; sendmmsg ceiling %s/s: %.2fx' \
        "$CS" "$(echo "$RS / $CS" | bc -l)" "$MS" "$(echo "$RS / $MS" | bc -l)"
fi
printf '; goal 750000/s per core: %.2f of it\n' "$(echo "$RS / 750000" | bc -l)"
echo "  (runs: tcpcraft with replies $(tr '\n' ' ' <"$TMP/ra")| ring $(tr '\n' ' ' <"$TMP/ca")| sendmmsg $(tr '\n' ' ' <"$TMP/ma")"
echo "         alone $(tr '\n' ' ' <"$TMP/rs")| ring $(tr '\n' ' ' <"$TMP/cs")| sendmmsg $(tr '\n' ' ' <"$TMP/ms"))"

echo "== full SYN scan through 10% random loss each way"
sh "$HERE/testbed.sh" up $ID --loss 10 --drop 8443 --reject 81 --listen "$LISTEN" >/dev/null
inc "$BIN" scan $TARGET -p 1-100 -q >/dev/null 2>&1 || true
s=$(now)
inc "$BIN" scan $TARGET -p- --json --all -q -v >"$TMP/l.json" 2>"$TMP/l.err" || true
e=$(now)
L=$(echo "$e - $s" | bc -l)
grep '"state":"open"' "$TMP/l.json" | sed 's/.*"port":\([0-9]*\).*/\1/' | sort -n >"$TMP/l_open"
grep '"state":"filtered"' "$TMP/l.json" | sed 's/.*"port":\([0-9]*\).*/\1/' | sort -n >"$TMP/l_filt"
LC=$(grep -c '"state":"closed"' "$TMP/l.json" || true)
if cmp -s "$TMP/l_open" "$TMP/t_open" && cmp -s "$TMP/l_filt" "$TMP/t_filt" && [ "$LC" = "$TC" ]; then
    AGREE="AGREE with the lossless scan"
else
    AGREE="DIFFER: open $(tr '\n' ' ' <"$TMP/l_open"), filtered $(tr '\n' ' ' <"$TMP/l_filt"), closed $LC"
fi
printf 'time %.2f s (%.1fx the lossless scan, %.3fx nmap without loss); result set: %s\n' \
    "$L" "$(echo "$L / $T" | bc -l)" "$(echo "$L / $N" | bc -l)" "$AGREE"
echo "tcpcraft counters: $(sed -n 's/^tcpcraft: \([0-9]* probes\)/\1/p' "$TMP/l.err")"
