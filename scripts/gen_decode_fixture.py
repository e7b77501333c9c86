#!/usr/bin/python3
"""Generates the decode fixtures in tests/fixtures/decode/ with scapy, and tcpdump's view
of them.

    /usr/bin/python3 scripts/gen_decode_fixture.py

writes varied.pcap (raw IP link type: IPv4 and IPv6), ether.pcap (Ethernet) and sll.pcap
(Linux cooked v1), then `tcpdump -n -t -S -r FILE` output beside each as FILE.txt.
tests/display_tcpdump.rs checks that `display::summary` prints the same lines.

The capture is generated, not hand-written: every combination of the eight TCP flags,
every option kind tcpdump names (and unknown ones), SACK with 1-4 blocks, payloads, RST
with data, ICMP/ICMPv6 of every type tcpdump prints on one line, UDP, and malformed
packets (bad lengths, truncations, bad option lengths). Ports that tcpdump dissects
further (53, 123, 67, ...) are avoided except HTTP on 80/8080, which tcpcraft prints.
Addresses are the test bed's (198.18.0.0/15, 2001:db8:198:18::/64).
"""
import os
import subprocess
import sys

from scapy.all import (IP, IPv6, TCP, UDP, ICMP, Raw, Ether, CookedLinux, ARP, Dot1Q,
                       IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt, ICMPv6ND_Redirect,
                       RouterAlert, ICMPv6MLQuery, ICMPv6MLReport, ICMPv6MLDone, ICMPv6MLQuery2,
                       ICMPv6MLReport2, ICMPv6MLDMultAddrRec,
                       ICMPv6EchoRequest, ICMPv6EchoReply, ICMPv6DestUnreach,
                       ICMPv6PacketTooBig, ICMPv6TimeExceeded, ICMPv6ParamProblem,
                       ICMPv6ND_RS, ICMPv6ND_RA, ICMPv6ND_NS, ICMPv6ND_NA,
                       ICMPv6NDOptSrcLLAddr, ICMPv6NDOptDstLLAddr, ICMPv6Unknown,
                       IPerror, TCPerror, UDPerror, IPerror6, PcapWriter)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "decode")
S, D = "198.18.0.1", "198.18.0.2"
R = "198.19.0.254"  # a router on the test bed's path
S6, D6 = "2001:db8:198:18::1", "2001:db8:198:18::2"
R6 = "2001:db8:198:18::fe"
MAC_A, MAC_B = "02:00:c6:12:00:01", "02:00:c6:12:00:02"
HTTP_REQ = b"GET / HTTP/1.0\r\n\r\n"


def opts_syn():
    return [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)]


def dns_messages():
    """DNS messages, well-formed and not, as bytes."""
    import random
    from scapy.all import DNS, DNSQR, DNSRR, DNSRROPT, DNSRRMX, DNSRRSRV, DNSRRSOA
    rng = random.Random(7)
    q = lambda name, qtype="A", qclass="IN": DNSQR(qname=name, qtype=qtype, qclass=qclass)
    m = [
        DNS(id=0x1234, rd=1, qd=q("example.com")),
        DNS(id=7, qd=q("example.com", "AAAA")),
        DNS(id=8, rd=1, cd=1, qd=q("example.com", "MX")),
        DNS(id=9, qd=q("version.bind", "TXT", "CH")),
        DNS(id=10, qd=q(".", "NS")),
        DNS(id=11, qd=q("x.example", 65280, 77)),
        DNS(id=12, rd=1, qd=q("example.com"), ar=DNSRROPT(rclass=1232)),
        DNS(id=13, rd=1, qd=q("example.com"), ar=DNSRROPT(rclass=4096, z=0x8000)),
        DNS(id=14, qd=[q("a.example"), q("b.example", "AAAA")]),
        DNS(id=15, opcode=1, qd=q("example.com")),
        DNS(id=16, opcode=4, aa=1, qd=q("example.com", "SOA")),
        DNS(id=17, opcode=5, qd=q("example.com", "SOA")),
        DNS(id=0x1234, qr=1, rd=1, ra=1, qd=q("example.com"), an=DNSRR(rrname="example.com", rdata="198.18.0.9")),
        DNS(id=18, qr=1, rd=1, ra=1, qd=q("www.example.com"),
            an=DNSRR(rrname="www.example.com", type="CNAME", rdata="web.example.com") / DNSRR(rrname="web.example.com", rdata="198.18.0.10") / DNSRR(rrname="web.example.com", rdata="198.18.0.11")),
        DNS(id=19, qr=1, aa=1, qd=q("example.com", "AAAA"), an=DNSRR(rrname="example.com", type="AAAA", rdata="2001:db8:198:18::9")),
        DNS(id=20, qr=1, ra=1, qd=q("example.com", "MX"), an=DNSRRMX(rrname="example.com", preference=10, exchange="mx.example.com")),
        DNS(id=21, qr=1, ra=1, qd=q("example.com", "TXT"), an=DNSRR(rrname="example.com", type="TXT", rdata=[b"v=spf1 -all", b"two \x01\xff"])),
        DNS(id=22, qr=1, ra=1, qd=q("_sip._udp.example.com", "SRV"), an=DNSRRSRV(rrname="_sip._udp.example.com", priority=1, weight=2, port=5060, target="sip.example.com")),
        DNS(id=23, qr=1, ra=1, qd=q("example.com", "NS"), an=DNSRR(rrname="example.com", type="NS", rdata="ns1.example.com") / DNSRR(rrname="example.com", type="NS", rdata="ns2.example.com")),
        DNS(id=24, qr=1, ra=1, qd=q("example.com", "SOA"), an=DNSRRSOA(rrname="example.com", mname="ns1.example.com", rname="hostmaster.example.com")),
        DNS(id=25, qr=1, ra=1, qd=q("9.0.18.198.in-addr.arpa", "PTR"), an=DNSRR(rrname="9.0.18.198.in-addr.arpa", type="PTR", rdata="host.example.com")),
        DNS(id=26, qr=1, rcode=3, qd=q("nx.example.com")),
        DNS(id=27, qr=1, rcode=2, ra=1, tc=1, ad=1, qd=q("example.com")),
        DNS(id=28, qr=1, rcode=5, qd=None),
        DNS(id=29, qr=1, rcode=1, ra=1, qd=q("example.com"), ar=DNSRROPT(rclass=1232, extrcode=1)),
        DNS(id=30, qr=1, ra=1, qd=q("example.com"), an=DNSRR(rrname="example.com", rdata="198.18.0.9"), ns=DNSRR(rrname="example.com", type="NS", rdata="ns1.example.com"), ar=DNSRROPT(rclass=512)),
        DNS(id=31, qr=1, ra=1, qd=q("example.com", "ANY"), an=DNSRR(rrname="example.com", type="HINFO", rdata=b"\x03cpu\x02os") / DNSRR(rrname="example.com", type=99, rdata=b"spf") / DNSRR(rrname="example.com", type=4242, rdata=b"x")),
        DNS(id=32, qr=1, ra=1, qd=q("example.com"), an=DNSRR(rrname="example.com", rclass="CH", rdata="198.18.0.9")),
        DNS(id=33, qd=q("we\x01ird.ex am\xffple.")),
        DNS(id=34, qd=q(".".join(["a" * 63] * 5))),
    ]
    out = [bytes(x) for x in m]
    # Compression pointers: one forward (bad), one to itself (bad), one good.
    hdr = bytes.fromhex("0023 0100 0001 0000 0000 0000")
    out.append(hdr + b"\xc0\x20\x00\x01\x00\x01")
    out.append(hdr + b"\xc0\x0c\x00\x01\x00\x01")
    out.append(bytes.fromhex("0024 8180 0001 0001 0000 0000") + b"\x07example\x03com\x00\x00\x01\x00\x01" + b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc6\x12\x00\x09")
    out.append(hdr + b"\x41\x08\xab\x00\x00\x01\x00\x01")
    out.append(hdr + b"\x42\x00\x00\x01\x00\x01")
    out.append(hdr + b"\x81abc\x00\x00\x01\x00\x01")
    out.append(hdr + b"\x03abc")
    # OPT records in the answer section, with every EDNS option tcpdump names.
    ans = bytes.fromhex("0005 8180 0000 0001 0000 0000")
    def opt(rdata, cls=1232, ttl=0):
        return b"\x00\x00\x29" + cls.to_bytes(2, "big") + ttl.to_bytes(4, "big") + len(rdata).to_bytes(2, "big") + rdata
    for rdata, ttl in [(b"", 0), (b"", 0x8000), ("000a 0008 0102030405060708", 0), ("000a 0010" + "11" * 16, 0),
                       ("000a 0004 01020304", 0), ("0003 0002 6162 000c 0002 0000", 0), ("0008 0007 0001 1800 c61200", 0),
                       ("0008 0004 0002 0000", 0), ("0008 0006 0003 0800 0102", 0), ("0008 0005 0001 0800 01", 0),
                       ("0063 0001 ff", 0), ("000b 0002 0064", 0), ("000b 0001 00", 0), ("0009 0004 00000e10", 0),
                       ("000e 0004 4a5b 0001", 0), ("000e 0003 010203", 0), ("0005 0004 080d0fc8", 0),
                       ("0006 0002 0209", 0), ("0007 0002 0102", 0), ("000d 0005 0161 0000 00", 0),
                       ("0001 0000 0002 0000", 0), ("000a 0008 0102", 0), ("000a", 0)]:
        rd = rdata if isinstance(rdata, bytes) else bytes.fromhex(rdata.replace(" ", ""))
        out.append(ans + opt(rd, ttl=ttl))
    out.append(b"hello world!")
    out.append(b"hello world! and then some more text")
    for n in [12, 13, 20, 31, 48, 64]:
        out.append(bytes(rng.randrange(256) for _ in range(n)))
    return out


def ip4_raw():
    """IPv4 packets (as bytes) for the raw-IP capture."""
    out = []

    def add(p):
        out.append(bytes(p))

    # Every combination of the eight flag bits, with NS on some, payloads on some.
    for f in range(256):
        flags = f | (0x100 if f % 7 == 3 else 0)
        t = TCP(sport=40000 + (f % 13), dport=9000 + (f % 5), flags=flags,
                seq=(1000 + f * 7919) & 0xffffffff, ack=(0xfffffff0 + f * 3) & 0xffffffff,
                window=(f * 257) & 0xffff, urgptr=f * 3)
        p = IP(src=S, dst=D, id=f, ttl=64) / t
        if f % 3 == 0:
            p = p / Raw(bytes(range(f % 41)))
        add(p)

    # The usual handshake and teardown.
    add(IP(src=S, dst=D, id=1) / TCP(sport=40000, dport=80, flags="S", seq=1000, window=64240, options=opts_syn()))
    add(IP(src=D, dst=S, flags="DF", id=0) / TCP(sport=80, dport=40000, flags="SA", seq=5000, ack=1001, window=65160,
                                               options=[("MSS", 1460), ("NOP", None), ("NOP", None), ("SAckOK", b""), ("NOP", None), ("WScale", 7)]))
    add(IP(src=S, dst=D) / TCP(sport=40000, dport=80, flags="A", seq=1001, ack=5001, window=502))
    add(IP(src=S, dst=D) / TCP(sport=40000, dport=80, flags="PA", seq=1001, ack=5001, window=502) / Raw(HTTP_REQ))
    add(IP(src=D, dst=S) / TCP(sport=80, dport=40000, flags="PA", seq=5001, ack=1019, window=509) / Raw(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi"))
    add(IP(src=D, dst=S) / TCP(sport=80, dport=40000, flags="PA", seq=5040, ack=1019) / Raw(b"\x00\x01binary body"))
    add(IP(src=D, dst=S) / TCP(sport=80, dport=40000, flags="PA", seq=5040, ack=1019) / Raw(b"more text with no line end"))
    add(IP(src=S, dst=D) / TCP(sport=40001, dport=8080, flags="PA", seq=1, ack=1) / Raw(b"POST /x HTTP/1.1\r\nHost: a\r\n\r\n"))
    add(IP(src=S, dst=D) / TCP(sport=40001, dport=8080, flags="PA", seq=1, ack=1) / Raw(b"post /lower HTTP/1.1\r\n"))
    add(IP(src=S, dst=D) / TCP(sport=40001, dport=80, flags="PA", seq=1, ack=1) / Raw(b"BREW /pot HTCPCP/1.0\r\n"))
    add(IP(src=S, dst=D) / TCP(sport=40001, dport=80, flags="PA", seq=1, ack=1) / Raw(b"GET /cr-only\rx\r\n"))
    add(IP(src=S, dst=D) / TCP(sport=40001, dport=80, flags="PA", seq=1, ack=1) / Raw(b"GET\ttab\r\n"))
    add(IP(src=S, dst=D) / TCP(sport=40001, dport=80, flags="PA", seq=1, ack=1) / Raw(b"HTTP/1.1 404 Not Found\n"))
    add(IP(src=S, dst=D) / TCP(sport=40001, dport=80, flags="PA", seq=1, ack=1) / Raw(b"HTTP/1.1 20 short\r\n"))
    add(IP(src=S, dst=D) / TCP(sport=40001, dport=80, flags="PA", seq=1, ack=1) / Raw(b"GET"))
    add(IP(src=S, dst=D) / TCP(sport=40001, dport=80, flags="PA", seq=1, ack=1) / Raw(b" GET / HTTP/1.0\r\n"))
    add(IP(src=S, dst=D) / TCP(sport=40001, dport=80, flags="PA", seq=1, ack=1) / Raw(b"\r\n"))
    add(IP(src=S, dst=D) / TCP(sport=40001, dport=80, flags="PA", seq=1, ack=1) / Raw(b"A" * 300 + b"\r\n"))
    # Text protocols tcpdump prints the first line of: SSH banners, FTP, SMTP, whois, RTSP.
    for port, load in [(22, b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"), (22, b"SSH-1.99-x\n"), (22, b"SSH-2.0-no-line-end"),
                       (22, b"SSH-2.0-cr\rx\n"), (22, b"\x00\x00\x01\x0c\x0a\x14"), (22, b"SS"), (22, b"SSH"), (22, b"SSH-"),
                       (22, b"ssh-2.0-lower\r\n"), (22, b"SSH-2.0-tab\there\r\n"),
                       (21, b"220 ProFTPD Server ready.\r\n"), (21, b"USER anonymous\r\n"), (21, b"\x01\x02"), (21, b"no end"),
                       (25, b"EHLO client.example\r\n"), (25, b"250-first\nsecond\n"), (25, b"\r\n"),
                       (43, b"example.com\r\n"),
                       (554, b"OPTIONS rtsp://198.18.0.2/ RTSP/1.0\r\nCSeq: 1\r\n\r\n"), (554, b"RTSP/1.0 200 OK\r\n"),
                       (554, b"NOTACMD x\r\n"), (8554, b"PLAY rtsp://x RTSP/1.0\r\n"),
                       (2049, b"\x80\x00\x00\x28"), (9000, b"SSH-2.0-not-ssh-port\r\n")]:
        add(IP(src=S, dst=D) / TCP(sport=40000, dport=port, flags="PA", seq=1, ack=1) / Raw(load))
    add(IP(src=D, dst=S) / TCP(sport=22, dport=40000, flags="PA", seq=1, ack=1) / Raw(b"SSH-2.0-server\r\n"))
    add(IP(src=S, dst=D) / TCP(sport=25, dport=80, flags="PA", seq=1, ack=1) / Raw(b"GET / HTTP/1.0\r\n"))
    add(IP(src=S, dst=D) / TCP(sport=22, dport=21, flags="PA", seq=1, ack=1) / Raw(b"USER x\r\n"))
    add(IPv6(src=S6, dst=D6) / TCP(sport=40000, dport=22, flags="PA", seq=1, ack=1) / Raw(b"SSH-2.0-v6\r\n"))
    add(IP(src=S, dst=D) / TCP(sport=40000, dport=80, flags="FA", seq=1019, ack=5040))
    add(IP(src=D, dst=S) / TCP(sport=80, dport=40000, flags="FA", seq=5040, ack=1020))
    add(IP(src=S, dst=D) / TCP(sport=40000, dport=80, flags="A", seq=1020, ack=5041))
    add(IP(src=D, dst=S) / TCP(sport=81, dport=40000, flags="RA", seq=0, ack=1001, window=0))
    add(IP(src=D, dst=S) / TCP(sport=80, dport=40000, flags="R", seq=5001, window=0))
    add(IP(src=D, dst=S) / TCP(sport=9001, dport=40000, flags="R", seq=5001, window=0) / Raw(b"connection refused by policy"))
    add(IP(src=D, dst=S) / TCP(sport=9001, dport=40000, flags="RA", seq=7, ack=9) / Raw(b"x" * 40))
    add(IP(src=S, dst=D) / TCP(sport=40000, dport=9000, flags="PAU", urgptr=3, seq=77, ack=88) / Raw(b"abc"))
    add(IP(src=S, dst=D) / TCP(sport=40000, dport=9000, flags="U", urgptr=0xffff, seq=0xffffffff))
    add(IP(src=S, dst=D) / TCP(sport=40000, dport=9000, flags="PA", seq=0xfffffffe, ack=1) / Raw(b"wrap"))
    add(IP(src=S, dst=D) / TCP(sport=40000, dport=9000, flags="PA", seq=10, ack=1) / Raw(b"z" * 1400))
    add(IP(src=S, dst=D) / TCP(sport=9000, dport=9000, flags="S", seq=5))
    add(IP(src=S, dst=D) / TCP(sport=0, dport=0, flags="S", seq=0, window=0))
    add(IP(src=S, dst=D) / TCP(sport=65535, dport=65535, flags="A", seq=1, ack=2, window=65535))

    # Every option kind.
    O = [
        [("MSS", 536)],
        [("MSS", 0)],
        [("MSS", 65535)],
        [("WScale", 0)],
        [("WScale", 14)],
        [("WScale", 255)],
        [("SAckOK", b"")],
        [("NOP", None), ("NOP", None), ("SAck", (100, 200))],
        [("NOP", None), ("NOP", None), ("SAck", (100, 200, 300, 400))],
        [("NOP", None), ("NOP", None), ("SAck", (1, 2, 3, 4, 5, 6))],
        [("SAck", (1, 2, 3, 4, 5, 6, 7, 8))],
        [("NOP", None), ("NOP", None), ("SAck", (0xfffffff0, 0x10))],
        [("NOP", None), ("NOP", None), ("Timestamp", (123456789, 987654321))],
        [("Timestamp", (0xffffffff, 0))],
        [("NOP", None), ("NOP", None), ("Timestamp", (9, 8)), ("NOP", None), ("NOP", None), ("SAck", (10, 20, 30, 40, 50, 60))],
        [("NOP", None)] * 4,
        [("EOL", None)],
        [("MSS", 1460), ("EOL", None)],
        [("MSS", 1460), ("NOP", None), ("EOL", None)],
        [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)],
        [("MSS", 1460), ("NOP", None), ("WScale", 8), ("NOP", None), ("NOP", None), ("SAckOK", b"")],
        [("MSS", 1460), ("TFO", b"\x01\x02\x03\x04\x05\x06\x07\x08")],
        [("TFO", b"")],
        [("TFO", b"\xaa\xbb\xcc\xdd")],
        [("TFO", b"\xaa\xbb\xcc")],
        [("TFO", b"\x01" * 16)],
        [("TFO", b"\x01" * 18)],
        [(19, b"\x00" * 16)],
        [(19, bytes(range(16)))],
        [(99, b"ab")],
        [(99, b"")],
        [(200, b"\xde\xad\xbe\xef\x01")],
        [(253, b"\x12\x34\x56")],
        [(254, b"\xf9\x89\x01\x02\x03\x04")],
        [(254, b"\xf9\x89")],
        [(254, b"\x12\x34\x99")],
        [(28, b"\x01\x2c")],
        [(28, b"\x00\x0b")],
        [(29, b"\x05\x06")],
        [(29, b"\x05\x06\xa1\xa2\xa3\xa4")],
        [(20, b"\x01\x02")],
        [(11, b"\x00\x00\x01\x00")],
        [(12, b"\x00\x00\x02\x00")],
        [(13, b"\x00\x00\x03\x00")],
        [(6, b"\x00\x00\x00\x07")],
        [(7, b"\x00\x00\x00\x08")],
        [(9, b"")],
        [(10, b"\x01")],
        [(15, b"\x01\x02\x03")],
        [(27, b"\x01\x02\x03\x04\x05\x06")],
        [(69, b"\x01\x02")],
        # Multipath TCP: every subtype, in the segments it belongs to and in others.
        [(30, bytes.fromhex("0181"))],
        [(30, bytes.fromhex("0081") + bytes(range(8)))],
        [(30, bytes.fromhex("0001") + bytes(range(8)))],
        [(30, bytes.fromhex("0581"))],
        [(30, bytes.fromhex("1005") + bytes.fromhex("deadbeef 01020304"))],
        [(30, bytes.fromhex("1105") + bytes.fromhex("deadbeef"))],
        [(30, bytes.fromhex("2001"))],
        [(30, bytes.fromhex("3001 c6120009"))],
        [(30, bytes.fromhex("4001 02"))],
        [(30, bytes.fromhex("5001"))],
        [(30, bytes.fromhex("f0"))],
    ]
    for i, o in enumerate(O):
        add(IP(src=S, dst=D, id=1000 + i) / TCP(sport=40000, dport=9000, flags="S", seq=i, options=o))
    # Multipath TCP on SYN-ACK and ACK segments.
    for f, o in [("SA", bytes.fromhex("0181")), ("SA", bytes.fromhex("1100") + bytes(range(12))),
                 ("A", bytes.fromhex("0081") + bytes(range(16))), ("A", bytes.fromhex("0081") + bytes(range(18))),
                 ("A", bytes.fromhex("1000") + bytes(range(20))), ("A", bytes.fromhex("2001") + bytes.fromhex("00000064")),
                 ("A", bytes.fromhex("2003") + bytes(8)), ("A", bytes.fromhex("201f") + bytes(range(18))),
                 ("A", bytes.fromhex("2005") + bytes(range(10))), ("A", bytes.fromhex("2004") + bytes(range(10))),
                 ("A", bytes.fromhex("2005") + bytes(range(12))), ("A", bytes.fromhex("2001")),
                 ("A", bytes.fromhex("3001 c6120009") + bytes(range(8))), ("A", bytes.fromhex("3007 c6120009 1f90")),
                 ("A", bytes.fromhex("3003 c6120009 1f90") + bytes(range(8))),
                 ("A", bytes.fromhex("3102") + bytes(range(16))), ("A", bytes.fromhex("3602") + bytes(range(16)) + b"\x00\x50"),
                 ("A", bytes.fromhex("3002") + bytes(range(24))), ("A", bytes.fromhex("3902") + bytes(range(26))),
                 ("A", bytes.fromhex("4001 020304")), ("A", bytes.fromhex("4001")), ("A", bytes.fromhex("5101")),
                 ("A", bytes.fromhex("50")), ("A", bytes.fromhex("6000") + bytes(range(8))),
                 ("A", bytes.fromhex("7000") + bytes(range(8))), ("A", bytes.fromhex("6000") + bytes(range(4))),
                 ("A", bytes.fromhex("8000") + bytes(range(4))), ("A", b"\x00"), ("R", bytes.fromhex("0181"))]:
        add(IP(src=S, dst=D) / TCP(sport=40000, dport=9000, flags=f, seq=1, ack=2, options=[(30, o)]))
    # Options again on data segments with ACK.
    add(IP(src=S, dst=D) / TCP(sport=40000, dport=9000, flags="PA", seq=5, ack=6,
                              options=[("NOP", None), ("NOP", None), ("Timestamp", (11, 12))]) / Raw(b"hello"))

    # Malformed options: raw option bytes after a plain 20-byte header.
    def tcp_with_opts(optbytes, flags=0x02, payload=b""):
        pad = (4 - len(optbytes) % 4) % 4
        ob = optbytes + b"\x00" * pad
        t = TCP(sport=40000, dport=9000, flags=flags, seq=1, dataofs=5 + len(ob) // 4)
        return IP(src=S, dst=D) / t / Raw(ob + payload)

    for ob in [
        b"\x02\x01",              # length 1
        b"\x02\x00",              # length 0
        b"\x02\x08\x05\xb4",      # length beyond the header
        b"\x02\x05\x05\xb4\x01\x01\x01\x01",  # mss with length 5
        b"\x02\x03\x05\x01",      # mss with length 3
        b"\x03\x04\x07\x00",      # wscale with length 4
        b"\x04\x03\x00\x01",      # sackOK with length 3
        b"\x05\x09" + b"\x00" * 7 + b"\x01\x01\x01",  # sack with 7 data bytes
        b"\x05\x02\x01\x01",      # sack with no blocks
        b"\x08\x06\x00\x00\x00\x01\x01\x01",  # TS with length 6
        b"\x08\x0c" + b"\x00\x00\x00\x01" * 2 + b"\x01\x01",  # TS with length 12
        b"\x13\x04\x00\x00",      # md5 with short length
        b"\x1c\x03\x01\x01",      # uto with length 3
        b"\x1d\x03\x05\x01",      # tcp-ao with length 3
        b"\x22\x03\x01\x01",      # tfo with 1 byte
        b"\xfe\x03\xf9\x01",      # exp with 1 byte
        b"\x02",                  # kind with no length byte (padded with eol)
        b"\x01\x01\x01\x02",      # nops then a kind with no room for its length
        b"\x00\x02\x04\x05\xb4",  # eol then bytes (not zero)
        b"\x63\xff\x61\x62",      # unknown kind with huge length
    ]:
        add(tcp_with_opts(ob))
    add(tcp_with_opts(b"\x02\x04\x05\xb4", flags=0x18, payload=b"data"))

    # Bad data offsets.
    add(IP(src=S, dst=D) / TCP(sport=40000, dport=9000, flags="S", seq=1, dataofs=4))
    add(IP(src=S, dst=D) / TCP(sport=40000, dport=9000, flags="S", seq=1, dataofs=0) / Raw(b"abcd"))
    add(IP(src=S, dst=D) / TCP(sport=40000, dport=9000, flags="S", seq=1, dataofs=10))
    add(IP(src=S, dst=D) / TCP(sport=40000, dport=9000, flags="A", seq=1, ack=1, dataofs=15) / Raw(b"x" * 20))
    add(IP(src=S, dst=D) / TCP(sport=40000, dport=9000, flags="S", seq=1, dataofs=6) / Raw(b"\x02\x04"))
    # Truncated TCP headers (IP length says so too: the datagram is just short).
    full = bytes(IP(src=S, dst=D) / TCP(sport=40000, dport=9000, flags="S", seq=1, options=opts_syn()))
    for n in [21, 22, 23, 24, 30, 33, 40, 41, 45, 50, 55]:
        b = bytearray(full[:n])
        b[2:4] = n.to_bytes(2, "big")
        b[10:12] = b"\x00\x00"
        add(bytes(b))
    # IP total length larger than the bytes present (captured short).
    for n in [20, 30, 40, 44, 60]:
        add(full[:n])
    # IP header oddities.
    add(bytes(IP(src=S, dst=D, len=30) / TCP(sport=1, dport=2)))          # len < hlen + tcp
    add(bytes(IP(src=S, dst=D, len=10) / TCP(sport=1, dport=2)))          # len < hlen
    add(bytes(IP(src=S, dst=D, len=0) / TCP(sport=1, dport=2)))           # len 0
    add(bytes(IP(src=S, dst=D, ihl=4) / TCP(sport=1, dport=2)))           # ihl < 5
    add(bytes(IP(src=S, dst=D, ihl=15) / TCP(sport=1, dport=2)))          # ihl beyond the data
    add(bytes(IP(src=S, dst=D, options=b"\x07\x07\x04\x00\x00\x00\x00\x00") / TCP(sport=1, dport=2)))
    add(bytes(IP(src=S, dst=D, options=b"\x94\x04\x00\x00") / UDP(sport=1, dport=2)))
    add(bytes(IP(src=S, dst=D, chksum=0x1234) / TCP(sport=1, dport=2)))
    add(bytes(IP(src=S, dst=D, flags="MF", id=7) / TCP(sport=1, dport=2) / Raw(b"x" * 8)))
    add(bytes(IP(src=S, dst=D, flags="MF", frag=3, id=7, proto=6) / Raw(b"y" * 16)))
    add(bytes(IP(src=S, dst=D, frag=5, id=7, proto=17) / Raw(b"y" * 16)))
    add(bytes(IP(src=S, dst=D, frag=5, id=7, proto=1) / Raw(b"y" * 16)))
    add(bytes(IP(src=S, dst=D, frag=5, id=7, proto=200) / Raw(b"y" * 16)))
    add(bytes(IP(src=S, dst=D, flags="evil+DF", tos=0xff, ttl=0) / TCP(sport=1, dport=2)))
    add(bytes(IP(src=S, dst=D, proto=253) / Raw(b"experimental")))
    add(bytes(IP(src=S, dst=D, proto=254)))
    add(bytes(IP(src=S, dst=D, proto=6)))                                  # no TCP at all
    add(bytes(IP(src=S, dst=D, proto=17) / Raw(b"abc")))                   # UDP too short
    add(bytes(IP(src=S, dst=D, proto=1) / Raw(b"\x08\x00")))               # ICMP too short
    add(bytes(IP(src=S, dst=D, proto=1) / Raw(b"\x08\x00\x00\x00\x00\x01")))
    add(b"\x45\x00\x00\x14\x00\x01")                                         # 6 bytes of IPv4
    add(b"\x45")

    # UDP.
    for sp, dp, load in [(40000, 9000, b"ping\n"), (40000, 5555, b""), (5555, 40000, b"x" * 1000),
                         (1, 2, b"z"), (33434, 33435, b"\x00" * 32), (40000, 12345, b"hello world")]:
        add(IP(src=S, dst=D) / UDP(sport=sp, dport=dp) / Raw(load))
    add(IP(src=S, dst=D) / UDP(sport=40000, dport=9000, chksum=0) / Raw(b"no checksum"))
    # DNS (scapy's UDP() defaults to port 53): queries, responses, odd and garbage ones.
    add(IP(src=S, dst=D) / UDP(sport=40000, dport=53) / Raw(bytes.fromhex("deadbeef")))
    add(IP(src=S, dst=D) / UDP())
    add(IPv6(src=S6, dst=D6) / UDP(sport=53, dport=40000) / Raw(b"\x00" * 11))
    for d in dns_messages():
        add(IP(src=S, dst=D) / UDP(sport=40000, dport=53) / Raw(d))
        add(IP(src=D, dst=S) / UDP(sport=53, dport=40000) / Raw(d[:len(d) * 2 // 3]))
    for d in dns_messages()[:6]:
        add(IPv6(src=S6, dst=D6) / TCP(sport=40000, dport=53, flags="PA", seq=1, ack=1) / Raw(len(d).to_bytes(2, "big") + d))
    add(IP(src=S, dst=D) / TCP(sport=40000, dport=53, flags="PA", seq=1, ack=1) / Raw(b"\x00\x05abc"))
    add(IP(src=S, dst=D) / TCP(sport=40000, dport=53, flags="PA", seq=1, ack=1) / Raw(b"\x00"))
    add(IP(src=S, dst=D) / TCP(sport=40000, dport=53, flags="PA", seq=1, ack=1) / Raw(b"\x00\x03abc"))
    add(IP(src=S, dst=D) / UDP(sport=40000, dport=9000, len=100) / Raw(b"short"))
    add(IP(src=S, dst=D) / UDP(sport=40000, dport=9000, len=4) / Raw(b"short"))
    add(IP(src=S, dst=D) / UDP(sport=40000, dport=9000, len=9) / Raw(b"longer than that"))
    add(IP(src=S, dst=D) / UDP(sport=40000, dport=9000, len=8) / Raw(b"trailing"))
    add(IP(src=S, dst=D, len=24) / UDP(sport=40000, dport=9000) / Raw(b"cut by ip len"))

    # ICMP echo and the rest.
    add(IP(src=S, dst=D) / ICMP(type=8, id=5, seq=6) / Raw(b"0123456789"))
    add(IP(src=D, dst=S) / ICMP(type=0, id=5, seq=6) / Raw(b"0123456789"))
    add(IP(src=S, dst=D) / ICMP(type=8, id=0xffff, seq=0))
    add(IP(src=D, dst=S) / ICMP(type=0, code=3, id=1, seq=65535) / Raw(b"x" * 56))
    for code in range(0, 17):
        add(IP(src=D, dst=S) / ICMP(type=3, code=code) / IPerror(src=S, dst=D) / UDPerror(sport=40000, dport=5555) / Raw(b"ping"))
        add(IP(src=R, dst=S) / ICMP(type=3, code=code) / IPerror(src=S, dst=D) / TCPerror(sport=40000, dport=8443, seq=1000))
    add(IP(src=R, dst=S) / ICMP(type=3, code=4, nexthopmtu=1400) / IPerror(src=S, dst=D, flags="DF") / TCPerror(sport=40000, dport=9000))
    add(IP(src=R, dst=S) / ICMP(type=3, code=4, nexthopmtu=0) / IPerror(src=S, dst=D, flags="DF") / UDPerror(sport=40000, dport=9000))
    add(IP(src=D, dst=S) / ICMP(type=3, code=3) / IPerror(src=S, dst=D, proto=6) / Raw(b"\x9c\x40\x23\x28"))
    add(IP(src=D, dst=S) / ICMP(type=3, code=3) / IPerror(src=S, dst=D) / ICMP(type=8, id=1, seq=1))
    add(IP(src=D, dst=S) / ICMP(type=3, code=2) / IPerror(src=S, dst=D, proto=132) / Raw(b"\x00" * 8))
    add(IP(src=D, dst=S) / ICMP(type=3, code=3) / Raw(b"\x45\x00"))
    add(IP(src=D, dst=S) / ICMP(type=3, code=3))
    add(IP(src=D, dst=S) / ICMP(type=3, code=1) / Raw(b"\x00" * 28))
    add(IP(src=D, dst=S) / ICMP(type=3, code=3) / IPerror(src=S, dst=D) / Raw(b"\x9c\x40"))
    for code in [0, 1, 2]:
        add(IP(src=R, dst=S) / ICMP(type=11, code=code) / IPerror(src=S, dst=D, ttl=1) / UDPerror(sport=33434, dport=33435))
    add(IP(src=R, dst=S) / ICMP(type=11, code=0) / IPerror(src=S, dst=D, ttl=1) / TCPerror(sport=40000, dport=80))
    for code in [0, 1, 2, 3, 4]:
        add(IP(src=R, dst=S) / ICMP(type=5, code=code, gw="198.18.0.9") / IPerror(src=S, dst=D) / UDPerror(sport=1, dport=2))
    add(IP(src=R, dst=S) / ICMP(type=4) / IPerror(src=S, dst=D) / UDPerror(sport=1, dport=2))
    for code, ptr in [(0, 1), (0, 20), (1, 0), (2, 0), (3, 0)]:
        add(IP(src=R, dst=S) / ICMP(type=12, code=code, ptr=ptr) / IPerror(src=S, dst=D) / UDPerror(sport=1, dport=2))
    add(IP(src=S, dst=D) / ICMP(type=13, id=1, seq=2, ts_ori=100, ts_rx=0, ts_tx=0))
    add(IP(src=D, dst=S) / ICMP(type=14, id=1, seq=2, ts_ori=100, ts_rx=200, ts_tx=300))
    add(IP(src=S, dst=D) / ICMP(type=15, id=3, seq=4))
    add(IP(src=D, dst=S) / ICMP(type=16, id=3, seq=4))
    add(IP(src=S, dst=D) / ICMP(type=17, id=5, seq=6, addr_mask="0.0.0.0"))
    add(IP(src=D, dst=S) / ICMP(type=18, id=5, seq=6, addr_mask="255.255.255.0"))
    add(IP(src=S, dst=D) / ICMP(type=10))
    add(IP(src=S, dst=D) / ICMP(type=9) / Raw(b"\x01\x02\x00\x00\xc6\x12\x00\x01\x00\x00\x00\x00"))
    add(IP(src=S, dst=D) / ICMP(type=99, code=7) / Raw(b"abc"))
    add(IP(src=S, dst=D) / ICMP(type=8, id=5, seq=6, chksum=0x1234) / Raw(b"bad sum"))
    # ICMP bodies cut short, and odd values.
    for t, c in [(11, 0), (5, 1), (12, 0), (12, 1), (3, 4), (4, 0), (13, 0), (17, 0), (9, 0), (0, 0)]:
        # (Not 14 or 18: tcpdump 4.99 reads past the captured bytes for those.)
        add(IP(src=R, dst=S) / ICMP(type=t, code=c, ts_ori=0, ts_rx=0, ts_tx=0) / Raw(b"\x45\x00\x00"))
    add(IP(src=D, dst=S) / ICMP(type=14, id=1, seq=2, ts_ori=86399999, ts_rx=86400000, ts_tx=0xffffffff))
    for body in ["0202 0708 c6120001 00000001 c6120002 ffffffff", "0102 0e10 c6120001", "0002 003c", "0002 003b",
                 "0102 0e0f", "0302 0001 c6120001 00000001", "0104 0001 c6120001 00000001"]:
        add(IP(src=R, dst=S, proto=1) / Raw(bytes.fromhex("09000000" + body.replace(" ", ""))))
    # Tunnels and protocol numbers in the wrong IP version.
    add(IP(src=S, dst=D) / IP(src="198.18.1.1", dst="198.18.1.2") / UDP(sport=1, dport=2))
    add(IP(src=S, dst=D) / IPv6(src=S6, dst=D6) / TCP(sport=40000, dport=9000, flags="S"))
    add(IP(src=S, dst=D, proto=58) / Raw(bytes(ICMPv6EchoRequest(id=1, seq=2))))
    add(IP(src=S, dst=D, proto=59) / Raw(b"abc"))
    return out


def ip6_raw():
    out = []

    def add(p):
        out.append(bytes(p))

    add(IPv6(src=S6, dst=D6) / TCP(sport=40000, dport=80, flags="S", seq=1000, options=opts_syn()))
    add(IPv6(src=D6, dst=S6, tc=0x20, fl=0x12345, hlim=57) / TCP(sport=80, dport=40000, flags="SA", seq=1, ack=1001))
    add(IPv6(src=S6, dst=D6) / TCP(sport=40000, dport=80, flags="PA", seq=1001, ack=2) / Raw(HTTP_REQ))
    add(IPv6(src=S6, dst=D6) / TCP(sport=40000, dport=9000, flags="FPU", seq=3, urgptr=9) / Raw(b"data"))
    add(IPv6(src=S6, dst=D6) / TCP(sport=40000, dport=9000, flags="RA", seq=0, ack=5))
    add(IPv6(src=S6, dst=D6) / TCP(sport=40000, dport=9000, flags="A", seq=3, ack=4,
                                  options=[("NOP", None), ("NOP", None), ("SAck", (1, 2, 3, 4))]))
    add(IPv6(src=S6, dst=D6) / TCP(sport=40000, dport=9000, flags="S", dataofs=3))
    add(IPv6(src=S6, dst=D6) / TCP(sport=40000, dport=9000, flags="S", dataofs=9))
    add(IPv6(src=S6, dst=D6) / UDP(sport=40000, dport=9000) / Raw(b"hello"))
    add(IPv6(src=S6, dst=D6) / UDP(sport=40000, dport=9000))
    add(IPv6(src=S6, dst=D6) / UDP(sport=40000, dport=9000, len=50) / Raw(b"hello"))
    add(IPv6(src="::1", dst="::1") / UDP(sport=1, dport=2) / Raw(b"lo"))
    add(IPv6(src="fe80::1", dst="ff02::1") / UDP(sport=1, dport=2) / Raw(b"mc"))
    add(IPv6(src="::", dst="2001:db8:198:18:0:0:0:2") / UDP(sport=1, dport=2))
    add(IPv6(src="2001:db8:198:18:1:0:0:1", dst="2001:db8:0:0:1:0:0:1") / UDP(sport=1, dport=2))
    add(IPv6(src="::ffff:198.18.0.1", dst="2001:db8:198:18::2") / UDP(sport=1, dport=2))
    add(IPv6(src=S6, dst=D6) / ICMPv6EchoRequest(id=5, seq=6, data=b"0123456789"))
    add(IPv6(src=D6, dst=S6) / ICMPv6EchoReply(id=5, seq=6, data=b"0123456789"))
    add(IPv6(src=S6, dst=D6) / ICMPv6EchoRequest(id=0, seq=0))
    for code in range(0, 9):
        add(IPv6(src=D6, dst=S6) / ICMPv6DestUnreach(code=code) / IPerror6(src=S6, dst=D6) / UDPerror(sport=40000, dport=5555) / Raw(b"ping"))
        add(IPv6(src=R6, dst=S6) / ICMPv6DestUnreach(code=code) / IPerror6(src=S6, dst=D6) / TCPerror(sport=40000, dport=8443, seq=1))
    add(IPv6(src=R6, dst=S6) / ICMPv6PacketTooBig(mtu=1280) / IPerror6(src=S6, dst=D6) / TCPerror(sport=40000, dport=9000))
    for code in [0, 1, 2]:
        add(IPv6(src=R6, dst=S6) / ICMPv6TimeExceeded(code=code) / IPerror6(src=S6, dst=D6, hlim=1) / UDPerror(sport=33434, dport=33435))
    for code, ptr in [(0, 4), (1, 40), (2, 6), (3, 0)]:
        add(IPv6(src=R6, dst=S6) / ICMPv6ParamProblem(code=code, ptr=ptr) / IPerror6(src=S6, dst=D6) / UDPerror(sport=1, dport=2))
    add(IPv6(src="fe80::1", dst="ff02::2", hlim=255) / ICMPv6ND_RS())
    add(IPv6(src="fe80::1", dst="ff02::2", hlim=255) / ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=MAC_A))
    add(IPv6(src="fe80::fe", dst="ff02::1", hlim=255) / ICMPv6ND_RA(routerlifetime=1800))
    add(IPv6(src="fe80::1", dst="ff02::1:ff00:2", hlim=255) / ICMPv6ND_NS(tgt=D6) / ICMPv6NDOptSrcLLAddr(lladdr=MAC_A))
    add(IPv6(src="fe80::2", dst="fe80::1", hlim=255) / ICMPv6ND_NA(tgt=D6, R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=MAC_B))
    add(IPv6(src="fe80::2", dst="fe80::1", hlim=255) / ICMPv6ND_NA(tgt=D6, R=1, S=0, O=0))
    add(IPv6(src=S6, dst=D6) / ICMPv6Unknown(type=200, code=1, msgbody=b"abcd"))
    add(IPv6(src=S6, dst=D6) / ICMPv6Unknown(type=100, code=0, msgbody=b"abcd"))
    add(IPv6(src=S6, dst=D6, nh=59))
    add(IPv6(src=S6, dst=D6, nh=59) / Raw(b"trailing"))
    add(IPv6(src=S6, dst=D6, nh=253) / Raw(b"experimental"))
    # Truncations and lying lengths.
    full = bytes(IPv6(src=S6, dst=D6) / TCP(sport=40000, dport=9000, flags="S", options=opts_syn()))
    for n in [10, 39, 40, 41, 44, 60, 70]:
        add(full[:n])
    add(bytes(IPv6(src=S6, dst=D6, plen=8) / TCP(sport=40000, dport=9000, flags="S")))
    add(bytes(IPv6(src=S6, dst=D6, plen=100) / TCP(sport=40000, dport=9000, flags="S")))
    add(bytes(IPv6(src=S6, dst=D6, plen=0) / TCP(sport=40000, dport=9000, flags="S")))
    add(bytes(IPv6(src=S6, dst=D6) / ICMPv6EchoRequest(id=1, seq=2))[:44])
    for a in ["::102:304", "::ffff:0:1", "1:0:0:1:0:0:0:1", "0:0:1::", "fe80::", "1::", "1:0:1:0:1:0:1:0",
              "::1:0:0:0", "2001:db8::ffff:0:1", "::0:ffff:1:2", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]:
        add(IPv6(src=a, dst=D6) / UDP(sport=1, dport=2))
    add(IPv6(src=S6, dst=D6, nh=1) / Raw(bytes(ICMP(type=8, id=1, seq=2))))
    add(IPv6(src=S6, dst=D6) / IP(src=S, dst=D) / UDP(sport=1, dport=2))
    add(IPv6(src=S6, dst=D6) / IPv6(src=S6, dst=D6) / UDP(sport=1, dport=2))
    add(IPv6(src=R6, dst=S6) / ICMPv6PacketTooBig(mtu=1280))
    add(IPv6(src=R6, dst=S6, nh=58) / Raw(b"\x02\x00\x00\x00\x00\x00"))
    add(IPv6(src=R6, dst=S6) / ICMPv6DestUnreach(code=4) / Raw(bytes(IPerror6(src=S6, dst=D6, nh=17))[:40]))
    add(IPv6(src=R6, dst=S6) / ICMPv6DestUnreach(code=4) / Raw(bytes(IPerror6(src=S6, dst=D6, nh=17))[:30]))
    add(IPv6(src=R6, dst=S6) / ICMPv6DestUnreach(code=4) / IPerror6(src=S6, dst=D6, nh=58) / Raw(b"\x80\x00\x12\x34"))
    add(IPv6(src=R6, dst=S6) / ICMPv6DestUnreach(code=0))
    add(IPv6(src=R6, dst=S6) / ICMPv6DestUnreach(code=3) / Raw(b"\x00" * 24))
    add(IPv6(src=R6, dst=S6) / ICMPv6TimeExceeded(code=0))
    add(IPv6(src=R6, dst=S6) / ICMPv6ParamProblem(code=0, ptr=7))
    add(IPv6(src=R6, dst=S6) / ICMPv6ParamProblem(code=9, ptr=7) / IPerror6(src=S6, dst=D6))
    add(IPv6(src="fe80::1", dst="ff02::1:ff00:2", hlim=255, nh=58) / Raw(b"\x87\x00\x00\x00\x00\x00\x00\x00\x20\x01"))
    add(IPv6(src="fe80::1", dst="ff02::1:ff00:2", hlim=255, nh=58) / Raw(bytes(ICMPv6ND_NA(tgt=D6))[:10]))
    add(IPv6(src="fe80::fe", dst="fe80::1", hlim=255) / ICMPv6ND_Redirect(tgt="2001:db8:198:18::9", dst=D6))
    # Multicast listener discovery, as a host on the test bed sends it when a link comes up.
    add(IPv6(src="fe80::1", dst="ff02::16", hlim=1) / IPv6ExtHdrHopByHop(options=RouterAlert()) /
        ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(dst="ff02::1:ff00:1"), ICMPv6MLDMultAddrRec(rtype=3, dst="ff02::fb")]))
    add(IPv6(src="fe80::1", dst="ff02::16", hlim=1) / ICMPv6MLReport2())
    add(IPv6(src="fe80::1", dst="ff02::1", hlim=1) / ICMPv6MLQuery(mrd=10000))
    add(IPv6(src="fe80::1", dst="ff02::1", hlim=1) / ICMPv6MLQuery(mladdr="ff02::1:ff00:2"))
    add(IPv6(src="fe80::1", dst="ff02::1:ff00:2", hlim=1) / ICMPv6MLReport(mladdr="ff02::1:ff00:2"))
    add(IPv6(src="fe80::1", dst="ff02::2", hlim=1) / ICMPv6MLDone(mladdr="ff02::1:ff00:2"))
    add(IPv6(src="fe80::1", dst="ff02::1", hlim=1) / ICMPv6MLQuery2(mrd=10000))
    add(IPv6(src="fe80::1", dst="ff02::1", hlim=1) / ICMPv6MLQuery2(mladdr="ff02::1:ff00:2", sources=["2001:db8:198:18::1"]))
    add(IPv6(src="fe80::1", dst="ff02::1", hlim=1, nh=58) / Raw(bytes(ICMPv6MLQuery())[:10]))
    add(IPv6(src="fe80::1", dst="ff02::1", hlim=1, nh=58) / Raw(bytes(ICMPv6MLQuery()) + b"\x00" * 2))
    add(IPv6(src="fe80::1", dst="ff02::1", hlim=1, nh=58) / Raw(bytes(ICMPv6MLQuery2(sources=["::1", "::2"]))[:44]))
    add(IPv6(src="fe80::1", dst="ff02::16", hlim=1, nh=58) / Raw(b"\x8f\x00\x00\x00\x00\x00"))
    for t in [144, 146, 147]:
        add(IPv6(src=S6, dst=D6, nh=58) / Raw(bytes([t, 0, 0, 0, 0x12, 0x34, 0xc0, 0])))
    add(IPv6(src="::2", dst=D6) / UDP(sport=1, dport=2))
    # Extension headers tcpdump names on one line: fragments, hop-by-hop, destination options.
    add(IPv6(src=S6, dst=D6) / IPv6ExtHdrFragment(id=5, m=1) / UDP(sport=1, dport=2) / Raw(b"abc"))
    add(IPv6(src=S6, dst=D6) / IPv6ExtHdrFragment(id=5, m=1) / TCP(sport=40000, dport=9000, flags="S"))
    add(IPv6(src=S6, dst=D6) / IPv6ExtHdrFragment(id=5, offset=10) / Raw(b"abcdefgh"))
    add(IPv6(src=S6, dst=D6) / IPv6ExtHdrFragment(id=5, offset=0, m=0, nh=17))
    add(IPv6(src=S6, dst=D6) / IPv6ExtHdrHopByHop() / UDP(sport=1, dport=2))
    add(IPv6(src=S6, dst=D6) / IPv6ExtHdrHopByHop() / IPv6ExtHdrFragment(id=9, m=1) / ICMPv6EchoRequest(id=1, seq=1))
    add(IPv6(src=S6, dst=D6) / IPv6ExtHdrDestOpt() / TCP(sport=40000, dport=9000, flags="S"))
    add(IPv6(src=S6, dst=D6, nh=0) / Raw(b"\x11\x05"))
    add(IPv6(src=S6, dst=D6, nh=44) / Raw(b"\x11\x00"))
    return out


# UDP ports whose payload tcpdump 4.99 hands to a protocol printer (found by probing
# tcpdump with every port); tcpcraft decodes only DNS (53) among them.
TCPDUMP_UDP_PORTS = {53, 67, 68, 69, 88, 123, 161, 162, 319, 320, 496, 500, 514, 520, 521, 525, 546,
                     547, 646, 654, 698, 701, 750, 921, 1589, 1645, 1646, 1700, 1701, 1812, 1813, 1985,
                     2049, 2103, 2104, 3456, 3503, 3784, 3785, 3799, 4342, 4500, 4567, 4784, 4789, 4790,
                     5060, 5353, 5359, 6081, 6343, 6635, 6696, 6697, 6784, 7000, 7001, 7002, 7003, 7004,
                     7005, 7006, 7007, 7008, 7009, 7500, 8231, 8472, 8500, 12222, 12223, 17754, 30490}
# TCP ports whose payload tcpdump decodes and tcpcraft does not (telnet, BGP, RPKI-RTR,
# MSDP, PPTP, NFS, Redis, OpenFlow, BEEP); found by probing tcpdump with every port.
TCPDUMP_TCP_PORTS = {23, 179, 323, 639, 1723, 2049, 6379, 6633, 6653, 10288}
# ICMPv6 types tcpdump decodes further than tcpcraft (router renumbering, node
# information, inverse ND, home agent address discovery replies, RPL).
TCPDUMP_ICMP6_TYPES = {138, 139, 140, 141, 142, 145, 155}


def tcpcraft_decodes(b):
    """Whether every protocol in a raw-IP packet is one tcpcraft prints as tcpdump does
    (so a mutated packet that lands on, say, SNMP is left out of mutated.pcap)."""
    if len(b) < 20:
        return True
    v = b[0] >> 4
    if v == 4:
        hl, proto = (b[0] & 15) * 4, b[9]
        off = int.from_bytes(b[6:8], "big") & 0x1fff
        if off:
            return True
    elif v == 6:
        hl, proto = 40, b[6]
        if proto in (0, 60, 44):
            return True  # extension headers: checked by hand in varied.pcap
    else:
        return True
    t = b[hl:]
    if proto == 17 and len(t) >= 4:
        ports = {int.from_bytes(t[0:2], "big"), int.from_bytes(t[2:4], "big")}
        return not (ports & (TCPDUMP_UDP_PORTS - {53}))
    if proto == 6 and len(t) >= 4:
        ports = {int.from_bytes(t[0:2], "big"), int.from_bytes(t[2:4], "big")}
        return not (ports & TCPDUMP_TCP_PORTS)
    if proto == 58 and v == 6 and t:
        return t[0] not in TCPDUMP_ICMP6_TYPES
    if proto in (4, 41):
        return tcpcraft_decodes(bytes(t))
    return proto in (1, 6, 17, 58, 59)


def mutated(frames, n, seed, link=0):
    """Random damage to well-formed packets: one to three bytes changed (not the link
    type field, IP version, IPv6 next header or IPv4 protocol), and a third of them cut
    short. `link`: bytes of link header before the IP header (0, 14 or 16)."""
    import random
    rng = random.Random(seed)
    keep = {link, link + 6, link + 9} | ({link - 2, link - 1} if link else set())
    out = []
    while len(out) < n:
        b = bytearray(rng.choice(frames))
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(b)) if b else 0
            if b and i not in keep:
                b[i] = rng.randrange(256)
        if rng.random() < 0.3 and len(b) > 1:
            b = b[:rng.randrange(1, len(b))]
        et = int.from_bytes(b[link - 2:link], "big") if link and len(b) >= link else 0
        if not link or et in (0x0800, 0x86dd):
            ok = tcpcraft_decodes(bytes(b[link:]))
        else:
            ok = True
        if ok:
            out.append(bytes(b))
    return out


def random_dns(n, seed):
    """DNS over UDP and TCP made of random parts: names, pointers, records of every type
    tcpdump prints, garbage; a fifth of the UDP ones cut short."""
    import random
    rng = random.Random(seed)

    def part():
        r = rng.random()
        if r < 0.15:
            return b"\x00"
        if r < 0.3:
            return bytes([0xc0 | rng.randrange(4), rng.randrange(256)])
        if r < 0.45:
            k = rng.randrange(64)
            return bytes([k]) + bytes(rng.choice(b"abc.-\x00\xff ") for _ in range(k))
        if r < 0.6:
            t = rng.choice([1, 2, 5, 6, 12, 15, 16, 28, 33, 38, 41, 104, 250, 256, rng.randrange(65536)])
            rd = bytes(rng.randrange(256) for _ in range(rng.randrange(20)))
            return (t.to_bytes(2, "big") + rng.choice([1, 3, 255, 1232]).to_bytes(2, "big") + bytes(4)
                    + len(rd).to_bytes(2, "big") + rd)
        if r < 0.7:
            return bytes([0x41, rng.randrange(256)]) + bytes(rng.randrange(256) for _ in range(rng.randrange(10)))
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 12)))

    out = []
    for _ in range(n):
        head = bytes(rng.randrange(256) for _ in range(4)) + b"".join(bytes([0, rng.randrange(4)]) for _ in range(4))
        body = head + b"".join(part() for _ in range(rng.randrange(12)))
        if rng.random() < 0.2:
            out.append(bytes(IP(src=S, dst=D) / TCP(sport=40000, dport=53, flags="PA") / Raw(len(body).to_bytes(2, "big") + body)))
        else:
            p = bytes(IP(src=D, dst=S) / UDP(sport=53, dport=40000) / Raw(body))
            if rng.random() < 0.2:
                p = p[:rng.randrange(28, len(p) + 1)]
            out.append(p)
    return out


def write_pcap(name, linktype, frames):
    path = os.path.join(OUT, name)
    w = PcapWriter(path, linktype=linktype, sync=True)
    w.write_header(None)
    for i, f in enumerate(frames):
        # Fixed timestamps so the file is the same every time it is generated.
        w.write_packet(f, sec=1700000000 + i // 1000, usec=(i % 1000) * 1000)
    w.close()
    txt = subprocess.run(["tcpdump", "-n", "-t", "-S", "-r", path], check=True,
                         capture_output=True, text=True).stdout
    with open(path + ".txt", "w") as fh:
        fh.write(txt)
    print(f"{name}: {len(frames)} packets, {len(txt.splitlines())} lines", file=sys.stderr)


def main():
    os.makedirs(OUT, exist_ok=True)
    v4 = ip4_raw()
    v6 = ip6_raw()
    write_pcap("varied.pcap", 101, v4 + v6)
    write_pcap("mutated.pcap", 101, mutated(v4 + v6, 3000, 1))
    write_pcap("dns_random.pcap", 101, random_dns(1500, 1))

    eth = []
    for p in v4[:: max(1, len(v4) // 40)] + v6[:: max(1, len(v6) // 20)]:
        ether_type = 0x86dd if p and p[0] >> 4 == 6 else 0x0800
        eth.append(bytes(Ether(src=MAC_A, dst=MAC_B, type=ether_type) / Raw(p)))
    # Short frames padded to the Ethernet minimum (the padding is not part of IP).
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B) / IP(src=S, dst=D) / TCP(sport=40000, dport=9000, flags="A", seq=1, ack=2) / Raw(b"\x00" * 6)))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B) / IP(src=S, dst=D) / UDP(sport=40000, dport=9000) / Raw(b"pad me")) + b"\x00" * 12)
    eth.append(bytes(Ether(src=MAC_A, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=MAC_A, psrc=S, pdst=D)))
    eth.append(bytes(Ether(src=MAC_B, dst=MAC_A) / ARP(op=2, hwsrc=MAC_B, psrc=D, hwdst=MAC_A, pdst=S)))
    # VLAN tags (tcpdump without -e prints only what they carry) and every ARP operation.
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B) / Dot1Q(vlan=100) / IP(src=S, dst=D) / TCP(sport=40000, dport=9000, flags="S")))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B) / Dot1Q(vlan=100, prio=3) / IPv6(src=S6, dst=D6) / UDP(sport=1, dport=2)))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B, type=0x88a8) / Dot1Q(vlan=5) / Dot1Q(vlan=6) / IP(src=S, dst=D) / ICMP()))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B) / Dot1Q(vlan=7) / ARP(psrc=S, pdst=D, hwsrc=MAC_A)))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B, type=0x8100) / Raw(b"\x00\x64")))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B) / Dot1Q(vlan=100) / Raw(b"\x45\x00")))
    for op in [1, 2, 3, 4, 8, 9]:
        eth.append(bytes(Ether(src=MAC_A, dst=MAC_B) / ARP(op=op, psrc=S, pdst=D, hwsrc=MAC_A, hwdst=MAC_B)))
    eth.append(bytes(Ether(src=MAC_A, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, psrc=S, pdst=D, hwsrc=MAC_A) / Raw(b"\x00" * 18)))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B, type=0x0806) / Raw(bytes(ARP(op=1, psrc=S, pdst=D, hwsrc=MAC_A))[:20])))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B, type=0x0806) / Raw(bytes.fromhex("000108000604"))))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B, type=0x0806) / Raw(bytes.fromhex("0001 86dd 0610 0001") + b"\x02" * 6 + b"\x00" * 16 + b"\x02" * 6 + b"\x00" * 16)))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B, type=0x0806) / Raw(bytes.fromhex("0006 0800 0004 0001") + b"\x00" * 16)))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B, type=0x0806) / Raw(bytes.fromhex("0001 1000 0604 0001") + b"\x01" * 20)))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B, type=0x0806) / Raw(bytes.fromhex("0001 0800 0404 0002") + b"\x07" * 16)))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B, type=0x88b5) / Raw(b"local experimental ethertype")))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B, type=0x0800) / Raw(b"\x45\x00")))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B, type=0x86dd) / Raw(b"\x60\x00")))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B, type=0x0800) / IPv6(src=S6, dst=D6) / UDP(sport=1, dport=2)))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B, type=0x86dd) / IP(src=S, dst=D) / UDP(sport=1, dport=2)))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B))[:10])
    write_pcap("ether.pcap", 1, eth)
    # Damaged frames, VLAN-tagged ones excluded (their inner type would need keeping too).
    plain = [f for f in eth if len(f) >= 14 and f[12:14] in (b"\x08\x00", b"\x86\xdd", b"\x08\x06")]
    write_pcap("ether_mutated.pcap", 1, mutated(plain, 1000, 2, link=14))

    sll = []
    for k, p in enumerate(v4[:: max(1, len(v4) // 30)] + v6[:: max(1, len(v6) // 15)]):
        proto = 0x86dd if p and p[0] >> 4 == 6 else 0x0800
        sll.append(bytes(CookedLinux(pkttype=[0, 4, 1, 2, 3][k % 5], lladdrtype=1, lladdrlen=6,
                                     src=bytes.fromhex("02 00 c6 12 00 01".replace(" ", "")) + b"\x00\x00",
                                     proto=proto) / Raw(p)))
    sll.append(bytes(CookedLinux(pkttype=0, lladdrtype=772, lladdrlen=0, src=b"\x00" * 8, proto=0x0800) / IP(src="127.0.0.1", dst="127.0.0.1") / TCP(sport=40000, dport=9000, flags="S")))
    sll.append(bytes(CookedLinux(pkttype=1, lladdrtype=1, lladdrlen=6, src=b"\x02\x00\xc6\x12\x00\x01\x00\x00", proto=0x0806) / ARP(op=1, hwsrc=MAC_A, psrc=S, pdst=D)))
    sll.append(bytes(CookedLinux(pkttype=4, lladdrtype=1, lladdrlen=6, src=b"\x02\x00\xc6\x12\x00\x02\x00\x00", proto=0x0806) / ARP(op=2, hwsrc=MAC_B, psrc=D, hwdst=MAC_A, pdst=S)))
    sll.append(bytes(CookedLinux(pkttype=4, lladdrtype=1, lladdrlen=6, src=b"\x02\x00\xc6\x12\x00\x01\x00\x00", proto=0x88b5) / Raw(b"experimental")))
    sll.append(bytes(CookedLinux(pkttype=1, lladdrtype=772, lladdrlen=0, src=b"\x00" * 8, proto=0x88b5) / Raw(b"x")))
    sll.append(bytes(CookedLinux(pkttype=0, lladdrtype=1, lladdrlen=6, src=b"\x00" * 8, proto=0x0800))[:12])
    write_pcap("sll.pcap", 113, sll)
    plain = [f for f in sll if len(f) >= 16 and f[14:16] in (b"\x08\x00", b"\x86\xdd", b"\x08\x06")]
    write_pcap("sll_mutated.pcap", 113, mutated(plain, 500, 3, link=16))


if __name__ == "__main__":
    main()
