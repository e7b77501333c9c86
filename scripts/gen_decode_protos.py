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
    # Mobility headers (RFC 6275), which end tcpdump's walk.
    from scapy.all import (MIP6MH_BRR, MIP6MH_HoTI, MIP6MH_CoTI, MIP6MH_HoT, MIP6MH_CoT,
                           MIP6MH_BU, MIP6MH_BA, MIP6MH_BE, MIP6MH_Generic)
    mob = [bytes(p) for p in [b() / MIP6MH_BRR(), b() / MIP6MH_HoTI(), b() / MIP6MH_CoTI(),
                              b() / MIP6MH_HoT(index=5), b() / MIP6MH_CoT(index=7),
                              b() / MIP6MH_BU(seq=9, flags=0), b() / MIP6MH_BU(seq=9),
                              b() / MIP6MH_BA(status=128, seq=3, mhtime=4), b() / MIP6MH_BE(status=2, ha=S6),
                              b() / MIP6MH_Generic(mhtype=9), b() / IPv6ExtHdrDestOpt() / MIP6MH_BU(seq=1)]]
    short = bytearray(mob[5])
    short[41] = 0
    recs += [(p, len(p)) for p in mob + [mob[5][:44], mob[5][:50], mob[8][:60], bytes(short)]]
    write_records("ip6ext.pcap", 101, recs)


def protos():
    """SCTP, DCCP, PIM, OSPF, VRRP, IGMP, EIGRP in IPv4 and IPv6, whole and cut short."""
    from scapy.all import (SCTP, SCTPChunkInit, SCTPChunkInitAck, SCTPChunkData, SCTPChunkSACK,
                           SCTPChunkCookieEcho, SCTPChunkHeartbeatReq, SCTPChunkAbort, SCTPChunkShutdown,
                           SCTPChunkShutdownAck, SCTPChunkCookieAck, SCTPChunkShutdownComplete, SCTPChunkError)
    from scapy.contrib.igmp import IGMP
    from scapy.contrib.igmpv3 import IGMPv3, IGMPv3mq, IGMPv3mr, IGMPv3gr
    from scapy.contrib.ospf import OSPF_Hdr, OSPF_Hello, OSPF_DBDesc, OSPF_LSReq, OSPF_LSUpd, OSPF_LSAck, OSPFv3_Hdr, OSPFv3_Hello
    from scapy.contrib.eigrp import EIGRP
    from scapy.layers.vrrp import VRRP, VRRPv3
    from scapy.contrib.pim import PIMv2Hdr, PIMv2Hello
    ip = lambda dst=D, **k: IP(src=S, dst=dst, **k)
    ip6 = lambda dst=D6: IPv6(src=S6, dst=dst)
    sc = lambda: SCTP(sport=5000, dport=6000, tag=7)
    pk = [ip() / sc() / SCTPChunkInit(init_tag=0x1234, a_rwnd=65535, n_out_streams=10, n_in_streams=65535, init_tsn=99),
          ip() / sc() / SCTPChunkData(tsn=5, stream_id=1, stream_seq=2, proto_id=3, data=b"hi"),
          ip() / sc() / SCTPChunkData(tsn=5, data=b"hello", beginning=1, ending=1, unordered=1),
          ip() / sc() / SCTPChunkData(tsn=5, data=b"x", proto_id=46),
          ip() / sc() / SCTPChunkInitAck() / SCTPChunkCookieEcho(cookie=b"abcd"),
          ip() / sc() / SCTPChunkSACK(cumul_tsn_ack=9, a_rwnd=1000) / SCTPChunkData(data=b"x"),
          ip() / sc() / SCTPChunkHeartbeatReq() / SCTPChunkAbort() / SCTPChunkShutdown() / SCTPChunkShutdownAck() / SCTPChunkCookieAck() / SCTPChunkShutdownComplete() / SCTPChunkError(),
          ip6() / sc() / SCTPChunkInit(),
          ip() / sc() / Raw(b"\x99\x00\x00\x05abc\x00"),
          ip() / sc() / Raw(b"\x00\x03\x00\x02"),
          ip() / sc() / Raw(b"\x0b\x00"),
          ip() / sc() / Raw(b"\x0b\x00\x00\x07abc"),
          ]
    pk = [bytes(p) for p in pk]
    pk += [pk[0][:40], pk[0][:30], pk[1][:54]]
    # DCCP, hand-made: every packet type, short and extended sequence numbers.
    def dccp(ty, body=b"", x=True, doff=None):
        if x:
            h = struct.pack(">HHBBHBB", 40000, 9000, 0, 0, 0, (ty << 1) | 1, 0) + b"\x00\x00\x00\x00\x00\x01"
        else:
            h = struct.pack(">HHBBHB", 40000, 9000, 0, 0, 0, ty << 1) + b"\x00\x00\x01"
        h = h[:4] + bytes([doff if doff is not None else (len(h) + len(body)) // 4]) + h[5:]
        return h + body
    ack6 = b"\x00\x00\x00\x00\x00\x00\x00\x2a"
    ack3 = b"\x00\x00\x00\x2a"
    d = [dccp(0, b"\x00\x00\x00\x01"), dccp(1, ack6 + b"\x00\x00\x00\x05"), dccp(2), dccp(3, ack6), dccp(4, ack6),
         dccp(5, ack6), dccp(6, ack6), dccp(7, ack6 + b"\x02\x00\x00\x00"), dccp(7, ack6 + b"\x0c\x00\x00\x00"),
         dccp(8, ack6), dccp(9, ack6), dccp(12, ack6), dccp(3, ack3, x=False), dccp(0, b"\x00\x00\x00\x07", x=False),
         dccp(1, ack6), dccp(0), dccp(3)[:14]]
    pk += [bytes(ip(proto=33) / Raw(b)) for b in d]
    pk += [bytes(IPv6(src=S6, dst=D6, nh=33) / Raw(d[0])), bytes(ip(proto=33) / Raw(d[3]))[:30], bytes(ip(proto=33) / Raw(b"\x9c\x40\x23"))]
    pk += [bytes(p) for p in [
        ip("224.0.0.13") / PIMv2Hdr() / PIMv2Hello(),
        ip("224.0.0.13") / PIMv2Hdr(type=3) / Raw(b"\x00" * 8),
        ip("224.0.0.13") / PIMv2Hdr(type=9) / Raw(b"\x00" * 4),
        ip("224.0.0.5") / OSPF_Hdr() / OSPF_Hello(),
        ip("224.0.0.5") / OSPF_Hdr() / OSPF_DBDesc(),
        ip("224.0.0.5") / OSPF_Hdr() / OSPF_LSReq(),
        ip("224.0.0.5") / OSPF_Hdr() / OSPF_LSUpd(),
        ip("224.0.0.5") / OSPF_Hdr() / OSPF_LSAck(),
        ip6("ff02::5") / OSPFv3_Hdr() / OSPFv3_Hello(),
        ip("224.0.0.18") / VRRP(vrid=1, priority=100, addrlist=["198.18.0.100"]),
        ip("224.0.0.18", ttl=255) / VRRP(vrid=2, priority=255, authtype=1, auth1=1, addrlist=["198.18.0.100"]),
        ip("224.0.0.18") / VRRPv3(vrid=1, priority=100, addrlist=["198.18.0.100"]),
        ip("224.0.0.18") / Raw(b"\x22\x01\x64\x01\x00\x01\x00\x00"),
        ip("224.0.0.1") / IGMP(type=0x11, mrcode=100, gaddr="0.0.0.0"),
        ip("224.0.0.1") / IGMP(type=0x11, mrcode=0, gaddr="0.0.0.0"),
        ip("239.1.1.1") / IGMP(type=0x11, mrcode=50, gaddr="239.1.1.1"),
        ip("239.1.1.1") / IGMP(type=0x12, gaddr="239.1.1.1"),
        ip("239.1.1.1") / IGMP(type=0x16, gaddr="239.1.1.1"),
        ip("224.0.0.2") / IGMP(type=0x17, gaddr="239.1.1.1"),
        ip("224.0.0.1") / IGMP(type=0x30),
        ip("224.0.0.1") / IGMPv3(mrcode=100) / IGMPv3mq(),
        ip("224.0.0.1") / IGMPv3(mrcode=200) / IGMPv3mq(gaddr="239.1.1.1", numsrc=2, srcaddrs=[S, D]),
        ip("224.0.0.22") / IGMPv3(type=0x22) / IGMPv3mr(records=[IGMPv3gr(maddr="239.1.1.1")]),
        ip("224.0.0.10") / EIGRP(),
        ip("224.0.0.10") / EIGRP(opcode=1),
        ip("224.0.0.10") / EIGRP(opcode=3),
        ip("224.0.0.10") / EIGRP(opcode=9),
        ip(proto=99) / Raw(b"abcd"),
    ]]
    write_pcap("protos.pcap", 101, pk)


def tunnels():
    """GRE, IP in IP, 6in4, 4in6, VXLAN, Geneve, MPLS: the inner packet on the same line."""
    from scapy.all import GRE, Ether, ARP
    from scapy.layers.vxlan import VXLAN
    from scapy.contrib.geneve import GENEVE
    from scapy.contrib.mpls import MPLS
    inner = IP(src="10.0.0.1", dst="10.0.0.2") / ICMP()
    inner6 = IPv6(src=S6, dst=D6) / UDP(sport=1, dport=2)
    E = lambda: Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    o = lambda: IP(src=S, dst=D)
    u = lambda port: o() / UDP(sport=40000, dport=port)
    pk = [o() / GRE() / inner,
          o() / GRE(proto=0x86dd) / inner6,
          o() / GRE(key_present=1, key=5, seqnum_present=1, seqence_number=9) / inner,
          o() / GRE(chksum_present=1) / inner,
          o() / GRE(proto=0x6558) / E() / inner,
          o() / GRE(proto=0x6558) / E() / ARP(psrc=S, pdst=D, hwsrc="02:00:00:00:00:01"),
          o() / GRE(proto=0x1234) / b"abc",
          o() / GRE(proto=0x8847) / MPLS(label=16, ttl=5) / inner,
          o() / GRE(proto=0x88be, seqnum_present=1, seqence_number=1) / (b"\x10\x01\x00\x05" + b"\0" * 4 + bytes(E() / inner)),
          o() / GRE(version=1, proto=0x880b, key_present=1, seqnum_present=1, key=0x00100005, seqence_number=3) / (b"\xff\x03\x00\x21" + bytes(inner)),
          o() / GRE(version=1, proto=0x880b, key_present=1, key=0x00100005),
          o() / GRE(version=3),
          IPv6(src=S6, dst=D6) / GRE() / inner,
          o() / IPv6(src=S6, dst=D6) / UDP(sport=1, dport=2),
          IPv6(src=S6, dst=D6) / IP(src=S, dst=D) / UDP(sport=1, dport=2),
          o() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=40000, dport=80, flags="S"),
          IPv6(src=S6, dst=D6) / IPv6(src="2001:db8::a", dst="2001:db8::b") / ICMPv6EchoRequest(),
          u(4789) / VXLAN(vni=100) / E() / inner,
          u(4789) / VXLAN(vni=7, flags=0) / E() / ARP(psrc=S, pdst=D, hwsrc="02:00:00:00:00:01"),
          u(4789) / VXLAN(vni=100) / E() / inner6,
          u(4789) / VXLAN(vni=100) / Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", type=0x88b5),
          IPv6(src=S6, dst=D6) / UDP(sport=40000, dport=4789) / VXLAN(vni=1) / E() / inner,
          u(6081) / GENEVE(vni=100, proto=0x6558) / E() / inner,
          u(6081) / GENEVE(vni=100, proto=0x0800) / inner,
          u(6081) / GENEVE(vni=100, proto=0x86dd, critical=1) / inner6,
          u(6081) / GENEVE(vni=100, proto=0x0800, optionlen=2) / (b"\x01\x02\x03\x01" + b"\0" * 4 + bytes(inner)),
          u(6081) / GENEVE(vni=100, proto=0x1234) / b"x",
          u(6635) / MPLS(label=100, ttl=64) / inner,
          u(6635) / MPLS(label=100, s=0, ttl=64) / MPLS(label=200, ttl=63) / inner,
          u(6635) / MPLS(label=2, ttl=64) / inner6,
          u(6635) / MPLS(label=0, ttl=64, cos=5) / inner,
          u(6635) / MPLS(label=300, ttl=64) / b"\x12\x34",
          u(6635) / b"\x00\x01",
          ]
    pk = [bytes(p) for p in pk]
    pk += [pk[0][:30], pk[2][:34], pk[17][:40], pk[22][:35], pk[28][:33]]
    write_pcap("tunnels.pcap", 101, pk)
    eth = [bytes(E() / MPLS(label=100, ttl=64) / inner), bytes(E() / MPLS(label=100, ttl=64) / inner6),
           bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", type=0x8848) / MPLS(label=5, s=0) / MPLS(label=6) / inner)]
    write_pcap("tunnels_ether.pcap", 1, eth)


def apps():
    """TCP payloads tcpdump names by port: BGP, OpenFlow, RPKI-RTR, BEEP, Redis (RESP)."""
    pays = [(179, b"\xff" * 16 + b"\x00\x13\x04"), (179, b"x"), (6633, b"\x04\x00\x00\x08\x00\x00\x00\x01"),
            (6653, b"\x01\x00\x00\x08\x00\x00\x00\x01"), (323, b"\x01\x02\x00\x00\x00\x00\x00\x08"),
            (10288, b"MSG 1 2 . 3 4\r\n"), (10288, b"RPY 1\r\n"), (10288, b"END\r\n"), (10288, b"MSG\x00"),
            (10288, b"SEQ 1 2 3\r\n"), (10288, b"ERR 1"), (10288, b"NUL 1"), (10288, b"ANS 1"), (10288, b"AN"),
            (6379, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"), (6379, b"+OK\r\n"), (6379, b":1000\r\n"),
            (6379, b"-ERR unknown\r\n"), (6379, b"$-1\r\n"), (6379, b"*0\r\n"), (6379, b"$5\r\nhello\r\n"),
            (6379, b"*-1\r\n"), (6379, b"*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n*1\r\n$4\r\nPING\r\n"),
            (6379, b"PING\r\n"), (6379, b"GET a b\r\n"), (6379, b"*1\r\n$4\r\nPI"), (6379, b"+OK"),
            (6379, b"*2\r\n:1\r\n+x\r\n"), (6379, b"$3\r\na\x01\xe9\r\n"), (6379, b"*1\r\n$x\r\n"),
            (6379, b"hello world\r\n"), (6379, b"\xff" * 16)]
    pk = [IP(src=S, dst=D) / TCP(sport=40000, dport=port, flags="PA", seq=1, ack=1) / p for port, p in pays]
    pk += [IP(src=D, dst=S) / TCP(sport=port, dport=40000, flags="PA", seq=1, ack=1) / p for port, p in pays[::4]]
    pk += [IPv6(src=S6, dst=D6) / TCP(sport=40000, dport=port, flags="PA", seq=1, ack=1) / p for port, p in pays[::5]]
    write_pcap("apps.pcap", 101, [bytes(p) for p in pk])


def main():
    ip6ext()
    protos()
    tunnels()
    apps()


if __name__ == "__main__":
    main()
