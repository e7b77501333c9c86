# A slow stack for the scanner tests (issue 20), run in the test bed's server namespace:
# answers SYNs to ports FIRST..LAST with a SYN-ACK 0.5-2 s later (IPv4; the kernel's own
# RSTs for those ports are dropped by the test's nftables rule). Prints "ready".
#   python3 testbed_late_synack.py FIRST LAST
import socket, struct, sys, threading, time, random
FIRST, LAST = int(sys.argv[1]), int(sys.argv[2])
rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
def synack(src, dst, sport, dport, ack):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, random.getrandbits(32), ack, 5 << 4, 0x12, 65535, 0, 0)
    ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return ip + tcp
def later(delay, pkt, dst):
    time.sleep(delay)
    tx.sendto(pkt, (dst, 0))
print("ready", flush=True)
while True:
    p = rx.recv(65535)
    ihl = (p[0] & 15) * 4
    src, dst = socket.inet_ntoa(p[12:16]), socket.inet_ntoa(p[16:20])
    sport, dport, seq = struct.unpack("!HHI", p[ihl:ihl + 8])
    flags = p[ihl + 13]
    if FIRST <= dport <= LAST and flags & 0x12 == 0x02:
        delay = 0.5 + 1.5 * (dport - FIRST) / max(1, LAST - FIRST)
        pkt = synack(dst, src, dport, sport, (seq + 1) & 0xffffffff)
        threading.Thread(target=later, args=(delay, pkt, src), daemon=True).start()
