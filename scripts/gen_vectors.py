#!/usr/bin/python3
"""Generates tests/fixtures/vectors.txt (name, well-formed?, hex) with scapy.

Run once; the output is committed. Well-formed vectors have correct computed fields, so
clearing them and rebuilding must give the same bytes; odd ones only round-trip.
"""
import sys
from scapy.all import IP, IPv6, TCP, UDP, ICMP, ICMPv6EchoRequest, ICMPv6EchoReply, \
    ICMPv6DestUnreach, ICMPv6PacketTooBig, ICMPv6TimeExceeded, Raw, Ether, CookedLinux, \
    IPerror, TCPerror, UDPerror, IPerror6

S, D = "198.18.0.1", "198.18.0.2"
S6, D6 = "2001:db8:198:18::1", "2001:db8:198:18::2"
opts5 = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)]
V = []
def add(name, pkt, ok=True):
    V.append((name, ok, bytes(pkt).hex()))

add("syn_5opts", IP(src=S, dst=D, id=1) / TCP(sport=40000, dport=80, flags="S", seq=1000, window=64240, options=opts5))
add("synack", IP(src=D, dst=S, flags="DF", id=0) / TCP(sport=80, dport=40000, flags="SA", seq=5000, ack=1001, window=65160, options=[("MSS", 1460), ("NOP", None), ("NOP", None), ("SAckOK", b""), ("NOP", None), ("WScale", 7)]))
add("ack", IP(src=S, dst=D) / TCP(sport=40000, dport=80, flags="A", seq=1001, ack=5001))
add("psh_ack_data", IP(src=S, dst=D) / TCP(sport=40000, dport=80, flags="PA", seq=1001, ack=5001) / Raw(b"GET / HTTP/1.0\r\n\r\n"))
add("fin_ack", IP(src=S, dst=D) / TCP(sport=40000, dport=80, flags="FA", seq=1019, ack=5001))
add("rst", IP(src=D, dst=S) / TCP(sport=80, dport=40000, flags="R", seq=5001, window=0))
add("rst_ack", IP(src=D, dst=S) / TCP(sport=81, dport=40000, flags="RA", seq=0, ack=1001, window=0))
add("all_flags", IP(src=S, dst=D) / TCP(flags=0x1ff, urgptr=7))
add("no_flags", IP(src=S, dst=D) / TCP(flags=0))
add("xmas", IP(src=S, dst=D) / TCP(flags="FPU"))
add("ece_cwr_syn", IP(src=S, dst=D, tos=0x02) / TCP(flags="SEC"))
add("sack_1", IP(src=S, dst=D) / TCP(flags="A", options=[("NOP", None), ("NOP", None), ("SAck", (100, 200))]))
add("sack_4", IP(src=S, dst=D) / TCP(flags="A", options=[("SAck", (1, 2, 3, 4, 5, 6, 7, 8))]))
add("sack_3_ts", IP(src=S, dst=D) / TCP(flags="A", options=[("NOP", None), ("NOP", None), ("Timestamp", (9, 8)), ("NOP", None), ("NOP", None), ("SAck", (10, 20, 30, 40, 50, 60))]))
add("tfo_cookie", IP(src=S, dst=D) / TCP(flags="S", options=[("MSS", 1460), ("TFO", b"\x01\x02\x03\x04\x05\x06\x07\x08")]))
add("md5_unknown", IP(src=S, dst=D) / TCP(flags="S", options=[(19, b"\x00" * 16)]))
add("unknown_kind_99", IP(src=S, dst=D) / TCP(flags="S", options=[(99, b"ab")]))
add("eol_padding", IP(src=S, dst=D) / TCP(flags="S", options=[("MSS", 536), ("EOL", None)]))
add("reserved_bits", IP(src=S, dst=D) / TCP(flags="S", reserved=5))
add("urgent", IP(src=S, dst=D) / TCP(flags="PAU", urgptr=3) / Raw(b"abc"))
add("ip_options_rr", IP(src=S, dst=D, options=b"\x07\x07\x04\x00\x00\x00\x00\x00") / TCP())
add("ip_evil_mf_frag", IP(src=S, dst=D, flags="evil+MF", frag=0) / TCP())
add("ip_fragment_later", IP(src=S, dst=D, flags=0, frag=100, proto=6) / Raw(b"x" * 16))
add("ip_tos_dscp_ecn", IP(src=S, dst=D, tos=0xb9, ttl=1, id=0xbeef) / TCP(flags="S"))
add("bad_ip_chksum", IP(src=S, dst=D, chksum=0x1234) / TCP(), ok=False)
add("bad_tcp_chksum", IP(src=S, dst=D) / TCP(chksum=0xdead), ok=False)
add("lying_dataofs", IP(src=S, dst=D) / TCP(dataofs=8), ok=False)
add("lying_ip_len", IP(src=S, dst=D, len=100) / TCP(), ok=False)
add("udp_dns", IP(src=S, dst=D) / UDP(sport=5555, dport=53) / Raw(b"\x12\x34\x01\x00"))
add("udp_echo_payload", IP(src=S, dst=D) / UDP(sport=40000, dport=7) / Raw(b"ping\n"))
add("udp_empty", IP(src=S, dst=D) / UDP(sport=1, dport=2))
add("udp_zero_chksum", IP(src=S, dst=D) / UDP(sport=1, dport=2, chksum=0) / Raw(b"z"), ok=False)
add("icmp_echo", IP(src=S, dst=D) / ICMP(type=8, id=5, seq=6) / Raw(b"0123456789"))
add("icmp_echo_reply", IP(src=D, dst=S) / ICMP(type=0, id=5, seq=6) / Raw(b"0123456789"))
add("icmp_port_unreach_udp", IP(src=D, dst=S) / ICMP(type=3, code=3) / IPerror(src=S, dst=D) / UDPerror(sport=40000, dport=5555) / Raw(b"ping"))
add("icmp_host_unreach_tcp", IP(src=D, dst=S) / ICMP(type=3, code=1) / IPerror(src=S, dst=D) / TCPerror(sport=40000, dport=8443, seq=1000))
add("icmp_admin_prohib_tcp", IP(src=D, dst=S) / ICMP(type=3, code=13) / IPerror(src=S, dst=D) / TCPerror(sport=40000, dport=22, seq=77))
add("icmp_time_exceeded", IP(src=D, dst=S) / ICMP(type=11, code=0) / IPerror(src=S, dst=D, ttl=1) / UDPerror(sport=33434, dport=33435))
add("icmp_timestamp_raw", IP(src=S, dst=D) / ICMP(type=13) / Raw(b"\x00" * 12))
add("ipv6_tcp_syn", IPv6(src=S6, dst=D6) / TCP(sport=40000, dport=80, flags="S", seq=1000, options=opts5))
add("ipv6_tcp_synack_fl", IPv6(src=D6, dst=S6, tc=0x20, fl=0x12345, hlim=57) / TCP(sport=80, dport=40000, flags="SA", seq=1, ack=1001))
add("ipv6_udp", IPv6(src=S6, dst=D6) / UDP(sport=40000, dport=7) / Raw(b"hello"))
add("ipv6_icmp_echo", IPv6(src=S6, dst=D6) / ICMPv6EchoRequest(id=5, seq=6, data=b"0123456789"))
add("ipv6_icmp_echo_reply", IPv6(src=D6, dst=S6) / ICMPv6EchoReply(id=5, seq=6, data=b"x"))
add("ipv6_icmp_unreach_tcp", IPv6(src=D6, dst=S6) / ICMPv6DestUnreach(code=4) / IPerror6(src=S6, dst=D6) / TCPerror(sport=40000, dport=81, seq=1000))
add("ipv6_icmp_unreach_udp", IPv6(src=D6, dst=S6) / ICMPv6DestUnreach(code=4) / IPerror6(src=S6, dst=D6) / UDPerror(sport=40000, dport=5555))
add("ipv6_packet_too_big", IPv6(src=D6, dst=S6) / ICMPv6PacketTooBig(mtu=1280) / IPerror6(src=S6, dst=D6) / TCPerror(sport=1, dport=2))
add("ipv6_time_exceeded", IPv6(src=D6, dst=S6) / ICMPv6TimeExceeded() / IPerror6(src=S6, dst=D6, hlim=1) / UDPerror(sport=1, dport=2))
add("ether_ipv4_tcp", Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src=S, dst=D) / TCP(flags="S"))
add("ether_padded", bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src=S, dst=D) / TCP(flags="A")) + bytes(6))
add("ether_ipv6", Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=S6, dst=D6) / UDP())
add("sll_ipv4", CookedLinux(pkttype=0, lladdrtype=772, lladdrlen=6, src=b"\x00" * 8) / IP(src=S, dst=D) / TCP(flags="S"))
add("arp_ether_raw", bytes.fromhex("ffffffffffff020000000001080600010800060400010200000000" "01c6120001000000000000c6120002"))
add("truncated_tcp", bytes(IP(src=S, dst=D) / TCP(options=opts5))[:30], ok=False)
add("truncated_ip", bytes(IP(src=S, dst=D) / TCP())[:12], ok=False)
add("bad_option_len", bytes(IP(src=S, dst=D) / TCP(options=[("MSS", 1460)]))[:22] + b"\x02\x09\x05\xb4" + bytes(4), ok=False)

for name, ok, h in V:
    print(f"{name} {'ok' if ok else 'odd'} {h}")
