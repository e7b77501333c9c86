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

from scapy.all import (IP, IPv6, TCP, UDP, ICMP, Raw, Ether, CookedLinux, ARP,
                       IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt, ICMPv6ND_Redirect,
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
    ]
    for i, o in enumerate(O):
        add(IP(src=S, dst=D, id=1000 + i) / TCP(sport=40000, dport=9000, flags="S", seq=i, options=o))
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
    # DNS is not decoded by tcpcraft, but a payload too short for its header prints the
    # same one-liner as tcpdump (scapy's UDP() defaults to port 53).
    add(IP(src=S, dst=D) / UDP(sport=40000, dport=53) / Raw(bytes.fromhex("deadbeef")))
    add(IP(src=S, dst=D) / UDP())
    add(IPv6(src=S6, dst=D6) / UDP(sport=53, dport=40000) / Raw(b"\x00" * 11))
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
        add(IP(src=R, dst=S) / ICMP(type=t, code=c) / Raw(b"\x45\x00\x00"))
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

    eth = []
    for p in v4[:: max(1, len(v4) // 40)] + v6[:: max(1, len(v6) // 20)]:
        ether_type = 0x86dd if p and p[0] >> 4 == 6 else 0x0800
        eth.append(bytes(Ether(src=MAC_A, dst=MAC_B, type=ether_type) / Raw(p)))
    # Short frames padded to the Ethernet minimum (the padding is not part of IP).
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B) / IP(src=S, dst=D) / TCP(sport=40000, dport=9000, flags="A", seq=1, ack=2) / Raw(b"\x00" * 6)))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B) / IP(src=S, dst=D) / UDP(sport=40000, dport=9000) / Raw(b"pad me")) + b"\x00" * 12)
    eth.append(bytes(Ether(src=MAC_A, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=MAC_A, psrc=S, pdst=D)))
    eth.append(bytes(Ether(src=MAC_B, dst=MAC_A) / ARP(op=2, hwsrc=MAC_B, psrc=D, hwdst=MAC_A, pdst=S)))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B, type=0x88b5) / Raw(b"local experimental ethertype")))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B, type=0x0800) / Raw(b"\x45\x00")))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B, type=0x86dd) / Raw(b"\x60\x00")))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B, type=0x0800) / IPv6(src=S6, dst=D6) / UDP(sport=1, dport=2)))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B, type=0x86dd) / IP(src=S, dst=D) / UDP(sport=1, dport=2)))
    eth.append(bytes(Ether(src=MAC_A, dst=MAC_B))[:10])
    write_pcap("ether.pcap", 1, eth)

    sll = []
    for k, p in enumerate(v4[:: max(1, len(v4) // 30)] + v6[:: max(1, len(v6) // 15)]):
        proto = 0x86dd if p and p[0] >> 4 == 6 else 0x0800
        sll.append(bytes(CookedLinux(pkttype=[0, 4, 1, 2, 3][k % 5], lladdrtype=1, lladdrlen=6,
                                     src=bytes.fromhex("02 00 c6 12 00 01".replace(" ", "")) + b"\x00\x00",
                                     proto=proto) / Raw(p)))
    sll.append(bytes(CookedLinux(pkttype=0, lladdrtype=772, lladdrlen=0, src=b"\x00" * 8, proto=0x0800) / IP(src="127.0.0.1", dst="127.0.0.1") / TCP(sport=40000, dport=9000, flags="S")))
    sll.append(bytes(CookedLinux(pkttype=1, lladdrtype=1, lladdrlen=6, src=b"\x02\x00\xc6\x12\x00\x01\x00\x00", proto=0x0806) / ARP(op=1, hwsrc=MAC_A, psrc=S, pdst=D)))
    sll.append(bytes(CookedLinux(pkttype=4, lladdrtype=1, lladdrlen=6, src=b"\x02\x00\xc6\x12\x00\x01\x00\x00", proto=0x88b5) / Raw(b"experimental")))
    sll.append(bytes(CookedLinux(pkttype=1, lladdrtype=772, lladdrlen=0, src=b"\x00" * 8, proto=0x88b5) / Raw(b"x")))
    sll.append(bytes(CookedLinux(pkttype=0, lladdrtype=1, lladdrlen=6, src=b"\x00" * 8, proto=0x0800))[:12])
    write_pcap("sll.pcap", 113, sll)


if __name__ == "__main__":
    main()
