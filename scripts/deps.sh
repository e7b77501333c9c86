#!/usr/bin/env bash
# Installs the system packages tcpcraft's tests and lab need, when they are missing.
# Debian/Ubuntu (apt-get). Safe to run again: installs nothing that is already there.
#   iproute2  (ip netns, veth)      nftables (RST guard, test-bed faults)
#   tcpdump   (fixture comparison)  python3  (lab/test-bed servers)
#   libcap2-bin, util-linux (setcap/setpriv: the privilege tests)  procps (sysctl, kill)
#   libpcap-dev (building: capture filters are compiled by libpcap's compiler)
#   nginx (the banner tests' web server)  nmap, ndiff, libxml2-utils (nmap's DTD, ndiff and
#   xmllint: the -oX tests)
set -euo pipefail

need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v tcpdump >/dev/null 2>&1 || need+=(tcpdump)
{ [ -e /usr/include/pcap/pcap.h ] || [ -e /usr/include/pcap.h ]; } || need+=(libpcap-dev)
command -v python3 >/dev/null 2>&1 || [ -x /usr/bin/python3 ] || need+=(python3)
command -v setcap >/dev/null 2>&1 || need+=(libcap2-bin)
command -v sysctl >/dev/null 2>&1 && command -v kill >/dev/null 2>&1 || need+=(procps)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need+=(nginx)
[ -f /usr/share/nmap/nmap.dtd ] || need+=(nmap)
command -v ndiff >/dev/null 2>&1 || need+=(ndiff)
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)
if [ "${TCPCRAFT_BENCH_DEPS:-0}" = 1 ]; then
  command -v masscan >/dev/null 2>&1 || need+=(masscan)
  command -v hping3 >/dev/null 2>&1 || need+=(hping3)
  /usr/bin/python3 -c 'import scapy' >/dev/null 2>&1 || need+=(python3-scapy)
  command -v hyperfine >/dev/null 2>&1 || need+=(hyperfine)
  command -v cc >/dev/null 2>&1 || need+=(gcc libc6-dev)
fi

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "tcpcraft: missing packages: ${need[*]} — run as root or: sudo apt-get install -y ${need[*]}" >&2
    exit 3
  fi
  echo "tcpcraft: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "tcpcraft: cargo (Rust toolchain) not found; install it from rustup.rs" >&2
  exit 3
fi
