#!/bin/sh
# packetdrill's sysctl defaults (gtests/net/tcp/common/defaults.sh, also the Linux
# selftests' tools/testing/selftests/net/packetdrill/defaults.sh), applied inside the
# test bed's server namespace by tests/session_stack_packetdrill.rs. Knobs this kernel
# does not have (tcp_fack is gone since 4.18) are skipped. Not applied: the tun qdisc
# (there is no tun device here) and the fastopen key (no test here uses TFO).
set -u
ip tcp_metrics flush all >/dev/null 2>&1
for kv in \
    "net.ipv4.tcp_rmem=4096 540000 15728640" \
    "net.ipv4.tcp_wmem=4096 262144 4194304" \
    net.ipv4.tcp_timestamps=1 \
    net.ipv4.tcp_syn_retries=5 \
    net.ipv4.tcp_synack_retries=5 \
    net.ipv4.tcp_frto=2 \
    net.ipv4.tcp_sack=1 \
    net.ipv4.tcp_dsack=1 \
    net.ipv4.tcp_fack=0 \
    net.ipv4.tcp_reordering=3 \
    net.ipv4.tcp_congestion_control=cubic \
    net.ipv4.tcp_slow_start_after_idle=0 \
    net.ipv4.tcp_early_retrans=4 \
    net.ipv4.tcp_recovery=1 \
    net.ipv4.tcp_tso_win_divisor=3 \
    net.ipv4.tcp_ecn=0 \
    net.ipv4.tcp_pacing_ss_ratio=200 \
    net.ipv4.tcp_pacing_ca_ratio=120 \
    net.ipv4.tcp_notsent_lowat=4294967295 \
    net.ipv4.tcp_fastopen=0x3 \
    net.ipv4.tcp_syncookies=1
do
    sysctl -qw "$kv" 2>/dev/null || echo "defaults.sh: skipped $kv (not in this kernel)"
done
exit 0
