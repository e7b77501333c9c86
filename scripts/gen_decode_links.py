#!/usr/bin/python3
"""Generates the decode fixtures for link types other than Ethernet, Linux cooked v1 and
raw IP (links_*.pcap in tests/fixtures/decode/) with scapy, and tcpdump's view of them:

    /usr/bin/python3 scripts/gen_decode_links.py

BSD loopback (NULL 0, LOOP 108), PPP (9), PPP in HDLC framing (50), Cisco HDLC (104),
Linux cooked v2 (276), Solaris IPNET (226), IP over InfiniBand (242), 802.11 with
radiotap (127), raw IP under its other numbers (12, 14, 228, 229), and empty records.
Each carries IPv4, IPv6 and ARP where the link can, and frames that carry no IP, cut
short, or of unknown types. tests/cli_decode.rs compares `tcpcraft decode` with the
committed tcpdump lines.

Linux cooked v2 names the interface by index as the host reading the file knows it:
the captures use index 1 (lo, the same in every network namespace) and 999 (none).
"""
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_decode_fixture import write_pcap, OUT  # noqa: E402

from scapy.all import (IP, IPv6, TCP, UDP, ICMP, ARP, RadioTap, Dot11, Dot11QoS, LLC, SNAP,  # noqa: E402
                       Dot11Beacon, Dot11ProbeReq, Dot11ProbeResp, Dot11Elt)

S, D = "198.18.0.1", "198.18.0.2"
S6, D6 = "2001:db8:198:18::1", "2001:db8:198:18::2"
A, B, C = "02:00:c6:12:00:01", "02:00:c6:12:00:02", "02:00:c6:12:00:03"


def payloads():
    """IP packets every link carries: TCP, UDP, ICMP over IPv4 and IPv6."""
    return [bytes(p) for p in [
        IP(src=S, dst=D) / TCP(sport=40000, dport=9000, flags="S", seq=1),
        IP(src=D, dst=S) / TCP(sport=9000, dport=40000, flags="SA", seq=7, ack=2),
        IP(src=S, dst=D) / UDP(sport=40000, dport=9000) / b"hello",
        IP(src=S, dst=D) / ICMP(id=1, seq=1),
        IPv6(src=S6, dst=D6) / TCP(sport=40000, dport=9000, flags="S", seq=1),
        IPv6(src=S6, dst=D6) / UDP(sport=1, dport=2) / b"x",
    ]]


ARP_REQ = bytes(ARP(op=1, hwsrc=A, psrc=S, pdst=D))
ARP_REP = bytes(ARP(op=2, hwsrc=B, psrc=D, hwdst=A, pdst=S))


def v(p):
    return 6 if p[0] >> 4 == 6 else 4


def null(af, p, order="<"):
    return struct.pack(order + "I", af) + p


def sll2(proto, pkttype=0, hatype=1, halen=6, ifindex=1):
    addr = bytes.fromhex("0200c6120001") + b"\0\0"
    return struct.pack(">HHIHBB", proto, 0, ifindex, hatype, pkttype, halen) + addr


def ipnet(fam, p):
    return struct.pack(">BBHIIIII", 1, fam, 0, len(p), 1, 0, 0, 0) + p


def ipoib(et, p):
    return b"\x80" + b"\0" * 39 + struct.pack(">HH", et, 0) + p


def main():
    ps = payloads()
    frames = [null({4: 2, 6: 24}[v(p)], p) for p in ps]
    frames += [null(28, ps[5]), null(30, ps[4]), null(2, ps[0], ">"), null(30, ps[5], ">"),
               null(99, b"abc"), null(17, b"xx"), null(2, ps[5]), b"\x02\x00", null(2, b""),
               null(2, ps[0][:30])]
    write_pcap("links_null.pcap", 0, frames)

    frames = [null({4: 2, 6: 30}[v(p)], p, ">") for p in ps]
    frames += [null(24, ps[5], ">"), null(28, ps[4], ">"), null(99, b"abcd", ">"), b"\0\0"]
    write_pcap("links_loop.pcap", 108, frames)

    frames = [({4: b"\x00\x21", 6: b"\x00\x57"}[v(p)]) + p for p in ps]
    frames += [b"\xff\x03\x00\x21" + ps[0], b"\x21" + ps[1], b"\xff\x03\x00\x57" + ps[5],
               b"\xc0\x21\x01\x01\x00\x04", b"\x80\x21\x01\x01\x00\x04", b"\x80\x57\x01\x01\x00\x04",
               b"\x80\xfd\x01\x01\x00\x04", b"\xc0\x21\x09\x01\x00\x08abcd", b"\xc0\x21\x0c\x01\x00\x04",
               b"\xc0\x21\x05\x02\x00\x04", b"\x12\x34abc", b"\x00\x21", b"\xff\x03", b"\x00\x21" + ps[0][:25]]
    write_pcap("links_ppp.pcap", 9, frames)

    frames = [b"\xff\x03" + ({4: b"\x00\x21", 6: b"\x00\x57"}[v(p)]) + p for p in ps]
    frames += [b"\xff\x03\xc0\x21\x01\x01\x00\x04", b"\xff\x03\x12\x34ab", b"\x0f\x00\x08\x00" + ps[0],
               b"\x8f\x00\x86\xdd" + ps[4], b"\x21" + ps[0], b"\x00\x21" + ps[2], b"\xff\x03\x00", b"\xff"]
    write_pcap("links_ppp_hdlc.pcap", 50, frames)

    frames = [({4: b"\x0f\x00\x08\x00", 6: b"\x8f\x00\x86\xdd"}[v(p)]) + p for p in ps]
    slarp = lambda body: b"\x8f\x00\x80\x35" + body
    frames += [slarp(b"\0\0\0\0\xc6\x12\x00\x01\xff\xff\xff\x00\0\0"),
               slarp(b"\0\0\0\x01\xc6\x12\x00\x01\xff\xff\xff\x00\0\0"),
               slarp(b"\0\0\0\x02\0\0\0\x05\0\0\0\x06\xff\xff\x00\x5b\x8d\x80"),
               slarp(b"\0\0\0\x02\0\0\0\x05\0\0\0\x06\xff\xff\x10\x00\x00\x00"),
               b"\x0f\x00\x12\x34abcd", b"\x8f\x00"]
    write_pcap("links_chdlc.pcap", 104, frames)

    frames = [sll2({4: 0x0800, 6: 0x86dd}[v(p)], k % 5, ifindex=[1, 999][k % 2]) + p for k, p in enumerate(ps)]
    frames += [sll2(0x0806, 1) + ARP_REQ, sll2(0x0806, 4, ifindex=999) + ARP_REP,
               sll2(0x88b5, 4, ifindex=999) + b"exp", sll2(0x88b5, 1, 772, 0) + b"x",
               sll2(0x0800, 9, ifindex=999) + ps[0], sll2(0x0800)[:10]]
    write_pcap("links_sll2.pcap", 276, frames)

    frames = [ipnet({4: 2, 6: 26}[v(p)], p) for p in ps]
    frames += [ipnet(9, b"abc"), ipnet(2, ps[0])[:10], ipnet(26, ps[0])]
    write_pcap("links_ipnet.pcap", 226, frames)

    frames = [ipoib({4: 0x0800, 6: 0x86dd}[v(p)], p) for p in ps]
    frames += [ipoib(0x0806, ARP_REQ), ipoib(0x88b5, b"x"), ipoib(0x0800, b"")[:30]]
    write_pcap("links_ipoib.pcap", 242, frames)

    rt = RadioTap()
    rich = RadioTap(present="Flags+Rate+Channel+dBm_AntSignal+Antenna", Flags=0, Rate=12,
                    ChannelFrequency=2412, ChannelFlags=0xa0, dBm_AntSignal=-42, Antenna=0)
    rich5 = RadioTap(present="TSFT+Flags+Rate+Channel+dBm_AntSignal+dBm_AntNoise", mac_timestamp=123456,
                     Flags="ShortPreamble", Rate=108, ChannelFrequency=5180, ChannelFlags=0x140,
                     dBm_AntSignal=-60, dBm_AntNoise=-95)
    todata = lambda: Dot11(type=2, subtype=0, FCfield="to-DS", addr1=A, addr2=B, addr3=C)
    frames = [bytes(rt / todata() / LLC() / SNAP(code={4: 0x0800, 6: 0x86dd}[v(p)]) / p) for p in ps]
    frames += [bytes(rt / Dot11(type=2, subtype=8, FCfield="from-DS", addr1=A, addr2=B, addr3=C) / Dot11QoS() / LLC() / SNAP(code=0x86dd) / ps[5]),
               bytes(rt / todata() / LLC() / SNAP(code=0x0806) / ARP_REQ),
               bytes(rich / todata() / LLC() / SNAP(code=0x0800) / ps[0]),
               bytes(rich5 / todata() / LLC() / SNAP(code=0x86dd) / ps[4]),
               bytes(rt / Dot11(type=1, subtype=13, addr1=A)),
               bytes(rt / Dot11(type=1, subtype=11, addr1=A, addr2=B)),
               bytes(rt / Dot11(type=1, subtype=12, addr1=A)),
               bytes(rt / Dot11(type=2, subtype=4, FCfield="to-DS", addr1=A, addr2=B, addr3=C)),
               bytes(rt / Dot11(type=2, subtype=0, FCfield="to-DS+protected", addr1=A, addr2=B, addr3=C) / (b"\x01\x02\x03\x40" + b"\0" * 16)),
               bytes(rt / Dot11(type=0, subtype=8, addr1="ff:ff:ff:ff:ff:ff", addr2=B, addr3=B) / Dot11Beacon(cap="ESS") / Dot11Elt(ID=0, info=b"lab") / Dot11Elt(ID=1, info=b"\x82\x84\x8b\x96\x0c\x12\x18\x24") / Dot11Elt(ID=3, info=b"\x06")),
               bytes(rt / Dot11(type=0, subtype=8, addr1="ff:ff:ff:ff:ff:ff", addr2=B, addr3=B) / Dot11Beacon(cap="ESS+privacy") / Dot11Elt(ID=0, info=b"lab")),
               bytes(rt / Dot11(type=0, subtype=4, addr1="ff:ff:ff:ff:ff:ff", addr2=B, addr3=B) / Dot11ProbeReq() / Dot11Elt(ID=0, info=b"lab") / Dot11Elt(ID=1, info=b"\x02\x04")),
               bytes(rt / Dot11(type=0, subtype=5, addr1=A, addr2=B, addr3=B) / Dot11ProbeResp(cap="ESS") / Dot11Elt(ID=0, info=b"lab") / Dot11Elt(ID=3, info=b"\x0b")),
               bytes(rt / todata() / LLC() / SNAP(code=0x0800) / ps[0])[:30],
               bytes(rt / todata() / LLC() / SNAP(code=0x88b5) / b"exp"),
               bytes(rt)[:4]]
    write_pcap("links_radiotap.pcap", 127, frames)

    write_pcap("links_raw12.pcap", 12, ps)
    write_pcap("links_ipv4.pcap", 228, [p for p in ps if v(p) == 4] + [ps[4], ps[0][:10]])
    write_pcap("links_ipv6.pcap", 229, [p for p in ps if v(p) == 6] + [ps[0], ps[4][:20]])
    # Empty records (caplen 0, with and without a wire length) amid ordinary frames.
    path = os.path.join(OUT, "links_empty.pcap")
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        eth = bytes.fromhex("02000000000202000000000108 00".replace(" ", ""))
        for data, orig in [(b"", 0), (eth + ps[0], 54), (b"", 60), (eth[:6], 60), (b"", 0)]:
            fh.write(struct.pack("<IIII", 1700000000, 0, len(data), orig) + data)
    txt = subprocess.run(["tcpdump", "-n", "-t", "-S", "-r", path], check=True,
                         capture_output=True, text=True).stdout
    with open(path + ".txt", "w") as fh:
        fh.write(txt)


if __name__ == "__main__":
    main()
