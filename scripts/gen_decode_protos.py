#!/usr/bin/python3
"""Generates decode fixtures for IPv6 extension headers, IP protocols other than TCP,
UDP and ICMP, tunnels and application names (tests/fixtures/decode/ip6ext.pcap, ...)
with scapy, and tcpdump's view of them:

    /usr/bin/python3 scripts/gen_decode_protos.py

tests/cli_decode.rs and tests/display_tcpdump.rs compare tcpcraft's lines with the
committed tcpdump lines. Records whose wire length exceeds what was captured (BIG TCP
jumbograms) are written with that wire length.
"""
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_decode_fixture import write_pcap, OUT  # noqa: E402

from scapy.all import (IP, IPv6, TCP, UDP, ICMP, Raw, AH, ESP, ICMPv6EchoRequest,  # noqa: E402
                       IPv6ExtHdrRouting, IPv6ExtHdrSegmentRouting, IPv6ExtHdrHopByHop,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, RouterAlert, Jumbo)

S, D = "198.18.0.1", "198.18.0.2"
S6, D6, R6 = "2001:db8:198:18::1", "2001:db8:198:18::2", "2001:db8:198:18::fe"


def write_records(name, linktype, recs):
    """A pcap of (bytes, wire length) records, and tcpdump's lines beside it."""
    path = os.path.join(OUT, name)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, linktype))
        for i, (data, orig) in enumerate(recs):
            fh.write(struct.pack("<IIII", 1700000000, i, len(data), orig) + data)
    txt = subprocess.run(["tcpdump", "-n", "-t", "-S", "-r", path], check=True,
                         capture_output=True, text=True).stdout
    with open(path + ".txt", "w") as fh:
        fh.write(txt)
    print(f"{name}: {len(recs)} packets, {len(txt.splitlines())} lines", file=sys.stderr)


def ip6ext():
    b = lambda: IPv6(src=S6, dst=D6)
    t = TCP(sport=40000, dport=9000, flags="S", seq=1)
    u = UDP(sport=40000, dport=9000) / b"x"
    tb = bytes(TCP(sport=40000, dport=9000, flags="A", seq=1, ack=1))
    pk = [b() / IPv6ExtHdrRouting(addresses=[R6, D6], segleft=2) / t,
          b() / IPv6ExtHdrRouting(type=2, addresses=[R6], segleft=1) / u,
          b() / IPv6ExtHdrSegmentRouting(addresses=[D6, R6], segleft=1) / t,
          b() / IPv6ExtHdrSegmentRouting(addresses=[D6, R6], segleft=1, lastentry=1, tag=0x1c) / u,
          b() / IPv6ExtHdrSegmentRouting(addresses=[D6, R6], segleft=1, lastentry=1, oam=1) / ICMPv6EchoRequest(),
          b() / IPv6ExtHdrHopByHop(options=[Jumbo(jumboplen=100)]) / t,
          b() / IPv6ExtHdrHopByHop(options=[RouterAlert()]) / IPv6ExtHdrDestOpt() / IPv6ExtHdrRouting(addresses=[R6], segleft=1) / IPv6ExtHdrFragment(id=5) / u,
          b() / IPv6ExtHdrDestOpt() / u,
          b() / IPv6ExtHdrRouting(type=3, addresses=[R6]) / t,
          b() / IPv6ExtHdrRouting(addresses=[R6, D6], segleft=2) / IPv6ExtHdrFragment(offset=5, id=9) / b"abcdefgh",
          b() / IPv6ExtHdrRouting(addresses=[], segleft=0) / t,
          b() / IPv6ExtHdrRouting(addresses=[R6, D6], segleft=2) / ICMPv6EchoRequest(),
          b() / IPv6ExtHdrRouting(addresses=[R6, D6], segleft=2, reserved=7) / t,
          b() / IPv6ExtHdrDestOpt() / IPv6ExtHdrHopByHop() / t,
          b() / IPv6ExtHdrHopByHop() / IPv6ExtHdrHopByHop() / t]
    pk = [bytes(p) for p in pk]
    rt_odd = bytearray(pk[0])
    rt_odd[41] = 3  # an odd length for a type 0 header
    pk.append(bytes(rt_odd))

    def ah(nh, ln, icv, pay, v6=True):
        h = struct.pack(">BBHII", nh, ln, 0, 0x100, 3) + icv + pay
        if v6:
            return bytes(IPv6(src=S6, dst=D6, nh=51, plen=len(h))) + h
        return bytes(IP(src=S, dst=D, proto=51) / Raw(h))

    def esp(p, v6=True):
        if v6:
            return bytes(IPv6(src=S6, dst=D6, nh=50, plen=len(p))) + p
        return bytes(IP(src=S, dst=D, proto=50) / Raw(p))
    e = struct.pack(">II", 0x200, 9)
    full = ah(6, 4, b"\xaa" * 12, tb)
    pk += [full, ah(6, 0, b"", tb), ah(6, 1, b"", tb), ah(6, 2, b"\xcc" * 4, tb),
           full[:42], full[:44], full[:48], full[:52], full[:56], full[:64],
           ah(59, 4, b"\xaa" * 12, b""), ah(17, 4, b"\xaa" * 12, bytes(UDP(sport=1, dport=2) / b"x")),
           ah(50, 4, b"\xaa" * 12, e + b"\x01" * 16), ah(6, 4, b"\xaa" * 12, tb, False),
           esp(e + b"\x01" * 16), esp(e), esp(e)[:46], esp(e + b"\x01" * 16, False), esp(e, False)]
    recs = [(p, len(p)) for p in pk]
    for p in [bytes(x) for x in [b() / IPv6ExtHdrRouting(addresses=[R6, D6], segleft=2) / t,
                                 b() / IPv6ExtHdrSegmentRouting(addresses=[D6, R6], segleft=1) / t]]:
        recs += [(p[:50], len(p)), (p[:60], len(p))]

    # Jumbograms (RFC 2675, Linux BIG TCP): payload length 0, the length in hop-by-hop.
    def j(plen, jl, optb=None, pay=tb, nh=0):
        hbh = bytes([6, 0]) + (optb if optb is not None else b"\xc2\x04" + struct.pack(">I", jl))
        return bytes(IPv6(src=S6, dst=D6, nh=nh, plen=plen)) + hbh + pay
    big = bytes(TCP(sport=40000, dport=9000, flags="PA", seq=1, ack=1)) + b"a" * 100
    recs += [(j(0, 70000), 70040), (j(0, 70000), len(j(0, 70000))),
             (bytes(IPv6(src=S6, dst=D6, nh=6, plen=0)) + tb, 60),
             (j(0, 70000, b"\xc2\x03\x00\x01\x11\x70"), 70040), (j(28, 70000), 68), (j(0, 100), 70040),
             (j(0, 70000, b"\x01\x04\0\0\0\0"), 70040), (j(0, 70000, b"\x05\x02\x00\x00\x01\x00"), 70040),
             (j(0, 70128, pay=big), 70168), (j(0, 70000)[:45], 70040), (j(0, 70000)[:47], 70040),
             (j(0, 70000, b"\xc2\x04\x00\x01"), 70040)]
    write_records("ip6ext.pcap", 101, recs)


def main():
    ip6ext()


if __name__ == "__main__":
    main()
