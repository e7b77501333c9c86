#!/usr/bin/python3
"""Generate tests/fixtures/lang_scapy.txt: packets built by scapy, as hex, beside
the tcpcraft-language expression that must build the same bytes.

Run once (needs python3-scapy): /usr/bin/python3 scripts/gen_lang_fixtures.py
Fields that tcpcraft's language chooses differently by default (IP DF flag, TCP
window 64240, random ports and ISNs, route-chosen source) are spelled out on the
scapy side, so each pair describes the same packet.
"""
from scapy.all import (IP, IPv6, TCP, UDP, ICMP, ICMPv6EchoRequest, ICMPv6DestUnreach,
                       Raw, IPOption, IPOption_RR, IPOption_LSRR, IPOption_SSRR,
                       IPOption_Timestamp, IPOption_Router_Alert, Ether, ARP)
from pathlib import Path

S4, D4 = "198.18.0.1", "198.18.0.2"
S6, D6 = "2001:db8:198:18::1", "2001:db8:198:18::2"
ip = f'IP(src="{S4}", dst="{D4}")'
ip6 = f'IPv6(src="{S6}", dst="{D6}")'

CASES = [
    ("syn_defaults", f'{ip} / TCP(sport=40000, seq=1000)',
     IP(src=S4, dst=D4, flags="DF") / TCP(sport=40000, dport=80, seq=1000, window=64240)),
    ("syn_options", f'{ip} / TCP(sport=40000, dport=80, flags="S", seq=1000, options=[mss(1460), sackok(), ts(1, 0), nop(), wscale(7)])',
     IP(src=S4, dst=D4, flags="DF") / TCP(sport=40000, dport=80, flags="S", seq=1000, window=64240,
        options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)])),
    ("synack", f'{ip} / TCP(sport=80, dport=40000, flags="SA", seq=5000, ack=1001, window=65160, options=[mss(1460)])',
     IP(src=S4, dst=D4, flags="DF") / TCP(sport=80, dport=40000, flags="SA", seq=5000, ack=1001, window=65160,
        options=[("MSS", 1460)])),
    ("push_ack_payload", f'{ip} / TCP(sport=40000, dport=80, flags="PA", seq=1001, ack=5001) / "GET / HTTP/1.0\\r\\n\\r\\n"',
     IP(src=S4, dst=D4, flags="DF") / TCP(sport=40000, dport=80, flags="PA", seq=1001, ack=5001, window=64240)
        / Raw(b"GET / HTTP/1.0\r\n\r\n")),
    ("fin_ack", f'{ip} / TCP(sport=40000, dport=80, flags="FA", seq=1019, ack=5001)',
     IP(src=S4, dst=D4, flags="DF") / TCP(sport=40000, dport=80, flags="FA", seq=1019, ack=5001, window=64240)),
    ("rst", f'{ip} / TCP(sport=40000, dport=80, flags="R", seq=1001, window=0)',
     IP(src=S4, dst=D4, flags="DF") / TCP(sport=40000, dport=80, flags="R", seq=1001, window=0)),
    ("all_flags_urg", f'{ip} / TCP(sport=1, dport=2, flags="FSRPAUEC", seq=1, ack=2, urgptr=7)',
     IP(src=S4, dst=D4, flags="DF") / TCP(sport=1, dport=2, flags="FSRPAUEC", seq=1, ack=2, urgptr=7, window=64240)),
    ("sack_eol_unknown", f'{ip} / TCP(sport=40000, dport=80, flags="A", seq=1, ack=2, options=[nop(), nop(), sack(100, 200, 300, 400), opt(34, b"\\x01\\x02"), eol()])',
     IP(src=S4, dst=D4, flags="DF") / TCP(sport=40000, dport=80, flags="A", seq=1, ack=2, window=64240,
        options=[("NOP", None), ("NOP", None), ("SAck", (100, 200, 300, 400)), (34, b"\x01\x02"), ("EOL", None)])),
    ("seq_wraps", f'{ip} / TCP(sport=40000, dport=80, seq=2**32 + 5, ack=-1)',
     IP(src=S4, dst=D4, flags="DF") / TCP(sport=40000, dport=80, seq=5, ack=0xffffffff, window=64240)),
    ("ip_fields", f'IP(src="{S4}", dst="{D4}", ttl=3, id=4242, tos=0x10, flags="MF", frag=100) / TCP(sport=40000, dport=80, seq=1)',
     IP(src=S4, dst=D4, ttl=3, id=4242, tos=0x10, flags="MF", frag=100) / TCP(sport=40000, dport=80, seq=1, window=64240)),
    ("ip_wrong_checksum", f'IP(src="{S4}", dst="{D4}", chksum=0x1234) / TCP(sport=40000, dport=80, seq=1, chksum=0xbeef)',
     IP(src=S4, dst=D4, flags="DF", chksum=0x1234) / TCP(sport=40000, dport=80, seq=1, window=64240, chksum=0xbeef)),
    ("ip_options", f'IP(src="{S4}", dst="{D4}", options=b"\\x94\\x04\\x00\\x00") / TCP(sport=40000, dport=80, seq=1)',
     IP(src=S4, dst=D4, flags="DF", options=[IPOption(b"\x94\x04\x00\x00")]) / TCP(sport=40000, dport=80, seq=1, window=64240)),
    ("ipv6_syn", f'{ip6} / TCP(sport=40000, dport=80, seq=1000, options=[mss(1440), wscale(7)])',
     IPv6(src=S6, dst=D6) / TCP(sport=40000, dport=80, seq=1000, window=64240, options=[("MSS", 1440), ("WScale", 7)])),
    ("ipv6_hlim_fl", f'IPv6(src="{S6}", dst="{D6}", hlim=1, fl=12345, tc=4) / TCP(sport=40000, dport=443, flags="A", seq=9, ack=10)',
     IPv6(src=S6, dst=D6, hlim=1, fl=12345, tc=4) / TCP(sport=40000, dport=443, flags="A", seq=9, ack=10, window=64240)),
    ("ipv6_udp", f'{ip6} / UDP(sport=40000, dport=53) / hex("12340100000100000000000003777777")',
     IPv6(src=S6, dst=D6) / UDP(sport=40000, dport=53) / Raw(bytes.fromhex("12340100000100000000000003777777"))),
    ("ipv6_icmpv6_echo", f'{ip6} / ICMPv6(type=128, id=1, seq=2) / b"ping"',
     IPv6(src=S6, dst=D6) / ICMPv6EchoRequest(id=1, seq=2) / Raw(b"ping")),
    ("udp_dns", f'{ip} / UDP(sport=40000, dport=53) / hex("abcd01000001000000000000")',
     IP(src=S4, dst=D4, flags="DF") / UDP(sport=40000, dport=53) / Raw(bytes.fromhex("abcd01000001000000000000"))),
    ("udp_zero_checksum", f'{ip} / UDP(sport=1, dport=2, chksum=0) / "x"',
     IP(src=S4, dst=D4, flags="DF") / UDP(sport=1, dport=2, chksum=0) / Raw(b"x")),
    ("icmp_echo", f'{ip} / ICMP(id=7, seq=1) / ("x" * 8)',
     IP(src=S4, dst=D4, flags="DF") / ICMP(id=7, seq=1) / Raw(b"x" * 8)),
    ("icmp_unreachable", f'{ip} / ICMP(type=3, code=3)',
     IP(src=S4, dst=D4, flags="DF") / ICMP(type=3, code=3)),
    ("big_payload", f'{ip} / TCP(sport=40000, dport=80, flags="PA", seq=1, ack=1) / ("y" * 1000)',
     IP(src=S4, dst=D4, flags="DF") / TCP(sport=40000, dport=80, flags="PA", seq=1, ack=1, window=64240) / Raw(b"y" * 1000)),
    # Source routing: the TCP/UDP checksum's pseudo-header uses the route's last address.
    ("lsrr_tcp_checksum", f'{ip} / TCP(sport=40000, dport=80, seq=1, options=[]) / "x"'.replace(
        f'{ip}', f'IP(src="{S4}", dst="{D4}", options=lsrr(["198.18.0.3", "198.18.0.4"]))'),
     IP(src=S4, dst=D4, flags="DF", options=[IPOption_LSRR(routers=["198.18.0.3", "198.18.0.4"])])
        / TCP(sport=40000, dport=80, seq=1, window=64240) / Raw(b"x")),
    ("ssrr_udp_checksum", f'IP(src="{S4}", dst="{D4}", options=[ssrr(["198.18.0.9"])]) / UDP(sport=1, dport=2) / "y"',
     IP(src=S4, dst=D4, flags="DF", options=[IPOption_SSRR(routers=["198.18.0.9"])]) / UDP(sport=1, dport=2) / Raw(b"y")),
    ("lsrr_empty_route", f'IP(src="{S4}", dst="{D4}", options=lsrr([])) / TCP(sport=40000, dport=80, seq=1)',
     IP(src=S4, dst=D4, flags="DF", options=[IPOption_LSRR(routers=[])]) / TCP(sport=40000, dport=80, seq=1, window=64240)),
    # Flag strings read letter by letter, as scapy reads them.
    ("flags_NS_letters", f'{ip} / TCP(sport=1, dport=2, flags="NS", seq=1)',
     IP(src=S4, dst=D4, flags="DF") / TCP(sport=1, dport=2, flags="NS", seq=1, window=64240)),
    ("flags_ECE_letters", f'{ip} / TCP(sport=1, dport=2, flags="ECE", seq=1)',
     IP(src=S4, dst=D4, flags="DF") / TCP(sport=1, dport=2, flags="ECE", seq=1, window=64240)),
    ("flags_names_comma", f'{ip} / TCP(sport=1, dport=2, flags="NS,SYN", seq=1)',
     IP(src=S4, dst=D4, flags="DF") / TCP(sport=1, dport=2, flags=0x102, seq=1, window=64240)),
    ("flags_names_bar", f'{ip} / TCP(sport=1, dport=2, flags="ECE|SYN", seq=1)',
     IP(src=S4, dst=D4, flags="DF") / TCP(sport=1, dport=2, flags=0x42, seq=1, window=64240)),
    # An explicit ihl with options: the options are padded to 4 bytes all the same.
    ("ihl_with_short_options", f'IP(src="{S4}", dst="{D4}", ihl=6, options=b"\\x01") / TCP(sport=40000, dport=80, seq=1)',
     IP(src=S4, dst=D4, flags="DF", ihl=6, options=[IPOption(b"\x01")]) / TCP(sport=40000, dport=80, seq=1, window=64240)),
    ("ihl_with_given_padding", f'IP(src="{S4}", dst="{D4}", ihl=6, options=b"\\x01\\x01\\x01\\x00") / TCP(sport=40000, dport=80, seq=1)',
     IP(src=S4, dst=D4, flags="DF", ihl=6, options=[IPOption(b"\x01\x01\x01\x00")]) / TCP(sport=40000, dport=80, seq=1, window=64240)),
    # IP option builders beside raw bytes.
    ("ip_option_builders", f'IP(src="{S4}", dst="{D4}", options=[rr(["0.0.0.0", "0.0.0.0"]), router_alert()]) / ICMP()',
     IP(src=S4, dst=D4, flags="DF", options=[IPOption_RR(routers=["0.0.0.0", "0.0.0.0"]), IPOption_Router_Alert()]) / ICMP()),
    ("ip_option_ts", f'IP(src="{S4}", dst="{D4}", options=[ts_opt()]) / ICMP()',
     IP(src=S4, dst=D4, flags="DF", options=[IPOption_Timestamp()]) / ICMP()),
    ("ip_option_ts_flg0_rr_empty", f'IP(src="{S4}", dst="{D4}", options=[ts_opt(flg=0), rr()]) / ICMP()',
     IP(src=S4, dst=D4, flags="DF", options=[IPOption_Timestamp(flg=0), IPOption_RR()]) / ICMP()),
    # ARP with scapy's field names.
    ("arp_request", f'Ether(dst="ff:ff:ff:ff:ff:ff", src="02:00:c6:12:00:01") / ARP(hwsrc="02:00:c6:12:00:01", psrc="{S4}", pdst="{D4}")',
     Ether(dst="ff:ff:ff:ff:ff:ff", src="02:00:c6:12:00:01") / ARP(hwsrc="02:00:c6:12:00:01", psrc=S4, pdst=D4)),
    ("arp_reply", f'Ether(dst="02:00:c6:12:00:01", src="02:00:c6:12:00:02") / ARP(op="is-at", hwsrc="02:00:c6:12:00:02", psrc="{D4}", hwdst="02:00:c6:12:00:01", pdst="{S4}")',
     Ether(dst="02:00:c6:12:00:01", src="02:00:c6:12:00:02") / ARP(op="is-at", hwsrc="02:00:c6:12:00:02", psrc=D4, hwdst="02:00:c6:12:00:01", pdst=S4)),
]

out = ["# tcpcraft-language expression and the bytes scapy builds for the same fields.",
       "# Generated once by scripts/gen_lang_fixtures.py (scapy 2.5); checked by tests/lang_golden.rs.",
       "# name<TAB>expression<TAB>hex"]
for name, tcs, pkt in CASES:
    out.append(f"{name}\t{tcs}\t{bytes(pkt).hex()}")
path = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "lang_scapy.txt"
path.write_text("\n".join(out) + "\n")
print(f"wrote {len(CASES)} cases to {path}")
